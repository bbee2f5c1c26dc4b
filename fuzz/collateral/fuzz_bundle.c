/*
 * libFuzzer target: collateral bundles and verification receipts
 * (src/collateral/bundle.c). Whatever parses must serialise and parse
 * again to the same items (keys, kinds, bytes) and members, and its keys
 * must be well-formed for their kinds.
 */
#include "collateral/bundle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_items(const struct bundle *a, const struct bundle *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct bundle_item *x = &a->items[i], *y = bundle_find(b, x->key);

		if (y == NULL || y->kind != x->kind || !bundle_key_ok(x->kind, x->key) ||
		    y->blob.len != x->blob.len || memcmp(y->blob.data, x->blob.data, x->blob.len) != 0 ||
		    y->blob.chain_len != x->blob.chain_len ||
		    (x->blob.chain_len && memcmp(y->blob.chain, x->blob.chain, x->blob.chain_len) != 0))
			abort();
	}
}

static void receipt_round_trip(const uint8_t *data, size_t size)
{
	struct receipt r = {0}, again = {0};
	struct attest_err err;
	json_t *doc;
	char *text;

	attest_err_clear(&err);
	if (receipt_parse((const char *)data, size, &r, &err) != ATTEST_OK)
		return;
	if ((doc = receipt_to_json(&r)) != NULL) { /* NULL: no time or issuer */
		text = json_dumps(doc, JSON_COMPACT);
		if (text == NULL || receipt_parse(text, strlen(text), &again, &err) != ATTEST_OK ||
		    strcmp(again.token, r.token) != 0 || strcmp(again.type, r.type) != 0 ||
		    !json_equal(again.request, r.request))
			abort();
		same_items(r.collateral, again.collateral);
		free(text);
		json_decref(doc);
	}
	receipt_clear(&again);
	receipt_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle *b = NULL, *again = NULL;
	struct attest_err err;
	json_t *doc;
	char *text;

	receipt_round_trip(data, size);
	attest_err_clear(&err);
	if (bundle_parse((const char *)data, size, &b, &err) != ATTEST_OK)
		return 0;
	doc = bundle_to_json(b);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (text == NULL || bundle_parse(text, strlen(text), &again, &err) != ATTEST_OK)
		abort();
	same_items(b, again);
	free(text);
	json_decref(doc);
	bundle_free(again);
	bundle_free(b);
	return 0;
}
