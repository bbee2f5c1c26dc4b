/*
 * Fuzz target: token parsing and serialisation (src/token/token.c). Any
 * input is split as a compact JWS and decoded; what decodes must survive a
 * member-sorted copy, re-encode, and decode again to the same JSON.
 */
#include "attest/error.h"
#include "token/token.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *h = NULL, *p = NULL, *h2 = NULL, *p2 = NULL, *sorted;
	struct attest_err err;
	char *again;

	attest_err_clear(&err);
	if (token_decode_unverified((const char *)data, size, &h, &p, &err) != ATTEST_OK) {
		if (err.name[0] == '\0')
			__builtin_trap(); /* every refusal names itself */
		return 0;
	}
	sorted = token_json_sorted(p);
	if (sorted != NULL && !json_equal(sorted, p))
		__builtin_trap(); /* sorting changes order, never content */
	again = token_encode_unsigned(p);
	if (again != NULL) {
		if (token_decode_unverified(again, strlen(again), &h2, &p2, &err) != ATTEST_OK || !json_equal(p, p2))
			__builtin_trap(); /* what we encode we decode */
		free(again);
	}
	json_decref(sorted);
	json_decref(h);
	json_decref(p);
	json_decref(h2);
	json_decref(p2);
	return 0;
}
