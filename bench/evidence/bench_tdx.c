/*
 * bench_tdx: verification of each real TDX quote (shared/vectors/tdx) at
 * its bundle time, in three settings, beside two references measured in
 * the same run:
 *
 *   cold   a fresh, empty cache per call, the collateral bytes in memory as
 *          the peer has them (memsrc.h): PCK chain with both CRLs, TCB Info
 *          and TD QE identity chains and signatures, QE report, ISV
 *          signature, TCB status, claims
 *   warm   one source with a cache, primed once: what a repeat platform costs
 *   floor  the two ECDSA P-256 verifications a quote needs whatever is
 *          cached (ISV signature, QE report signature), OpenSSL, keys ready
 *   peer   @phala/dcap-qvl (node, bench_tdx_dcapqvl.mjs) verifying the same
 *          quote with the same collateral (collateral.dcap-qvl.json) at the
 *          same time
 *
 * Goals (issue 5): cold at least 10x faster than the peer; warm within 1.3x
 * of the floor. It reports, it never asserts. Median of N calls each.
 * Usage: bench_tdx [N_COLD] [N_WARM]; ATTEST_VECTORS overrides the vectors
 * folder; ATTEST_BENCH_NO_PEER=1 skips node.
 */
#include "testutil.h"
#include "../../tests/unit/evidence/tdx_vectors.h"

#include "base/timeutil.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "evidence/pck.h"
#include "evidence/quote.h"
#include "evidence/tdx.h"
#include "memsrc.h"
#include "bench_time.h"

#include <libgen.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The Intel root as a server holds it: parsed once at start-up and passed
 * in every context (ctx->anchors NULL would parse the built-in PEM on each
 * call, which is start-up work, not verification).
 */
static struct evidence_anchors anchors;

static void bench_ctx(const struct tdx_loaded *l, const struct tdx_vector *v, struct evidence_ctx *ctx)
{
	tdx_vector_ctx(l, v, ctx);
	ctx->anchors = &anchors;
}

static int one(const struct evidence_ctx *ctx, const struct tdx_loaded *l, struct attest_err *err)
{
	struct evidence_input in;
	struct claim_set *set = claim_set_new();
	int rc;

	memset(&in, 0, sizeof(in));
	in.evidence = l->quote;
	in.evidence_len = l->len;
	attest_err_clear(err);
	rc = tdx_verify(ctx, &in, set, err);
	claim_set_free(set);
	return rc;
}

/*
 * Loads a vector with its collateral served from memory (memsrc.h: the
 * peer gets its collateral in memory too), the files read once here.
 */
static int load_mem(const char *vectors, const struct tdx_vector *v, struct tdx_loaded *l)
{
	struct collateral_source *m = NULL;
	struct evidence_ctx ctx;
	struct attest_err err;

	if (tdx_vector_load(vectors, v, 0, l) != 0 || memsrc_new(l->src, &m) != 0) {
		tdx_vector_unload(l);
		return -1;
	}
	l->src = m;
	bench_ctx(l, v, &ctx);
	one(&ctx, l, &err); /* untimed: reads the collateral files into the memory source */
	return 0;
}

/*
 * Cold: a fresh, empty cache per call (what a verifier does for a platform
 * it has not seen); every chain, CRL, TCB Info and QE identity parsed and
 * verified from the collateral bytes. *cpu gets the median CPU time, the
 * return value the median wall time.
 */
static double bench_cold(const char *vectors, const struct tdx_vector *v, size_t n, double *cpu,
			 char *outcome, size_t olen)
{
	double *t = calloc(n, sizeof(double)), *c = calloc(n, sizeof(double)), m = -1;
	struct tdx_loaded l;
	struct evidence_ctx ctx;

	if (t == NULL || c == NULL || load_mem(vectors, v, &l) != 0) {
		free(t);
		free(c);
		return -1;
	}
	bench_ctx(&l, v, &ctx);
	for (size_t i = 0; i < n; i++) {
		struct attest_err err;
		uint64_t t0, c0;
		int rc;

		c0 = bench_cpu_ns();
		t0 = time_mono_ns();
		l.src->cache = collateral_cache_new(16);
		rc = one(&ctx, &l, &err);
		collateral_cache_free(l.src->cache);
		l.src->cache = NULL;
		t[i] = (double)(time_mono_ns() - t0) / 1e6;
		c[i] = (double)(bench_cpu_ns() - c0) / 1e6;
		snprintf(outcome, olen, "%s", rc == ATTEST_OK ? "ok" : err.name);
	}
	m = bench_median(t, n);
	*cpu = bench_median(c, n);
	free(t);
	free(c);
	tdx_vector_unload(&l);
	return m;
}

/* The two signatures every quote needs: ISV (attestation key) and QE report (PCK key). */
struct floor_keys {
	struct quote q;
	EVP_PKEY *att, *pck;
};

static int floor_setup(const struct tdx_loaded *l, struct floor_keys *k)
{
	struct attest_err err;
	STACK_OF(X509) *chain = NULL;
	const uint8_t *pem;
	size_t pem_len;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (quote_parse(l->quote, l->len, QUOTE_TEE_TDX, &k->q, "tdx", &err) == 0 &&
	    ec_pubkey_from_xy(EC_P256, k->q.att_key, 64, &k->att, "bench", &err) == 0 &&
	    quote_pck_chain_pem(&k->q, &pem, &pem_len, "tdx", &err) == 0 &&
	    x509_stack_from_pem(pem, pem_len, &chain, "bench", &err) == 0 &&
	    (k->pck = X509_get_pubkey(sk_X509_value(chain, 0))) != NULL)
		rc = 0;
	if (chain != NULL)
		sk_X509_pop_free(chain, X509_free);
	return rc;
}

static uint64_t floor_once(const struct floor_keys *k)
{
	struct attest_err err;
	uint64_t t0 = bench_cpu_ns();
	int rc = ecdsa_verify_rs_be(k->att, HASH_SHA256, k->q.signed_data, k->q.signed_len, k->q.isv_sig, 64,
				    "b", &err);

	rc |= ecdsa_verify_rs_be(k->pck, HASH_SHA256, k->q.qe_report, QUOTE_QE_REPORT_SIZE,
				 k->q.qe_report_sig, 64, "b", &err);
	if (rc != 0)
		fprintf(stderr, "floor: a signature did not verify\n");
	return bench_cpu_ns() - t0;
}

/*
 * Warm (one cache, primed) and the floor, interleaved call by call so both
 * see the same neighbours on this shared machine; medians of CPU time, ms.
 */
static int bench_warm_floor(const char *vectors, const struct tdx_vector *v, size_t n, double *warm,
			    double *floor_ms)
{
	double *w = calloc(n, sizeof(double)), *f = calloc(n, sizeof(double));
	struct tdx_loaded l;
	struct evidence_ctx ctx;
	struct attest_err err;
	struct floor_keys k;
	int rc = -1;

	if (w == NULL || f == NULL || load_mem(vectors, v, &l) != 0) {
		free(w);
		free(f);
		return -1;
	}
	if (floor_setup(&l, &k) != 0)
		goto out;
	bench_ctx(&l, v, &ctx);
	l.src->cache = collateral_cache_new(64);
	one(&ctx, &l, &err); /* prime */
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_cpu_ns();

		one(&ctx, &l, &err);
		w[i] = (double)(bench_cpu_ns() - t0) / 1e6;
		f[i] = (double)floor_once(&k) / 1e6;
	}
	*warm = bench_median(w, n);
	*floor_ms = bench_median(f, n);
	collateral_cache_free(l.src->cache);
	l.src->cache = NULL;
	rc = 0;
out:
	EVP_PKEY_free(k.att);
	EVP_PKEY_free(k.pck);
	free(w);
	free(f);
	tdx_vector_unload(&l);
	return rc;
}

/* Runs the node peer; fills *ms (median) and outcome; false when it could not run. */
static bool bench_peer(const char *vectors, const struct tdx_vector *v, int64_t now, size_t n, double *ms,
		       double *cpu, char *outcome, size_t olen)
{
	char cmd[8192], line[1024], src[4096], coll[2048];
	FILE *p;
	bool ok = false;

	snprintf(coll, sizeof(coll), "%.1000s/%.900s/collateral.dcap-qvl.json", vectors, v->dir);
	if (getenv("ATTEST_BENCH_NO_PEER") != NULL || access(coll, R_OK) != 0)
		return false;
	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(cmd, sizeof(cmd),
		 "node '%s/bench_tdx_dcapqvl.mjs' '%.1000s/%.900s/quote.bin' '%s' %lld %zu 2>&1",
		 dirname(src), vectors, v->dir, coll, (long long)now, n);
	p = popen(cmd, "r");
	if (p == NULL)
		return false;
	while (fgets(line, sizeof(line), p) != NULL) {
		double med, medcpu;
		int used;

		if (sscanf(line, "dcapqvl %lf %lf %*u %n", &med, &medcpu, &used) == 2) {
			*ms = med;
			*cpu = medcpu;
			snprintf(outcome, olen, "%s", line + used);
			outcome[strcspn(outcome, "\n")] = '\0';
			ok = true;
		}
	}
	pclose(p);
	return ok;
}

/*
 * Cold and the peer in alternating rounds (ours, then dcap-qvl's,
 * PEER_ROUNDS times); each figure is the median over the rounds and each
 * ratio the median of the rounds' ratios: on a shared machine the CPU's
 * speed drifts over the seconds a vector takes, and within a round both
 * sides see the same. Without the peer, one round of ours.
 */
#define PEER_ROUNDS 5

static void peer_rounds(const char *vectors, const struct tdx_vector *v, size_t n, double *cold,
			double *cold_cpu, char *ours, size_t olen, double *peer, double *peer_cpu,
			char *theirs, size_t tlen, double *ratio, double *ratio_cpu)
{
	double c[PEER_ROUNDS], cc[PEER_ROUNDS], p[PEER_ROUNDS], pc[PEER_ROUNDS], r[PEER_ROUNDS],
	    rc[PEER_ROUNDS];
	size_t k, rounds = 0, peers = 0;

	for (k = 0; k < PEER_ROUNDS; k++) {
		c[k] = bench_cold(vectors, v, n, &cc[k], ours, olen);
		rounds = k + 1;
		if (!bench_peer(vectors, v, tdx_bundle_now(vectors, v->dir), n, &p[k], &pc[k], theirs, tlen))
			break;
		r[k] = p[k] / c[k];
		rc[k] = pc[k] / cc[k];
		peers = k + 1;
	}
	*cold = bench_median(c, rounds);
	*cold_cpu = bench_median(cc, rounds);
	if (peers > 0) {
		*peer = bench_median(p, peers);
		*peer_cpu = bench_median(pc, peers);
		*ratio = bench_median(r, peers);
		*ratio_cpu = bench_median(rc, peers);
	}
}

static const char *vectors_dir(void)
{
	static char buf[4096];
	const char *env = getenv("ATTEST_VECTORS");

	if (env != NULL)
		return env;
	snprintf(buf, sizeof(buf), "%s", __FILE__);
	snprintf(buf + strlen(dirname(buf)), sizeof(buf) - strlen(buf), "/../../../shared/vectors");
	return buf;
}

int main(int argc, char **argv)
{
	size_t n_cold = argc > 1 ? strtoul(argv[1], NULL, 10) : 30;
	size_t n_warm = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
	const char *vectors = vectors_dir();

	struct attest_err err;

	if (n_cold == 0 || n_warm == 0 ||
	    intel_sgx_default_roots(&anchors.intel_sgx_roots, &err) != ATTEST_OK)
		return 2;
	printf("bench_tdx: median ms per verification (cold n=%zu, warm/floor n=%zu, peer n=%zu)\n", n_cold,
	       n_warm, n_cold);
	printf(
	    "cold: wall = elapsed time, cpu = thread CPU time; cold and dcap-qvl in %d alternating rounds, "
	    "medians over the rounds (ratios: median of the rounds' ratios);\n"
	    "warm and floor: thread CPU time, interleaved;\n",
	    PEER_ROUNDS);
	printf("dcap-qvl: its process CPU time (qvl-cpu) beside wall; the CPU columns are the figures\n");
	printf("%-44s %8s %8s %8s %8s %9s %9s %9s %9s %10s  %s\n", "vector", "cold", "cold-cpu", "warm",
	       "floor", "dcap-qvl", "qvl-cpu", "peer/cold", "(cpu)", "warm/floor",
	       "outcome (ours | dcap-qvl)");
	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *v = &TDX_VECTORS[i];
		char ours[128] = "?", theirs[256] = "not run";
		double cold = 0, cold_cpu = 0, peer = -1, peer_cpu = 0, ratio = 0, ratio_cpu = 0;
		double warm = -1, floor_ms = -1;
		const char *name = strchr(v->dir, '/') ? strchr(v->dir, '/') + 1 : v->dir;

		peer_rounds(vectors, v, n_cold, &cold, &cold_cpu, ours, sizeof(ours), &peer, &peer_cpu,
			    theirs, sizeof(theirs), &ratio, &ratio_cpu);
		bench_warm_floor(vectors, v, n_warm, &warm, &floor_ms);
		printf("%-44.44s %8.3f %8.3f %8.3f %8.3f ", name, cold, cold_cpu, warm, floor_ms);
		if (peer > 0)
			printf("%9.3f %9.3f %8.1fx %8.1fx ", peer, peer_cpu, ratio, ratio_cpu);
		else
			printf("%9s %9s %9s %9s ", "-", "-", "-", "-");
		printf("%9.2fx  %s | %s\n", warm / floor_ms, ours, theirs);
	}
	sk_X509_pop_free(anchors.intel_sgx_roots, X509_free);
	return 0;
}
