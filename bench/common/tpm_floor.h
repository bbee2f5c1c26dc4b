#ifndef ATTEST_BENCH_COMMON_TPM_FLOOR_H
#define ATTEST_BENCH_COMMON_TPM_FLOOR_H

/*
 * The hashing a TCG log's replay cannot avoid, for the floors of the
 * benchmarks that verify TPM evidence (bench_tpm, bench_azure_guest): one
 * extend per event of the bank in the quoted PCRs, one H(data) per event
 * whose type binds its data, the cheapest way OpenSSL 3 offers (digest
 * fetched once, one context reused for every hash).
 */
#include "evidence/tcg_log.h"

#include <openssl/evp.h>
#include <string.h>

static inline void bench_hash_into(EVP_MD_CTX *h, const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	EVP_DigestInit_ex(h, md, NULL);
	EVP_DigestUpdate(h, p, n);
	EVP_DigestFinal_ex(h, out, NULL);
}

static inline void bench_log_hashing(const struct tcg_log *log, enum tpm_bank bank, uint32_t pcr_mask,
				     EVP_MD_CTX *h, const EVP_MD *bank_md)
{
	size_t bl = tpm_bank_size(bank);
	uint8_t buf[2 * TPM_PCR_MAX_DIGEST], out[TPM_PCR_MAX_DIGEST];

	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (ev->type == EV_NO_ACTION || !(ev->digests & (1u << bank)) ||
		    !(pcr_mask & (1u << ev->pcr)))
			continue;
		memset(buf, 0, bl);
		memcpy(buf + bl, ev->digest[bank], bl);
		bench_hash_into(h, bank_md, buf, 2 * bl, out); /* PCR_new = H(PCR_old || digest) */
		if (ev->bound) /* a type whose digest is defined over its data */
			bench_hash_into(h, bank_md, ev->data, ev->data_len, out);
	}
}

#endif
