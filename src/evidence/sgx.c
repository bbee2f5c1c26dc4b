/*
 * SGX enclave evidence (sgx.h): an Intel ECDSA quote with an SGX body
 * verified by the shared pipeline (intel.h), runtime / init-time data
 * bound to REPORTDATA / CONFIGID (maa-interface.md §1.3.1), and MAA's SGX
 * claims (§2.3).
 */
#include "evidence/sgx.h"
#include "evidence/sgx_internal.h"

#include "base/codec.h"
#include "base/jsonx.h"
#include "crypto/crypto.h"
#include "evidence/intel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int serr(struct attest_err *err, int rc, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int serr(struct attest_err *err, int rc, const char *name, const char *fmt, ...)
{
	char msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return attest_err_set(err, rc, name, "%s", msg);
}

/* SHA-256(data) must equal expect[0:32]; `what` names the check in errors. */
static int bind_hash(const uint8_t *data, size_t len, const uint8_t *expect, const char *code,
		     const char *what, const char *target, struct attest_err *err)
{
	uint8_t md[32];

	if (sha256(data ? data : (const uint8_t *)"", len, md) != ATTEST_OK)
		return serr(err, ATTEST_E_INTERNAL, code, "SHA-256 failed");
	if (!crypto_memeq(md, expect, 32))
		return serr(err, ATTEST_E_VERIFY, code, "SHA-256 of the %s (%zu bytes) is not %s[0:32]", what,
			    len, target);
	return ATTEST_OK;
}

/* Checks that JSON data parses (the claim itself is added after everything verified). */
static int parse_json_data(const uint8_t *data, size_t len, const char *code, const char *what, json_t **out,
			   struct attest_err *err)
{
	if (jsonx_parse((const char *)data, len, out, code, what, err) != ATTEST_OK)
		return err ? err->rc : ATTEST_E_PARSE;
	return ATTEST_OK;
}

int sgx_bind_data(const struct evidence_input *in, const struct sgx_report_body *body,
		  struct sgx_bound_data *b, struct attest_err *err)
{
	int rc;

	memset(b, 0, sizeof(*b));
	if (in->runtime_data != NULL) {
		if ((rc = bind_hash(in->runtime_data, in->runtime_data_len, body->reportdata,
				    "sgx.runtime_data.mismatch", "runtime data", "REPORTDATA", err)) !=
		    ATTEST_OK)
			return rc;
		if (in->runtime_data_type == EVIDENCE_DATA_JSON &&
		    (rc = parse_json_data(in->runtime_data, in->runtime_data_len, "sgx.runtime_data.json",
					  "runtime data", &b->runtime_json, err)) != ATTEST_OK)
			return rc;
	}
	if (in->init_data != NULL) {
		if ((rc = bind_hash(in->init_data, in->init_data_len, body->configid,
				    "sgx.init_data.mismatch", "init-time data", "CONFIGID", err)) !=
		    ATTEST_OK)
			goto fail;
		if (in->init_data_type == EVIDENCE_DATA_JSON &&
		    (rc = parse_json_data(in->init_data, in->init_data_len, "sgx.init_data.json",
					  "init-time data", &b->init_json, err)) != ATTEST_OK)
			goto fail;
	}
	return ATTEST_OK;
fail:
	sgx_bound_data_free(b);
	return rc;
}

void sgx_bound_data_free(struct sgx_bound_data *b)
{
	json_decref(b->runtime_json);
	json_decref(b->init_json);
	memset(b, 0, sizeof(*b));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int add_body_claims(struct claim_set *out, const struct sgx_report_body *b)
{
	int rc = 0;
	bool kss = (b->flags & SGX_FLAGS_KSS) != 0;

	rc |= claim_set_add_str(out, "x-ms-attestation-type", "sgx");
	rc |= claim_set_add_bool(out, "x-ms-sgx-is-debuggable", (b->flags & SGX_FLAGS_DEBUG) != 0);
	rc |= claim_set_add_hex(out, "x-ms-sgx-mrenclave", b->mrenclave, 32);
	rc |= claim_set_add_hex(out, "x-ms-sgx-mrsigner", b->mrsigner, 32);
	rc |= claim_set_add_int(out, "x-ms-sgx-product-id", b->isvprodid);
	rc |= claim_set_add_int(out, "x-ms-sgx-svn", b->isvsvn);
	rc |= claim_set_add_hex(out, "x-ms-sgx-report-data", b->reportdata, 64);
	/* KSS fields (Ice Lake+): emitted when KSS is on or they carry a value. */
	if (kss || !all_zero(b->configid, 64) || b->configsvn != 0) {
		rc |= claim_set_add_hex(out, "x-ms-sgx-config-id", b->configid, 64);
		rc |= claim_set_add_int(out, "x-ms-sgx-config-svn", b->configsvn);
	}
	if (kss || !all_zero(b->isvextprodid, 16) || !all_zero(b->isvfamilyid, 16)) {
		rc |= claim_set_add_hex(out, "x-ms-sgx-isv-extended-product-id", b->isvextprodid, 16);
		rc |= claim_set_add_hex(out, "x-ms-sgx-isv-family-id", b->isvfamilyid, 16);
	}
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

static int add_tcb_claims(struct claim_set *out, const struct intel_quote_result *res)
{
	json_t *adv;
	size_t i;
	int rc = 0;

	if (!res->collateral_evaluated) {
		rc |= claim_set_add_str(out, "x-ms-sgx-tcb-status", "NotEvaluated");
		rc |= claim_set_add_bool(out, "x-ms-sgx-revocation-checked", false);
		return rc ? ATTEST_E_NOMEM : ATTEST_OK;
	}
	if ((adv = json_array()) == NULL)
		return ATTEST_E_NOMEM;
	for (i = 0; i < res->verdict.adv.n; i++)
		json_array_append_new(adv, json_string(res->verdict.adv.ids[i]));
	rc |= claim_set_add_str(out, "x-ms-sgx-tcb-status", tcb_status_str(res->verdict.status));
	rc |= claim_set_add(out, "x-ms-sgx-advisory-ids", adv);
	rc |= claim_set_add_int(out, "x-ms-sgx-tcb-evaluation-data-number", res->tcb_eval_num);
	rc |= claim_set_add_str(out, "x-ms-sgx-platform-tcb-status", tcb_status_str(res->verdict.platform));
	rc |= claim_set_add_str(out, "x-ms-sgx-qe-tcb-status", tcb_status_str(res->verdict.qe));
	rc |= claim_set_add_hex(out, "x-ms-sgx-fmspc", res->pck.fmspc, 6);
	rc |= claim_set_add_hex(out, "x-ms-sgx-pceid", res->pck.pceid, 2);
	rc |= claim_set_add_bool(out, "x-ms-sgx-revocation-checked", res->revocation_checked);
	rc |= intel_add_collateral_claim(out, "x-ms-sgx-collateral", &res->hashes);
	rc |= intel_add_early_claims(out, res);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}

int sgx_add_claims(struct claim_set *out, const struct evidence_input *in,
		   const struct intel_quote_result *res, struct sgx_bound_data *bound, struct attest_err *err)
{
	int rc = add_body_claims(out, &res->quote.sgx);

	if (rc == ATTEST_OK && in->runtime_data != NULL) {
		if (bound->runtime_json != NULL) {
			rc = claim_set_add(out, "x-ms-runtime", bound->runtime_json);
			bound->runtime_json = NULL; /* transferred */
		} else {
			rc =
			    claim_set_add_b64url(out, "x-ms-sgx-ehd", in->runtime_data, in->runtime_data_len);
		}
	}
	if (rc == ATTEST_OK && bound->init_json != NULL) {
		rc = claim_set_add(out, "x-ms-inittime", bound->init_json);
		bound->init_json = NULL; /* transferred */
	}
	if (rc == ATTEST_OK)
		rc = add_tcb_claims(out, res);
	if (rc != ATTEST_OK)
		return serr(err, ATTEST_E_NOMEM, "sgx.claims", "out of memory adding claims");
	return ATTEST_OK;
}

int sgx_verify_quote(const struct evidence_ctx *ctx, const uint8_t *quote, size_t len,
		     const struct evidence_input *in, const uint8_t *quote_hash_over, size_t quote_hash_len,
		     struct claim_set *out, struct attest_err *err)
{
	struct intel_quote_result res;
	struct sgx_bound_data bound = {0};
	int rc;

	if (ctx == NULL || in == NULL || out == NULL)
		return serr(err, ATTEST_E_INVALID, "sgx.invalid",
			    "sgx_verify needs a context, an input and a claim set");
	rc = intel_quote_verify(ctx, quote, len, QUOTE_TEE_SGX, &res, "sgx", err);
	if (rc == ATTEST_OK && res.quote.body_type != QUOTE_BODY_SGX)
		rc = serr(err, ATTEST_E_PARSE, "sgx.quote.body_type",
			  "quote does not carry an SGX enclave report");
	if (rc == ATTEST_OK)
		rc = sgx_bind_data(in, &res.quote.sgx, &bound, err);
	if (rc == ATTEST_OK) {
		/* MAA's quotehash is over what the request carried (the OE report for OpenEnclave). */
		if (quote_hash_over != NULL)
			sha256(quote_hash_over, quote_hash_len, res.hashes.quote);
		rc = sgx_add_claims(out, in, &res, &bound, err);
	}
	sgx_bound_data_free(&bound);
	intel_quote_result_free(&res);
	return rc;
}

int sgx_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err)
{
	if (in == NULL || in->evidence == NULL)
		return serr(err, ATTEST_E_INVALID, "sgx.invalid", "no quote given");
	return sgx_verify_quote(ctx, in->evidence, in->evidence_len, in, NULL, 0, out, err);
}
