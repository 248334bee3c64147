import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrixCombinations } from "../../src/core/config/expand-matrix.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError } from "../../src/core/errors.js";
import { expandMatrix } from "../../src/core/plan-jobs.js";

function problems(...lines: string[]): string[] {
  const text = ["hooks:", "  - name: t", "    build: make", ...lines, ""].join("\n");
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  return [];
}

describe("matrix combinations", () => {
  it("the product in key order, less excludes, plus new includes", () => {
    assert.deepEqual(
      matrixCombinations({
        axes: { a: ["1", "2"], b: ["x", "y"] },
        exclude: [{ a: "2", b: "y" }],
        include: [
          { a: "1", b: "x" },
          { a: "3", b: "z" },
        ],
      }),
      [
        { a: "1", b: "x" },
        { a: "1", b: "y" },
        { a: "2", b: "x" },
        { a: "3", b: "z" },
      ],
    );
    assert.deepEqual(matrixCombinations({ axes: {}, exclude: [], include: [{ k: "v" }] }), [
      { k: "v" },
    ]);
  });

  it("each combination's image, env and name; the hook's own env wins over MATRIX_*", () => {
    const config = parseConfig(
      [
        "hooks:",
        "  - name: t",
        "    image: node:${{matrix.node}}",
        "    build: make",
        "    env: { MATRIX_NODE: mine, LABEL: 'n${{ matrix.node }}' }",
        "    matrix: { node: [20, 22] }",
        "",
      ].join("\n"),
    );
    const jobs = expandMatrix(config.hooks[0]!);
    assert.deepEqual(
      jobs.map((j) => [j.name, j.hook.image, j.hook.env]),
      [
        ["t (node 20)", "node:20", { MATRIX_NODE: "mine", LABEL: "n20" }],
        ["t (node 22)", "node:22", { MATRIX_NODE: "mine", LABEL: "n22" }],
      ],
    );
  });

  it("templates without a matrix, unknown keys, bad images and odd syntax are errors on their line", () => {
    assert.deepEqual(problems("    image: python:${{ matrix.py }}"), [
      '4:12 hook "t": image: ${{ matrix.py }} needs a matrix: the hook has none, found "python:${{ matrix.py }}"',
    ]);
    assert.deepEqual(
      problems("    image: python:${{ matrix.py }}", "    matrix: { python: ['3.12'] }"),
      [
        '4:12 hook "t": image: ${{ matrix.py }} names a key some combination of the matrix lacks, found "python:${{ matrix.py }}"',
      ],
    );
    assert.deepEqual(
      problems("    image: ${{ matrix.img }}", "    matrix: { img: ['Python:3', 'sha256:abc'] }"),
      [
        `4:12 hook "t": image: Docker image names are lowercase (Docker refuses this one): write \`python:3\` (as Python:3), found "\${{ matrix.img }}"`,
      ],
    );
    assert.deepEqual(problems("    image: alpine", "    env: { A: '${{ github.sha }}' }"), [
      '5:15 hook "t": env.A: expected ${{ matrix.KEY }} templates only, found "${{ github.sha }}"',
    ]);
    assert.deepEqual(problems("    image: alpine", "    matrix: { py: ['3', '3'], 9x: [a] }"), [
      `5:25 hook "t": matrix.py[1]: listed twice, found "3"`,
      `5:35 hook "t": matrix.9x: expected a matrix key of letters, digits and '_', not starting with a digit, found a list`,
    ]);
    assert.deepEqual(problems("    image: alpine", "    matrix: { a: [1], exclude: [{ a: 1 }] }"), [
      '5:13 hook "t": matrix: makes no combination, found a mapping',
    ]);
  });
});
