import { userInfo } from "node:os";
import { KozmicError } from "../../core/errors.js";
import { printTable, when } from "../print-table.js";
import { startFailure } from "../start-failure.js";

const USAGE = [
  "usage: kozmic secrets set OWNER/REPO NAME   (the value is read from standard input)",
  "       kozmic secrets rm OWNER/REPO NAME",
  "       kozmic secrets ls OWNER/REPO",
  "       kozmic secrets rotate-key            (re-wrap every data key with the current key)",
].join("\n");

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Standard input whole; one final line break (as `echo` and a terminal's Enter add) is dropped. */
async function readValue(): Promise<string> {
  if (process.stdin.isTTY) {
    // A terminal echoes what is typed: piping the value from a file keeps it off the screen.
    process.stderr.write("value, then Enter and Ctrl-D (or pipe it in from a file): ");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** `kozmic secrets set|rm|ls|rotate-key`: repository secrets, for operators. */
export async function main(args: string[]): Promise<number> {
  const [sub, repo, name, ...extra] = args;
  if (sub === "--help" || sub === "-h") {
    console.log(USAGE);
    return 0;
  }
  const arity = { set: 2, rm: 2, ls: 1, "rotate-key": 0 }[sub ?? ""];
  const given = [repo, name, ...extra].filter((a) => a !== undefined).length;
  if (arity === undefined || given !== arity || (arity > 0 && !REPO.test(repo!))) {
    console.error(USAGE);
    if (sub === "set" && given > 2) {
      console.error(
        "kozmic secrets: a value is never an argument (it would stay in shell history); pipe it in",
      );
    }
    return 2;
  }
  const [{ ENTRY_POINT_GROUPS, readSettings }, { storeFrom }, { openVault, NoSecretsKeyError }] =
    await Promise.all([
      import("../../settings/read-settings.js"),
      import("../../store/open-store.js"),
      import("../../secrets/open-vault.js"),
    ]);
  let settings;
  try {
    settings = readSettings(process.env, ENTRY_POINT_GROUPS.secrets);
  } catch (error) {
    return startFailure("kozmic secrets", error);
  }
  const store = storeFrom(settings.storage);
  try {
    const vault = await openVault(settings.secrets, store);
    if (!vault) throw new NoSecretsKeyError("this host");
    if (sub === "rotate-key") {
      const { rewrapped, current } = await vault.rotate();
      console.log(`re-wrapped ${rewrapped} data keys; ${current} already used the current key`);
      return 0;
    }
    const { findRepositoryAsApp } = await import("../find-repository-as-app.js");
    const found = await findRepositoryAsApp(settings.app, repo!);
    if (sub === "ls") {
      const listed = await vault.list(found.id);
      printTable([
        ["NAME", "UPDATED BY", "UPDATED"],
        ...listed.map((s) => [s.name, s.updatedBy, when(s.updatedAt)]),
      ]);
      return 0;
    }
    if (sub === "rm") {
      if (!(await vault.remove(found.id, name!))) {
        console.error(`kozmic secrets: ${found.fullName} has no secret ${name}`);
        return 1;
      }
      console.log(`removed ${name} from ${found.fullName}`);
      return 0;
    }
    const value = await readValue();
    await vault.set(found.id, name!, value, `operator:${userInfo().username}`);
    console.log(`set ${name} for ${found.fullName}`);
    return 0;
  } catch (error) {
    if (!(error instanceof KozmicError)) throw error;
    console.error(`kozmic secrets: ${error.message}`);
    return error.transient ? 3 : 1;
  } finally {
    await store.close();
  }
}
