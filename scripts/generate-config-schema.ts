// Writes schema/kozmic.schema.json from the zod schema; `npm run schema` after changing it.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderConfigJsonSchema } from "../src/core/config/render-config-json-schema.js";

const target = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "../schema/kozmic.schema.json",
);
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, renderConfigJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
