#ifndef ATTEST_EVIDENCE_SGX_INTERNAL_H
#define ATTEST_EVIDENCE_SGX_INTERNAL_H

/* Shared by sgx.c and oe.c: data binding and claims of an SGX enclave report. */

#include "claims/claims.h"
#include "evidence/evidence.h"
#include "evidence/intel.h"

#include <jansson.h>

/* Runtime / init-time data after binding: parsed JSON when the data type is JSON. */
struct sgx_bound_data {
	json_t *runtime_json;
	json_t *init_json;
};

/*
 * SHA-256(runtime data) == REPORTDATA[0:32] (sgx.runtime_data.mismatch),
 * SHA-256(init-time data) == CONFIGID[0:32] (sgx.init_data.mismatch), JSON
 * data parsed (sgx.runtime_data.json / sgx.init_data.json).
 */
int sgx_bind_data(const struct evidence_input *in, const struct sgx_report_body *body,
		  struct sgx_bound_data *b, struct attest_err *err);
void sgx_bound_data_free(struct sgx_bound_data *b);

/* Adds every SGX claim (body, data, TCB verdict, collateral hashes); takes the JSON of `bound`. */
int sgx_add_claims(struct claim_set *out, const struct evidence_input *in,
		   const struct intel_quote_result *res, struct sgx_bound_data *bound,
		   struct attest_err *err);

/*
 * The SGX verification of one quote with the request's data; quotehash is
 * computed over quote_hash_over when given (OE: the whole report).
 */
int sgx_verify_quote(const struct evidence_ctx *ctx, const uint8_t *quote, size_t len,
		     const struct evidence_input *in, const uint8_t *quote_hash_over, size_t quote_hash_len,
		     struct claim_set *out, struct attest_err *err);

#endif
