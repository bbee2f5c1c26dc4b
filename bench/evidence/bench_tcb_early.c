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

/* The floor's keys: the ISV signature's attestation key and the QE report's PCK key, loaded once. */
struct floor_keys {
	struct quote q;
	EVP_PKEY *att, *pck;
};

static int floor_keys_load(const struct bench *b, struct floor_keys *k)
{
	char *pem = NULL;
	size_t pem_len = 0;
	STACK_OF(X509) *chain = NULL;
	int ok;

	memset(k, 0, sizeof(*k));
	ok = quote_parse(b->quote, b->len, QUOTE_TEE_SGX, &k->q, "b", NULL) == ATTEST_OK &&
	     quote_attestation_key(&k->q, &k->att, "b", NULL) == ATTEST_OK &&
	     intel_devplat_pck_chain_pem(b->f.p, &pem, &pem_len) == ATTEST_OK &&
	     x509_stack_from_pem((const uint8_t *)pem, pem_len, &chain, "b", NULL) == ATTEST_OK &&
	     (k->pck = X509_get_pubkey(sk_X509_value(chain, 0))) != NULL;
	sk_X509_pop_free(chain, X509_free);
	free(pem);
	return ok ? 0 : -1;
}

/* One floor: the ISV signature and the QE report signature; its CPU time in ns. */
static uint64_t floor_once(const struct floor_keys *k)
{
	uint64_t t0 = bench_cpu_ns();

	if (ecdsa_verify_rs_be(k->att, HASH_SHA256, k->q.signed_data, k->q.signed_len, k->q.isv_sig, 64, "b",
			       NULL) != ATTEST_OK ||
	    ecdsa_verify_rs_be(k->pck, HASH_SHA256, k->q.qe_report, 384, k->q.qe_report_sig, 64, "b", NULL) !=
		ATTEST_OK)
		fprintf(stderr, "floor: a signature did not verify\n");
	return bench_cpu_ns() - t0;
}

/*
 * Median warm verification (after one cold call) and, timed call by call
 * beside it, the median floor (*floor_us): the host's speed drifts, so a
 * floor measured once before all the figures would flatter or wrong them.
 * -1 when it fails.
 */
static double warm_us(struct bench *b, const struct floor_keys *k, int iters, size_t *claims,
		      double *floor_us)
{
	struct evidence_input in = {.evidence = b->quote, .evidence_len = b->len};
	uint64_t *ns = calloc((size_t)iters, sizeof(*ns)), *fl = calloc((size_t)iters, sizeof(*fl));
	double m = -1;

	for (int i = -1; ns != NULL && fl != NULL && i < iters; i++) {
		struct claim_set *cs = claim_set_new();
		struct attest_err err;
		uint64_t t0;

		attest_err_clear(&err);
		t0 = bench_cpu_ns();
		if (sgx_verify(&b->f.ctx, &in, cs, &err) != ATTEST_OK) {
			fprintf(stderr, "verify: %s: %s\n", err.name, err.msg);
			claim_set_free(cs);
			goto out;
		}
		if (i >= 0) {
			ns[i] = bench_cpu_ns() - t0;
			fl[i] = floor_once(k);
		}
		*claims = claim_set_count(cs);
		claim_set_free(cs);
	}
	if (ns != NULL && fl != NULL) {
		m = bench_median_us(ns, iters);
		*floor_us = bench_median_us(fl, iters);
	}
out:
	free(ns);
	free(fl);
	return m;
}

/* One figure and the floor timed beside it (the floor line first: bench_report.py reads the last one). */
static void report(const char *what, double us, double floor_us, size_t claims)
{
	printf("%-34s %9.1f us\n", "floor (2 ECDSA P-256 verify)", floor_us);
	printf("%-34s %9.1f us  (%.2fx floor, %zu claims)\n", what, us, us / floor_us, claims);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0}, n15 = {COLLATERAL_UPDATE_STANDARD, 15};
	struct bench b;
	size_t claims = 0, len = 0;
	struct floor_keys k;
	double fl = 0, none, demote, base;
	char *body = NULL;

	if (iters < 10)
		iters = 10;
	if (bench_up(&b) != ATTEST_OK) {
		fprintf(stderr, "bench_tcb_early: setup failed\n");
		bench_down(&b);
		return 1;
	}
	if (floor_keys_load(&b, &k) != 0) {
		fprintf(stderr, "bench_tcb_early: the floor's keys could not be loaded\n");
		bench_down(&b);
		return 1;
	}
	printf(
	    "bench_tcb_early (synthetic SGX platform, collateral folder, caches hot; median CPU time of %d "
	    "verifications per figure, each call beside a floor call)\n",
	    iters);
	if ((none = warm_us(&b, &k, iters, &claims, &fl)) > 0)
		report("warm, no early set", none, fl, claims);
	if (intel_devplat_tcb_info_demoting(b.f.p, &b.ti, 2, 0, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.f.dir, true, &early, body, len, NULL) == ATTEST_OK &&
	    devplat_fixture_reopen(&b.f, 64) == ATTEST_OK &&
	    (demote = warm_us(&b, &k, iters, &claims, &fl)) > 0)
		report("warm, early set demoting", demote, fl, claims);
	free(body);
	body = NULL;
	b.ti.eval_num = 15;
	if (intel_devplat_tcb_info(b.f.p, &b.ti, &body, &len, NULL) == ATTEST_OK &&
	    intel_devplat_write_selected(b.f.dir, true, &n15, body, len, NULL) == ATTEST_OK &&
	    devplat_fixture_reopen(&b.f, 64) == ATTEST_OK) {
		b.f.ctx.sgx_tcb_baseline = 15;
		if ((base = warm_us(&b, &k, iters, &claims, &fl)) > 0)
			report("warm, early + baseline 15 by number", base, fl, claims);
	}
	EVP_PKEY_free(k.att);
	EVP_PKEY_free(k.pck);
	free(body);
	bench_down(&b);
	return 0;
}
