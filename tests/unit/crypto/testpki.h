#ifndef ATTEST_TESTS_TESTPKI_H
#define ATTEST_TESTS_TESTPKI_H

/*
 * A throw-away PKI made with OpenSSL inside the tests (root, intermediates,
 * leaves, CRLs) so every chain failure can be produced on purpose. Header
 * only: each test program includes it once.
 */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>

#define TP_DAY 86400

static inline EVP_PKEY *tp_key_ec(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

static inline EVP_PKEY *tp_key_rsa(unsigned bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static inline int tp_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/*
 * A certificate for `key` named CN=cn, issued by issuer/issuer_key (NULL
 * issuer: self-signed with key), valid [nb, na], a CA when ca is true.
 */
static inline X509 *tp_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int64_t nb,
			    int64_t na, bool ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (x == NULL || name == NULL)
		goto fail;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"attestd tests", -1, -1,
				   0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	X509_set_pubkey(x, key);
	if (!tp_ext(x, issuer, NID_subject_key_identifier, "hash") ||
	    !tp_ext(x, issuer, NID_authority_key_identifier, "keyid:always") ||
	    !tp_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
	    !tp_ext(x, issuer, NID_key_usage,
		    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"))
		goto fail;
	if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

/* A CRL issued by issuer (signed with key) valid [last, next] revoking serials. */
static inline X509_CRL *tp_crl(X509 *issuer, EVP_PKEY *key, int64_t last, int64_t next, const long *serials,
			       int nserials)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	int i;

	if (crl == NULL || t == NULL)
		goto fail;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(t, (time_t)last);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_set(t, (time_t)next);
	X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; i < nserials; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		ASN1_INTEGER_set(sn, serials[i]);
		X509_REVOKED_set_serialNumber(r, sn);
		ASN1_TIME_set(t, (time_t)last);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
		goto fail;
	ASN1_TIME_free(t);
	return crl;
fail:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

/* DER of a certificate (caller OPENSSL_free's). */
static inline int tp_der(X509 *x, unsigned char **der)
{
	*der = NULL;
	return i2d_X509(x, der);
}

#endif
