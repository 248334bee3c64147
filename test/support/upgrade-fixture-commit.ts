import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The commit the upgrade fixtures' messages name (scripts/write-upgrade-fixture.ts): made
 * with a fixed author, date and message, so the compatibility test makes the same sha in
 * the fake GitHub (createGitRepo's identity) and the queued messages can run there.
 */
const hook = {
  name: "test",
  image: "kozmic-test-runner-busybox:1",
  install: "echo installing",
  build: "echo the upgraded Kozmic ran the queued job && cat greeting.txt",
};
export const FIXTURE_COMMIT = {
  hook,
  files: {
    ".github/kozmic.yml": [
      "hooks:",
      `  - name: ${hook.name}`,
      `    image: ${hook.image}`,
      `    install: ${hook.install}`,
      `    build: ${hook.build}`,
      "",
    ].join("\n"),
    "greeting.txt": "hello from the previous release\n",
  },
  message: "Upgrade fixture",
  date: "2026-12-01T00:00:00Z",
};

/**
 * Where the fixtures' messages say the repository is cloned from: a loopback address of its
 * own (any 127/8 address is this machine), which the compatibility test forwards to the
 * fake GitHub it starts on a free port.
 */
export const FIXTURE_GIT_ORIGIN = { host: "127.42.42.42", port: 39_333 };
export const FIXTURE_CLONE_URL = `http://${FIXTURE_GIT_ORIGIN.host}:${FIXTURE_GIT_ORIGIN.port}/acme/upgrade.git`;

/** The sha of FIXTURE_COMMIT as the first commit of a repository. */
export function fixtureCommitSha(): string {
  const work = mkdtempSync(join(tmpdir(), "kozmic-fixture-commit-"));
  try {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Octo Cat",
      GIT_AUTHOR_EMAIL: "octocat@example.com",
      GIT_COMMITTER_NAME: "Octo Cat",
      GIT_COMMITTER_EMAIL: "octocat@example.com",
      GIT_AUTHOR_DATE: FIXTURE_COMMIT.date,
      GIT_COMMITTER_DATE: FIXTURE_COMMIT.date,
      GIT_INDEX_FILE: join(work, "index"),
    };
    const git = (args: string[]) =>
      execFileSync("git", ["--git-dir", join(work, "repo.git"), ...args], {
        env,
        encoding: "utf8",
      }).trim();
    execFileSync("git", ["init", "--quiet", "--bare", join(work, "repo.git")], { env });
    const tree = join(work, "tree");
    for (const [file, content] of Object.entries(FIXTURE_COMMIT.files)) {
      mkdirSync(join(tree, file, ".."), { recursive: true });
      writeFileSync(join(tree, file), content, { mode: 0o644 });
    }
    git(["--work-tree", tree, "add", "--all", "."]);
    return git(["commit-tree", git(["write-tree"]), "-m", FIXTURE_COMMIT.message]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
