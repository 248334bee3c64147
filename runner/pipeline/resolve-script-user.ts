import { PermanentError } from "../../src/core/errors.js";

/** The numeric owner of `/kozmic` and the user the scripts run as. */
export interface ScriptUser {
  /** Passed to Docker as the container's user; undefined keeps the image's default. */
  user?: string;
  uid: number;
  gid: number;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

function parsePasswd(passwd: string | undefined): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of (passwd ?? "").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name && uid && gid && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      entries.push({ name, uid: Number(uid), gid: Number(gid) });
    }
  }
  return entries;
}

/**
 * The hook's `user:` when it needs no look-up in the image: `root` or `uid:gid`.
 * Undefined when /etc/passwd must be read.
 */
export function scriptUserWithoutPasswd(hookUser: string | undefined): ScriptUser | undefined {
  if (hookUser === "root") return { user: "0:0", uid: 0, gid: 0 };
  const numeric = /^(\d+):(\d+)$/.exec(hookUser ?? "");
  if (numeric) return { user: hookUser, uid: Number(numeric[1]), gid: Number(numeric[2]) };
  return undefined;
}

/**
 * Scripts run as the hook's `user:` when set, else the image's `kozmic` user when it has
 * one, else the image's default user (`USER` of the image: a name or uid, optionally
 * `:group`), and `/kozmic` belongs to that user so the scripts can write their checkout.
 * Pure: the caller reads /etc/passwd.
 */
export function resolveScriptUser(
  passwd: string | undefined,
  imageUser: string | undefined,
  hookUser?: string,
): ScriptUser {
  const entries = parsePasswd(passwd);
  const fixed = scriptUserWithoutPasswd(hookUser);
  if (fixed) return fixed;
  if (hookUser !== undefined) {
    if (/^\d+$/.test(hookUser)) {
      const uid = Number(hookUser);
      const gid = entries.find((e) => e.uid === uid)?.gid ?? uid;
      return { user: `${uid}:${gid}`, uid, gid };
    }
    const named = entries.find((e) => e.name === hookUser);
    if (!named) {
      throw new PermanentError(
        `user: ${hookUser} is not a user of the image (not in its /etc/passwd); ` +
          "name one it has, or give a numeric uid[:gid]",
      );
    }
    return { user: named.name, uid: named.uid, gid: named.gid };
  }
  const kozmic = entries.find((e) => e.name === "kozmic");
  if (kozmic) return { user: "kozmic", uid: kozmic.uid, gid: kozmic.gid };
  const [userPart, groupPart] = (imageUser ?? "").split(":");
  if (!userPart) return { uid: 0, gid: 0 };
  const entry = /^\d+$/.test(userPart)
    ? entries.find((e) => e.uid === Number(userPart))
    : entries.find((e) => e.name === userPart);
  const uid = entry?.uid ?? (/^\d+$/.test(userPart) ? Number(userPart) : 0);
  const gid = groupPart && /^\d+$/.test(groupPart) ? Number(groupPart) : (entry?.gid ?? uid);
  return { uid, gid };
}
