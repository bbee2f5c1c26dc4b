/*
 * The SGX TCB baselines (tcb_baselines.h). Only the baselines Microsoft
 * documents are listed (DOCS/custom-tcb-baseline-enforcement): "10", the
 * Azure default, and "15", the newest; identifiers in between are not
 * published with their dates and PSW versions, so they are not made up.
 */
#include "server/tcb_baselines.h"

#include "policy/policy.h"

#include <string.h>

static const struct tcb_baseline BASELINES[] = {
    {"10", 10, "2020-11-11T00:00:00Z", "2.9", "2.7.101.2"},
    {"15", 15, "2023-02-14T00:00:00Z", "2.17", "2.16"},
};

const struct tcb_baseline *tcb_baselines(size_t *n)
{
	*n = sizeof(BASELINES) / sizeof(BASELINES[0]);
	return BASELINES;
}

int tcb_baseline_lookup(const char *identifier, const struct tcb_baseline **out, struct attest_err *err)
{
	const char *id = identifier != NULL && strcmp(identifier, POLICY_DEFAULT_SGX_TCBIDENTIFIER) != 0
			     ? identifier
			     : TCB_BASELINE_AZURE_DEFAULT;

	for (size_t i = 0; i < sizeof(BASELINES) / sizeof(BASELINES[0]); i++)
		if (strcmp(BASELINES[i].id, id) == 0) {
			*out = &BASELINES[i];
			return ATTEST_OK;
		}
	return attest_err_set(err, ATTEST_E_POLICY, "policy.config.tcbidentifier",
			      "x-ms-sgx-tcbidentifier \"%.64s\" names no TCB baseline of this service "
			      "(GET /tcbbaselines/SgxEnclave lists them)",
			      id);
}
