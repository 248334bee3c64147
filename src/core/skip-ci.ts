const SKIP_CI = /\[(?:skip ci|ci skip)\]/i;

/** True when any of the texts (head commit message, pull request title) asks to skip CI. */
export function shouldSkipCi(texts: readonly (string | null | undefined)[]): boolean {
  return texts.some((text) => typeof text === "string" && SKIP_CI.test(text));
}
