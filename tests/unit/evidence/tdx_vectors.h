#ifndef ATTEST_TEST_TDX_VECTORS_H
#define ATTEST_TEST_TDX_VECTORS_H

/*
 * The real TDX vectors of shared/vectors/tdx and what EXPECTED.md says of
 * them, plus helpers shared by the TDX tests, fuzz target and benchmark:
 * load a vector's quote, its bundle time, and a collateral file source over
 * its folder. Include after testutil.h.
 */

#include "collateral/collateral.h"
#include "evidence/evidence.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct tdx_vector {
	const char *dir;	   /* below the vectors folder */
	const char *status;	   /* EXPECTED.md verdict, or NULL: "No matching TCB level" */
	const char *advisories[4]; /* EXPECTED.md advisory IDs (any order) */
	bool no_crl;		   /* published without CRLs */
	const char *mrtd;
};

static const struct tdx_vector TDX_VECTORS[] = {
    {"tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06",
     "OutOfDate",
     {"INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986", NULL},
     false,
     "935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc57650df20e5582158352e1240b3f1fed55d8"},
    {"tdx/edgeless-tdx-v4-00806f050000-2023-02-nocrl",
     "UpToDate",
     {NULL},
     true,
     "b65ea009e424e6f761fdd3d7c8962439453b37ecdf62da04f7bc5d327686bb8bafc8a5d24a9c31cee60e4aba87c2f71b"},
    {"tdx/google-tdx-v4-spr-e4-50806f000000-2023-07",
     NULL,
     {NULL},
     false,
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"},
    {"tdx/google-tdx-v5-90c06f000000-2026-02",
     "UpToDate",
     {NULL},
     false,
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876"},
    {"tdx/phala-tappd-tdx-v4-b0c06f000000-2025-06",
     NULL,
     {NULL},
     false,
     "c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd"},
    {"tdx/phala-tdx-v4-b0c06f000000-2025-06",
     "UpToDate",
     {NULL},
     false,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"},
    {"tdx/phala-tdx-v5-90c06f000000-outdated-2026-02",
     NULL,
     {NULL},
     false,
     "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd"},
};
#define TDX_VECTOR_COUNT (sizeof(TDX_VECTORS) / sizeof(TDX_VECTORS[0]))

/* A loaded vector: quote bytes, bundle time, collateral source (with a cache). */
struct tdx_loaded {
	uint8_t *quote;
	size_t len;
	int64_t now;
	struct collateral_source *src;
	struct collateral_cache *cache;
};

static inline int64_t tdx_bundle_now(const char *vectors, const char *dir)
{
	char path[2048];
	json_t *doc;
	int64_t now = 0;

	snprintf(path, sizeof(path), "%.1000s/%.900s/bundle.json", vectors, dir);
	doc = json_load_file(path, 0, NULL);
	if (doc != NULL)
		now = json_integer_value(json_object_get(doc, "now_unix"));
	json_decref(doc);
	return now;
}

/* Loads a vector; 0 on success. cache_entries 0: no cache (cold every time). */
static inline int tdx_vector_load(const char *vectors, const struct tdx_vector *v, size_t cache_entries,
				  struct tdx_loaded *out)
{
	char rel[1024];
	struct attest_err err;

	snprintf(rel, sizeof(rel), "%.900s/quote.bin", v->dir);
	out->quote = test_read_vector(vectors, rel, &out->len);
	out->now = tdx_bundle_now(vectors, v->dir);
	snprintf(rel, sizeof(rel), "%.500s/%.400s", vectors, v->dir);
	out->src = NULL;
	out->cache = NULL;
	if (out->quote == NULL || out->now == 0 || collateral_file_source_new(rel, &out->src, &err) != 0)
		return -1;
	if (cache_entries > 0) {
		out->cache = collateral_cache_new(cache_entries);
		out->src->cache = out->cache;
	}
	return 0;
}

static inline void tdx_vector_unload(struct tdx_loaded *l)
{
	free(l->quote);
	if (l->src != NULL) {
		collateral_source_free(l->src);
		free(l->src);
	}
	if (l->cache != NULL)
		collateral_cache_free(l->cache);
	l->quote = NULL;
	l->src = NULL;
	l->cache = NULL;
}

static inline void tdx_vector_ctx(const struct tdx_loaded *l, const struct tdx_vector *v,
				  struct evidence_ctx *ctx)
{
	ctx->now = l->now;
	ctx->anchors = NULL; /* the built-in Intel SGX Root CA */
	ctx->collateral = l->src;
	ctx->flags = v->no_crl ? EVIDENCE_NO_REVOCATION : 0;
}

#endif
