/*
 * libFuzzer target: jsonx_load (src/base/json_read.c), the JSON reader
 * behind jsonx_parse (request bodies, Intel collateral, every document),
 * against jansson's json_loadb with jsonx_parse's flags. Invariants (abort
 * on violation): never accept what jansson refuses; refuse what jansson
 * accepts only at a NUL byte (jansson skips a NUL after some tokens; this
 * reader refuses NUL outside strings); accepted values are equal
 * (json_equal); a refusal says why and where (within the input); nothing
 * leaks. The index (jsonx_read) is walked too: every container's text
 * reads back to the same value, every key of an object finds its value.
 */
#include "base/jsonx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every container of the index: its exact text reads back to its value; every key finds its value. */
static void walk_index(const char *text, size_t size)
{
	struct jsonx_doc d;

	if (jsonx_read(text, size, &d, NULL, 0, NULL) != ATTEST_OK)
		abort(); /* jsonx_load accepted it */
	for (uint32_t i = 0; i < d.n; i++) {
		const struct jsonx_node *v = &d.nodes[i];
		json_t *mine, *again = NULL;
		const char *t;
		size_t n = 0;

		if (v->kind != JSONX_OBJECT && v->kind != JSONX_ARRAY)
			continue;
		t = jsonx_text(&d, v, &n);
		mine = jsonx_json(&d, v);
		if (t == NULL || mine == NULL || jsonx_load(t, n, &again, NULL, 0, NULL) != ATTEST_OK ||
		    !json_equal(mine, again))
			abort();
		json_decref(mine);
		json_decref(again);
		for (const struct jsonx_node *k = v->kind == JSONX_OBJECT ? jsonx_first(&d, v) : NULL; k != NULL;
		     k = jsonx_next(&d, v, k)) {
			const char *key = jsonx_str(&d, k, &n);
			char *z = key != NULL ? strndup(key, n) : NULL;

			/* keys with a NUL are refused by the reader; the others find their own value */
			if (z == NULL || strlen(z) != n || jsonx_member(&d, v, z) != k + 1)
				abort();
			free(z);
		}
	}
	jsonx_doc_free(&d);
}

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
	if (rc != ATTEST_OK && theirs != NULL && (at >= size || data[at] != 0))
		abort();
	if (rc == ATTEST_OK && !json_equal(mine, theirs))
		abort();
	if (rc != ATTEST_OK && (why[0] == '\0' || at > size || mine != NULL))
		abort();
	if (rc == ATTEST_OK)
		walk_index(text, size);
	json_decref(mine);
	json_decref(theirs);
	return 0;
}
