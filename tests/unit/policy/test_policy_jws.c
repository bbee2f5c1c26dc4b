/*
 * Policy JWS, the two hashes (maa-interface.md §3.8) checked against the
 * real service's recorded policy exchanges, and the cache of compiled plans
 * (bounded, shared by threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "crypto/jose.h"
#include "policy_testutil.h"
#include "testutil.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>

#define MIN_POLICY "version=1.0; authorizationrules{=> permit();}; issuancerules{};"
#define CPP_REC "maa-tokens/cpp-2022-11-17-policy-sgx-aad/exchanges/"

/* A string member of a JSON file below the vectors folder (caller frees). */
static char *vector_string(const char *dir, const char *rel, const char *k1, const char *k2)
{
	size_t len = 0;
	unsigned char *text = test_read_vector(dir, rel, &len);
	json_t *doc, *v;
	char *s = NULL;

	assert_non_null(text);
	doc = json_loadb((const char *)text, len, 0, NULL);
	v = json_object_get(doc, k1);
	if (k2 != NULL)
		v = json_object_get(v, k2);
	if (json_is_string(v))
		s = strdup(json_string_value(v));
	json_decref(doc);
	free(text);
	assert_non_null(s);
	return s;
}

static struct policy_jws *parse_ok(const char *body, unsigned flags)
{
	struct attest_err err;
	struct policy_jws *j = NULL;
	int rc;

	attest_err_clear(&err);
	rc = policy_jws_parse(body, strlen(body), flags, &j, &err);
	if (rc != 0)
		fprintf(stderr, "policy_jws_parse: %s: %s\n", err.name, err.msg);
	assert_int_equal(rc, 0);
	return j;
}

static void parse_fails(const char *body, unsigned flags, const char *name)
{
	struct attest_err err;
	struct policy_jws *j = NULL;

	attest_err_clear(&err);
	assert_int_not_equal(policy_jws_parse(body, strlen(body), flags, &j, &err), 0);
	assert_null(j);
	if (strcmp(err.name, name) != 0)
		fprintf(stderr, "expected %s, got %s: %s\n", name, err.name, err.msg);
	assert_string_equal(err.name, name);
}

/* ---- Real exchanges ------------------------------------------------------ */

static void recorded_set_policy_body_parses_with_the_recorded_token_hash(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = vector_string(dir, CPP_REC "02-policies-set-SgxEnclave/request.json", "body", NULL);
	char *hash = vector_string(dir, CPP_REC "02-policies-set-SgxEnclave/token.claims.json", "claims",
				   "x-ms-policy-token-hash");
	struct policy_jws *j = parse_ok(body, 0);

	assert_false(j->is_signed);
	assert_false(j->is_text);
	assert_string_equal(j->alg, "none");
	assert_string_equal(j->text, MIN_POLICY);
	assert_string_equal(j->token_hash, hash);
	assert_string_equal(j->token_hash, "c6sEJQItV50OeP9IrP_bzywAMOVvj5uDPbklA_bwdYQ");
	assert_string_equal(j->hash, "z0FRjKS0ssQTNur1V6BV8WIrh9M3fzgTo0EfHRvapWU");
	assert_null(j->signer_jwk);
	policy_jws_free(j);
	free(hash);
	free(body);
}

static void unsigned_jws_is_produced_byte_for_byte_as_the_sdk_does(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = vector_string(dir, CPP_REC "02-policies-set-SgxEnclave/request.json", "body", NULL);
	struct attest_err err;
	char *mine = NULL;

	attest_err_clear(&err);
	assert_int_equal(policy_jws_unsigned(MIN_POLICY, strlen(MIN_POLICY), &mine, &err), 0);
	assert_string_equal(mine, body);
	free(mine);
	free(body);
}

static void policy_after_reset_is_our_sgx_default_byte_for_byte(void **state)
{
	REQUIRE_VECTORS(dir);
	char *stored = vector_string(dir, CPP_REC "06-policies-get-SgxEnclave/token.claims.json", "claims", "x-ms-policy");
	struct policy_jws *j = parse_ok(stored, 0);
	char h[POLICY_HASH_B64_LEN + 1];

	assert_string_equal(j->text, policy_default_text("SgxEnclave"));
	policy_hash_text(j->text, j->text_len, h);
	assert_string_equal(h, j->hash);
	policy_jws_free(j);
	free(stored);
}

static void reset_body_has_an_empty_payload(void **state)
{
	REQUIRE_VECTORS(dir);
	char *body = vector_string(dir, CPP_REC "05-policies-reset-SgxEnclave/request.json", "body", NULL);
	struct policy_jws *j = parse_ok(body, POLICY_JWS_ALLOW_EMPTY);
	struct attest_err err;
	char *mine = NULL;

	assert_null(j->text);
	assert_string_equal(j->hash, "");
	policy_jws_free(j);
	parse_fails(body, 0, "policy.jws.empty");
	attest_err_clear(&err);
	assert_int_equal(policy_jws_unsigned(NULL, 0, &mine, &err), 0);
	assert_string_equal(mine, "eyJhbGciOiJub25lIn0..");
	assert_string_equal(mine, body);
	free(mine);
	free(body);
}

/* ---- Hashes ------------------------------------------------------------------ */

static void policy_hash_is_over_the_base64url_text(void **state)
{
	char a[POLICY_HASH_B64_LEN + 1], b[POLICY_HASH_B64_LEN + 1];
	/* b64url(MIN_POLICY) */
	const char *b64 = "dmVyc2lvbj0xLjA7IGF1dGhvcml6YXRpb25ydWxlc3s9PiBwZXJtaXQoKTt9OyBpc3N1YW5jZXJ1bGVze307";

	policy_hash_text(MIN_POLICY, strlen(MIN_POLICY), a);
	policy_hash_b64(b64, strlen(b64), b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), POLICY_HASH_B64_LEN);
	/* The real default SGX policy's hash as the real service computes it. */
	policy_hash_text(policy_default_text("SgxEnclave"), strlen(policy_default_text("SgxEnclave")), a);
	assert_string_equal(a, "ViVGS4BYl70X8eUrgryHg0TtbEk9WtIc6DtTBEFxaWc");
}

static void token_hash_is_over_the_exact_body(void **state)
{
	char a[POLICY_HASH_B64_LEN + 1];
	const char *body = "eyJhbGciOiJub25lIn0.eyJBdHRlc3RhdGlvblBvbGljeSI6ImRtVnljMmx2YmoweExqQTdJR0YxZEdodmNtbDZZWFJwYjI1eWRXeGxjM3M5"
			   "UGlCd1pYSnRhWFFvS1R0OU95QnBjM04xWVc1alpYSjFiR1Z6ZTMwNyJ9.";
	struct policy_jws *j;
	char *nl;

	policy_token_hash(body, strlen(body), a);
	assert_string_equal(a, "c6sEJQItV50OeP9IrP_bzywAMOVvj5uDPbklA_bwdYQ");
	/* A trailing newline is tolerated by the parser but is part of the hashed body. */
	nl = malloc(strlen(body) + 2);
	sprintf(nl, "%s\n", body);
	j = parse_ok(nl, 0);
	assert_string_equal(j->text, MIN_POLICY);
	assert_string_not_equal(j->token_hash, a);
	policy_jws_free(j);
	free(nl);
}

/* ---- Formats and failures -------------------------------------------------- */

static void raw_text_is_accepted_only_when_allowed(void **state)
{
	struct policy_jws *j = parse_ok(MIN_POLICY, POLICY_JWS_ALLOW_TEXT);
	char h[POLICY_HASH_B64_LEN + 1];

	assert_true(j->is_text);
	assert_string_equal(j->text, MIN_POLICY);
	assert_string_equal(j->alg, "");
	policy_hash_text(MIN_POLICY, strlen(MIN_POLICY), h);
	assert_string_equal(j->hash, h);
	policy_jws_free(j);
	parse_fails(MIN_POLICY, 0, "policy.jws.text");
	parse_fails("version=1.0;\xff", POLICY_JWS_ALLOW_TEXT, "policy.jws.payload");
}

static char *b64url_of(const char *s)
{
	return b64url_encode((const uint8_t *)s, strlen(s));
}

static char *make_jws(const char *header, const char *payload, const char *sig)
{
	char *h = b64url_of(header), *p = b64url_of(payload), *out = malloc(strlen(h) + strlen(p) + strlen(sig) + 3);

	sprintf(out, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return out;
}

static void malformed_jws_are_refused_with_their_own_errors(void **state)
{
	static const struct {
		const char *header, *payload, *sig, *name;
	} C[] = {
		{"{\"alg\":\"none\"}", "{\"Policy\":\"eA\"}", "", "policy.jws.payload"},
		{"{\"alg\":\"none\"}", "{\"AttestationPolicy\":5}", "", "policy.jws.payload"},
		{"{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"*bad*\"}", "", "policy.jws.payload"},
		{"{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"_w\"}", "", "policy.jws.payload"}, /* 0xff: not UTF-8 */
		{"{\"alg\":\"none\"}", "not json", "", "policy.jws.payload"},
		{"{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"eA\",\"AttestationPolicy\":\"eQ\"}", "", "policy.jws.payload"},
		{"{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"eA\"}", "c2ln", "policy.jws.format"},
		{"{\"alg\":\"RSA256\"}", "{\"AttestationPolicy\":\"eA\"}", "c2ln", "policy.jws.alg"},
		{"{\"alg\":\"HS256\"}", "{\"AttestationPolicy\":\"eA\"}", "c2ln", "policy.jws.alg"},
		{"not json", "{\"AttestationPolicy\":\"eA\"}", "", "policy.jws.format"},
		{"{\"alg\":\"RS256\"}", "{\"AttestationPolicy\":\"eA\"}", "c2ln", "policy.jws.key"},
		{"{\"alg\":\"RS256\",\"x5c\":[\"AAAA\"]}", "{\"AttestationPolicy\":\"eA\"}", "c2ln", "policy.jws.key"},
	};
	for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
		char *jws = make_jws(C[i].header, C[i].payload, C[i].sig);

		parse_fails(jws, 0, C[i].name);
		free(jws);
	}
	parse_fails("a.b", 0, "policy.jws.text");
	parse_fails("a.b.c.d", 0, "policy.jws.text");
	parse_fails(".e30.", 0, "policy.jws.text");
	parse_fails("e30.e30=.", 0, "policy.jws.format");
}

/* ---- Signed policies ---------------------------------------------------------- */

struct signer {
	char *key_pem, *cert_pem;
};

static char *bio_string(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *s = malloc((size_t)n + 1);

	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

static struct signer make_signer(bool ec)
{
	EVP_PKEY *key = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509_NAME *n;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	struct signer s;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"policy signer", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_X509(cb, x);
	s.key_pem = bio_string(kb);
	s.cert_pem = bio_string(cb);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return s;
}

static void signer_free(struct signer *s)
{
	free(s->key_pem);
	free(s->cert_pem);
}

static void check_signed_roundtrip(bool ec)
{
	struct signer s = make_signer(ec);
	struct attest_err err;
	char *jws = NULL;
	struct policy_jws *j;
	const json_t *x5c;

	attest_err_clear(&err);
	assert_int_equal(policy_jws_signed(MIN_POLICY, strlen(MIN_POLICY), s.key_pem, s.cert_pem, &jws, &err), 0);
	j = parse_ok(jws, 0);
	assert_true(j->is_signed);
	assert_string_equal(j->alg, ec ? "ES256" : "RS256");
	assert_string_equal(j->text, MIN_POLICY);
	assert_string_equal(json_string_value(json_object_get(j->signer_jwk, "kty")), ec ? "EC" : "RSA");
	x5c = json_object_get(j->signer_jwk, "x5c");
	assert_int_equal(json_array_size(x5c), 1);
	assert_true(json_equal(x5c, j->x5c));
	policy_jws_free(j);
	/* Any altered character of the signed part fails the signature. */
	{
		char *dot = strchr(jws, '.');

		dot[3] = dot[3] == 'A' ? 'B' : 'A';
		parse_fails(jws, 0, "policy.jws.signature");
	}
	free(jws);
	/* A signed reset: empty payload, signature over "header." */
	assert_int_equal(policy_jws_signed(NULL, 0, s.key_pem, s.cert_pem, &jws, &err), 0);
	assert_non_null(strstr(jws, ".."));
	j = parse_ok(jws, POLICY_JWS_ALLOW_EMPTY);
	assert_true(j->is_signed);
	assert_null(j->text);
	policy_jws_free(j);
	free(jws);
	signer_free(&s);
}

static void rs256_signed_policy_roundtrips_and_tampering_fails(void **state) { check_signed_roundtrip(false); }
static void es256_signed_policy_roundtrips_and_tampering_fails(void **state) { check_signed_roundtrip(true); }

/* DOCS/basic-concepts: the signing key may come as a jwk header instead of x5c. */
static void policy_signed_with_a_jwk_header_verifies(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct attest_err err;
	struct jws_signer *signer = NULL;
	json_t *jwk = NULL, *hdr;
	char *payload, *jws = NULL, *b64 = b64url_encode((const uint8_t *)MIN_POLICY, strlen(MIN_POLICY));
	struct policy_jws *j;

	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(key, NULL, NULL, &jwk, &err), 0);
	hdr = json_pack("{s:O}", "jwk", jwk);
	assert_int_equal(jws_signer_new(key, JWS_ALG_ES256, hdr, &signer, &err), 0);
	payload = malloc(strlen(b64) + 32);
	sprintf(payload, "{\"AttestationPolicy\":\"%s\"}", b64);
	assert_int_equal(jws_sign(signer, payload, strlen(payload), &jws, &err), 0);
	j = parse_ok(jws, 0);
	assert_true(j->is_signed);
	assert_null(j->x5c);
	assert_true(json_equal(j->signer_jwk, jwk));
	assert_string_equal(j->text, MIN_POLICY);
	policy_jws_free(j);
	free(jws);
	free(payload);
	free(b64);
	json_decref(hdr);
	json_decref(jwk);
	jws_signer_free(signer);
	EVP_PKEY_free(key);
}

static unsigned sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	int n = s ? atoi(s) : 1;

	return n > 0 ? (unsigned)n : 1;
}

/* STYLE.md habit 9: nothing altered in a signed policy may verify. */
static void signed_policy_mutation_sweep(void **state)
{
	struct signer s = make_signer(true);
	struct attest_err err;
	char *jws = NULL;
	size_t n;
	unsigned stride = sweep_stride(), tried = 0;
	static const char ALPHABET[] = "AQgw-_.x";

	attest_err_clear(&err);
	assert_int_equal(policy_jws_signed(MIN_POLICY, strlen(MIN_POLICY), s.key_pem, s.cert_pem, &jws, &err), 0);
	n = strlen(jws);
	for (size_t i = 0; i < n; i += stride) {
		char saved = jws[i];

		for (const char *c = ALPHABET; *c; c++) {
			struct policy_jws *j = NULL;

			if (*c == saved)
				continue;
			jws[i] = *c;
			attest_err_clear(&err);
			if (policy_jws_parse(jws, n, POLICY_JWS_ALLOW_EMPTY, &j, &err) == 0)
				fail_msg("byte %zu changed to '%c' still parses (%s)", i, *c, j->text);
			tried++;
		}
		jws[i] = saved;
	}
	/* Every cut before the end fails too. */
	for (size_t cut = 0; cut < n; cut += stride) {
		struct policy_jws *j = NULL;

		attest_err_clear(&err);
		if (policy_jws_parse(jws, cut, POLICY_JWS_ALLOW_EMPTY, &j, &err) == 0)
			fail_msg("cut at %zu still parses", cut);
	}
	assert_true(tried > 0);
	free(jws);
	signer_free(&s);
}

static void signing_needs_a_key_and_certificates(void **state)
{
	struct signer s = make_signer(true);
	struct attest_err err;
	char *jws = NULL;

	attest_err_clear(&err);
	assert_int_not_equal(policy_jws_signed(MIN_POLICY, strlen(MIN_POLICY), "not a key", s.cert_pem, &jws, &err), 0);
	assert_string_equal(err.name, "policy.jws.key");
	attest_err_clear(&err);
	assert_int_not_equal(policy_jws_signed(MIN_POLICY, strlen(MIN_POLICY), s.key_pem, "no cert", &jws, &err), 0);
	assert_null(jws);
	signer_free(&s);
}

/* ---- Cache -------------------------------------------------------------------- */

static void cache_compiles_once_per_policy_hash(void **state)
{
	struct policy_cache *c = policy_cache_new(4, NULL);
	struct policy_plan *a = NULL, *b = NULL, *l = NULL;
	struct policy_cache_stats st;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(policy_cache_get(c, MIN_POLICY, strlen(MIN_POLICY), &a, &err), 0);
	assert_int_equal(policy_cache_get(c, MIN_POLICY, strlen(MIN_POLICY), &b, &err), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(policy_cache_lookup(c, policy_plan_hash(a), &l), 0);
	assert_ptr_equal(l, a);
	assert_int_equal(policy_cache_lookup(c, "nope", &l), ATTEST_E_NOT_FOUND);
	{
		/* The cache's key is the hash's first 32 characters: one that differs after them misses. */
		char other[128];
		size_t n = strlen(policy_plan_hash(a));
		struct policy_plan *x = NULL;

		assert_true(n > 32 && n < sizeof(other));
		memcpy(other, policy_plan_hash(a), n + 1);
		other[n - 1] = other[n - 1] == 'A' ? 'B' : 'A';
		assert_int_equal(policy_cache_lookup(c, other, &x), ATTEST_E_NOT_FOUND);
		assert_null(x);
		other[n - 1] = policy_plan_hash(a)[n - 1];
		other[33] = other[33] == 'A' ? 'B' : 'A';
		assert_int_equal(policy_cache_lookup(c, other, &x), ATTEST_E_NOT_FOUND);
	}
	policy_cache_stats(c, &st);
	assert_int_equal(st.misses, 1); /* lookups by hash are not counted */
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.entries, 1);
	policy_plan_free(a);
	policy_plan_free(b);
	policy_plan_free(l);
	policy_cache_free(c);
}

static void cache_does_not_keep_compile_errors(void **state)
{
	struct policy_cache *c = policy_cache_new(4, NULL);
	struct policy_plan *p = NULL;
	struct policy_cache_stats st;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(policy_cache_get(c, "version=9.9;", 12, &p, &err), ATTEST_E_POLICY);
	assert_string_equal(err.name, "policy.version");
	assert_null(p);
	policy_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	policy_cache_free(c);
}

static void cache_evicts_the_least_recently_used(void **state)
{
	struct policy_cache *c = policy_cache_new(2, NULL);
	const char *t[3] = {MIN_POLICY, "version=1.1; authorizationrules{=> permit();}; issuancerules{};",
			    "version=1.2; authorizationrules{=> permit();}; issuancerules{};"};
	struct policy_plan *p[3], *q = NULL;
	struct policy_cache_stats st;
	struct attest_err err;

	attest_err_clear(&err);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(policy_cache_get(c, t[i], strlen(t[i]), &p[i], &err), 0);
		if (i == 1) { /* touch the first so the second is the oldest */
			assert_int_equal(policy_cache_lookup(c, policy_plan_hash(p[0]), &q), 0);
			policy_plan_free(q);
		}
	}
	policy_cache_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(policy_cache_lookup(c, policy_plan_hash(p[1]), &q), ATTEST_E_NOT_FOUND);
	assert_int_equal(policy_cache_lookup(c, policy_plan_hash(p[0]), &q), 0);
	policy_plan_free(q);
	/* An evicted plan stays usable by whoever holds it. */
	assert_string_equal(policy_plan_version(p[1]), "1.1");
	for (int i = 0; i < 3; i++)
		policy_plan_free(p[i]);
	policy_cache_free(c);
}

struct worker {
	struct policy_cache *cache;
	int id;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct claim_set *in = claim_set_new();
	const char *texts[3] = {"version=1.0; authorizationrules{ [type==\"n\", value>=1] => permit(); }; issuancerules{"
				" c:[type==\"n\"] => issue(type=\"copy\", value=c.value); };",
				"version=1.0; authorizationrules{ [type==\"n\", value>=1] => permit(); }; issuancerules{"
				" c:[type==\"n\"] => issue(type=\"copy2\", value=c.value); };",
				"version=1.0; authorizationrules{ [type==\"n\", value>=1] => permit(); }; issuancerules{"
				" c:[type==\"n\"] => issue(type=\"copy3\", value=c.value); };"};

	claim_set_add_int(in, "n", w->id + 1);
	w->ok = 1;
	for (int i = 0; i < 300; i++) {
		struct policy_plan *p = NULL;
		struct policy_result *r = NULL;
		struct attest_err err;
		const json_t *v;

		attest_err_clear(&err);
		if (policy_cache_get(w->cache, texts[(i + w->id) % 3], strlen(texts[(i + w->id) % 3]), &p, &err) != 0 ||
		    policy_eval(p, in, 0, &r, &err) != 0 || r->verdict != POLICY_PERMIT ||
		    claim_set_count(r->outgoing) != 1 || (v = claim_set_at(r->outgoing, 0)->value) == NULL ||
		    json_integer_value(v) != w->id + 1)
			w->ok = 0;
		policy_result_free(r);
		policy_plan_free(p);
	}
	claim_set_free(in);
	return NULL;
}

static void cache_is_safe_for_concurrent_workers(void **state)
{
	struct policy_cache *c = policy_cache_new(2, NULL); /* smaller than the working set: evictions race too */
	pthread_t th[4];
	struct worker w[4];
	struct policy_cache_stats st;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){c, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 1);
	}
	policy_cache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, 1200);
	assert_true(st.entries <= 2);
	policy_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recorded_set_policy_body_parses_with_the_recorded_token_hash),
		cmocka_unit_test(unsigned_jws_is_produced_byte_for_byte_as_the_sdk_does),
		cmocka_unit_test(policy_after_reset_is_our_sgx_default_byte_for_byte),
		cmocka_unit_test(reset_body_has_an_empty_payload),
		cmocka_unit_test(policy_hash_is_over_the_base64url_text),
		cmocka_unit_test(token_hash_is_over_the_exact_body),
		cmocka_unit_test(raw_text_is_accepted_only_when_allowed),
		cmocka_unit_test(malformed_jws_are_refused_with_their_own_errors),
		cmocka_unit_test(rs256_signed_policy_roundtrips_and_tampering_fails),
		cmocka_unit_test(es256_signed_policy_roundtrips_and_tampering_fails),
		cmocka_unit_test(policy_signed_with_a_jwk_header_verifies),
		cmocka_unit_test(signed_policy_mutation_sweep),
		cmocka_unit_test(signing_needs_a_key_and_certificates),
		cmocka_unit_test(cache_compiles_once_per_policy_hash),
		cmocka_unit_test(cache_does_not_keep_compile_errors),
		cmocka_unit_test(cache_evicts_the_least_recently_used),
		cmocka_unit_test(cache_is_safe_for_concurrent_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
