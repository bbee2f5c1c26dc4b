/*
 * Unit tests of src/crypto/jose.h: JWS round trips for every algorithm,
 * every parse and verify error, "none" refused unless allowed, JWT time
 * checks, JWK/JWKS, and real Azure Attestation tokens verified against the
 * /certs JWKS recorded with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "base/codec.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "testpki.h"
#include "testutil.h"

#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000)

struct keys {
	EVP_PKEY *rsa, *rsa_small, *p256, *p384, *rsa2;
	X509 *rsa_cert;
};

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -1;
	k->rsa = tp_key_rsa(2048);
	k->rsa2 = tp_key_rsa(2048);
	k->rsa_small = tp_key_rsa(1024);
	k->p256 = tp_key_ec("P-256");
	k->p384 = tp_key_ec("P-384");
	if (!k->rsa || !k->rsa2 || !k->rsa_small || !k->p256 || !k->p384)
		return -1;
	k->rsa_cert =
	    tp_cert("https://attestd.test", k->rsa, NULL, NULL, T0 - TP_DAY, T0 + 365 * TP_DAY, false, 9);
	if (k->rsa_cert == NULL)
		return -1;
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	EVP_PKEY_free(k->rsa);
	EVP_PKEY_free(k->rsa2);
	EVP_PKEY_free(k->rsa_small);
	EVP_PKEY_free(k->p256);
	EVP_PKEY_free(k->p384);
	X509_free(k->rsa_cert);
	free(k);
	return 0;
}

static char *sign_with(EVP_PKEY *key, enum jws_alg alg, const char *payload)
{
	struct jws_signer *s = NULL;
	struct attest_err err;
	json_t *hdr = json_pack("{s:s,s:s}", "kid", "k1", "typ", "JWT");
	char *tok = NULL;

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(key, alg, hdr, &s, &err), ATTEST_OK);
	assert_int_equal(jws_sign(s, payload, strlen(payload), &tok, &err), ATTEST_OK);
	jws_signer_free(s);
	json_decref(hdr);
	return tok;
}

static int parse_verify(const char *tok, EVP_PKEY *key, unsigned flags, struct attest_err *err)
{
	struct jws *j = NULL;
	int rc;

	attest_err_clear(err);
	rc = jws_parse(tok, strlen(tok), &j, err);
	if (rc == ATTEST_OK)
		rc = jws_verify(j, key, flags, err);
	jws_free(j);
	return rc;
}

/* ---- round trips -------------------------------------------------------- */

static void round_trip(EVP_PKEY *key, enum jws_alg alg, size_t raw_sig_len)
{
	static const char PAYLOAD[] = "{\"iss\":\"https://attestd.test\",\"x-ms-ver\":\"1.0\"}";
	char *tok = sign_with(key, alg, PAYLOAD);
	struct jws *j = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(j->alg, alg);
	assert_string_equal(jws_header_str(j, "alg"), jws_alg_name(alg));
	assert_string_equal(jws_header_str(j, "kid"), "k1");
	assert_string_equal(jws_header_str(j, "typ"), "JWT");
	assert_null(jws_header_str(j, "jku"));
	assert_int_equal(j->payload_len, strlen(PAYLOAD));
	assert_memory_equal(j->payload, PAYLOAD, j->payload_len);
	assert_int_equal(j->sig_len, raw_sig_len);
	assert_int_equal(jws_verify(j, key, 0, &err), ATTEST_OK);
	jws_free(j);
	free(tok);
}

static void rs256_round_trips(void **state)
{
	struct keys *k = *state;

	round_trip(k->rsa, JWS_ALG_RS256, 256);
}

static void ps256_round_trips(void **state)
{
	struct keys *k = *state;

	round_trip(k->rsa, JWS_ALG_PS256, 256);
}

static void es256_round_trips_with_raw_r_s(void **state)
{
	struct keys *k = *state;

	round_trip(k->p256, JWS_ALG_ES256, 64);
}

static void es384_round_trips_with_raw_r_s(void **state)
{
	struct keys *k = *state;

	round_trip(k->p384, JWS_ALG_ES384, 96);
}

static void header_is_precomputed_with_alg_first(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	struct attest_err err;
	json_t *hdr = json_pack("{s:s,s:s,s:s}", "jku", "https://a.test/certs", "kid", "abc", "typ", "JWT");

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->rsa, JWS_ALG_RS256, hdr, &s, &err), ATTEST_OK);
	assert_string_equal(
	    jws_signer_header(s),
	    "{\"alg\":\"RS256\",\"jku\":\"https://a.test/certs\",\"kid\":\"abc\",\"typ\":\"JWT\"}");
	jws_signer_free(s);
	json_decref(hdr);
	/* The signer sets alg itself; a caller may not. */
	hdr = json_pack("{s:s}", "alg", "none");
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->rsa, JWS_ALG_RS256, hdr, &s, &err), ATTEST_E_INVALID);
	json_decref(hdr);
}

static void signer_refuses_an_alg_that_does_not_fit_the_key(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->p256, JWS_ALG_RS256, NULL, &s, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "jws.alg.key");
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->p384, JWS_ALG_ES256, NULL, &s, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->rsa_small, JWS_ALG_RS256, NULL, &s, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->rsa, JWS_ALG_NONE, NULL, &s, &err), ATTEST_E_INVALID);
	assert_null(s);
}

static void jwt_sign_signs_the_compact_claims(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	struct attest_err err;
	json_t *claims = json_pack("{s:s}", "iss", "https://attestd.test"), *back = NULL;
	struct jws *j = NULL;
	char *tok = NULL;

	assert_int_equal(jwt_set_times(claims, T0, 3600), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->p256, JWS_ALG_ES256, NULL, &s, &err), ATTEST_OK);
	assert_int_equal(jwt_sign(s, claims, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jws_verify(j, k->p256, 0, &err), ATTEST_OK);
	assert_int_equal(jwt_claims(j, &back, &err), ATTEST_OK);
	assert_true(json_equal(claims, back));
	assert_int_equal(json_integer_value(json_object_get(back, "exp")), T0 + 3600);
	assert_int_equal(jwt_check_time(back, T0 + 10, 0, JWT_REQUIRE_EXP, &err), ATTEST_OK);
	json_decref(back);
	json_decref(claims);
	jws_free(j);
	free(tok);
	jws_signer_free(s);
}

static void jwt_payload_is_compact_with_sorted_names(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	struct attest_err err;
	json_t *claims = json_pack("{s:i,s:s,s:{s:i,s:i}}", "x-ms-ver", 1, "exp", "x", "a", "z", 1, "b", 2);
	json_t *other = json_pack("{s:s}", "jku", "https://tenant.test/certs");
	struct jws *j = NULL;
	char *tok = NULL;

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->p256, JWS_ALG_ES256, NULL, &s, &err), ATTEST_OK);
	assert_int_equal(jwt_sign(s, claims, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_string_equal((const char *)j->payload,
			    "{\"a\":{\"b\":2,\"z\":1},\"exp\":\"x\",\"x-ms-ver\":1}");
	assert_null(jws_header_str(j, "jku"));
	jws_free(j);
	free(tok);
	/* A per-call header replaces the precomputed one for that token only. */
	assert_int_equal(jwt_sign_ex(s, other, claims, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_string_equal(jws_header_str(j, "jku"), "https://tenant.test/certs");
	assert_string_equal(jws_header_str(j, "alg"), "ES256");
	assert_int_equal(jws_verify(j, k->p256, 0, &err), ATTEST_OK);
	jws_free(j);
	free(tok);
	json_decref(claims);
	json_decref(other);
	jws_signer_free(s);
}

/* jose_json_dump_sorted must write exactly what jansson writes. */
static void assert_dump_like_jansson(const json_t *v)
{
	char *mine = jose_json_dump_sorted(v, NULL),
	     *ref = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(mine);
	assert_non_null(ref);
	assert_string_equal(mine, ref);
	free(mine);
	free(ref);
}

static void sorted_dump_matches_jansson_byte_for_byte(void **state)
{
	static const char *const STRINGS[] = {"",
					      "a",
					      "plain ascii text of some length",
					      "quote\" and back\\slash",
					      "\x01\x02\x1f controls \b\f\n\r\t",
					      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
					      "1234567\"",
					      "12345678\"",
					      "123456789\\",
					      "slash / stays",
					      "\x7f del"};
	json_t *o = json_object(), *arr = json_array(), *big = json_object(), *deep = json_object(),
	       *cur = deep;
	size_t i;

	for (i = 0; i < sizeof(STRINGS) / sizeof(STRINGS[0]); i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%02zu\t", sizeof(STRINGS) / sizeof(STRINGS[0]) - i);
		json_object_set_new(o, key, json_string(STRINGS[i]));
		json_array_append_new(arr, json_string(STRINGS[i]));
		assert_dump_like_jansson(json_object_get(o, key));
	}
	json_object_set_new(o, "arr", arr);
	json_object_set_new(o, "ints",
			    json_pack("[I,I,i,i]", (json_int_t)INT64_MIN, (json_int_t)INT64_MAX, 0, -1));
	json_object_set_new(o, "reals", json_pack("[f,f,f,f]", 0.5, 1.0, -2.25e-300, 1e300));
	json_object_set_new(o, "lits", json_pack("[b,b,n,{},[]]", 1, 0));
	for (i = 0; i < 100; i++) {
		char key[16];

		snprintf(key, sizeof(key), "m%03zu", (i * 37) % 100);
		json_object_set_new(big, key, json_integer((json_int_t)i));
	}
	json_object_set_new(o, "big", big);
	for (i = 0; i < 30; i++) {
		json_t *next = json_object();

		json_object_set_new(cur, "z", json_integer((json_int_t)i));
		json_object_set_new(cur, "a", next);
		cur = next;
	}
	json_object_set_new(o, "deep", deep);
	assert_dump_like_jansson(o);
	json_decref(o);
}

static void sorted_dump_refuses_absurd_nesting(void **state)
{
	json_t *root = json_array(), *cur = root;
	char *s;
	int i;

	for (i = 0; i < 100; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	s = jose_json_dump_sorted(root, NULL);
	assert_null(s);
	json_decref(root);
}

struct sign_thread {
	const struct jws_signer *s;
	EVP_PKEY *key;
	int ok;
};

static void *sign_many(void *arg)
{
	struct sign_thread *t = arg;
	int i;

	for (i = 0; i < 25; i++) {
		char payload[64], *tok = NULL;
		struct jws *j = NULL;

		snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
		if (jws_sign(t->s, payload, strlen(payload), &tok, NULL) == ATTEST_OK &&
		    jws_parse(tok, strlen(tok), &j, NULL) == ATTEST_OK &&
		    jws_verify(j, t->key, 0, NULL) == ATTEST_OK)
			t->ok++;
		jws_free(j);
		free(tok);
	}
	return NULL;
}

static void one_signer_serves_concurrent_threads(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	struct sign_thread t[4];
	pthread_t th[4];
	int i;

	assert_int_equal(jws_signer_new(k->p256, JWS_ALG_ES256, NULL, &s, NULL), ATTEST_OK);
	for (i = 0; i < 4; i++) {
		t[i] = (struct sign_thread){.s = s, .key = k->p256};
		assert_int_equal(pthread_create(&th[i], NULL, sign_many, &t[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].ok, 25);
	}
	jws_signer_free(s);
}

/* ---- none ------------------------------------------------------------------ */

static void none_is_refused_unless_explicitly_allowed(void **state)
{
	struct jws_signer *s = NULL;
	struct attest_err err;
	char *tok = NULL;
	struct keys *k = *state;

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(NULL, JWS_ALG_NONE, NULL, &s, &err), ATTEST_OK);
	assert_int_equal(jws_sign(s, "{}", 2, &tok, &err), ATTEST_OK);
	assert_string_equal(tok, "eyJhbGciOiJub25lIn0.e30.");
	assert_int_equal(parse_verify(tok, NULL, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.none");
	/* Holding a key does not make "none" acceptable either. */
	assert_int_equal(parse_verify(tok, k->rsa, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.none");
	assert_int_equal(parse_verify(tok, NULL, JWS_ALLOW_NONE, &err), ATTEST_OK);
	free(tok);
	jws_signer_free(s);
}

static void none_with_a_signature_is_refused(void **state)
{
	struct attest_err err;

	assert_int_equal(parse_verify("eyJhbGciOiJub25lIn0.e30.AAAA", NULL, JWS_ALLOW_NONE, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
}

static void an_rs256_token_relabelled_none_is_refused(void **state)
{
	struct keys *k = *state;
	char *tok = sign_with(k->rsa, JWS_ALG_RS256, "{\"a\":1}");
	char *dot = strchr(tok, '.'), *none;
	struct attest_err err;
	size_t n;

	/* Header swapped for {"alg":"none"}, payload and signature kept. */
	n = strlen("eyJhbGciOiJub25lIn0") + strlen(dot) + 1;
	none = malloc(n);
	snprintf(none, n, "eyJhbGciOiJub25lIn0%s", dot);
	assert_int_equal(parse_verify(none, k->rsa, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.none");
	assert_int_equal(parse_verify(none, k->rsa, JWS_ALLOW_NONE, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	free(none);
	free(tok);
}

/* ---- parse errors ------------------------------------------------------ */

static void wrong_segment_counts_are_refused(void **state)
{
	const char *cases[] = {"", "abc", "abc.def", "a.b.c.d", "..", ".e30.", "a.b.c."};
	struct jws *j = NULL;
	struct attest_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		attest_err_clear(&err);
		assert_int_equal(jws_parse(cases[i], strlen(cases[i]), &j, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "jws.parse.segments");
		assert_null(j);
	}
}

static void bad_base64url_is_refused(void **state)
{
	/* Standard alphabet, padding, whitespace, impossible length, non-canonical tail. */
	const char *cases[] = {"eyJhbGciOiJub25lIn0=.e30.",   "eyJhbGciOiJub25lIn0.e3+.",
			       "eyJhbGciOiJub25lIn0.e30.a/b", "eyJhbGciOiJub25lIn0 .e30.",
			       "eyJhbGciOiJub25lIn0.e30.A",   "eyJhbGciOiJub25lIn0.e31.",
			       "eyJhbGciOiJub25lIn0.e3\x01."};
	struct jws *j = NULL;
	struct attest_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		attest_err_clear(&err);
		assert_int_equal(jws_parse(cases[i], strlen(cases[i]), &j, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "jws.parse.base64");
		assert_null(j);
	}
}

/* A token with header text h (base64url-encoded here) and payload {}. */
static int parse_with_header(const char *h, struct attest_err *err)
{
	char *b = b64url_encode((const uint8_t *)h, strlen(h));
	char tok[512];
	struct jws *j = NULL;
	int rc;

	snprintf(tok, sizeof(tok), "%s.e30.", b);
	attest_err_clear(err);
	rc = jws_parse(tok, strlen(tok), &j, err);
	jws_free(j);
	free(b);
	return rc;
}

static void bad_headers_are_refused(void **state)
{
	struct attest_err err;

	assert_int_equal(parse_with_header("not json", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.parse.header");
	assert_int_equal(parse_with_header("[\"alg\"]", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.parse.header");
	assert_int_equal(parse_with_header("{\"typ\":\"JWT\"}", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.parse.header");
	assert_int_equal(parse_with_header("{\"alg\":256}", &err), ATTEST_E_PARSE);
	assert_int_equal(parse_with_header("{\"alg\":\"none\",\"alg\":\"RS256\"}", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.parse.header");
	assert_int_equal(parse_with_header("{\"alg\":\"RS256\"} x", &err), ATTEST_E_PARSE);
	assert_int_equal(parse_with_header("{\"alg\":\"HS256\"}", &err), ATTEST_E_UNSUPPORTED);
	assert_string_equal(err.name, "jws.alg.unsupported");
	assert_int_equal(parse_with_header("{\"alg\":\"rs256\"}", &err), ATTEST_E_UNSUPPORTED);
	assert_int_equal(parse_with_header("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}", &err),
			 ATTEST_E_UNSUPPORTED);
	assert_string_equal(err.name, "jws.header.crit");
	assert_int_equal(parse_with_header("{\"alg\":\"ES384\"}", &err), ATTEST_OK);
	/* A NUL would shorten what is read as a C string (typ, kid, alg): refused, as jansson would. */
	assert_int_equal(parse_with_header("{\"alg\":\"PS256\",\"typ\":\"attReqV2\\u0000x\"}", &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.parse.header");
	assert_int_equal(parse_with_header("{\"alg\":\"RS256\\u0000x\"}", &err), ATTEST_E_PARSE);
	assert_int_equal(parse_with_header("{\"alg\":\"RS256\",\"k\\u0000\":1}", &err), ATTEST_E_PARSE);
}

/* A view parses the same and verifies over the caller's own token (no copy; freeing leaves the token). */
static void a_view_parses_and_verifies_in_place(void **state)
{
	struct keys *k = *state;
	char *tok = sign_with(k->rsa, JWS_ALG_PS256, "{\"a\":1}");
	struct jws *j = NULL, *v = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jws_parse_view(tok, strlen(tok), &v, &err), ATTEST_OK);
	assert_ptr_equal(v->signing_input, tok);
	assert_true(v->signing_input_borrowed);
	assert_int_equal(v->signing_input_len, j->signing_input_len);
	assert_int_equal(v->payload_len, j->payload_len);
	assert_memory_equal(v->payload, j->payload, j->payload_len);
	assert_int_equal(jws_verify(v, k->rsa, 0, &err), ATTEST_OK);
	jws_free(v);
	jws_free(j);
	v = NULL;
	assert_int_equal(jws_parse_view("a.b", 3, &v, &err), ATTEST_E_PARSE);
	assert_null(v);
	free(tok); /* still the caller's */
}

/* ---- verify errors ----------------------------------------------------- */

static void alg_that_does_not_fit_the_key_is_refused(void **state)
{
	struct keys *k = *state;
	char *rs = sign_with(k->rsa, JWS_ALG_RS256, "{}");
	char *es = sign_with(k->p256, JWS_ALG_ES256, "{}");
	struct attest_err err;

	assert_int_equal(parse_verify(rs, k->p256, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	assert_int_equal(parse_verify(es, k->rsa, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	assert_int_equal(parse_verify(es, k->p384, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	assert_int_equal(parse_verify(rs, k->rsa_small, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	assert_int_equal(parse_verify(rs, NULL, 0, &err), ATTEST_E_VERIFY);
	assert_int_equal(parse_verify(rs, k->rsa2, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	free(rs);
	free(es);
}

static void rs256_signature_relabelled_ps256_is_refused(void **state)
{
	struct keys *k = *state;
	char *rs = sign_with(k->rsa, JWS_ALG_RS256, "{}");
	char *dot = strchr(rs, '.'), *ps, *h;
	struct attest_err err;
	size_t n;
	const char *hdr = "{\"alg\":\"PS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";

	h = b64url_encode((const uint8_t *)hdr, strlen(hdr));
	n = strlen(h) + strlen(dot) + 1;
	ps = malloc(n);
	snprintf(ps, n, "%s%s", h, dot);
	assert_int_equal(parse_verify(ps, k->rsa, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	free(h);
	free(ps);
	free(rs);
}

/* Flips one base64url character of segment seg (0, 1, 2) at its middle. */
static void tamper(char *tok, int seg)
{
	char *p = tok, *end;
	int i;

	for (i = 0; i < seg; i++)
		p = strchr(p, '.') + 1;
	end = strchr(p, '.');
	if (end == NULL)
		end = p + strlen(p);
	p += (end - p) / 2;
	*p = *p == 'A' ? 'B' : 'A';
}

static void tampered_payload_or_signature_is_refused(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *keys[] = {k->rsa, k->rsa, k->p256, k->p384};
	enum jws_alg algs[] = {JWS_ALG_RS256, JWS_ALG_PS256, JWS_ALG_ES256, JWS_ALG_ES384};
	struct attest_err err;
	int i, seg;

	for (i = 0; i < 4; i++) {
		for (seg = 0; seg < 3; seg++) {
			char *tok = sign_with(keys[i], algs[i], "{\"iss\":\"https://attestd.test/tenant\"}");

			tamper(tok, seg);
			attest_err_clear(&err);
			assert_int_not_equal(parse_verify(tok, keys[i], 0, &err), ATTEST_OK);
			free(tok);
		}
	}
}

static void truncated_es_signature_is_refused(void **state)
{
	struct keys *k = *state;
	char *tok = sign_with(k->p256, JWS_ALG_ES256, "{}");
	char *sig = strrchr(tok, '.') + 1;
	struct attest_err err;

	/* 63 bytes (84 base64url characters) where ES256 needs 64. */
	assert_true(strlen(sig) > 84);
	memset(sig, 'A', 84);
	sig[84] = '\0';
	assert_int_equal(parse_verify(tok, k->p256, 0, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jws.signature.encoding");
	free(tok);
}

static size_t sweep_stride(void)
{
	const char *v = getenv("ATTEST_SWEEP_STRIDE");
	long n = v ? strtol(v, NULL, 10) : 1;

	return n > 0 ? (size_t)n : 1;
}

/* Every bit of every character of signed tokens, flipped: nothing verifies. */
static void mutation_sweep_over_signed_tokens(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *keys[] = {k->p256, k->rsa};
	enum jws_alg algs[] = {JWS_ALG_ES256, JWS_ALG_PS256};
	size_t stride = sweep_stride(), tried = 0, i, bit;
	int a;

	for (a = 0; a < 2; a++) {
		char *tok =
		    sign_with(keys[a], algs[a], "{\"iss\":\"https://attestd.test\",\"exp\":1700003600}");
		size_t n = strlen(tok);
		struct attest_err err;

		for (bit = 0; bit < n * 8; bit += stride) {
			i = bit / 8;
			tok[i] ^= (char)(1u << (bit % 8));
			if (tok[i] != '\0') {
				assert_int_not_equal(parse_verify(tok, keys[a], 0, &err), ATTEST_OK);
				assert_true(err.name[0] != '\0');
				tried++;
			}
			tok[i] ^= (char)(1u << (bit % 8));
		}
		/* Every cut of the token fails too. */
		for (i = 0; i < n; i += stride) {
			struct jws *j = NULL;

			attest_err_clear(&err);
			if (jws_parse(tok, i, &j, &err) == ATTEST_OK) {
				assert_int_not_equal(jws_verify(j, keys[a], 0, &err), ATTEST_OK);
				jws_free(j);
			}
		}
		assert_int_equal(parse_verify(tok, keys[a], 0, &err), ATTEST_OK);
		free(tok);
	}
	assert_true(tried > 0);
}

/* ---- JWT times ------------------------------------------------------------ */

static void jwt_time_checks_exp_nbf_iat_with_skew(void **state)
{
	json_t *c = json_pack("{s:I,s:I,s:I}", "iat", (json_int_t)T0, "nbf", (json_int_t)T0, "exp",
			      (json_int_t)(T0 + 100));
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jwt_check_time(c, T0, 0, JWT_REQUIRE_EXP, &err), ATTEST_OK);
	assert_int_equal(jwt_check_time(c, T0 + 99, 0, 0, &err), ATTEST_OK);
	assert_int_equal(jwt_check_time(c, T0 + 100, 0, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwt.expired");
	attest_err_clear(&err);
	assert_int_equal(jwt_check_time(c, T0 + 100, 1, 0, &err), ATTEST_OK);
	assert_int_equal(jwt_check_time(c, T0 - 1, 0, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwt.not_yet_valid");
	attest_err_clear(&err);
	assert_int_equal(jwt_check_time(c, T0 - 60, 60, 0, &err), ATTEST_OK);
	json_object_del(c, "nbf");
	assert_int_equal(jwt_check_time(c, T0 - 1, 0, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwt.iat_future");
	attest_err_clear(&err);
	json_object_del(c, "exp");
	assert_int_equal(jwt_check_time(c, T0, 0, 0, &err), ATTEST_OK);
	assert_int_equal(jwt_check_time(c, T0, 0, JWT_REQUIRE_EXP, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwt.exp_missing");
	attest_err_clear(&err);
	json_object_set_new(c, "exp", json_string("tomorrow"));
	assert_int_equal(jwt_check_time(c, T0, 0, 0, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwt.claims");
	attest_err_clear(&err);
	json_object_set_new(c, "exp", json_real((double)T0 + 0.5));
	assert_int_equal(jwt_check_time(c, T0, 0, 0, &err), ATTEST_E_VERIFY);
	json_decref(c);
}

static void jwt_claims_must_be_an_object(void **state)
{
	struct keys *k = *state;
	char *tok = sign_with(k->p256, JWS_ALG_ES256, "[1,2]");
	struct jws *j = NULL;
	json_t *c = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jwt_claims(j, &c, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwt.claims");
	assert_null(c);
	jws_free(j);
	free(tok);
	/* An issuer shortened by a NUL must not compare equal to a trusted one. */
	tok = sign_with(k->p256, JWS_ALG_ES256, "{\"iss\":\"https://issuer.example\\u0000.evil\"}");
	attest_err_clear(&err);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jwt_claims(j, &c, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwt.claims");
	assert_non_null(strstr(err.msg, "NUL"));
	assert_null(c);
	jws_free(j);
	free(tok);
}

/* ---- JWK ---------------------------------------------------------------- */

static void jwk_round_trips_rsa_and_ec_keys(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *ks[] = {k->rsa, k->p256, k->p384};
	struct attest_err err;
	size_t i;

	for (i = 0; i < 3; i++) {
		json_t *jwk = NULL;
		EVP_PKEY *back = NULL;

		attest_err_clear(&err);
		assert_int_equal(jwk_from_key(ks[i], "kid-1", NULL, &jwk, &err), ATTEST_OK);
		assert_string_equal(json_string_value(json_object_get(jwk, "kid")), "kid-1");
		assert_null(json_object_get(jwk, "d"));
		assert_null(json_object_get(jwk, "x5c"));
		assert_int_equal(jwk_to_key(jwk, &back, &err), ATTEST_OK);
		assert_int_equal(EVP_PKEY_eq(ks[i], back), 1);
		EVP_PKEY_free(back);
		json_decref(jwk);
	}
}

static void jwk_carries_x5c_and_thumbprints(void **state)
{
	struct keys *k = *state;
	STACK_OF(X509) *certs = sk_X509_new_null();
	json_t *jwk = NULL;
	struct attest_err err;
	unsigned char *der = NULL;
	int n = tp_der(k->rsa_cert, &der);
	uint8_t d[32];
	char *b, *x5t, *x5t256;
	EVP_PKEY *back = NULL;

	X509_up_ref(k->rsa_cert);
	sk_X509_push(certs, k->rsa_cert);
	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(k->rsa, "kid-2", certs, &jwk, &err), ATTEST_OK);
	b = b64std_encode(der, (size_t)n);
	assert_string_equal(json_string_value(json_array_get(json_object_get(jwk, "x5c"), 0)), b);
	assert_int_equal(hash_digest(HASH_SHA1, der, (size_t)n, d), ATTEST_OK);
	x5t = b64url_encode(d, 20);
	assert_string_equal(json_string_value(json_object_get(jwk, "x5t")), x5t);
	assert_int_equal(sha256(der, (size_t)n, d), ATTEST_OK);
	x5t256 = b64url_encode(d, 32);
	assert_string_equal(json_string_value(json_object_get(jwk, "x5t#S256")), x5t256);
	/* x5c alone (as MAA publishes) yields the same key. */
	json_object_del(jwk, "n");
	json_object_del(jwk, "e");
	assert_int_equal(jwk_to_key(jwk, &back, &err), ATTEST_OK);
	assert_int_equal(EVP_PKEY_eq(back, k->rsa), 1);
	EVP_PKEY_free(back);
	free(b);
	free(x5t);
	free(x5t256);
	json_decref(jwk);
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(der);
}

static void jwk_with_x5c_of_another_key_is_refused(void **state)
{
	struct keys *k = *state;
	STACK_OF(X509) *certs = sk_X509_new_null();
	json_t *jwk = NULL;
	EVP_PKEY *back = NULL;
	struct attest_err err;

	X509_up_ref(k->rsa_cert);
	sk_X509_push(certs, k->rsa_cert);
	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(k->rsa2, NULL, certs, &jwk, &err), ATTEST_OK);
	assert_int_equal(jwk_to_key(jwk, &back, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwk.parse");
	assert_null(back);
	json_decref(jwk);
	sk_X509_pop_free(certs, X509_free);
}

static int jwk_text_to_key(const char *text, struct attest_err *err)
{
	json_t *jwk = json_loads(text, 0, NULL);
	EVP_PKEY *key = NULL;
	int rc;

	assert_non_null(jwk);
	attest_err_clear(err);
	rc = jwk_to_key(jwk, &key, err);
	EVP_PKEY_free(key);
	json_decref(jwk);
	return rc;
}

static void malformed_jwks_are_refused(void **state)
{
	struct keys *k = *state;
	json_t *good = NULL;
	char *text, buf[1024];
	const char *x, *y;
	struct attest_err err;

	assert_int_equal(jwk_text_to_key("{\"n\":\"AQAB\"}", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwk.parse");
	assert_int_equal(jwk_text_to_key("{\"kty\":\"oct\",\"k\":\"AAAA\"}", &err), ATTEST_E_UNSUPPORTED);
	assert_string_equal(err.name, "jwk.unsupported");
	assert_int_equal(jwk_text_to_key("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", &err), ATTEST_E_PARSE);
	assert_int_equal(jwk_text_to_key("{\"kty\":\"RSA\",\"n\":\"a+b/\",\"e\":\"AQAB\"}", &err),
			 ATTEST_E_PARSE);
	assert_int_equal(
	    jwk_text_to_key("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}", &err),
	    ATTEST_E_UNSUPPORTED);
	assert_int_equal(jwk_text_to_key("{\"kty\":\"RSA\",\"x5c\":[\"bm90IGEgY2VydA==\"]}", &err),
			 ATTEST_E_PARSE);
	assert_int_equal(jwk_text_to_key("{\"kty\":\"RSA\",\"x5c\":[]}", &err), ATTEST_E_PARSE);
	/* EC coordinates: short, and off the curve. */
	assert_int_equal(jwk_from_key(k->p256, NULL, NULL, &good, &err), ATTEST_OK);
	x = json_string_value(json_object_get(good, "x"));
	y = json_string_value(json_object_get(good, "y"));
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%.40s\",\"y\":\"%s\"}", x, y);
	assert_int_equal(jwk_text_to_key(buf, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "jwk.parse");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", y, x);
	assert_int_equal(jwk_text_to_key(buf, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwk.key");
	snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	assert_int_equal(jwk_text_to_key(buf, &err), ATTEST_E_PARSE);
	text = json_dumps(good, JSON_COMPACT);
	assert_int_equal(jwk_text_to_key(text, &err), ATTEST_OK);
	free(text);
	json_decref(good);
}

static void jwks_finds_keys_by_kid_and_verifies(void **state)
{
	struct keys *k = *state;
	json_t *jwks = jwks_new(), *jwk = NULL;
	struct attest_err err;
	char *tok = sign_with(k->p256, JWS_ALG_ES256, "{}"); /* kid "k1" */
	struct jws *j = NULL;

	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(k->rsa, "k0", NULL, &jwk, &err), ATTEST_OK);
	assert_int_equal(jwks_add(jwks, jwk), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.kid.unknown");
	assert_int_equal(jwk_from_key(k->p256, "k1", NULL, &jwk, &err), ATTEST_OK);
	assert_int_equal(jwks_add(jwks, jwk), ATTEST_OK);
	assert_non_null(jwks_find(jwks, "k1"));
	assert_null(jwks_find(jwks, "k2"));
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_OK);
	/* A JWKS whose k1 is another key: the signature does not verify. */
	json_decref(jwks);
	jwks = jwks_new();
	assert_int_equal(jwk_from_key(k->p384, "k1", NULL, &jwk, &err), ATTEST_OK);
	assert_int_equal(jwks_add(jwks, jwk), ATTEST_OK);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	json_decref(jwks);
	/* The right key, but published for encryption or for another alg. */
	jwks = jwks_new();
	assert_int_equal(jwk_from_key(k->p256, "k1", NULL, &jwk, &err), ATTEST_OK);
	json_object_set_new(jwk, "use", json_string("enc"));
	assert_int_equal(jwks_add(jwks, jwk), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.key");
	json_object_set_new(jwk, "use", json_string("sig"));
	json_object_set_new(jwk, "alg", json_string("ES384"));
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_E_VERIFY);
	json_object_set_new(jwk, "alg", json_string("ES256"));
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_OK);
	json_decref(jwks);
	jws_free(j);
	free(tok);
}

static void token_without_kid_verifies_with_any_fitting_key_of_the_set(void **state)
{
	struct keys *k = *state;
	struct jws_signer *s = NULL;
	json_t *jwks = jwks_new(), *jwk = NULL;
	struct attest_err err;
	struct jws *j = NULL;
	char *tok = NULL;

	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(k->rsa2, JWS_ALG_RS256, NULL, &s, &err), ATTEST_OK);
	assert_int_equal(jws_sign(s, "{}", 2, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_null(jws_header_str(j, "kid"));
	assert_int_equal(jwk_from_key(k->p256, "a", NULL, &jwk, &err), ATTEST_OK);
	jwks_add(jwks, jwk);
	assert_int_equal(jwk_from_key(k->rsa, "b", NULL, &jwk, &err), ATTEST_OK);
	jwks_add(jwks, jwk);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	assert_int_equal(jwk_from_key(k->rsa2, "c", NULL, &jwk, &err), ATTEST_OK);
	jwks_add(jwks, jwk);
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, 0, &err), ATTEST_OK);
	jws_free(j);
	free(tok);
	json_decref(jwks);
	jws_signer_free(s);
}

static void header_x5c_is_decoded_leaf_first(void **state)
{
	struct keys *k = *state;
	STACK_OF(X509) *certs = sk_X509_new_null(), *back = NULL;
	json_t *jwk = NULL, *hdr;
	struct jws_signer *s = NULL;
	struct attest_err err;
	struct jws *j = NULL;
	char *tok = NULL;

	X509_up_ref(k->rsa_cert);
	sk_X509_push(certs, k->rsa_cert);
	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(k->rsa, NULL, certs, &jwk, &err), ATTEST_OK);
	hdr = json_pack("{s:O}", "x5c", json_object_get(jwk, "x5c"));
	assert_int_equal(jws_signer_new(k->rsa, JWS_ALG_RS256, hdr, &s, &err), ATTEST_OK);
	assert_int_equal(jws_sign(s, "policy", 6, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jws_header_x5c(j, &back, &err), ATTEST_OK);
	assert_int_equal(sk_X509_num(back), 1);
	assert_int_equal(X509_cmp(sk_X509_value(back, 0), k->rsa_cert), 0);
	assert_int_equal(jws_verify(j, X509_get0_pubkey(sk_X509_value(back, 0)), 0, &err), ATTEST_OK);
	sk_X509_pop_free(back, X509_free);
	jws_free(j);
	free(tok);
	jws_signer_free(s);
	json_decref(hdr);
	json_decref(jwk);
	sk_X509_pop_free(certs, X509_free);
}

static void thumbprint_depends_on_the_key_only(void **state)
{
	struct keys *k = *state;
	uint8_t a[32], b[32], c[32];

	assert_int_equal(jwk_thumbprint(k->rsa, a), ATTEST_OK);
	assert_int_equal(jwk_thumbprint(k->rsa, b), ATTEST_OK);
	assert_int_equal(jwk_thumbprint(k->rsa2, c), ATTEST_OK);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	assert_int_equal(jwk_thumbprint(k->p384, c), ATTEST_OK);
}

/* ---- real Azure Attestation tokens -------------------------------------- */

static void verify_maa_token(const char *vectors, const char *certs_rel, const char *token_rel,
			     unsigned flags)
{
	size_t n = 0, tn = 0;
	unsigned char *certs = test_read_vector(vectors, certs_rel, &n);
	unsigned char *tok = test_read_vector(vectors, token_rel, &tn);
	json_t *jwks, *claims = NULL;
	struct jws *j = NULL;
	struct attest_err err;
	int64_t iat;

	assert_non_null(certs);
	assert_non_null(tok);
	while (tn > 0 && (tok[tn - 1] == '\n' || tok[tn - 1] == '\r'))
		tn--;
	jwks = json_loadb((const char *)certs, n, 0, NULL);
	assert_non_null(jwks);
	attest_err_clear(&err);
	assert_int_equal(jws_parse((const char *)tok, tn, &j, &err), ATTEST_OK);
	assert_int_equal(jws_verify_jwks(j, jwks, flags, &err), ATTEST_OK);
	assert_int_equal(jwt_claims(j, &claims, &err), ATTEST_OK);
	iat = json_integer_value(json_object_get(claims, "iat"));
	assert_int_equal(jwt_check_time(claims, iat + 60, 0, JWT_REQUIRE_EXP, &err), ATTEST_OK);
	assert_int_equal(jwt_check_time(claims, iat + 40 * 3600, 0, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jwt.expired");
	/* One flipped payload byte: no longer verifies. */
	j->signing_input[j->signing_input_len - 5] ^= 0x01;
	attest_err_clear(&err);
	assert_int_equal(jws_verify_jwks(j, jwks, flags, &err), ATTEST_E_VERIFY);
	json_decref(claims);
	json_decref(jwks);
	jws_free(j);
	free(certs);
	free(tok);
}

static void real_maa_tokens_verify_against_their_certs(void **state)
{
	REQUIRE_VECTORS(vectors);
	verify_maa_token(vectors, "maa-tokens/js-2022-01-28-sharedwus/certs.json",
			 "maa-tokens/js-2022-01-28-sharedwus/tokens/attest-SgxEnclave-binary-runtime.jwt", 0);
	verify_maa_token(vectors, "maa-tokens/js-2022-01-28-sharedwus/certs.json",
			 "maa-tokens/js-2022-01-28-sharedwus/tokens/attest-OpenEnclave-json-runtime.jwt", 0);
	verify_maa_token(
	    vectors, "maa-tokens/cpp-2022-11-17-policy-sgx-aad/certs.json",
	    "maa-tokens/cpp-2022-11-17-policy-sgx-aad/tokens/03-policies-get-SgxEnclave.response.jwt", 0);
}

static void real_unsigned_maa_policy_needs_allow_none(void **state)
{
	REQUIRE_VECTORS(vectors);
	size_t n = 0;
	unsigned char *tok = test_read_vector(
	    vectors, "maa-tokens/cpp-2022-11-17-policy-sgx-aad/tokens/02-policies-set-SgxEnclave.request.jws",
	    &n);
	struct jws *j = NULL;
	json_t *claims = NULL;
	struct attest_err err;

	assert_non_null(tok);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
		n--;
	attest_err_clear(&err);
	assert_int_equal(jws_parse((const char *)tok, n, &j, &err), ATTEST_OK);
	assert_int_equal(j->alg, JWS_ALG_NONE);
	assert_int_equal(jws_verify(j, NULL, 0, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.alg.none");
	attest_err_clear(&err);
	assert_int_equal(jws_verify(j, NULL, JWS_ALLOW_NONE, &err), ATTEST_OK);
	assert_int_equal(jwt_claims(j, &claims, &err), ATTEST_OK);
	assert_non_null(json_string_value(json_object_get(claims, "AttestationPolicy")));
	json_decref(claims);
	jws_free(j);
	free(tok);
}

/*
 * jwk_from_rsa_raw gives jwk_from_key's JWK for the same key: the modulus
 * and exponent as the big-endian bytes OpenSSL exports, also with leading
 * zero octets (a TPM's fixed-width fields) and other exponents; a zero
 * modulus or exponent is refused.
 */
static void rsa_jwk_from_raw_bytes_is_the_jwk_of_the_key(void **state)
{
	static const unsigned exps[] = {3, 17, 65537, 0x7fffffffu};

	(void)state;
	for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
		EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		BIGNUM *e = BN_new(), *n = NULL;
		EVP_PKEY *key = NULL;
		uint8_t nb[260] = {0}, eb[8] = {0};
		json_t *want = NULL, *got = NULL;
		struct attest_err err;

		assert_non_null(kc);
		assert_int_equal(BN_set_word(e, exps[i]), 1);
		assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048), 1);
		assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(kc, e), 1);
		assert_int_equal(EVP_PKEY_keygen(kc, &key), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(key, "n", &n), 1);
		/* 4 and 4 leading zero octets: the raw form must not carry them into the JWK. */
		assert_int_equal(BN_bn2binpad(n, nb, 260), 260);
		assert_int_equal(BN_bn2binpad(e, eb, 8), 8);
		assert_int_equal(jwk_from_key(key, "k", NULL, &want, NULL), 0);
		assert_int_equal(jwk_from_rsa_raw(nb, sizeof(nb), eb, sizeof(eb), "k", &got, NULL), 0);
		assert_true(json_equal(want, got));
		json_decref(got);
		assert_int_equal(jwk_from_rsa_raw(nb + 4, 256, eb, sizeof(eb), "k", &got, NULL), 0);
		assert_true(json_equal(want, got));
		json_decref(got);
		memset(eb, 0, sizeof(eb));
		attest_err_clear(&err);
		assert_int_not_equal(jwk_from_rsa_raw(nb, sizeof(nb), eb, sizeof(eb), "k", &got, &err), 0);
		assert_string_equal(err.name, "jwk.unsupported");
		json_decref(want);
		BN_free(n);
		BN_free(e);
		EVP_PKEY_free(key);
		EVP_PKEY_CTX_free(kc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rs256_round_trips),
	    cmocka_unit_test(rsa_jwk_from_raw_bytes_is_the_jwk_of_the_key),
	    cmocka_unit_test(ps256_round_trips),
	    cmocka_unit_test(es256_round_trips_with_raw_r_s),
	    cmocka_unit_test(es384_round_trips_with_raw_r_s),
	    cmocka_unit_test(header_is_precomputed_with_alg_first),
	    cmocka_unit_test(signer_refuses_an_alg_that_does_not_fit_the_key),
	    cmocka_unit_test(jwt_sign_signs_the_compact_claims),
	    cmocka_unit_test(jwt_payload_is_compact_with_sorted_names),
	    cmocka_unit_test(one_signer_serves_concurrent_threads),
	    cmocka_unit_test(sorted_dump_matches_jansson_byte_for_byte),
	    cmocka_unit_test(sorted_dump_refuses_absurd_nesting),
	    cmocka_unit_test(none_is_refused_unless_explicitly_allowed),
	    cmocka_unit_test(none_with_a_signature_is_refused),
	    cmocka_unit_test(an_rs256_token_relabelled_none_is_refused),
	    cmocka_unit_test(wrong_segment_counts_are_refused),
	    cmocka_unit_test(bad_base64url_is_refused),
	    cmocka_unit_test(bad_headers_are_refused),
	    cmocka_unit_test(a_view_parses_and_verifies_in_place),
	    cmocka_unit_test(alg_that_does_not_fit_the_key_is_refused),
	    cmocka_unit_test(rs256_signature_relabelled_ps256_is_refused),
	    cmocka_unit_test(tampered_payload_or_signature_is_refused),
	    cmocka_unit_test(truncated_es_signature_is_refused),
	    cmocka_unit_test(mutation_sweep_over_signed_tokens),
	    cmocka_unit_test(jwt_time_checks_exp_nbf_iat_with_skew),
	    cmocka_unit_test(jwt_claims_must_be_an_object),
	    cmocka_unit_test(jwk_round_trips_rsa_and_ec_keys),
	    cmocka_unit_test(jwk_carries_x5c_and_thumbprints),
	    cmocka_unit_test(jwk_with_x5c_of_another_key_is_refused),
	    cmocka_unit_test(malformed_jwks_are_refused),
	    cmocka_unit_test(jwks_finds_keys_by_kid_and_verifies),
	    cmocka_unit_test(header_x5c_is_decoded_leaf_first),
	    cmocka_unit_test(token_without_kid_verifies_with_any_fitting_key_of_the_set),
	    cmocka_unit_test(thumbprint_depends_on_the_key_only),
	    cmocka_unit_test(real_maa_tokens_verify_against_their_certs),
	    cmocka_unit_test(real_unsigned_maa_policy_needs_allow_none),
	};

	return cmocka_run_group_tests_name("JOSE", tests, keys_setup, keys_teardown);
}
