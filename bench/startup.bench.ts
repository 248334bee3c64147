// How long the `kozmic` command takes to start, against bare Node starting and exiting:
// `node -e 0`, then the compiled CLI (`node bin/kozmic.js`, as the tests and the README run
// it) for --version, --help and run --help, and, for reference, the same --version from the
// TypeScript source through tsx (what `npm run kozmic` runs). Interleaved rounds (each
// round runs every command once, in turn), after one warm-up round; medians, and each as a
// ratio to `node -e 0`. Goal: `kozmic --version` within 2x `node -e 0`. BENCH_NODE runs
// them with another Node.js (e.g. the Node 24 of scripts/node24.sh).
//   npm run build && node --import tsx bench/startup.bench.ts   (BENCH_ROUNDS=20)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { kozmicArgv } from "../test/support/kozmic-cli.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const GOAL = 2;
const NODE = process.env.BENCH_NODE ?? process.execPath;
const SOURCE = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

const commands: { name: string; args: string[] }[] = [
  { name: "node -e 0", args: ["-e", "0"] },
  { name: "kozmic --version", args: kozmicArgv(["--version"]) },
  { name: "kozmic --help", args: kozmicArgv(["--help"]) },
  { name: "kozmic run --help", args: kozmicArgv(["run", "--help"]) },
  { name: "tsx src/cli/main.ts --version", args: ["--import", "tsx", SOURCE, "--version"] },
];

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(NODE, args, { stdio: ["ignore", "pipe", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(" ")} exited ${result.status}: ${String(result.stderr)}`);
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

for (const command of commands) timeOnce(command.args); // warm-up: file cache, compile cache
const samples = commands.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  commands.forEach((command, i) => samples[i]!.push(timeOnce(command.args)));
}

const medians = samples.map(median);
const base = medians[0]!;
console.log(`kozmic start-up, ${ROUNDS} interleaved rounds, medians (min-max):`);
commands.forEach((command, i) => {
  const ms = medians[i]!;
  const range = `${Math.min(...samples[i]!).toFixed(0)}-${Math.max(...samples[i]!).toFixed(0)}`;
  console.log(
    `  ${command.name.padEnd(32)} ${ms.toFixed(1).padStart(7)} ms  (${range.padStart(9)})  ` +
      `${(ms / base).toFixed(2)}x node -e 0`,
  );
});
const ratio = medians[1]! / base;
console.log(
  `goal: kozmic --version within ${GOAL}x node -e 0: ${ratio.toFixed(2)}x, ` +
    (ratio <= GOAL ? "met" : "NOT met"),
);
