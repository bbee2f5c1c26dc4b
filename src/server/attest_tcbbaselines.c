/*
 * GET /tcbbaselines/{type} (api-version 2025-06-01; maa-interface.md §1.7):
 * the SGX TCB baselines a provider's policy can select with the
 * configuration property x-ms-sgx-tcbidentifier (§3.5), and which one its
 * current SgxEnclave (or OpenEnclave) policy selects.
 *
 * The list is server/tcb_baselines.c's table, the same one the attest
 * pipeline enforces from (docs/tcb-baselines.md). A policy naming an
 * identifier that is not listed selects none of these here, and its SGX
 * attestations are refused (policy.config.tcbidentifier).
 */
#include "server/attest_tcbbaselines.h"

#include "policy/policy.h"
#include "server/attest_mgmt.h"
#include "server/pipeline_routes.h"
#include "server/server.h"
#include "server/tcb_baselines.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* The identifier the provider's policy for type selects. */
static int selected_id(struct pipeline_routes *pr, struct http_request *req, enum maa_type type, char *out,
		       size_t cap, struct attest_err *err)
{
	struct store_policy pol = {0};
	struct policy_plan *plan = NULL;
	struct claim_set *props = NULL;
	const char *id;
	int rc = store_policy_get(req->srv->store, req->provider->name, maa_type_name(type), &pol, err);

	if (rc == ATTEST_E_NOT_FOUND)
		attest_err_clear(err); /* never set: the default applies */
	else if (rc != ATTEST_OK)
		return rc;
	rc = pipeline_plan_get(pr->ctx, type, pol.text, pol.text ? strlen(pol.text) : 0, &plan, err);
	if (rc == ATTEST_OK)
		rc = policy_eval_config(plan, &props, err);
	if (rc == ATTEST_OK) {
		id = policy_prop_str(props, POLICY_PROP_SGX_TCBIDENTIFIER, POLICY_DEFAULT_SGX_TCBIDENTIFIER);
		snprintf(out, cap, "%s",
			 strcmp(id, POLICY_DEFAULT_SGX_TCBIDENTIFIER) == 0 ? TCB_BASELINE_AZURE_DEFAULT : id);
	}
	claim_set_free(props);
	policy_plan_free(plan);
	store_policy_clear(&pol); /* a zeroed record when none was stored */
	return rc;
}

static void tcbbaselines_get(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pipeline_routes *pr = arg;
	struct attest_err err;
	enum maa_type type;
	char selected[64];
	json_t *list, *body;
	const struct tcb_baseline *baselines;
	size_t n;

	if (!attest_route_type(req, resp, &type))
		return;
	if (type != MAA_TYPE_SGX_ENCLAVE && type != MAA_TYPE_OPEN_ENCLAVE) {
		http_resp_error(
		    resp, 400, "InvalidParameter",
		    "TCB baselines exist for SGX attestation only (SgxEnclave, OpenEnclave), not %s",
		    maa_type_name(type));
		return;
	}
	attest_err_clear(&err);
	if (selected_id(pr, req, type, selected, sizeof(selected), &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		return;
	}
	list = json_array();
	baselines = tcb_baselines(&n);
	for (size_t i = 0; list != NULL && i < n; i++) {
		const struct tcb_baseline *b = &baselines[i];

		if (json_array_append_new(list,
					  json_pack("{s:s, s:i, s:s, s:s, s:s, s:b}", "tcbIdentifier", b->id,
						    "tcbEvaluationDataNumber", (int)b->eval_num,
						    "tcbReleaseDate", b->release, "minimumPswLinuxVersion",
						    b->psw_linux, "minimumPswWindowsVersion", b->psw_windows,
						    "isSelectedTcb", strcmp(b->id, selected) == 0)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	body = list ? json_pack("{s:o}", "tcbBaselines", list) : NULL;
	if (body == NULL) {
		http_resp_error(resp, 500, "InternalError", "out of memory");
		return;
	}
	http_resp_json(resp, 200, body);
	json_decref(body);
}

int attest_tcbbaselines_register(struct http_router *r, struct pipeline_routes *pr, struct attest_err *err)
{
	return http_router_add(r, "GET", "/tcbbaselines/{type}",
			       HTTP_ROUTE_API_VERSION | HTTP_ROUTE_READER_UNLESS_SHARED, tcbbaselines_get, pr,
			       err);
}
