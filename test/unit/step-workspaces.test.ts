import { test } from "node:test";
import assert from "node:assert/strict";
import { mountAllowsExec } from "../../runner/source/step-workspaces.js";

const MOUNTINFO = [
  "27 1 253:1 / / rw,relatime - ext4 /dev/vda1 rw",
  "44 27 0:39 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw",
  "45 27 0:40 / /var/lib/kozmic rw,relatime - ext4 /dev/vdb rw",
  "46 45 0:41 / /var/lib/kozmic/steps\\040x rw,noexec - tmpfs tmpfs rw",
].join("\n");

test("a step directory's mount decides whether its files may run: the longest mount point wins", () => {
  assert.equal(mountAllowsExec(MOUNTINFO, "/root/.kozmic/steps"), true);
  assert.equal(mountAllowsExec(MOUNTINFO, "/tmp/kozmic/steps"), false);
  assert.equal(mountAllowsExec(MOUNTINFO, "/tmp"), false);
  assert.equal(mountAllowsExec(MOUNTINFO, "/tmpfoo/steps"), true, "a prefix is not a parent");
  assert.equal(mountAllowsExec(MOUNTINFO, "/var/lib/kozmic/steps/runner-a"), true);
  assert.equal(mountAllowsExec(MOUNTINFO, "/var/lib/kozmic/steps x/runner-a"), false);
  assert.equal(mountAllowsExec("", "/anything"), true);
});
