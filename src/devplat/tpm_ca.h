#ifndef ATTEST_DEVPLAT_TPM_CA_H
#define ATTEST_DEVPLAT_TPM_CA_H

/*
 * A synthetic AIK certification authority for tests and demos: a
 * self-signed EC P-256 root that issues AIK certificates for TPM keys
 * (the role a privacy CA or a vendor AK CA plays). Never trusted by a
 * production configuration. Also builds TCG event logs (tpm_devlog).
 */

#include "attest/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct devplat_tpm_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* A root valid over [not_before, not_after]. *out is the caller's. */
int devplat_tpm_ca_new(const char *cn, int64_t not_before, int64_t not_after,
		       struct devplat_tpm_ca **out, struct attest_err *err);
/* The same around an existing key (taken, also on failure): a CA kept between runs. */
int devplat_tpm_ca_of_key(EVP_PKEY *key, const char *cn, int64_t not_before, int64_t not_after,
			  struct devplat_tpm_ca **out, struct attest_err *err);
void devplat_tpm_ca_free(struct devplat_tpm_ca *ca);

/* An end-entity certificate of subject_key signed by the CA. *out is the caller's. */
int devplat_tpm_ca_issue(const struct devplat_tpm_ca *ca, EVP_PKEY *subject_key, const char *cn,
			 int64_t not_before, int64_t not_after, X509 **out, struct attest_err *err);

#endif
