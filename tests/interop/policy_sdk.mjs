// The official @azure/attestation AttestationAdministrationClient (npm
// 1.0.0) managing policies and policy signers of a running attestd over
// HTTPS, with every result token validated by the client.
//
// Environment (set by tests/integration/test_policy_api_sdk.c):
//   AAD_URL       base URL of an AAD-mode provider (unsigned or signed policies)
//   ISO_URL       base URL of an isolated provider created with SIGNER1 as its only signer
//   ADMIN_TOKEN   bearer credential with contributor rights on both
//   SIGNER1_KEY, SIGNER1_CERT   PEM files: the isolated provider's first signer
//   SIGNER2_KEY, SIGNER2_CERT   PEM files: a second signer, added and removed here
//   ROGUE_KEY, ROGUE_CERT       PEM files: a signer nobody trusts
//   NODE_EXTRA_CA_CERTS          attestd's development certificate
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.

import { AttestationAdministrationClient } from "@azure/attestation";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

const aadUrl = process.env.AAD_URL;
const isoUrl = process.env.ISO_URL;
const credential = {
  getToken: async () => ({ token: process.env.ADMIN_TOKEN, expiresOnTimestamp: Date.now() + 3600e3 }),
};
const pem = (name) => readFileSync(process.env[name], "utf8");
const signer1 = { privateKey: pem("SIGNER1_KEY"), certificate: pem("SIGNER1_CERT") };
const signer2 = { privateKey: pem("SIGNER2_KEY"), certificate: pem("SIGNER2_CERT") };
const rogue = { privateKey: pem("ROGUE_KEY"), certificate: pem("ROGUE_CERT") };

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

const validation = (url) => ({
  validateToken: true,
  validateExpirationTime: true,
  validateNotBeforeTime: true,
  validateIssuer: true,
  expectedIssuer: url,
});
const aad = new AttestationAdministrationClient(aadUrl, credential, { validationOptions: validation(aadUrl) });
const iso = new AttestationAdministrationClient(isoUrl, credential, { validationOptions: validation(isoUrl) });

const policyA = 'version=1.0; authorizationrules { => permit(); }; issuancerules { => issue(type="policy-a", value=true); };';
const policyB =
  'version=1.1; configurationrules { }; authorizationrules { [type=="x-ms-sgx-is-debuggable", value==false] => permit(); }; issuancerules { };';
const certDer = (p) =>
  Buffer.from(
    p.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, ""),
    "base64"
  );
const thumbprint = (p) => createHash("sha1").update(certDer(p)).digest("hex").toUpperCase();

// ---- AAD mode ---------------------------------------------------------------

await check("getPolicy returns the default SGX policy", async () => {
  const r = await aad.getPolicy("SgxEnclave");
  ok(/version\s*=\s*1\.\d/.test(r.body) && /sgx-mrenclave/.test(r.body), "default policy text: " + r.body);
});

await check("setPolicy unsigned: Updated, with the hash of the JWS sent", async () => {
  const r = await aad.setPolicy("SgxEnclave", policyA);
  ok(r.body.policyResolution === "Updated", "resolution " + r.body.policyResolution);
  ok(r.body.policyTokenHash && r.body.policyTokenHash.length === 32, "x-ms-policy-token-hash (32 bytes)");
  ok(r.body.policySigner === undefined, "no signer for an unsigned policy");
  const unsignedJws =
    Buffer.from('{"alg":"none"}').toString("base64url") +
    "." +
    Buffer.from(JSON.stringify({ AttestationPolicy: Buffer.from(policyA).toString("base64url") })).toString("base64url") +
    ".";
  const want = createHash("sha256").update(unsignedJws).digest();
  ok(Buffer.from(r.body.policyTokenHash).equals(want), "token hash = SHA-256 of the submitted JWS");
});

await check("getPolicy returns what was set", async () => {
  const r = await aad.getPolicy("SgxEnclave");
  ok(r.body === policyA, "policy text: " + r.body);
});

await check("setPolicy with a syntax error: 400 PolicyParsingError", async () => {
  await refused(aad.setPolicy("SgxEnclave", "version=1.0; authorizationrules { => permit() }"), 400, "PolicyParsingError");
});

await check("setPolicy signed on an AAD provider: Updated, signer reported", async () => {
  const r = await aad.setPolicy("OpenEnclave", policyB, signer1);
  ok(r.body.policyResolution === "Updated", "resolution");
  ok(r.body.policySigner && r.body.policySigner.certificates.length === 1, "x-ms-policy-signer");
  const got = await aad.getPolicy("OpenEnclave");
  ok(got.body === policyB, "stored");
});

await check("resetPolicy: Removed, and getPolicy is the default again", async () => {
  const r = await aad.resetPolicy("SgxEnclave");
  ok(r.body.policyResolution === "Removed", "resolution " + r.body.policyResolution);
  const got = await aad.getPolicy("SgxEnclave");
  ok(got.body !== policyA && /sgx-mrenclave/.test(got.body), "default restored");
});

await check("getPolicyManagementCertificates of an AAD provider is empty", async () => {
  const r = await aad.getPolicyManagementCertificates();
  ok(Array.isArray(r.body) && r.body.length === 0, "no signers: " + JSON.stringify(r.body));
});

await check("unknown attestation type: 400", async () => {
  await refused(aad.getPolicy("NoSuchEnclave"), 400, "InvalidParameter");
});

// ---- isolated mode ---------------------------------------------------------------

await check("isolated: getPolicyManagementCertificates lists the initial signer", async () => {
  const r = await iso.getPolicyManagementCertificates();
  ok(r.body.length === 1, "one signer, got " + r.body.length);
  ok(r.body[0].certificates[0].replace(/\s+/g, "") === signer1.certificate.replace(/\s+/g, ""), "signer 1");
});

await check("isolated: an unsigned policy is refused (400 InvalidOperation)", async () => {
  await refused(iso.setPolicy("SgxEnclave", policyA), 400, "InvalidOperation");
});

await check("isolated: a policy signed by an untrusted key is refused", async () => {
  const e = await refused(iso.setPolicy("SgxEnclave", policyA, rogue), 400, "InvalidOperation");
  ok(/attest\.signer\.untrusted/.test(e.message), e.message);
  const got = await iso.getPolicy("SgxEnclave");
  ok(got.body !== policyA, "nothing changed");
});

await check("isolated: a policy signed by the trusted signer is set", async () => {
  const r = await iso.setPolicy("SgxEnclave", policyA, signer1);
  ok(r.body.policyResolution === "Updated", "resolution");
  const got = await iso.getPolicy("SgxEnclave");
  ok(got.body === policyA, "stored");
});

await check("isolated: an unsigned reset is refused, a signed one works", async () => {
  await refused(iso.resetPolicy("SgxEnclave"), 400, "InvalidOperation");
  const r = await iso.resetPolicy("SgxEnclave", signer1);
  ok(r.body.policyResolution === "Removed", "resolution");
});

await check("isolated: addPolicyManagementCertificate by the trusted signer, idempotent", async () => {
  const r = await iso.addPolicyManagementCertificate(signer2.certificate, signer1.privateKey, signer1.certificate);
  ok(r.body.certificateResolution === "IsPresent", "resolution " + r.body.certificateResolution);
  ok(r.body.certificateThumbprint.toUpperCase() === thumbprint(signer2.certificate), "thumbprint");
  const again = await iso.addPolicyManagementCertificate(signer2.certificate, signer1.privateKey, signer1.certificate);
  ok(again.body.certificateResolution === "IsPresent", "second add");
  const list = await iso.getPolicyManagementCertificates();
  ok(list.body.length === 2, "two signers, got " + list.body.length);
});

await check("isolated: the added signer can set policies", async () => {
  const r = await iso.setPolicy("SgxEnclave", policyB, signer2);
  ok(r.body.policyResolution === "Updated", "resolution");
});

await check("isolated: a certificate change signed by an untrusted key is refused", async () => {
  await refused(iso.addPolicyManagementCertificate(rogue.certificate, rogue.privateKey, rogue.certificate), 400, "InvalidOperation");
  const list = await iso.getPolicyManagementCertificates();
  ok(list.body.length === 2, "still two signers");
});

await check("isolated: removePolicyManagementCertificate, idempotent", async () => {
  const r = await iso.removePolicyManagementCertificate(signer2.certificate, signer1.privateKey, signer1.certificate);
  ok(r.body.certificateResolution === "IsAbsent", "resolution " + r.body.certificateResolution);
  const again = await iso.removePolicyManagementCertificate(signer2.certificate, signer1.privateKey, signer1.certificate);
  ok(again.body.certificateResolution === "IsAbsent", "second remove");
  await refused(iso.setPolicy("SgxEnclave", policyA, signer2), 400, "InvalidOperation");
});

await check("isolated: the last signer cannot be removed", async () => {
  const e = await refused(
    iso.removePolicyManagementCertificate(signer1.certificate, signer1.privateKey, signer1.certificate),
    400,
    "InvalidOperation"
  );
  ok(/last/.test(e.message), e.message);
  const list = await iso.getPolicyManagementCertificates();
  ok(list.body.length === 1, "signer 1 stays");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
