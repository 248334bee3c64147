import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { assertAccessible, type TestBrowser } from "../support/browser.js";
import type { WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";

let h: WebHarness;
let browser: TestBrowser;
let page: Page;
before(async () => ({ h, browser, page } = await openBrowserSession()));
after(() => closeBrowserSession(h, browser));

describe("the home page", () => {
  it("asks an anonymous visitor to sign in", async () => {
    await page.goto(`${h.url}/`);
    assert.match(
      await page.locator("main").innerText(),
      /Sign in with GitHub to see the repositories/,
    );
    await assertAccessible(page, "anonymous home");
  });

  it("has an icon, and the brand leads home from any page", async () => {
    await page.goto(`${h.url}/jobs/00000000-0000-0000-0000-000000000000`);
    await page.locator("header.top a.brand").click();
    assert.equal(new URL(page.url()).pathname, "/");
    const href = await page.locator('link[rel="icon"]').getAttribute("href");
    assert.equal(href, "/assets/favicon.svg");
    const icon = await page.request.get(`${h.url}${href}`);
    assert.equal(icon.status(), 200);
    assert.equal(icon.headers()["content-type"], "image/svg+xml");
    assert.match(await icon.text(), /^<svg /);
  });

  it("lists a signed-in user's repositories with their last build, and a starter config where none is", async () => {
    h.oauth.repositories.get("octo/public")!.installationId = 9;
    const fresh = h.oauth.addRepository("octo/api", { private: true, access: { alice: "write" } });
    fresh.installationId = 9;
    fresh.files.set("requirements.txt", "flask==3.0\n");
    fresh.files.set("app.py", "print('hi')\n");
    fresh.files.set("web/package.json", JSON.stringify({ scripts: { test: "vitest run" } }));
    const configured = h.oauth.addRepository("octo/ready", {
      private: false,
      access: { alice: "read" },
    });
    configured.installationId = 9;
    configured.files.set(".github/kozmic.yml", "hooks: []\n");
    h.oauth.addRepository("octo/elsewhere", {
      private: false,
      access: { bob: "write" },
    }).installationId = 9;
    const { build } = await h.addJob({
      repo: "octo/public",
      job: { status: "completed", conclusion: "failure", exitCode: 1 },
    });

    h.oauth.signInAs = "alice";
    await page.goto(`${h.url}/`);
    await page.locator("main a", { hasText: "Sign in with GitHub" }).click();
    await page.locator("h1", { hasText: "Your repositories" }).waitFor();
    const items = await page.locator("ul.repositories > li").allInnerTexts();
    assert.equal(items.length, 3, items.join("\n"));
    assert.match(items[0]!, /^octo\/api private: no \.github\/kozmic\.yml yet\./);
    assert.match(items[1]!, /^octo\/public: failing c0ffee1 on main, push by octocat/);
    assert.match(items[2]!, /^octo\/ready: has \.github\/kozmic\.yml; no build yet/);
    assert.equal(
      await page.locator("ul.repositories a", { hasText: "failing" }).getAttribute("href"),
      `/builds/${build.id}`,
    );

    await page
      .getByText(
        "A starter configuration (Python, from requirements.txt; Node.js, from web/package.json)",
      )
      .click();
    const starter = await page.locator("pre.starter").innerText();
    assert.equal(parseConfig(starter).hooks[0]?.image, "python:3.13");
    assert.match(starter, /pip install -r requirements\.txt/);
    assert.deepEqual(
      parseConfig(starter).hooks.map((hook) => [hook.name, hook.image]),
      [
        ["test python", "python:3.13"],
        ["test web", "node:22"],
      ],
    );
    await assertAccessible(page, "signed-in home");
    await page.screenshot({ path: `${ARTIFACTS}/web-home.png`, fullPage: true });
    assert.deepEqual(h.oauth.violations, []);
  });
});
