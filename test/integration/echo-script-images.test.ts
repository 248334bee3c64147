import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { plainLogText } from "../../src/core/plain-log-text.js";
import { ECHO_START, echoScript } from "../../src/core/shell/echo-script.js";
import { splitTopLevelCommands } from "../../src/core/shell/split-commands.js";
import { DEBIAN_SUDO_IMAGE, ensureDebianSudoImage } from "../support/debian-image.js";
import { ECHO_CASES, echoLines } from "../support/echo-cases.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";

/**
 * The echo cases run by the shells of real images: dash and bash of the Debian test image,
 * busybox's ash of the busybox one. Each case's original and echoed script run in turn as
 * the same file (`<shell> -e /t/N/script.sh 2>&1`, as the helper runs it), in one container
 * per image.
 */
const BUSYBOX = `kozmic-test/echo-busybox-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), "kozmic-echo-images-"));

// For each case and shell: both versions, each as /t/N/script.sh, output and status kept.
const DRIVER = `
for d in /t/case-*; do
  for sh in "$@"; do
    grep -qx "$sh" "$d/shells" || continue
    for v in original echoed; do
      cp "$d/$v.sh" "$d/script.sh"
      rm -f "$d/status"
      (cd "$d" && env -i PATH=/usr/bin:/bin HOME=/tmp SECRET=s3cr3t-value $sh $(cat "$d/flags") "$d/script.sh" > "$d/$sh.$v.out" 2>&1; echo $? > "$d/$sh.$v.rc")
      if [ -f "$d/status" ]; then mv "$d/status" "$d/$sh.$v.status"; fi
    done
  done
done
`;

before(() => {
  ensureBusyboxImage(BUSYBOX);
  ensureDebianSudoImage();
  writeFileSync(join(dir, "driver.sh"), DRIVER);
  ECHO_CASES.forEach((c, i) => {
    const caseDir = join(dir, `case-${i}`);
    mkdirSync(caseDir);
    writeFileSync(join(caseDir, "original.sh"), c.script);
    writeFileSync(join(caseDir, "echoed.sh"), echoScript(c.script, `/t/case-${i}/status`)!.body);
    writeFileSync(join(caseDir, "flags"), c.noErrexit ? "" : "-e");
    const shells = (c.shells ?? ["dash", "bash", "busybox"]).map((s) =>
      s === "busybox" ? "sh" : s,
    );
    writeFileSync(join(caseDir, "shells"), shells.join("\n") + "\n");
  });
});

after(() => {
  removeImages(BUSYBOX);
  rmSync(dir, { recursive: true, force: true });
});

function runIn(image: string, shells: string[]): void {
  execFileSync(
    "docker",
    [
      "run",
      "--rm",
      "--network",
      "none",
      "--user",
      "0",
      "-v",
      `${dir}:/t`,
      image,
      "/bin/sh",
      "/t/driver.sh",
      ...shells,
    ],
    { stdio: "ignore", timeout: 120_000 },
  );
}

function read(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

describe("echoed scripts in images' shells", () => {
  for (const [image, shells, label] of [
    [DEBIAN_SUDO_IMAGE, ["dash", "bash"], "Debian's dash and bash"],
    [BUSYBOX, ["sh"], "busybox's ash"],
  ] as const) {
    it(`${label}: the same output apart from the echo, the same status, the failed command's number`, () => {
      runIn(image, [...shells]);
      let compared = 0;
      ECHO_CASES.forEach((c, i) => {
        for (const sh of shells) {
          const base = join(dir, `case-${i}`, sh);
          const original = read(`${base}.original.out`);
          if (original === undefined) continue;
          const echoed = read(`${base}.echoed.out`)!;
          const what = `${c.name} (${sh})`;
          const printed = echoed.split("\n").filter((l) => l.startsWith(ECHO_START));
          const rest = echoed.split("\n").filter((l) => !l.startsWith(ECHO_START));
          assert.equal(rest.join("\n"), original, `${what}: output`);
          const status = read(`${base}.original.rc`);
          assert.equal(read(`${base}.echoed.rc`), status, `${what}: status`);
          const named = c.failing && `${c.failing} ${status!.trim()}\n`;
          assert.equal(read(`${base}.echoed.status`), named, `${what}: failed command`);
          const split = splitTopLevelCommands(c.script)!;
          const all = c.commands.filter((_, n) => !split[n]!.definesFunction).flatMap(echoLines);
          assert.deepEqual(printed.map(plainLogText), all.slice(0, printed.length), what);
          compared++;
        }
      });
      assert.ok(compared >= ECHO_CASES.length - 3, `${compared} cases ran`);
    });
  }
});
