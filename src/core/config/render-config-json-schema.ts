import * as z from "zod";
import { configSchema } from "./schema.js";

export const CONFIG_SCHEMA_ID = "kozmic.schema.json";

/** The JSON Schema editors use for `.github/kozmic.yml`, as the text of the committed file. */
export function renderConfigJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" });
  const { $schema, ...rest } = schema;
  const document = {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: "Kozmic configuration (.github/kozmic.yml)",
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
