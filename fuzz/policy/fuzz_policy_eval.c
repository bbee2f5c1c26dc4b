/*
 * libFuzzer target: random claim sets against a fixed set of policies (the
 * reference's examples, every default policy, and policies that exercise
 * each function, absence, joins and explain). The input is a sequence of
 * claims: [type index][issuer][value kind][value bytes...].
 */
#include "policy/policy.h"

#include "../../tests/unit/policy/reference_policies.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Every value of the result's sets, rendered (what a caller reads after the incoming set is gone). */
static void read_sets(const struct policy_result *r)
{
	const struct claim_set *sets[3] = {r->outgoing, r->properties, r->final_incoming};

	for (int k = 0; k < 3; k++) {
		json_t *j = sets[k] != NULL ? claim_set_to_json(sets[k]) : NULL;
		char *t = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

		free(t);
		json_decref(j);
	}
	for (size_t i = 0; r->explain != NULL && i < r->explain->nrules; i++)
		for (size_t b = 0; b < r->explain->rules[i].nbindings; b++)
			(void)claim_value_type(r->explain->rules[i].bindings[b].value); /* read: ASan if released */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const TYPES[] = {
	"x-ms-sgx-is-debuggable", "x-ms-sgx-mrsigner", "x-ms-sgx-mrenclave", "x-ms-sgx-product-id", "x-ms-sgx-svn",
	"x-ms-attestation-type", "pcrs", "events", "secureboot", "x-ms-azurevm-signingdisabled", "aikValidated",
	"secureBootEnabled", "x-ms-isolation-tee", "x-ms-compliance-status", "enclaveSvn", "x", "n", "json",
	"tdx_mrtd", "x-ms-sevsnpvm-hostdata",
};
static const char *const ISSUERS[] = {CLAIM_ISSUER_SERVICE, CLAIM_ISSUER_POLICY, CLAIM_ISSUER_CUSTOM, "Other"};

static const char FUNCS[] =
	"version=1.2; authorizationrules{ c:[type==\"json\"] => add(type=\"q\", value=JmesPath(c.value, \"a[0].b\"));"
	" c:[type==\"x\"] && d:[type==\"x\"] => add(type=\"sub\", value=IsSubsetOf(c.value, d.value));"
	" ![type==\"n\", value>3] => permit(); [type==\"n\", value<=3] => deny(); };"
	"issuancerules{ c:[type==\"json\"] => issue(type=\"v\", value=JsonToClaimValue(c.value));"
	" c:[type==\"x\"] => issue(type=\"s\", value=AppendString(c.value, \"-\"));"
	" c:[type==\"secureboot\"] => issue(type=\"nb\", value=NegateBool(c.value));"
	" c:[type==\"x\"] => issue(type=\"only\", value=ContainsOnlyValue(c.value, 1));"
	" c:[type==\"x-ms-isolation-tee.x-ms-compliance-status\"] => issue(claim=c);"
	" c:[issuer==\"CustomClaim\"] => issue(type=c.type, value=c.value, valueType=\"String\"); };";

static struct policy_plan *plans[32];
static size_t nplans;

static void init_plans(void)
{
	static const char *const T[] = {"SgxEnclave", "Tpm", "SevSnpVm", "TdxVm", "AzureGuest"};
	struct attest_err err;

	for (size_t i = 0; i < sizeof(REF_POLICIES) / sizeof(REF_POLICIES[0]); i++)
		if (policy_compile(REF_POLICIES[i].text, strlen(REF_POLICIES[i].text), NULL, &plans[nplans], &err) == 0)
			nplans++;
	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++)
		if (policy_compile(policy_default_text(T[i]), strlen(policy_default_text(T[i])), NULL, &plans[nplans], &err) == 0)
			nplans++;
	if (policy_compile(FUNCS, strlen(FUNCS), NULL, &plans[nplans], &err) == 0)
		nplans++;
	else
		abort();
}

static json_t *value_from(const uint8_t **p, const uint8_t *end)
{
	uint8_t kind, len;

	if (*p >= end)
		return NULL;
	kind = *(*p)++ % 7;
	switch (kind) {
	case 0: return *p < end ? json_boolean(*(*p)++ & 1) : json_false();
	case 1: {
		int64_t v = 0;

		for (int i = 0; i < 4 && *p < end; i++)
			v = (v << 8) | *(*p)++;
		return json_integer((json_int_t)(v - 0x80000000LL));
	}
	case 5: return json_pack("[i,i]", *p < end ? *(*p)++ % 4 : 1, 1);
	case 6: return json_pack("{s:s}", "x-ms-compliance-status", *p < end && (*(*p)++ & 1) ? "azure-compliant-cvm" : "no");
	default:
		len = *p < end ? *(*p)++ : 0;
		if ((size_t)(end - *p) < len)
			len = (uint8_t)(end - *p);
		{
			json_t *s = json_stringn((const char *)*p, len);

			*p += len;
			return s ? s : json_string("not utf-8");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct claim_set *in;

	if (nplans == 0)
		init_plans();
	if ((in = claim_set_new()) == NULL)
		return 0;
	while (end - p >= 3 && claim_set_count(in) < 64) {
		const char *type = TYPES[*p++ % (sizeof(TYPES) / sizeof(TYPES[0]))];
		const char *issuer = ISSUERS[*p++ % 4];
		json_t *v = value_from(&p, end);

		if (v != NULL)
			claim_set_add_issued(in, type, issuer, v);
	}
	for (size_t i = 0; i < nplans; i++) {
		struct policy_result *r = NULL;
		struct attest_err err;
		char line[256];

		attest_err_clear(&err);
		if (policy_eval(plans[i], in, (size & 1) ? POLICY_EVAL_EXPLAIN : 0, &r, &err) == ATTEST_OK) {
			policy_result_reason(r, line, sizeof(line));
			if (r->verdict != POLICY_PERMIT && r->denial == NULL)
				abort(); /* a refusal always says why */
			if (i + 1 == nplans && (size & 2)) {
				/*
				 * The result's sets lend values from the incoming set and keep
				 * it alive (claims.h): the incoming set may go first. ASan
				 * reads every value after it has.
				 */
				claim_set_free(in);
				in = NULL;
				read_sets(r);
			}
			policy_result_free(r);
		} else if (err.name[0] == '\0') {
			abort();
		}
	}
	claim_set_free(in);
	return 0;
}
