/*
 * Collateral lookups and SGX attestation latency with collateral cold
 * (fetched over HTTPS from a local server replaying the real PCS answers of
 * shared/vectors) and warm (served by the caching source), beside the
 * cryptographic floors measured in the same run on the same objects:
 *   lookup       one TCB Info signature check (ECDSA P-256 over the
 *                served member);
 *   warm         the quote's two ECDSA P-256 checks (the ISV signature
 *                under the attestation key, the QE report under the PCK
 *                key): what an attestation costs with collateral cached;
 *   cold         those two and each of the collateral's own signatures
 *                once: TCB Info, QE Identity, the PCK certificate and its
 *                CA under their issuers, the TCB signing certificate, the
 *                root CA CRL and the PCK CRL (the HTTPS fetches on top).
 * Floors and warm figures are CPU work: medians of the thread's CPU time
 * (bench_time.h). Cold figures wait on the replay server (a thread of
 * this process) and the network stack: median wall time. Then the number
 * of upstream requests per 10,000 lookups over 100 distinct keys (FMSPCs),
 * sequential and from 4 threads. Reports, never asserts (issue 12,
 * Benchmarks).
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
#include "evidence/quote.h"
#include "evidence/sgx.h"
#include "evidence/tcb.h"
#include "bench_time.h"

#include <limits.h>
#include <openssl/x509.h>

#ifndef ATTEST_VECTORS_DIR
#define ATTEST_VECTORS_DIR "../shared/vectors"
#endif

#define VEC	       "sgx/phala-sgx-v3-00a067110000-2023-11"
#define VEC_NOW	       1700611200 /* its bundle.json now_unix */
#define LOOKUPS	       10000
#define KEYS	       100
#define LOOKUP_BATCHES 20 /* warm lookups: medians of batches */
#define LOOKUP_BATCH   1000

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

/* The objects the floors check, parsed once from the vector (keys loaded once, as the caches keep them). */
struct floor_objs {
	uint8_t *quote, *tcb_body, *qe_body, *tcb_pem, *root_crl_der, *pck_crl_der;
	size_t quote_len, tcb_len, qe_len, tcb_pem_len, root_crl_len, pck_crl_len;
	struct quote q;
	EVP_PKEY *att;
	STACK_OF(X509) * pck_chain, *tcb_chain; /* PCK, its CA, the root; TCB signing, the root */
	X509_CRL *root_crl, *pck_crl;
	struct tcb_info *ti;
	struct qe_identity *qi;
};

static X509_CRL *crl_of(const uint8_t *der, size_t n)
{
	const unsigned char *p = der;

	return der && n <= LONG_MAX ? d2i_X509_CRL(NULL, &p, (long)n) : NULL;
}

static void floor_objs_free(struct floor_objs *f)
{
	EVP_PKEY_free(f->att);
	sk_X509_pop_free(f->pck_chain, X509_free);
	sk_X509_pop_free(f->tcb_chain, X509_free);
	X509_CRL_free(f->root_crl);
	X509_CRL_free(f->pck_crl);
	tcb_info_free(f->ti);
	qe_identity_free(f->qi);
	free(f->quote);
	free(f->tcb_body);
	free(f->qe_body);
	free(f->tcb_pem);
	free(f->root_crl_der);
	free(f->pck_crl_der);
}

/* 0 when every object of the floors was read, parsed and has its issuer. */
static int floor_objs_load(const char *vectors, struct floor_objs *f)
{
	const uint8_t *pem;
	size_t pem_len;

	memset(f, 0, sizeof(*f));
	f->quote = test_read_vector(vectors, VEC "/quote.bin", &f->quote_len);
	f->tcb_body = test_read_vector(vectors, VEC "/tcb_info.json", &f->tcb_len);
	f->qe_body = test_read_vector(vectors, VEC "/qe_identity.json", &f->qe_len);
	f->tcb_pem = test_read_vector(vectors, VEC "/tcb_info_issuer_chain.pem", &f->tcb_pem_len);
	f->root_crl_der = test_read_vector(vectors, VEC "/root_ca_crl.der", &f->root_crl_len);
	f->pck_crl_der = test_read_vector(vectors, VEC "/pck_crl.der", &f->pck_crl_len);
	if (!f->quote || !f->tcb_body || !f->qe_body || !f->tcb_pem ||
	    quote_parse(f->quote, f->quote_len, QUOTE_TEE_SGX, &f->q, "sgx", NULL) != ATTEST_OK ||
	    quote_attestation_key(&f->q, &f->att, "sgx", NULL) != ATTEST_OK ||
	    quote_pck_chain_pem(&f->q, &pem, &pem_len, "sgx", NULL) != ATTEST_OK ||
	    x509_stack_from_pem(pem, pem_len, &f->pck_chain, "bench", NULL) != ATTEST_OK ||
	    x509_stack_from_pem(f->tcb_pem, f->tcb_pem_len, &f->tcb_chain, "bench", NULL) != ATTEST_OK ||
	    sk_X509_num(f->pck_chain) < 3 || sk_X509_num(f->tcb_chain) < 2 ||
	    tcb_info_parse(f->tcb_body, f->tcb_len, &f->ti, "sgx", NULL) != ATTEST_OK ||
	    qe_identity_parse(f->qe_body, f->qe_len, &f->qi, "sgx", NULL) != ATTEST_OK ||
	    (f->root_crl = crl_of(f->root_crl_der, f->root_crl_len)) == NULL ||
	    (f->pck_crl = crl_of(f->pck_crl_der, f->pck_crl_len)) == NULL)
		return -1;
	return 0;
}

#define KEY(st, i) X509_get0_pubkey(sk_X509_value((st), (i)))

/* One TCB Info signature check: what a lookup's hit saves at the least. 0 when it verified. */
static int floor_lookup(const struct floor_objs *f)
{
	return tcb_info_verify_signature(f->ti, KEY(f->tcb_chain, 0), "sgx", NULL) != ATTEST_OK;
}

/* The quote's two checks: an attestation with its collateral cached. 0 when both verified. */
static int floor_warm(const struct floor_objs *f)
{
	return (quote_verify_isv_sig_with_key(&f->q, f->att, "sgx", NULL) != ATTEST_OK) +
	       (quote_verify_qe_report_sig(&f->q, KEY(f->pck_chain, 0), "sgx", NULL) != ATTEST_OK);
}

/* And each of the collateral's signatures once: an attestation with nothing cached. 0 when all verified. */
static int floor_cold(const struct floor_objs *f)
{
	EVP_PKEY *root = KEY(f->pck_chain, 2), *ca = KEY(f->pck_chain, 1);

	return floor_warm(f) + floor_lookup(f) +
	       (qe_identity_verify_signature(f->qi, KEY(f->tcb_chain, 0), "sgx", NULL) != ATTEST_OK) +
	       (X509_verify(sk_X509_value(f->pck_chain, 0), ca) != 1) +
	       (X509_verify(sk_X509_value(f->pck_chain, 1), root) != 1) +
	       (X509_verify(sk_X509_value(f->tcb_chain, 0), root) != 1) +
	       (X509_CRL_verify(f->root_crl, root) != 1) + (X509_CRL_verify(f->pck_crl, ca) != 1);
}

/* Median CPU time in us of iters calls of one floor; -1 when a signature did not verify. */
static double floor_us(const struct floor_objs *f, int (*fn)(const struct floor_objs *), int iters)
{
	uint64_t *ns = calloc((size_t)iters, sizeof(*ns));
	int bad = ns == NULL;
	double t;

	for (int i = 0; !bad && i < iters; i++) {
		uint64_t t0 = bench_cpu_ns();

		bad |= fn(f) != 0;
		ns[i] = bench_cpu_ns() - t0;
	}
	t = bad ? -1 : bench_median_us(ns, (size_t)iters);
	free(ns);
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
	double *samples = calloc((size_t)cold_iters, sizeof(double)),
	       *wsamples = calloc((size_t)warm_iters, sizeof(double));
	double batches[LOOKUP_BATCHES];
	struct floor_objs fo;
	struct tps srv = {0};
	struct collateral_source *pcs, *c;
	struct collateral_blob b = {0};
	struct collateral_cache *vcache;
	uint8_t f[6];
	uint8_t *quote;
	size_t qlen = 0;
	unsigned before;
	double fetches, t0, cold_new_conn, cold_lookup, warm_lookup, cold_att, warm_att;
	double fl_lookup = -1, fl_warm = -1, fl_cold = -1;

	if (samples == NULL || wsamples == NULL)
		return 1;
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
	for (int k = 0; k < LOOKUP_BATCHES; k++) { /* a hit is ~0.3 us: batches of them, CPU time */
		uint64_t c0 = bench_cpu_ns();

		for (int i = 0; i < LOOKUP_BATCH; i++) {
			collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, f, &b, NULL);
			collateral_blob_free(&b);
		}
		batches[k] = (double)(bench_cpu_ns() - c0) / 1000.0 / LOOKUP_BATCH;
	}
	warm_lookup = bench_median(batches, LOOKUP_BATCHES);
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
	for (int i = 0; i < warm_iters; i++) {
		uint64_t c0 = bench_cpu_ns();

		attest_once(c, quote, qlen);
		wsamples[i] = (double)(bench_cpu_ns() - c0) / 1000.0;
	}
	warm_att = bench_median(wsamples, (size_t)warm_iters);
	drop(c);
	collateral_cache_free(vcache);
	if (floor_objs_load(vectors, &fo) == 0) {
		fl_lookup = floor_us(&fo, floor_lookup, warm_iters);
		fl_warm = floor_us(&fo, floor_warm, warm_iters);
		fl_cold = floor_us(&fo, floor_cold, warm_iters / 4);
	} else {
		fprintf(stderr, "bench_collateral: the floors' objects are unreadable in %s/%s\n", vectors,
			VEC);
	}
	floor_objs_free(&fo);

	printf("bench_collateral (%s, local HTTPS replay server; floors and warm figures: median CPU time, "
	       "cold figures: median wall time)\n",
	       VEC);
	printf("  floor lookup: TCB Info ECDSA P-256 signature check          %10.1f us\n", fl_lookup);
	printf("  floor warm: the quote's 2 ECDSA P-256 checks                  %10.1f us\n", fl_warm);
	printf("  floor cold: + TCB Info, QE Identity, 3 certificates, 2 CRLs   %10.1f us\n", fl_cold);
	printf("  TCB Info lookup, cold, new connection (wall)                 %10.1f us\n", cold_new_conn);
	printf("  TCB Info lookup, cold, kept-alive connection (wall)          %10.1f us\n", cold_lookup);
	printf("  TCB Info lookup, warm (cache hit, copy out; CPU)             %10.2f us\n", warm_lookup);
	printf("  SGX attestation, collateral cold (%.0f fetches; wall)          %10.1f us  (%5.2fx floor "
	       "cold)\n",
	       fetches, cold_att, cold_att / fl_cold);
	printf(
	    "  SGX attestation, collateral warm (CPU)                       %10.1f us  (%5.2fx floor warm)\n",
	    warm_att, warm_att / fl_warm);
	distinct_keys(&srv, 1);
	distinct_keys(&srv, 4);
	drop(pcs);
	free(quote);
	free(samples);
	free(wsamples);
	tps_stop(&srv);
	return 0;
}
