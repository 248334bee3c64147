/**
 * What a repository secret may be called and hold. Names are environment variable names
 * (a hook's scripts get each secret as one); values shorter than MIN_SECRET_LENGTH are
 * refused because masking them would blank out ordinary words of every log.
 */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
export const MIN_SECRET_LENGTH = 6;
/** Large enough for a private key or a kubeconfig; a store record stays far from 400 KB. */
export const MAX_SECRET_BYTES = 48 * 1024;

/** Why `name` cannot name a secret, or undefined. */
export function checkSecretName(name: string): string | undefined {
  if (SECRET_NAME.test(name)) {
    return /^KOZMIC_/i.test(name) ? "names starting with KOZMIC_ are Kozmic's own" : undefined;
  }
  return "a secret's name is letters, digits and '_', not starting with a digit (at most 100), e.g. PYPI_TOKEN";
}

/** Why `value` cannot be a secret's value, or undefined. */
export function checkSecretValue(value: string): string | undefined {
  if (value.length < MIN_SECRET_LENGTH) {
    return `a secret's value must be at least ${MIN_SECRET_LENGTH} characters: a shorter one cannot be masked in logs without blanking ordinary text`;
  }
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES) {
    return `a secret's value may be at most ${MAX_SECRET_BYTES / 1024} KiB`;
  }
  if (value.includes("\0"))
    return "a secret's value cannot contain a NUL byte (environment variables cannot)";
  return undefined;
}
