import { test } from "node:test";
import assert from "node:assert/strict";
import { scriptCommand } from "../../src/core/config/script-command.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError } from "../../src/core/errors.js";

test("a script without a #! line runs with /bin/sh -e, unchanged", () => {
  assert.deepEqual(scriptCommand("npm ci\nnpm test\n"), {
    interpreter: ["/bin/sh", "-e"],
    body: "npm ci\nnpm test\n",
  });
});

test("a #! line chooses the interpreter and stays in the body", () => {
  assert.deepEqual(scriptCommand("#!/usr/bin/env python3\nprint('hi')\n"), {
    interpreter: ["/usr/bin/env", "python3"],
    body: "#!/usr/bin/env python3\nprint('hi')\n",
  });
  assert.deepEqual(scriptCommand("#! /bin/bash -eu\r\necho hi\r\n").interpreter, [
    "/bin/bash",
    "-eu",
  ]);
  assert.deepEqual(scriptCommand("#!/bin/sh").interpreter, ["/bin/sh"]);
});

test("#! only counts on the very first line", () => {
  assert.deepEqual(scriptCommand("\n#!/bin/bash\necho hi\n").interpreter, ["/bin/sh", "-e"]);
  assert.deepEqual(scriptCommand("  #!/bin/bash\n").interpreter, ["/bin/sh", "-e"]);
  assert.deepEqual(scriptCommand("echo '#!/bin/bash'\n").interpreter, ["/bin/sh", "-e"]);
});

test("an unusable #! line is refused", () => {
  assert.throws(() => scriptCommand("#!\necho\n"), /names no interpreter/);
  assert.throws(() => scriptCommand("#!bash\necho\n"), /must be an absolute path/);
});

test("the config reports an unusable #! line at its hook", () => {
  const text = "hooks:\n  - name: t\n    image: a\n    build: |\n      #!python3\n      print(1)\n";
  assert.throws(
    () => parseConfig(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.issues.map((i) => `${i.line}:${i.column} ${i.message}`),
        [
          '4:12 hook "t": build: the "#!" interpreter must be an absolute path such as "/usr/bin/env python3", found "python3"',
        ],
      );
      return true;
    },
  );
});
