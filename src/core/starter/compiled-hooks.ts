import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, present, table, tomlOf, type StarterHook } from "./starter-hook.js";
import { goSeries, rustTag } from "./tool-versions.js";

const WARM_NOTE =
  "compiles the dependencies into a cache kept in the image; the project's own errors show in the build";

/** A Go module's (or go.work workspace's) hook; dependencies compiled into the image's build cache. */
export function goHook(files: ProjectFiles): StarterHook {
  const goMod = files.text("go.mod");
  const workspace = files.has("go.work");
  const modules = workspace
    ? [...(files.text("go.work") ?? "").matchAll(/^\s*(?:use\s+)?(\.[\w./-]*)\s*$/gm)].map((m) =>
        m[1]!.replace(/^\.\/?/, ""),
      )
    : [""];
  const tracked = workspace
    ? [
        ...present(files.has, "go.work", "go.work.sum"),
        ...modules.flatMap((m) => [
          m === "" ? "go.mod" : `${m}/go.mod`,
          m === "" ? "go.sum" : `${m}/go.sum`,
        ]),
      ]
    : present(files.has, "go.mod", "go.sum");
  const firstModule = modules[0] ?? "";
  return {
    image: `golang:${goSeries(goMod ?? files.text(firstModule === "" ? "go.mod" : `${firstModule}/go.mod`), files.textHereOrRoot(".tool-versions"))}`,
    notes: [
      ...CACHE_NOTE,
      "Modules and compiled packages go to the image's GOPATH and build cache.",
    ],
    install: ["go mod download", `# ${WARM_NOTE}.`, "go build ./... || true"],
    tracked: [...new Set([...tracked, ...present(files.has, ".tool-versions")])],
    build: ["go vet ./...", "go test ./..."],
  };
}

/** Cargo's member globs (`crates/*`) of a workspace, each with its Cargo.toml. */
function workspaceManifests(workspace: unknown): string[] {
  const members = table(workspace).members;
  return Array.isArray(members)
    ? members.filter((m) => typeof m === "string").map((m) => `${m}/Cargo.toml`)
    : [];
}

/** A Rust crate's or workspace's hook; crates fetched and dependencies compiled into the image. */
export function rustHook(files: ProjectFiles): StarterHook {
  const { workspace } = tomlOf(files.text("Cargo.toml"));
  const locked = files.has("Cargo.lock") ? " --locked" : "";
  const all = workspace !== undefined ? " --workspace" : "";
  return {
    image: `rust:${rustTag(files.textHereOrRoot("rust-toolchain.toml") ?? files.textHereOrRoot("rust-toolchain"), files.textHereOrRoot(".tool-versions"))}`,
    notes: [
      ...CACHE_NOTE,
      "Crates go to the image's CARGO_HOME; compiled ones to CARGO_TARGET_DIR, outside /kozmic.",
    ],
    env: { CARGO_TARGET_DIR: "/var/tmp/cargo-target", CARGO_INCREMENTAL: "0" },
    install: [
      `cargo fetch${locked}`,
      `# ${WARM_NOTE}.`,
      `cargo test${all}${locked} --no-run || true`,
    ],
    tracked: [
      "Cargo.toml",
      ...present(
        files.has,
        "Cargo.lock",
        "rust-toolchain.toml",
        "rust-toolchain",
        ".tool-versions",
      ),
      ...workspaceManifests(workspace),
    ],
    build: [`cargo test${all}${locked}`],
  };
}
