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
 * Scripts run as the image's `kozmic` user when it has one, else as the image's default
 * user (`USER` of the image: a name or uid, optionally `:group`), and `/kozmic` belongs to
 * that user so the scripts can write their checkout. Pure: the caller reads /etc/passwd.
 */
export function resolveScriptUser(
  passwd: string | undefined,
  imageUser: string | undefined,
): ScriptUser {
  const entries = parsePasswd(passwd);
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
