/*
 * Raw signature verification (crypto.h): ECDSA in the encodings hardware
 * uses (Intel: big-endian r || s; AMD SEV-SNP: little-endian r and s in
 * zero-extended fixed-width fields, SEV-SNP ABI spec 56860 table 140
 * "ECDSA P-384 with SHA-384 signature"), DER ECDSA, and RSA PKCS#1 v1.5
 * and PSS.
 *
 * EC keys made here from raw points (ec_pubkey_from_xy) are EC_KEYs on a
 * group made once per process, and their signatures are checked with
 * ECDSA_do_verify: OpenSSL 3.0's provider route costs ~31 us to import a
 * P-256 point (EVP_PKEY_fromdata builds the group from its name each time)
 * and ~10 us of fetches and DER re-encoding per verification, beside ~82 us
 * for the verification itself; a cold Intel quote makes ten of these. The
 * EC_KEY interface is deprecated in 3.0 but present in every 3.x, and it
 * runs the same constant-time arithmetic the provider does. Every other
 * key (from certificates, JWKs of other types) goes through EVP.
 */
#define OPENSSL_API_COMPAT 0x10100000L /* the EC_KEY interface, see above */

#include "crypto/crypto.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <limits.h>
#include <pthread.h>
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

/* The curves' groups, made once per process and only read afterwards. */
static pthread_once_t group_once = PTHREAD_ONCE_INIT;
static EC_GROUP *groups[EC_P384 + 1];

static void groups_make(void)
{
	groups[EC_P256] = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	groups[EC_P384] = EC_GROUP_new_by_curve_name(NID_secp384r1);
}

static const EC_GROUP *curve_group(enum ec_curve curve)
{
	pthread_once(&group_once, groups_make);
	return groups[curve];
}

/*
 * An EVP_PKEY around an EC_KEY holding the SEC 1 uncompressed point.
 * Returns ATTEST_OK, ATTEST_E_VERIFY when the point is not on the curve
 * (EC_POINT_oct2point checks it), or ATTEST_E_NOMEM.
 */
static int ec_key_from_point(const EC_GROUP *group, const uint8_t *point, size_t len, EVP_PKEY **out)
{
	EC_KEY *ec = EC_KEY_new();
	EC_POINT *p = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = ATTEST_E_NOMEM;

	if (ec == NULL || EC_KEY_set_group(ec, group) != 1 || (p = EC_POINT_new(group)) == NULL)
		goto out;
	if (EC_POINT_oct2point(group, p, point, len, NULL) != 1) {
		rc = ATTEST_E_VERIFY;
		goto out;
	}
	if (EC_KEY_set_public_key(ec, p) != 1 || (pkey = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign_EC_KEY(pkey, ec) != 1)
		goto out;
	ec = NULL; /* now pkey's */
	*out = pkey;
	pkey = NULL;
	rc = ATTEST_OK;
out:
	EC_POINT_free(p);
	EC_KEY_free(ec);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

int ec_pubkey_from_xy(enum ec_curve curve, const uint8_t *xy, size_t len, EVP_PKEY **out, const char *code,
		      struct attest_err *err)
{
	uint8_t point[1 + 2 * 48];
	size_t coord = 0;
	const char *name = curve_name(curve, &coord);
	const EC_GROUP *group;
	int rc;

	if (name == NULL || xy == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "ec_pubkey_from_xy: bad argument");
	if (len != 2 * coord)
		return attest_err_set(err, ATTEST_E_PARSE, code,
				      "%s: EC public key is %zu bytes, %s wants %zu", code, len, name,
				      2 * coord);
	if ((group = curve_group(curve)) == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal", "curve %s unavailable",
				      name);
	/* SEC 1 §2.3.3: an uncompressed point is 0x04 || X || Y. */
	point[0] = 0x04;
	memcpy(point + 1, xy, len);
	rc = ec_key_from_point(group, point, 1 + len, out);
	if (rc == ATTEST_E_VERIFY) {
		char key_code[ATTEST_ERR_NAME_MAX];

		snprintf(key_code, sizeof(key_code), "%s.key", code);
		return attest_err_set(err, ATTEST_E_VERIFY, key_code,
				      "%s: the public key is not a point on %s", code, name);
	}
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, "crypto.nomem", "out of memory");
	return ATTEST_OK;
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
	/*
	 * PSS's MGF1 digest must be the message digest (RFC 8017 §9.1
	 * recommends it; RFC 7518 §3.5 requires it for PS256). A plain RSA key
	 * defaults to it, and setting it again is a provider parameter round
	 * trip (~2 us); a restricted RSA-PSS key defaults to its own MGF1
	 * digest instead, so there it is set, and a key that fixes another
	 * one refuses.
	 */
	if (pad != 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, pad) != 1 ||
	     (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA &&
	      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, h) != 1) ||
	     (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len) != 1))) {
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

bool crypto_key_is(EVP_PKEY *key, int id, const char *name)
{
	return key != NULL && (EVP_PKEY_get_base_id(key) == id || EVP_PKEY_is_a(key, name));
}

/* Field width in bytes of an EC key's curve (32 for P-256, 48 for P-384). */
static size_t ec_field_len(EVP_PKEY *key)
{
	return (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;
}

/*
 * The EC_KEY of a key ec_pubkey_from_xy made (no provider behind it), or
 * NULL for a provider key, which keeps the EVP route: asking a provider
 * key for its EC_KEY would export a copy.
 */
static const EC_KEY *direct_ec_key(EVP_PKEY *key)
{
	if (EVP_PKEY_get0_provider(key) != NULL)
		return NULL;
	return EVP_PKEY_get0_EC_KEY(key);
}

/* ECDSA_do_verify over the digest of msg; sig is consumed. */
static int direct_verify(const EC_KEY *ec, enum hash_alg alg, const void *msg, size_t msglen, ECDSA_SIG *sig,
			 const char *code, struct attest_err *err)
{
	uint8_t dgst[64];
	int ok;

	if (hash_digest(alg, msg, msglen, dgst) != ATTEST_OK) {
		ECDSA_SIG_free(sig);
		return attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal", "digest unavailable");
	}
	/* 1 verifies; 0 does not; -1 is a malformed signature or key: all but 1 refuse. */
	ok = ECDSA_do_verify(dgst, (int)hash_len(alg), sig, (EC_KEY *)ec);
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	if (ok != 1)
		return sig_err(err, ATTEST_E_VERIFY, code, "", "the signature does not verify");
	return ATTEST_OK;
}

/* An ECDSA_SIG from big-endian r and s, or NULL (out of memory). */
static ECDSA_SIG *ecdsa_sig_from_rs(const uint8_t *r, const uint8_t *s, size_t rlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, (int)rlen, NULL), *bs = BN_bin2bn(s, (int)rlen, NULL);

	if (es == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(es, br, bs) != 1) {
		ECDSA_SIG_free(es);
		BN_free(br);
		BN_free(bs);
		return NULL;
	}
	return es; /* br and bs are es's */
}

/* Checks big-endian r || s (flen bytes each) under key, by the direct route where it can. */
static int verify_rs(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *r,
		     const uint8_t *s, size_t flen, const char *code, struct attest_err *err)
{
	const EC_KEY *ec = direct_ec_key(key);
	ECDSA_SIG *es;
	unsigned char *der = NULL;
	int n, rc;

	if ((es = ecdsa_sig_from_rs(r, s, flen)) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	if (ec != NULL)
		return direct_verify(ec, alg, msg, msglen, es, code, err);
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	rc = evp_verify(key, alg, msg, msglen, der, (size_t)n, 0, 0, code, err);
	OPENSSL_free(der);
	return rc;
}

int ecdsa_verify_rs_be(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		       size_t siglen, const char *code, struct attest_err *err)
{
	size_t flen;

	if (!crypto_key_is(key, EVP_PKEY_EC, "EC") || sig == NULL)
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "ECDSA check with a key that is not EC");
	flen = ec_field_len(key);
	if (siglen != 2 * flen)
		return sig_err(err, ATTEST_E_PARSE, code, ".encoding",
			       "raw ECDSA signature length does not match the curve (r || s)");
	return verify_rs(key, alg, msg, msglen, sig, sig + flen, flen, code, err);
}

int ecdsa_verify_rs_le(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *r_le,
		       const uint8_t *s_le, size_t component_len, const char *code, struct attest_err *err)
{
	uint8_t r[ECDSA_COMPONENT_MAX], s[ECDSA_COMPONENT_MAX];
	size_t flen, i;

	if (!crypto_key_is(key, EVP_PKEY_EC, "EC") || r_le == NULL || s_le == NULL)
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
	return verify_rs(key, alg, msg, msglen, r, s, flen, code, err);
}

int ecdsa_verify_der(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err)
{
	const EC_KEY *ec;
	const unsigned char *p = sig;
	unsigned char *der = NULL;
	ECDSA_SIG *es;
	int n;

	if (!crypto_key_is(key, EVP_PKEY_EC, "EC") || sig == NULL)
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "ECDSA check with a key that is not EC");
	/* OpenSSL re-encodes the parsed signature and refuses non-canonical DER. */
	if ((ec = direct_ec_key(key)) == NULL)
		return evp_verify(key, alg, msg, msglen, sig, siglen, 0, 0, code, err);
	/* The same rule on the direct route: the signature must be its own DER re-encoding. */
	es = siglen <= LONG_MAX ? d2i_ECDSA_SIG(NULL, &p, (long)siglen) : NULL;
	n = es != NULL ? i2d_ECDSA_SIG(es, &der) : -1;
	if (es == NULL || p != sig + siglen || n < 0 || (size_t)n != siglen ||
	    memcmp(der, sig, siglen) != 0) {
		OPENSSL_free(der);
		ECDSA_SIG_free(es);
		ERR_clear_error();
		return sig_err(err, ATTEST_E_VERIFY, code, "", "the signature does not verify (not DER)");
	}
	OPENSSL_free(der);
	return direct_verify(ec, alg, msg, msglen, es, code, err);
}

int rsa_verify_pkcs1(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		     size_t siglen, const char *code, struct attest_err *err)
{
	if (!crypto_key_is(key, EVP_PKEY_RSA, "RSA"))
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "RSA check with a key that is not RSA");
	return evp_verify(key, alg, msg, msglen, sig, siglen, RSA_PKCS1_PADDING, 0, code, err);
}

int rsa_verify_pss(EVP_PKEY *key, enum hash_alg alg, const void *msg, size_t msglen, const uint8_t *sig,
		   size_t siglen, int salt_len, const char *code, struct attest_err *err)
{
	/* A key restricted to PSS ("RSA-PSS" type) is as good as a plain RSA key here. */
	if (!crypto_key_is(key, EVP_PKEY_RSA, "RSA") && !crypto_key_is(key, EVP_PKEY_RSA_PSS, "RSA-PSS"))
		return sig_err(err, ATTEST_E_INVALID, code, ".key", "RSA check with a key that is not RSA");
	if (salt_len < -2)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "rsa_verify_pss: bad salt length");
	return evp_verify(key, alg, msg, msglen, sig, siglen, RSA_PKCS1_PSS_PADDING, salt_len, code, err);
}
