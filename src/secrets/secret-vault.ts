import { ConflictError, InfrastructureError, PermanentError } from "../core/errors.js";
import { checkSecretName, checkSecretValue } from "../core/secret-rules.js";
import type { RepositoryKeyRecord, SecretOperations, SecretRecord } from "../store/port.js";
import { newDataKey, seal, unseal } from "./envelope.js";
import type { KeyWrapper } from "./key-wrapper.js";

/** A secret as people see it once set: never its value. */
export type SecretListing = Omit<SecretRecord, "sealed" | "repoId">;

/** A hook names secrets the repository does not have. */
export class MissingSecretsError extends PermanentError {
  constructor(readonly names: string[]) {
    super(
      `${names.length === 1 ? "secret" : "secrets"} ${names.join(", ")} ${names.length === 1 ? "is" : "are"} ` +
        "not set for this repository: set them on the repository's Kozmic page or with " +
        "`kozmic secrets set OWNER/REPO NAME`, or remove them from the hook's `secrets:`",
    );
  }
}

/** A name or value that cannot be a secret. */
export class InvalidSecretError extends PermanentError {}

const valueContext = (repoId: number, name: string) => `kozmic-secret:${repoId}:${name}`;

/**
 * Repository secrets under envelope encryption: each repository has its own AES-256-GCM
 * data key, stored only wrapped by `wrapper` (KOZMIC_SECRETS_KEY or KMS); each value is
 * sealed under the data key, bound to its repository and name. `previous` are keys that
 * wrapped data keys before a rotation: still read, never used to wrap.
 */
export class SecretVault {
  constructor(
    private readonly store: SecretOperations,
    private readonly wrapper: KeyWrapper,
    private readonly previous: readonly KeyWrapper[] = [],
  ) {}

  async set(repoId: number, name: string, value: string, actor: string, now = Date.now()) {
    const problem = checkSecretName(name) ?? checkSecretValue(value);
    if (problem) throw new InvalidSecretError(problem);
    const dataKey = await this.dataKey(repoId, true);
    await this.store.putSecret({
      repoId,
      name,
      sealed: seal(dataKey!, Buffer.from(value, "utf8"), valueContext(repoId, name)),
      updatedBy: actor,
      updatedAt: now,
    });
  }

  /** True when there was such a secret. */
  async remove(repoId: number, name: string): Promise<boolean> {
    return this.store.deleteSecret(repoId, name);
  }

  async list(repoId: number): Promise<SecretListing[]> {
    return (await this.store.listSecrets(repoId)).map(({ name, updatedBy, updatedAt }) => ({
      name,
      updatedBy,
      updatedAt,
    }));
  }

  /** The values of `names`; MissingSecretsError naming every one the repository lacks. */
  async read(repoId: number, names: readonly string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    const stored = new Map((await this.store.listSecrets(repoId)).map((r) => [r.name, r]));
    const missing = names.filter((name) => !stored.has(name));
    if (missing.length > 0) throw new MissingSecretsError(missing);
    const dataKey = (await this.dataKey(repoId, false))!;
    const values: Record<string, string> = {};
    for (const name of names) {
      try {
        values[name] = unseal(
          dataKey,
          stored.get(name)!.sealed,
          valueContext(repoId, name),
        ).toString("utf8");
      } catch (error) {
        throw new InfrastructureError(
          `secret ${name} of repository ${repoId} does not open with its repository's key: the store was altered`,
          { cause: error },
        );
      }
    }
    return values;
  }

  /**
   * Re-wraps every data key not wrapped by the current key, with it. Values stay sealed
   * under the same data keys, so a rotation rewrites one small record per repository.
   */
  async rotate(): Promise<{ rewrapped: number; current: number }> {
    let rewrapped = 0;
    let current = 0;
    for (const record of await this.store.listRepositoryKeys()) {
      if (record.wrappedBy === this.wrapper.id) {
        current += 1;
        continue;
      }
      const dataKey = await this.unwrap(record.repoId, record.wrappedKey, record.wrappedBy);
      await this.store.putRepositoryKey(
        await this.wrapped(record.repoId, dataKey),
        record.wrappedKey,
      );
      rewrapped += 1;
    }
    return { rewrapped, current };
  }

  /** The repository's data key, made and stored first when `create` and it has none. */
  private async dataKey(repoId: number, create: boolean): Promise<Buffer | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const record = await this.store.getRepositoryKey(repoId);
      if (record) return this.unwrap(repoId, record.wrappedKey, record.wrappedBy);
      if (!create) {
        throw new InfrastructureError(`repository ${repoId} has secrets but no data key`);
      }
      const dataKey = newDataKey();
      try {
        await this.store.putRepositoryKey(await this.wrapped(repoId, dataKey));
        return dataKey;
      } catch (error) {
        // Another writer made the key first: use theirs.
        if (!(error instanceof ConflictError) || attempt > 0) throw error;
      }
    }
  }

  private async wrapped(repoId: number, dataKey: Buffer): Promise<RepositoryKeyRecord> {
    const wrappedKey = await this.wrapper.wrap(dataKey, repoId);
    return { repoId, wrappedKey, wrappedBy: this.wrapper.id, updatedAt: Date.now() };
  }

  private async unwrap(repoId: number, wrapped: string, wrappedBy: string): Promise<Buffer> {
    const wrapper = [this.wrapper, ...this.previous].find((w) => w.id === wrappedBy);
    if (!wrapper) {
      throw new InfrastructureError(
        `repository ${repoId}'s secrets are wrapped by key ${wrappedBy}, which this process does not have ` +
          `(its key is ${this.wrapper.id}): set KOZMIC_SECRETS_KEY (or KOZMIC_KMS_KEY_ID) as where they were set, ` +
          "or the old key as KOZMIC_SECRETS_PREVIOUS_KEY and run `kozmic secrets rotate-key`",
      );
    }
    try {
      return await wrapper.unwrap(wrapped, repoId);
    } catch (error) {
      throw new InfrastructureError(
        `repository ${repoId}'s data key does not unwrap with key ${wrappedBy}: the store was altered`,
        { cause: error },
      );
    }
  }
}
