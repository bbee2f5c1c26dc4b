/*
 * SGX quote verification: cold (nothing cached: every chain, CRL, TCB Info
 * and QE identity verified) and warm (caches hot: the two signatures that
 * depend on the quote) for each real SGX/OE quote, beside the floor measured
 * in the same run (two ECDSA P-256 verifications with OpenSSL: the ISV
 * signature and the QE report signature, keys already loaded) and beside
 * @phala/dcap-qvl (node) verifying the same quote with the same collateral
 * at the same pinned time. Figures are medians of CPU time per verification
 * (the machine is shared; wall time would time the neighbours). Reports,
 * never asserts (RULES.md).
 *
 * Cold = a fresh collateral cache per verification, starting from the
 * collateral bytes in memory (the peer is handed its collateral in memory
 * too; memsrc.h): every certificate and CRL parsed and verified, TCB Info
 * and QE identity parsed and verified; only the trust anchors
 * (configuration) are loaded once, as attestd does at start-up.
 *
 * Usage: bench_sgx [iterations]   (ATTEST_VECTORS overrides the vectors folder;
 * ATTEST_BENCH_NO_PEER=1 skips node, e.g. under callgrind)
 */
#include "base/timeutil.h"
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "evidence/intel.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"
#include "memsrc.h"
#include "bench_time.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ATTEST_SOURCE_DIR
#define ATTEST_SOURCE_DIR "."
#endif
#ifndef ATTEST_VECTORS_DIR
#define ATTEST_VECTORS_DIR "../shared/vectors"
#endif

struct vec {
	const char *name;
	const char *quote;
	const char *coll;
	int64_t now;
	bool dcap_qvl; /* dcap-qvl can verify it (TCB Info v3) */
};

static const struct vec VECS[] = {
    {"phala-sgx-v3-2023-11", "sgx/phala-sgx-v3-00a067110000-2023-11/quote.bin",
     "sgx/phala-sgx-v3-00a067110000-2023-11", 1700611200, true},
    {"phala-sgx-v3-2025-06", "sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin",
     "sgx/phala-sgx-v3-00a067110000-2025-06", 1750377600, true},
    {"oe-plugin-2022-04", "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26/quote.bin",
     "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26", 1651017600, false},
    {"oe-js-report-2022-01", "oe/azure-sdk-js-oe-report-00906ed50000-2022-01/quote.bin",
     "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26", 1651017600, false},
};

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n)) != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	*len = p ? (size_t)n : 0;
	fclose(f);
	return p;
}

static int failures;

/* Trust anchors are configuration, loaded once like attestd does at start-up (not a cache). */
static struct evidence_anchors anchors;

static int verify_once(struct collateral_source *src, int64_t now, const uint8_t *q, size_t len)
{
	struct evidence_ctx ctx = {.now = now, .collateral = src, .anchors = &anchors};
	struct evidence_input in = {.evidence = q, .evidence_len = len};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int rc;

	attest_err_clear(&err);
	rc = sgx_verify(&ctx, &in, cs, &err);
	if (rc != ATTEST_OK && failures++ < 3) /* a figure of failing runs is no figure: say so */
		fprintf(stderr, "verify failed: %s: %s\n", err.name, err.msg);
	claim_set_free(cs);
	return rc;
}

/* The floor: the two quote-dependent ECDSA P-256 verifications, keys loaded once. */
static uint64_t floor_once(const struct quote *q, EVP_PKEY *att, EVP_PKEY *pck_key)
{
	uint64_t t0 = bench_cpu_ns();

	if (ecdsa_verify_rs_be(att, HASH_SHA256, q->signed_data, q->signed_len, q->isv_sig, 64, "b", NULL) !=
		0 ||
	    ecdsa_verify_rs_be(pck_key, HASH_SHA256, q->qe_report, 384, q->qe_report_sig, 64, "b", NULL) != 0)
		fprintf(stderr, "floor: a signature did not verify\n");
	return bench_cpu_ns() - t0;
}

/* The PCK public key of the quote's chain (for the floor). */
static EVP_PKEY *pck_key_of(const struct quote *q)
{
	const uint8_t *pem;
	size_t n;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *k = NULL;

	if (quote_pck_chain_pem(q, &pem, &n, "bench", NULL) == 0 &&
	    x509_stack_from_pem(pem, n, &chain, "b", NULL) == 0)
		k = X509_get_pubkey(sk_X509_value(chain, 0));
	sk_X509_pop_free(chain, X509_free);
	return k;
}

static void dcap_qvl(const char *vectors, const struct vec *v, int iters, double *med, char *status,
		     size_t slen)
{
	char cmd[8192], line[1024];
	FILE *p;
	const char *s;

	*med = -1;
	snprintf(status, slen, "not run");
	snprintf(cmd, sizeof(cmd),
		 "node %s/bench/evidence/bench_sgx_dcapqvl.mjs %s/tests/interop/node_modules/@phala/dcap-qvl "
		 "%s/%s %s/%s/collateral.dcap-qvl.json %lld %d 2>/dev/null",
		 ATTEST_SOURCE_DIR, ATTEST_SOURCE_DIR, vectors, v->quote, vectors, v->coll, (long long)v->now,
		 iters);
	if ((p = popen(cmd, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), p) != NULL) {
		if ((s = strstr(line, "\"median_us\":")) != NULL)
			*med = strtod(s + 12, NULL);
		if ((s = strstr(line, "\"status\":\"")) != NULL)
			snprintf(status, slen, "%.*s", (int)strcspn(s + 10, "\""), s + 10);
	}
	pclose(p);
}

/*
 * Cold and the peer are measured in alternating rounds (ours, then
 * dcap-qvl's, PEER_ROUNDS times) and their ratio is the median of the
 * rounds' ratios: on a shared machine the speed of the CPU drifts over the
 * seconds a vector takes, and a ratio of two figures measured at different
 * moments carries that drift; within a round both sides see the same.
 */
#define PEER_ROUNDS 5

/* Median CPU time of n cold verifications: a fresh cache each (chains, CRLs, collateral parsed and verified).
 */
static double cold_us(struct collateral_source *src, const struct vec *v, const uint8_t *quote, size_t len,
		      uint64_t *ns, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t t0 = bench_cpu_ns();

		src->cache = collateral_cache_new(16);
		verify_once(src, v->now, quote, len);
		collateral_cache_free(src->cache);
		ns[i] = bench_cpu_ns() - t0;
	}
	src->cache = NULL;
	return bench_median_us(ns, n);
}

static void bench_vector(const char *vectors, const struct vec *v, int iters)
{
	char path[4096], status[128];
	struct collateral_source *src = NULL;
	struct quote q;
	uint8_t *quote;
	size_t len;
	uint64_t *ns = calloc((size_t)iters, sizeof(*ns)), *fns = calloc((size_t)iters, sizeof(*fns));
	double cold, warm, fl, peer, ratio, cold_r[PEER_ROUNDS], peer_r[PEER_ROUNDS], ratio_r[PEER_ROUNDS];
	EVP_PKEY *pck = NULL, *att = NULL;
	int i, r, rounds = 1, peers = 0;

	snprintf(path, sizeof(path), "%s/%s", vectors, v->quote);
	if (ns == NULL || fns == NULL || (quote = slurp(path, &len)) == NULL) {
		printf("%-22s  (vector missing)\n", v->name);
		free(ns);
		free(fns);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", vectors, v->coll);
	{
		struct collateral_source *files = NULL;

		if (collateral_file_source_new(path, &files, NULL) != ATTEST_OK ||
		    memsrc_new(files, &src) != 0) {
			printf("%-22s  (collateral unreadable)\n", v->name);
			free(ns);
			free(fns);
			free(quote);
			return;
		}
	}
	quote_parse(quote, len, QUOTE_TEE_SGX, &q, "sgx", NULL);
	/* Untimed: the memory source reads the collateral files once. */
	src->cache = collateral_cache_new(16);
	verify_once(src, v->now, quote, len);
	collateral_cache_free(src->cache);
	/* Cold, and the peer on the same quote and collateral, in alternating rounds. */
	status[0] = '\0';
	for (r = 0; r < PEER_ROUNDS; r++) {
		cold_r[r] =
		    cold_us(src, v, quote, len, ns, iters / PEER_ROUNDS > 5 ? iters / PEER_ROUNDS : 5);
		if (!v->dcap_qvl || getenv("ATTEST_BENCH_NO_PEER") != NULL) {
			rounds = 1;
			break;
		}
		dcap_qvl(vectors, v, 30, &peer_r[r], status, sizeof(status));
		if (peer_r[r] <= 0) {
			rounds = 1;
			break;
		}
		ratio_r[r] = peer_r[r] / cold_r[r];
		rounds = r + 1;
		peers = rounds;
	}
	cold = bench_median(cold_r, rounds);
	peer = peers > 0 ? bench_median(peer_r, peers) : -1;
	ratio = peers > 0 ? bench_median(ratio_r, peers) : 0;
	/*
	 * Warm: one cache, primed. Each iteration also times the floor, so
	 * both see the same neighbours on this shared machine.
	 */
	pck = pck_key_of(&q);
	att = NULL;
	if (pck == NULL || ec_pubkey_from_xy(EC_P256, q.att_key, 64, &att, "bench", NULL) != ATTEST_OK) {
		printf("%-22s  (keys unreadable)\n", v->name);
		goto out;
	}
	src->cache = collateral_cache_new(16);
	verify_once(src, v->now, quote, len);
	for (i = 0; i < iters; i++) {
		uint64_t t0 = bench_cpu_ns();

		verify_once(src, v->now, quote, len);
		ns[i] = bench_cpu_ns() - t0;
		fns[i] = floor_once(&q, att, pck);
	}
	warm = bench_median_us(ns, iters);
	fl = bench_median_us(fns, iters);
	collateral_cache_free(src->cache);
	src->cache = NULL;
	printf("%-22s cold %8.1f us  warm %7.1f us  floor %7.1f us  warm/floor %5.2fx", v->name, cold, warm,
	       fl, fl > 0 ? warm / fl : 0);
	if (peer > 0)
		printf("  dcap-qvl %9.1f us (%s)  dcap-qvl/cold %6.1fx", peer, status, ratio);
	printf("\n");
out:
	EVP_PKEY_free(pck);
	EVP_PKEY_free(att);
	collateral_source_free(src);
	free(src);
	free(quote);
	free(ns);
	free(fns);
}

int main(int argc, char **argv)
{
	const char *vectors = getenv("ATTEST_VECTORS") ? getenv("ATTEST_VECTORS") : ATTEST_VECTORS_DIR;
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	size_t i;

	if (iters < 5)
		iters = 5;
	if (intel_sgx_default_roots(&anchors.intel_sgx_roots, NULL) != ATTEST_OK)
		return 1;
	printf("bench_sgx: median CPU time of %d verifications per figure (vectors: %s)\n", iters, vectors);
	printf("goals: warm within 1.3x the two-signature floor; cold at least 10x faster than "
	       "@phala/dcap-qvl\n");
	printf("cold and dcap-qvl: %d alternating rounds (ours, then the peer's 30 calls after its 5 warm-up "
	       "calls); figures and "
	       "dcap-qvl/cold are medians over the rounds\n",
	       PEER_ROUNDS);
	for (i = 0; i < sizeof(VECS) / sizeof(VECS[0]); i++)
		bench_vector(vectors, &VECS[i], iters);
	sk_X509_pop_free(anchors.intel_sgx_roots, X509_free);
	return 0;
}
