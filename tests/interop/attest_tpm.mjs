// AttestationClient.attestTpm (npm @azure/attestation 1.0.0) against a
// running attestd: both legs of the TPM protocol (maa-interface.md §1.3.5)
// in the SDK's wrapped form. attestTpm does no token validation, so the
// report token is verified here with `jose` against the keys the client
// lists with getAttestationSigners().
//
// Environment (set by tests/integration/test_attest_sdk.c):
//   ATTESTD_URL        provider base URL (the expected issuer)
//   TPM_REQUEST_FILE   the second-leg message {"payload": {"request": <JWS>}}, built by
//                      the test from a first leg it ran itself (any leg-1 context works:
//                      contexts are sealed, not stored)
//   NODE_EXTRA_CA_CERTS  attestd's development certificate
import { AttestationClient } from "@azure/attestation";
import { importX509, jwtVerify, decodeProtectedHeader } from "jose";
import { readFileSync } from "node:fs";

const url = process.env.ATTESTD_URL;
const client = new AttestationClient(url);
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

await check("attestTpm leg 1: a challenge and a service context", async () => {
  const reply = JSON.parse(await client.attestTpm(JSON.stringify({ payload: { type: "aikcert" } })));
  ok(reply.payload && typeof reply.payload.challenge === "string", "payload.challenge");
  ok(typeof reply.payload.service_context === "string" && reply.payload.service_context.length > 40, "service_context");
});

await check("attestTpm leg 2: a report token signed by a /certs key", async () => {
  const reply = JSON.parse(await client.attestTpm(readFileSync(process.env.TPM_REQUEST_FILE, "utf8")));
  const jwt = reply.payload && reply.payload.report;
  ok(typeof jwt === "string", "payload.report");
  const { kid, alg } = decodeProtectedHeader(jwt);
  const signers = await client.getAttestationSigners();
  const signer = signers.find((s) => s.keyId === kid);
  ok(signer, "kid " + kid + " is published");
  const key = await importX509(signer.certificates[0], alg);
  const { payload } = await jwtVerify(jwt, key, { issuer: url });
  ok(payload["x-ms-attestation-type"] === "tpm", "x-ms-attestation-type " + payload["x-ms-attestation-type"]);
  ok(payload.cnf && payload.cnf.jwk && payload.cnf.jwk.kty, "cnf.jwk");
  ok(payload.rp_data === "cnBkYXRh", "rp_data");
  ok(payload.exp - payload.iat === 28800, "8 h");
});

await check("attestTpm: the same request again is refused (replay)", async () => {
  try {
    await client.attestTpm(readFileSync(process.env.TPM_REQUEST_FILE, "utf8"));
  } catch (e) {
    ok(e.statusCode === 400 && e.code === "InvalidParameter", `status ${e.statusCode} code ${e.code}`);
    return;
  }
  throw new Error("a replayed request was accepted");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
