/** One combination of a matrix: each key's value, in the matrix's key order. */
export type MatrixCombination = Record<string, string>;

/** A hook's `matrix:` after validation: the axes, and the combinations to drop and add. */
export interface MatrixInput {
  axes: Record<string, string[]>;
  exclude: MatrixCombination[];
  include: MatrixCombination[];
}

/** `${{ matrix.python }}`, with or without the spaces. */
const TEMPLATE = /\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Every combination, in order: the product of the axes (the first key varies slowest),
 * less those an `exclude` entry matches (every key it names equal), then each `include`
 * entry not already there. Pure.
 */
export function matrixCombinations(matrix: MatrixInput): MatrixCombination[] {
  let product: MatrixCombination[] = [{}];
  for (const [key, values] of Object.entries(matrix.axes)) {
    product = product.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  if (Object.keys(matrix.axes).length === 0) product = [];
  const kept = product.filter((combo) => !matrix.exclude.some((entry) => matches(combo, entry)));
  for (const entry of matrix.include) {
    if (!kept.some((combo) => sameCombination(combo, entry))) kept.push({ ...entry });
  }
  return kept;
}

/** The check run's name of a combination: `test (python 3.12, db mysql)`. */
export function combinationName(hookName: string, combo: MatrixCombination): string {
  const parts = Object.entries(combo).map(([key, value]) => `${key} ${value}`);
  return parts.length === 0 ? hookName : `${hookName} (${parts.join(", ")})`;
}

/** The environment variable a matrix key is given as: `MATRIX_PYTHON`. */
export function matrixVariable(key: string): string {
  return `MATRIX_${key.toUpperCase()}`;
}

/** The text with each `${{ matrix.KEY }}` replaced by the combination's value. */
export function substituteMatrix(text: string, combo: MatrixCombination): string {
  return text.replace(TEMPLATE, (whole, key: string) => combo[key] ?? whole);
}

/** The matrix keys a text's templates name, and whether it has `${{` that is not one. */
export function templateKeys(text: string): { keys: string[]; malformed: boolean } {
  const keys = [...text.matchAll(TEMPLATE)].map((m) => m[1]!);
  const malformed = text.replace(TEMPLATE, "").includes("${{");
  return { keys, malformed };
}

function matches(combo: MatrixCombination, entry: MatrixCombination): boolean {
  return Object.entries(entry).every(([key, value]) => combo[key] === value);
}

function sameCombination(a: MatrixCombination, b: MatrixCombination): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && matches(a, b);
}
