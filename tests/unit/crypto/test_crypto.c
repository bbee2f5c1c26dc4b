/*
 * Unit tests of src/crypto (crypto.h): digests, raw ECDSA encodings, RSA
 * PKCS#1 and PSS, X.509 loading, and chain verification against a PKI made
 * in the test (every failure produced on purpose) and against the real
 * Intel and AMD chains at their bundle times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attest/error.h"
#include "crypto/crypto.h"
#include "testpki.h"
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000)

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *sign_der(EVP_PKEY *key, const EVP_MD *md, int pad, const void *msg, size_t n, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	if (pad != 0) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, pad), 1);
		if (pad == RSA_PKCS1_PSS_PADDING)
			assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen, msg, n), 1);
	sig = malloc(*siglen);
	assert_non_null(sig);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, msg, n), 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

/* DER ECDSA → big-endian r || s, each flen bytes. */
static void der_to_rs(const uint8_t *der, size_t derlen, size_t flen, uint8_t *rs)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);

	assert_non_null(es);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)flen), (int)flen);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + flen, (int)flen), (int)flen);
	ECDSA_SIG_free(es);
}

static void ec_xy(EVP_PKEY *key, uint8_t *xy, size_t len)
{
	uint8_t pt[1 + 96];
	size_t n = 0;

	assert_int_equal(EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", pt, sizeof(pt), &n), 1);
	assert_int_equal(n, len + 1);
	assert_int_equal(pt[0], 0x04);
	memcpy(xy, pt + 1, len);
}

/* ---- digests ------------------------------------------------------------ */

static void digests_match_the_fips_180_examples(void **state)
{
	static const uint8_t SHA256_ABC[32] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	static const uint8_t SHA384_ABC_HEAD[8] = {0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b};
	static const uint8_t SHA512_ABC_HEAD[8] = {0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba};
	static const uint8_t SHA1_ABC_HEAD[8] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a};
	uint8_t out[HASH_MAX_LEN];

	assert_int_equal(sha256("abc", 3, out), ATTEST_OK);
	assert_memory_equal(out, SHA256_ABC, 32);
	assert_int_equal(sha384("abc", 3, out), ATTEST_OK);
	assert_memory_equal(out, SHA384_ABC_HEAD, 8);
	assert_int_equal(sha512("abc", 3, out), ATTEST_OK);
	assert_memory_equal(out, SHA512_ABC_HEAD, 8);
	assert_int_equal(hash_digest(HASH_SHA1, "abc", 3, out), ATTEST_OK);
	assert_memory_equal(out, SHA1_ABC_HEAD, 8);
	assert_int_equal(hash_len(HASH_SHA1), 20);
	assert_int_equal(hash_len(HASH_SHA384), 48);
	assert_int_equal(hash_digest((enum hash_alg)99, "abc", 3, out), ATTEST_E_INVALID);
}

static void incremental_digest_equals_one_shot(void **state)
{
	static const char MSG[] = "The quick brown fox jumps over the lazy dog";
	uint8_t a[48], b[48];
	struct hash_ctx h;

	assert_int_equal(hash_init(&h, HASH_SHA384), ATTEST_OK);
	assert_int_equal(hash_update(&h, MSG, 10), ATTEST_OK);
	assert_int_equal(hash_update(&h, NULL, 0), ATTEST_OK);
	assert_int_equal(hash_update(&h, MSG + 10, sizeof(MSG) - 11), ATTEST_OK);
	assert_int_equal(hash_final(&h, a), ATTEST_OK);
	assert_null(h.md);
	assert_int_equal(sha384(MSG, sizeof(MSG) - 1, b), ATTEST_OK);
	assert_memory_equal(a, b, 48);
	/* A context abandoned half-way is freed by hash_ctx_free (ASan checks). */
	assert_int_equal(hash_init(&h, HASH_SHA256), ATTEST_OK);
	assert_int_equal(hash_update(&h, MSG, 3), ATTEST_OK);
	hash_ctx_free(&h);
	hash_ctx_free(&h);
	assert_int_equal(hash_final(&h, a), ATTEST_E_INVALID);
}

static void memeq_compares_all_bytes(void **state)
{
	assert_true(crypto_memeq("abcd", "abcd", 4));
	assert_false(crypto_memeq("abcd", "abce", 4));
	assert_false(crypto_memeq("xbcd", "abcd", 4));
	assert_true(crypto_memeq(NULL, NULL, 0));
}

/* ---- ECDSA --------------------------------------------------------------- */

static void ec_pubkey_from_xy_accepts_a_curve_point(void **state)
{
	EVP_PKEY *key = tp_key_ec("P-256"), *pub = NULL;
	struct attest_err err;
	uint8_t xy[64];

	assert_non_null(key);
	ec_xy(key, xy, 64);
	attest_err_clear(&err);
	assert_int_equal(ec_pubkey_from_xy(EC_P256, xy, 64, &pub, "sgx.attest_key", &err), ATTEST_OK);
	assert_int_equal(EVP_PKEY_eq(key, pub), 1);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
}

static void ec_pubkey_from_xy_refuses_a_point_off_the_curve(void **state)
{
	EVP_PKEY *key = tp_key_ec("P-256"), *pub = NULL;
	struct attest_err err;
	uint8_t xy[64];

	ec_xy(key, xy, 64);
	xy[63] ^= 1;
	attest_err_clear(&err);
	assert_int_equal(ec_pubkey_from_xy(EC_P256, xy, 64, &pub, "sgx.attest_key", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.attest_key.key");
	assert_null(pub);
	attest_err_clear(&err);
	assert_int_equal(ec_pubkey_from_xy(EC_P384, xy, 64, &pub, "sgx.attest_key", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "sgx.attest_key");
	EVP_PKEY_free(key);
}

static void ecdsa_rs_be_verifies_and_refuses_any_flipped_bit(void **state)
{
	static const char MSG[] = "quote header and body";
	EVP_PKEY *key = tp_key_ec("P-256");
	struct attest_err err;
	uint8_t rs[64];
	size_t derlen = 0, i;
	uint8_t *der = sign_der(key, EVP_sha256(), 0, MSG, sizeof(MSG), &derlen);

	der_to_rs(der, derlen, 32, rs);
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_be(key, HASH_SHA256, MSG, sizeof(MSG), rs, 64, "sgx.quote.signature", &err),
	    ATTEST_OK);
	for (i = 0; i < 64 * 8; i += 37) {
		rs[i / 8] ^= (uint8_t)(1u << (i % 8));
		attest_err_clear(&err);
		assert_int_equal(ecdsa_verify_rs_be(key, HASH_SHA256, MSG, sizeof(MSG), rs, 64,
						    "sgx.quote.signature", &err),
				 ATTEST_E_VERIFY);
		assert_string_equal(err.name, "sgx.quote.signature");
		rs[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_be(key, HASH_SHA256, MSG, sizeof(MSG) - 1, rs, 64, "sgx.quote.signature", &err),
	    ATTEST_E_VERIFY);
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_be(key, HASH_SHA256, MSG, sizeof(MSG), rs, 63, "sgx.quote.signature", &err),
	    ATTEST_E_PARSE);
	assert_string_equal(err.name, "sgx.quote.signature.encoding");
	/* The DER form of the same signature verifies; a non-DER blob does not. */
	attest_err_clear(&err);
	assert_int_equal(ecdsa_verify_der(key, HASH_SHA256, MSG, sizeof(MSG), der, derlen, "x", &err),
			 ATTEST_OK);
	assert_int_equal(ecdsa_verify_der(key, HASH_SHA256, MSG, sizeof(MSG), rs, 64, "x", &err),
			 ATTEST_E_VERIFY);
	free(der);
	EVP_PKEY_free(key);
}

static void ecdsa_rs_le_verifies_zero_extended_p384_fields(void **state)
{
	static const char MSG[] = "snp report";
	EVP_PKEY *key = tp_key_ec("P-384");
	struct attest_err err;
	uint8_t rs[96], r[72] = {0}, s[72] = {0};
	size_t derlen = 0, i;
	uint8_t *der = sign_der(key, EVP_sha384(), 0, MSG, sizeof(MSG), &derlen);

	der_to_rs(der, derlen, 48, rs);
	for (i = 0; i < 48; i++) {
		r[i] = rs[47 - i];
		s[i] = rs[95 - i];
	}
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_le(key, HASH_SHA384, MSG, sizeof(MSG), r, s, 72, "snp.report.signature", &err),
	    ATTEST_OK);
	s[0] ^= 1;
	assert_int_equal(
	    ecdsa_verify_rs_le(key, HASH_SHA384, MSG, sizeof(MSG), r, s, 72, "snp.report.signature", &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.report.signature");
	s[0] ^= 1;
	r[60] = 1;
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_le(key, HASH_SHA384, MSG, sizeof(MSG), r, s, 72, "snp.report.signature", &err),
	    ATTEST_E_PARSE);
	assert_string_equal(err.name, "snp.report.signature.encoding");
	r[60] = 0;
	attest_err_clear(&err);
	assert_int_equal(
	    ecdsa_verify_rs_le(key, HASH_SHA384, MSG, sizeof(MSG), r, s, 40, "snp.report.signature", &err),
	    ATTEST_E_PARSE);
	free(der);
	EVP_PKEY_free(key);
}

/*
 * A key made from a raw point is checked on the direct EC_KEY route
 * (sig.c); a key from OpenSSL's decoders on the EVP route. Both must give
 * the same verdict on every signature, altered or not, in every encoding.
 */
static int verdict(EVP_PKEY *key, int form, const char *msg, size_t n, const uint8_t *sig, size_t len)
{
	struct attest_err err;
	size_t f = len / 2;

	attest_err_clear(&err);
	if (form == 0)
		return ecdsa_verify_rs_be(key, HASH_SHA256, msg, n, sig, len, "x", &err);
	if (form == 1)
		return ecdsa_verify_der(key, HASH_SHA256, msg, n, sig, len, "x", &err);
	{
		uint8_t r[32] = {0}, s[32] = {0};

		for (size_t i = 0; i < f && i < 32; i++) {
			r[i] = sig[f - 1 - i];
			s[i] = sig[len - 1 - i];
		}
		return ecdsa_verify_rs_le(key, HASH_SHA256, msg, n, r, s, 32, "x", &err);
	}
}

static void ecdsa_direct_and_evp_routes_agree(void **state)
{
	static const char MSG[] = "two routes, one verdict";
	EVP_PKEY *key = tp_key_ec("P-256"), *raw = NULL;
	struct attest_err err;
	uint8_t xy[64], rs[64], buf[80];
	size_t derlen = 0, i;
	uint8_t *der = sign_der(key, EVP_sha256(), 0, MSG, sizeof(MSG), &derlen);

	ec_xy(key, xy, 64);
	attest_err_clear(&err);
	assert_int_equal(ec_pubkey_from_xy(EC_P256, xy, 64, &raw, "k", &err), ATTEST_OK);
	assert_null(EVP_PKEY_get0_provider(raw)); /* the direct route's premise */
	assert_non_null(EVP_PKEY_get0_provider(key));
	der_to_rs(der, derlen, 32, rs);
	for (int form = 0; form < 3; form++) {
		const uint8_t *sig = form == 1 ? der : rs;
		size_t len = form == 1 ? derlen : 64;

		assert_int_equal(verdict(raw, form, MSG, sizeof(MSG), sig, len), ATTEST_OK);
		assert_int_equal(verdict(key, form, MSG, sizeof(MSG), sig, len), ATTEST_OK);
		for (i = 0; i < len * 8; i += 5) {
			memcpy(buf, sig, len);
			buf[i / 8] ^= (uint8_t)(1u << (i % 8));
			assert_int_equal(verdict(raw, form, MSG, sizeof(MSG), buf, len),
					 verdict(key, form, MSG, sizeof(MSG), buf, len));
			assert_int_not_equal(verdict(raw, form, MSG, sizeof(MSG), buf, len), ATTEST_OK);
		}
		assert_int_not_equal(verdict(raw, form, MSG, sizeof(MSG) - 1, sig, len), ATTEST_OK);
	}
	/* Non-canonical DER of a valid signature: a trailing byte, a long-form length. */
	memcpy(buf, der, derlen);
	buf[derlen] = 0;
	assert_int_equal(verdict(raw, 1, MSG, sizeof(MSG), buf, derlen + 1), ATTEST_E_VERIFY);
	assert_int_equal(verdict(key, 1, MSG, sizeof(MSG), buf, derlen + 1), ATTEST_E_VERIFY);
	buf[0] = 0x30;
	buf[1] = 0x81;
	memcpy(buf + 2, der + 1, derlen - 1);
	assert_int_equal(verdict(raw, 1, MSG, sizeof(MSG), buf, derlen + 1), ATTEST_E_VERIFY);
	assert_int_equal(verdict(key, 1, MSG, sizeof(MSG), buf, derlen + 1), ATTEST_E_VERIFY);
	free(der);
	EVP_PKEY_free(raw);
	EVP_PKEY_free(key);
}

/* r = 0 and r = n are outside [1, n-1] on both routes. */
static void ecdsa_direct_route_refuses_out_of_range_r(void **state)
{
	static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
				      0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
	EVP_PKEY *key = tp_key_ec("P-256"), *raw = NULL;
	struct attest_err err;
	uint8_t xy[64], rs[64] = {0};

	ec_xy(key, xy, 64);
	assert_int_equal(ec_pubkey_from_xy(EC_P256, xy, 64, &raw, "k", &err), ATTEST_OK);
	rs[63] = 1;
	assert_int_equal(verdict(raw, 0, "m", 1, rs, 64), ATTEST_E_VERIFY);
	memcpy(rs, N, 32);
	assert_int_equal(verdict(raw, 0, "m", 1, rs, 64), ATTEST_E_VERIFY);
	assert_int_equal(verdict(key, 0, "m", 1, rs, 64), ATTEST_E_VERIFY);
	EVP_PKEY_free(raw);
	EVP_PKEY_free(key);
}

static void ecdsa_refuses_an_rsa_key(void **state)
{
	EVP_PKEY *key = tp_key_rsa(1024);
	struct attest_err err;
	uint8_t rs[64] = {1};

	attest_err_clear(&err);
	assert_int_equal(ecdsa_verify_rs_be(key, HASH_SHA256, "m", 1, rs, 64, "x.sig", &err),
			 ATTEST_E_INVALID);
	assert_string_equal(err.name, "x.sig.key");
	EVP_PKEY_free(key);
}

/* ---- RSA ----------------------------------------------------------------- */

static void rsa_pkcs1_and_pss_verify_and_refuse_tampering(void **state)
{
	static const char MSG[] = "tpm quote";
	EVP_PKEY *key = tp_key_rsa(2048);
	struct attest_err err;
	size_t n1 = 0, n2 = 0;
	uint8_t *pk = sign_der(key, EVP_sha256(), RSA_PKCS1_PADDING, MSG, sizeof(MSG), &n1);
	uint8_t *ps = sign_der(key, EVP_sha384(), RSA_PKCS1_PSS_PADDING, MSG, sizeof(MSG), &n2);

	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pkcs1(key, HASH_SHA256, MSG, sizeof(MSG), pk, n1, "tpm.quote.signature", &err),
	    ATTEST_OK);
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA384, MSG, sizeof(MSG), ps, n2, -1, "tpm.quote.signature", &err),
	    ATTEST_OK);
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA384, MSG, sizeof(MSG), ps, n2, -2, "tpm.quote.signature", &err),
	    ATTEST_OK);
	/* The paddings are not interchangeable, nor the digests. */
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA256, MSG, sizeof(MSG), pk, n1, -2, "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.signature");
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pkcs1(key, HASH_SHA384, MSG, sizeof(MSG), ps, n2, "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pkcs1(key, HASH_SHA384, MSG, sizeof(MSG), pk, n1, "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	pk[n1 / 2] ^= 0x40;
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pkcs1(key, HASH_SHA256, MSG, sizeof(MSG), pk, n1, "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA384, MSG, sizeof(MSG) - 1, ps, n2, -1, "tpm.quote.signature", &err),
	    ATTEST_E_VERIFY);
	free(pk);
	free(ps);
	EVP_PKEY_free(key);
}

/*
 * PSS's mask generation digest is not set by the verifier (OpenSSL's
 * default is the message digest): a signature made with another MGF1
 * digest must still be refused.
 */
static void rsa_pss_refuses_another_mgf1_digest(void **state)
{
	static const char MSG[] = "attestation request";
	EVP_PKEY *key = tp_key_rsa(2048);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	struct attest_err err;
	uint8_t same[256], other[256];
	size_t n1 = sizeof(same), n2 = sizeof(other);

	(void)state;
	for (int k = 0; k < 2; k++) {
		assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, k ? EVP_sha1() : EVP_sha256()), 1);
		assert_int_equal(
		    EVP_DigestSign(ctx, k ? other : same, k ? &n2 : &n1, (const uint8_t *)MSG, sizeof(MSG)),
		    1);
		EVP_MD_CTX_reset(ctx);
	}
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA256, MSG, sizeof(MSG), same, n1, -1, "jws.signature", &err),
	    ATTEST_OK);
	assert_int_equal(
	    rsa_verify_pss(key, HASH_SHA256, MSG, sizeof(MSG), other, n2, -1, "jws.signature", &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "jws.signature");
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
}

/* An RSA-PSS key; restricted to SHA-256 with the given MGF1 digest (its SPKI says so) unless mgf1 is NULL. */
static EVP_PKEY *rsa_pss_key(const EVP_MD *mgf1)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	EVP_PKEY *key = NULL;

	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048), 1);
	if (mgf1 != NULL) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_keygen_md(kc, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_keygen_mgf1_md(kc, mgf1), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_keygen_saltlen(kc, 32), 1); /* PS256's salt */
	}
	assert_int_equal(EVP_PKEY_keygen(kc, &key), 1);
	EVP_PKEY_CTX_free(kc);
	return key;
}

/*
 * The MGF1 digest is set for keys that are not plain RSA: an RSA-PSS key
 * restricted to MGF1-SHA-1 would otherwise lend its MGF1 to a PS256-style
 * check, which must refuse; an unrestricted RSA-PSS key verifies.
 */
static void rsa_pss_keys_verify_only_with_mgf1_of_the_message_digest(void **state)
{
	static const char MSG[] = "attestation request";
	EVP_PKEY *restricted = rsa_pss_key(EVP_sha1()), *open = rsa_pss_key(NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[256];
	size_t n = sizeof(sig);
	struct attest_err err;

	(void)state;
	/* Signed as the restricted key dictates: SHA-256 with MGF1-SHA-1. */
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, restricted), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n, (const uint8_t *)MSG, sizeof(MSG)), 1);
	attest_err_clear(&err);
	assert_int_not_equal(
	    rsa_verify_pss(restricted, HASH_SHA256, MSG, sizeof(MSG), sig, n, -1, "jws.signature", &err),
	    ATTEST_OK);
	EVP_MD_CTX_reset(ctx);
	n = sizeof(sig);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, open), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &n, (const uint8_t *)MSG, sizeof(MSG)), 1);
	attest_err_clear(&err);
	assert_int_equal(
	    rsa_verify_pss(open, HASH_SHA256, MSG, sizeof(MSG), sig, n, -2, "jws.signature", &err),
	    ATTEST_OK);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(restricted);
	EVP_PKEY_free(open);
}

static void rsa_refuses_an_ec_key(void **state)
{
	EVP_PKEY *key = tp_key_ec("P-256");
	struct attest_err err;
	uint8_t sig[256] = {0};

	attest_err_clear(&err);
	assert_int_equal(rsa_verify_pkcs1(key, HASH_SHA256, "m", 1, sig, sizeof(sig), "x.sig", &err),
			 ATTEST_E_INVALID);
	assert_string_equal(err.name, "x.sig.key");
	EVP_PKEY_free(key);
}

/* ---- the test PKI ------------------------------------------------------ */

struct pki {
	EVP_PKEY *root_key, *int_key, *leaf_key, *other_key;
	X509 *root, *root2, *inter, *leaf, *leaf_expired, *leaf_future, *leaf_revoked, *other_root,
	    *other_leaf;
	X509 *leaf_as_ca, *under_leaf;
	X509_CRL *root_crl, *int_crl, *int_crl_expired, *int_crl_forged;
	STACK_OF(X509) * anchors, *inter_only;
};

static int pki_setup(void **state)
{
	struct pki *k = calloc(1, sizeof(*k));
	long revoked = 1004;

	if (k == NULL)
		return -1;
	k->root_key = tp_key_ec("P-256");
	k->int_key = tp_key_ec("P-256");
	k->leaf_key = tp_key_ec("P-256");
	k->other_key = tp_key_ec("P-256");
	k->root =
	    tp_cert("Test Root CA", k->root_key, NULL, NULL, T0 - 3650 * TP_DAY, T0 + 3650 * TP_DAY, true, 1);
	/* The same root key in a second certificate (new serial and validity). */
	k->root2 =
	    tp_cert("Test Root CA", k->root_key, NULL, NULL, T0 - 100 * TP_DAY, T0 + 9000 * TP_DAY, true, 2);
	k->inter = tp_cert("Test Intermediate CA", k->int_key, k->root, k->root_key, T0 - 1000 * TP_DAY,
			   T0 + 1000 * TP_DAY, true, 100);
	k->leaf = tp_cert("Test Leaf", k->leaf_key, k->inter, k->int_key, T0 - TP_DAY, T0 + 365 * TP_DAY,
			  false, 1001);
	k->leaf_expired = tp_cert("Test Expired Leaf", k->leaf_key, k->inter, k->int_key, T0 - 400 * TP_DAY,
				  T0 - TP_DAY, false, 1002);
	k->leaf_future = tp_cert("Test Future Leaf", k->leaf_key, k->inter, k->int_key, T0 + TP_DAY,
				 T0 + 400 * TP_DAY, false, 1003);
	k->leaf_revoked = tp_cert("Test Revoked Leaf", k->leaf_key, k->inter, k->int_key, T0 - TP_DAY,
				  T0 + 365 * TP_DAY, false, revoked);
	k->other_root = tp_cert("Other Root CA", k->other_key, NULL, NULL, T0 - 3650 * TP_DAY,
				T0 + 3650 * TP_DAY, true, 1);
	k->other_leaf = tp_cert("Other Leaf", k->leaf_key, k->other_root, k->other_key, T0 - TP_DAY,
				T0 + 365 * TP_DAY, false, 2);
	k->under_leaf = tp_cert("Issued By A Leaf", k->other_key, k->leaf, k->leaf_key, T0 - TP_DAY,
				T0 + 365 * TP_DAY, false, 3);
	k->root_crl = tp_crl(k->root, k->root_key, T0 - TP_DAY, T0 + 30 * TP_DAY, NULL, 0);
	k->int_crl = tp_crl(k->inter, k->int_key, T0 - TP_DAY, T0 + 30 * TP_DAY, &revoked, 1);
	k->int_crl_expired = tp_crl(k->inter, k->int_key, T0 - 60 * TP_DAY, T0 - 30 * TP_DAY, NULL, 0);
	/* Names the intermediate as issuer but is signed by another key. */
	k->int_crl_forged = tp_crl(k->inter, k->other_key, T0 - TP_DAY, T0 + 30 * TP_DAY, NULL, 0);
	k->anchors = sk_X509_new_null();
	k->inter_only = sk_X509_new_null();
	if (!k->root || !k->root2 || !k->inter || !k->leaf || !k->leaf_expired || !k->leaf_future ||
	    !k->leaf_revoked || !k->other_root || !k->other_leaf || !k->under_leaf || !k->root_crl ||
	    !k->int_crl || !k->int_crl_expired || !k->int_crl_forged || !k->anchors || !k->inter_only)
		return -1;
	X509_up_ref(k->root);
	sk_X509_push(k->anchors, k->root);
	X509_up_ref(k->inter);
	sk_X509_push(k->inter_only, k->inter);
	*state = k;
	return 0;
}

static int pki_teardown(void **state)
{
	struct pki *k = *state;

	sk_X509_pop_free(k->anchors, X509_free);
	sk_X509_pop_free(k->inter_only, X509_free);
	X509_free(k->root);
	X509_free(k->root2);
	X509_free(k->inter);
	X509_free(k->leaf);
	X509_free(k->leaf_expired);
	X509_free(k->leaf_future);
	X509_free(k->leaf_revoked);
	X509_free(k->other_root);
	X509_free(k->other_leaf);
	X509_free(k->under_leaf);
	X509_CRL_free(k->root_crl);
	X509_CRL_free(k->int_crl);
	X509_CRL_free(k->int_crl_expired);
	X509_CRL_free(k->int_crl_forged);
	EVP_PKEY_free(k->root_key);
	EVP_PKEY_free(k->int_key);
	EVP_PKEY_free(k->leaf_key);
	EVP_PKEY_free(k->other_key);
	free(k);
	return 0;
}

static STACK_OF(X509_CRL) * crls2(X509_CRL *a, X509_CRL *b)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();

	assert_non_null(sk);
	if (a != NULL) {
		X509_CRL_up_ref(a);
		sk_X509_CRL_push(sk, a);
	}
	if (b != NULL) {
		X509_CRL_up_ref(b);
		sk_X509_CRL_push(sk, b);
	}
	return sk;
}

/* Verifies leaf over k->inter_only at T0 with the given CRLs. */
static int verify_test_chain(struct pki *k, X509 *leaf, STACK_OF(X509) * anchors, X509_CRL *c1, X509_CRL *c2,
			     bool require, struct attest_err *err)
{
	STACK_OF(X509_CRL) *crls = crls2(c1, c2);
	struct x509_verify_opts o = {.time = T0, .anchors = anchors, .crls = crls, .require_crls = require};
	int rc;

	attest_err_clear(err);
	rc = x509_chain_verify(leaf, k->inter_only, &o, NULL, "test.chain", err);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

static void chain_verifies_leaf_to_anchor_with_every_crl(void **state)
{
	struct pki *k = *state;
	STACK_OF(X509_CRL) *crls = crls2(k->root_crl, k->int_crl);
	struct x509_verify_opts o = {.time = T0, .anchors = k->anchors, .crls = crls, .require_crls = true};
	STACK_OF(X509) *chain = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->leaf, k->inter_only, &o, &chain, "test.chain", &err),
			 ATTEST_OK);
	assert_int_equal(sk_X509_num(chain), 3);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), k->leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 2), k->root), 0);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
}

static void chain_refuses_an_expired_leaf_naming_it(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(
	    verify_test_chain(k, k->leaf_expired, k->anchors, k->root_crl, k->int_crl, true, &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.expired");
	assert_non_null(strstr(err.msg, "CN=Test Expired Leaf"));
}

static void chain_refuses_a_leaf_not_yet_valid(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(
	    verify_test_chain(k, k->leaf_future, k->anchors, k->root_crl, k->int_crl, true, &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.not_yet_valid");
	assert_non_null(strstr(err.msg, "CN=Test Future Leaf"));
}

static void chain_refuses_a_leaf_revoked_by_crl(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(
	    verify_test_chain(k, k->leaf_revoked, k->anchors, k->root_crl, k->int_crl, true, &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.revoked");
	assert_non_null(strstr(err.msg, "CN=Test Revoked Leaf"));
	/* A CRL that is given is applied even when CRLs are not required. */
	assert_int_equal(verify_test_chain(k, k->leaf_revoked, k->anchors, k->int_crl, NULL, false, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.revoked");
}

static void root_crl_revokes_an_intermediate_but_not_the_anchor(void **state)
{
	struct pki *k = *state;
	long inter_serial = 100, root_serial = 1;
	X509_CRL *revokes_inter =
	    tp_crl(k->root, k->root_key, T0 - TP_DAY, T0 + 30 * TP_DAY, &inter_serial, 1);
	X509_CRL *revokes_root = tp_crl(k->root, k->root_key, T0 - TP_DAY, T0 + 30 * TP_DAY, &root_serial, 1);
	struct attest_err err;

	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, revokes_inter, k->int_crl, true, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.revoked");
	assert_non_null(strstr(err.msg, "CN=Test Intermediate CA"));
	/* RFC 5280 §6.1 validates the certificates below the trust anchor, not the anchor. */
	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, revokes_root, k->int_crl, true, &err),
			 ATTEST_OK);
	X509_CRL_free(revokes_inter);
	X509_CRL_free(revokes_root);
}

static void chain_requires_a_crl_for_every_ca_when_asked(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, k->root_crl, NULL, true, &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.chain.crl_missing");
	assert_non_null(strstr(err.msg, "CN=Test Leaf"));
	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, k->int_crl, NULL, true, &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.chain.crl_missing");
	assert_non_null(strstr(err.msg, "CN=Test Intermediate CA"));
	/* Not required: missing CRLs are tolerated. */
	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, NULL, NULL, false, &err), ATTEST_OK);
	assert_int_equal(verify_test_chain(k, k->leaf, k->anchors, k->int_crl, NULL, false, &err), ATTEST_OK);
}

static void chain_refuses_an_expired_crl(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(
	    verify_test_chain(k, k->leaf, k->anchors, k->root_crl, k->int_crl_expired, true, &err),
	    ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.chain.crl_expired");
	assert_non_null(strstr(err.msg, "CN=Test Leaf"));
}

static void chain_refuses_a_crl_with_a_bad_signature(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	assert_int_equal(
	    verify_test_chain(k, k->leaf, k->anchors, k->root_crl, k->int_crl_forged, true, &err),
	    ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.chain.crl_signature");
}

static void chain_refuses_a_wrong_root(void **state)
{
	struct pki *k = *state;
	STACK_OF(X509) *other = sk_X509_new_null();
	struct attest_err err;

	X509_up_ref(k->other_root);
	sk_X509_push(other, k->other_root);
	assert_int_equal(verify_test_chain(k, k->leaf, other, NULL, NULL, false, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.untrusted_root");
	assert_non_null(strstr(err.msg, "CN=Test"));
	/* A leaf from another PKI fails against our anchors. */
	assert_int_equal(verify_test_chain(k, k->other_leaf, k->anchors, NULL, NULL, false, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.untrusted_root");
	assert_non_null(strstr(err.msg, "CN=Other Leaf"));
	sk_X509_pop_free(other, X509_free);
}

static void chain_refuses_a_self_signed_root_that_is_not_an_anchor(void **state)
{
	struct pki *k = *state;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = T0, .anchors = k->anchors};
	struct attest_err err;

	X509_up_ref(k->other_root);
	sk_X509_push(untrusted, k->other_root);
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->other_leaf, untrusted, &o, NULL, "test.chain", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.untrusted_root");
	assert_non_null(strstr(err.msg, "CN=Other Root CA"));
	sk_X509_pop_free(untrusted, X509_free);
}

static void chain_refuses_a_certificate_with_a_bad_signature(void **state)
{
	struct pki *k = *state;
	unsigned char *der = NULL;
	int n = tp_der(k->leaf, &der);
	X509 *bad = NULL;
	struct attest_err err;

	assert_true(n > 0);
	der[n - 1] ^= 0x01; /* last byte of the signature value */
	assert_int_equal(x509_from_der(der, (size_t)n, &bad, "test.cert", &err), ATTEST_OK);
	assert_int_equal(verify_test_chain(k, bad, k->anchors, NULL, NULL, false, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.signature");
	assert_non_null(strstr(err.msg, "CN=Test Leaf"));
	X509_free(bad);
	OPENSSL_free(der);
}

static size_t sweep_stride(void)
{
	const char *v = getenv("ATTEST_SWEEP_STRIDE");
	long n = v ? strtol(v, NULL, 10) : 1;

	return n > 0 ? (size_t)n : 1;
}

/* Every bit of the leaf certificate flipped: it either does not parse or does not verify. */
static void mutation_sweep_over_a_certificate(void **state)
{
	struct pki *k = *state;
	unsigned char *der = NULL;
	int n = tp_der(k->leaf, &der);
	size_t bit, stride = sweep_stride(), verified = 0;

	assert_true(n > 0);
	for (bit = 0; bit < (size_t)n * 8; bit += stride) {
		X509 *x = NULL;
		struct attest_err err;

		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		attest_err_clear(&err);
		if (x509_from_der(der, (size_t)n, &x, "test.cert", &err) == ATTEST_OK) {
			if (verify_test_chain(k, x, k->anchors, k->root_crl, k->int_crl, true, &err) ==
			    ATTEST_OK)
				verified++;
			X509_free(x);
		}
		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(verified, 0);
	OPENSSL_free(der);
}

static void chain_matches_the_anchor_by_subject_and_key(void **state)
{
	struct pki *k = *state;
	STACK_OF(X509) *anchors2 = sk_X509_new_null();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = T0, .anchors = anchors2};
	struct attest_err err;

	/* The chain carries root #1; the anchor is root #2 (same subject and key). */
	X509_up_ref(k->root2);
	sk_X509_push(anchors2, k->root2);
	X509_up_ref(k->inter);
	sk_X509_push(untrusted, k->inter);
	X509_up_ref(k->root);
	sk_X509_push(untrusted, k->root);
	assert_int_not_equal(X509_cmp(k->root, k->root2), 0);
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->leaf, untrusted, &o, NULL, "test.chain", &err), ATTEST_OK);
	/* The root itself, as leaf, is accepted against the other certificate of its key. */
	assert_int_equal(x509_chain_verify(k->root, NULL, &o, NULL, "test.chain", &err), ATTEST_OK);
	/* And the reverse: anchor #1, chain ending in #2. */
	o.anchors = k->anchors;
	assert_int_equal(x509_chain_verify(k->root2, NULL, &o, NULL, "test.chain", &err), ATTEST_OK);
	/* The root's subject and key in a certificate someone else signed is no anchor. */
	{
		X509 *fake = tp_cert("Test Root CA", k->root_key, k->other_root, k->other_key, T0 - TP_DAY,
				     T0 + 99 * TP_DAY, true, 7);

		assert_non_null(fake);
		attest_err_clear(&err);
		assert_int_equal(x509_chain_verify(fake, NULL, &o, NULL, "test.chain", &err),
				 ATTEST_E_VERIFY);
		assert_string_equal(err.name, "test.chain.untrusted_root");
		X509_free(fake);
	}
	sk_X509_pop_free(anchors2, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
}

static void exact_chain_refuses_a_corrupted_carried_root(void **state)
{
	struct pki *k = *state;
	unsigned char *der = NULL;
	int n = tp_der(k->root, &der);
	X509 *bad = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = T0, .anchors = k->anchors};
	struct attest_err err;

	der[n - 1] ^= 0x01; /* the root's own signature */
	assert_int_equal(x509_from_der(der, (size_t)n, &bad, "test.cert", &err), ATTEST_OK);
	X509_up_ref(k->inter);
	sk_X509_push(untrusted, k->inter);
	sk_X509_push(untrusted, bad);
	/* Path building skips the corrupted copy: only exact_chain notices it. */
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->leaf, untrusted, &o, NULL, "test.chain", &err), ATTEST_OK);
	o.exact_chain = true;
	assert_int_equal(x509_chain_verify(k->leaf, untrusted, &o, NULL, "test.chain", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.signature");
	assert_non_null(strstr(err.msg, "CN=Test Root CA"));
	/* The genuine root, a valid twin, or an unrelated extra certificate. */
	sk_X509_pop_free(untrusted, X509_free);
	untrusted = sk_X509_new_null();
	X509_up_ref(k->inter);
	sk_X509_push(untrusted, k->inter);
	X509_up_ref(k->root);
	sk_X509_push(untrusted, k->root);
	X509_up_ref(k->root2);
	sk_X509_push(untrusted, k->root2);
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->leaf, untrusted, &o, NULL, "test.chain", &err), ATTEST_OK);
	X509_up_ref(k->other_leaf);
	sk_X509_push(untrusted, k->other_leaf);
	assert_int_equal(x509_chain_verify(k->leaf, untrusted, &o, NULL, "test.chain", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.invalid");
	assert_non_null(strstr(err.msg, "CN=Other Leaf"));
	sk_X509_pop_free(untrusted, X509_free);
	OPENSSL_free(der);
}

static void chain_refuses_a_leaf_acting_as_a_ca(void **state)
{
	struct pki *k = *state;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = T0, .anchors = k->anchors};
	struct attest_err err;

	X509_up_ref(k->leaf);
	sk_X509_push(untrusted, k->leaf);
	X509_up_ref(k->inter);
	sk_X509_push(untrusted, k->inter);
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->under_leaf, untrusted, &o, NULL, "test.chain", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.invalid");
	assert_non_null(strstr(err.msg, "CN=Test Leaf"));
	sk_X509_pop_free(untrusted, X509_free);
}

static void chain_longer_than_max_depth_is_refused(void **state)
{
	struct pki *k = *state;
	EVP_PKEY *k2 = tp_key_ec("P-256");
	X509 *inter2 = tp_cert("Test Second Intermediate", k2, k->inter, k->int_key, T0 - TP_DAY,
			       T0 + 99 * TP_DAY, true, 200);
	X509 *leaf2 =
	    tp_cert("Test Deep Leaf", k->leaf_key, inter2, k2, T0 - TP_DAY, T0 + 99 * TP_DAY, false, 201);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct x509_verify_opts o = {.time = T0, .anchors = k->anchors, .max_depth = 2};
	struct attest_err err;

	assert_non_null(leaf2);
	sk_X509_push(untrusted, inter2);
	X509_up_ref(k->inter);
	sk_X509_push(untrusted, k->inter);
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(leaf2, untrusted, &o, NULL, "test.chain", &err), ATTEST_OK);
	o.max_depth = 1; /* one intermediate at most (AMD's VCEK -> ASK -> ARK shape) */
	assert_int_equal(x509_chain_verify(leaf2, untrusted, &o, NULL, "test.chain", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "test.chain.invalid");
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf2);
	EVP_PKEY_free(k2);
}

static void chain_without_anchors_is_refused(void **state)
{
	struct pki *k = *state;
	struct x509_verify_opts o = {.time = T0};
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(k->leaf, k->inter_only, &o, NULL, "test.chain", &err),
			 ATTEST_E_INVALID);
	assert_string_equal(err.name, "test.chain.untrusted_root");
}

static void crl_verify_checks_issuer_signature_and_time(void **state)
{
	struct pki *k = *state;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(x509_crl_verify(k->int_crl, k->inter, T0, "test.crl", &err), ATTEST_OK);
	assert_int_equal(x509_crl_verify(k->int_crl, k->root, T0, "test.crl", &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.crl.crl_issuer");
	attest_err_clear(&err);
	assert_int_equal(x509_crl_verify(k->int_crl_forged, k->inter, T0, "test.crl", &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.crl.crl_signature");
	attest_err_clear(&err);
	assert_int_equal(x509_crl_verify(k->int_crl_expired, k->inter, T0, "test.crl", &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.crl.crl_expired");
	attest_err_clear(&err);
	assert_int_equal(x509_crl_verify(k->int_crl, k->inter, T0 - 2 * TP_DAY, "test.crl", &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "test.crl.crl_expired");
}

/* ---- loading ------------------------------------------------------------ */

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	n = BIO_get_mem_data(b, &data);
	s = malloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = 0;
	BIO_free(b);
	return s;
}

static void pem_stack_loads_every_certificate_in_order(void **state)
{
	struct pki *k = *state;
	char *a = pem_of(k->leaf), *b = pem_of(k->inter);
	char text[8192];
	STACK_OF(X509) *sk = NULL;
	struct attest_err err;

	snprintf(text, sizeof(text), "\n%s\r\n%s\n", a, b);
	attest_err_clear(&err);
	assert_int_equal(
	    x509_stack_from_pem((const uint8_t *)text, strlen(text) + 1 /* NUL */, &sk, "test.pem", &err),
	    ATTEST_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), k->leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), k->inter), 0);
	sk_X509_pop_free(sk, X509_free);
	free(a);
	free(b);
}

static void pem_stack_refuses_text_that_is_not_certificates(void **state)
{
	struct pki *k = *state;
	char *a = pem_of(k->leaf);
	char text[8192];
	STACK_OF(X509) *sk = NULL;
	struct attest_err err;
	const char *cases[] = {"", "   \n", "hello", "-----BEGIN CERTIFICATE-----\nAAAA\n", NULL};
	size_t i;

	snprintf(text, sizeof(text), "junk\n%s", a);
	attest_err_clear(&err);
	assert_int_equal(x509_stack_from_pem((const uint8_t *)text, strlen(text), &sk, "test.pem", &err),
			 ATTEST_E_PARSE);
	assert_string_equal(err.name, "test.pem.parse");
	snprintf(text, sizeof(text), "%sjunk\n", a);
	attest_err_clear(&err);
	assert_int_equal(x509_stack_from_pem((const uint8_t *)text, strlen(text), &sk, "test.pem", &err),
			 ATTEST_E_PARSE);
	/* A cut certificate: its DER does not parse. */
	snprintf(text, sizeof(text), "%s", a);
	memmove(text + 100, text + 104, strlen(text + 104) + 1);
	attest_err_clear(&err);
	assert_int_equal(x509_stack_from_pem((const uint8_t *)text, strlen(text), &sk, "test.pem", &err),
			 ATTEST_E_PARSE);
	for (i = 0; cases[i] != NULL; i++) {
		attest_err_clear(&err);
		assert_int_equal(
		    x509_stack_from_pem((const uint8_t *)cases[i], strlen(cases[i]), &sk, "test.pem", &err),
		    ATTEST_E_PARSE);
		assert_string_equal(err.name, "test.pem.parse");
	}
	assert_null(sk);
	free(a);
}

static void der_certificate_with_trailing_bytes_is_refused(void **state)
{
	struct pki *k = *state;
	unsigned char *der = NULL, *longer;
	int n = tp_der(k->leaf, &der);
	X509 *x = NULL;
	struct attest_err err;

	longer = malloc((size_t)n + 1);
	memcpy(longer, der, (size_t)n);
	longer[n] = 0;
	attest_err_clear(&err);
	assert_int_equal(x509_from_der(longer, (size_t)n + 1, &x, "test.cert", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "test.cert.parse");
	attest_err_clear(&err);
	assert_int_equal(x509_from_der(longer, (size_t)n - 1, &x, "test.cert", &err), ATTEST_E_PARSE);
	assert_null(x);
	assert_int_equal(x509_from_der(longer, (size_t)n, &x, "test.cert", &err), ATTEST_OK);
	X509_free(x);
	free(longer);
	OPENSSL_free(der);
}

static void crl_loads_from_der_and_pem(void **state)
{
	struct pki *k = *state;
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(k->int_crl, &der);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long pn;
	X509_CRL *crl = NULL;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(x509_crl_load(der, (size_t)n, &crl, "test.crl", &err), ATTEST_OK);
	assert_int_equal(X509_CRL_cmp(crl, k->int_crl), 0);
	X509_CRL_free(crl);
	crl = NULL;
	assert_int_equal(x509_crl_load(der, (size_t)n - 1, &crl, "test.crl", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "test.crl.parse");
	assert_int_equal(PEM_write_bio_X509_CRL(b, k->int_crl), 1);
	pn = BIO_get_mem_data(b, &pem);
	attest_err_clear(&err);
	assert_int_equal(x509_crl_load((const uint8_t *)pem, (size_t)pn, &crl, "test.crl", &err), ATTEST_OK);
	assert_int_equal(X509_CRL_cmp(crl, k->int_crl), 0);
	X509_CRL_free(crl);
	crl = NULL;
	attest_err_clear(&err);
	assert_int_equal(x509_crl_load((const uint8_t *)pem, (size_t)pn - 10, &crl, "test.crl", &err),
			 ATTEST_E_PARSE);
	BIO_free(b);
	OPENSSL_free(der);
}

static void subject_and_fingerprint_describe_the_certificate(void **state)
{
	struct pki *k = *state;
	char *s = x509_subject_str(k->leaf);
	unsigned char *der = NULL;
	int n = tp_der(k->leaf, &der);
	uint8_t a[32], b[32];

	assert_string_equal(s, "CN=Test Leaf, O=attestd tests");
	assert_int_equal(x509_sha256(k->leaf, a), ATTEST_OK);
	assert_int_equal(sha256(der, (size_t)n, b), ATTEST_OK);
	assert_memory_equal(a, b, 32);
	free(s);
	OPENSSL_free(der);
}

/* ---- real vendor chains ----------------------------------------------- */

static void vpath(char *out, size_t n, const char *dir, const char *file)
{
	int k = snprintf(out, n, "%s/%s", dir, file);

	assert_true(k > 0 && (size_t)k < n);
}

static int64_t bundle_now(const char *vectors, const char *dir)
{
	char rel[1024];
	size_t n = 0;
	unsigned char *text;
	json_t *j;
	int64_t now = 0;

	vpath(rel, sizeof(rel), dir, "bundle.json");
	text = test_read_vector(vectors, rel, &n);
	assert_non_null(text);
	j = json_loadb((const char *)text, n, 0, NULL);
	assert_non_null(j);
	now = json_integer_value(json_object_get(j, "now_unix"));
	assert_true(now > 0);
	json_decref(j);
	free(text);
	return now;
}

static STACK_OF(X509) * load_pem_vector(const char *vectors, const char *rel)
{
	size_t n = 0;
	unsigned char *p = test_read_vector(vectors, rel, &n);
	STACK_OF(X509) *sk = NULL;
	struct attest_err err;

	if (p == NULL)
		return NULL;
	attest_err_clear(&err);
	assert_int_equal(x509_stack_from_pem(p, n, &sk, "vector", &err), ATTEST_OK);
	free(p);
	return sk;
}

static X509_CRL *load_crl_vector(const char *vectors, const char *rel)
{
	size_t n = 0;
	unsigned char *p = test_read_vector(vectors, rel, &n);
	X509_CRL *crl = NULL;
	struct attest_err err;

	if (p == NULL)
		return NULL;
	attest_err_clear(&err);
	assert_int_equal(x509_crl_load(p, n, &crl, "vector", &err), ATTEST_OK);
	free(p);
	return crl;
}

static STACK_OF(X509) * intel_anchor(const char *vectors)
{
	size_t n = 0;
	unsigned char *p = test_read_vector(vectors, "roots/intel_sgx_root_ca.der", &n);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x = NULL;
	struct attest_err err;

	assert_non_null(p);
	assert_int_equal(x509_from_der(p, n, &x, "vector", &err), ATTEST_OK);
	sk_X509_push(sk, x);
	free(p);
	return sk;
}

/* The PCK chain a quote carries (certification data type 5: PEM text). */
static STACK_OF(X509) * quote_pck_chain(const char *vectors, const char *dir)
{
	static const char BEGIN[] = "-----BEGIN CERTIFICATE-----", END[] = "-----END CERTIFICATE-----";
	char rel[1024];
	size_t n = 0, i, first = SIZE_MAX, last = 0;
	unsigned char *q;
	STACK_OF(X509) *sk = NULL;
	struct attest_err err;

	vpath(rel, sizeof(rel), dir, "quote.bin");
	q = test_read_vector(vectors, rel, &n);
	assert_non_null(q);
	for (i = 0; i + sizeof(END) - 1 <= n; i++) {
		if (first == SIZE_MAX && memcmp(q + i, BEGIN, sizeof(BEGIN) - 1) == 0)
			first = i;
		if (memcmp(q + i, END, sizeof(END) - 1) == 0)
			last = i + sizeof(END) - 1;
	}
	assert_true(first != SIZE_MAX && last > first);
	attest_err_clear(&err);
	assert_int_equal(x509_stack_from_pem(q + first, last - first, &sk, "vector", &err), ATTEST_OK);
	free(q);
	return sk;
}

struct intel_case {
	STACK_OF(X509) * anchors, *pck, *issuer_chain, *tcb_chain;
	X509_CRL *pck_crl, *root_crl;
	int64_t now;
};

static void intel_case_free(struct intel_case *c)
{
	sk_X509_pop_free(c->anchors, X509_free);
	sk_X509_pop_free(c->pck, X509_free);
	sk_X509_pop_free(c->issuer_chain, X509_free);
	sk_X509_pop_free(c->tcb_chain, X509_free);
	X509_CRL_free(c->pck_crl);
	X509_CRL_free(c->root_crl);
}

/* Verifies sk[0] over sk[1..] at t with the CRLs given (may be NULL). */
static int verify_stack(STACK_OF(X509) * sk, STACK_OF(X509) * anchors, int64_t t, X509_CRL *c1, X509_CRL *c2,
			bool require, struct attest_err *err)
{
	STACK_OF(X509) *rest = sk_X509_dup(sk);
	STACK_OF(X509_CRL) *crls = crls2(c1, c2);
	/* Real chains carry exactly their path (the root included). */
	struct x509_verify_opts o = {
	    .time = t, .anchors = anchors, .crls = crls, .require_crls = require, .exact_chain = true};
	X509 *leaf = sk_X509_shift(rest);
	int rc;

	attest_err_clear(err);
	rc = x509_chain_verify(leaf, rest, &o, NULL, "intel.chain", err);
	sk_X509_free(rest);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

static void check_intel_vector(const char *vectors, const char *dir)
{
	struct intel_case c = {0};
	struct attest_err err;
	char rel[1024];

	c.now = bundle_now(vectors, dir);
	c.anchors = intel_anchor(vectors);
	c.pck = quote_pck_chain(vectors, dir);
	vpath(rel, sizeof(rel), dir, "pck_crl_issuer_chain.pem");
	c.issuer_chain = load_pem_vector(vectors, rel);
	vpath(rel, sizeof(rel), dir, "tcb_info_issuer_chain.pem");
	c.tcb_chain = load_pem_vector(vectors, rel);
	vpath(rel, sizeof(rel), dir, "pck_crl.der");
	c.pck_crl = load_crl_vector(vectors, rel);
	vpath(rel, sizeof(rel), dir, "root_ca_crl.der");
	c.root_crl = load_crl_vector(vectors, rel);
	assert_non_null(c.issuer_chain);
	assert_non_null(c.tcb_chain);
	fprintf(stderr, "  %s at %lld: PCK chain of %d\n", dir, (long long)c.now, sk_X509_num(c.pck));
	if (c.pck_crl == NULL || c.root_crl == NULL) {
		/* The vector without CRLs: fine when not required, refused when required. */
		assert_int_equal(verify_stack(c.pck, c.anchors, c.now, NULL, NULL, false, &err), ATTEST_OK);
		assert_int_equal(verify_stack(c.pck, c.anchors, c.now, NULL, NULL, true, &err),
				 ATTEST_E_COLLATERAL);
		assert_string_equal(err.name, "intel.chain.crl_missing");
		intel_case_free(&c);
		return;
	}
	assert_int_equal(verify_stack(c.pck, c.anchors, c.now, c.pck_crl, c.root_crl, true, &err), ATTEST_OK);
	assert_int_equal(verify_stack(c.issuer_chain, c.anchors, c.now, c.root_crl, NULL, true, &err),
			 ATTEST_OK);
	assert_int_equal(verify_stack(c.tcb_chain, c.anchors, c.now, c.root_crl, NULL, true, &err),
			 ATTEST_OK);
	assert_int_equal(
	    x509_crl_verify(c.pck_crl, sk_X509_value(c.issuer_chain, 0), c.now, "intel.pck_crl", &err),
	    ATTEST_OK);
	/* 40 days later the PCK CRL is past its nextUpdate (issued for 30 days). */
	assert_int_equal(
	    verify_stack(c.pck, c.anchors, c.now + 40 * TP_DAY, c.pck_crl, c.root_crl, true, &err),
	    ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "intel.chain.crl_expired");
	/* In 2060 every certificate has expired (root notAfter 2049). */
	assert_int_equal(verify_stack(c.pck, c.anchors, INT64_C(2840000000), NULL, NULL, false, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "intel.chain.expired");
	/* Without the anchor there is no path. */
	sk_X509_pop_free(c.anchors, X509_free);
	c.anchors = load_pem_vector(vectors, "roots/amd_ark_milan.pem");
	assert_int_equal(verify_stack(c.pck, c.anchors, c.now, NULL, NULL, false, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "intel.chain.untrusted_root");
	intel_case_free(&c);
}

static void real_intel_chains_verify_at_their_bundle_time(void **state)
{
	REQUIRE_VECTORS(vectors);
	const char *kinds[] = {"sgx", "tdx"};
	int seen = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		char path[1024];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/%s", vectors, kinds[i]);
		d = opendir(path);
		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			char rel[1024];
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			snprintf(rel, sizeof(rel), "%s/%s/%s", vectors, kinds[i], e->d_name);
			if (stat(rel, &st) != 0 || !S_ISDIR(st.st_mode))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", kinds[i], e->d_name);
			check_intel_vector(vectors, rel);
			seen++;
		}
		closedir(d);
	}
	assert_true(seen >= 8);
}

static void check_amd_vector(const char *vectors, const char *dir)
{
	char rel[1024];
	size_t n = 0;
	unsigned char *p, *report;
	X509 *vcek = NULL;
	STACK_OF(X509) * ask_ark, *anchors = load_pem_vector(vectors, "roots/amd_ark_milan.pem");
	struct x509_verify_opts o = {.anchors = anchors};
	struct attest_err err;
	int64_t now = bundle_now(vectors, dir);

	vpath(rel, sizeof(rel), dir, "vcek.der");
	p = test_read_vector(vectors, rel, &n);
	if (p != NULL) {
		assert_int_equal(x509_from_der(p, n, &vcek, "vector", &err), ATTEST_OK);
	} else {
		STACK_OF(X509) * one;

		vpath(rel, sizeof(rel), dir, "vcek.pem");
		one = load_pem_vector(vectors, rel);
		assert_non_null(one);
		vcek = sk_X509_shift(one);
		sk_X509_pop_free(one, X509_free);
	}
	free(p);
	vpath(rel, sizeof(rel), dir, "ask_ark_milan.pem");
	ask_ark = load_pem_vector(vectors, rel);
	assert_non_null(ask_ark);
	o.time = now;
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(vcek, ask_ark, &o, NULL, "snp.vcek", &err), ATTEST_OK);
	/* The report's signature (SNP ABI: bytes 0..0x29F, r and s at 0x2A0, 72 bytes each, LE). */
	vpath(rel, sizeof(rel), dir, "report.bin");
	report = test_read_vector(vectors, rel, &n);
	assert_non_null(report);
	assert_true(n >= 0x2A0 + 144);
	assert_int_equal(ecdsa_verify_rs_le(X509_get0_pubkey(vcek), HASH_SHA384, report, 0x2A0,
					    report + 0x2A0, report + 0x2A0 + 72, 72, "snp.report.signature",
					    &err),
			 ATTEST_OK);
	report[0x50] ^= 1; /* report_data */
	assert_int_equal(ecdsa_verify_rs_le(X509_get0_pubkey(vcek), HASH_SHA384, report, 0x2A0,
					    report + 0x2A0, report + 0x2A0 + 72, 72, "snp.report.signature",
					    &err),
			 ATTEST_E_VERIFY);
	/* Against the Intel root, the AMD chain has no anchor. */
	sk_X509_pop_free(anchors, X509_free);
	anchors = intel_anchor(vectors);
	o.anchors = anchors;
	attest_err_clear(&err);
	assert_int_equal(x509_chain_verify(vcek, ask_ark, &o, NULL, "snp.vcek", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.untrusted_root");
	free(report);
	X509_free(vcek);
	sk_X509_pop_free(ask_ark, X509_free);
	sk_X509_pop_free(anchors, X509_free);
}

static void real_amd_rsa_pss_chains_and_reports_verify(void **state)
{
	REQUIRE_VECTORS(vectors);
	check_amd_vector(vectors, "snp/gsg-milan-v2-2022-09");
	check_amd_vector(vectors, "snp/teekit-gcp-milan-v5-reportdata-2025-12");
	check_amd_vector(vectors, "snp/teekit-gcp-milan-v5-x25519-2025-12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(digests_match_the_fips_180_examples),
	    cmocka_unit_test(incremental_digest_equals_one_shot),
	    cmocka_unit_test(memeq_compares_all_bytes),
	    cmocka_unit_test(ec_pubkey_from_xy_accepts_a_curve_point),
	    cmocka_unit_test(ec_pubkey_from_xy_refuses_a_point_off_the_curve),
	    cmocka_unit_test(ecdsa_direct_and_evp_routes_agree),
	    cmocka_unit_test(ecdsa_direct_route_refuses_out_of_range_r),
	    cmocka_unit_test(ecdsa_rs_be_verifies_and_refuses_any_flipped_bit),
	    cmocka_unit_test(ecdsa_rs_le_verifies_zero_extended_p384_fields),
	    cmocka_unit_test(ecdsa_refuses_an_rsa_key),
	    cmocka_unit_test(rsa_pkcs1_and_pss_verify_and_refuse_tampering),
	    cmocka_unit_test(rsa_pss_refuses_another_mgf1_digest),
	    cmocka_unit_test(rsa_pss_keys_verify_only_with_mgf1_of_the_message_digest),
	    cmocka_unit_test(rsa_refuses_an_ec_key),
	    cmocka_unit_test(real_intel_chains_verify_at_their_bundle_time),
	    cmocka_unit_test(real_amd_rsa_pss_chains_and_reports_verify),
	};
	const struct CMUnitTest pki_tests[] = {
	    cmocka_unit_test(chain_verifies_leaf_to_anchor_with_every_crl),
	    cmocka_unit_test(chain_refuses_an_expired_leaf_naming_it),
	    cmocka_unit_test(chain_refuses_a_leaf_not_yet_valid),
	    cmocka_unit_test(chain_refuses_a_leaf_revoked_by_crl),
	    cmocka_unit_test(chain_requires_a_crl_for_every_ca_when_asked),
	    cmocka_unit_test(root_crl_revokes_an_intermediate_but_not_the_anchor),
	    cmocka_unit_test(chain_refuses_an_expired_crl),
	    cmocka_unit_test(chain_refuses_a_crl_with_a_bad_signature),
	    cmocka_unit_test(chain_refuses_a_wrong_root),
	    cmocka_unit_test(chain_refuses_a_self_signed_root_that_is_not_an_anchor),
	    cmocka_unit_test(chain_refuses_a_certificate_with_a_bad_signature),
	    cmocka_unit_test(chain_matches_the_anchor_by_subject_and_key),
	    cmocka_unit_test(mutation_sweep_over_a_certificate),
	    cmocka_unit_test(chain_refuses_a_leaf_acting_as_a_ca),
	    cmocka_unit_test(exact_chain_refuses_a_corrupted_carried_root),
	    cmocka_unit_test(chain_without_anchors_is_refused),
	    cmocka_unit_test(chain_longer_than_max_depth_is_refused),
	    cmocka_unit_test(crl_verify_checks_issuer_signature_and_time),
	    cmocka_unit_test(pem_stack_loads_every_certificate_in_order),
	    cmocka_unit_test(pem_stack_refuses_text_that_is_not_certificates),
	    cmocka_unit_test(der_certificate_with_trailing_bytes_is_refused),
	    cmocka_unit_test(crl_loads_from_der_and_pem),
	    cmocka_unit_test(subject_and_fingerprint_describe_the_certificate),
	};
	int failed = cmocka_run_group_tests_name("crypto primitives", tests, NULL, NULL);

	failed += cmocka_run_group_tests_name("X.509 chains (test PKI)", pki_tests, pki_setup, pki_teardown);
	return failed;
}
