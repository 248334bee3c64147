import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import { fetchSource } from "../../runner/source/checkout-commit.js";
import { updateMirror } from "../../runner/source/git-mirror.js";
import { startGitFixture, type GitFixture } from "../support/git-fixture.js";

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stats = statSync(full, { throwIfNoEntry: false });
    if (stats?.isDirectory()) out.push(...filesUnder(full));
    else if (stats?.isFile()) out.push(full);
  }
  return out;
}

function uploadPacks(fixture: GitFixture) {
  return fixture.http.requests.filter((r) => r.path.endsWith("/git-upload-pack"));
}

describe("runner git source (fake GitHub over smart HTTP)", () => {
  let fixture: GitFixture;
  let dataDir: string;
  before(async () => {
    fixture = await startGitFixture();
    dataDir = mkdtempSync(join(tmpdir(), "kozmic-runner-git-"));
  });
  after(async () => {
    await fixture.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const request = (sha: string, token: string, extra: Record<string, unknown> = {}) => ({
    dataDir,
    repositoryId: fixture.repositoryId,
    cloneUrl: fixture.cloneUrl,
    sha,
    ref: "refs/heads/main",
    token,
    jobId: "job-1",
    ...extra,
  });

  it("checks out the exact commit with a .git, leaving the token in no file", async () => {
    const first = fixture.repo.commit({ "README.md": "hello\n", "src/app.sh": "echo hi\n" });
    const second = fixture.repo.commit({ "README.md": "hello again\n", "src/app.sh": "echo hi\n" });
    const token = await fixture.mintToken();
    const checkout = await fetchSource(request(first, token));
    try {
      assert.equal(readFileSync(join(checkout.dir, "README.md"), "utf8"), "hello\n");
      const head = execFileSync("git", ["-C", checkout.dir, "rev-parse", "HEAD"], {
        encoding: "utf8",
      }).trim();
      assert.equal(head, first);
      assert.ok(existsSync(join(checkout.dir, ".git")));
      assert.ok(!existsSync(join(checkout.dir, ".git/objects/info/alternates")));
      const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
      for (const file of filesUnder(dataDir)) {
        const text = readFileSync(file).toString("latin1");
        assert.ok(!text.includes(token), `token found in ${file}`);
        assert.ok(!text.includes(basic), `encoded token found in ${file}`);
      }
      assert.ok(uploadPacks(fixture).every((r) => r.installationId === fixture.installationId));
    } finally {
      await checkout.remove();
    }
    assert.ok(!existsSync(checkout.dir), "the checkout is removed after the job");
    const next = await fetchSource(request(second, token));
    assert.equal(readFileSync(join(next.dir, "README.md"), "utf8"), "hello again\n");
    await next.remove();
  });

  it("reuses the mirror: a second fetch transfers only the missing objects", async () => {
    const big = randomBytes(512 * 1024).toString("base64");
    const one = fixture.repo.commit({ "big.txt": big, "a.txt": "a\n" });
    const token = await fixture.mintToken();
    const before = uploadPacks(fixture).length;
    await updateMirror(request(one, token));
    const firstBytes = uploadPacks(fixture)
      .slice(before)
      .reduce((sum, r) => sum + r.bytes, 0);
    assert.ok(firstBytes > 512 * 1024, `first fetch carried the big file (${firstBytes} bytes)`);
    const two = fixture.repo.commit({ "big.txt": big, "a.txt": "b\n" });
    const mid = uploadPacks(fixture).length;
    await updateMirror(request(two, token));
    const secondBytes = uploadPacks(fixture)
      .slice(mid)
      .reduce((sum, r) => sum + r.bytes, 0);
    assert.ok(secondBytes < 10_000, `second fetch carried only new objects (${secondBytes} bytes)`);
    // A commit already in the mirror needs no network at all.
    const last = uploadPacks(fixture).length;
    await updateMirror(request(one, token));
    assert.equal(uploadPacks(fixture).length, last);
  });

  it("serialises concurrent fetches of one repository", async () => {
    const sha = fixture.repo.commit({ "c.txt": randomBytes(8).toString("hex") });
    const token = await fixture.mintToken();
    const sessions = () => fixture.http.requests.filter((r) => r.path.endsWith("/info/refs"));
    const before = sessions().length;
    const mirrors = await Promise.all([1, 2, 3].map(() => updateMirror(request(sha, token))));
    assert.equal(new Set(mirrors).size, 1);
    assert.equal(sessions().length - before, 1, "one fetch, the others found the commit");
  });

  it("recovers a mirror whose last fetch was killed, leaving lock files", async () => {
    const token = await fixture.mintToken();
    const mirror = await updateMirror(request(fixture.repo.commit({ "f.txt": "1\n" }), token));
    writeFileSync(join(mirror, "refs/heads/main.lock"), "");
    writeFileSync(join(mirror, "packed-refs.lock"), "");
    const sha = fixture.repo.commit({ "f.txt": "2\n" });
    await updateMirror(request(sha, token));
    const checkout = await fetchSource(request(sha, token, { jobId: "job-locks" }));
    assert.equal(readFileSync(join(checkout.dir, "f.txt"), "utf8"), "2\n");
    await checkout.remove();
  });

  it("fails with an infrastructure error that does not show a wrong token", async () => {
    const sha = fixture.repo.commit({ "d.txt": "d\n" });
    const wrong = `ghs_${randomBytes(18).toString("hex")}`;
    await assert.rejects(updateMirror(request(sha, wrong)), (error: unknown) => {
      assert.ok(error instanceof InfrastructureError);
      assert.match(error.message, /authentication failed/);
      assert.ok(!error.message.includes(wrong));
      assert.ok(!error.message.includes(Buffer.from(`x-access-token:${wrong}`).toString("base64")));
      return true;
    });
  });

  it("fetches a pull request head through refs/pull/N/head", async () => {
    const sha = fixture.repo.commit({ "pr.txt": "from the pull request\n" }, { branch: "topic" });
    fixture.repo.setPullHead(7, sha);
    execFileSync("git", ["--git-dir", fixture.repo.path, "update-ref", "-d", "refs/heads/topic"]);
    const token = await fixture.mintToken();
    const checkout = await fetchSource(
      request(sha, token, { ref: "refs/pull/7/head", pullRequest: 7, jobId: "job-pr" }),
    );
    assert.equal(readFileSync(join(checkout.dir, "pr.txt"), "utf8"), "from the pull request\n");
    await checkout.remove();
  });

  it("says clearly when the commit does not exist", async () => {
    const token = await fixture.mintToken();
    const missing = "0123456789abcdef0123456789abcdef01234567";
    await assert.rejects(updateMirror(request(missing, token)), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(
        error.message,
        /commit 0123456789abcdef0123456789abcdef01234567 is not in octo\/widgets/,
      );
      return true;
    });
  });

  it("fails with an infrastructure error when the host is unreachable", async () => {
    const sha = fixture.repo.commit({ "e.txt": "e\n" });
    const token = await fixture.mintToken();
    await assert.rejects(
      updateMirror(request(sha, token, { cloneUrl: "http://127.0.0.1:1/octo/widgets.git" })),
      (error: unknown) => error instanceof InfrastructureError && !error.message.includes(token),
    );
  });
});
