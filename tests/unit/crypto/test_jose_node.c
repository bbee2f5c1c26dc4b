/*
 * Independent check of the JOSE layer (jose.h) with the `jose` npm package:
 * tokens attestd signs (RS256, PS256, ES256, ES384) and the JWKS it builds
 * verify in node (and a tampered copy does not), RFC 7638 thumbprints
 * agree, and tokens jose signs with its own keys verify here. Skipped,
 * saying so, when node or tests/interop/node_modules/jose is missing.
 * The keyring's own JWKS (what /certs serves) and a token it signed are
 * part of the set, so the service's exact formats are what node checks.
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
#include "keys/keys.h"
#include "testpki.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 INT64_C(1700000000)

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Sets src to the source tree (ATTEST_SOURCE_DIR) when node and jose are there. */
static bool node_and_jose(char *src, size_t n)
{
	const char *dir = getenv("ATTEST_SOURCE_DIR");
	char p[2048];

	if (dir == NULL || system("command -v node >/dev/null 2>&1") != 0)
		return false;
	snprintf(src, n, "%s", dir);
	snprintf(p, sizeof(p), "%s/tests/interop/node_modules/jose/package.json", dir);
	return path_exists(p);
}

static void add_token(json_t *tokens, EVP_PKEY *key, enum jws_alg alg, const char *kid, const json_t *extra)
{
	json_t *hdr = extra ? json_deep_copy(extra) : json_object();
	struct jws_signer *s = NULL;
	struct attest_err err;
	char payload[256], *tok = NULL;

	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"https://attestd.test\",\"alg\":\"%s\",\"x-ms-ver\":\"1.0\"}", jws_alg_name(alg));
	json_object_set_new(hdr, "kid", json_string(kid));
	json_object_set_new(hdr, "typ", json_string("JWT"));
	attest_err_clear(&err);
	assert_int_equal(jws_signer_new(key, alg, hdr, &s, &err), ATTEST_OK);
	assert_int_equal(jws_sign(s, payload, strlen(payload), &tok, &err), ATTEST_OK);
	json_array_append_new(
	    tokens, json_pack("{s:s,s:s,s:s}", "alg", jws_alg_name(alg), "token", tok, "payload", payload));
	free(tok);
	jws_signer_free(s);
	json_decref(hdr);
}

static void add_key(json_t *jwks, json_t *thumbs, EVP_PKEY *key, const char *kid, STACK_OF(X509) * certs)
{
	json_t *jwk = NULL;
	struct attest_err err;
	uint8_t tp[32];
	char *b;

	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(key, kid, certs, &jwk, &err), ATTEST_OK);
	assert_int_equal(jwks_add(jwks, jwk), ATTEST_OK);
	assert_int_equal(jwk_thumbprint(key, tp), ATTEST_OK);
	b = b64url_encode(tp, sizeof(tp));
	json_object_set_new(thumbs, kid, json_string(b));
	free(b);
}

/* A keyring's JWKS (as /certs publishes it) and one token it signed. */
static void add_keyring(json_t *jwks, json_t *thumbs, json_t *tokens)
{
	struct keyring_opts o = {.key = {.type = KEY_RSA2048,
					 .subject_cn = "https://attestd.test",
					 .jku = "https://attestd.test/certs"},
				 .max_token_lifetime = 28800};
	struct keyring *r = NULL;
	struct attest_err err;
	const char *kid = NULL;
	json_t *ring_jwks = NULL, *k,
	       *claims = json_pack("{s:s,s:s}", "iss", "https://attestd.test", "x-ms-ver", "1.0");
	char *tok = NULL, *payload;
	uint8_t tp[32];
	char *b;
	size_t i;

	attest_err_clear(&err);
	assert_int_equal(keyring_new(&o, &r, &err), ATTEST_OK);
	assert_int_equal(keyring_add_generated(r, T0, &kid, &err), ATTEST_OK);
	assert_int_equal(keyring_jwks(r, T0, &ring_jwks, &err), ATTEST_OK);
	json_array_foreach(json_object_get(ring_jwks, "keys"), i, k)
	    json_array_append(json_object_get(jwks, "keys"), k);
	assert_int_equal(jwk_thumbprint(signing_key_public(keyring_current(r)), tp), ATTEST_OK);
	b = b64url_encode(tp, sizeof(tp));
	json_object_set_new(thumbs, kid, json_string(b));
	/* The kid is the RFC 7638 thumbprint itself: node recomputes it. */
	assert_string_equal(b, kid);
	free(b);
	assert_int_equal(keyring_sign_jwt(r, claims, &tok, &err), ATTEST_OK);
	payload = jose_json_dump_sorted(claims, NULL);
	json_array_append_new(tokens,
			      json_pack("{s:s,s:s,s:s}", "alg", "RS256", "token", tok, "payload", payload));
	free(payload);
	free(tok);
	json_decref(claims);
	json_decref(ring_jwks);
	keyring_free(r);
}

/* Runs the script; its output goes to stderr; returns its exit status. */
static int run_node(const char *src, const char *dir)
{
	char cmd[8192], line[1024];
	FILE *p;
	int st;

	snprintf(
	    cmd, sizeof(cmd),
	    "node '%s/tests/unit/crypto/jose_interop.mjs' '%s' '%s/tests/interop/node_modules/jose' 2>&1",
	    src, dir, src);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		fprintf(stderr, "  node: %s", line);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void verify_node_tokens(const char *dir)
{
	char path[4096];
	json_error_t jerr;
	json_t *in, *tokens, *t;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "%s/node.json", dir);
	in = json_load_file(path, 0, &jerr);
	assert_non_null(in);
	tokens = json_object_get(in, "tokens");
	json_array_foreach(tokens, i, t)
	{
		const char *tok = json_string_value(json_object_get(t, "token"));
		const char *payload = json_string_value(json_object_get(t, "payload"));
		struct jws *j = NULL;
		json_t *claims = NULL;
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
		assert_string_equal(jws_alg_name(j->alg), json_string_value(json_object_get(t, "alg")));
		assert_int_equal(jws_verify_jwks(j, json_object_get(in, "jwks"), 0, &err), ATTEST_OK);
		assert_int_equal(j->payload_len, strlen(payload));
		assert_memory_equal(j->payload, payload, j->payload_len);
		assert_int_equal(jwt_claims(j, &claims, &err), ATTEST_OK);
		assert_int_equal(jwt_check_time(claims, T0 + 10, 0, JWT_REQUIRE_EXP, &err), ATTEST_OK);
		json_decref(claims);
		/* Tampered here too. */
		j->signing_input[j->signing_input_len - 3] ^= 0x02;
		attest_err_clear(&err);
		assert_int_not_equal(jws_verify_jwks(j, json_object_get(in, "jwks"), 0, &err), ATTEST_OK);
		jws_free(j);
		n++;
	}
	assert_int_equal(n, 4);
	json_decref(in);
}

static void jose_npm_verifies_attestd_tokens_and_the_reverse(void **state)
{
	char src[2048], dir[] = "/tmp/attest-jose-XXXXXX", path[4096];
	EVP_PKEY *rsa, *p256, *p384;
	X509 *cert;
	STACK_OF(X509) *certs = sk_X509_new_null();
	json_t *jwks = jwks_new(), *thumbs = json_object(), *tokens = json_array(), *doc, *x5c_hdr;
	json_t *rsa_jwk = NULL;
	struct attest_err err;

	if (!node_and_jose(src, sizeof(src))) {
		fprintf(stderr,
			"SKIP: node or tests/interop/node_modules/jose is missing (run the setup script)\n");
		json_decref(jwks);
		json_decref(thumbs);
		json_decref(tokens);
		sk_X509_free(certs);
		skip();
	}
	assert_non_null(mkdtemp(dir));
	rsa = tp_key_rsa(2048);
	p256 = tp_key_ec("P-256");
	p384 = tp_key_ec("P-384");
	cert = tp_cert("https://attestd.test", rsa, NULL, NULL, T0 - TP_DAY, T0 + 365 * TP_DAY, false, 5);
	assert_non_null(cert);
	sk_X509_push(certs, cert);
	/* The RSA key as MAA publishes it (x5c) plus n/e for generic clients. */
	add_key(jwks, thumbs, rsa, "rsa-key", certs);
	add_key(jwks, thumbs, p256, "p256-key", NULL);
	add_key(jwks, thumbs, p384, "p384-key", NULL);
	attest_err_clear(&err);
	assert_int_equal(jwk_from_key(rsa, NULL, certs, &rsa_jwk, &err), ATTEST_OK);
	x5c_hdr = json_pack("{s:s,s:O}", "jku", "https://attestd.test/certs", "x5c",
			    json_object_get(rsa_jwk, "x5c"));
	add_token(tokens, rsa, JWS_ALG_RS256, "rsa-key", x5c_hdr);
	add_token(tokens, rsa, JWS_ALG_PS256, "rsa-key", NULL);
	add_token(tokens, p256, JWS_ALG_ES256, "p256-key", NULL);
	add_token(tokens, p384, JWS_ALG_ES384, "p384-key", NULL);
	add_keyring(jwks, thumbs, tokens);
	doc = json_pack("{s:O,s:O,s:O}", "jwks", jwks, "tokens", tokens, "thumbprints", thumbs);
	snprintf(path, sizeof(path), "%s/attestd.json", dir);
	assert_int_equal(json_dump_file(doc, path, JSON_COMPACT), 0);
	assert_int_equal(run_node(src, dir), 0);
	verify_node_tokens(dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/node.json", dir);
	unlink(path);
	rmdir(dir);
	json_decref(doc);
	json_decref(x5c_hdr);
	json_decref(rsa_jwk);
	json_decref(jwks);
	json_decref(thumbs);
	json_decref(tokens);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(jose_npm_verifies_attestd_tokens_and_the_reverse),
	};

	return cmocka_run_group_tests_name("JOSE interop with jose (npm)", tests, NULL, NULL);
}
