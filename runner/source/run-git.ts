import { spawn } from "node:child_process";

/** A git command that failed; its message and stderr hold no secret that was passed in. */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = "GitCommandError";
  }
}

export interface RunGitOptions {
  /** Added to a minimal environment; never to the command line. */
  env?: Record<string, string>;
  /** Strings to cut out of anything reported (tokens and their encodings). */
  secrets?: readonly string[];
  signal?: AbortSignal;
}

/** Replaces every secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}

/**
 * Runs git with no user or system configuration (so no credential helper can store a
 * token) and no terminal prompt; resolves with stdout, throws GitCommandError.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/nonexistent",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LANG: "C",
    LC_ALL: "C",
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    child.on("error", (error) => {
      reject(
        new GitCommandError(
          redact(`git ${args[0] ?? ""} could not run: ${error.message}`, options.secrets),
          "",
          null,
        ),
      );
    });
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      const clean = redact(stderr.trim(), options.secrets);
      reject(
        new GitCommandError(
          redact(`git ${args.join(" ")} failed (exit ${code}): ${clean}`, options.secrets),
          clean,
          code,
        ),
      );
    });
  });
}
