import { test } from "node:test";
import assert from "node:assert/strict";
import { pickSeries } from "../../src/core/starter/version-range.js";
import {
  goSeries,
  javaRelease,
  nodeSeries,
  phpSeries,
  pythonSeries,
  rubySeries,
  rustTag,
} from "../../src/core/starter/tool-versions.js";

const PY = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"];

test("PEP 440, npm, Poetry and Composer ranges pick the preferred series, else the newest allowed", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "3.13"],
    [">=3.9", "3.13"],
    [">=3.14", "3.14"],
    [">= 3.9, <3.13", "3.12"],
    ["<3.12,>=3.8", "3.11"],
    ["~=3.10", "3.13"],
    ["~=3.10.2", "3.10"],
    ["==3.11.*", "3.11"],
    ["^3.9", "3.13"],
    [">3.9,!=3.13.1", "3.13"],
    ["not a range", "3.13"],
  ];
  for (const [constraint, series] of cases)
    assert.equal(pickSeries(constraint, PY, "3.13"), series, String(constraint));
  const NODE = ["18", "20", "22", "24"];
  assert.equal(pickSeries(">=18", NODE, "22"), "22");
  assert.equal(pickSeries("^18.17.0", NODE, "22"), "18");
  assert.equal(pickSeries("18.x || 20.x", NODE, "22"), "20");
  assert.equal(pickSeries(">=20 <22", NODE, "22"), "20");
  assert.equal(pickSeries("18 - 20", NODE, "22"), "20");
  assert.equal(pickSeries(">=24.0.0", NODE, "22"), "24");
  assert.equal(pickSeries("^7.4 || ^8.1", ["7.4", "8.0", "8.1", "8.4"], "8.4"), "8.4");
  assert.equal(pickSeries("~8.2.0", ["7.4", "8.2", "8.4"], "8.4"), "8.2");
});

test("version files win over ranges, as the project pins them", () => {
  assert.equal(pythonSeries({ pythonVersion: "3.12.4\n", requiresPython: ">=3.13" }), "3.12");
  assert.equal(pythonSeries({ toolVersions: "nodejs 20.1.0\npython 3.11.9\n" }), "3.11");
  assert.equal(pythonSeries({ requiresPython: ">=3.13" }), "3.13");
  assert.equal(nodeSeries({ nvmrc: "18\n" }), "18");
  assert.equal(nodeSeries({ nvmrc: "v20.11.1" }), "20");
  assert.equal(nodeSeries({ nvmrc: "lts/iron" }), "20");
  assert.equal(nodeSeries({ engines: ">=20 <21" }), "20");
  assert.equal(goSeries("module x\n\ngo 1.25.1\n"), "1.25");
  assert.equal(goSeries("module x\n\ngo 1.22\n\ntoolchain go1.23.4\n"), "1.23");
  assert.equal(goSeries("module x\n\ngo 1.16\n"), "1.24");
  assert.equal(rustTag('[toolchain]\nchannel = "1.80.0"\n'), "1.80");
  assert.equal(rustTag('[toolchain]\nchannel = "stable"\n'), "1");
  assert.equal(rustTag("1.79\n"), "1.79");
  assert.equal(rustTag(undefined), "1");
  assert.equal(rubySeries({ rubyVersion: "ruby-3.2.2\n" }), "3.2");
  assert.equal(rubySeries({ gemfile: 'source "https://rubygems.org"\nruby "~> 3.1.0"\n' }), "3.1");
  assert.equal(phpSeries("^8.1"), "8.4");
  assert.equal(phpSeries(">=7.4 <8.1"), "8.0");
  assert.equal(javaRelease("<maven.compiler.release>17</maven.compiler.release>"), "17");
  assert.equal(javaRelease("<maven.compiler.source>1.8</maven.compiler.source>"), "8");
  assert.equal(javaRelease("<java.version>11</java.version>"), "11");
  assert.equal(
    javaRelease("java { toolchain { languageVersion = JavaLanguageVersion.of(19) } }"),
    "21",
  );
  assert.equal(javaRelease("sourceCompatibility = JavaVersion.VERSION_17"), "17");
  assert.equal(javaRelease("kotlin { jvmToolchain(17) }"), "17");
  assert.equal(javaRelease(undefined), "21");
});
