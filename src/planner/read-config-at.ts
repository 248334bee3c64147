import type { RequestOctokit } from "../checks/checks-reporter.js";
import { CONFIG_PATH } from "../core/config/format-config-issues.js";
import type { ConfigIssue } from "../core/errors.js";

export type ConfigFile =
  | { kind: "missing" }
  | { kind: "text"; text: string }
  /** Present but not readable as a file (a directory, or too large for the contents API). */
  | { kind: "unreadable"; issue: ConfigIssue };

/**
 * Reads `.github/kozmic.yml` at exactly `sha` (never the default branch). 404 means the
 * commit has no such file; any other failure is GitHub's and is thrown.
 */
export async function readConfigAt(
  octokit: RequestOctokit,
  owner: string,
  repo: string,
  sha: string,
): Promise<ConfigFile> {
  let data: unknown;
  try {
    ({ data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path: CONFIG_PATH,
      ref: sha,
    }));
  } catch (error) {
    // A 404 of the installation token (app uninstalled) is not a missing file.
    const url = (error as { request?: { url?: string } }).request?.url ?? "";
    if ((error as { status?: number }).status === 404 && url.includes("/contents/")) {
      return { kind: "missing" };
    }
    throw error;
  }
  const file = data as { type?: string; encoding?: string; content?: string; size?: number };
  if (Array.isArray(data) || file.type !== "file") {
    return unreadable(`${CONFIG_PATH} is a ${file.type ?? "directory"}, not a file`);
  }
  if (file.encoding !== "base64" || typeof file.content !== "string") {
    return unreadable(
      `the file is ${file.size ?? "too many"} bytes, too large to read; keep it under 256 KiB`,
    );
  }
  return { kind: "text", text: Buffer.from(file.content, "base64").toString("utf8") };
}

function unreadable(message: string): ConfigFile {
  return { kind: "unreadable", issue: { message, path: [], line: 1 } };
}
