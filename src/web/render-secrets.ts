import type { PageContext } from "./render-pages.js";
import { renderLayout } from "./render-pages.js";
import { escapeHtml as e } from "./render-ansi.js";

export interface SecretRow {
  name: string;
  updatedBy: string;
  updatedAt: number;
}

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

/**
 * A repository's secrets for its admins: names, who changed each and when (never a value),
 * a form to set or replace one and a button to remove each. `enabled` false: this Kozmic has
 * no key, and the page says so instead.
 */
export function renderSecretsPage(
  ctx: PageContext & { viewer: NonNullable<PageContext["viewer"]> },
  fullName: string,
  secrets: SecretRow[] | undefined,
): string {
  const base = `/repos/${fullName.split("/").map(encodeURIComponent).join("/")}/secrets`;
  const csrf = `<input type="hidden" name="csrf" value="${e(ctx.viewer.csrf)}">`;
  if (!secrets) {
    return renderLayout(
      ctx,
      `Secrets of ${fullName}`,
      `<h1>Secrets of ${e(fullName)}</h1>
<p>Repository secrets are off on this Kozmic: its operator has set no key (KOZMIC_SECRETS_KEY or KOZMIC_KMS_KEY_ID).</p>`,
    );
  }
  const rows = secrets
    .map(
      (
        s,
      ) => `<tr><td><code>${e(s.name)}</code></td><td>${e(s.updatedBy)}</td><td>${e(when(s.updatedAt))}</td>
<td><form method="post" action="${e(`${base}/${encodeURIComponent(s.name)}/delete`)}" class="inline">${csrf}<button type="submit" aria-label="Remove ${e(s.name)}">Remove</button></form></td></tr>`,
    )
    .join("\n");
  const main = `
<h1>Secrets of ${e(fullName)}</h1>
<p>Hooks receive the secrets they name in <code>secrets:</code> as environment variables and as files under <code>/kozmic/secrets</code>. Pull requests from forks never receive them, and every log shows them as <code>***</code>. A value is never shown again once set.</p>
${
  secrets.length > 0
    ? `<table class="secrets"><thead><tr><th>Name</th><th>Updated by</th><th>Updated</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : "<p>No secrets yet.</p>"
}
<h2>Set a secret</h2>
<form method="post" action="${e(base)}" class="secret-form">${csrf}
<p><label for="secret-name">Name</label> <input id="secret-name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="100" autocomplete="off" spellcheck="false"></p>
<p><label for="secret-value">Value (at least 6 characters)</label><br><textarea id="secret-value" name="value" required minlength="6" rows="4" cols="60" autocomplete="off" spellcheck="false"></textarea></p>
<p><button type="submit">Save secret</button> (a secret of the same name is replaced)</p>
</form>`;
  return renderLayout(ctx, `Secrets of ${fullName}`, main);
}
