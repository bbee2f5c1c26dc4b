/*
 * tdx_verify: the entry point behind POST /attest/TdxVm
 * (maa-interface.md §1.3.4, claims §2.7).
 *
 * The Intel DCAP pipeline (intel.h: parse, PCK chain with CRLs, QE report
 * signature and binding, TD QE identity, ISV signature, TDX TCB status) is
 * shared with SGX; what is TDX's own is the TD report body, the runtime
 * data binding to REPORTDATA and the claims of the TDX EAT profile.
 *
 * Claims, all issued by AttestationService, added only after everything
 * verified (docs/claims-tdx.md lists them with a real example):
 *   eat_profile, dbgstat, intuse, tdx_* of the TD report (tdx_claims.c),
 *   x-ms-attestation-type "tdxvm", attester_tcb_status (Intel's string),
 *   tdx_advisory_ids, tdx_tcb_evaluation_data_number, tdx_qe_tcb_status,
 *   tdx_module_tcb_status, tdx_fmspc, tdx_pceid, tdx_collateral (SHA-256s as
 *   in x-ms-sgx-collateral), tdx_revocation_checked (false only with
 *   EVIDENCE_NO_REVOCATION), x-ms-runtime (runtime data of type JSON), and
 *   the early TCB warnings x-attestd-early-tcb-* (intel_add_early_claims).
 *
 * Errors of its own (the pipeline's are tdx.quote.*, tdx.pck.*, tdx.tcb.*, ...):
 *   tdx.runtime_data.mismatch   SHA-256(runtime data) != REPORTDATA[0:32]
 *   tdx.runtime_data.json       dataType JSON but not a JSON object
 *   tdx.init_data.unsupported   init-time data: no TD field is defined to bind it
 *   tdx.argument                NULL context/input/claim set
 */
#include "evidence/tdx.h"

#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "evidence/intel.h"

#include <string.h>

#define TDX_PREFIX "tdx"

/* maa-interface.md §1.3.1: SHA-256(runtime data) is the first 32 bytes of REPORTDATA. */
static int bind_runtime_data(const struct evidence_input *in, const struct tdx_td_report *td,
			     struct attest_err *err)
{
	uint8_t h[32];

	if (in->runtime_data == NULL)
		return ATTEST_OK;
	if (sha256(in->runtime_data, in->runtime_data_len, h) != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tdx.runtime_data.hash", "SHA-256 failed");
	if (!crypto_memeq(h, td->report_data, sizeof(h)))
		return attest_err_set(err, ATTEST_E_VERIFY, "tdx.runtime_data.mismatch",
				      "SHA-256 of the runtime data is not the first 32 bytes of the TD's "
				      "REPORTDATA");
	return ATTEST_OK;
}

/* dataType JSON: the data must be a JSON object; it becomes x-ms-runtime. */
static int parse_runtime_json(const struct evidence_input *in, json_t **out, struct attest_err *err)
{
	json_t *v = NULL;
	int rc;

	*out = NULL;
	if (in->runtime_data == NULL || in->runtime_data_type != EVIDENCE_DATA_JSON)
		return ATTEST_OK;
	rc = jsonx_parse((const char *)in->runtime_data, in->runtime_data_len, &v, "tdx.runtime_data",
			 "runtime data", err);
	if (rc != ATTEST_OK) {
		attest_err_clear(err);
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.runtime_data.json",
				      "runtime data of dataType JSON is not valid JSON");
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.runtime_data.json",
				      "runtime data of dataType JSON must be a JSON object");
	}
	*out = v;
	return ATTEST_OK;
}

static int add_advisories(struct claim_set *out, const struct tcb_advisories *adv)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return ATTEST_E_NOMEM;
	for (size_t i = 0; i < adv->n; i++)
		if (json_array_append_new(arr, json_string(adv->ids[i])) != 0) {
			json_decref(arr);
			return ATTEST_E_NOMEM;
		}
	return claim_set_add(out, "tdx_advisory_ids", arr);
}

/* The verdict and provenance claims (docs/claims-tdx.md). */
static int add_verdict_claims(struct claim_set *out, const struct intel_quote_result *res)
{
	int rc = 0;

	rc |= claim_set_add_str(out, "x-ms-attestation-type", "tdxvm");
	if (res->collateral_evaluated) {
		rc |= claim_set_add_str(out, "attester_tcb_status", tcb_status_str(res->verdict.status));
		rc |= add_advisories(out, &res->verdict.adv);
		rc |= claim_set_add_int(out, "tdx_tcb_evaluation_data_number", res->tcb_eval_num);
		rc |= claim_set_add_str(out, "tdx_qe_tcb_status", tcb_status_str(res->verdict.qe));
		rc |= claim_set_add_str(out, "tdx_module_tcb_status", tcb_status_str(res->verdict.module));
		rc |= intel_add_collateral_claim(out, "tdx_collateral", &res->hashes);
		rc |= intel_add_early_claims(out, res);
	}
	rc |= claim_set_add_bool(out, "tdx_collateral_evaluated", res->collateral_evaluated);
	rc |= claim_set_add_bool(out, "tdx_revocation_checked", res->revocation_checked);
	rc |= claim_set_add_hex(out, "tdx_fmspc", res->pck.fmspc, sizeof(res->pck.fmspc));
	rc |= claim_set_add_hex(out, "tdx_pceid", res->pck.pceid, sizeof(res->pck.pceid));
	return rc;
}

int tdx_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err)
{
	struct intel_quote_result res;
	struct tdx_td_report td;
	json_t *runtime = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if (ctx == NULL || in == NULL || out == NULL || in->evidence == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tdx.argument",
				      "missing context, input or claim set");
	if (in->init_data != NULL)
		return attest_err_set(
		    err, ATTEST_E_UNSUPPORTED, "tdx.init_data.unsupported",
		    "init-time data cannot be bound to a TD quote (no TD field carries it)");
	rc = intel_quote_verify(ctx, in->evidence, in->evidence_len, QUOTE_TEE_TDX, &res, TDX_PREFIX, err);
	if (rc != ATTEST_OK)
		goto out;
	rc = tdx_td_report_parse(res.quote.body, res.quote.body_len, (int)res.quote.body_type, &td, err);
	if (rc != ATTEST_OK)
		goto out;
	rc = bind_runtime_data(in, &td, err);
	if (rc == ATTEST_OK)
		rc = parse_runtime_json(in, &runtime, err);
	if (rc != ATTEST_OK)
		goto out;

	rc = tdx_claims_add_report(out, &td, err);
	if (rc == ATTEST_OK && add_verdict_claims(out, &res) != 0)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tdx.claims.nomem",
				    "could not add the verdict claims");
	if (rc == ATTEST_OK && runtime != NULL) {
		if (claim_set_add(out, "x-ms-runtime", runtime) != 0)
			rc = attest_err_set(err, ATTEST_E_NOMEM, "tdx.claims.nomem",
					    "could not add x-ms-runtime");
		runtime = NULL; /* transferred (claim_set_add steals it, also on failure) */
	}
out:
	json_decref(runtime);
	intel_quote_result_free(&res);
	return rc;
}
