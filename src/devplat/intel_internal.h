#ifndef ATTEST_DEVPLAT_INTEL_INTERNAL_H
#define ATTEST_DEVPLAT_INTEL_INTERNAL_H

/* Internals of the synthetic Intel platform shared by its files (intel_*.c). */

#include "base/buf.h"
#include "devplat/intel.h"

struct intel_devplat {
	struct intel_devplat_opts o;
	uint8_t ppid[16];
	EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key, *att_key;
	X509 *root, *ca, *pck, *tcb;
	uint8_t att_xy[64];
};

EVP_PKEY *intel_devplat_keygen(void);
int intel_devplat_sgx_extension(const struct intel_devplat_opts *o, const uint8_t ppid[16], struct buf *out);
X509 *intel_devplat_issue(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
			  int64_t nb, int64_t na, bool ca, const struct buf *sgx_ext);
X509_CRL *intel_devplat_crl(X509 *issuer, EVP_PKEY *key, int64_t this_update, int64_t next_update,
			    const long *revoked, size_t n_revoked);
int intel_devplat_pem(X509 *const *certs, size_t n, char **pem, size_t *len);
int intel_devplat_att_key_xy(EVP_PKEY *key, uint8_t xy[64]);
int intel_devplat_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64]);

/* Serial numbers of the synthetic certificates (CRLs list them). */
#define INTEL_DEVPLAT_SERIAL_CA	 2
#define INTEL_DEVPLAT_SERIAL_PCK 100

#endif
