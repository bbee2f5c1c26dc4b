/*
 * Unit tests of src/keys: key generation and certificates, kid derivation,
 * the KEK file, sealed blobs (round trip, wrong KEK, every bit flip and
 * every truncation refused), and the keyring's rotation with overlap.
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
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0	 INT64_C(1760000000)
#define LIFETIME 28800 /* MAA attestation tokens: 8 hours */

static const struct kek KEK_A = {{1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
				  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};
static const struct kek KEK_B = {{32, 2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
				  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 1}};

static size_t sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v > 0 ? (size_t)v : 1;
}

static struct signing_key_opts opts_of(enum key_type t)
{
	struct signing_key_opts o = {
	    .type = t, .subject_cn = "https://attestd.test", .jku = "https://attestd.test/certs"};
	return o;
}

/* Parses tok and verifies it with jwks; returns the rc. */
static int verify_with(const char *tok, const json_t *jwks, struct attest_err *err)
{
	struct jws *j = NULL;
	int rc;

	attest_err_clear(err);
	rc = jws_parse(tok, strlen(tok), &j, err);
	if (rc == ATTEST_OK)
		rc = jws_verify_jwks(j, jwks, 0, err);
	jws_free(j);
	return rc;
}

static json_t *claims_at(int64_t now)
{
	json_t *c = json_pack("{s:s,s:s}", "iss", "https://attestd.test", "x-ms-ver", "1.0");

	assert_int_equal(jwt_set_times(c, now, LIFETIME), ATTEST_OK);
	return c;
}

static struct keyring *ring_of(enum key_type t)
{
	struct keyring_opts o = {.key = opts_of(t), .max_token_lifetime = LIFETIME};
	struct keyring *r = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(keyring_new(&o, &r, &err), ATTEST_OK);
	return r;
}

/* ---- generation ----------------------------------------------------------- */

static void check_generated(enum key_type t, enum jws_alg alg)
{
	struct signing_key_opts o = opts_of(t);
	struct signing_key *k = NULL;
	struct attest_err err;
	uint8_t tp[32];
	char *want, *subject;
	STACK_OF(X509) *anchors = sk_X509_new_null();
	struct x509_verify_opts vo = {.time = T0 + 10, .anchors = anchors};
	json_t *jwk = NULL, *jwks, *c = claims_at(T0);
	char *tok = NULL;
	struct jws *j = NULL;

	attest_err_clear(&err);
	assert_int_equal(signing_key_generate(&o, T0, &k, &err), ATTEST_OK);
	assert_int_equal(signing_key_alg(k), alg);
	/* kid = base64url(RFC 7638 thumbprint). */
	assert_int_equal(jwk_thumbprint(signing_key_public(k), tp), ATTEST_OK);
	want = b64url_encode(tp, 32);
	assert_string_equal(signing_key_kid(k), want);
	assert_int_equal(strlen(want), 43);
	/* A self-signed certificate, valid about a year from now. */
	subject = x509_subject_str(signing_key_cert(k));
	assert_string_equal(subject, "CN=https://attestd.test");
	sk_X509_push(anchors, signing_key_cert(k));
	X509_up_ref(signing_key_cert(k));
	assert_int_equal(x509_chain_verify(signing_key_cert(k), NULL, &vo, NULL, "keys.cert", &err),
			 ATTEST_OK);
	vo.time = T0 + KEYS_DEFAULT_CERT_VALIDITY + 1;
	assert_int_equal(x509_chain_verify(signing_key_cert(k), NULL, &vo, NULL, "keys.cert", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "keys.cert.expired");
	/* Its tokens carry alg/jku/kid/typ and verify against its JWK. */
	attest_err_clear(&err);
	assert_int_equal(signing_key_jwk(k, &jwk, &err), ATTEST_OK);
	assert_null(json_object_get(jwk, "d"));
	assert_null(json_object_get(jwk, "p"));
	jwks = jwks_new();
	jwks_add(jwks, jwk);
	assert_int_equal(signing_key_sign_jwt(k, c, &tok, &err), ATTEST_OK);
	assert_int_equal(verify_with(tok, jwks, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_string_equal(jws_header_str(j, "kid"), signing_key_kid(k));
	assert_string_equal(jws_header_str(j, "jku"), "https://attestd.test/certs");
	assert_string_equal(jws_header_str(j, "typ"), "JWT");
	assert_null(json_object_get(j->header, "x5c"));
	assert_int_equal(signing_key_last_exp(k), T0 + LIFETIME);
	jws_free(j);
	free(tok);
	json_decref(jwks);
	json_decref(c);
	free(want);
	free(subject);
	sk_X509_pop_free(anchors, X509_free);
	signing_key_free(k);
}

static void rsa2048_key_is_generated_with_certificate_and_kid(void **state)
{
	check_generated(KEY_RSA2048, JWS_ALG_RS256);
}

static void ec_keys_are_generated_with_certificate_and_kid(void **state)
{
	check_generated(KEY_EC_P256, JWS_ALG_ES256);
	check_generated(KEY_EC_P384, JWS_ALG_ES384);
}

static void header_x5c_carries_the_certificate_when_asked(void **state)
{
	struct signing_key_opts o = opts_of(KEY_EC_P256);
	struct signing_key *k = NULL;
	struct attest_err err;
	json_t *c = claims_at(T0);
	char *tok = NULL;
	struct jws *j = NULL;
	STACK_OF(X509) *x5c = NULL;

	o.header_x5c = true;
	attest_err_clear(&err);
	assert_int_equal(signing_key_generate(&o, T0, &k, &err), ATTEST_OK);
	assert_int_equal(signing_key_sign_jwt(k, c, &tok, &err), ATTEST_OK);
	assert_int_equal(jws_parse(tok, strlen(tok), &j, &err), ATTEST_OK);
	assert_int_equal(jws_header_x5c(j, &x5c, &err), ATTEST_OK);
	assert_int_equal(sk_X509_num(x5c), 1);
	assert_int_equal(X509_cmp(sk_X509_value(x5c, 0), signing_key_cert(k)), 0);
	assert_int_equal(jws_verify(j, X509_get0_pubkey(sk_X509_value(x5c, 0)), 0, &err), ATTEST_OK);
	sk_X509_pop_free(x5c, X509_free);
	jws_free(j);
	free(tok);
	json_decref(c);
	signing_key_free(k);
}

/* The decoded protected header of tok, as text (caller frees). */
static char *header_text(const char *tok)
{
	uint8_t *h = NULL;
	size_t n = 0;

	assert_int_equal(b64_decode(tok, (size_t)(strchr(tok, '.') - tok), &h, &n), ATTEST_OK);
	return (char *)h;
}

static void tokens_carry_maa_headers_with_a_per_call_jku(void **state)
{
	struct keyring *r = ring_of(KEY_RSA2048);
	struct attest_err err;
	const char *kid = NULL;
	json_t *c = claims_at(T0);
	char *tok = NULL, *h, want[512];

	attest_err_clear(&err);
	assert_int_equal(keyring_add_generated(r, T0, &kid, &err), ATTEST_OK);
	assert_int_equal(keyring_sign_jwt(r, c, &tok, &err), ATTEST_OK);
	h = header_text(tok);
	snprintf(want, sizeof(want),
		 "{\"alg\":\"RS256\",\"jku\":\"https://attestd.test/certs\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
		 kid);
	assert_string_equal(h, want);
	free(h);
	free(tok);
	assert_int_equal(keyring_sign_jwt_jku(r, c, "https://tenant1.attestd.test/certs", &tok, &err),
			 ATTEST_OK);
	h = header_text(tok);
	snprintf(want, sizeof(want),
		 "{\"alg\":\"RS256\",\"jku\":\"https://tenant1.attestd.test/"
		 "certs\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
		 kid);
	assert_string_equal(h, want);
	free(h);
	free(tok);
	json_decref(c);
	keyring_free(r);
}

static void key_type_names_round_trip(void **state)
{
	enum key_type t;

	assert_int_equal(key_type_from_name("rsa2048", &t), ATTEST_OK);
	assert_int_equal(t, KEY_RSA2048);
	assert_int_equal(key_type_from_name(key_type_name(KEY_EC_P384), &t), ATTEST_OK);
	assert_int_equal(t, KEY_EC_P384);
	assert_int_equal(key_type_from_name("ed25519", &t), ATTEST_E_INVALID);
}

/* ---- KEK ------------------------------------------------------------------ */

static void kek_file_is_created_0600_and_read_back(void **state)
{
	char dir[] = "/tmp/attest-kek-XXXXXX", path[256];
	struct kek a, b;
	bool created = false;
	struct stat st;
	struct attest_err err;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kek", dir);
	attest_err_clear(&err);
	assert_int_equal(kek_load_or_create(path, &a, &created, &err), ATTEST_OK);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, KEK_LEN);
	assert_int_equal(kek_load_or_create(path, &b, &created, &err), ATTEST_OK);
	assert_false(created);
	assert_memory_equal(a.k, b.k, KEK_LEN);
	/* Loose permissions are refused. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(kek_load_or_create(path, &b, &created, &err), ATTEST_E_DENIED);
	assert_string_equal(err.name, "keys.kek.permissions");
	/* A file of the wrong size is refused. */
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "ab");
	fputc('x', f);
	fclose(f);
	attest_err_clear(&err);
	assert_int_equal(kek_load_or_create(path, &b, &created, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "keys.kek.size");
	/* A folder that does not exist cannot hold one. */
	snprintf(path, sizeof(path), "%s/missing/kek", dir);
	attest_err_clear(&err);
	assert_int_equal(kek_load_or_create(path, &b, &created, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "keys.kek.io");
	kek_clear(&a);
	kek_clear(&b);
	snprintf(path, sizeof(path), "%s/kek", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- blobs ------------------------------------------------------------------ */

struct blob_fixture {
	struct signing_key *key;
	uint8_t *blob;
	size_t len;
};

static int blob_setup(void **state)
{
	struct blob_fixture *f = calloc(1, sizeof(*f));
	struct signing_key_opts o = opts_of(KEY_EC_P256);
	json_t *c = claims_at(T0);
	char *tok = NULL;

	if (f == NULL || signing_key_generate(&o, T0, &f->key, NULL) != ATTEST_OK ||
	    signing_key_sign_jwt(f->key, c, &tok, NULL) != ATTEST_OK ||
	    signing_key_export(f->key, &KEK_A, &f->blob, &f->len, NULL) != ATTEST_OK)
		return -1;
	free(tok);
	json_decref(c);
	*state = f;
	return 0;
}

static int blob_teardown(void **state)
{
	struct blob_fixture *f = *state;

	signing_key_free(f->key);
	free(f->blob);
	free(f);
	return 0;
}

static void blob_round_trips_under_the_kek(void **state)
{
	struct blob_fixture *f = *state;
	struct signing_key_opts o = opts_of(KEY_EC_P256);
	struct signing_key *back = NULL;
	struct attest_err err;
	json_t *jwk = NULL, *jwks = jwks_new(), *c = claims_at(T0 + 5);
	char *tok = NULL;

	attest_err_clear(&err);
	assert_int_equal(signing_key_import(f->blob, f->len, &KEK_A, &o, &back, &err), ATTEST_OK);
	assert_string_equal(signing_key_kid(back), signing_key_kid(f->key));
	assert_int_equal(EVP_PKEY_eq(signing_key_public(back), signing_key_public(f->key)), 1);
	assert_int_equal(X509_cmp(signing_key_cert(back), signing_key_cert(f->key)), 0);
	assert_int_equal(signing_key_created(back), T0);
	assert_int_equal(signing_key_last_exp(back), T0 + LIFETIME);
	/* The imported key signs tokens the original's JWK verifies. */
	assert_int_equal(signing_key_jwk(f->key, &jwk, &err), ATTEST_OK);
	jwks_add(jwks, jwk);
	assert_int_equal(signing_key_sign_jwt(back, c, &tok, &err), ATTEST_OK);
	assert_int_equal(verify_with(tok, jwks, &err), ATTEST_OK);
	free(tok);
	json_decref(c);
	json_decref(jwks);
	signing_key_free(back);
}

static void blob_holds_no_clear_private_key(void **state)
{
	struct blob_fixture *f = *state;
	BIGNUM *priv = NULL;
	uint8_t d[32];
	size_t i, w = 12;

	/* The private scalar: no 12-byte window of it appears in the blob. */
	assert_int_equal(EVP_PKEY_get_bn_param(signing_key_public(f->key), "priv", &priv), 1);
	assert_int_equal(BN_bn2binpad(priv, d, sizeof(d)), (int)sizeof(d));
	for (i = 0; i + w <= sizeof(d); i++)
		assert_null(memmem(f->blob, f->len, d + i, w));
	OPENSSL_cleanse(d, sizeof(d));
	BN_clear_free(priv);
}

static void blob_under_another_kek_is_refused(void **state)
{
	struct blob_fixture *f = *state;
	struct signing_key *back = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(signing_key_import(f->blob, f->len, &KEK_B, NULL, &back, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "keys.blob.decrypt");
	assert_null(back);
}

static void blob_with_any_bit_flipped_is_refused(void **state)
{
	struct blob_fixture *f = *state;
	uint8_t *b = malloc(f->len);
	size_t bit, stride = sweep_stride(), tried = 0;
	struct signing_key *back = NULL;
	struct attest_err err;

	memcpy(b, f->blob, f->len);
	for (bit = 0; bit < f->len * 8; bit += stride) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		attest_err_clear(&err);
		assert_int_not_equal(signing_key_import(b, f->len, &KEK_A, NULL, &back, &err), ATTEST_OK);
		assert_null(back);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		tried++;
	}
	assert_true(tried > 0);
	free(b);
}

static void blob_cut_anywhere_or_extended_is_refused(void **state)
{
	struct blob_fixture *f = *state;
	uint8_t *b = malloc(f->len + 1);
	size_t cut, stride = sweep_stride();
	struct signing_key *back = NULL;
	struct attest_err err;

	memcpy(b, f->blob, f->len);
	for (cut = 0; cut < f->len; cut += stride) {
		attest_err_clear(&err);
		assert_int_equal(signing_key_import(b, cut, &KEK_A, NULL, &back, &err), ATTEST_E_PARSE);
		assert_non_null(strstr(err.name, "keys.blob."));
	}
	b[f->len] = 0;
	attest_err_clear(&err);
	assert_int_equal(signing_key_import(b, f->len + 1, &KEK_A, NULL, &back, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "keys.blob.trailing");
	b[0] = 'X';
	attest_err_clear(&err);
	assert_int_equal(signing_key_import(b, f->len, &KEK_A, NULL, &back, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "keys.blob.magic");
	b[0] = 'A';
	b[4] = 2;
	attest_err_clear(&err);
	assert_int_equal(signing_key_import(b, f->len, &KEK_A, NULL, &back, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "keys.blob.version");
	free(b);
}

/* ---- keyring -------------------------------------------------------------- */

static void empty_keyring_cannot_sign(void **state)
{
	struct keyring *r = ring_of(KEY_EC_P256);
	struct attest_err err;
	json_t *c = claims_at(T0), *jwks = NULL;
	char *tok = NULL;

	attest_err_clear(&err);
	assert_null(keyring_current(r));
	assert_int_equal(keyring_sign_jwt(r, c, &tok, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "keys.ring.empty");
	assert_int_equal(keyring_jwks(r, T0, &jwks, &err), ATTEST_OK);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 0);
	json_decref(jwks);
	json_decref(c);
	keyring_free(r);
}

static void collect_kid(const char *kid, void *arg)
{
	json_array_append_new((json_t *)arg, json_string(kid));
}

static void rotation_keeps_the_old_key_published_until_its_tokens_expire(void **state)
{
	struct keyring *r = ring_of(KEY_EC_P256);
	struct attest_err err;
	const char *kid1 = NULL, *kid2 = NULL;
	json_t *c = claims_at(T0), *jwks = NULL, *retired = json_array();
	char *old_tok = NULL, *new_tok = NULL;
	int64_t rot = T0 + 3600;

	attest_err_clear(&err);
	assert_int_equal(keyring_add_generated(r, T0, &kid1, &err), ATTEST_OK);
	assert_int_equal(keyring_sign_jwt(r, c, &old_tok, &err), ATTEST_OK);
	assert_int_equal(keyring_rotate(r, rot, &kid2, &err), ATTEST_OK);
	assert_string_not_equal(kid1, kid2);
	assert_string_equal(signing_key_kid(keyring_current(r)), kid2);
	assert_int_equal(signing_key_retire_at(keyring_find(r, kid1)), rot + LIFETIME);
	json_decref(c);
	c = claims_at(rot);
	assert_int_equal(keyring_sign_jwt(r, c, &new_tok, &err), ATTEST_OK);
	/* During the overlap both keys are published, current first; both tokens verify. */
	assert_int_equal(keyring_jwks(r, rot + 1, &jwks, &err), ATTEST_OK);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "kid")),
	    kid2);
	assert_int_equal(verify_with(old_tok, jwks, &err), ATTEST_OK);
	assert_int_equal(verify_with(new_tok, jwks, &err), ATTEST_OK);
	json_decref(jwks);
	/* After the retire time the old key is gone from the JWKS and can be pruned. */
	assert_int_equal(keyring_jwks(r, rot + LIFETIME, &jwks, &err), ATTEST_OK);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 1);
	assert_int_equal(verify_with(old_tok, jwks, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.kid.unknown");
	assert_int_equal(verify_with(new_tok, jwks, &err), ATTEST_OK);
	keyring_retired_kids(r, rot + LIFETIME - 1, collect_kid, retired);
	assert_int_equal(json_array_size(retired), 0);
	keyring_retired_kids(r, rot + LIFETIME, collect_kid, retired);
	assert_int_equal(json_array_size(retired), 1);
	assert_string_equal(json_string_value(json_array_get(retired, 0)), kid1);
	assert_int_equal(keyring_prune(r, rot + LIFETIME - 1), 0);
	{
		char saved[KEYS_KID_MAX]; /* kid1 is borrowed from the key that prune frees */

		snprintf(saved, sizeof(saved), "%s", kid1);
		assert_int_equal(keyring_prune(r, rot + LIFETIME), 1);
		assert_int_equal(keyring_count(r), 1);
		assert_null(keyring_find(r, saved));
	}
	/* The current key is never pruned. */
	assert_int_equal(keyring_prune(r, rot + 100 * LIFETIME), 0);
	json_decref(jwks);
	json_decref(retired);
	json_decref(c);
	free(old_tok);
	free(new_tok);
	keyring_free(r);
}

static void retire_time_covers_a_token_that_outlives_the_usual_lifetime(void **state)
{
	struct keyring *r = ring_of(KEY_EC_P256);
	struct attest_err err;
	const char *kid1 = NULL;
	json_t *c = json_pack("{s:I}", "exp", (json_int_t)(T0 + 10 * LIFETIME));
	char *tok = NULL;

	attest_err_clear(&err);
	assert_int_equal(keyring_add_generated(r, T0, &kid1, &err), ATTEST_OK);
	assert_int_equal(keyring_sign_jwt(r, c, &tok, &err), ATTEST_OK);
	assert_int_equal(keyring_rotate(r, T0 + 1, NULL, &err), ATTEST_OK);
	assert_int_equal(signing_key_retire_at(keyring_find(r, kid1)), T0 + 10 * LIFETIME);
	free(tok);
	json_decref(c);
	keyring_free(r);
}

static void keyring_survives_export_and_import(void **state)
{
	struct keyring *r = ring_of(KEY_RSA2048), *r2 = ring_of(KEY_RSA2048);
	struct attest_err err;
	const char *kid1 = NULL, *kid2 = NULL;
	json_t *jwks = NULL, *jwks2 = NULL, *c = claims_at(T0 + 10);
	char *tok = NULL;
	size_t i;

	attest_err_clear(&err);
	assert_int_equal(keyring_add_generated(r, T0, &kid1, &err), ATTEST_OK);
	assert_int_equal(keyring_rotate(r, T0 + 5, &kid2, &err), ATTEST_OK);
	/* Imported in any order, the newest non-retiring key is current. */
	for (i = keyring_count(r); i-- > 0;) {
		uint8_t *blob = NULL;
		size_t len = 0;

		assert_int_equal(
		    keyring_export_blob(r, signing_key_kid(keyring_key(r, i)), &KEK_A, &blob, &len, &err),
		    ATTEST_OK);
		assert_int_equal(keyring_import_blob(r2, blob, len, &KEK_A, &err), ATTEST_OK);
		/* Importing the same blob again replaces, not duplicates. */
		assert_int_equal(keyring_import_blob(r2, blob, len, &KEK_A, &err), ATTEST_OK);
		free(blob);
	}
	assert_int_equal(keyring_count(r2), 2);
	assert_string_equal(signing_key_kid(keyring_current(r2)), kid2);
	assert_int_equal(signing_key_retire_at(keyring_find(r2, kid1)), T0 + 5 + LIFETIME);
	assert_int_equal(keyring_jwks(r, T0 + 10, &jwks, &err), ATTEST_OK);
	assert_int_equal(keyring_jwks(r2, T0 + 10, &jwks2, &err), ATTEST_OK);
	assert_true(json_equal(jwks, jwks2));
	assert_int_equal(keyring_sign_jwt(r2, c, &tok, &err), ATTEST_OK);
	assert_int_equal(verify_with(tok, jwks, &err), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(keyring_export_blob(r, "no-such-kid", &KEK_A, (uint8_t **)&tok, &i, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "keys.kid.unknown");
	free(tok);
	json_decref(c);
	json_decref(jwks);
	json_decref(jwks2);
	keyring_free(r);
	keyring_free(r2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rsa2048_key_is_generated_with_certificate_and_kid),
	    cmocka_unit_test(ec_keys_are_generated_with_certificate_and_kid),
	    cmocka_unit_test(header_x5c_carries_the_certificate_when_asked),
	    cmocka_unit_test(tokens_carry_maa_headers_with_a_per_call_jku),
	    cmocka_unit_test(key_type_names_round_trip),
	    cmocka_unit_test(kek_file_is_created_0600_and_read_back),
	    cmocka_unit_test(empty_keyring_cannot_sign),
	    cmocka_unit_test(rotation_keeps_the_old_key_published_until_its_tokens_expire),
	    cmocka_unit_test(retire_time_covers_a_token_that_outlives_the_usual_lifetime),
	    cmocka_unit_test(keyring_survives_export_and_import),
	};
	const struct CMUnitTest blob_tests[] = {
	    cmocka_unit_test(blob_round_trips_under_the_kek),
	    cmocka_unit_test(blob_holds_no_clear_private_key),
	    cmocka_unit_test(blob_under_another_kek_is_refused),
	    cmocka_unit_test(blob_with_any_bit_flipped_is_refused),
	    cmocka_unit_test(blob_cut_anywhere_or_extended_is_refused),
	};
	int failed = cmocka_run_group_tests_name("signing keys and keyring", tests, NULL, NULL);

	failed += cmocka_run_group_tests_name("sealed key blobs", blob_tests, blob_setup, blob_teardown);
	return failed;
}
