/*
 * Token signing for an issuer other than the key's precomputed one
 * (keys/signing_key.c, issue 13): the kept per-issuer signers must give
 * exactly the token the per-token header encoding gave. RS256 (PKCS#1
 * v1.5) is deterministic, so the reference token, signed through a JWS
 * signer built here with the header members MAA sends, must be equal byte
 * for byte: header, payload and signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/jose.h"
#include "keys/keys.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1651017600

/*
 * The token the key must give for jku: {"alg","jku","kid","typ"[, "x5c"]} over the same claims.
 * NULL on failure (no cmocka assertion: threads call it too).
 */
static char *reference_token(struct signing_key *k, const char *jku, const json_t *x5c, const json_t *claims)
{
	json_t *hdr = json_pack("{s:s,s:s,s:s}", "jku", jku, "kid", signing_key_kid(k), "typ", "JWT");
	struct jws_signer *s = NULL;
	char *out = NULL;

	if (hdr != NULL && x5c != NULL)
		json_object_set_new(hdr, "x5c", json_deep_copy(x5c));
	if (hdr != NULL &&
	    jws_signer_new(signing_key_public(k), signing_key_alg(k), hdr, &s, NULL) == ATTEST_OK &&
	    jwt_sign(s, claims, &out, NULL) != ATTEST_OK)
		out = NULL;
	jws_signer_free(s);
	json_decref(hdr);
	return out;
}

static void assert_same_token(struct signing_key *k, const char *jku, const json_t *x5c, const json_t *claims)
{
	char *want = reference_token(k, jku, x5c, claims), *got = NULL;
	struct attest_err err = {0};

	assert_non_null(want);
	assert_int_equal(signing_key_sign_jwt_jku(k, claims, jku, &got, &err), ATTEST_OK);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* Twelve issuers, each signed twice: the first eight are kept, the rest encode the header per token. */
static void check_issuers(struct signing_key *k, const json_t *x5c)
{
	json_t *claims = json_pack("{s:s,s:I,s:I,s:s}", "iss", "https://p.example", "iat", (json_int_t)NOW,
				   "exp", (json_int_t)NOW + 28800, "x-ms-ver", "1.0");
	char jku[128];

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 12; i++) {
			snprintf(jku, sizeof(jku), "https://attestd.example/providers/p%d/certs", i);
			assert_same_token(k, jku, x5c, claims);
		}
	}
	json_decref(claims);
}

static void kept_issuer_signers_give_the_per_token_header_bytes(void **state)
{
	struct signing_key_opts o = {.type = KEY_RSA2048, .subject_cn = "https://attestd.example"};
	struct signing_key *k = NULL;

	(void)state;
	assert_int_equal(signing_key_generate(&o, NOW, &k, NULL), ATTEST_OK);
	check_issuers(k, NULL);
	signing_key_free(k);
}

static void kept_issuer_signers_keep_the_certificate_header(void **state)
{
	struct signing_key_opts o = {.type = KEY_RSA2048,
				     .subject_cn = "https://attestd.example",
				     .jku = "https://attestd.example/certs",
				     .header_x5c = true};
	struct signing_key *k = NULL;
	json_t *claims = json_pack("{s:s}", "iss", "https://attestd.example");
	json_t *x5c = NULL, *jwk = NULL;

	(void)state;
	assert_int_equal(signing_key_generate(&o, NOW, &k, NULL), ATTEST_OK);
	assert_int_equal(signing_key_jwk(k, &jwk, NULL), ATTEST_OK);
	x5c = json_object_get(jwk, "x5c");
	assert_true(json_is_array(x5c));
	/* the precomputed jku, then others */
	assert_same_token(k, "https://attestd.example/certs", x5c, claims);
	check_issuers(k, x5c);
	json_decref(jwk);
	json_decref(claims);
	signing_key_free(k);
}

/* Threads meeting new issuers at once: each token is still the reference one (no torn entry is read). */
struct signer_thread {
	struct signing_key *k;
	int first;
	int mismatches;
};

static void *sign_issuers(void *arg)
{
	struct signer_thread *t = arg;
	json_t *claims = json_pack("{s:s}", "iss", "https://attestd.example");
	char jku[128];

	for (int i = 0; i < 12; i++) {
		char *want, *got = NULL;

		snprintf(jku, sizeof(jku), "https://attestd.example/providers/q%d/certs",
			 (t->first + i) % 12);
		want = reference_token(t->k, jku, NULL, claims);
		if (want == NULL || signing_key_sign_jwt_jku(t->k, claims, jku, &got, NULL) != ATTEST_OK ||
		    strcmp(got, want) != 0)
			t->mismatches++;
		free(got);
		free(want);
	}
	json_decref(claims);
	return NULL;
}

static void kept_issuer_signers_are_shared_safely_between_threads(void **state)
{
	struct signing_key_opts o = {.type = KEY_RSA2048, .subject_cn = "https://attestd.example"};
	struct signer_thread t[4];
	pthread_t th[4];

	(void)state;
	assert_int_equal(signing_key_generate(&o, NOW, &t[0].k, NULL), ATTEST_OK);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct signer_thread){t[0].k, i * 3, 0};
		assert_int_equal(pthread_create(&th[i], NULL, sign_issuers, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].mismatches, 0);
	}
	signing_key_free(t[0].k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kept_issuer_signers_give_the_per_token_header_bytes),
	    cmocka_unit_test(kept_issuer_signers_keep_the_certificate_header),
	    cmocka_unit_test(kept_issuer_signers_are_shared_safely_between_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
