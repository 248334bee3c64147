import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { protectWhileBusy } from "../../runner/host/scale-in-protection.js";

/** A runner's host as protectWhileBusy sees it: jobs come and go; calls are recorded. */
function host(options: { failFirst?: number } = {}) {
  let jobs = 0;
  let failures = options.failFirst ?? 0;
  const calls: boolean[] = [];
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve: () => void }[] = [];
  // The watch's timer does not hold the process open (a runner exits when its work is done).
  const keepAlive = setInterval(() => {}, 1000);
  const protection = protectWhileBusy({
    busy: () => jobs,
    instanceId: async () => "i-0123456789abcdef0\n",
    setProtected: async (id, on) => {
      assert.equal(id, "i-0123456789abcdef0");
      if (failures > 0) {
        failures -= 1;
        throw new Error("Rate exceeded");
      }
      calls.push(on);
    },
    pollMs: 5,
    log: (line) => {
      lines.push(line);
      for (const w of waiters.filter((w) => w.match.test(line))) w.resolve();
    },
  });
  return {
    calls,
    lines,
    set: (n: number) => (jobs = n),
    said: (match: RegExp) =>
      lines.some((l) => match.test(l))
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ match, resolve })),
    stop: () => {
      protection.stop();
      clearInterval(keepAlive);
    },
  };
}

describe("scale-in protection while the runner has jobs", () => {
  it("unprotects at start, protects while a job runs, and lets go after the idle polls", async () => {
    const h = host();
    try {
      await h.said(/off: no job running/);
      h.set(2);
      await h.said(/on: 2 job\(s\) running/);
      h.set(0);
      await h.said(/off: idle for 0 s/);
      assert.deepEqual(h.calls, [false, true, false]);
    } finally {
      h.stop();
    }
  });

  it("says once when Auto Scaling refuses, and tries again until it answers", async () => {
    const h = host({ failFirst: 3 });
    try {
      h.set(1);
      await h.said(/on: 1 job\(s\) running/);
      assert.equal(h.lines.filter((l) => /cannot set it \(Rate exceeded\)/.test(l)).length, 1);
      assert.ok(h.lines.includes("scale-in protection: Auto Scaling answers again"));
      assert.deepEqual(h.calls, [true]);
    } finally {
      h.stop();
    }
  });
});
