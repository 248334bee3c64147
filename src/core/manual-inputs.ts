/** Most inputs a run by hand takes, and the longest value (as the planning message allows). */
export const MAX_INPUTS = 20;
export const MAX_INPUT_CHARS = 4096;

/** `NAME=value` lines (blank lines skipped) as inputs, or what is wrong with them. */
export function parseInputs(text: string): Record<string, string> | string {
  const inputs: Record<string, string> = {};
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]{0,99})=(.*)$/.exec(line);
    if (!match) return `Input line ${index + 1} is not NAME=value (NAME of letters, digits and _).`;
    const [, name, value] = match as unknown as [string, string, string];
    if (name.startsWith("KOZMIC_")) return `Input ${name}: KOZMIC_ names are Kozmic's own.`;
    // An object key that would set the prototype instead of an input.
    if (name === "__proto__") return "Input __proto__ is not a usable name.";
    if (value.length > MAX_INPUT_CHARS)
      return `Input ${name} is longer than ${MAX_INPUT_CHARS} characters.`;
    if (Object.hasOwn(inputs, name)) return `Input ${name} is given twice.`;
    inputs[name] = value;
  }
  if (Object.keys(inputs).length > MAX_INPUTS) return `At most ${MAX_INPUTS} inputs.`;
  return inputs;
}
