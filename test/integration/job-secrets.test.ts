import { ran, shownLog } from "../support/shown-log.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { maskingSink, SecretMasker } from "../../runner/logs/secret-masker.js";
import { cacheRepository } from "../../runner/cache/cache-images.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

// Real Docker: what a script receives, what its log keeps, and what a committed install
// image holds, when a hook names secrets.

const engine = new DockerEngine();
const run = randomUUID().slice(0, 8);
const IMAGE = `kozmic-test/secrets-${run}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-secrets-data-"));
const settings = testPipelineSettings(dataDir);
const cacheRecords = openEmbeddedStore({ dataDir, retention: false });
const repos: string[] = [];

const TOKEN = "pypi-AgEIcHlwaS5vcmc-s3cr3t-Value/42";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

before(() => {
  ensureBusyboxImage(IMAGE, { withKozmicUser: true });
});

after(async () => {
  for (const repo of repos) {
    for (const image of await engine.findImages({ "kozmic.cache.repo": repo })) {
      await engine.removeImage(image.id);
    }
  }
  removeImages(IMAGE);
  await cacheRecords.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function newRepo(): { id: string; dir: string } {
  const id = `secrets-${run}-${randomUUID().slice(0, 8)}`;
  repos.push(id);
  const dir = mkdtempSync(join(tmpdir(), "kozmic-secrets-src-"));
  writeFileSync(join(dir, "README"), "hello\n");
  return { id, dir };
}

/** Runs a hook as the runner does: secrets to the job, its log through a masker. */
async function job(
  repo: { id: string },
  hook: Partial<HookInput>,
  secrets: Record<string, string>,
  dir: string,
  jobId: string = randomUUID(),
): Promise<{ result: JobResult; log: string; writes: number }> {
  const parsed = hookSchema.parse({ name: "publish", image: IMAGE, build: "true", ...hook });
  const stored: string[] = [];
  const log = maskingSink(
    { write: (text) => void stored.push(text), flush: async () => {} },
    new SecretMasker(Object.values(secrets)),
  );
  let writes = 0;
  const counted = { write: (text: string) => ((writes += 1), log.write(text)), flush: log.flush };
  const result = await runJob(
    {
      jobId,
      repositoryId: repo.id,
      scope: "trusted",
      hook: parsed,
      sourceDir: dir,
      trackedFiles: [],
      secrets,
    },
    { engine, settings, cacheRecords, log: counted },
  );
  await log.flush();
  return { result, log: stored.join(""), writes };
}

/** Every form a leak could take: the value, its base64, its lines. */
function assertAbsent(haystack: Buffer | string, what: string): void {
  const bytes = Buffer.isBuffer(haystack) ? haystack : Buffer.from(haystack);
  for (const value of [TOKEN, KEY]) {
    assert.equal(bytes.includes(value), false, `${what} holds a value`);
    assert.equal(bytes.includes(Buffer.from(value).toString("base64")), false, `${what}: base64`);
  }
  assert.equal(bytes.includes("b3BlbnNzaC1rZXktdjEAAAAA"), false, `${what}: a key's line`);
}

describe("secrets in a job (real Docker)", () => {
  it("reach the script as environment and 0400 files, and every way of printing them is masked", async () => {
    const repo = newRepo();
    const build = [
      'test "$PYPI_TOKEN" = "$(cat /kozmic/secrets/PYPI_TOKEN)" && echo "env and file agree"',
      'printf %s "$DEPLOY_KEY" | cmp -s - /kozmic/secrets/DEPLOY_KEY && echo "key kept whole"',
      "stat -c 'file %a %U' /kozmic/secrets/PYPI_TOKEN",
      'echo "whole: $PYPI_TOKEN"',
      'echo "key: $DEPLOY_KEY"',
      'echo "base64: $(printf %s "$PYPI_TOKEN" | base64)"',
      'echo "piped: $(echo "$PYPI_TOKEN" | base64)"',
      'echo "url: $(printf %s "$PYPI_TOKEN" | sed "s#/#%2F#g")"',
      // In two pieces, and slowly, a character at a time.
      "half=${#PYPI_TOKEN}; half=$((half / 2))",
      'printf "pieces: %s" "$(printf %s "$PYPI_TOKEN" | cut -c1-$half)"; sleep 0.3',
      'printf "%s\\n" "$(printf %s "$PYPI_TOKEN" | cut -c$((half + 1))-)"',
      'printf "slow: "; printf "%s\\n" "$PYPI_TOKEN" | fold -w1 | while read -r c; do printf %s "$c"; sleep 0.02; done; echo',
      "env | grep -c PYPI_TOKEN= | sed 's/^/env has it: /'",
    ].join("\n");
    // While the build runs, its container's configuration as Docker keeps it.
    const jobId = randomUUID();
    let inspected = "";
    const inspecting = (async () => {
      for (let i = 0; i < 100 && !inspected.includes('"Running": true'); i += 1) {
        const ids = execFileSync("docker", ["ps", "-q", "--filter", `label=kozmic.job=${jobId}`])
          .toString()
          .trim();
        if (ids) inspected = execFileSync("docker", ["inspect", ...ids.split("\n")]).toString();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const { result, log, writes } = await job(
      repo,
      { build: `sleep 0.5\n${build}`, secrets: ["PYPI_TOKEN", "DEPLOY_KEY"] },
      { PYPI_TOKEN: TOKEN, DEPLOY_KEY: KEY },
      newRepoDir(),
      jobId,
    );
    await inspecting;
    assert.match(inspected, /"Running": true/, "the running build's container was inspected");
    assertAbsent(inspected, "the running container's configuration");
    assert.equal(result.conclusion, "success", log);
    const [agree, whole, mode] = build.split("\n");
    assert.match(
      shownLog(log),
      ran([agree!, "env and file agree"], [whole!, "key kept whole"], [mode!, "file 400 kozmic"]),
    );
    // The echo shows each command as written: the variables' names, never their values.
    assert.match(shownLog(log), /^\+ echo "whole: \$PYPI_TOKEN"$/m);
    assert.match(shownLog(log), /^\+ half=\$\(\(half \/ 2\)\)$/m);
    assert.match(log, /whole: \*\*\*\n/);
    assert.match(log, /key: \*\*\*\n/);
    assert.match(log, /base64: \*\*\*\n/);
    assert.match(log, /piped: \*\*\*/);
    assert.match(log, /url: \*\*\*\n/);
    assert.match(log, /pieces: \*\*\*\n/);
    assert.match(log, /slow: \*\*\*\n/);
    assert.match(log, /env has it: 1\n/);
    assert.ok(writes > TOKEN.length, `the slow value came in many writes (${writes})`);
    assertAbsent(log, "the log");
  });

  it("an install that uses a secret is committed without it: not in the image's config, not in its layer", async () => {
    const repo = newRepo();
    const dir = newRepoDir();
    const install = [
      'test "$PYPI_TOKEN" = "$(cat /kozmic/secrets/PYPI_TOKEN)" || exit 7',
      'echo "logged in with ${#PYPI_TOKEN} characters" > /opt/installed',
    ].join("\n");
    const hook = { install, build: "cat /opt/installed", secrets: ["PYPI_TOKEN", "DEPLOY_KEY"] };
    const first = await job(repo, hook, { PYPI_TOKEN: TOKEN, DEPLOY_KEY: KEY }, dir);
    assert.equal(first.result.conclusion, "success", first.log);
    assert.equal(first.result.cacheHit, false);
    assert.match(first.log, new RegExp(`logged in with ${TOKEN.length} characters`));

    const image = `${cacheRepository(repo.id)}:${first.result.cacheKey}`;
    const config = execFileSync("docker", ["image", "inspect", image]);
    assertAbsent(config, "the image's configuration");
    const env = JSON.parse(config.toString())[0].Config.Env as string[] | null;
    assert.equal(
      (env ?? []).some((e) => e.startsWith("PYPI_TOKEN=") || e.startsWith("DEPLOY_KEY=")),
      false,
    );
    // Every byte of the image: its layers as `docker save` writes them (uncompressed tar).
    const saved = execFileSync("docker", ["save", image], { maxBuffer: 64 * 1024 ** 2 });
    assert.ok(saved.includes("logged in with"), "the scan sees the install's own file");
    assertAbsent(saved, "the image's layers");

    // The key never depends on a value: another value hits the same cached install.
    const again = await job(repo, hook, { PYPI_TOKEN: `${TOKEN}-rotated`, DEPLOY_KEY: KEY }, dir);
    assert.equal(again.result.conclusion, "success", again.log);
    assert.equal(again.result.cacheHit, true);
    assert.equal(again.result.cacheKey, first.result.cacheKey);
  });
});

function newRepoDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-secrets-src-"));
  writeFileSync(join(dir, "README"), "hello\n");
  return dir;
}
