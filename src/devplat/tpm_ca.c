/* Synthetic AIK CA: see tpm_ca.h. */
#include "devplat/tpm_ca.h"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

static int set_name(X509_NAME *n, const char *cn)
{
	return X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"attestd devplat",
					  -1, -1, 0) == 1 &&
	       X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *cert_new(EVP_PKEY *subject_key, const char *cn, int64_t nb, int64_t na)
{
	X509 *c = X509_new();
	BIGNUM *serial = BN_new();
	int ok = c != NULL && serial != NULL && BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 X509_set_version(c, 2) == 1 && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c)) != NULL &&
		 ASN1_TIME_set(X509_getm_notBefore(c), (time_t)nb) != NULL &&
		 ASN1_TIME_set(X509_getm_notAfter(c), (time_t)na) != NULL &&
		 X509_set_pubkey(c, subject_key) == 1 && set_name(X509_get_subject_name(c), cn);

	BN_free(serial);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

void devplat_tpm_ca_free(struct devplat_tpm_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

int devplat_tpm_ca_of_key(EVP_PKEY *key, const char *cn, int64_t not_before, int64_t not_after,
			  struct devplat_tpm_ca **out, struct attest_err *err)
{
	struct devplat_tpm_ca *ca = calloc(1, sizeof(*ca));

	if (ca == NULL) {
		EVP_PKEY_free(key);
		return attest_err_set(err, ATTEST_E_NOMEM, "devplat.tpm_ca", "out of memory");
	}
	ca->key = key;
	if (ca->key == NULL || (ca->cert = cert_new(ca->key, cn, not_before, not_after)) == NULL ||
	    X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)) != 1 ||
	    !add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
	    X509_sign(ca->cert, ca->key, EVP_sha256()) <= 0) {
		devplat_tpm_ca_free(ca);
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.tpm_ca", "cannot create the AIK CA");
	}
	*out = ca;
	return ATTEST_OK;
}

int devplat_tpm_ca_new(const char *cn, int64_t not_before, int64_t not_after,
		       struct devplat_tpm_ca **out, struct attest_err *err)
{
	return devplat_tpm_ca_of_key(EVP_EC_gen("P-256"), cn, not_before, not_after, out, err);
}

int devplat_tpm_ca_issue(const struct devplat_tpm_ca *ca, EVP_PKEY *subject_key, const char *cn,
			 int64_t not_before, int64_t not_after, X509 **out, struct attest_err *err)
{
	X509 *c = cert_new(subject_key, cn, not_before, not_after);

	if (c == NULL || X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) != 1 ||
	    !add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(c, ca->cert, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(c, ca->key, EVP_sha256()) <= 0) {
		X509_free(c);
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.tpm_ca", "cannot issue the AIK certificate");
	}
	*out = c;
	return ATTEST_OK;
}
