#ifndef ATTEST_BENCH_COMMON_ECDSA_FLOOR_H
#define ATTEST_BENCH_COMMON_ECDSA_FLOOR_H

/*
 * The scale the cache benchmarks print their figures beside: the median
 * CPU time (bench_time.h: the calling thread's, so the neighbours on a
 * shared machine do not count) in ns of one ECDSA P-256 verification
 * (crypto.h's ecdsa_verify_der) of msg, over iters checks each timed
 * alone (one is ~80 us, the clock read well under 1 %); -1 when the key,
 * the signature or the samples cannot be made, or a check fails.
 */
#include "crypto/crypto.h"
#include "bench_time.h"

#include <openssl/evp.h>

static inline double bench_ecdsa_p256_verify_ns(const void *msg, size_t n, int iters)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint64_t *ns = iters > 0 ? calloc((size_t)iters, sizeof(*ns)) : NULL;
	uint8_t sig[128];
	size_t sl = sizeof(sig);
	double t = -1;
	int bad = 0;

	if (k && m && ns && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(m, sig, &sl, (const uint8_t *)msg, n) == 1) {
		for (int i = 0; i < iters; i++) {
			uint64_t t0 = bench_cpu_ns();

			bad |= ecdsa_verify_der(k, HASH_SHA256, msg, n, sig, sl, "bench", NULL) != ATTEST_OK;
			ns[i] = bench_cpu_ns() - t0;
		}
		if (!bad)
			t = bench_median_us(ns, (size_t)iters) * 1000.0;
	}
	free(ns);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(k);
	return t;
}

#endif
