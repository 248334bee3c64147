import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withFunctionUrlAsPublicUrl } from "../../src/github/function-url-public-url.js";
import { readSettings } from "../../src/settings/read-settings.js";

const viaFunctionUrl = (domainName: string) => ({
  rawPath: "/",
  requestContext: { http: { method: "GET" }, domainName },
});
const URL_HOST = "abcdefghij0123456789abcdefghij01.lambda-url.eu-west-1.on.aws";

describe("the webhook function's public URL without a second deploy", () => {
  it("an empty KOZMIC_PUBLIC_URL becomes the function URL the request came through", () => {
    const env = withFunctionUrlAsPublicUrl(
      { APP_ID: "1", KOZMIC_PUBLIC_URL: "" },
      viaFunctionUrl(URL_HOST),
    );
    assert.equal(env.KOZMIC_PUBLIC_URL, `https://${URL_HOST}`);
    // What the pages then link to, as the settings reader gives it.
    assert.equal(
      readSettings({ ...env, PRIVATE_KEY: "k", WEBHOOK_SECRET: "s" }, ["server"]).server.publicUrl,
      `https://${URL_HOST}`,
    );
  });

  it("a KOZMIC_PUBLIC_URL that is set wins (a domain of your own)", () => {
    const env = { KOZMIC_PUBLIC_URL: "https://ci.example.com" };
    assert.equal(withFunctionUrlAsPublicUrl(env, viaFunctionUrl(URL_HOST)), env);
  });

  it("takes only a function URL's host, never another one a request names", () => {
    for (const host of [
      "ci.example.com",
      "x.lambda-url.eu-west-1.on.aws.evil.example",
      `evil/${URL_HOST}`,
      "",
    ]) {
      assert.equal(
        withFunctionUrlAsPublicUrl({}, viaFunctionUrl(host)).KOZMIC_PUBLIC_URL,
        undefined,
        host,
      );
    }
    assert.equal(withFunctionUrlAsPublicUrl({}, { rawPath: "/" }).KOZMIC_PUBLIC_URL, undefined);
  });
});
