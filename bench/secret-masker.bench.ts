// Throughput of the secret masker on a build's output, in the 16 KiB pieces Docker hands the
// runner: MB/s through a SecretMasker holding three secrets (a 40-character token, a
// 119-character one, a PEM key), against a plain pass-through in the same process (the
// UTF-8 copy a sink makes anyway; the ratio is what to compare between machines and runs).
//
//   node --import tsx bench/secret-masker.bench.ts
//   KOZMIC_BENCH_MASK_MB=64 node --import tsx bench/secret-masker.bench.ts
import { SecretMasker } from "../runner/logs/secret-masker.js";

const MB = Number(process.env.KOZMIC_BENCH_MASK_MB ?? 32);
const PIECE = 16 * 1024;
const ROUNDS = 5;

const TOKEN = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6".slice(0, 36);
const LONG = "pypi-" + "AgEIcHlwaS5vcmcCJGQ2NmM3ZjE0LWE1".repeat(4).slice(0, 114);
const PEM = [
  "-----BEGIN PRIVATE KEY-----",
  ...(Buffer.from("x".repeat(1200))
    .toString("base64")
    .match(/.{1,64}/g) ?? []),
  "-----END PRIVATE KEY-----",
].join("\n");

/** Output like a build's: compiler lines, colours, progress with carriage returns, base64. */
function buildOutput(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    let line: string;
    switch (i % 6) {
      case 0:
        line = `[${i}] CC src/module_${i % 97}.c -o build/module_${i % 97}.o -O2 -Wall`;
        break;
      case 1:
        line = `\u001b[32m✓\u001b[0m test ${i} passes (${i % 13} ms)`;
        break;
      case 2:
        line = `Downloading package-${i % 50}.tar.gz  ${i % 100}%\r100%`;
        break;
      case 3:
        line = Buffer.from(`blob ${i} `.repeat(8)).toString("base64").slice(0, 76);
        break;
      case 4:
        line = `npm http fetch GET 200 https://registry.example.test/pkg-${i % 300} 12ms (cache hit)`;
        break;
      default:
        line =
          i % 600 === 5
            ? `token ${TOKEN} and ${LONG}`
            : `  at Object.<anonymous> (file${i}.js:1:2)`;
    }
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += PIECE) out.push(text.slice(i, i + PIECE));
  return out;
}

/** MB/s of `pass` over all pieces, best of ROUNDS. */
function measure(name: string, input: string[], bytes: number, pass: () => (t: string) => string) {
  let best = Infinity;
  let kept = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const write = pass();
    const start = performance.now();
    for (const piece of input) kept += write(piece).length;
    best = Math.min(best, performance.now() - start);
  }
  const rate = bytes / 2 ** 20 / (best / 1000);
  console.log(`${name.padEnd(34)} ${rate.toFixed(1).padStart(8)} MB/s  (${kept > 0 ? "ok" : "?"})`);
  return rate;
}

const text = buildOutput(MB * 2 ** 20);
const input = pieces(text);
const bytes = Buffer.byteLength(text);
const masker = new SecretMasker([TOKEN, LONG, PEM]);
const shown = masker.write(text) + masker.end();
if (shown.includes(TOKEN) || shown.includes(LONG)) throw new Error("a secret went through");
console.log(`${MB} MiB of build output in ${PIECE / 1024} KiB pieces, best of ${ROUNDS}`);
// The least any sink does with a piece: encode it to UTF-8 for the store.
const plain = measure(
  "pass-through (UTF-8 copy)",
  input,
  bytes,
  () => (t) => Buffer.from(t, "utf8").toString("latin1", 0, 1),
);
const masked = measure("SecretMasker, 3 secrets", input, bytes, () => {
  const m = new SecretMasker([TOKEN, LONG, PEM]);
  return (t) => m.write(t);
});
console.log(`masker / pass-through: ${(masked / plain).toFixed(3)}`);
