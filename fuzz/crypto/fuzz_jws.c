/*
 * libFuzzer target: the JOSE parsers (crypto/jose.h). The first byte picks
 * what the rest is:
 *   0  a compact JWS: parse, header access, x5c, verify with a fixed P-256
 *      key, with "none" allowed and refused, against a one-key JWKS, then
 *      the claim set and its time checks
 *   1  a JWK (JSON): jwk_to_key, and as a one-key JWKS for jwks_find
 *   2  a JSON value: jose_json_dump_sorted must equal jansson's dump
 * Invariants checked (abort on violation): "none" never verifies without
 * JWS_ALLOW_NONE; a failing call sets an error name; nothing leaks.
 */
#include "crypto/crypto.h"
#include "crypto/jose.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Fuzzer-process state (not library code): one key made at start-up. */
static EVP_PKEY *fuzz_key;
static json_t *fuzz_jwks;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_t *jwk = NULL;

	fuzz_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	fuzz_jwks = jwks_new();
	if (fuzz_key == NULL || fuzz_jwks == NULL || jwk_from_key(fuzz_key, "k1", NULL, &jwk, NULL) != 0 ||
	    jwks_add(fuzz_jwks, jwk) != 0)
		abort();
	return 0;
}

static void check_failed(int rc, const struct attest_err *err)
{
	if (rc != ATTEST_OK && err->name[0] == '\0')
		abort();
}

static void fuzz_token(const char *p, size_t n)
{
	struct jws *j = NULL;
	struct attest_err err;
	STACK_OF(X509) *x5c = NULL;
	json_t *claims = NULL;
	int rc;

	attest_err_clear(&err);
	rc = jws_parse(p, n, &j, &err);
	check_failed(rc, &err);
	if (rc != ATTEST_OK)
		return;
	(void)jws_header_str(j, "kid");
	(void)jws_header_str(j, "jku");
	attest_err_clear(&err);
	if (jws_header_x5c(j, &x5c, &err) == ATTEST_OK)
		sk_X509_pop_free(x5c, X509_free);
	attest_err_clear(&err);
	rc = jws_verify(j, fuzz_key, 0, &err);
	check_failed(rc, &err);
	if (rc == ATTEST_OK && j->alg == JWS_ALG_NONE)
		abort();
	attest_err_clear(&err);
	(void)jws_verify(j, NULL, JWS_ALLOW_NONE, &err);
	attest_err_clear(&err);
	rc = jws_verify_jwks(j, fuzz_jwks, 0, &err);
	if (rc == ATTEST_OK && j->alg == JWS_ALG_NONE)
		abort();
	attest_err_clear(&err);
	if (jwt_claims(j, &claims, &err) == ATTEST_OK) {
		attest_err_clear(&err);
		(void)jwt_check_time(claims, 1700000000, 60, JWT_REQUIRE_EXP, &err);
		json_decref(claims);
	}
	jws_free(j);
}

static void fuzz_jwk(const char *p, size_t n)
{
	json_t *jwk = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL), *set;
	EVP_PKEY *key = NULL;
	struct attest_err err;
	int rc;

	if (jwk == NULL)
		return;
	attest_err_clear(&err);
	rc = jwk_to_key(jwk, &key, &err);
	check_failed(rc, &err);
	EVP_PKEY_free(key);
	set = json_pack("{s:[O]}", "keys", jwk);
	(void)jwks_find(set, "k1");
	json_decref(set);
	json_decref(jwk);
}

static void fuzz_dump(const char *p, size_t n)
{
	json_t *v = json_loadb(p, n, JSON_DECODE_ANY, NULL);
	char *mine, *ref;

	if (v == NULL)
		return;
	mine = jose_json_dump_sorted(v, NULL);
	ref = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (mine != NULL && ref != NULL && strcmp(mine, ref) != 0)
		abort();
	free(mine);
	free(ref);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_token((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_jwk((const char *)data + 1, size - 1);
		break;
	default:
		fuzz_dump((const char *)data + 1, size - 1);
		break;
	}
	return 0;
}
