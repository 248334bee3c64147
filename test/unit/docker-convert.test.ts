import { test } from "node:test";
import assert from "node:assert/strict";
import { toDockerCreateOptions } from "../../runner/engine/docker-convert.js";
import type { ContainerSpec } from "../../runner/engine/docker-convert.js";

const spec: ContainerSpec = {
  image: "sha256:abc",
  cmd: ["/bin/sh", "/kozmic/run.sh"],
  env: { B: "2", A: "1" },
  user: "kozmic",
  workingDir: "/kozmic/src",
  labels: { "kozmic.job": "j1" },
  memoryBytes: 512 * 1024 ** 2,
  nanoCpus: 1e9,
  pidsLimit: 256,
  network: "none",
  volumes: [{ source: "vol1", target: "/kozmic" }],
};

const cases: {
  name: string;
  spec: ContainerSpec;
  check: (o: ReturnType<typeof toDockerCreateOptions>) => void;
}[] = [
  {
    name: "limits, labels, user and network are carried over",
    spec,
    check: (o) => {
      assert.equal(o.HostConfig.Memory, 512 * 1024 ** 2);
      assert.equal(o.HostConfig.MemorySwap, 512 * 1024 ** 2);
      assert.equal(o.HostConfig.NanoCpus, 1e9);
      assert.equal(o.HostConfig.PidsLimit, 256);
      assert.equal(o.HostConfig.NetworkMode, "none");
      assert.equal(o.User, "kozmic");
      assert.deepEqual(o.Labels, { "kozmic.job": "j1" });
    },
  },
  {
    name: "env is sorted KEY=value",
    spec,
    check: (o) => assert.deepEqual(o.Env, ["A=1", "B=2"]),
  },
  {
    name: "never privileged, only named volumes, no docker socket",
    spec,
    check: (o) => {
      assert.equal(o.HostConfig.Privileged, false);
      assert.deepEqual(o.HostConfig.Mounts, [
        { Type: "volume", Source: "vol1", Target: "/kozmic" },
      ]);
      assert.ok(!JSON.stringify(o).includes("docker.sock"));
    },
  },
  {
    name: "sudo works by default: no no-new-privileges, Docker's seccomp profile, no runtime set",
    spec,
    check: (o) => {
      assert.deepEqual(o.HostConfig.SecurityOpt, []);
      assert.equal("Runtime" in o.HostConfig, false);
      assert.deepEqual(o.HostConfig.CapDrop, ["NET_RAW", "SYS_ADMIN"]);
    },
  },
  {
    name: "no-new-privileges and a runtime when the operator asks",
    spec: { ...spec, noNewPrivileges: true, runtime: "runsc" },
    check: (o) => {
      assert.deepEqual(o.HostConfig.SecurityOpt, ["no-new-privileges"]);
      assert.equal(o.HostConfig.Runtime, "runsc");
    },
  },
  {
    name: "without a network the container's own name resolves (sudo looks it up)",
    spec,
    check: (o) => {
      assert.equal(o.Hostname, "kozmic");
      assert.deepEqual(o.HostConfig.ExtraHosts, ["kozmic:127.0.1.1"]);
    },
  },
  {
    name: "on the host's network the host's name and hosts file stay",
    spec: { ...spec, network: "host" },
    check: (o) => {
      assert.equal("Hostname" in o, false);
      assert.equal("ExtraHosts" in o.HostConfig, false);
    },
  },
  {
    name: "no user means the image's default user",
    spec: { ...spec, user: undefined },
    check: (o) => assert.equal("User" in o, false),
  },
];

for (const c of cases) test(c.name, () => c.check(toDockerCreateOptions(c.spec)));

test("a host path as a volume source is refused", () => {
  assert.throws(
    () =>
      toDockerCreateOptions({
        ...spec,
        volumes: [{ source: "/var/run/docker.sock", target: "/s" }],
      }),
    /only named volumes/,
  );
});

test("a step's workspace is bind-mounted at /kozmic, and only as an absolute, plain path", () => {
  const options = toDockerCreateOptions({
    ...spec,
    volumes: [],
    workspace: "/var/lib/kozmic/steps/step-a1",
  });
  assert.deepEqual(options.HostConfig.Mounts, [
    { Type: "bind", Source: "/var/lib/kozmic/steps/step-a1", Target: "/kozmic" },
  ]);
  for (const workspace of ["relative/dir", "/a/../etc", "/a/./b", "/", "/a/b/", "/a//b"]) {
    assert.throws(
      () => toDockerCreateOptions({ ...spec, volumes: [], workspace }),
      /a workspace is an absolute, plain path/,
      workspace,
    );
  }
});
