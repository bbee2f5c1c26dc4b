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
#include "devplat_fixture.h"

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "evidence/quote.h"
#include "evidence/sgx.h"
#include "bench_time.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW 1750377600LL

struct bench {
	struct devplat_fixture f;
	uint8_t *quote;
	size_t len;
	struct intel_devplat_tcb_level levels[1];
	struct intel_devplat_tcb_info ti;
};

/* The platform, its standard set (17, UpToDate) and its quote. */
static int bench_up(struct bench *b)
{
	int rc;

	memset(b, 0, sizeof(*b));
	if ((rc = devplat_fixture_up(&b->f, NULL, NOW, "bench-early", 64)) != ATTEST_OK)
		return rc;
	memcpy(b->levels[0].sgx, DEVPLAT_FIXTURE_COMPS, 16);
	b->levels[0].pcesvn = DEVPLAT_FIXTURE_PCESVN;
	b->levels[0].status = "UpToDate";
	b->ti.version = 3;
	b->ti.id = "SGX";
	b->ti.levels = b->levels;
	b->ti.n_levels = 1;
	b->ti.eval_num = 17;
	if ((rc = devplat_fixture_write_standard(&b->f, &b->ti, NULL, 0, 0)) != ATTEST_OK)
		return rc;
	return devplat_fixture_sgx_quote(b->f.p, 3, &b->quote, &b->len);
}

static void bench_down(struct bench *b)
{
	devplat_fixture_down(&b->f);
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
		t0 = bench_cpu_ns();
		if (sgx_verify(&b->f.ctx, &in, cs, &err) != ATTEST_OK) {
			fprintf(stderr, "verify: %s: %s\n", err.name, err.msg);
			claim_set_free(cs);
			free(ns);
			return -1;
		}
		if (i >= 0)
			ns[i] = bench_cpu_ns() - t0;
		*claims = claim_set_count(cs);
		claim_set_free(cs);
	}
	m = ns ? bench_median_us(ns, iters) : -1;
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
	    intel_devplat_pck_chain_pem(b->f.p, &pem, &pem_len) != ATTEST_OK ||
	    x509_stack_from_pem((const uint8_t *)pem, pem_len, &chain, "b", NULL) != ATTEST_OK ||
	    (pck = X509_get_pubkey(sk_X509_value(chain, 0))) == NULL)
		goto out;
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = bench_cpu_ns();

		if (ecdsa_verify_rs_be(att, HASH_SHA256, q.signed_data, q.signed_len, q.isv_sig, 64, "b",
				       NULL) != ATTEST_OK ||
		    ecdsa_verify_rs_be(pck, HASH_SHA256, q.qe_report, 384, q.qe_report_sig, 64, "b", NULL) !=
			ATTEST_OK)
			fprintf(stderr, "floor: a signature did not verify\n");
		ns[i] = bench_cpu_ns() - t0;
	}
	m = bench_median_us(ns, iters);
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
	if (bench_up(&b) != ATTEST_OK) {
		fprintf(stderr, "bench_tcb_early: setup failed\n");
		bench_down(&b);
		return 1;
	}
	fl = floor_us(&b, iters);
	printf(
	    "bench_tcb_early (synthetic SGX platform, collateral folder, caches hot; median CPU time of %d "
	    "verifications per figure)\n",
	    iters);
	printf("%-34s %9.1f us\n", "floor (2 ECDSA P-256 verify)", fl);
	none = warm_us(&b, iters, &claims);
	printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, no early set", none, none / fl, claims);
	if (intel_devplat_tcb_info_demoting(b.f.p, &b.ti, 2, 0, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.f.dir, true, &early, body, len, NULL) == ATTEST_OK &&
	    devplat_fixture_reopen(&b.f, 64) == ATTEST_OK) {
		demote = warm_us(&b, iters, &claims);
		printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, early set demoting", demote,
		       demote / fl, claims);
	}
	free(body);
	body = NULL;
	b.ti.eval_num = 15;
	if (intel_devplat_tcb_info(b.f.p, &b.ti, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.f.dir, true, &n15, body, len, NULL) == ATTEST_OK &&
	    devplat_fixture_reopen(&b.f, 64) == ATTEST_OK) {
		b.f.ctx.sgx_tcb_baseline = 15;
		base = warm_us(&b, iters, &claims);
		printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", "warm, early + baseline 15 by number",
		       base, base / fl, claims);
	}
	free(body);
	bench_down(&b);
	return 0;
}
