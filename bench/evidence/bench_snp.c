/*
 * SEV-SNP verification cost per report on the real v5 vector, beside the
 * cryptographic floor measured in the same run: one ECDSA P-384 / SHA-384
 * verification of the same report with the same key (the one signature a
 * report needs once its chain is known). Reports, never asserts.
 *   cold: parse + chain ARK->ASK->VCEK (three RSA-PSS-4096 checks, X.509
 *         parsing) + binding + report signature + claims, no cache;
 *   warm: the same with the verified chain in the cache (key = SHA-256 of
 *         the certificate bytes), i.e. what a repeat platform costs;
 *   sevsnpvm warm: Azure's JSON/base64url envelope on top.
 * Goal (issue 6): warm within 1.2x the floor.
 */
#include "base/codec.h"
#include "base/timeutil.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/azure_cvm.h"
#include "evidence/snp.h"
#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VEC "snp/teekit-gcp-milan-v5-reportdata-2025-12"
#define NOW 1767225600

static uint8_t *slurp(const char *dir, const char *rel, size_t *n)
{
	char path[1024];
	FILE *f;
	uint8_t *p;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	if (p == NULL || fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*n = (size_t)len;
	return p;
}

#define RUNS 201
#define NOPS 4

static int measure(int (*const fn[NOPS])(void *), void *arg, double med[NOPS], double wall[NOPS])
{
	static uint64_t t[NOPS][RUNS], w[NOPS][RUNS];

	for (int k = 0; k < NOPS; k++)
		for (int i = 0; i < 3; i++) /* warm-up (fills the cache) */
			if (fn[k](arg) != 0)
				return -1;
	for (int i = 0; i < RUNS; i++)
		for (int k = 0; k < NOPS; k++) {
			uint64_t a = bench_cpu_ns(), b = time_mono_ns();

			if (fn[k](arg) != 0)
				return -1;
			t[k][i] = bench_cpu_ns() - a;
			w[k][i] = time_mono_ns() - b;
		}
	for (int k = 0; k < NOPS; k++) {
		qsort(t[k], RUNS, sizeof(t[k][0]), bench_cmp_u64);
		qsort(w[k], RUNS, sizeof(w[k][0]), bench_cmp_u64);
		med[k] = (double)t[k][RUNS / 2] / 1000.0;
		wall[k] = (double)w[k][RUNS / 2] / 1000.0;
	}
	return 0;
}

struct state {
	uint8_t *report, *vcek, *chain, *both;
	size_t report_len, vcek_len, chain_len, both_len;
	struct snp_report r;
	EVP_PKEY *key;
	struct snp_chain_cache *cache;
	char *envelope;
};

static int floor_op(void *arg)
{
	struct state *s = arg;

	return ecdsa_verify_rs_le(s->key, HASH_SHA384, s->r.signed_bytes, SNP_SIGNED_SIZE, s->r.sig_r,
				  s->r.sig_s, SNP_SIG_COMPONENT_SIZE, "bench", NULL);
}

static int verify_op(struct state *s, struct snp_chain_cache *cache)
{
	struct evidence_ctx ctx = {.now = NOW};
	struct snp_opts o = {.cache = cache};
	struct snp_certs c;
	struct snp_result *res = malloc(sizeof(*res));
	struct claim_set *cs = claim_set_new();
	int rc;

	memset(&c, 0, sizeof(c));
	c.leaf = s->vcek, c.leaf_len = s->vcek_len;
	c.chain = s->chain, c.chain_len = s->chain_len;
	rc = snp_verify_report(&ctx, &o, s->report, s->report_len, &c, res, NULL);
	if (rc == 0)
		rc = snp_claims_add(res, cs, NULL);
	claim_set_free(cs);
	free(res);
	return rc;
}

static int cold_op(void *arg)
{
	return verify_op(arg, NULL);
}
static int warm_op(void *arg)
{
	return verify_op(arg, ((struct state *)arg)->cache);
}

static int envelope_op(void *arg)
{
	struct state *s = arg;
	struct evidence_ctx ctx = {.now = NOW};
	struct snp_opts o = {.cache = s->cache};
	struct evidence_input in;
	struct claim_set *cs = claim_set_new();
	int rc;

	memset(&in, 0, sizeof(in));
	in.evidence = (const uint8_t *)s->envelope, in.evidence_len = strlen(s->envelope);
	rc = sevsnpvm_verify_ex(&ctx, &o, &in, cs, NULL);
	claim_set_free(cs);
	return rc;
}

static char *make_envelope(const struct state *s)
{
	char *r = b64url_encode(s->report, s->report_len), *c = b64url_encode(s->both, s->both_len);
	size_t n = strlen(r) + strlen(c) + 64;
	char *e = malloc(n);

	snprintf(e, n, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", r, c);
	free(r);
	free(c);
	return e;
}

int main(void)
{
	const char *dir = getenv("ATTEST_VECTORS");
	struct state s;
	X509 *leaf = NULL;
	double floor, cold, warm, env, wall[NOPS];

	memset(&s, 0, sizeof(s));
	if (dir == NULL)
		dir = "../shared/vectors";
	s.report = slurp(dir, VEC "/report.bin", &s.report_len);
	s.vcek = slurp(dir, VEC "/vcek.pem", &s.vcek_len);
	s.chain = slurp(dir, VEC "/ask_ark_milan.pem", &s.chain_len);
	if (s.report == NULL || s.vcek == NULL || s.chain == NULL) {
		fprintf(stderr, "bench_snp: vectors not found under %s (set ATTEST_VECTORS)\n", dir);
		return 0;
	}
	s.both = malloc(s.vcek_len + s.chain_len);
	memcpy(s.both, s.vcek, s.vcek_len);
	memcpy(s.both + s.vcek_len, s.chain, s.chain_len);
	s.both_len = s.vcek_len + s.chain_len;
	s.envelope = make_envelope(&s);
	if (snp_report_parse(s.report, s.report_len, &s.r, NULL) != 0 ||
	    amd_cert_load(s.vcek, s.vcek_len, &leaf, "bench", NULL) != 0)
		return 1;
	s.key = X509_get_pubkey(leaf);
	s.cache = snp_chain_cache_new(16);
	{
		int (*const ops[NOPS])(void *) = {floor_op, cold_op, warm_op, envelope_op};
		double med[NOPS];

		if (measure(ops, &s, med, wall) != 0) {
			fprintf(stderr, "bench_snp: verification failed\n");
			return 1;
		}
		floor = med[0], cold = med[1], warm = med[2], env = med[3];
	}
	printf("bench_snp (%s, median of %d interleaved runs; CPU time, wall time)\n", VEC, RUNS);
	printf("  floor: one ECDSA P-384 verify          %9.1f us            wall %9.1f us\n", floor,
	       wall[0]);
	printf("  snp_verify_report + claims, cold        %9.1f us  (%5.2fx)  wall %9.1f us (%5.2fx)\n", cold,
	       cold / floor, wall[1], wall[1] / wall[0]);
	printf("  snp_verify_report + claims, warm        %9.1f us  (%5.2fx)  wall %9.1f us (%5.2fx)  goal "
	       "<= 1.20x\n",
	       warm, warm / floor, wall[2], wall[2] / wall[0]);
	printf("  sevsnpvm_verify (envelope), warm        %9.1f us  (%5.2fx)  wall %9.1f us (%5.2fx)\n", env,
	       env / floor, wall[3], wall[3] / wall[0]);
	snp_chain_cache_free(s.cache);
	EVP_PKEY_free(s.key);
	X509_free(leaf);
	free(s.envelope);
	free(s.both);
	free(s.report);
	free(s.vcek);
	free(s.chain);
	return 0;
}
