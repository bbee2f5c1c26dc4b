/*
 * Collateral lookups and SGX attestation latency with collateral cold
 * (fetched over HTTPS from a local server replaying the real PCS answers of
 * shared/vectors) and warm (served by the caching source), beside the
 * cryptographic floor measured in the same run (one TCB Info signature
 * check: ECDSA P-256 over the served member), and the number of upstream
 * requests per 10,000 lookups over 100 distinct keys (FMSPCs), sequential
 * and from 4 threads. Reports, never asserts (issue 12, Benchmarks).
 *
 * Usage: bench_collateral [cold iterations]   (ATTEST_VECTORS overrides the vectors folder)
 */
#include "../../tests/common/testutil.h"
#include "../../tests/unit/collateral/test_pcs_server.h"

#include "base/timeutil.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "collateral/pcs.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "evidence/sgx.h"
#include "evidence/tcb.h"
#include "bench_time.h"

#ifndef ATTEST_VECTORS_DIR
#define ATTEST_VECTORS_DIR "../shared/vectors"
#endif

#define VEC	"sgx/phala-sgx-v3-00a067110000-2023-11"
#define VEC_NOW 1700611200 /* its bundle.json now_unix */
#define LOOKUPS 10000
#define KEYS	100

static int64_t bench_clock(void *arg)
{
	(void)arg;
	return VEC_NOW;
}

static double now_us(void)
{
	return (double)time_mono_ns() / 1000.0;
}

static struct collateral_source *new_pcs(struct tps *s)
{
	struct pcs_options o = {0};
	struct collateral_source *src = NULL;
	char root[128];

	snprintf(root, sizeof(root), "%s/IntelSGXRootCA.der", s->base);
	o.base_url = s->base;
	o.root_ca_crl_url = root;
	o.ca_pem = (const uint8_t *)s->cert_pem;
	o.ca_pem_len = strlen(s->cert_pem);
	if (pcs_source_new(&o, &src, NULL) != ATTEST_OK)
		return NULL;
	return src;
}

static struct collateral_source *new_cached(struct collateral_source *up)
{
	struct cached_options o = {.clock = bench_clock};
	struct collateral_source *c = NULL;

	if (cached_source_new(up, false, &o, &c, NULL) != ATTEST_OK)
		return NULL;
	return c;
}

static void drop(struct collateral_source *s)
{
	collateral_source_free(s);
	free(s);
}

static int attest_once(struct collateral_source *src, const uint8_t *quote, size_t len)
{
	struct evidence_ctx ctx = {.now = VEC_NOW, .collateral = src};
	struct evidence_input in = {.evidence = quote, .evidence_len = len};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int rc;

	attest_err_clear(&err);
	rc = sgx_verify(&ctx, &in, cs, &err);
	if (rc != ATTEST_OK)
		fprintf(stderr, "sgx_verify: %s: %s\n", err.name, err.msg);
	claim_set_free(cs);
	return rc;
}

/* The floor: one TCB Info signature check (parsed once, key from the chain's first certificate). */
static double floor_us(const char *vectors, int iters)
{
	size_t n = 0, cn = 0;
	uint8_t *body = test_read_vector(vectors, VEC "/tcb_info.json", &n);
	uint8_t *chain = test_read_vector(vectors, VEC "/tcb_info_issuer_chain.pem", &cn);
	STACK_OF(X509) *st = NULL;
	struct tcb_info *ti = NULL;
	double t0, t = -1;

	if (body && chain && x509_stack_from_pem(chain, cn, &st, "bench", NULL) == ATTEST_OK &&
	    tcb_info_parse(body, n, &ti, "sgx", NULL) == ATTEST_OK) {
		t0 = now_us();
		for (int i = 0; i < iters; i++)
			tcb_info_verify_signature(ti, X509_get0_pubkey(sk_X509_value(st, 0)), "sgx", NULL);
		t = (now_us() - t0) / iters;
	}
	tcb_info_free(ti);
	sk_X509_pop_free(st, X509_free);
	free(body);
	free(chain);
	return t;
}

struct worker {
	struct collateral_source *src;
	int first, count;
	unsigned seed;
	int failures;
};

static void fmspc_of(int k, uint8_t f[6])
{
	f[0] = 0x00, f[1] = 0xa0, f[2] = 0x67, f[3] = 0x11, f[4] = (uint8_t)(k >> 8), f[5] = (uint8_t)k;
}

static void *lookups(void *arg)
{
	struct worker *w = arg;
	struct collateral_blob b = {0};
	uint8_t f[6];

	for (int i = 0; i < w->count; i++) {
		fmspc_of((int)(rand_r(&w->seed) % KEYS), f);
		if (collateral_get_tcb_info(w->src, COLLATERAL_TEE_SGX, f, &b, NULL) != ATTEST_OK)
			w->failures++;
		collateral_blob_free(&b);
	}
	return NULL;
}

/* Upstream requests for LOOKUPS lookups over KEYS FMSPCs spread over `threads` threads. */
static void distinct_keys(struct tps *s, int threads)
{
	struct collateral_source *pcs = new_pcs(s), *c = new_cached(pcs);
	struct worker w[4];
	pthread_t th[4];
	unsigned before = atomic_load(&s->requests);
	int failures = 0;
	double t0 = now_us(), dt;

	atomic_store(&s->delay_ms, 5); /* a slightly slow upstream, so concurrent misses overlap */
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){c, 0, LOOKUPS / threads, 1234u + (unsigned)i, 0};
		pthread_create(&th[i], NULL, lookups, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	dt = now_us() - t0;
	atomic_store(&s->delay_ms, 0);
	printf("  %d lookups, %d distinct FMSPCs, %d thread(s): %u upstream requests, %d failures, %.0f ms\n",
	       LOOKUPS, KEYS, threads, atomic_load(&s->requests) - before, failures, dt / 1000.0);
	drop(c);
	drop(pcs);
}

int main(int argc, char **argv)
{
	const char *vectors = getenv("ATTEST_VECTORS") ? getenv("ATTEST_VECTORS") : ATTEST_VECTORS_DIR;
	int cold_iters = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 20, warm_iters = 2000;
	double *samples = calloc((size_t)cold_iters, sizeof(double));
	struct tps srv = {0};
	struct collateral_source *pcs, *c;
	struct collateral_blob b = {0};
	struct collateral_cache *vcache;
	uint8_t f[6];
	uint8_t *quote;
	size_t qlen = 0;
	unsigned before;
	double fetches, t0, cold_new_conn, cold_lookup, warm_lookup, cold_att, warm_att, fl;

	if (!tps_add_intel(&srv, vectors, VEC) || !tps_start(&srv)) {
		fprintf(stderr, "cannot start the replay server over %s/%s\n", vectors, VEC);
		return 1;
	}
	quote = test_read_vector(vectors, VEC "/quote.bin", &qlen);
	pcs = new_pcs(&srv);
	fmspc_of(0, f);

	/* lookups: cold = a new cache each time (one HTTPS GET with a TLS handshake), warm = a hit */
	for (int i = 0; i < cold_iters; i++) { /* a new client: TCP connect + TLS handshake */
		struct collateral_source *p2 = new_pcs(&srv);

		c = new_cached(p2);
		t0 = now_us();
		collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
		samples[i] = now_us() - t0;
		collateral_blob_free(&b);
		drop(c);
		drop(p2);
	}
	cold_new_conn = bench_median(samples, cold_iters);
	for (int i = 0; i < cold_iters; i++) { /* the client's kept-alive connection */
		c = new_cached(pcs);
		t0 = now_us();
		collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
		samples[i] = now_us() - t0;
		collateral_blob_free(&b);
		drop(c);
	}
	cold_lookup = bench_median(samples, cold_iters);
	c = new_cached(pcs);
	collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
	collateral_blob_free(&b);
	t0 = now_us();
	for (int i = 0; i < warm_iters * 10; i++) {
		collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
		collateral_blob_free(&b);
	}
	warm_lookup = (now_us() - t0) / (warm_iters * 10);
	drop(c);

	/* attestations: cold = new caches (every fetch + every verification), warm = shared caches */
	before = atomic_load(&srv.requests);
	for (int i = 0; i < cold_iters; i++) {
		c = new_cached(pcs);
		t0 = now_us();
		attest_once(c, quote, qlen);
		samples[i] = now_us() - t0;
		drop(c);
	}
	cold_att = bench_median(samples, cold_iters);
	fetches = (double)(atomic_load(&srv.requests) - before) / cold_iters;
	c = new_cached(pcs);
	vcache = collateral_cache_new(64);
	c->cache = vcache;
	attest_once(c, quote, qlen);
	t0 = now_us();
	for (int i = 0; i < warm_iters; i++)
		attest_once(c, quote, qlen);
	warm_att = (now_us() - t0) / warm_iters;
	drop(c);
	collateral_cache_free(vcache);
	fl = floor_us(vectors, warm_iters);

	printf("bench_collateral (%s, local HTTPS replay server)\n", VEC);
	printf("  floor: TCB Info ECDSA P-256 signature check      %10.1f us\n", fl);
	printf("  TCB Info lookup, cold, new connection (median)   %10.1f us\n", cold_new_conn);
	printf("  TCB Info lookup, cold, kept-alive conn. (median) %10.1f us\n", cold_lookup);
	printf("  TCB Info lookup, warm (cache hit, copy out)      %10.2f us\n", warm_lookup);
	printf("  SGX attestation, collateral cold (%.0f fetches, median) %4.1f ms\n", fetches,
	       cold_att / 1000.0);
	printf("  SGX attestation, collateral warm                 %10.1f us\n", warm_att);
	distinct_keys(&srv, 1);
	distinct_keys(&srv, 4);
	drop(pcs);
	free(quote);
	free(samples);
	tps_stop(&srv);
	return 0;
}
