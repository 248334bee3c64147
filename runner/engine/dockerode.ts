import { existsSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type Dockerode from "dockerode";

/**
 * dockerode, without what a local Docker socket never uses.
 *
 * Loading dockerode (lib/docker.js) requires, at its top level:
 * - docker-modem's lib/ssh.js, which requires ssh2 (an `ssh://` DOCKER_HOST);
 * - dockerode's lib/session.js, which requires @grpc/grpc-js and @grpc/proto-loader, and
 *   through them protobufjs (BuildKit sessions, for `buildImage` with `version: "2"`).
 * That is about 200 modules and a third of `kozmic run`'s start. Both files export one
 * function, called only when such a connection or session is made. Before dockerode loads,
 * each gets a stand-in in the CommonJS module cache that loads the real file on its first
 * call, so `ssh://` hosts and BuildKit sessions still work, and nothing else loads them.
 */
const require = createRequire(import.meta.url);

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function deferFunctionModule(filename: string): void {
  if (!existsSync(filename) || require.cache[filename]) return;
  const standIn = new Module(filename);
  standIn.filename = filename;
  standIn.loaded = true;
  let real: AnyFunction | undefined;
  standIn.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      // The real module takes the stand-in's place in the cache, and is what later calls get.
      if (require.cache[filename] === standIn) delete require.cache[filename];
      real = require(filename) as AnyFunction;
    }
    return real.apply(this, args);
  };
  require.cache[filename] = standIn;
}

const dockerodeMain = require.resolve("dockerode"); // …/dockerode/lib/docker.js
const modemMain = createRequire(dockerodeMain).resolve("docker-modem"); // …/docker-modem/lib/modem.js
deferFunctionModule(join(dirname(modemMain), "ssh.js"));
deferFunctionModule(join(dirname(dockerodeMain), "session.js"));

/** dockerode's `Docker` class (the client the Docker engine adapter uses). */
export const Docker = require("dockerode") as typeof Dockerode;
export type Docker = Dockerode;
