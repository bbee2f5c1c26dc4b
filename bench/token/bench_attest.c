/*
 * bench_attest: one SGX attestation in process, the whole pipeline
 * (src/server/pipeline.c: request decode, verification, default policy,
 * token claims, RS256 signature) beside its floor measured in the same run:
 *
 *   crypto floor   the cryptography an attestation cannot avoid with warm
 *                  caches: the two ECDSA P-256 verifications of the quote
 *                  (ISV signature by the attestation key, QE report by the
 *                  PCK key) and one RSA-2048 PKCS#1 v1.5 signature
 *   verify floor   sgx_verify() of the real quote with warm collateral and
 *                  chain caches (what verification costs, parsing and TCB
 *                  evaluation included) + one RSA-2048 signature: the
 *                  "in-process attestation floor" of issue 9
 *   pipeline       pipeline_attest_run() on the recorded request body of the
 *                  @azure/attestation test suite (the same quote), signing
 *                  through a prepared JWS signer as the keyring does
 *                  (jwt_sign: the claims serialised by jose_json_dump_sorted,
 *                  the header precomputed); the "token claims + JSON" stage
 *                  is token_attest_claims plus that same serialisation
 *
 * Method: thread CPU time (the machine is shared: preemption does not
 * count), methods interleaved in short rounds, medians over rounds; the
 * ratio pipeline / floor is the median of per-round ratios. It reports,
 * never asserts. The real quote verifies at its collateral's date
 * (2022-04-27), which is the "now" passed in.
 * Usage: bench_attest [ROUNDS] [OPS_PER_ROUND]
 */
#include "base/codec.h"
#include "base/jsonx.h"
#include "base/timeutil.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "evidence/sgx.h"
#include "policy/policy.h"
#include "server/pipeline.h"
#include "token/request.h"
#include "token/token.h"
#include "bench_time.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OE_COLL "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26"
#define REQUEST                                                                                              \
	"maa-tokens/js-2022-01-28-sharedwus/exchanges/03-attest-SgxEnclave-binary-runtime/request.json"
#define NOW    1651017600
#define ISSUER "https://attestd.bench:8443"

enum method { M_ECDSA2, M_RSA, M_VERIFY, M_DECODE, M_POLICY, M_TOKEN, M_PIPELINE, M_COUNT };
static const char *const NAMES[M_COUNT] = {
    "2 x ECDSA P-256 verify",  "RSA-2048 sign (SHA-256 digest)",	"sgx_verify (warm caches)",
    "  stage: request decode", "  stage: default policy (cached plan)", "  stage: token claims + JSON",
    "pipeline_attest_run"};

struct bench {
	struct pipeline_ctx *ctx;
	EVP_PKEY *rsa, *ec;
	EVP_PKEY_CTX *rsa_ctx;
	struct jws_signer *signer;
	char *body;
	struct attest_request *req;
	uint8_t digest[32];
	uint8_t ecsig[2][80];
	size_t ecsig_len[2];
	struct claim_set *incoming; /* what verification + request claims give, for the stage figures */
	struct policy_plan *plan;
	struct policy_result *result;
};

/* Signs as the keyring does (signing_key.c: jwt_sign_ex, the claims serialised by jose_json_dump_sorted). */
static int sign_fn(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	struct bench *b = arg;

	(void)jku;
	return jwt_sign(b->signer, claims, jwt, err);
}

static char *read_body(const char *vectors)
{
	char path[4096];
	json_t *rec;
	char *body;

	snprintf(path, sizeof(path), "%s/" REQUEST, vectors);
	rec = json_load_file(path, 0, NULL);
	if (rec == NULL)
		return NULL;
	body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	json_decref(rec);
	return body;
}

static int setup(struct bench *b, const char *vectors)
{
	char path[4096];
	json_t *hdr = json_pack("{s:s,s:s,s:s}", "jku", ISSUER "/certs", "kid", "bench", "typ", "JWT");
	EVP_MD_CTX *md;

	memset(b, 0, sizeof(*b));
	b->body = read_body(vectors);
	b->rsa = EVP_RSA_gen(2048);
	b->ec = EVP_EC_gen("P-256");
	if (b->body == NULL || b->rsa == NULL || b->ec == NULL || pipeline_ctx_new(0, &b->ctx, NULL) != 0 ||
	    jws_signer_new(b->rsa, JWS_ALG_RS256, hdr, &b->signer, NULL) != 0)
		return -1;
	json_decref(hdr);
	snprintf(path, sizeof(path), "%s/" OE_COLL, vectors);
	if (collateral_file_source_new(path, &b->ctx->collateral, NULL) != 0)
		return -1;
	b->ctx->collateral_cache = collateral_cache_new(64);
	b->ctx->collateral->cache = b->ctx->collateral_cache;
	if (attest_request_decode(MAA_TYPE_SGX_ENCLAVE, b->body, strlen(b->body), &b->req, NULL) != 0)
		return -1;
	sha256("bench", 5, b->digest);
	b->rsa_ctx = EVP_PKEY_CTX_new(b->rsa, NULL);
	if (EVP_PKEY_sign_init(b->rsa_ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(b->rsa_ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(b->rsa_ctx, EVP_sha256()) != 1)
		return -1;
	{
		struct evidence_ctx ectx = {
		    .now = NOW, .anchors = &b->ctx->anchors, .collateral = b->ctx->collateral};
		struct evidence_input in;

		attest_request_input(b->req, &in);
		b->incoming = claim_set_new();
		if (sgx_verify(&ectx, &in, b->incoming, NULL) != 0 ||
		    token_add_request_claims(token_catalogue_get(MAA_TYPE_SGX_ENCLAVE), b->req, b->incoming,
					     NULL) != 0 ||
		    pipeline_plan_get(b->ctx, MAA_TYPE_SGX_ENCLAVE, NULL, 0, &b->plan, NULL) != 0 ||
		    policy_eval(b->plan, b->incoming, 0, &b->result, NULL) != 0)
			return -1;
	}
	/* two DER ECDSA signatures over the quote's sizes of signed data (384 + 432 bytes) */
	for (int i = 0; i < 2; i++) {
		b->ecsig_len[i] = sizeof(b->ecsig[i]);
		md = EVP_MD_CTX_new();
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, b->ec) != 1 ||
		    EVP_DigestSign(md, b->ecsig[i], &b->ecsig_len[i], (const uint8_t *)b->body,
				   i ? 432 : 384) != 1)
			return -1;
		EVP_MD_CTX_free(md);
	}
	return 0;
}

static void teardown(struct bench *b)
{
	pipeline_ctx_free(b->ctx);
	jws_signer_free(b->signer);
	EVP_PKEY_CTX_free(b->rsa_ctx);
	EVP_PKEY_free(b->rsa);
	EVP_PKEY_free(b->ec);
	attest_request_free(b->req);
	claim_set_free(b->incoming);
	policy_result_free(b->result);
	policy_plan_free(b->plan);
	free(b->body);
}

static int once(struct bench *b, enum method m)
{
	switch (m) {
	case M_ECDSA2:
		for (int i = 0; i < 2; i++)
			if (ecdsa_verify_der(b->ec, HASH_SHA256, b->body, i ? 432 : 384, b->ecsig[i],
					     b->ecsig_len[i], "bench", NULL) != 0)
				return -1;
		return 0;
	case M_RSA: {
		uint8_t sig[256];
		size_t len = sizeof(sig);

		return EVP_PKEY_sign(b->rsa_ctx, sig, &len, b->digest, sizeof(b->digest)) == 1 ? 0 : -1;
	}
	case M_VERIFY: {
		struct evidence_ctx ectx = {
		    .now = NOW, .anchors = &b->ctx->anchors, .collateral = b->ctx->collateral};
		struct evidence_input in;
		struct claim_set *cs = claim_set_new();
		int rc;

		attest_request_input(b->req, &in);
		rc = sgx_verify(&ectx, &in, cs, NULL);
		claim_set_free(cs);
		return rc;
	}
	case M_DECODE: {
		struct attest_request *req = NULL;
		int rc = attest_request_decode(MAA_TYPE_SGX_ENCLAVE, b->body, strlen(b->body), &req, NULL);

		attest_request_free(req);
		return rc;
	}
	case M_POLICY: {
		struct policy_plan *plan = NULL;
		struct policy_result *res = NULL;
		int rc = pipeline_plan_get(b->ctx, MAA_TYPE_SGX_ENCLAVE, NULL, 0, &plan, NULL);

		if (rc == 0)
			rc = policy_eval(plan, b->incoming, 0, &res, NULL);
		policy_result_free(res);
		policy_plan_free(plan);
		return rc;
	}
	case M_TOKEN: {
		struct token_attest_params p = {.cat = token_catalogue_get(MAA_TYPE_SGX_ENCLAVE),
						.issuer = ISSUER,
						.now = NOW,
						.policy_hash = policy_plan_hash(b->plan),
						.incoming = b->incoming,
						.issued = b->result->outgoing};
		json_t *claims = NULL;
		char *text;
		int rc = token_attest_claims(&p, &claims, NULL);

		/* the serialisation the signer uses (jwt_sign_ex) */
		text = rc == 0 ? jose_json_dump_sorted(claims, NULL) : NULL;
		free(text);
		json_decref(claims);
		return rc;
	}
	case M_PIPELINE: {
		struct pipeline_attest in = {.type = MAA_TYPE_SGX_ENCLAVE,
					     .body = b->body,
					     .body_len = strlen(b->body),
					     .issuer = ISSUER,
					     .now = NOW,
					     .sign = sign_fn,
					     .sign_arg = b};
		struct pipeline_outcome out;
		int rc;

		rc = pipeline_attest_run(b->ctx, &in, &out);
		pipeline_outcome_clear(&out);
		return rc;
	}
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 31, per = argc > 2 ? atoi(argv[2]) : 40;
	const char *vectors = getenv("ATTEST_VECTORS");
	double *t[M_COUNT], *r_crypto, *r_verify, med[M_COUNT];
	struct bench b;

	if (vectors == NULL || rounds < 1 || per < 1 || setup(&b, vectors) != 0) {
		fprintf(stderr, "bench_attest: setup failed (ATTEST_VECTORS set?)\n");
		return 1;
	}
	for (int m = 0; m < M_COUNT; m++) {
		if (once(&b, (enum method)m) != 0) { /* also warms the caches */
			fprintf(stderr, "bench_attest: %s failed\n", NAMES[m]);
			return 1;
		}
		t[m] = calloc((size_t)rounds, sizeof(double));
	}
	r_crypto = calloc((size_t)rounds, sizeof(double));
	r_verify = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		for (int m = 0; m < M_COUNT; m++) {
			uint64_t t0 = bench_cpu_ns();

			for (int i = 0; i < per; i++)
				once(&b, (enum method)m);
			t[m][r] = (double)(bench_cpu_ns() - t0) / per / 1000.0; /* us per op */
		}
		r_crypto[r] = t[M_PIPELINE][r] / (t[M_ECDSA2][r] + t[M_RSA][r]);
		r_verify[r] = t[M_PIPELINE][r] / (t[M_VERIFY][r] + t[M_RSA][r]);
	}
	printf("SGX attestation in process (real quote, warm caches); %d rounds x %d ops; thread CPU time, "
	       "median\n\n",
	       rounds, per);
	for (int m = 0; m < M_COUNT; m++) {
		med[m] = bench_median(t[m], rounds);
		printf("  %-34s %9.1f us/op  %9.0f ops/s per core\n", NAMES[m], med[m], 1e6 / med[m]);
	}
	printf("\n  crypto floor (2 ECDSA + 1 RSA)      %9.1f us/op  %9.0f ops/s per core\n",
	       med[M_ECDSA2] + med[M_RSA], 1e6 / (med[M_ECDSA2] + med[M_RSA]));
	printf("  attestation floor (verify + RSA)    %9.1f us/op  %9.0f ops/s per core\n",
	       med[M_VERIFY] + med[M_RSA], 1e6 / (med[M_VERIFY] + med[M_RSA]));
	printf("  pipeline                            %9.1f us/op  %9.0f ops/s per core\n", med[M_PIPELINE],
	       1e6 / med[M_PIPELINE]);
	printf(
	    "\n  pipeline / crypto floor      = %.2f  (pipeline reaches %.0f%% of the crypto floor's rate)\n",
	    bench_median(r_crypto, rounds), 100.0 / bench_median(r_crypto, rounds));
	printf("  pipeline / attestation floor = %.2f  (pipeline reaches %.0f%% of the attestation floor's "
	       "rate)\n",
	       bench_median(r_verify, rounds), 100.0 / bench_median(r_verify, rounds));
	for (int m = 0; m < M_COUNT; m++)
		free(t[m]);
	free(r_crypto);
	free(r_verify);
	teardown(&b);
	return 0;
}
