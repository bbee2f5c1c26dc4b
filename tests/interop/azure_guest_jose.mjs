// The client side of Azure guest attestation (maa-interface.md §1.3.6),
// written independently of attestd's C unseal: a VM received the sealed
// AzureGuest answer of a real attestd; its TPM (swtpm) unwrapped the inner
// key with TPM2_RSA_Decrypt (OAEP SHA-256). Here node's own AES-256-GCM
// (additional data "Transport Key") opens the envelope, and `jose` verifies
// the JWT against the keys attestd publishes at /certs. Tampered envelopes
// must not open.
//
// Environment (set by tests/unit/evidence/test_azure_guest_swtpm.c):
//   ATTESTD_URL     provider base URL (the expected issuer)
//   SEALED_FILE     the "token" member of attestd's answer
//   INNER_KEY_FILE  the inner key as the TPM unwrapped it (raw bytes)
//   C_JWT_FILE      the JWT as attestd's own C unseal read it (must agree)
//   ENC_N           base64url modulus of the TPM-held EncKeyPub
//   NODE_EXTRA_CA_CERTS  attestd's development certificate
import { importX509, jwtVerify, decodeProtectedHeader } from "jose";
import { createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

const url = process.env.ATTESTD_URL;
const sealed = readFileSync(process.env.SEALED_FILE, "utf8").trim();
const innerKey = readFileSync(process.env.INNER_KEY_FILE);
let passed = 0;
let failed = 0;

function ok(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log("PASS " + name);
  } catch (e) {
    failed++;
    console.log("FAIL " + name + ": " + (e && e.stack ? e.stack : e));
  }
}

function envelope(text) {
  const env = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  for (const m of ["EncryptedInnerKey", "AuthenticationData", "Jwt"])
    ok(typeof env[m] === "string" && env[m].length > 0, "member " + m);
  ok(env.EncryptionParams && typeof env.EncryptionParams.Iv === "string", "EncryptionParams.Iv");
  return env;
}

function reseal(env) {
  return Buffer.from(JSON.stringify(env), "utf8").toString("base64url");
}

// AES-256-GCM open of the Jwt member; throws when anything was altered.
function open(text, key, aad = "Transport Key") {
  const env = envelope(text);
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(env.EncryptionParams.Iv, "base64"), {
    authTagLength: 16,
  });
  d.setAAD(Buffer.from(aad, "ascii"));
  d.setAuthTag(Buffer.from(env.AuthenticationData, "base64"));
  return Buffer.concat([d.update(Buffer.from(env.Jwt, "base64")), d.final()]).toString("utf8");
}

// One bit of a standard-base64 member flipped (decoded, flipped, re-encoded).
function flipped(text, get, set, bit = 0) {
  const env = envelope(text);
  const b = Buffer.from(get(env), "base64");
  b[bit >> 3] ^= 1 << (bit & 7);
  set(env, b.toString("base64"));
  return reseal(env);
}

function refused(fn) {
  try {
    fn();
  } catch (e) {
    return true;
  }
  return false;
}

let jwt;

await check("the sealed answer is the documented envelope, its inner key sized for AES-256", async () => {
  const env = envelope(sealed);
  ok(innerKey.length === 32, "inner key of " + innerKey.length + " bytes");
  ok(Buffer.from(env.EncryptionParams.Iv, "base64").length === 12, "96-bit IV");
  ok(Buffer.from(env.AuthenticationData, "base64").length === 16, "128-bit tag");
  ok(Buffer.from(env.EncryptedInnerKey, "base64").length === 256, "wrapped to a 2048-bit key");
});

await check("node's AES-GCM opens it with the TPM-unwrapped key, as attestd's C unseal does", async () => {
  jwt = open(sealed, innerKey);
  ok(jwt === readFileSync(process.env.C_JWT_FILE, "utf8").trim(), "same JWT");
  ok(jwt.split(".").length === 3, "a compact JWS");
});

await check("jose verifies the JWT with a key attestd publishes at /certs", async () => {
  const { kid, alg, jku } = decodeProtectedHeader(jwt);
  ok(alg === "RS256", "alg " + alg);
  ok(jku === url + "/certs", "jku " + jku);
  const res = await fetch(url + "/certs");
  ok(res.status === 200, "/certs status " + res.status);
  const jwk = (await res.json()).keys.find((k) => k.kid === kid);
  ok(jwk && Array.isArray(jwk.x5c), "kid " + kid + " is published with x5c");
  const pem = "-----BEGIN CERTIFICATE-----\n" + jwk.x5c[0] + "\n-----END CERTIFICATE-----\n";
  const { payload } = await jwtVerify(jwt, await importX509(pem, alg), { issuer: url });
  ok(payload["x-ms-attestation-type"] === "azurevm", "x-ms-attestation-type");
  ok(payload.secureboot === true, "secureboot");
  const k = payload["x-ms-runtime"].keys[0];
  ok(k.kid === "TpmEphemeralEncryptionKey" && k.kty === "RSA", "runtime key " + k.kid);
  ok(k.n === process.env.ENC_N, "the token names the TPM key it was sealed to");
  const tee = payload["x-ms-isolation-tee"];
  ok(tee && tee["x-ms-attestation-type"] === "sevsnpvm", "x-ms-isolation-tee");
  ok(tee["x-ms-runtime"].keys[0].kid === "HCLAkPub", "HCL runtime keys");
  ok(payload.exp > Date.now() / 1000, "not expired");
  // The boot claims of the verified log reach the signed token (its SIPA boundary is clean;
  // its synthetic db is measured under the wrong GUID, so it cannot have been validated).
  ok(payload["x-ms-azurevm-debuggersdisabled"] === true, "debuggersdisabled");
  ok(payload["x-ms-azurevm-signingdisabled"] === true, "signingdisabled");
  ok(payload["x-ms-azurevm-hvci-policy"] === 0, "hvci-policy");
  ok(payload["x-ms-azurevm-dbvalidated"] === false, "dbvalidated");
});

await check("a JWT altered after signing fails jose", async () => {
  const [h, p, s] = jwt.split(".");
  const body = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  body.secureboot = false;
  const forged = [h, Buffer.from(JSON.stringify(body)).toString("base64url"), s].join(".");
  const { kid } = decodeProtectedHeader(jwt);
  const jwk = (await (await fetch(url + "/certs")).json()).keys.find((k) => k.kid === kid);
  const key = await importX509("-----BEGIN CERTIFICATE-----\n" + jwk.x5c[0] + "\n-----END CERTIFICATE-----\n", "RS256");
  let threw = false;
  try {
    await jwtVerify(forged, key, { issuer: url });
  } catch (e) {
    threw = e.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
  }
  ok(threw, "signature verification failed");
});

await check("tampered envelopes do not open on the client", async () => {
  const jwtMember = [(e) => e.Jwt, (e, v) => (e.Jwt = v)];
  const tag = [(e) => e.AuthenticationData, (e, v) => (e.AuthenticationData = v)];
  const iv = [(e) => e.EncryptionParams.Iv, (e, v) => (e.EncryptionParams.Iv = v)];
  const cases = {
    "ciphertext bit 0": flipped(sealed, ...jwtMember, 0),
    "ciphertext last bit": flipped(sealed, ...jwtMember, Buffer.from(envelope(sealed).Jwt, "base64").length * 8 - 1),
    "tag bit 5": flipped(sealed, ...tag, 5),
    "IV bit 9": flipped(sealed, ...iv, 9),
  };
  for (const [what, text] of Object.entries(cases)) ok(refused(() => open(text, innerKey)), what + " refused");
  const env = envelope(sealed);
  env.Jwt = Buffer.from(env.Jwt, "base64").subarray(0, 40).toString("base64");
  ok(refused(() => open(reseal(env), innerKey)), "truncated ciphertext refused");
  ok(refused(() => open(sealed, innerKey, "Transport Kez")), "other additional data refused");
  ok(refused(() => open(sealed, randomBytes(32))), "another key refused");
  ok(open(sealed, innerKey) === jwt, "the untouched envelope still opens");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
