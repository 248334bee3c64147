import type { Context } from "probot";
import type { AppDeps } from "./app-deps.js";

type ShortRepository = { id: number; full_name: string; private: boolean };

const toRecord = (repos: readonly ShortRepository[]) =>
  repos.map((r) => ({ id: r.id, fullName: r.full_name, private: r.private }));

function accountOf(installation: { account?: unknown }): string {
  const account = installation.account as { login?: string; slug?: string } | null | undefined;
  return account?.login ?? account?.slug ?? "unknown";
}

/** Keeps the store's record of an installation and its repositories in step with GitHub. */
export async function handleInstallation(
  payload: Context<"installation">["payload"],
  deps: AppDeps,
): Promise<{ outcome: "stored" | "deleted" | "ignored" }> {
  const id = payload.installation.id;
  if (payload.action === "deleted" || payload.action === "suspend") {
    await deps.store.deleteInstallation(id);
    return { outcome: "deleted" };
  }
  if (payload.action === "created" || payload.action === "unsuspend") {
    await deps.store.putInstallation({
      id,
      account: accountOf(payload.installation),
      updatedAt: deps.now(),
      ...(payload.repositories ? { repositories: toRecord(payload.repositories) } : {}),
    });
    return { outcome: "stored" };
  }
  return { outcome: "ignored" };
}

export async function handleInstallationRepositories(
  payload: Context<"installation_repositories">["payload"],
  deps: AppDeps,
): Promise<{ outcome: "stored" }> {
  const id = payload.installation.id;
  const known = await deps.store.getInstallation(id);
  const removed = new Set(payload.repositories_removed.map((r) => r.id));
  const kept = (known?.repositories ?? []).filter((r) => !removed.has(r.id));
  const added = toRecord(payload.repositories_added).filter(
    (r) => !kept.some((k) => k.id === r.id),
  );
  await deps.store.putInstallation({
    id,
    account: known?.account ?? accountOf(payload.installation),
    repositories: [...kept, ...added],
    updatedAt: deps.now(),
  });
  return { outcome: "stored" };
}
