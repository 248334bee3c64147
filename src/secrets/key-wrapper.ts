/**
 * The key-encryption key that wraps each repository's data key: KOZMIC_SECRETS_KEY
 * (local-key-wrapper.ts) or an AWS KMS key (kms-key-wrapper.ts). The data key never leaves
 * the process unwrapped; the store holds only what `wrap` returns.
 */
export interface KeyWrapper {
  /**
   * Names the key, e.g. `local:3f2a…` (a fingerprint, never the key) or `kms:<key id>`:
   * stored beside each wrapped key so that rotation knows which ones to re-wrap.
   */
  readonly id: string;
  wrap(dataKey: Buffer, repoId: number): Promise<string>;
  /** The data key; throws when this key did not wrap it (or it was wrapped for another repository). */
  unwrap(wrapped: string, repoId: number): Promise<Buffer>;
}
