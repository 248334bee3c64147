import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/free-port.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { runKozmic } from "../support/kozmic-cli.js";

// A stand-in package registry on this machine's loopback; jobs reach it on the host network.
const IMAGE = `kozmic-test/probe-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), "kozmic-probe-"));
let registry: Server;
let registryUrl: string;
const asked: string[] = [];

before(async () => {
  ensureBusyboxImage(IMAGE);
  registry = createServer((req, res) => {
    asked.push(req.url ?? "");
    res.end("<html>simple</html>");
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/simple/`;
});

after(async () => {
  await new Promise((resolve) => registry.close(resolve));
  removeImages(IMAGE);
  rmSync(dir, { recursive: true, force: true });
});

async function probeLine(args: string[], network: string): Promise<string> {
  const { stdout } = await runKozmic(["doctor", ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KOZMIC_DATA_DIR: join(dir, "data"),
      KOZMIC_NETWORK: network,
    },
  });
  return stdout.split("\n").find((line) => line.slice(8).startsWith("network probe:")) ?? stdout;
}

describe("kozmic doctor's network probe: a container on the job network fetches a package index", () => {
  it("says a job there reaches the registry, having asked it", async () => {
    const line = await probeLine(["--probe-image", IMAGE, "--probe-url", registryUrl], "host");
    assert.equal(
      line,
      `ok      network probe: a ${IMAGE} container on the job network "host" fetched ${registryUrl}`,
    );
    assert.deepEqual(asked, ["/simple/"]);
  });

  it("says what the container's tool said when it cannot, and what to do", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/simple/`;
    const line = await probeLine(["--probe-image", IMAGE, "--probe-url", closed], "host");
    assert.match(
      line,
      new RegExp(
        `^problem network probe: a ${IMAGE} container on the job network "host" could not fetch ` +
          `${closed.replace(/\./g, "\\.")} \\(wget: can't connect to remote host .*Connection refused\\): ` +
          "installs that download will fail there; give jobs a network that reaches the internet",
      ),
    );
  });

  it("is skipped where jobs have no network, and on --no-probe", async () => {
    assert.equal(
      await probeLine(["--probe-image", IMAGE], "none"),
      "skipped network probe: jobs have no network",
    );
    assert.equal(await probeLine(["--no-probe"], "host"), "skipped network probe: --no-probe");
  });
});
