/*
 * Fuzz target: attest request bodies (src/token/request.c). The first byte
 * picks the attestation type, the rest is the body. Whatever decodes must
 * also yield request claims without error, and everything must be freed.
 */
#include "attest/error.h"
#include "claims/claims.h"
#include "token/catalogue.h"
#include "token/request.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum maa_type type;
	struct attest_request *req = NULL;
	struct attest_err err;

	if (size < 1)
		return 0;
	type = (enum maa_type)(data[0] % MAA_TYPE_COUNT);
	attest_err_clear(&err);
	if (attest_request_decode(type, (const char *)data + 1, size - 1, &req, &err) == ATTEST_OK) {
		struct claim_set *set = claim_set_new();
		struct evidence_input in;

		attest_request_input(req, &in);
		if (set != NULL &&
		    token_add_request_claims(token_catalogue_get(type), req, set, &err) != ATTEST_OK &&
		    err.rc != ATTEST_E_NOMEM)
			__builtin_trap(); /* a decoded request always yields its claims */
		claim_set_free(set);
		attest_request_free(req);
	} else if (req != NULL || err.name[0] == '\0') {
		__builtin_trap(); /* a failure leaves no request and names itself */
	}
	return 0;
}
