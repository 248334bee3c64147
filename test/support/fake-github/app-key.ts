import { createSign, generateKeyPairSync } from "node:crypto";

export interface TestAppKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh RSA key pair for a test's GitHub App; never a real key. */
export function generateAppKey(): TestAppKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Signs an app JWT the way GitHub expects (RS256, iss = app id, at most 10 minutes). */
export function signAppJwt(
  appId: number,
  privateKeyPem: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(
    JSON.stringify({ iat: nowSeconds - 30, exp: nowSeconds + 540, iss: appId }),
  ).toString("base64url");
  const signer = createSign("RSA-SHA256");
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${signer.sign(privateKeyPem, "base64url")}`;
}
