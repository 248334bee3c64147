import type { PageContext } from "./render-pages.js";
import { renderLayout } from "./render-pages.js";
import { markup, join, type Html } from "./html.js";

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
): Html {
  const base = `/repos/${fullName.split("/").map(encodeURIComponent).join("/")}/secrets`;
  const csrf = markup`<input type="hidden" name="csrf" value="${ctx.viewer.csrf}">`;
  if (!secrets) {
    return renderLayout(
      ctx,
      `Secrets of ${fullName}`,
      markup`<h1>Secrets of ${fullName}</h1>
<p>Repository secrets are off on this Kozmic: its operator has set no key (KOZMIC_SECRETS_KEY or KOZMIC_KMS_KEY_ID).</p>`,
    );
  }
  const rows = secrets.map(
    (
      s,
    ) => markup`<tr><td><code>${s.name}</code></td><td>${s.updatedBy}</td><td>${when(s.updatedAt)}</td>
<td><form method="post" action="${`${base}/${encodeURIComponent(s.name)}/delete`}" class="inline">${csrf}<button type="submit" aria-label="Remove ${s.name}">Remove</button></form></td></tr>`,
  );
  const main = markup`
<h1>Secrets of ${fullName}</h1>
<p>Hooks receive the secrets they name in <code>secrets:</code> as environment variables and as files under <code>/kozmic/secrets</code>. Pull requests from forks never receive them, and every log shows them as <code>***</code>. A value is never shown again once set.</p>
${
  secrets.length > 0
    ? markup`<table class="secrets"><thead><tr><th>Name</th><th>Updated by</th><th>Updated</th><th></th></tr></thead>
<tbody>
${join(rows, "\n")}
</tbody></table>`
    : markup`<p>No secrets yet.</p>`
}
<h2>Set a secret</h2>
<form method="post" action="${base}" class="secret-form">${csrf}
<p><label for="secret-name">Name</label> <input id="secret-name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="100" autocomplete="off" spellcheck="false"></p>
<p><label for="secret-value">Value (at least 6 characters)</label><br><textarea id="secret-value" name="value" required minlength="6" rows="4" cols="60" autocomplete="off" spellcheck="false"></textarea></p>
<p><button type="submit">Save secret</button> (a secret of the same name is replaced)</p>
</form>`;
  return renderLayout(ctx, `Secrets of ${fullName}`, main);
}
