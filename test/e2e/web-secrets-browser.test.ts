import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { assertAccessible, launchBrowser, type TestBrowser } from "../support/browser.js";
import { startWebHarness, type WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession } from "./browser-session.js";

const VALUE = "pypi-AgEIcHlwaS5vcmc-from-the-browser";

let h: WebHarness;
let browser: TestBrowser;
let repoId: number;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startWebHarness({ accessTtlMs: 0 });
  // erin administers octo/vault; alice may push to it, carol may only read it.
  repoId = h.oauth.addRepository("octo/vault", {
    private: true,
    access: { erin: "admin", alice: "write", carol: "read" },
  }).id;
  browser = await launchBrowser();
});
after(() => closeBrowserSession(h, browser));

const SECRETS = "/repos/octo/vault/secrets";

/** A new session signed in as `login` (the fake approves the OAuth flow at once). */
async function signedIn(login: string, path = SECRETS): Promise<Page> {
  await browser.context.clearCookies();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  h.oauth.signInAs = login;
  await page.goto(`${h.url}/login?return_to=${encodeURIComponent(path)}`);
  await page.waitForURL((url) => url.pathname === path);
  return page;
}

const stored = async () => (await h.store.listSecrets(repoId)).map((s) => s.name);

describe("repository secrets page in Chromium", () => {
  it("an admin sets, replaces and removes a secret; the page never shows a value", async () => {
    const page = await signedIn("erin", "/repos/octo/vault");
    // The repository's page links its secrets for admins.
    await page.locator("main a", { hasText: "Secrets" }).click();
    await page.waitForURL((url) => url.pathname === SECRETS);
    assert.equal(await page.locator("h1").innerText(), "Secrets of octo/vault");
    assert.match(await page.locator("main").innerText(), /No secrets yet/);
    await page.locator("#secret-name").fill("PYPI_TOKEN");
    await page.locator("#secret-value").fill(VALUE);
    await page.locator("button", { hasText: "Save secret" }).click();
    await page.locator("table.secrets").waitFor();
    const row = await page.locator("table.secrets tbody tr").innerText();
    assert.match(row, /PYPI_TOKEN\s+erin\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    assert.equal((await page.content()).includes(VALUE), false, "the value is never shown");
    assert.equal(await page.locator("#secret-value").inputValue(), "", "nor kept in the form");
    await assertAccessible(page, "secrets");
    await page.screenshot({ path: `${ARTIFACTS}/web-secrets.png`, fullPage: true });

    const [record] = await h.store.listSecrets(repoId);
    assert.match(record!.sealed, /^v1:/);
    assert.equal(JSON.stringify(record).includes(VALUE), false, "only ciphertext is stored");

    // Too short: refused with the reason, nothing replaced.
    await page.locator("#secret-name").fill("PYPI_TOKEN");
    await page.locator("#secret-value").evaluate((el) => el.removeAttribute("minlength"));
    await page.locator("#secret-value").fill("12345");
    await page.locator("button", { hasText: "Save secret" }).click();
    await page.locator("h1", { hasText: "Bad request" }).waitFor();
    assert.match(await page.locator("main").innerText(), /at least 6 characters/);
    assert.equal((await h.store.listSecrets(repoId))[0]?.sealed, record!.sealed);

    await page.goto(`${h.url}${SECRETS}`);
    await page.locator("button", { hasText: "Remove" }).click();
    await page.locator("main", { hasText: "No secrets yet" }).waitFor();
    assert.deepEqual(await stored(), []);
  });

  it("a user who can push but is not an admin can neither see the page nor post the form", async () => {
    const page = await signedIn("alice", "/repos/octo/vault");
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    assert.equal(
      await page.locator("main a", { hasText: "Secrets" }).count(),
      0,
      "no link for a pusher",
    );
    const shown = await page.goto(`${h.url}${SECRETS}`);
    assert.equal(shown?.status(), 403);
    assert.match(await page.locator("main").innerText(), /alice is not an admin of octo\/vault/);
    const posted = await page.request.post(`${h.url}${SECRETS}`, {
      form: { csrf, name: "PYPI_TOKEN", value: VALUE },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.deepEqual(await stored(), []);
    // A reader, and someone who cannot read the private repository at all.
    const carol = await signedIn("carol", "/repos/octo/vault");
    assert.equal((await carol.goto(`${h.url}${SECRETS}`))?.status(), 403);
    const bob = await signedIn("bob", "/repos/octo/public");
    assert.equal((await bob.goto(`${h.url}${SECRETS}`))?.status(), 404);
  });

  it("refuses a forged CSRF token and one from another session, even from an admin", async () => {
    const alice = await signedIn("alice", "/repos/octo/vault");
    const alicesToken = await alice.locator('input[name="csrf"]').first().inputValue();
    const erin = await signedIn("erin");
    for (const csrf of ["forged", alicesToken, ""]) {
      const posted = await erin.request.post(`${h.url}${SECRETS}`, {
        form: { csrf, name: "DEPLOY_KEY", value: VALUE },
        maxRedirects: 0,
      });
      assert.equal(posted.status(), 403, `csrf "${csrf}"`);
      assert.match(await posted.text(), /CSRF token is missing or belongs to another session/);
    }
    assert.deepEqual(await stored(), []);
    // Signed out: no form is taken at all.
    await browser.context.clearCookies();
    const posted = await browser.context.request.post(`${h.url}${SECRETS}`, {
      form: { csrf: alicesToken, name: "DEPLOY_KEY", value: VALUE },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.deepEqual(await stored(), []);
    assert.deepEqual(h.oauth.violations, [], "every GitHub call matched the OpenAPI description");
  });
});
