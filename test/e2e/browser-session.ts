import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { startWebHarness, type WebHarness } from "../integration/web-harness.js";

/** Where browser tests leave their screenshots. */
export const ARTIFACTS = "test-artifacts";

export interface BrowserSession {
  h: WebHarness;
  browser: TestBrowser;
  page: Page;
}

/** The web harness, headless Chromium and a page, as a browser test file starts them. */
export async function openBrowserSession(
  options: Parameters<typeof startWebHarness>[0] = {},
): Promise<BrowserSession> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const h = await startWebHarness(options);
  const browser = await launchBrowser();
  return { h, browser, page: await browser.context.newPage() };
}

/** Closes what openBrowserSession started (either may be missing after a failed start). */
export async function closeBrowserSession(
  h: WebHarness | undefined,
  browser: TestBrowser | undefined,
): Promise<void> {
  await browser?.close();
  await h?.close();
}
