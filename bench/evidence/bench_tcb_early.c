/*
 * What early TCB warnings and TCB baselines (issue 12) add to a warm SGX
 * verification, beside the floor measured in the same run (the two
 * quote-dependent ECDSA P-256 verifications, keys loaded once). A synthetic
 * platform (devplat) over a collateral folder, caches hot, medians of CPU
 * time per verification:
 *   no early set      the source has none (its absence is remembered)
 *   early, demoting   an early set that demotes the platform: claims added
 *   baseline 15       a chosen baseline whose numbered set the folder serves
 * Reports, never asserts (RULES.md). Usage: bench_tcb_early [iterations]
 */
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW 1750377600LL

static const uint8_t COMPS[16] = {5, 5, 2, 4, 1, 128, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_us(uint64_t *ns, int n)
{
	qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
	return (double)ns[n / 2] / 1000.0;
}

struct bench {
	struct intel_devplat *p;
	char dir[64];
	struct evidence_anchors anchors;
	struct collateral_source *src;
	struct collateral_cache *cache;
	struct evidence_ctx ctx;
	uint8_t *quote;
	size_t len;
	struct intel_devplat_tcb_level levels[1];
	struct intel_devplat_tcb_info ti;
};

static int bench_up(struct bench *b)
{
	struct intel_devplat_opts o;
	struct intel_devplat_qe_identity qi;
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE];
	char *tb = NULL, *qb = NULL;
	size_t tl = 0, ql = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	intel_devplat_opts_default(&o, NOW);
	memcpy(o.comp_svn, COMPS, 16);
	o.pcesvn = 11;
	if (intel_devplat_new(&o, &b->p, NULL) != ATTEST_OK)
		return -1;
	snprintf(b->dir, sizeof(b->dir), "/tmp/attest-bench-early-XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		return -1;
	memcpy(b->levels[0].sgx, COMPS, 16);
	b->levels[0].pcesvn = 11;
	b->levels[0].status = "UpToDate";
	b->ti.version = 3;
	b->ti.id = "SGX";
	b->ti.levels = b->levels;
	b->ti.n_levels = 1;
	b->ti.eval_num = 17;
	intel_devplat_qe_identity_default(&qi);
	rc = intel_devplat_tcb_info(b->p, &b->ti, &tb, &tl, NULL);
	if (rc == ATTEST_OK)
		rc = intel_devplat_qe_identity(b->p, &qi, &qb, &ql, NULL);
	if (rc == ATTEST_OK)
		rc = intel_devplat_write_collateral(b->p, b->dir, tb, tl, qb, ql, 0, 0, NULL);
	free(tb);
	free(qb);
	b->anchors.intel_sgx_roots = intel_devplat_roots(b->p);
	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&s);
	s.version = 3;
	s.body = body;
	s.body_len = sizeof(body);
	if (rc == ATTEST_OK)
		rc = intel_devplat_make_quote(b->p, &s, &b->quote, &b->len, NULL);
	return rc;
}

/* A fresh source and cache over the folder as it is now. */
static int bench_source(struct bench *b)
{
	if (b->src != NULL) {
		collateral_source_free(b->src);
		free(b->src);
		collateral_cache_free(b->cache);
	}
	if (collateral_file_source_new(b->dir, &b->src, NULL) != ATTEST_OK)
		return -1;
	b->cache = collateral_cache_new(64);
	b->src->cache = b->cache;
	memset(&b->ctx, 0, sizeof(b->ctx));
	b->ctx.now = NOW;
	b->ctx.anchors = &b->anchors;
	b->ctx.collateral = b->src;
	return 0;
}

static void bench_down(struct bench *b)
{
	DIR *d = opendir(b->dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(b->dir);
	if (b->src != NULL) {
		collateral_source_free(b->src);
		free(b->src);
		collateral_cache_free(b->cache);
	}
	sk_X509_pop_free(b->anchors.intel_sgx_roots, X509_free);
	intel_devplat_free(b->p);
	free(b->quote);
}

/* Median warm verification (after one cold call); -1 when it fails. */
static double warm_us(struct bench *b, int iters, size_t *claims)
{
	struct evidence_input in = {.evidence = b->quote, .evidence_len = b->len};
	uint64_t *ns = calloc((size_t)iters, sizeof(*ns));
	double m;

	for (int i = -1; ns != NULL && i < iters; i++) {
		struct claim_set *cs = claim_set_new();
		struct attest_err err;
		uint64_t t0;

		attest_err_clear(&err);
		t0 = cpu_ns();
		if (sgx_verify(&b->ctx, &in, cs, &err) != ATTEST_OK) {
			fprintf(stderr, "verify: %s: %s\n", err.name, err.msg);
			claim_set_free(cs);
			free(ns);
			return -1;
		}
		if (i >= 0)
			ns[i] = cpu_ns() - t0;
		*claims = claim_set_count(cs);
		claim_set_free(cs);
	}
	m = ns ? median_us(ns, iters) : -1;
	free(ns);
	return m;
}

/* The floor: ISV signature and QE report signature, keys loaded once. */
static double floor_us(const struct bench *b, int iters)
{
	struct quote q;
	EVP_PKEY *att = NULL, *pck = NULL;
	uint64_t *ns = calloc((size_t)iters, sizeof(*ns));
	char *pem = NULL;
	size_t pem_len = 0;
	STACK_OF(X509) *chain = NULL;
	double m = -1;

	if (ns == NULL || quote_parse(b->quote, b->len, QUOTE_TEE_SGX, &q, "b", NULL) != ATTEST_OK ||
	    quote_attestation_key(&q, &att, "b", NULL) != ATTEST_OK ||
	    intel_devplat_pck_chain_pem(b->p, &pem, &pem_len) != ATTEST_OK ||
	    x509_stack_from_pem((const uint8_t *)pem, pem_len, &chain, "b", NULL) != ATTEST_OK ||
	    (pck = X509_get_pubkey(sk_X509_value(chain, 0))) == NULL)
		goto out;
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = cpu_ns();

		if (ecdsa_verify_rs_be(att, HASH_SHA256, q.signed_data, q.signed_len, q.isv_sig, 64, "b",
				       NULL) != ATTEST_OK ||
		    ecdsa_verify_rs_be(pck, HASH_SHA256, q.qe_report, 384, q.qe_report_sig, 64, "b", NULL) !=
			ATTEST_OK)
			fprintf(stderr, "floor: a signature did not verify\n");
		ns[i] = cpu_ns() - t0;
	}
	m = median_us(ns, iters);
out:
	EVP_PKEY_free(att);
	EVP_PKEY_free(pck);
	sk_X509_pop_free(chain, X509_free);
	free(pem);
	free(ns);
	return m;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0}, n15 = {COLLATERAL_UPDATE_STANDARD, 15};
	struct bench b;
	size_t claims = 0, len = 0;
	double fl, none, demote, base;
	char *body = NULL;

	if (iters < 10)
		iters = 10;
	if (bench_up(&b) != ATTEST_OK || bench_source(&b) != 0) {
		fprintf(stderr, "bench_tcb_early: setup failed\n");
		bench_down(&b);
		return 1;
	}
	fl = floor_us(&b, iters);
	none = warm_us(&b, iters, &claims);
	printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, no early set", none, none / fl, claims);
	if (intel_devplat_tcb_info_demoting(b.p, &b.ti, 2, 0, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.dir, true, &early, body, len, NULL) == ATTEST_OK &&
	    bench_source(&b) == 0) {
		demote = warm_us(&b, iters, &claims);
		printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, early set demoting", demote,
		       demote / fl, claims);
	}
	free(body);
	body = NULL;
	b.ti.eval_num = 15;
	if (intel_devplat_tcb_info(b.p, &b.ti, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.dir, true, &n15, body, len, NULL) == ATTEST_OK &&
	    bench_source(&b) == 0) {
		b.ctx.sgx_tcb_baseline = 15;
		base = warm_us(&b, iters, &claims);
		printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, early + baseline 15 by number",
		       base, base / fl, claims);
	}
	free(body);
	printf("%-34s %9.1f us\n", "floor (2 ECDSA P-256 verify)", fl);
	bench_down(&b);
	return 0;
}
