// Independent checks of attestd's published keys and metadata, with the
// official @azure/attestation client (npm 1.0.0) and the `jose` package.
//
// Environment (set by tests/integration/test_interop_certs.c):
//   ATTESTD_URL          base URL of a running attestd (its issuer)
//   ATTESTD_ADMIN        bootstrap administrator credential (bearer for GET /policies)
//   NODE_EXTRA_CA_CERTS  attestd's development certificate
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.

import { AttestationClient } from "@azure/attestation";
import * as jose from "jose";

const url = process.env.ATTESTD_URL;
const admin = process.env.ATTESTD_ADMIN;
let passed = 0;
let failed = 0;

function ok(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log("ok   " + name);
  } catch (e) {
    failed++;
    console.log("FAIL " + name + ": " + (e && e.message ? e.message : e));
  }
}

async function getJson(path, headers = {}) {
  const r = await fetch(url + path, { headers });
  ok(r.status === 200, `${path} answered ${r.status}`);
  ok(/^[0-9a-f-]{36}$/.test(r.headers.get("x-ms-request-id") || ""), `${path} x-ms-request-id`);
  return r.json();
}

const jwks = await getJson("/certs");

await check("/certs has at least one key with kid, x5c and n/e", async () => {
  ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, "keys");
  for (const k of jwks.keys) {
    ok(typeof k.kid === "string" && k.kid.length > 0, "kid");
    ok(Array.isArray(k.x5c) && k.x5c.length >= 1, "x5c");
    ok(k.kty === "RSA" ? k.n && k.e : k.crv && k.x && k.y, "raw key members");
    ok(!("d" in k), "no private member");
  }
});

await check("AttestationClient.getAttestationSigners() reads /certs", async () => {
  const client = new AttestationClient(url);
  const signers = await client.getAttestationSigners();
  ok(signers.length === jwks.keys.length, `signer count ${signers.length} vs ${jwks.keys.length}`);
  for (const s of signers) {
    const k = jwks.keys.find((x) => x.kid === s.keyId);
    ok(k, `signer ${s.keyId} is a /certs kid`);
    ok(s.certificates.length === k.x5c.length, "certificate count");
    const pem = s.certificates[0];
    ok(pem.includes("BEGIN CERTIFICATE"), "certificates come back as PEM");
    ok(pem.replace(/-----[A-Z ]+-----|\s/g, "") === k.x5c[0], "PEM body is the x5c DER");
  }
});

await check("AttestationClient.getOpenIdMetadata() returns the discovery document", async () => {
  const client = new AttestationClient(url);
  const md = await client.getOpenIdMetadata();
  ok(md.issuer === url, `issuer ${md.issuer}`);
  ok(md.jwks_uri === url + "/certs", `jwks_uri ${md.jwks_uri}`);
  ok(md.id_token_signing_alg_values_supported.includes("RS256"), "RS256 listed");
});

await check("each /certs key imports into jose (not x5c-only)", async () => {
  for (const k of jwks.keys) {
    const key = await jose.importJWK(k, "RS256");
    ok(key, "imported");
  }
});

let token = null;
await check("GET /policies/SgxEnclave returns a service-signed JWT", async () => {
  const body = await getJson("/policies/SgxEnclave?api-version=2020-10-01", {
    Authorization: "Bearer " + admin,
  });
  ok(typeof body.token === "string" && body.token.split(".").length === 3, "token");
  token = body.token;
  const header = jose.decodeProtectedHeader(token);
  ok(header.alg === "RS256", `alg ${header.alg}`);
  ok(jwks.keys.some((k) => k.kid === header.kid), "kid is published at /certs");
});

await check("jose verifies the token against the JWKS that /certs serves", async () => {
  ok(token, "token");
  const set = jose.createLocalJWKSet(jwks);
  const { payload } = await jose.jwtVerify(token, set, { issuer: url, algorithms: ["RS256"] });
  ok(typeof payload["x-ms-policy"] === "string", "x-ms-policy present");
  ok(payload.exp > payload.iat, "exp after iat");
});

await check("jose refuses the token with one signature byte changed", async () => {
  ok(token, "token");
  const parts = token.split(".");
  const sig = Buffer.from(parts[2], "base64url");
  sig[sig.length >> 1] ^= 0x01;
  const bad = parts[0] + "." + parts[1] + "." + sig.toString("base64url");
  let refused = false;
  try {
    await jose.jwtVerify(bad, jose.createLocalJWKSet(jwks), { algorithms: ["RS256"] });
  } catch (e) {
    refused = e.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
  }
  ok(refused, "tampered token refused");
});

await check("jose refuses the token against a JWKS without its key", async () => {
  ok(token, "token");
  const { privateKey, publicKey } = await jose.generateKeyPair("RS256");
  void privateKey;
  const other = await jose.exportJWK(publicKey);
  other.kid = jose.decodeProtectedHeader(token).kid;
  let refused = false;
  try {
    await jose.jwtVerify(token, jose.createLocalJWKSet({ keys: [other] }), { algorithms: ["RS256"] });
  } catch (e) {
    refused = true;
  }
  ok(refused, "a different key under the same kid does not verify");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
