import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupRef } from "../../src/core/image-ref.js";
import type { Engine } from "../engine/port.js";
import { networkFailureWatch } from "./network-failure.js";
import { runStep } from "./run-step.js";

/** What `kozmic doctor` fetches from a job's network unless told another address. */
export const DEFAULT_PROBE_URL = "https://pypi.org/simple/";
/** The probe's image unless told another: small, with wget. */
export const DEFAULT_PROBE_IMAGE = "busybox:stable";

/** The probe's script: fetch the URL with the image's curl or wget. POSIX sh. */
export function probeScript(url: string): string {
  const quoted = `'${url.replace(/'/g, "'\\''")}'`;
  return [
    "if command -v curl >/dev/null 2>&1; then",
    `  curl -fsS -m 20 -o /dev/null ${quoted}`,
    "elif command -v wget >/dev/null 2>&1; then",
    // No -T: Debian's static busybox wget crashes with it; the step's own timers bound it.
    `  wget -q -O /dev/null ${quoted}`,
    "else",
    "  echo 'the image has neither curl nor wget'; exit 127",
    "fi",
    "",
  ].join("\n");
}

/**
 * Runs a container of `image` on `network`, as a job's step would be, and fetches `url`:
 * whether jobs there resolve names and reach a package registry, in words for doctor.
 */
export async function probeJobNetwork(
  engine: Engine,
  options: { image: string; network: string; url: string },
): Promise<{ problem: boolean; detail: string }> {
  const { image, network, url } = options;
  const where = `a ${image} container on the job network "${network}"`;
  const sourceDir = await mkdtemp(join(tmpdir(), "kozmic-probe-"));
  try {
    if (!(await engine.inspectImage(lookupRef(image)))) await engine.pullImage(image);
    let output = "";
    const watch = networkFailureWatch();
    const outcome = await runStep(
      engine,
      {
        jobId: `doctor-${randomUUID()}`,
        image: lookupRef(image),
        script: probeScript(url),
        sourceDir,
        env: {},
        user: "root",
        memoryBytes: 128 * 1024 ** 2,
        nanoCpus: 1e9,
        pidsLimit: 64,
        network,
        deadline: Date.now() + 60_000,
        stallTimeoutMs: 45_000,
      },
      {
        write: (text) => {
          output += text;
          watch.see(text);
        },
        flush: () => Promise.resolve(),
      },
    );
    if (outcome.kind === "exited" && outcome.exitCode === 0) {
      return { problem: false, detail: `${where} fetched ${url}` };
    }
    const said = output.trim().split("\n").pop()?.trim() || exitOf(outcome);
    const cause = watch.seen
      ? "could not resolve the name or reach the network"
      : "could not fetch";
    return {
      problem: true,
      detail:
        `${where} ${cause} ${url} (${said}): installs that download will fail there; give ` +
        "jobs a network that reaches the internet (KOZMIC_NETWORK), or point --probe-url at " +
        "your own package mirror",
    };
  } catch (error) {
    return { problem: true, detail: `cannot run ${where}: ${(error as Error).message}` };
  } finally {
    await rm(sourceDir, { recursive: true, force: true });
  }
}

function exitOf(outcome: Awaited<ReturnType<typeof runStep>>): string {
  if (outcome.kind === "exited") return `exit code ${outcome.exitCode}`;
  return outcome.kind === "timed_out" ? `no answer: ${outcome.reason}` : outcome.kind;
}
