import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveScriptUser } from "../../runner/pipeline/resolve-script-user.js";

const passwd = [
  "root:x:0:0:root:/root:/bin/sh",
  "builder:x:2000:2100::/home/builder:/bin/sh",
  "kozmic:x:1000:1000::/home/kozmic:/bin/sh",
].join("\n");
const noKozmic = passwd.split("\n").slice(0, 2).join("\n");

test("the kozmic user wins over the image's default user", () => {
  assert.deepEqual(resolveScriptUser(passwd, "builder"), { user: "kozmic", uid: 1000, gid: 1000 });
});

test("without a kozmic user, the image's default user owns /kozmic", () => {
  assert.deepEqual(resolveScriptUser(noKozmic, "builder"), { uid: 2000, gid: 2100 });
  assert.deepEqual(resolveScriptUser(noKozmic, "2000"), { uid: 2000, gid: 2100 });
  assert.deepEqual(resolveScriptUser(noKozmic, "3000:3001"), { uid: 3000, gid: 3001 });
  assert.deepEqual(resolveScriptUser(noKozmic, "3000"), { uid: 3000, gid: 3000 });
});

test("an image without USER runs as root", () => {
  assert.deepEqual(resolveScriptUser(noKozmic, ""), { uid: 0, gid: 0 });
  assert.deepEqual(resolveScriptUser(undefined, undefined), { uid: 0, gid: 0 });
});
