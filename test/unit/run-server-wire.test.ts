import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  privateDirectory,
  serverKey,
  socketDirectory,
  type ServerIdentity,
} from "../../src/cli/run-server/address.js";
import {
  encodeFrame,
  encodeOutput,
  FRAME,
  FrameError,
  FrameReader,
  MAX_FRAME_BYTES,
  parseRunRequest,
} from "../../src/cli/run-server/frames.js";

const scratch = mkdtempSync(join(tmpdir(), "kozmic-run-server-wire-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("the run server's frames", () => {
  it("read back the same however the stream splits them", () => {
    const frames = [
      encodeFrame(FRAME.accepted),
      encodeFrame(FRAME.stdout, "hello\n"),
      encodeFrame(FRAME.stderr, Buffer.from([0xff, 0x00, 0x0a])),
      encodeFrame(FRAME.exit, "3"),
    ];
    const wire = Buffer.concat(frames);
    for (let size = 1; size <= wire.length; size++) {
      const reader = new FrameReader();
      const read = [];
      for (let at = 0; at < wire.length; at += size) {
        read.push(...reader.push(wire.subarray(at, at + size)));
      }
      assert.deepEqual(
        read.map((f) => [f.type, [...f.payload]]),
        [
          [FRAME.accepted, []],
          [FRAME.stdout, [...Buffer.from("hello\n")]],
          [FRAME.stderr, [0xff, 0x00, 0x0a]],
          [FRAME.exit, [...Buffer.from("3")]],
        ],
        `chunks of ${size}`,
      );
    }
  });

  it("carry output of any size in frames within the limit", () => {
    const big = Buffer.alloc(MAX_FRAME_BYTES * 2 + 5, 7);
    const frames = encodeOutput(FRAME.stdout, big);
    assert.equal(frames.length, 3);
    const read = new FrameReader().push(Buffer.concat(frames));
    assert.deepEqual(
      read.map((f) => f.payload.length),
      [MAX_FRAME_BYTES, MAX_FRAME_BYTES, 5],
    );
    assert.equal(encodeOutput(FRAME.stdout, Buffer.alloc(0)).length, 1, "an empty write");
  });

  it("refuse an unknown type and a length over the limit, before reading the body", () => {
    assert.throws(() => new FrameReader().push(Buffer.from("GET / HTTP/1.1")), {
      name: "Error",
      message: "unknown frame type 0x47",
    });
    const header = Buffer.alloc(5);
    header[0] = FRAME.request;
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 1);
    assert.throws(() => new FrameReader().push(header), FrameError);
    assert.throws(() => encodeFrame(FRAME.stdout, Buffer.alloc(MAX_FRAME_BYTES + 1)), FrameError);
  });

  it("take a request only with argv, an absolute cwd, string variables and a umask", () => {
    const good = { argv: ["."], cwd: "/src", env: { A: "1" }, umask: 0o22 };
    assert.deepEqual(parseRunRequest(Buffer.from(JSON.stringify(good))), good);
    assert.throws(() => parseRunRequest(Buffer.from("{")), /the request is not JSON/);
    for (const bad of [
      null,
      [],
      { ...good, argv: "." },
      { ...good, argv: [1] },
      { ...good, cwd: "src" },
      { ...good, env: { A: 1 } },
      { ...good, env: null },
      { ...good, umask: -1 },
      { ...good, umask: 0o1000 },
      { ...good, umask: "022" },
    ]) {
      assert.throws(
        () => parseRunRequest(Buffer.from(JSON.stringify(bad))),
        /the request lacks argv, an absolute cwd, env or umask/,
        JSON.stringify(bad),
      );
    }
  });
});

describe("where a run server listens", () => {
  const identity: ServerIdentity = {
    buildId: "b1",
    command: "/opt/kozmic/bin/kozmic.js",
    execPath: "/usr/bin/node",
    nodeVersion: "v20.18.1",
    execArgv: [],
    nodeOptions: undefined,
    uid: 1000,
    gid: 1000,
    groups: [27, 1000],
  };

  it("one name per build, checkout, Node, options, user and groups (in any order)", () => {
    const key = serverKey(identity);
    assert.match(key, /^[0-9a-f]{28}$/);
    assert.equal(serverKey({ ...identity, groups: [1000, 27] }), key);
    for (const other of [
      { buildId: "b2" },
      { command: "/home/me/kozmic/bin/kozmic.js" },
      { execPath: "/opt/node" },
      { nodeVersion: "v24.0.0" },
      { execArgv: ["--inspect"] },
      { nodeOptions: "--max-old-space-size=100" },
      { uid: 1001 },
      { gid: 27 },
      { groups: [1000] },
    ]) {
      assert.notEqual(serverKey({ ...identity, ...other }), key, JSON.stringify(other));
    }
  });

  it("in $XDG_RUNTIME_DIR/kozmic when it is an absolute path, else kozmic-<uid> in the temporary directory", () => {
    assert.equal(socketDirectory({ XDG_RUNTIME_DIR: "/run/user/7" }, 7), "/run/user/7/kozmic");
    assert.equal(socketDirectory({ XDG_RUNTIME_DIR: "run" }, 7), join(tmpdir(), "kozmic-7"));
    assert.equal(socketDirectory({}, 7), join(tmpdir(), "kozmic-7"));
  });

  it("only in a directory of this user's that no one else can enter, never through a link", () => {
    const uid = process.getuid!();
    const made = join(scratch, "made");
    assert.equal(privateDirectory(made, uid), true);
    assert.equal(lstatSync(made).mode & 0o777, 0o700);
    assert.equal(privateDirectory(made, uid), true, "again");
    const open = join(scratch, "open");
    mkdirSync(open, { mode: 0o755 });
    assert.equal(privateDirectory(open, uid), false);
    const link = join(scratch, "link");
    symlinkSync(made, link);
    assert.equal(privateDirectory(link, uid), false);
    assert.equal(privateDirectory(made, uid + 1), false, "someone else's");
    assert.equal(privateDirectory(join(scratch, "no/such/parent"), uid), false);
  });
});
