/*
 * libFuzzer target: the policy lexer, parser and compiler on arbitrary text;
 * what compiles is also evaluated on a fixed SGX-like claim set (with and
 * without explain) and rendered as a denial line; the same bytes also go
 * through the policy JWS parser. Nothing may crash, leak or hang.
 */
#include "policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct claim_set *claims(void)
{
	struct claim_set *s = claim_set_new();

	if (s == NULL)
		return NULL;
	claim_set_add_bool(s, "x-ms-sgx-is-debuggable", false);
	claim_set_add_str(s, "x-ms-sgx-mrsigner", "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa");
	claim_set_add_str(s, "x-ms-sgx-mrenclave", "b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2");
	claim_set_add_int(s, "x-ms-sgx-product-id", 7);
	claim_set_add_int(s, "x-ms-sgx-svn", 3);
	claim_set_add_str(s, "x-ms-attestation-type", "sgx");
	claim_set_add_str(s, "pcrs", "{\"PCRs\":[{\"Index\":7,\"Digests\":{\"SHA256\":\"ab\"}}]}");
	claim_set_add_str(s, "events", "{\"Events\":[{\"EventTypeString\":\"EV_EFI_VARIABLE_DRIVER_CONFIG\","
				       "\"ProcessedData\":{\"UnicodeName\":\"SecureBoot\",\"VariableData\":\"AQ\"}}]}");
	claim_set_add(s, "x-ms-isolation-tee", json_pack("{s:s}", "x-ms-compliance-status", "azure-compliant-cvm"));
	claim_set_add_issued(s, "custom", CLAIM_ISSUER_CUSTOM, json_pack("[i,i]", 1, 2));
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_limits lim;
	struct policy_plan *plan = NULL;
	struct policy_jws *jws = NULL;
	struct attest_err err;

	policy_limits_default(&lim);
	lim.max_bytes = 64 * 1024;
	lim.max_matches = 64;
	attest_err_clear(&err);
	if (policy_compile((const char *)data, size, &lim, &plan, &err) == ATTEST_OK) {
		struct claim_set *in = claims();

		for (unsigned flags = 0; in != NULL && flags <= POLICY_EVAL_EXPLAIN; flags++) {
			struct policy_result *r = NULL;
			char line[256];

			attest_err_clear(&err);
			if (policy_eval(plan, in, flags, &r, &err) == ATTEST_OK) {
				policy_result_reason(r, line, sizeof(line));
				policy_result_free(r);
			}
		}
		claim_set_free(in);
		policy_plan_free(plan);
	} else if (err.name[0] == '\0') {
		abort(); /* every failure names itself */
	}
	attest_err_clear(&err);
	if (policy_jws_parse((const char *)data, size, POLICY_JWS_ALLOW_TEXT | POLICY_JWS_ALLOW_EMPTY, &jws, &err) ==
	    ATTEST_OK)
		policy_jws_free(jws);
	return 0;
}
