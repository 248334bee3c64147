import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

/**
 * moto's server (`moto_server`, from `pip install "moto[server]"`) on 127.0.0.1, for AWS
 * APIs the other test services do not have (Auto Scaling, EC2). Every test gets its own.
 */
export class MotoServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly output: () => string,
  ) {}

  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const server = new MotoServer(url, child, () => text);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) {
        throw new Error(`moto_server exited (${child.exitCode}): ${text.slice(-2000)}`);
      }
      try {
        if ((await fetch(`${url}/moto-api/`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (i > 600) {
        child.kill("SIGKILL");
        throw new Error(`moto_server did not answer on ${url}: ${text.slice(-2000)}`);
      }
      await sleep(100);
    }
  }

  /** What it printed, for a failing test's message. */
  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}
