/*
 * Bearer tokens of a provider's OpenID issuer (src/server/auth.h): which
 * tokens give which role, and every way a token is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "crypto/jose.h"
#include "server/auth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000
#define ISS "https://issuer.test"
#define AUD "https://attest.test/providers/p1"

struct fx {
	EVP_PKEY *key;
	json_t *settings;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct attest_err err = {0};
	json_t *jwk = NULL;

	f->key = EVP_EC_gen("P-256");
	assert_int_equal(jwk_from_key(f->key, "k1", NULL, &jwk, &err), 0);
	f->settings = json_pack("{s:{s:s,s:s,s:{s:[o]}}}", "auth", "issuer", ISS, "audience", AUD, "jwks", "keys", jwk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	json_decref(f->settings);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/* A token; claims_extra (may be NULL) members override the defaults. */
static char *mint(EVP_PKEY *key, json_t *claims_extra)
{
	json_t *hdr = json_pack("{s:s}", "kid", "k1");
	json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:[s]}", "iss", ISS, "aud", AUD, "sub", "bob", "nbf",
				   (json_int_t)NOW - 10, "exp", (json_int_t)NOW + 600, "roles", "Attestation.Reader");
	struct jws_signer *s = NULL;
	struct attest_err err = {0};
	char *jwt = NULL;

	if (claims_extra != NULL) {
		json_object_update(claims, claims_extra);
		json_decref(claims_extra);
	}
	assert_int_equal(jws_signer_new(key, JWS_ALG_ES256, hdr, &s, &err), 0);
	assert_int_equal(jwt_sign(s, claims, &jwt, &err), 0);
	jws_signer_free(s);
	json_decref(hdr);
	json_decref(claims);
	return jwt;
}

static int verify(struct fx *f, const char *jwt, struct http_auth *auth, struct attest_err *err)
{
	memset(auth, 0, sizeof(*auth));
	attest_err_clear(err);
	return auth_verify_bearer(f->settings, jwt, NOW, NULL, auth, err);
}

static void reader_token_of_the_issuer_for_the_provider_is_a_reader(void **state)
{
	struct fx *f = *state;
	struct http_auth auth;
	struct attest_err err;
	char *t = mint(f->key, NULL);

	assert_int_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_true(auth.authenticated);
	assert_int_equal(auth.role, HTTP_ROLE_READER);
	assert_string_equal(auth.subject, "bob");
	free(t);
}

static void highest_mapped_role_wins_and_audience_may_be_an_array(void **state)
{
	struct fx *f = *state;
	struct http_auth auth;
	struct attest_err err;
	char *t = mint(f->key, json_pack("{s:[ss],s:[ss]}", "roles", "Attestation.Reader", "Attestation.Contributor",
					 "aud", "other", AUD));

	assert_int_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_int_equal(auth.role, HTTP_ROLE_CONTRIBUTOR);
	free(t);
	/* A provider may rename the roles and the claim. */
	json_object_set_new(json_object_get(f->settings, "auth"), "roles_claim", json_string("groups"));
	json_object_set_new(json_object_get(f->settings, "auth"), "roles", json_pack("{s:s}", "administrator", "admins"));
	t = mint(f->key, json_pack("{s:s}", "groups", "admins"));
	assert_int_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_int_equal(auth.role, HTTP_ROLE_ADMIN);
	free(t);
}

static void unmapped_roles_authenticate_without_a_role(void **state)
{
	struct fx *f = *state;
	struct http_auth auth;
	struct attest_err err;
	char *t = mint(f->key, json_pack("{s:[s]}", "roles", "Attestation.Owner"));

	assert_int_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_true(auth.authenticated);
	assert_int_equal(auth.role, HTTP_ROLE_NONE);
	free(t);
}

static void each_wrong_claim_is_refused_with_its_own_name(void **state)
{
	struct fx *f = *state;
	struct http_auth auth;
	struct attest_err err;
	const struct {
		json_t *extra;
		const char *name;
	} cases[] = {
		{json_pack("{s:s}", "aud", "https://attest.test/providers/p2"), "auth.audience"},
		{json_pack("{s:s}", "iss", "https://evil.test"), "auth.issuer"},
		{json_pack("{s:I}", "exp", (json_int_t)NOW - 120), "jwt.expired"},
		{json_pack("{s:I}", "nbf", (json_int_t)NOW + 3600), "jwt.not_yet_valid"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = mint(f->key, cases[i].extra);
		assert_int_not_equal(verify(f, t, &auth, &err), ATTEST_OK);
		assert_string_equal(err.name, cases[i].name);
		assert_false(auth.authenticated);
		free(t);
	}
}

static void token_without_exp_is_refused(void **state)
{
	struct fx *f = *state;
	struct http_auth auth;
	struct attest_err err = {0};
	char *t = NULL;
	json_t *hdr = json_pack("{s:s}", "kid", "k1");
	json_t *claims = json_pack("{s:s,s:s}", "iss", ISS, "aud", AUD);
	struct jws_signer *s = NULL;
	assert_int_equal(jws_signer_new(f->key, JWS_ALG_ES256, hdr, &s, &err), 0);
	assert_int_equal(jwt_sign(s, claims, &t, &err), 0);
	assert_int_not_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_string_equal(err.name, "jwt.exp_missing");
	jws_signer_free(s);
	json_decref(hdr);
	json_decref(claims);
	free(t);
}

static void unsigned_forged_and_foreign_tokens_are_refused(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *rogue = EVP_EC_gen("P-256");
	struct http_auth auth;
	struct attest_err err;
	char *t = mint(rogue, NULL), none[512], *h64, *p64;

	assert_int_not_equal(verify(f, t, &auth, &err), ATTEST_OK);
	assert_string_equal(err.name, "jws.signature");
	free(t);
	/* alg none with the same claims. */
	h64 = b64url_encode((const uint8_t *)"{\"alg\":\"none\",\"kid\":\"k1\"}", 26);
	p64 = b64url_encode((const uint8_t *)"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1900000000}",
			    strlen("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1900000000}"));
	snprintf(none, sizeof(none), "%s.%s.", h64, p64);
	assert_int_not_equal(verify(f, none, &auth, &err), ATTEST_OK);
	assert_false(auth.authenticated);
	free(h64);
	free(p64);
	assert_int_not_equal(verify(f, "not-a-jwt", &auth, &err), ATTEST_OK);
	EVP_PKEY_free(rogue);
}

static void provider_without_auth_settings_accepts_no_bearer(void **state)
{
	struct fx *f = *state;
	json_t *empty = json_object();
	struct http_auth auth = {0};
	struct attest_err err = {0};
	char *t = mint(f->key, NULL);

	assert_int_equal(auth_verify_bearer(empty, t, NOW, NULL, &auth, &err), ATTEST_E_DENIED);
	assert_string_equal(err.name, "auth.unconfigured");
	json_decref(empty);
	free(t);
}

static void jwks_uri_needs_a_cache_and_https(void **state)
{
	json_t *s = json_pack("{s:{s:s,s:s,s:s}}", "auth", "issuer", ISS, "audience", AUD, "jwks_uri", "http://x/keys");
	struct auth_jwks_cache *cache = auth_jwks_cache_new();
	struct http_auth auth = {0};
	struct attest_err err = {0};
	char *t = mint(((struct fx *)*state)->key, NULL);

	assert_int_not_equal(auth_verify_bearer(s, t, NOW, NULL, &auth, &err), ATTEST_OK);
	assert_string_equal(err.name, "auth.jwks");
	attest_err_clear(&err);
	assert_int_not_equal(auth_verify_bearer(s, t, NOW, cache, &auth, &err), ATTEST_OK);
	assert_non_null(strstr(err.msg, "https"));
	auth_jwks_cache_free(cache);
	json_decref(s);
	free(t);
}

static void settings_check_names_what_is_missing(void **state)
{
	struct attest_err err = {0};
	json_t *ok = json_pack("{s:s,s:s,s:s}", "issuer", ISS, "audience", AUD, "jwks_file", "/x");
	json_t *no_keys = json_pack("{s:s,s:s}", "issuer", ISS, "audience", AUD);
	json_t *no_aud = json_pack("{s:s,s:{s:[]}}", "issuer", ISS, "jwks", "keys");
	json_t *bad_jwks = json_pack("{s:s,s:s,s:{}}", "issuer", ISS, "audience", AUD, "jwks");

	(void)state;
	assert_int_equal(auth_settings_check(ok, &err), ATTEST_OK);
	assert_int_equal(auth_settings_check(no_keys, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(auth_settings_check(no_aud, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(auth_settings_check(bad_jwks, &err), ATTEST_E_INVALID);
	json_decref(ok);
	json_decref(no_keys);
	json_decref(no_aud);
	json_decref(bad_jwks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reader_token_of_the_issuer_for_the_provider_is_a_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(highest_mapped_role_wins_and_audience_may_be_an_array, setup, teardown),
		cmocka_unit_test_setup_teardown(unmapped_roles_authenticate_without_a_role, setup, teardown),
		cmocka_unit_test_setup_teardown(each_wrong_claim_is_refused_with_its_own_name, setup, teardown),
		cmocka_unit_test_setup_teardown(token_without_exp_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unsigned_forged_and_foreign_tokens_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(provider_without_auth_settings_accepts_no_bearer, setup, teardown),
		cmocka_unit_test_setup_teardown(jwks_uri_needs_a_cache_and_https, setup, teardown),
		cmocka_unit_test(settings_check_names_what_is_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
