/*
 * X.509 loading and chain verification (crypto.h).
 *
 * Chains are verified by OpenSSL's X509_verify_cert with the check time set
 * explicitly (X509_V_FLAG_USE_CHECK_TIME through X509_VERIFY_PARAM_set_time),
 * so evidence captured years ago verifies at the time its collateral was
 * valid. Anchors go into a fresh X509_STORE per call with
 * X509_V_FLAG_PARTIAL_CHAIN and TRUSTED_FIRST: an issuer is looked up among
 * the anchors by subject name (and key identifier) first, and its signature
 * is then checked with the anchor's key, so a chain that carries another
 * certificate of the same root key (Intel's root exists as two) ends at the
 * anchor. A self-signed certificate in the chain with an anchor's subject
 * and key is added to the store as well, so it is trusted where OpenSSL
 * would otherwise only accept a byte-identical anchor. Revocation is
 * checked for every certificate below the anchor (RFC 5280 §6.1), not for
 * the anchor itself. CRLs are applied with CRL_CHECK | CRL_CHECK_ALL; when
 * the caller does not require them, a CA without a CRL is tolerated by the verify callback but a CRL that is
 * present is always enforced.
 */
#include "crypto/crypto.h"

#include "base/codec.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define X509_DEFAULT_DEPTH 6
/* Named maxima (BearSSL): no vendor chain comes close. */
#define X509_PEM_MAX_CERTS 16
#define X509_DER_MAX	   (64u * 1024)
#define X509_CRL_MAX	   (8u * 1024 * 1024)

static const char PEM_CERT_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_CERT_END[] = "-----END CERTIFICATE-----";
static const char PEM_CRL_BEGIN[] = "-----BEGIN X509 CRL-----";
static const char PEM_CRL_END[] = "-----END X509 CRL-----";

static int name_err(struct attest_err *err, int rc, const char *code, const char *suffix, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));

/* Sets "<code><suffix>" with the message "<code>: <fmt...>". */
static int name_err(struct attest_err *err, int rc, const char *code, const char *suffix, const char *fmt,
		    ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	snprintf(name, sizeof(name), "%s%s", code ? code : "x509", suffix);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return attest_err_set(err, rc, name, "%s: %s", code ? code : "x509", msg);
}

int x509_from_der(const uint8_t *der, size_t len, X509 **out, const char *code, struct attest_err *err)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "x509_from_der: bad argument");
	if (len == 0 || len > X509_DER_MAX)
		return name_err(err, ATTEST_E_PARSE, code, ".parse", "certificate is empty or too large");
	x = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	if (x == NULL)
		return name_err(err, ATTEST_E_PARSE, code, ".parse", "certificate is not valid DER");
	/* One certificate and nothing after it. */
	if ((size_t)(p - der) != len) {
		X509_free(x);
		return name_err(err, ATTEST_E_PARSE, code, ".parse", "trailing bytes after the certificate");
	}
	*out = x;
	return ATTEST_OK;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds needle in [p, p+n); returns its offset or n when absent. */
static size_t find(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	if (k > n)
		return n;
	for (i = 0; i + k <= n; i++) {
		if (memcmp(p + i, needle, k) == 0)
			return i;
	}
	return n;
}

/*
 * Decodes the base64 body of one PEM block (RFC 7468 §3: base64 text with
 * line breaks; we ignore all whitespace in it) into *der (caller frees).
 */
static int pem_body_decode(const uint8_t *body, size_t n, uint8_t **der, size_t *derlen)
{
	char *text = malloc(n + 1);
	size_t i, k = 0;
	int rc;

	if (text == NULL)
		return ATTEST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (!is_space(body[i]))
			text[k++] = (char)body[i];
	}
	text[k] = '\0';
	rc = k == 0 ? ATTEST_E_PARSE : b64_decode(text, k, der, derlen);
	free(text);
	return rc;
}

/*
 * Takes the next PEM block with the given markers from [*pos, len): on
 * success *der holds its decoded body and *pos is past the END line.
 */
static int pem_next_block(const uint8_t *p, size_t len, size_t *pos, const char *begin, const char *end,
			  uint8_t **der, size_t *derlen)
{
	size_t i = *pos, blen = strlen(begin), elen = strlen(end), e;
	int rc;

	if (len - i < blen || memcmp(p + i, begin, blen) != 0)
		return ATTEST_E_PARSE;
	i += blen;
	e = find(p + i, len - i, end);
	if (e == len - i)
		return ATTEST_E_PARSE;
	rc = pem_body_decode(p + i, e, der, derlen);
	if (rc != ATTEST_OK)
		return rc;
	*pos = i + e + elen;
	return ATTEST_OK;
}

/* Skips whitespace; true when only whitespace or trailing NULs remain. */
static bool pem_skip(const uint8_t *p, size_t len, size_t *pos)
{
	size_t i = *pos;

	while (i < len && is_space(p[i]))
		i++;
	*pos = i;
	/* Intel's PCK chain in a quote's certification data ends with a NUL. */
	while (i < len && p[i] == 0)
		i++;
	return i == len;
}

int x509_stack_from_pem(const uint8_t *pem, size_t len, STACK_OF(X509) * *out, const char *code,
			struct attest_err *err)
{
	STACK_OF(X509) *sk = NULL;
	size_t pos = 0;
	int rc = ATTEST_OK;

	if (pem == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_stack_from_pem: bad argument");
	sk = sk_X509_new_null();
	if (sk == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
	while (!pem_skip(pem, len, &pos)) {
		uint8_t *der = NULL;
		size_t derlen = 0;
		X509 *x = NULL;
		size_t at = pos;

		if (sk_X509_num(sk) >= X509_PEM_MAX_CERTS) {
			rc =
			    name_err(err, ATTEST_E_PARSE, code, ".parse", "more than 16 certificates in PEM");
			goto out;
		}
		rc = pem_next_block(pem, len, &pos, PEM_CERT_BEGIN, PEM_CERT_END, &der, &derlen);
		if (rc != ATTEST_OK) {
			rc = name_err(err, rc == ATTEST_E_NOMEM ? rc : ATTEST_E_PARSE, code, ".parse",
				      "expected a PEM certificate block");
			attest_err_where(err, "PEM+%zu", at);
			goto out;
		}
		rc = x509_from_der(der, derlen, &x, code, err);
		free(der);
		if (rc != ATTEST_OK) {
			attest_err_where(err, "PEM certificate %d", sk_X509_num(sk) + 1);
			goto out;
		}
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			rc = attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
			goto out;
		}
	}
	if (sk_X509_num(sk) == 0) {
		rc = name_err(err, ATTEST_E_PARSE, code, ".parse", "no certificate in PEM text");
		goto out;
	}
	*out = sk;
	sk = NULL; /* transferred */
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int x509_crl_load(const uint8_t *p, size_t len, X509_CRL **out, const char *code, struct attest_err *err)
{
	uint8_t *der = NULL;
	const uint8_t *src = p;
	const unsigned char *q;
	size_t derlen = len, pos = 0;
	X509_CRL *crl;
	int rc;

	if (p == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid", "x509_crl_load: bad argument");
	/* Sniff: PEM starts (after whitespace) with its BEGIN line, DER with a SEQUENCE tag. */
	pem_skip(p, len, &pos);
	if (len - pos >= strlen(PEM_CRL_BEGIN) &&
	    memcmp(p + pos, PEM_CRL_BEGIN, strlen(PEM_CRL_BEGIN)) == 0) {
		rc = pem_next_block(p, len, &pos, PEM_CRL_BEGIN, PEM_CRL_END, &der, &derlen);
		if (rc != ATTEST_OK || !pem_skip(p, len, &pos)) {
			free(der);
			return name_err(err, ATTEST_E_PARSE, code, ".parse", "malformed PEM CRL");
		}
		src = der;
	}
	if (derlen == 0 || derlen > X509_CRL_MAX) {
		free(der);
		return name_err(err, ATTEST_E_PARSE, code, ".parse", "CRL is empty or too large");
	}
	q = src;
	crl = d2i_X509_CRL(NULL, &q, (long)derlen);
	ERR_clear_error();
	rc = ATTEST_OK;
	if (crl == NULL)
		rc = name_err(err, ATTEST_E_PARSE, code, ".parse", "CRL is not valid DER");
	else if ((size_t)(q - src) != derlen)
		rc = name_err(err, ATTEST_E_PARSE, code, ".parse", "trailing bytes after the CRL");
	free(der);
	if (rc != ATTEST_OK) {
		X509_CRL_free(crl);
		return rc;
	}
	*out = crl;
	return ATTEST_OK;
}

char *x509_subject_str(X509 *cert)
{
	BIO *bio;
	char *s = NULL;
	long n;
	char *data = NULL;

	if (cert == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return NULL;
	/* "CN=Intel SGX Root CA, O=Intel Corporation, ..." in certificate order. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
			       (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB) |
				   ASN1_STRFLGS_UTF8_CONVERT) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		s = malloc((size_t)(n > 0 ? n : 0) + 1);
		if (s != NULL) {
			if (n > 0)
				memcpy(s, data, (size_t)n);
			s[n > 0 ? n : 0] = '\0';
		}
	}
	BIO_free(bio);
	return s;
}

int64_t x509_time_unix(const ASN1_TIME *t, int64_t dflt)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return dflt;
	return (int64_t)timegm(&tm);
}

int x509_sha256(X509 *cert, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n, rc;

	if (cert == NULL || out == NULL)
		return ATTEST_E_INVALID;
	n = i2d_X509(cert, &der);
	if (n <= 0)
		return ATTEST_E_INTERNAL;
	rc = sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

/* What the verify callback and the CRL hooks need (X509_STORE_CTX app data). */
struct chain_state {
	bool require_crls;
	X509_STORE_CTX_check_crl_fn default_check_crl; /* OpenSSL's own, read from a context */
	X509_STORE_CTX_cert_crl_fn default_cert_crl;
};

/* Is x the top of the chain being verified (the trust anchor)? */
static bool at_anchor(X509_STORE_CTX *ctx, const X509 *x)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = sk_X509_num(chain);

	return x != NULL && n > 0 && sk_X509_value(chain, n - 1) == x;
}

/*
 * CRL checks apply below the anchor only. RFC 5280 §6.1 validates
 * certificates 1..n under the trust anchor; with CRL_CHECK_ALL OpenSSL
 * would also check the root against its own CRL, verifying that CRL's
 * signature a second time per chain (it was verified for the certificate
 * below) for nothing.
 */
static int check_crl_below_anchor(X509_STORE_CTX *ctx, X509_CRL *crl)
{
	const struct chain_state *st = X509_STORE_CTX_get_app_data(ctx);

	if (at_anchor(ctx, X509_STORE_CTX_get_current_cert(ctx)))
		return 1;
	return st->default_check_crl(ctx, crl);
}

static int cert_crl_below_anchor(X509_STORE_CTX *ctx, X509_CRL *crl, X509 *x)
{
	const struct chain_state *st = X509_STORE_CTX_get_app_data(ctx);

	if (at_anchor(ctx, x))
		return 1;
	return st->default_cert_crl(ctx, crl, x);
}

/*
 * Tolerates "no CRL" for the trust anchor, and for any CA when the caller
 * did not require CRLs; every other failure stops verification with the
 * context's error set.
 */
static int chain_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct chain_state *st = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && st != NULL && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL &&
	    (!st->require_crls || at_anchor(ctx, X509_STORE_CTX_get_current_cert(ctx))))
		return 1;
	return ok;
}

struct chain_error_map {
	int verr;
	int rc;
	const char *suffix;
	const char *what;
};

/* OpenSSL's verify errors onto the contract's names (crypto.h). */
static const struct chain_error_map CHAIN_ERRORS[] = {
    {X509_V_ERR_CERT_HAS_EXPIRED, ATTEST_E_VERIFY, ".expired", "has expired"},
    {X509_V_ERR_CERT_NOT_YET_VALID, ATTEST_E_VERIFY, ".not_yet_valid", "is not yet valid"},
    {X509_V_ERR_CERT_REVOKED, ATTEST_E_VERIFY, ".revoked", "is revoked"},
    {X509_V_ERR_CERT_SIGNATURE_FAILURE, ATTEST_E_VERIFY, ".signature",
     "has a signature that does not verify"},
    {X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, ATTEST_E_VERIFY, ".signature",
     "has a signature that cannot be decoded"},
    {X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, ATTEST_E_VERIFY, ".signature",
     "has an issuer whose public key cannot be decoded"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, ATTEST_E_VERIFY, ".untrusted_root",
     "has no issuer among the anchors"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ATTEST_E_VERIFY, ".untrusted_root",
     "has no issuer among the chain and the anchors"},
    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, ATTEST_E_VERIFY, ".untrusted_root",
     "has no issuer among the chain and the anchors"},
    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, ATTEST_E_VERIFY, ".untrusted_root",
     "is a root that is not an anchor"},
    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, ATTEST_E_VERIFY, ".untrusted_root",
     "is self-signed and not an anchor"},
    {X509_V_ERR_CERT_UNTRUSTED, ATTEST_E_VERIFY, ".untrusted_root", "is not trusted"},
    {X509_V_ERR_UNABLE_TO_GET_CRL, ATTEST_E_COLLATERAL, ".crl_missing", "has no CRL from its issuer"},
    {X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, ATTEST_E_COLLATERAL, ".crl_missing",
     "has a CRL whose issuer cannot be found"},
    {X509_V_ERR_CRL_HAS_EXPIRED, ATTEST_E_COLLATERAL, ".crl_expired", "has a CRL past its nextUpdate"},
    {X509_V_ERR_CRL_NOT_YET_VALID, ATTEST_E_COLLATERAL, ".crl_expired",
     "has a CRL not yet valid (thisUpdate in the future)"},
    {X509_V_ERR_CRL_SIGNATURE_FAILURE, ATTEST_E_COLLATERAL, ".crl_signature",
     "has a CRL whose signature does not verify"},
    {X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, ATTEST_E_COLLATERAL, ".crl_signature",
     "has a CRL whose signature cannot be decoded"},
};

static int chain_error(X509_STORE_CTX *ctx, X509 *leaf, const char *code, struct attest_err *err)
{
	int verr = X509_STORE_CTX_get_error(ctx);
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	const struct chain_error_map *m = NULL;
	char name[ATTEST_ERR_NAME_MAX];
	char *subject;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(CHAIN_ERRORS) / sizeof(CHAIN_ERRORS[0]); i++) {
		if (CHAIN_ERRORS[i].verr == verr)
			m = &CHAIN_ERRORS[i];
	}
	subject = x509_subject_str(cert ? cert : leaf);
	snprintf(name, sizeof(name), "%s%s", code ? code : "x509", m ? m->suffix : ".invalid");
	if (m != NULL)
		rc = attest_err_set(err, m->rc, name, "certificate \"%s\" %s", subject ? subject : "?",
				    m->what);
	else
		rc = attest_err_set(err, ATTEST_E_VERIFY, name, "certificate \"%s\": %s",
				    subject ? subject : "?", X509_verify_cert_error_string(verr));
	attest_err_where(err, "chain depth %d", X509_STORE_CTX_get_error_depth(ctx));
	free(subject);
	return rc;
}

/* Adds cert to the store; the same certificate twice is not a failure. */
static int store_add(X509_STORE *store, X509 *cert)
{
	if (X509_STORE_add_cert(store, cert) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
			return -1;
	}
	ERR_clear_error();
	return 0;
}

/*
 * Is cert another certificate of an anchor's key: same subject, same
 * public key, and self-signed by that key? Only the key's holder can have
 * made it, so trusting it trusts nothing new; OpenSSL itself only matches a
 * self-signed certificate in the chain to an identical anchor.
 */
static bool is_anchor_twin(X509 *cert, STACK_OF(X509) * anchors)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	int i;

	if (key == NULL)
		return false;
	for (i = 0; i < sk_X509_num(anchors); i++) {
		X509 *a = sk_X509_value(anchors, i);

		/* The anchor itself is in the store already: no signature to check. */
		if (X509_cmp(a, cert) == 0)
			return false;
		if (X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(cert)) == 0 &&
		    EVP_PKEY_eq(X509_get0_pubkey(a), key) == 1 && X509_verify(cert, key) == 1)
			return true;
	}
	ERR_clear_error();
	return false;
}

/* A store holding the anchors and their twins among leaf and untrusted, or NULL. */
static X509_STORE *anchor_store(STACK_OF(X509) * anchors, X509 *leaf, STACK_OF(X509) * untrusted)
{
	X509_STORE *store = X509_STORE_new();
	int i;

	if (store == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(anchors); i++) {
		if (store_add(store, sk_X509_value(anchors, i)) != 0)
			goto fail;
	}
	if (is_anchor_twin(leaf, anchors) && store_add(store, leaf) != 0)
		goto fail;
	for (i = 0; i < sk_X509_num(untrusted); i++) {
		X509 *c = sk_X509_value(untrusted, i);

		if (is_anchor_twin(c, anchors) && store_add(store, c) != 0)
			goto fail;
	}
	return store;
fail:
	X509_STORE_free(store);
	return NULL;
}

static bool in_stack(STACK_OF(X509) * sk, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++) {
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return true;
	}
	return false;
}

/* opts->exact_chain: every untrusted certificate is on the path or a valid anchor certificate. */
static int check_exact(X509_STORE_CTX *ctx, STACK_OF(X509) * untrusted, STACK_OF(X509) * anchors,
		       const char *code, struct attest_err *err)
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
	int i, rc = ATTEST_OK;

	for (i = 0; rc == ATTEST_OK && i < sk_X509_num(untrusted); i++) {
		X509 *c = sk_X509_value(untrusted, i);
		char *subject;

		if (in_stack(path, c) || in_stack(anchors, c) || is_anchor_twin(c, anchors))
			continue;
		subject = x509_subject_str(c);
		/* A root with an anchor's name that fails its own signature: a corrupted copy. */
		if (X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0)
			rc = name_err(
			    err, ATTEST_E_VERIFY, code, ".signature",
			    "carried root certificate \"%s\" is not a valid certificate of a trusted key",
			    subject ? subject : "?");
		else
			rc = name_err(err, ATTEST_E_VERIFY, code, ".invalid",
				      "certificate \"%s\" is carried in the chain but not on its path",
				      subject ? subject : "?");
		attest_err_where(err, "untrusted certificate %d", i);
		free(subject);
	}
	return rc;
}

int x509_chain_verify(X509 *leaf, STACK_OF(X509) * untrusted, const struct x509_verify_opts *opts,
		      STACK_OF(X509) * *chain_out, const char *code, struct attest_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	struct chain_state st;
	unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST;
	int rc;

	if (leaf == NULL || opts == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_chain_verify: bad argument");
	if (opts->anchors == NULL || sk_X509_num(opts->anchors) == 0)
		return name_err(err, ATTEST_E_INVALID, code, ".untrusted_root",
				"no trust anchors configured");
	st.require_crls = opts->require_crls;
	store = anchor_store(opts->anchors, leaf, untrusted);
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "cannot set up chain verification");
		goto out;
	}
	/* OpenSSL offers its default CRL checks only through an initialised context. */
	st.default_check_crl = X509_STORE_CTX_get_check_crl(ctx);
	st.default_cert_crl = X509_STORE_CTX_get_cert_crl(ctx);
	X509_STORE_CTX_cleanup(ctx);
	if (st.default_check_crl == NULL || st.default_cert_crl == NULL) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "crypto.internal",
				    "OpenSSL CRL checks unavailable");
		goto out;
	}
	X509_STORE_set_check_crl(store, check_crl_below_anchor);
	X509_STORE_set_cert_crl(store, cert_crl_below_anchor);
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "cannot set up chain verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	/* Sets X509_V_FLAG_USE_CHECK_TIME: validity is judged at opts->time, not now. */
	X509_VERIFY_PARAM_set_time(param, (time_t)opts->time);
	if (opts->require_crls || (opts->crls != NULL && sk_X509_CRL_num(opts->crls) > 0)) {
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
		if (opts->crls != NULL)
			X509_STORE_CTX_set0_crls(ctx, opts->crls);
	}
	X509_VERIFY_PARAM_set_flags(param, flags);
	X509_VERIFY_PARAM_set_depth(param, opts->max_depth > 0 ? opts->max_depth : X509_DEFAULT_DEPTH);
	X509_STORE_CTX_set_app_data(ctx, &st);
	X509_STORE_CTX_set_verify_cb(ctx, chain_verify_cb);
	if (X509_verify_cert(ctx) != 1) {
		rc = chain_error(ctx, leaf, code, err);
		goto out;
	}
	if (opts->exact_chain && (rc = check_exact(ctx, untrusted, opts->anchors, code, err)) != ATTEST_OK)
		goto out;
	if (chain_out != NULL) {
		*chain_out = X509_STORE_CTX_get1_chain(ctx);
		if (*chain_out == NULL) {
			rc = attest_err_set(err, ATTEST_E_NOMEM, "crypto.nomem", "out of memory");
			goto out;
		}
	}
	rc = ATTEST_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}

int x509_crl_verify(X509_CRL *crl, X509 *issuer, int64_t time, const char *code, struct attest_err *err)
{
	char *subject = NULL;
	EVP_PKEY *key;
	time_t t = (time_t)time;
	int rc = ATTEST_OK;

	if (crl == NULL || issuer == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "crypto.invalid",
				      "x509_crl_verify: bad argument");
	subject = x509_subject_str(issuer);
	key = X509_get0_pubkey(issuer);
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		rc = name_err(err, ATTEST_E_COLLATERAL, code, ".crl_issuer",
			      "the CRL is not issued by \"%s\"", subject);
	else if (key == NULL || X509_CRL_verify(crl, key) != 1)
		rc = name_err(err, ATTEST_E_COLLATERAL, code, ".crl_signature",
			      "the CRL's signature does not verify with the key of \"%s\"", subject);
	else if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &t) != -1)
		rc = name_err(err, ATTEST_E_COLLATERAL, code, ".crl_expired",
			      "the CRL of \"%s\" is not yet valid at the verification time", subject);
	else if (X509_CRL_get0_nextUpdate(crl) == NULL ||
		 X509_cmp_time(X509_CRL_get0_nextUpdate(crl), &t) != 1)
		rc = name_err(err, ATTEST_E_COLLATERAL, code, ".crl_expired",
			      "the CRL of \"%s\" is past its nextUpdate at the verification time", subject);
	free(subject);
	ERR_clear_error();
	return rc;
}
