import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isShellInterpreter, scriptCommand } from "../../src/core/config/script-command.js";
import { ECHO_START, echoScript, failedCommand } from "../../src/core/shell/echo-script.js";
import { splitTopLevelCommands } from "../../src/core/shell/split-commands.js";
import { plainLogText } from "../../src/core/plain-log-text.js";
import { ECHO_CASES, echoLines } from "../support/echo-cases.js";

/**
 * The shells scripts meet in images: dash (Debian's /bin/sh), bash, and busybox's ash (the
 * same binaries as the Debian and busybox test images: Debian's packages, /bin/busybox).
 */
const SHELLS = [
  ["dash", "/usr/bin/dash"],
  ["bash", "/usr/bin/bash"],
  ["busybox", "/usr/bin/busybox", "sh"],
].filter(([, path]) => existsSync(path!));

const dir = mkdtempSync(join(tmpdir(), "kozmic-echo-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const STATUS = join(dir, "failed-command");
const SCRIPT = join(dir, "script.sh");

/** Runs `body` as the helper does (`<shell> -e script.sh 2>&1`): what it printed and its status. */
function run(shell: string[], body: string, flags = ["-e"]) {
  writeFileSync(SCRIPT, body);
  rmSync(STATUS, { force: true });
  const result = spawnSync("/bin/sh", ["-c", 'exec "$@" 2>&1', "sh", ...shell, ...flags, SCRIPT], {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin", HOME: "/tmp", SECRET: "s3cr3t-value" },
    cwd: dir,
    timeout: 20_000,
  });
  const status = existsSync(STATUS) ? readFileSync(STATUS, "utf8") : undefined;
  return { output: result.stdout, status: result.status, failed: status };
}

/** What the echo printed, and the rest of the output. */
function separate(output: string): { echoed: string[]; rest: string } {
  const echoed: string[] = [];
  const rest: string[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith(ECHO_START)) echoed.push(plainLogText(line));
    else rest.push(line);
  }
  return { echoed, rest: rest.join("\n") };
}

describe("echoed scripts", () => {
  for (const c of ECHO_CASES) {
    it(c.name, () => {
      const split = splitTopLevelCommands(c.script);
      assert.ok(split, "the script splits");
      assert.deepEqual(
        split.map((command) => c.script.slice(command.start, command.end)),
        c.commands,
      );
      const echo = echoScript(c.script, STATUS)!;
      assert.equal(echo.body.split("\n").length, c.script.split("\n").length, "same lines");
      const flags = c.noErrexit ? [] : ["-e"];
      const shells = SHELLS.filter(([name]) => !c.shells || c.shells.includes(name!));
      assert.ok(shells.length > 0);
      for (const [name, ...shell] of shells) {
        const original = run(shell, c.script, flags);
        const transformed = run(shell, echo.body, flags);
        const { echoed: printed, rest } = separate(transformed.output);
        assert.equal(rest, original.output, `${name}: the same output apart from the echo`);
        assert.equal(transformed.status, original.status, `${name}: the same exit status`);
        const named = c.failing && `${c.failing} ${original.status}\n`;
        assert.equal(transformed.failed, named, `${name}: the failing command's number`);
        // Every echo printed is of a command that ran, in order, before its output.
        const all: string[] = c.commands
          .filter((_, i) => !split[i]!.definesFunction)
          .flatMap(echoLines);
        assert.deepEqual(printed, all.slice(0, printed.length), `${name}: what was echoed`);
        if (!c.failing && original.status === 0) assert.equal(printed.length, all.length);
      }
    });
  }
});

describe("scripts left as written", () => {
  const unsplittable = {
    "an unterminated quote": "echo 'open\n",
    "an unterminated double quote": 'echo "open\n',
    "an unterminated heredoc": "cat <<EOF\nbody\n",
    "an unterminated if": "if true; then\n  echo x\n",
    "an unterminated $(": "echo $(echo x\n",
    "a stray fi": "fi\n",
    "bash's $'…' quoting, read differently by dash": "echo $'it\\'s'; echo next\n",
    "bash's (( … )) arithmetic command": "(( i = 1 << 2 ))\necho $i\n",
    "bash's for (( … ))": "for ((i = 0; i < 2; i++)); do echo $i; done\n",
    "a heredoc inside backticks": "x=`cat <<EOF\nbody\nEOF\n`\n",
    "a quoted } inside ${…}": "echo ${x:-'}'}\n",
    "a backslash at the very end": "echo x \\",
  };
  for (const [what, script] of Object.entries(unsplittable)) {
    it(`${what}: not split, not echoed`, () => {
      assert.equal(splitTopLevelCommands(script), undefined);
      assert.equal(echoScript(script, STATUS), undefined);
    });
  }

  const readsWhatEchoChanges = {
    "set -x traces already": "set -x\necho hi\n",
    "set -eux traces already": "set -eux\necho hi\n",
    "set -o xtrace": "set -o xtrace\necho hi\n",
    "a #! line with -x": "#!/bin/bash -ex\necho hi\n",
    "$_ (the last argument)": "mkdir -p /tmp/x\ncd $_\n",
    "bash's PIPESTATUS": "false | true\nexit ${PIPESTATUS[0]}\n",
    "bash's BASH_COMMAND": "trap 'echo $BASH_COMMAND' DEBUG\ntrue\n",
    "an ERR trap": "trap 'echo failed' ERR\nfalse\n",
    "the echo's own names": "__kozmic_n=1\necho $__kozmic_n\n",
  };
  for (const [what, script] of Object.entries(readsWhatEchoChanges)) {
    it(`${what}: runs as written`, () => {
      assert.ok(splitTopLevelCommands(script));
      assert.equal(echoScript(script, STATUS), undefined);
    });
  }

  it("a script of comments only has nothing to echo", () => {
    assert.deepEqual(splitTopLevelCommands("# nothing\n\n  # here\n"), []);
    assert.equal(echoScript("# nothing\n", STATUS), undefined);
  });

  it("$_x and ${_var} are other variables: still echoed", () => {
    assert.ok(echoScript('echo "$_x ${_var}"\n', STATUS));
  });
});

describe("naming the failed command", () => {
  const echoed = echoScript(
    "make\nmake test \\\n  -j2\nif true; then\n  false\nfi\nexit 3\n",
    STATUS,
  )!;

  it("keeps one line per command: continued lines joined, a longer one marked", () => {
    assert.deepEqual(echoed.commands, ["make", "make test -j2", "if true; then …", "exit 3"]);
  });

  it("names the command the status file gives, when its status is the exit code", () => {
    assert.equal(failedCommand("2 1\n", echoed, 1), "make test -j2");
    assert.equal(failedCommand("3 1\n", echoed, 1), "if true; then …");
    assert.equal(failedCommand("2 1\n", echoed, 2), undefined, "another status");
    assert.equal(failedCommand("9 1\n", echoed, 1), undefined, "no such command");
    assert.equal(failedCommand("0 1\n", echoed, 1), undefined, "before the first command");
    assert.equal(failedCommand(undefined, echoed, 1), undefined);
    assert.equal(failedCommand("2 1\nmore\n", echoed, 1), undefined);
    assert.equal(failedCommand("4 3\n", echoed, 3), undefined, "exit names only a code");
  });

  it("a status file path that would need quoting is refused", () => {
    assert.throws(() => echoScript("true\n", "/tmp/it's"), /unusable status file/);
  });
});

describe("which interpreters are echoed", () => {
  const cases: [string, boolean][] = [
    ["npm test\n", true],
    ["#!/bin/sh\nnpm test\n", true],
    ["#!/bin/bash -eu\nnpm test\n", true],
    ["#!/usr/bin/env bash\nnpm test\n", true],
    ["#!/usr/bin/env -S bash -e\nnpm test\n", true],
    ["#!/bin/dash\nnpm test\n", true],
    ["#!/usr/bin/env python3\nprint('hi')\n", false],
    ["#!/usr/bin/perl\nprint 1;\n", false],
    ["#!/usr/bin/env node\nconsole.log(1)\n", false],
    ["#!/bin/zsh\necho hi\n", false],
  ];
  for (const [script, echoes] of cases) {
    it(`${script.split("\n")[0]}: ${echoes ? "echoed" : "as written"}`, () => {
      assert.equal(isShellInterpreter(scriptCommand(script).interpreter), echoes);
    });
  }
});
