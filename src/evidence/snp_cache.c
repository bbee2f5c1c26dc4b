/*
 * The verified-chain cache (snp.h): a chain_cache (chain_cache.h) of
 * struct amd_chain_result, each entry holding one reference on its leaf
 * key and valid in the chain's (and CRL's) window.
 */
#include "evidence/snp_cache.h"

#include "evidence/chain_cache.h"

#include <stdlib.h>

struct snp_chain_cache {
	struct chain_cache *chains;
};

static bool chain_hold(const void *payload)
{
	const struct amd_chain_result *r = payload;

	return EVP_PKEY_up_ref(r->leaf_key) == 1;
}

static void chain_release(void *payload)
{
	struct amd_chain_result *r = payload;

	EVP_PKEY_free(r->leaf_key);
}

static const struct chain_cache_type SNP_CHAIN_TYPE = {.payload_size = sizeof(struct amd_chain_result),
						       .hold = chain_hold,
						       .release = chain_release,
						       .evict = CHAIN_CACHE_EVICT_LRU};

struct snp_chain_cache *snp_chain_cache_new(size_t capacity)
{
	struct snp_chain_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->chains = chain_cache_new(capacity, &SNP_CHAIN_TYPE)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void snp_chain_cache_free(struct snp_chain_cache *c)
{
	if (c == NULL)
		return;
	chain_cache_free(c->chains);
	free(c);
}

void snp_chain_cache_stats(struct snp_chain_cache *c, uint64_t *hits, uint64_t *misses)
{
	chain_cache_stats(c->chains, hits, misses);
}

bool snp_chain_cache_get(struct snp_chain_cache *c, const uint8_t key[32], int64_t now,
			 struct amd_chain_result *out)
{
	return chain_cache_get(c->chains, key, now, NULL, NULL, out);
}

void snp_chain_cache_put(struct snp_chain_cache *c, const uint8_t key[32], const struct amd_chain_result *res)
{
	/* [valid_from, valid_until): valid_until is the earliest notAfter or nextUpdate (amd_certs.h). */
	chain_cache_put(c->chains, key, res->valid_from, res->valid_until, res);
}
