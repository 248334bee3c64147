import { test } from "node:test";
import assert from "node:assert/strict";
import {
  resolveScriptUser,
  scriptUserWithoutPasswd,
} from "../../runner/pipeline/resolve-script-user.js";

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

test("the hook's user: wins over everything", () => {
  assert.deepEqual(resolveScriptUser(passwd, "builder", "root"), { user: "0:0", uid: 0, gid: 0 });
  assert.deepEqual(resolveScriptUser(passwd, "", "builder"), {
    user: "builder",
    uid: 2000,
    gid: 2100,
  });
  assert.deepEqual(resolveScriptUser(passwd, "", "2000"), {
    user: "2000:2100",
    uid: 2000,
    gid: 2100,
  });
  assert.deepEqual(resolveScriptUser(passwd, "", "4242"), {
    user: "4242:4242",
    uid: 4242,
    gid: 4242,
  });
  assert.deepEqual(resolveScriptUser(undefined, "", "5:6"), { user: "5:6", uid: 5, gid: 6 });
});

test("root and uid:gid need no look-up in the image", () => {
  assert.deepEqual(scriptUserWithoutPasswd("root"), { user: "0:0", uid: 0, gid: 0 });
  assert.deepEqual(scriptUserWithoutPasswd("7:8"), { user: "7:8", uid: 7, gid: 8 });
  assert.equal(scriptUserWithoutPasswd("7"), undefined);
  assert.equal(scriptUserWithoutPasswd("builder"), undefined);
  assert.equal(scriptUserWithoutPasswd(undefined), undefined);
});

test("a user the image does not have is a clear error", () => {
  assert.throws(
    () => resolveScriptUser(passwd, "", "nobody-here"),
    /user: nobody-here is not a user of the image/,
  );
});
