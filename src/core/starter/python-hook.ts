import type { ProjectFiles } from "./find-projects.js";
import {
  CACHE_NOTE,
  present,
  shellWord,
  table,
  TEST_GROUP,
  tomlOf,
  type StarterHook,
  type Table,
} from "./starter-hook.js";
import { pythonSeries } from "./tool-versions.js";

/** Keys of a table named like test dependencies, else those whose entries name pytest. */
function testKeys(entries: Table): string[] {
  const named = Object.keys(entries).filter((key) => TEST_GROUP.test(key));
  if (named.length > 0) return named;
  return Object.keys(entries).filter((key) => JSON.stringify(entries[key]).includes("pytest"));
}

const NOT_FOR_TESTS = /docs?|lint|typing|mypy|build|release|publish|upload/i;
const BASE_REQUIREMENTS =
  /^(requirements|requirements\/(base|main|prod|common|runtime|install))\.txt$/;

/**
 * The requirements files a test run needs: the base ones and those named for tests (else
 * for development); docs, lint, typing and release files left out.
 */
function requirementsFiles(files: ProjectFiles): string[] {
  const all = files.paths
    .filter((p) => /^(?:requirements\/[\w.-]+|[\w.-]*requirements[\w.-]*)\.txt$/.test(p))
    .filter((p) => !NOT_FOR_TESTS.test(p.replace(/requirements/g, "")))
    .sort();
  const base = all.filter((p) => BASE_REQUIREMENTS.test(p));
  const tests = all.filter((p) => /test/i.test(p.replace(/requirements/g, "")));
  const dev = all.filter((p) => /dev/i.test(p.replace(/requirements/g, "")));
  const chosen = [...base, ...(tests.length > 0 ? tests : dev)];
  return chosen.length > 0 ? chosen : all;
}

/**
 * Extras of a setuptools project without `[project]`: setup.cfg's `[options.extras_require]`
 * (`tests = pytest, pytest-asyncio` and continuation lines) and setup.py's
 * `extras_require={"tests": [...]}`, as name → requirement text.
 */
function legacyExtras(setupCfg: string | undefined, setupPy: string | undefined): Table {
  const extras: Table = {};
  const section = /^\[options\.extras_require\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(
    setupCfg ?? "",
  );
  let current: string | undefined;
  for (const line of section?.[1]?.split("\n") ?? []) {
    const key = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (key) {
      current = key[1]!;
      extras[current] = key[2]!;
    } else if (current && /^\s+\S/.test(line))
      extras[current] = `${String(extras[current])} ${line.trim()}`;
  }
  const literal = /extras_require\s*=\s*\{([\s\S]*?)\}/.exec(setupPy ?? "")?.[1] ?? "";
  for (const m of literal.matchAll(/["']([\w.-]+)["']\s*:\s*(\[[^\]]*\])/g)) extras[m[1]!] = m[2]!;
  return extras;
}

/**
 * The project's own unittest command from tox.ini's `[testenv]` (`coverage run -m unittest
 * discover {toxinidir}/tests` → `python -m unittest discover tests`), when tox runs no pytest.
 */
function unittestCommand(toxIni: string | undefined): string | undefined {
  if (toxIni === undefined || /pytest/.test(toxIni)) return undefined;
  const args = /-m\s+unittest(\s+discover)?([^\n]*)/.exec(toxIni);
  if (!args) return undefined;
  const rest = (args[2] ?? "")
    .replace(/\{toxinidir\}\/?/g, "")
    .replace(/\{posargs[^}]*\}/g, "")
    .trim();
  return `python -m unittest${args[1] ? " discover" : ""}${rest ? ` ${rest}` : ""}`;
}

/**
 * A Python project's hook: the image from `.python-version`, `.tool-versions` or
 * `requires-python`; the install through the project's own tool (uv, Poetry, Pipenv, else
 * pip) with its test extras, dependency groups and requirements files, and pytest when none
 * of them brings it; pytest as the build.
 */
export function pythonHook(files: ProjectFiles): StarterHook {
  const pyproject = tomlOf(files.text("pyproject.toml"));
  const project = table(pyproject.project);
  const tool = table(pyproject.tool);
  const poetry = table(tool.poetry);
  const poetryPython = table(poetry.dependencies).python;
  const requiresPython = project["requires-python"] ?? poetryPython;
  const image = `python:${pythonSeries({
    pythonVersion:
      files.textHereOrRoot(".python-version") ??
      /^\s*python_version\s*=\s*["']([\d.]+)["']/m.exec(files.text("Pipfile") ?? "")?.[1],
    toolVersions: files.textHereOrRoot(".tool-versions"),
    requiresPython: typeof requiresPython === "string" ? requiresPython : undefined,
  })}`;
  const isPackage = files.has("setup.py") || "project" in pyproject || "build-system" in pyproject;
  const versionFiles = present(files.has, ".python-version", ".tool-versions");
  const extras = {
    ...legacyExtras(files.text("setup.cfg"), files.text("setup.py")),
    ...table(project["optional-dependencies"]),
  };
  const groups = table(pyproject["dependency-groups"]);
  const unittest = unittestCommand(files.text("tox.ini"));
  /** `pip install pytest` unless the tests are unittest's or what the install installs names it. */
  const pytestUnless = (installed: unknown[], command = "pip install pytest") =>
    unittest !== undefined || installed.some((i) => JSON.stringify(i ?? "").includes("pytest"))
      ? []
      : [command];

  const build = [unittest ?? "python -m pytest"];

  if (files.has("uv.lock")) {
    const chosen = testKeys(groups).filter((g) => g !== "dev");
    const flags = ["--locked", "--all-extras", ...chosen.map((g) => `--group ${shellWord(g)}`)];
    return {
      image,
      notes: [
        ...CACHE_NOTE,
        "uv installs the locked dependencies into /opt/venv, outside /kozmic.",
      ],
      env: { UV_PROJECT_ENVIRONMENT: "/opt/venv" },
      install: [
        "pip install uv",
        `uv sync ${flags.join(" ")} --no-install-project`,
        ...pytestUnless(
          [groups.dev, extras, ...chosen.map((g) => groups[g])],
          "uv pip install pytest",
        ),
      ],
      tracked: ["pyproject.toml", "uv.lock", ...versionFiles],
      build: [`uv sync ${flags.join(" ")}`, "uv run --no-sync python -m pytest"],
    };
  }

  if (files.has("poetry.lock") || "poetry" in tool) {
    const poetryGroups = table(poetry.group);
    const chosen = Object.keys(poetryGroups).filter((g) => TEST_GROUP.test(g));
    const withGroups = chosen.length > 0 ? ` --with ${chosen.join(",")}` : "";
    return {
      image,
      notes: [
        ...CACHE_NOTE,
        "Poetry installs into the image's Python (no virtualenv: the container is one).",
      ],
      env: { POETRY_VIRTUALENVS_CREATE: "false" },
      install: [
        "pip install poetry",
        `poetry install --no-interaction --no-root --all-extras${withGroups}`,
        ...(files.has("poetry.lock") ? [] : ["rm -f poetry.lock # resolved here, not kept"]),
        ...pytestUnless([
          poetry["dev-dependencies"],
          poetry.extras,
          extras,
          ...chosen.map((g) => poetryGroups[g]),
        ]),
      ],
      tracked: present(files.has, "pyproject.toml", "poetry.lock", ...versionFiles),
      build: ["pip install --no-deps .", ...build],
    };
  }

  if (files.has("Pipfile")) {
    const locked = files.has("Pipfile.lock");
    return {
      image,
      notes: [...CACHE_NOTE, "Pipenv installs into the image's Python (--system)."],
      install: [
        "pip install pipenv",
        locked
          ? "pipenv install --system --dev --deploy"
          : "pipenv install --system --dev --skip-lock",
        ...pytestUnless([files.text("Pipfile")]),
      ],
      tracked: present(files.has, "Pipfile", "Pipfile.lock", ...versionFiles),
      build: [...(isPackage ? ["pip install --no-deps ."] : []), ...build],
    };
  }

  const requirements = requirementsFiles(files);
  const chosenExtras = testKeys(extras);
  const chosenGroups = testKeys(groups);
  const target = chosenExtras.length > 0 ? shellWord(`.[${chosenExtras.join(",")}]`) : ".";
  return {
    image,
    notes: [
      ...CACHE_NOTE,
      ...(isPackage
        ? [
            "The install puts the project and its test dependencies in the image; the build",
            "installs the project again, at this commit, without its dependencies.",
          ]
        : []),
    ],
    install: [
      ...(chosenGroups.length > 0 ? ["pip install --upgrade pip # --group needs pip 25.1"] : []),
      ...(isPackage ? [`pip install ${target}`] : []),
      ...requirements.map((r) => `pip install -r ${shellWord(r)}`),
      ...chosenGroups.map((g) => `pip install --group ${shellWord(g)}`),
      ...pytestUnless([
        ...requirements.map((r) => files.text(r)),
        ...chosenExtras.map((e) => extras[e]),
        ...chosenGroups.map((g) => groups[g]),
      ]),
    ],
    tracked: [
      ...present(files.has, "pyproject.toml", "setup.py", "setup.cfg"),
      ...requirements,
      ...versionFiles,
    ],
    build: [...(isPackage ? ["pip install --no-deps ."] : []), ...build],
  };
}
