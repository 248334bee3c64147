import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { FakeGitHub } from "./fake-github/fake-github.js";
import type { FakeGitHttp } from "./fake-github/git-http.js";

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Octo Cat",
  GIT_AUTHOR_EMAIL: "octocat@example.com",
  GIT_COMMITTER_NAME: "Octo Cat",
  GIT_COMMITTER_EMAIL: "octocat@example.com",
};

function git(gitDir: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync("git", ["--git-dir", gitDir, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...GIT_ENV, ...extraEnv },
    encoding: "utf8",
  }).trim();
}

/** A repository of the fake GitHub with real commits behind its git endpoint. */
export interface GitRepo {
  fullName: string;
  /** The bare repository the fake serves. */
  path: string;
  /**
   * Commits `files` (the whole tree; a value of `{ content, mode }` sets the mode) on
   * `branch` (default main) on top of its current head; returns the commit sha. The fake's
   * contents API serves the same files at that sha.
   */
  commit(
    files: Record<string, string | { content: string; mode: number }>,
    options?: { branch?: string; message?: string; date?: string },
  ): string;
  /** Points `refs/pull/<n>/head` at a commit made with `commit(..., { branch })`. */
  setPullHead(number: number, sha: string): void;
}

/** Creates the bare repository of `fullName` (which the fake must know) and its helper. */
export function createGitRepo(fake: FakeGitHub, http: FakeGitHttp, fullName: string): GitRepo {
  const path = http.pathOf(fullName);
  mkdirSync(dirname(path), { recursive: true });
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", path], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...GIT_ENV },
  });
  return {
    fullName,
    path,
    commit(files, options = {}) {
      const branch = options.branch ?? "main";
      const work = mkdtempSync(join(tmpdir(), "kozmic-git-work-"));
      try {
        const tree = join(work, "tree");
        const contents: Record<string, string> = {};
        for (const [file, value] of Object.entries(files)) {
          const { content, mode } =
            typeof value === "string" ? { content: value, mode: 0o644 } : value;
          mkdirSync(dirname(join(tree, file)), { recursive: true });
          writeFileSync(join(tree, file), content, { mode });
          contents[file] = content;
        }
        mkdirSync(tree, { recursive: true });
        const env = { GIT_INDEX_FILE: join(work, "index") };
        git(path, ["--work-tree", tree, "add", "--all", "."], env);
        const treeId = git(path, ["write-tree"], env);
        let parent: string | undefined;
        try {
          parent = git(path, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]);
        } catch {
          parent = undefined;
        }
        const dated: Record<string, string> = options.date
          ? { GIT_AUTHOR_DATE: options.date, GIT_COMMITTER_DATE: options.date }
          : {};
        const sha = git(
          path,
          [
            "commit-tree",
            treeId,
            ...(parent ? ["-p", parent] : []),
            "-m",
            options.message ?? "Update the widgets",
          ],
          dated,
        );
        git(path, ["update-ref", `refs/heads/${branch}`, sha]);
        fake.addCommit(fullName, sha, contents, branch);
        return sha;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    setPullHead(number, sha) {
      git(path, ["update-ref", `refs/pull/${number}/head`, sha]);
    },
  };
}
