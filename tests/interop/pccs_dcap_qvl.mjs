// attestd as a PCCS for an independent verifier: @phala/dcap-qvl (npm 0.3.9,
// pure JS) fetches a quote's collateral from a running attestd with its own
// PCCS client (getCollateral: pckcrl?ca=..&encoding=der, tcb?fmspc=..,
// qe/identity?update=standard, rootcacrl as PCCS's hex text, issuer chains
// from the URL-encoded headers) and verifies the real quote with it.
//
// Environment (set by tests/integration/test_attestd_pccs.c):
//   PCCS_URL             base URL of a running attestd with --pccs
//   VECTOR_DIR           a shared/vectors/{sgx,tdx}/<vector> folder (quote.bin, collateral.dcap-qvl.json)
//   NOW                  the vector's fixed time (Unix seconds, bundle.json now_unix)
//   EXPECTED_STATUS      dcap-qvl's verdict for the vector (EXPECTED.md)
//   PCK_CRL_FILE, PCK_CRL_CHAIN_FILE  the PCK CRL (DER) and its chain attestd must serve for the CA
//                        dcap-qvl asks for (the vector's own, except where dcap-qvl asks the other CA)
//   NODE_EXTRA_CA_CERTS  attestd's development certificate
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.

import dcap from "@phala/dcap-qvl";
import { readFileSync } from "node:fs";

const url = process.env.PCCS_URL;
const dir = process.env.VECTOR_DIR;
const now = Number(process.env.NOW);
const expected = process.env.EXPECTED_STATUS;
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

const quote = readFileSync(`${dir}/quote.bin`);
const reference = JSON.parse(readFileSync(`${dir}/collateral.dcap-qvl.json`, "utf8"));
const hex = (a) => Buffer.from(a).toString("hex");
let collateral = null;

await check("dcap-qvl fetches the quote's collateral from attestd", async () => {
  collateral = await dcap.getCollateral(url, quote);
  ok(collateral && typeof collateral.tcb_info === "string", "collateral object");
});

await check("what attestd served equals the vector's collateral, item by item", async () => {
  ok(collateral !== null, "fetched");
  for (const k of ["tcb_info", "qe_identity", "tcb_info_issuer_chain", "qe_identity_issuer_chain"])
    ok(collateral[k] === reference[k], k);
  for (const k of ["tcb_info_signature", "qe_identity_signature", "root_ca_crl"])
    ok(hex(collateral[k]) === reference[k].toLowerCase(), k);
  ok(hex(collateral.pck_crl) === readFileSync(process.env.PCK_CRL_FILE).toString("hex"), "pck_crl");
  ok(collateral.pck_crl_issuer_chain === readFileSync(process.env.PCK_CRL_CHAIN_FILE, "utf8"), "pck_crl_issuer_chain");
});

await check(`dcap-qvl verifies the quote with it: ${expected}`, async () => {
  ok(collateral !== null, "fetched");
  const r = dcap.verify(quote, collateral, now);
  ok(r.status === expected, `status ${r.status}`);
});

await check("and rejects it 40 days later (the collateral served has expired)", async () => {
  ok(collateral !== null, "fetched");
  let threw = false;
  try {
    dcap.verify(quote, collateral, now + 40 * 86400);
  } catch (e) {
    threw = true;
  }
  ok(threw, "verified at now + 40 days");
});

await check("and rejects it with the TCB Info altered (signature)", async () => {
  ok(collateral !== null, "fetched");
  const bad = { ...collateral, tcb_info: collateral.tcb_info.replace('"version":3', '"version":2') };
  ok(bad.tcb_info !== collateral.tcb_info, "altered");
  let threw = false;
  try {
    dcap.verify(quote, bad, now);
  } catch (e) {
    threw = true;
  }
  ok(threw, "verified an altered TCB Info");
});

await check("attestd answers an unknown FMSPC with 404 and a bad one with 400, as PCS does", async () => {
  ok(collateral !== null, "fetched");
  const tee = collateral.tcb_info.includes('"id":"TDX"') ? "tdx" : "sgx";
  let r = await fetch(`${url}/${tee}/certification/v4/tcb?fmspc=FFFFFFFFFFFF`);
  ok(r.status === 404, `unknown FMSPC: ${r.status}`);
  r = await fetch(`${url}/${tee}/certification/v4/tcb?fmspc=00zz`);
  ok(r.status === 400, `bad FMSPC: ${r.status}`);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
