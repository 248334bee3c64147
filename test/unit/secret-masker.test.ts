import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MASK, SecretMasker } from "../../runner/logs/secret-masker.js";

const TOKEN = "pypi-AgEIcHlwaS5vcmc/token+value=1";
const KEY = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA1secretline\n-----END KEY-----";

/** What a log keeps of `pieces` written one after another through a masker. */
function streamed(values: string[], pieces: string[]): string {
  const masker = new SecretMasker(values);
  return pieces.map((piece) => masker.write(piece)).join("") + masker.end();
}

describe("secret masker", () => {
  it("masks a value printed whole, and leaves other text as it is", () => {
    assert.equal(
      streamed([TOKEN], [`token is ${TOKEN}, twice: ${TOKEN}\n`]),
      `token is ${MASK}, twice: ${MASK}\n`,
    );
    assert.equal(streamed([TOKEN], ["nothing secret here\n"]), "nothing secret here\n");
  });

  it("masks a value split at every position across two writes, and written a character at a time", () => {
    const line = `export TOKEN=${TOKEN}\n`;
    for (let i = 0; i <= line.length; i += 1) {
      assert.equal(
        streamed([TOKEN], [line.slice(0, i), line.slice(i)]),
        `export TOKEN=${MASK}\n`,
        `split at ${i}`,
      );
    }
    assert.equal(streamed([TOKEN], [...line]), `export TOKEN=${MASK}\n`);
  });

  it("masks the base64 forms: the value alone, and inside longer base64 at each alignment", () => {
    const alone = Buffer.from(TOKEN).toString("base64");
    assert.equal(streamed([TOKEN], [`b64 ${alone}\n`]), `b64 ${MASK}\n`);
    for (const before of ["", "u", "us", "user:"]) {
      // `echo "$TOKEN" | base64`, or a basic-auth header: the value in the middle of base64.
      const encoded = Buffer.from(`${before}${TOKEN}\n`).toString("base64");
      const shown = streamed([TOKEN], [...`Authorization: Basic ${encoded}\n`]);
      assert.match(shown, /\*\*\*/, `prefix "${before}": ${shown}`);
      assert.ok(shown.length < encoded.length, `prefix "${before}": most of it is masked`);
      // What is left cannot give the value back.
      assert.equal(
        Buffer.from(shown.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").includes(TOKEN),
        false,
      );
    }
  });

  it("masks the URL-encoded forms", () => {
    const encoded = encodeURIComponent(TOKEN);
    assert.notEqual(encoded, TOKEN);
    assert.equal(streamed([TOKEN], [`GET /?t=${encoded} 200\n`]), `GET /?t=${MASK} 200\n`);
    const spaced = "pass word with spaces";
    assert.equal(
      streamed([spaced], [`q=${encodeURIComponent(spaced).replace(/%20/g, "+")}\n`]),
      `q=${MASK}\n`,
    );
  });

  it("masks a multi-line value whole and each of its long lines", () => {
    assert.equal(streamed([KEY], [`${KEY}\n`]), `${MASK}\n`);
    assert.equal(streamed([KEY], ["line: MIIEowIBAAKCAQEA1secretline\n"]), `line: ${MASK}\n`);
  });

  it("holds back only what could still become a value, and gives it back at the end", () => {
    const masker = new SecretMasker([TOKEN]);
    assert.equal(masker.write("ends with pypi-AgE"), "ends with ");
    assert.equal(masker.write("X and more"), "pypi-AgEX and more");
    assert.equal(masker.write(" pypi-"), " ");
    assert.equal(masker.end(), "pypi-");
  });

  it("masks an error's message in place", () => {
    const error = new Error(`command failed: curl -u bot:${TOKEN} https://example.test`);
    assert.equal(new SecretMasker([TOKEN]).maskError(error), error);
    assert.equal(error.message, `command failed: curl -u bot:${MASK} https://example.test`);
  });

  it("masks a value padded with white space by its content, and never holds back a line's end", () => {
    const padded = "\n  s3cr3t-padded-value \n";
    const masker = new SecretMasker([padded]);
    assert.equal(masker.write("done\n"), "done\n");
    assert.equal(masker.write("value: s3cr3t-padded-value\n"), `value: ${MASK}\n`);
  });

  it("masks nothing when it has no values", () => {
    const masker = new SecretMasker();
    assert.equal(masker.active, false);
    assert.equal(masker.write("pypi-"), "pypi-");
  });
});
