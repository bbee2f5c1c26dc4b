/*
 * libFuzzer target: jsonx_load (src/base/json_read.c), the JSON reader
 * behind jsonx_parse (request bodies, Intel collateral, every document),
 * against jansson's json_loadb with jsonx_parse's flags. Invariants (abort on violation):
 * never accept what jansson refuses; refuse what jansson accepts only for
 * input holding a NUL byte (jansson skips a NUL after some tokens; this
 * reader refuses NUL outside strings); accepted values are equal
 * (json_equal); a refusal says why and where (within the input); nothing
 * leaks.
 */
#include "base/jsonx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *mine = NULL,
	       *theirs =
		   json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	char why[96] = "";
	size_t at = 0;
	int rc = jsonx_load(text, size, &mine, why, sizeof(why), &at);

	if (rc == ATTEST_OK && theirs == NULL)
		abort();
	if (rc != ATTEST_OK && theirs != NULL && memchr(data, 0, size) == NULL)
		abort();
	if (rc == ATTEST_OK && !json_equal(mine, theirs))
		abort();
	if (rc != ATTEST_OK && (why[0] == '\0' || at > size || mine != NULL))
		abort();
	json_decref(mine);
	json_decref(theirs);
	return 0;
}
