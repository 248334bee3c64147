// Writes to the embedded queue and store as fast as it can, printing each acknowledged
// write; the crash test SIGKILLs it mid-write. Usage: crash-writer.ts <dataDir>
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { aBuild, aJob, aJobMessage } from "./job-fixtures.js";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: crash-writer.ts <dataDir>");
const queue = openEmbeddedQueue({ dataDir, name: "crash" });
const store = openEmbeddedStore({ dataDir });
const ack = (line: string) => process.stdout.write(`${line}\n`);

for (let i = 0; ; i++) {
  const message = aJobMessage({ jobId: `job-${i}` });
  await queue.send(message);
  ack(`sent ${i}`);
  await store.appendLog({ jobId: "crash-job", seq: i, data: String(i % 10).repeat(4096) });
  ack(`log ${i}`);
  const build = aBuild({ id: `build-${i}` });
  await store.createBuild(build, [
    aJob(build, { id: `job-${i}-a` }),
    aJob(build, { id: `job-${i}-b` }),
  ]);
  ack(`build ${i}`);
  await store.transitionJob(`job-${i}-a`, ["queued"], { status: "running", phase: "building" });
  ack(`running ${i}`);
}
