import { after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { defineStoreContract } from "./store-contract.js";

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

defineStoreContract("embedded (SQLite)", async (options) => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-store-"));
  dirs.push(dir);
  return openEmbeddedStore({ dataDir: dir, ...options });
});
