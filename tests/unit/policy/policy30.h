#ifndef ATTEST_POLICY_POLICY30_H
#define ATTEST_POLICY_POLICY30_H

/*
 * The 30-rule policy of the kind a tenant writes (deny-list, pinned
 * identity, claims to issue) and the 25-claim SGX set it is evaluated on:
 * shared by bench_policy (issue 13's "policy evaluation under 1 %" figure)
 * and test_policy_explain (which pins its explain trace byte for byte), so
 * the benchmark measures exactly what the test proves unchanged.
 */

#include "claims/claims.h"
#include "reference_policies.h"

static const char POLICY30[] =
    "version=1.2;\n"
    "configurationrules{ => issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"15\"); };\n"
    "authorizationrules{\n"
    "  [type==\"x-ms-sgx-is-debuggable\", value==true] => deny();\n"
    "  [type==\"x-ms-sgx-tcb-status\", value==\"OutOfDate\"] => deny();\n"
    "  [type==\"x-ms-sgx-tcb-status\", value==\"Revoked\"] => deny();\n"
    "  [type==\"x-ms-sgx-svn\", value<1] => deny();\n"
    "  ![type==\"x-ms-sgx-mrsigner\"] => deny();\n"
    "  [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_B "\"] => deny();\n"
    "  [type==\"x-ms-attestation-type\", value!=\"sgx\"] => deny();\n"
    "  [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_A
    "\"] && [type==\"x-ms-sgx-product-id\", value==1] &&\n"
    "    [type==\"x-ms-sgx-svn\", value>=3] => permit();\n"
    "  [type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_A
    "\"] && [type==\"x-ms-sgx-product-id\", value==2] => permit();\n"
    "  [type==\"x-ms-sgx-mrenclave\", value==\"" REF_HEX64_B "\"] => permit();\n"
    "};\n"
    "issuancerules{\n"
    "  c:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
    "  c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);\n"
    "  c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);\n"
    "  c:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);\n"
    "  c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
    "  c:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
    "  [type==\"x-ms-sgx-svn\", value>=3] => issue(type=\"svn-ok\", value=true);\n"
    "  [type==\"x-ms-sgx-svn\", value<3] => issue(type=\"svn-ok\", value=false);\n"
    "  [type==\"x-ms-sgx-tcb-status\", value==\"UpToDate\"] => issue(type=\"tcb\", value=\"current\");\n"
    "  [type==\"x-ms-sgx-tcb-status\", value==\"SWHardeningNeeded\"] => issue(type=\"tcb\", "
    "value=\"hardening\");\n"
    "  c:[type==\"x-ms-sgx-pck-fmspc\"] => issue(type=\"platform\", value=c.value);\n"
    "  c:[type==\"x-ms-sgx-mrsigner\", value==\"" REF_HEX64_A
    "\"] => issue(type=\"vendor\", value=\"contoso\");\n"
    "  c:[type==\"x-ms-sgx-product-id\", value==1] => issue(type=\"product\", value=\"key-broker\");\n"
    "  c:[type==\"x-ms-sgx-product-id\", value==2] => issue(type=\"product\", value=\"ledger\");\n"
    "  [type==\"x-ms-sgx-config-svn\", value>=0] => add(type=\"kss\", value=true);\n"
    "  [type==\"kss\", issuer==\"AttestationPolicy\"] && c:[type==\"x-ms-sgx-config-id\"] => "
    "issue(type=\"config\", value=c.value);\n"
    "  c:[type==\"nonce\"] => issue(type=\"echo\", value=c.value);\n"
    "  ![type==\"x-ms-sgx-ehd\"] => issue(type=\"no-ehd\", value=true);\n"
    "  c:[type==\"x-ms-sgx-svn\"] => issue(type=\"min-svn\", value=3);\n"
    "};\n";

/*
 * The SGX claim set (25 claims, names as maa-interface.md §2.3) with the
 * given svn, debug flag and signer; (3, false, REF_HEX64_A) is the set the
 * benchmark times, which POLICY30 permits. NULL when out of memory.
 */
static inline struct claim_set *policy30_sgx_claims(int svn, bool debug, const char *mrsigner)
{
	struct claim_set *s = claim_set_new();
	int rc = 0;

	if (s == NULL)
		return NULL;
	rc |= claim_set_add_bool(s, "x-ms-sgx-is-debuggable", debug);
	rc |= claim_set_add_str(s, "x-ms-sgx-mrenclave",
				"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2");
	rc |= claim_set_add_str(s, "x-ms-sgx-mrsigner", mrsigner);
	rc |= claim_set_add_int(s, "x-ms-sgx-product-id", 1);
	rc |= claim_set_add_int(s, "x-ms-sgx-svn", svn);
	rc |= claim_set_add_str(s, "x-ms-sgx-report-data",
				"cfd0d2b5ee52b87e9d5bd6a1d5e6dfa9b13c3dd6d5c2ba1dcf2bdd56ca1c2f0b"
				"0000000000000000000000000000000000000000000000000000000000000000");
	rc |= claim_set_add_str(s, "x-ms-sgx-ehd", "eyJrdHkiOiJFQyIsInVzZSI6InNpZyJ9");
	rc |= claim_set_add(s, "x-ms-sgx-collateral",
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "qeidcertshash", "a64d6491",
				      "qeidcrlhash", "059762e7", "qeidhash", "7701f647", "quotehash",
				      "af0e0563", "tcbinfocertshash", "a64d6491", "tcbinfocrlhash",
				      "059762e7", "tcbinfohash", "82d109fb"));
	rc |= claim_set_add_str(s, "x-ms-sgx-config-id", "00");
	rc |= claim_set_add_int(s, "x-ms-sgx-config-svn", 0);
	rc |= claim_set_add_str(s, "x-ms-sgx-isv-extended-product-id", "00000000000000000000000000000000");
	rc |= claim_set_add_str(s, "x-ms-sgx-isv-family-id", "00000000000000000000000000000000");
	rc |= claim_set_add_str(s, "x-ms-attestation-type", "sgx");
	rc |= claim_set_add_str(s, "x-ms-ver", "1.0");
	rc |= claim_set_add_str(s, "x-ms-policy-hash", "ViVGS4BYl70X8eUrgryHg0TtbEk9WtIc6DtTBEFxaWc");
	rc |= claim_set_add_str(s, "iss", "https://sharedwus.wus.attest.azure.net");
	rc |= claim_set_add_int(s, "iat", 1643413476);
	rc |= claim_set_add_int(s, "nbf", 1643413476);
	rc |= claim_set_add_int(s, "exp", 1643442276);
	rc |= claim_set_add_str(s, "jti", "b1153d169507f4c2a2b0c4ddb4021a5a5e29ae664b129c7a35361b0196f0f8ab");
	rc |= claim_set_add_str(s, "nonce", "5e2a1f");
	rc |=
	    claim_set_add(s, "x-ms-runtime", json_pack("{s:[{s:s,s:s}]}", "keys", "kty", "EC", "kid", "k1"));
	rc |= claim_set_add_str(s, "x-ms-sgx-tcb-status", "UpToDate");
	rc |= claim_set_add_str(s, "x-ms-sgx-pck-fmspc", "00906ed50000");
	rc |= claim_set_add_str(s, "x-ms-sgx-qe-tcb-status", "UpToDate");
	if (rc != 0) {
		claim_set_free(s);
		return NULL;
	}
	return s;
}

#endif
