/*
 * Default policies per attestation type (maa-interface.md §3.6).
 *
 * SgxEnclave / OpenEnclave: byte for byte the policy text the real service
 * returns from GET /policies/SgxEnclave after a reset (recorded in
 * ../shared/vectors/maa-tokens/cpp-2022-11-17-policy-sgx-aad, exchange 06),
 * so x-ms-policy-hash of tokens issued under it equals the real one.
 * Tpm / VbsEnclave: the minimal permit policy Microsoft's SDK tests install
 * (byte for byte the text of exchange 03 of the same recording).
 * SevSnpVm, TdxVm, AzureGuest: not published; a permit-all policy with no
 * issuance rules reproduces the sample tokens, since the standard claims are
 * emitted regardless (§3.6, inferred).
 */
#include "policy/policy.h"

#include <strings.h>

static const char SGX_DEFAULT[] =
	"version= 1.1;"
	"configurationrules{=> issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"azuredefault\");};"
	"authorizationrules{=> permit();};"
	"issuancerules{"
	"c:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);"
	"c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);"
	"c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);"
	"c:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);"
	"c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);"
	"c:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);"
	"};";

static const char PERMIT_ALL[] = "version=1.0; authorizationrules{=> permit();}; issuancerules{};";

const char *policy_default_text(const char *attestation_type)
{
	static const struct {
		const char *type;
		const char *text;
	} D[] = {
		{"SgxEnclave", SGX_DEFAULT}, {"OpenEnclave", SGX_DEFAULT}, {"Tpm", PERMIT_ALL},
		{"VbsEnclave", PERMIT_ALL},  {"SevSnpVm", PERMIT_ALL},    {"TdxVm", PERMIT_ALL},
		{"AzureGuest", PERMIT_ALL},
	};
	if (attestation_type == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(D) / sizeof(D[0]); i++)
		if (strcasecmp(attestation_type, D[i].type) == 0)
			return D[i].text;
	return NULL;
}
