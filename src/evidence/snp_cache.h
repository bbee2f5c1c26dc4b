#ifndef ATTEST_EVIDENCE_SNP_CACHE_H
#define ATTEST_EVIDENCE_SNP_CACHE_H

/* Internal to the SNP verifier: the chain cache's get/put (snp.h has the rest). */

#include "evidence/amd_certs.h"
#include "evidence/snp.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Finds key; a hit is an entry whose validity window holds now
 * (valid_from <= now < valid_until). *out is a copy with its own reference
 * on leaf_key (caller frees it), written only on a hit.
 */
bool snp_chain_cache_get(struct snp_chain_cache *c, const uint8_t key[32], int64_t now,
			 struct amd_chain_result *out);
/* Stores a copy of res (taking its own reference on res->leaf_key). */
void snp_chain_cache_put(struct snp_chain_cache *c, const uint8_t key[32],
			 const struct amd_chain_result *res);

#endif
