import { parse as parseToml } from "smol-toml";
import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, present, shellWord, TEST_GROUP, type StarterHook } from "./starter-hook.js";
import { pythonSeries } from "./tool-versions.js";

type Table = Record<string, unknown>;

function tomlOf(text: string | undefined): Table {
  try {
    return text === undefined ? {} : (parseToml(text) as Table);
  } catch {
    return {};
  }
}

const table = (value: unknown): Table =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Table) : {};

/** Keys of a table named like test dependencies, else those whose entries name pytest. */
function testKeys(entries: Table): string[] {
  const named = Object.keys(entries).filter((key) => TEST_GROUP.test(key));
  if (named.length > 0) return named;
  return Object.keys(entries).filter((key) => JSON.stringify(entries[key]).includes("pytest"));
}

/**
 * A Python project's hook: the image from `.python-version`, `.tool-versions` or
 * `requires-python`; the install through the project's own tool (uv, Poetry, Pipenv, else
 * pip) with its test extras, dependency groups and requirements files; pytest as the build.
 */
export function pythonHook(files: ProjectFiles): StarterHook {
  const pyprojectText = files.text("pyproject.toml");
  const pyproject = tomlOf(pyprojectText);
  const project = table(pyproject.project);
  const tool = table(pyproject.tool);
  const poetry = table(tool.poetry);
  const poetryPython = table(poetry.dependencies).python;
  const series = pythonSeries({
    pythonVersion: files.textHereOrRoot(".python-version"),
    toolVersions: files.textHereOrRoot(".tool-versions"),
    requiresPython:
      typeof project["requires-python"] === "string"
        ? project["requires-python"]
        : typeof poetryPython === "string"
          ? poetryPython
          : undefined,
  });
  const image = `python:${series}`;
  const requirements = files.paths
    .filter((p) => /^(?:requirements\/[\w.-]+|[\w.-]*requirements[\w.-]*)\.(?:txt|in)$/.test(p))
    .filter((p) => p.endsWith(".txt"))
    .filter((p) => !/docs?|lint|typing|mypy/i.test(p))
    .sort();
  const isPackage = files.has("setup.py") || "project" in pyproject || "build-system" in pyproject;
  const texts = [
    pyprojectText,
    ...["setup.cfg", "setup.py", "tox.ini", "Pipfile", ...requirements].map((f) => files.text(f)),
  ];
  const mentionsPytest =
    texts.some((t) => t?.includes("pytest")) ||
    files.has("pytest.ini") ||
    files.has("conftest.py") ||
    files.paths.some((p) => /(^|\/)conftest\.py$/.test(p));
  const versionFiles = present(files.has, ".python-version", ".tool-versions");
  const build = ["python -m pytest"];

  if (files.has("uv.lock")) {
    const groups = testKeys(table(pyproject["dependency-groups"])).filter((g) => g !== "dev");
    const flags = ["--locked", "--all-extras", ...groups.map((g) => `--group ${shellWord(g)}`)];
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
        ...(mentionsPytest ? [] : ["uv pip install pytest"]),
      ],
      tracked: ["pyproject.toml", "uv.lock", ...versionFiles],
      build: [`uv sync ${flags.join(" ")}`, "uv run --no-sync python -m pytest"],
    };
  }

  if (files.has("poetry.lock") || "poetry" in tool) {
    const groups = Object.keys(table(poetry.group)).filter((g) => TEST_GROUP.test(g));
    const withGroups = groups.length > 0 ? ` --with ${groups.join(",")}` : "";
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
        ...(mentionsPytest ? [] : ["pip install pytest"]),
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
        ...(mentionsPytest ? [] : ["pip install pytest"]),
      ],
      tracked: present(files.has, "Pipfile", "Pipfile.lock", ...versionFiles),
      build: [...(isPackage ? ["pip install --no-deps ."] : []), ...build],
    };
  }

  const extras = testKeys(table(project["optional-dependencies"]));
  const groups = testKeys(table(pyproject["dependency-groups"]));
  const target = extras.length > 0 ? shellWord(`.[${extras.join(",")}]`) : ".";
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
      ...(groups.length > 0 ? ["pip install --upgrade pip # --group needs pip 25.1"] : []),
      ...(isPackage ? [`pip install ${target}`] : []),
      ...requirements.map((r) => `pip install -r ${shellWord(r)}`),
      ...groups.map((g) => `pip install --group ${shellWord(g)}`),
      ...(mentionsPytest ? [] : ["pip install pytest"]),
    ],
    tracked: [
      ...present(files.has, "pyproject.toml", "setup.py", "setup.cfg"),
      ...requirements,
      ...versionFiles,
    ],
    build: [...(isPackage ? ["pip install --no-deps ."] : []), ...build],
  };
}
