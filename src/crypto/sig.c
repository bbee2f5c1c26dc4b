/*
 * Raw signature verification (crypto.h): ECDSA in the encodings hardware
 * uses (Intel: big-endian r || s; AMD SEV-SNP: little-endian r and s in
 * zero-extended fixed-width fields, SEV-SNP ABI spec 56860 table 140
 * "ECDSA P-384 with SHA-384 signature"), DER ECDSA, and RSA PKCS#1 v1.5
 * and PSS. Raw forms are converted to DER and checked through EVP, so one
 * verification path serves all encodings.
 */
#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest ECDSA component we accept (P-521 would be 66; SNP fields are 72). */
#define ECDSA_COMPONENT_MAX 72

static const char *curve_name(enum ec_curve curve, size_t *coord_len)
{
	switch (curve) {
	case EC_P256:
		*coord_len = 32;
		return SN_X9_62_prime256v1;
	case EC_P384:
		*coord_len = 48;
		return SN_secp384r1;
	}
	return NULL;
}

int ec_pubkey_from_xy(enum ec_curve curve, const uint8_t *xy, size_t len, EVP_PKEY **out, const char *code,
		      struct attest_err *err)
{
	uint8_t point[1 + 2 * 48];
	size_t coord = 0;
	const char *group = curve_name(curve, &coord);
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	int rc;

	if (group == NULL || xy == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "ec_pubkey_from_xy: bad argument");
	if (len != 2 * coord)
		return attest_err_set(err, ATTEST_E_PARSE, code,
				      "%s: EC public key is %zu bytes, %s wants %zu", code, len, group,
				      2 * coord);
	/* SEC 1 §2.3.3: an uncompressed point is 0x04 || X || Y. */
	point[0] = 0x04;
	memcpy(point + 1, xy, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + len);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal", "EC key context unavailable");
		goto out;
	}
	/* Decoding the point checks that it lies on the curve. */
	if (EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		char name[ATTEST_ERR_NAME_MAX];

		snprintf(name, sizeof(name), "%s.key", code);
		rc = attest_err_set(err, ATTEST_E_VERIFY, name, "%s: the public key is not a point on %s",
				    code, group);
		goto out;
	}
	*out = pkey;
	pkey = NULL; /* transferred */
	rc = ATTEST_OK;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

/* Sets "<code><suffix>" as the error name. */
static int sig_err(struct attest_err *err, int rc, const char *code, const char *suffix, const char *what)
{
	char name[ATTEST_ERR_NAME_MAX];

	snprintf(name, sizeof(name), "%s%s", code ? code : "crypto.signature", suffix);
	return attest_err_set(err, rc, name, "%s: %s", code ? code : "signature", what);
}

/*
 * The one verification path: hash msg with alg and check sig under key,
 * with RSA padding `pad` (0 for EC keys) and PSS salt length.
 */
static int evp_verify(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		      size_t siglen, int pad, int salt_len, const char *code, struct attest_err *err)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *h = hash_md(alg);
	int rc, ok;

	if (key == NULL || h == NULL || (msg == NULL && msglen > 0) || sig == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "signature check: bad argument");
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	if (EVP_DigestVerifyInit(md, &pctx, h, NULL, key) != 1) {
		rc = sig_err(err, ATTEST_E_INVALID, code, ".key", "the key cannot verify with this digest");
		goto out;
	}
	if (pad != 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, pad) != 1 ||
	     (pad == RSA_PKCS1_PSS_PADDING && (EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, h) != 1 ||
					       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len) != 1)))) {
		rc =
		    sig_err(err, ATTEST_E_INVALID, code, ".key", "the key does not support this RSA padding");
		goto out;
	}
	ok = EVP_DigestVerify(md, sig, siglen, msg ? msg : (const void *)"", msglen);
	if (ok != 1) {
		rc = sig_err(err, ATTEST_E_VERIFY, code, "", "the signature does not verify");
		goto out;
	}
	rc = ATTEST_OK;
out:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

static bool key_is(EVP_PKEY *key, const char *type)
{
	return key != NULL && EVP_PKEY_is_a(key, type);
}

/* Field width in bytes of an EC key's curve (32 for P-256, 48 for P-384). */
static size_t ec_field_len(EVP_PKEY *key)
{
	return (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;
}

/* DER-encodes r and s (big-endian, rlen bytes each) into *der (caller frees). */
static int ecdsa_rs_to_der(const uint8_t *r, const uint8_t *s, size_t rlen, uint8_t **der, size_t *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, (int)rlen, NULL), *bs = BN_bin2bn(s, (int)rlen, NULL);
	unsigned char *p = NULL;
	int n;

	if (es == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(es, br, bs) != 1) {
		ECDSA_SIG_free(es);
		BN_free(br);
		BN_free(bs);
		return ATTEST_E_NOMEM;
	}
	/* br and bs now belong to es */
	n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return ATTEST_E_NOMEM;
	*der = p;
	*derlen = (size_t)n;
	return ATTEST_OK;
}

int ecdsa_verify_rs_be(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		       size_t siglen, const char *code, struct attest_err *err)
{
	uint8_t *der = NULL;
	size_t derlen = 0, flen;
	int rc;

	if (!key_is(key, "EC") || sig == NULL)
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "ECDSA check with a key that is not EC");
	flen = ec_field_len(key);
	if (siglen != 2 * flen)
		return sig_err(err, ATTEST_E_PARSE, code, ".encoding",
			       "raw ECDSA signature length does not match the curve (r || s)");
	if (ecdsa_rs_to_der(sig, sig + flen, flen, &der, &derlen) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	rc = evp_verify(key, alg, msg, msglen, der, derlen, 0, 0, code, err);
	OPENSSL_free(der);
	return rc;
}

int ecdsa_verify_rs_le(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *r_le,
		       const uint8_t *s_le, size_t component_len, const char *code, struct attest_err *err)
{
	uint8_t r[ECDSA_COMPONENT_MAX], s[ECDSA_COMPONENT_MAX];
	uint8_t *der = NULL;
	size_t derlen = 0, flen, i;
	int rc;

	if (!key_is(key, "EC") || r_le == NULL || s_le == NULL)
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "ECDSA check with a key that is not EC");
	flen = ec_field_len(key);
	if (component_len < flen || component_len > ECDSA_COMPONENT_MAX)
		return sig_err(err, ATTEST_E_PARSE, code, ".encoding",
			       "little-endian ECDSA component width does not fit the curve");
	/* The fields are zero-extended: bytes beyond the curve's width must be zero. */
	for (i = flen; i < component_len; i++) {
		if (r_le[i] != 0 || s_le[i] != 0)
			return sig_err(
			    err, ATTEST_E_PARSE, code, ".encoding",
			    "little-endian ECDSA component has non-zero bytes above the curve's width");
	}
	for (i = 0; i < flen; i++) {
		r[i] = r_le[flen - 1 - i];
		s[i] = s_le[flen - 1 - i];
	}
	if (ecdsa_rs_to_der(r, s, flen, &der, &derlen) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	rc = evp_verify(key, alg, msg, msglen, der, derlen, 0, 0, code, err);
	OPENSSL_free(der);
	return rc;
}

int ecdsa_verify_der(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err)
{
	if (!key_is(key, "EC"))
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "ECDSA check with a key that is not EC");
	/* OpenSSL re-encodes the parsed signature and refuses non-canonical DER. */
	return evp_verify(key, alg, msg, msglen, sig, siglen, 0, 0, code, err);
}

int rsa_verify_pkcs1(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err)
{
	if (!key_is(key, "RSA"))
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "RSA check with a key that is not RSA");
	return evp_verify(key, alg, msg, msglen, sig, siglen, RSA_PKCS1_PADDING, 0, code, err);
}

int rsa_verify_pss(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		   size_t siglen, int salt_len, const char *code, struct attest_err *err)
{
	/* A key restricted to PSS ("RSA-PSS" type) is as good as a plain RSA key here. */
	if (!key_is(key, "RSA") && !key_is(key, "RSA-PSS"))
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "RSA check with a key that is not RSA");
	if (salt_len < -2)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "rsa_verify_pss: bad salt length");
	return evp_verify(key, alg, msg, msglen, sig, siglen, RSA_PKCS1_PSS_PADDING, salt_len, code, err);
}
