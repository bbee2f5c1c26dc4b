// The official @azure/attestation client (npm 1.0.0) attesting against a
// running attestd over HTTPS: real SGX/OE evidence (the recorded requests of
// the SDK's own test suite) or synthetic evidence, tokens validated by the
// client with signature and issuer checks on.
//
// Environment (set by tests/integration/test_attest_sdk.c):
//   ATTESTD_URL        provider base URL (the expected issuer)
//   MODE               "real" (vectors of 2022-01, server clock fixed) or "synthetic"
//   ATTEST_VECTORS     shared/vectors folder (real mode)
//   SYNTH_DIR          folder with quote.bin, report.bin, runtime.bin (synthetic mode)
//   NODE_EXTRA_CA_CERTS  attestd's development certificate
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.

import { AttestationClient } from "@azure/attestation";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

const url = process.env.ATTESTD_URL;
const mode = process.env.MODE || "real";
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

// Expect the call to fail with this HTTP status and MAA error code.
async function refused(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    ok(e.statusCode === status, `status ${e.statusCode} (${e.message}), want ${status}`);
    if (code) ok(e.code === code, `code ${e.code}, want ${code}`);
    return e;
  }
  throw new Error("the call succeeded; it should have been refused");
}

// The client hands measurements back as the bytes of the hex text it received.
const text = (b) => Buffer.from(b).toString("utf8");

// Real evidence carries 2022 timestamps (the server's clock is fixed then),
// so expiry cannot be checked against today's clock; everything else is.
const validation =
  mode === "real"
    ? { validateToken: true, validateExpirationTime: false, validateNotBeforeTime: true, validateIssuer: true, expectedIssuer: url }
    : { validateToken: true, validateExpirationTime: true, validateNotBeforeTime: true, validateIssuer: true, expectedIssuer: url };

const client = new AttestationClient(url, { validationOptions: validation });

function loadEvidence() {
  if (mode === "real") {
    const d = process.env.ATTEST_VECTORS + "/oe/azure-sdk-js-oe-report-00906ed50000-2022-01/";
    return {
      quote: readFileSync(d + "quote.bin"),
      report: readFileSync(d + "report.bin"),
      runtime: readFileSync(d + "runtime_data.bin"),
      mrenclave: "b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2",
      mrsigner: "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa",
    };
  }
  const d = process.env.SYNTH_DIR + "/";
  return {
    quote: readFileSync(d + "quote.bin"),
    report: readFileSync(d + "report.bin"),
    runtime: readFileSync(d + "runtime.bin"),
    mrenclave: readFileSync(d + "mrenclave.txt", "utf8").trim(),
    mrsigner: readFileSync(d + "mrsigner.txt", "utf8").trim(),
  };
}

const ev = loadEvidence();
const isJson = (() => {
  try {
    JSON.parse(ev.runtime.toString("utf8"));
    return true;
  } catch {
    return false;
  }
})();

function checkSgxBody(r, label) {
  const b = r.body;
  ok(r.token.algorithm === "RS256", `${label}: alg ${r.token.algorithm}`);
  ok(typeof r.token.keyId === "string" && r.token.keyId.length > 0, `${label}: kid`);
  ok(r.token.keyUrl === url + "/certs", `${label}: jku ${r.token.keyUrl}`);
  ok(b.issuer === url, `${label}: iss ${b.issuer}`);
  ok(b.verifierType === "sgx", `${label}: x-ms-attestation-type ${b.verifierType}`);
  ok(b.version === "1.0", `${label}: x-ms-ver`);
  ok(text(b.mrEnclave) === ev.mrenclave, `${label}: mrenclave ${text(b.mrEnclave)}`);
  ok(text(b.mrSigner) === ev.mrsigner, `${label}: mrsigner`);
  ok(b.isDebuggable === false, `${label}: debuggable`);
  ok(typeof b.productId === "number" && typeof b.svn === "number", `${label}: product id / svn numbers`);
  ok(b.policyHash && b.policyHash.length === 32, `${label}: policy hash (32 bytes)`);
  ok(b.sgxCollateral && typeof b.sgxCollateral.quotehash === "string", `${label}: sgx collateral`);
  const body = r.token.getBody();
  ok(body["exp"] - body["iat"] === 28800 && body["nbf"] === body["iat"], `${label}: 8 h lifetime`);
  ok(/^[0-9a-f]{64}$/.test(body["jti"]), `${label}: jti`);
  // the default policy's legacy claims (maa-interface.md §2.3, §3.6)
  ok(body["x-ms-policy"] && body["x-ms-policy"]["sgx-mrenclave"] === ev.mrenclave, `${label}: x-ms-policy`);
  ok(body["tee"] === "sgx" && body["sgx-mrsigner"] === ev.mrsigner, `${label}: legacy claims`);
  // a server trusting development roots says so in every token (issue 10)
  ok(body["x-attestd-development"] === (mode === "synthetic" ? true : undefined), `${label}: development claim`);
}

await check("attestSgxEnclave with binary runtime data", async () => {
  const r = await client.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime });
  checkSgxBody(r, "sgx");
  ok(Buffer.from(r.body.enclaveHeldData).equals(ev.runtime), "x-ms-sgx-ehd is the runtime data");
  const quotehash = createHash("sha256").update(ev.quote).digest("hex");
  ok(r.body.sgxCollateral.quotehash === quotehash, "quotehash = SHA-256 of the quote");
  const body = r.token.getBody();
  ok(body["maa-ehd"] === body["x-ms-sgx-ehd"] && body["aas-ehd"] === body["x-ms-sgx-ehd"], "legacy ehd aliases");
});

await check("attestOpenEnclave with binary runtime data", async () => {
  const r = await client.attestOpenEnclave(ev.report, { runTimeData: ev.runtime });
  checkSgxBody(r, "oe");
  const reporthash = createHash("sha256").update(ev.report).digest("hex");
  ok(r.body.sgxCollateral.quotehash === reporthash, "quotehash = SHA-256 of the OE report");
});

if (isJson) {
  await check("attestOpenEnclave with JSON runtime data gives x-ms-runtime", async () => {
    const r = await client.attestOpenEnclave(ev.report, { runTimeJson: ev.runtime });
    checkSgxBody(r, "oe-json");
    ok(isDeepStrictEqual(r.body.runTimeClaims, JSON.parse(ev.runtime.toString("utf8"))), "runtime claims");
    ok(r.body.enclaveHeldData === undefined, "no x-ms-sgx-ehd with JSON data");
  });
}

await check("a second call reuses the signer cache and verifies again", async () => {
  const r = await client.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime });
  checkSgxBody(r, "sgx-again");
});

await check("draft policy: unsigned token with the draft's claims", async () => {
  const draft =
    'version=1.0; authorizationrules { => permit(); }; issuancerules { c:[type=="x-ms-sgx-mrsigner"] => issue(type="draft-signer", value=c.value); };';
  const r = await client.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime, draftPolicyForAttestation: draft });
  ok(r.token.algorithm === "none", "alg none");
  ok(r.body.policyClaims["draft-signer"] === ev.mrsigner, "draft claim issued");
  ok(r.token.getBody()["is-debuggable"] === undefined, "the stored policy did not run");
});

await check("draft policy that denies: 400 PolicyEvaluationError naming the claim", async () => {
  const draft = 'version=1.0; authorizationrules { [type=="x-ms-sgx-svn", value > 100] => permit(); }; issuancerules { };';
  const e = await refused(
    client.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime, draftPolicyForAttestation: draft }),
    400,
    "PolicyEvaluationError"
  );
  ok(/x-ms-sgx-svn/.test(e.message), "message names the claim: " + e.message);
});

await check("draft policy that does not parse: 400 PolicyParsingError", async () => {
  await refused(client.attestSgxEnclave(ev.quote, { draftPolicyForAttestation: "version=1.0; authorizationrules {" }), 400, "PolicyParsingError");
});

await check("runtime data not bound to the quote: 400 InvalidParameter", async () => {
  const e = await refused(client.attestSgxEnclave(ev.quote, { runTimeData: Buffer.from("not the bound data") }), 400, "InvalidParameter");
  ok(/runtime_data/.test(e.message), e.message);
});

await check("altered quote: 400 InvalidParameter from the verifier", async () => {
  const q = Buffer.from(ev.quote);
  q[100] ^= 1; // inside the signed report body
  const e = await refused(client.attestSgxEnclave(q, { runTimeData: ev.runtime }), 400, "InvalidParameter");
  ok(/sgx\./.test(e.message), e.message);
});

await check("issuer validation refuses a wrong expected issuer", async () => {
  const other = new AttestationClient(url, {
    validationOptions: { ...validation, expectedIssuer: "https://not-the-issuer.example" },
  });
  try {
    await other.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime });
  } catch (e) {
    ok(/expected issuer/.test(e.message), e.message);
    return;
  }
  throw new Error("accepted a token from another issuer");
});

await check("getAttestationSigners lists the key that signed the tokens", async () => {
  const r = await client.attestSgxEnclave(ev.quote, { runTimeData: ev.runtime });
  const signers = await client.getAttestationSigners();
  ok(signers.some((s) => s.keyId === r.token.keyId && s.certificates.length >= 1), "kid published at /certs");
});

await check("getOpenIdMetadata names this issuer and its /certs", async () => {
  const m = await client.getOpenIdMetadata();
  ok(m.issuer === url, "issuer " + m.issuer);
  ok(m.jwks_uri === url + "/certs", "jwks_uri " + m.jwks_uri);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
