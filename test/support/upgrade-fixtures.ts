import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CACHE_LABELS, cacheRepository, findCacheImage } from "../../runner/cache/cache-images.js";
import type { Engine, ImageInfo } from "../../runner/engine/port.js";
import { openVault } from "../../src/secrets/open-vault.js";
import { ENTRY_POINT_GROUPS, readSettings } from "../../src/settings/read-settings.js";
import { loadSavedEnv } from "../../src/settings/saved-env.js";
import type { LogSectionRecord, Store } from "../../src/store/port.js";

/**
 * The upgrade fixtures: what each previous release left behind, written by that release's
 * code (scripts/make-upgrade-fixture.sh), and what opening them must still give back.
 */
const FIXTURES = new URL("../fixtures/upgrade/", import.meta.url).pathname;

export interface UpgradeFixture {
  dir: string;
  ref: string;
  repository: { id: number; fullName: string; private: boolean };
  installationId: number;
  sha: string;
  finished: {
    buildId: string;
    jobId: string;
    log: string[];
    sections: LogSectionRecord[];
  };
  queued: { buildId: string; jobId: string };
  planDeliveryId: string;
  cacheImage: {
    imageId: string;
    repositoryId: string;
    hook: string;
    key: string;
    scope: "trusted" | "untrusted";
  };
  secret: { name: string; value: string };
}

export function upgradeFixtures(): UpgradeFixture[] {
  return readdirSync(FIXTURES).map((name) => ({
    dir: join(FIXTURES, name),
    ...(JSON.parse(readFileSync(join(FIXTURES, name, "fixture.json"), "utf8")) as Omit<
      UpgradeFixture,
      "dir"
    >),
  }));
}

/** A data directory as the release left it: kozmic.db, and .env as set-up wrote it (0600). */
export function restoreDataDir(fixture: UpgradeFixture): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-upgrade-"));
  writeFileSync(
    join(dir, "kozmic.db"),
    gunzipSync(readFileSync(join(fixture.dir, "kozmic.db.gz"))),
  );
  copyFileSync(join(fixture.dir, "env"), join(dir, ".env"));
  // git keeps no 0600; set-up wrote it so.
  chmodSync(join(dir, ".env"), 0o600);
  return dir;
}

/** The settings a `kozmic serve` in `dataDir` reads: its saved .env, nothing else. */
export function savedSettings(dataDir: string) {
  const env: NodeJS.ProcessEnv = { KOZMIC_DATA_DIR: dataDir };
  assert.ok("loaded" in loadSavedEnv(env), "the saved .env is read");
  return { env, settings: readSettings(env, ENTRY_POINT_GROUPS.serve) };
}

/** An engine holding one image: the committed install the fixture's cache record is of. */
function engineWith(image: ImageInfo): Engine {
  return {
    async inspectImage(ref: string) {
      return image.tags.includes(ref) ? image : undefined;
    },
    async findImages(labels: Record<string, string>) {
      return Object.entries(labels).every(([k, v]) => image.labels[k] === v) ? [image] : [];
    },
  } as Partial<Engine> as Engine;
}

/** The records every store must still give back as the release wrote them. */
export async function assertStoreKeepsEverything(
  fixture: UpgradeFixture,
  store: Store,
  settings: ReturnType<typeof savedSettings>["settings"],
): Promise<void> {
  const { finished, queued, repository } = fixture;
  const build = await store.getBuild(finished.buildId);
  assert.equal(build?.sha, fixture.sha);
  assert.equal(build?.repoFullName, repository.fullName);
  assert.deepEqual(
    (await store.listBuilds(repository.id)).map((b) => b.id),
    [queued.buildId, finished.buildId],
  );
  const job = await store.getJob(finished.jobId);
  assert.equal(job?.status, "completed");
  assert.equal(job?.conclusion, "success");
  assert.equal(job?.logChunks, finished.log.length);
  assert.equal((await store.getJob(queued.jobId))?.status, "queued");
  assert.deepEqual(
    (await store.readLog(finished.jobId)).map((c) => c.data),
    finished.log,
  );
  assert.deepEqual(await store.readLogSections(finished.jobId), finished.sections);
  assert.equal(
    (await store.getInstallation(fixture.installationId))?.repositories?.[0]?.id,
    repository.id,
  );

  // The secret decrypts under the key set-up saved.
  const vault = await openVault(settings.secrets, store);
  assert.ok(vault, "the saved .env holds the secrets key");
  assert.deepEqual(await vault.read(repository.id, [fixture.secret.name]), {
    [fixture.secret.name]: fixture.secret.value,
  });

  // The cache record still makes its image a hit.
  const { cacheImage } = fixture;
  const image: ImageInfo = {
    id: cacheImage.imageId,
    tags: [`${cacheRepository(cacheImage.repositoryId)}:${cacheImage.key}`],
    labels: {
      [CACHE_LABELS.managed]: "true",
      [CACHE_LABELS.repo]: cacheImage.repositoryId,
      [CACHE_LABELS.hook]: cacheImage.hook,
      [CACHE_LABELS.key]: cacheImage.key,
      [CACHE_LABELS.scope]: cacheImage.scope,
    },
    size: 1,
    created: Date.now(),
  };
  const hit = await findCacheImage(engineWith(image), store, {
    repositoryId: cacheImage.repositoryId,
    key: cacheImage.key,
    scope: cacheImage.scope,
  });
  assert.equal(hit?.id, cacheImage.imageId);
}
