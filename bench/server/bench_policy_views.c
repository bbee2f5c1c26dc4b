/*
 * attestd's policy views (server/pipeline_routes.h) when full: 128
 * (provider, type) views, provider names of realistic length (tenant
 * names of 11-41 characters), a 30-rule policy text. Figures: a hit (the
 * view found fresh and its text copied out: what every attestation does
 * before its policy is evaluated) for names under 31 characters and
 * longer ones (kept under their SHA-256, made once per request and shared
 * with the trust views' lookup, which needed it before: measured apart),
 * and a store of a new view into the full
 * table (the oldest goes), beside the cryptographic floor measured in the
 * same run (one ECDSA P-256 signature check: the least an attestation
 * costs). CPU work, timed in the thread's CPU time (bench_time.h), medians
 * of the rounds. Reports, never asserts.
 *
 * Usage: bench_policy_views [rounds]
 */
#include "base/timeutil.h"
#include "server/pipeline_routes.h"
#include "server/server.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "bench_time.h"
#include "ecdsa_floor.h"

/*
 * attestd's clock (server.h) is defined beside its main (main.c), which a
 * program linking the server library without the server does not have;
 * pipeline_routes.c refers to it (the collateral cache's clock). Never
 * called here. Weak: should the library define it one day, its own wins.
 */
int64_t srv_now(const struct srv *srv);
__attribute__((weak)) int64_t srv_now(const struct srv *srv)
{
	(void)srv;
	return time_now();
}

#define BATCH 200000
#define PUTS  20000

/* Provider i's name: 11..41 characters, as tenant names are. */
static void provider_of(unsigned i, char out[64])
{
	snprintf(out, 64, "%.*s%u", (int)(10 + i % 29), "contoso-attestation-westeurope-tenant-00", i);
}

/* The i-th (provider, type) pair of the table. */
static void pair_of(unsigned i, char provider[64], enum maa_type *type)
{
	provider_of(i / MAA_TYPE_COUNT, provider);
	*type = (enum maa_type)(i % MAA_TYPE_COUNT);
}

/*
 * ns per hit: BATCH lookups of random pairs whose provider name is short
 * (< 31 characters) or not. The name's key (its SHA-256 when long) is
 * made before: attestd makes it once per request for both views.
 */
static double hits_ns(struct pipeline_policy_views *v, uint64_t now, unsigned *seed, bool long_names)
{
	struct pipeline_view_name vn[PIPELINE_POLICY_VIEWS];
	char names[PIPELINE_POLICY_VIEWS][64];
	enum maa_type types[PIPELINE_POLICY_VIEWS];
	unsigned pick[PIPELINE_POLICY_VIEWS], n = 0;
	uint64_t t0;
	int bad = 0;

	for (unsigned i = 0; i < PIPELINE_POLICY_VIEWS; i++) {
		pair_of(i, names[i], &types[i]);
		pipeline_view_name_init(&vn[i], names[i]);
		if ((strlen(names[i]) >= PIPELINE_VIEW_NAME_INLINE) == long_names)
			pick[n++] = i;
	}
	if (n == 0)
		return -1;
	t0 = bench_cpu_ns();
	for (int i = 0; i < BATCH; i++) {
		unsigned k = pick[(unsigned)rand_r(seed) % n];
		char *text, *signer;

		bad += pipeline_policy_view_get(v, &vn[k], types[k], now, false, &text, &signer, NULL) != 0;
		free(text);
		free(signer);
	}
	if (bad)
		fprintf(stderr, "%d hits missed\n", bad);
	return (double)(bench_cpu_ns() - t0) / BATCH;
}

/* ns to key a long name (its SHA-256): once per request, shared by the policy and trust views. */
static double name_ns(void)
{
	const char *name = "contoso-attestation-westeurope-tenant-00";
	struct pipeline_view_name vn;
	uint64_t t0 = bench_cpu_ns();

	for (int i = 0; i < BATCH / 4; i++)
		pipeline_view_name_init(&vn, name);
	return (double)(bench_cpu_ns() - t0) / (BATCH / 4);
}

static double puts_ns(struct pipeline_policy_views *v, const char *policy, uint64_t *now, unsigned *next)
{
	uint64_t t0 = bench_cpu_ns();

	for (int i = 0; i < PUTS; i++) {
		struct pipeline_view_name vn;
		char name[64];
		enum maa_type type;

		pair_of((*next)++, name, &type);
		pipeline_view_name_init(&vn, name);
		pipeline_policy_view_put(v, &vn, type, policy, NULL, ++*now);
	}
	return (double)(bench_cpu_ns() - t0) / PUTS;
}

/* A 30-rule policy text (the size of the explain benchmark's). */
static char *policy_text(void)
{
	size_t cap = 8192, n = 0;
	char *p = malloc(cap);

	if (p == NULL)
		return NULL;
	n += (size_t)snprintf(p + n, cap - n, "version=1.0;authorizationrules{");
	for (int i = 0; i < 30; i++)
		n +=
		    (size_t)snprintf(p + n, cap - n, "c:[type==\"x-ms-sgx-svn\", value>=%d] => permit();", i);
	snprintf(p + n, cap - n, "};issuancerules{};");
	return p;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 15;
	struct pipeline_policy_views *v = pipeline_policy_views_new();
	char *policy = policy_text();
	double *hit, *hitl, *put, *nm, fl;
	unsigned seed = 11, next = PIPELINE_POLICY_VIEWS;
	uint64_t now = 1000;

	if (rounds < 1)
		rounds = 1;
	hit = calloc((size_t)rounds, sizeof(double));
	hitl = calloc((size_t)rounds, sizeof(double));
	nm = calloc((size_t)rounds, sizeof(double));
	put = calloc((size_t)rounds, sizeof(double));
	if (v == NULL || policy == NULL || hit == NULL || hitl == NULL || nm == NULL || put == NULL)
		return 1;
	fl = bench_ecdsa_p256_verify_ns(policy, strlen(policy), 2000);
	for (int r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < PIPELINE_POLICY_VIEWS; i++) { /* the table full of the pairs asked */
			struct pipeline_view_name vn;
			char name[64];
			enum maa_type type;

			pair_of(i, name, &type);
			pipeline_view_name_init(&vn, name);
			pipeline_policy_view_put(v, &vn, type, policy, NULL, ++now);
		}
		hit[r] = hits_ns(v, now, &seed, false);
		hitl[r] = hits_ns(v, now, &seed, true);
		nm[r] = name_ns();
		put[r] = puts_ns(v, policy, &now, &next);
	}
	printf("bench_policy_views (%d views, full; %zu-byte policy; CPU time, median of %d rounds)\n",
	       PIPELINE_POLICY_VIEWS, strlen(policy), rounds);
	printf("  floor: ECDSA P-256 signature check            %10.0f ns\n", fl);
	printf("  hit on a full table, name < 31 characters    %10.0f ns\n", bench_median(hit, rounds));
	printf("  hit on a full table, name of 31-63 characters %10.0f ns\n", bench_median(hitl, rounds));
	printf("  (a long name's key, its SHA-256, once a request %10.0f ns)\n", bench_median(nm, rounds));
	printf("  store of a new view into a full table         %10.0f ns\n", bench_median(put, rounds));
	pipeline_policy_views_free(v);
	free(policy);
	free(hit);
	free(hitl);
	free(nm);
	free(put);
	return 0;
}
