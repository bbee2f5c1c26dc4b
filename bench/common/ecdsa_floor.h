#ifndef ATTEST_BENCH_COMMON_ECDSA_FLOOR_H
#define ATTEST_BENCH_COMMON_ECDSA_FLOOR_H

/*
 * The scale the cache benchmarks print their figures beside: the mean
 * wall time in ns of one ECDSA P-256 verification (crypto.h's
 * ecdsa_verify_der) of msg, over iters checks; -1 when the key or the
 * signature cannot be made.
 */
#include "base/timeutil.h"
#include "crypto/crypto.h"

#include <openssl/evp.h>

static inline double bench_ecdsa_p256_verify_ns(const void *msg, size_t n, int iters)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t sig[128];
	size_t sl = sizeof(sig);
	uint64_t t0;
	double t = -1;

	if (k && m && iters > 0 && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(m, sig, &sl, (const uint8_t *)msg, n) == 1) {
		t0 = time_mono_ns();
		for (int i = 0; i < iters; i++)
			ecdsa_verify_der(k, HASH_SHA256, msg, n, sig, sl, "bench", NULL);
		t = (double)(time_mono_ns() - t0) / iters;
	}
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(k);
	return t;
}

#endif
