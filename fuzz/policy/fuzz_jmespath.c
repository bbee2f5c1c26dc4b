/*
 * libFuzzer target: JMESPath. The input is "query\0document": the query is
 * compiled and, when the document is JSON, evaluated on it.
 */
#include "policy/jmespath.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t qlen = nul ? (size_t)(nul - data) : size;
	struct jmes_expr *e = NULL;
	struct attest_err err;
	json_t *doc, *out = NULL;

	attest_err_clear(&err);
	if (jmes_compile((const char *)data, qlen, &e, &err) != 0)
		return 0;
	doc = nul ? json_loadb((const char *)nul + 1, size - qlen - 1, JSON_DECODE_ANY, NULL) : json_object();
	if (doc != NULL && jmes_search(e, doc, &out, &err) == 0)
		json_decref(out);
	json_decref(doc);
	jmes_free(e);
	return 0;
}
