import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MASK, SecretMasker } from "../../runner/logs/secret-masker.js";
import { recoverable } from "../support/recoverable-secret.js";

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

  describe("encoded forms spread over lines or broken by escapes (issue 25, M1 and L1)", () => {
    // 119 characters, with every kind of character an encoder treats differently.
    const LONG = "ghp_Kz/mic+Tok=en !'()*~é" + "A1b2C3d4E5".repeat(9) + "z".repeat(4);
    assert.equal(LONG.length, 119);

    /** `tool`'s output: base64 wrapped at `width` columns, as GNU base64 (76) or openssl (64). */
    const wrapped = (data: string, width: number) =>
      (
        Buffer.from(data)
          .toString("base64")
          .match(new RegExp(`.{1,${width}}`, "g")) ?? []
      ).join("\n") + "\n";

    it('masks `echo "$TOKEN" | base64` wrapped at 76 and 64 columns, at each alignment, written whole or a character at a time', () => {
      for (const width of [76, 64]) {
        for (const before of ["", "u", "us", "user:"]) {
          const output = wrapped(`${before}${LONG}\n`, width);
          assert.equal(recoverable(output, LONG), true, "the unmasked output gives the value back");
          for (const pieces of [[output], [...output]]) {
            const shown = streamed([LONG], pieces);
            assert.equal(recoverable(shown, LONG), false, `width ${width}, "${before}": ${shown}`);
            // Line breaks stay where they were: the log's lines are not joined.
            assert.equal(shown.split("\n").length, output.split("\n").length);
          }
        }
      }
    });

    it("masks a PEM key piped to base64, and the key itself printed as it is", () => {
      const body = Buffer.from("k".repeat(40) + LONG + "q".repeat(200)).toString("base64");
      const pem = `-----BEGIN PRIVATE KEY-----\n${body.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----`;
      for (const width of [76, 64]) {
        const shown = streamed([pem], [...wrapped(`${pem}\n`, width)]);
        assert.equal(recoverable(shown, pem), false, shown);
      }
      const shown = streamed([pem], [`key:\n${pem}\n`]);
      assert.equal(shown.includes(body.slice(0, 64)), false, shown);
      assert.equal(shown.startsWith("key:\n"), true);
    });

    it("masks the URL forms: lowercase %xx, RFC 3986 with / kept, + for space, encodeURI", () => {
      const upper = encodeURIComponent(LONG);
      const rfc3986 = upper.replace(
        /[!'()*]/g,
        (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
      );
      const forms = {
        lowercase: upper.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
        "RFC 3986, / kept": rfc3986.replace(/%2F/g, "/"),
        "+ for space": upper.replace(/%20/g, "+"),
        "lowercase, + for space, / kept": upper
          .replace(/%20/g, "+")
          .replace(/%2F/g, "/")
          .replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
        encodeURI: encodeURI(LONG),
      };
      for (const [name, form] of Object.entries(forms)) {
        assert.notEqual(form, LONG);
        assert.equal(streamed([LONG], [...`GET /?t=${form} 200\n`]), `GET /?t=${MASK} 200\n`, name);
      }
    });

    it("masks the value inside JSON: escaped slashes, and \\u escapes", () => {
      const json = JSON.stringify({ token: LONG }).replace(/\//g, "\\/");
      assert.equal(json.includes("\\/"), true);
      assert.equal(streamed([LONG], [json + "\n"]), `{"token":"${MASK}"}\n`);
      const ascii = json.replace(/é/g, "\\u00e9");
      assert.equal(streamed([LONG], [...ascii, "\n"]), `{"token":"${MASK}"}\n`);
    });

    it("masks a value with colours inside it, keeping the colour codes", () => {
      const red = "\u001b[31m";
      const reset = "\u001b[0m";
      const coloured = `${LONG.slice(0, 50)}${red}${LONG.slice(50, 90)}${reset}${LONG.slice(90)}`;
      assert.equal(
        streamed([LONG], [...`token ${coloured}\n`]),
        `token ${MASK}${red}${MASK}${reset}${MASK}\n`,
      );
    });

    it("leaves text that is not a secret as it is: wrapped lines, colours, carriage returns", () => {
      const text =
        "x".repeat(76) + "\n" + "y".repeat(64) + "\r\n\u001b[1mbold\u001b[0m 50%\r100%\n";
      assert.equal(streamed([LONG], [text]), text);
      assert.equal(streamed([LONG], [...text]), text);
    });
  });
});
