declare const __KOZMIC_BUILD_ID__: string | undefined;

/**
 * The bundled CLI's build: a hash of the sources it was built from (scripts/bundle-cli.ts
 * sets it). Undefined when Kozmic runs from its TypeScript source or from dist/src/.
 */
export const BUILD_ID: string | undefined =
  typeof __KOZMIC_BUILD_ID__ === "string" ? __KOZMIC_BUILD_ID__ : undefined;
