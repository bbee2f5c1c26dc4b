#ifndef ATTEST_DEVPLAT_SNP_PLAT_H
#define ATTEST_DEVPLAT_SNP_PLAT_H

/*
 * A synthetic AMD SEV-SNP platform for tests and demos: a test ARK, ASK and
 * ASVK for one product line (RSA-4096, RSASSA-PSS SHA-384, AMD's names),
 * VCEKs and VLEKs with chosen extensions, AMD-style CRLs, and attestation
 * reports with chosen fields signed like the firmware signs them (ECDSA
 * P-384 over bytes 0..0x29F, r and s little-endian). Never trusted by a
 * production configuration: verifiers see it only through
 * evidence_anchors.amd_arks.
 *
 * RSA-4096 key generation takes seconds; key_dir (optional) keeps the
 * three CA keys as PEM files between runs (written atomically, so parallel
 * test programs may share it).
 */

#include "attest/error.h"
#include "evidence/snp.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

struct snp_plat;

struct snp_plat_opts {
	enum amd_product product;
	int64_t not_before; /* CA validity */
	int64_t not_after;
	const char *key_dir; /* may be NULL: fresh keys every time */
	int ca_bits;	     /* 0 = 4096 */
	bool ca_sha256;      /* CA certificates signed RSA-PSS SHA-256 (an error path) */
};

int snp_plat_new(const struct snp_plat_opts *o, struct snp_plat **out, struct attest_err *err);
void snp_plat_free(struct snp_plat *p);

/* Borrowed: valid until snp_plat_free. */
X509 *snp_plat_ark(const struct snp_plat *p);
X509 *snp_plat_ask(const struct snp_plat *p);
X509 *snp_plat_asvk(const struct snp_plat *p);
EVP_PKEY *snp_plat_ark_key(const struct snp_plat *p);
enum amd_product snp_plat_product(const struct snp_plat *p);

/* What to put in a leaf certificate. Unset fields take the defaults noted. */
struct snp_plat_leaf_spec {
	bool vlek;		  /* VLEK (CN SEV-VLEK, issued by the ASVK, csp_id) instead of VCEK */
	const uint8_t *chip_id;	  /* 64 bytes: hwID (VCEK) */
	size_t hwid_len;	  /* 0 = 64 */
	const uint8_t *tcb;	  /* 8 bytes in report order: SPL extensions */
	const char *product_name; /* NULL = "<Product>-B0" */
	const char *csp_id;	  /* NULL = "test-csp" (VLEK) */
	int64_t not_before, not_after;
	/* Error paths. */
	bool omit_hwid, omit_spl_ucode, add_csp_id, add_hwid;
	bool issue_by_ark; /* signed by the ARK instead of the ASK/ASVK */
	bool p256;	   /* an EC P-256 key instead of P-384 */
	bool sha256_pss;   /* RSA-PSS with SHA-256 instead of SHA-384 */
};

/* A leaf and its private key (both owned by the caller). */
struct snp_plat_leaf {
	X509 *cert;
	EVP_PKEY *key;
};
void snp_plat_leaf_free(struct snp_plat_leaf *l);

int snp_plat_issue(struct snp_plat *p, const struct snp_plat_leaf_spec *spec, struct snp_plat_leaf *out,
		   struct attest_err *err);

/*
 * Default report fields for this platform: version 5, policy 0x30000
 * (SMT, reserved bit), VMPL 0, ECDSA P-384, signing key VCEK (or VLEK),
 * the product's CPUID, all four TCBs = tcb, CHIP_ID = chip_id, firmware
 * 1.55.35, MIT vectors 0xB, everything else zero.
 */
void snp_plat_report_defaults(const struct snp_plat *p, const uint8_t chip_id[64], const uint8_t tcb[8],
			      bool vlek, struct snp_report *r);

/* Lays out every field of r at its offset (formats.md §5.1), signature included. */
void snp_plat_report_encode(const struct snp_report *r, uint8_t out[SNP_REPORT_SIZE]);

/* Signs bytes 0..0x29F of report with key and writes r, s (LE) at 0x2A0 / 0x2E8. */
int snp_plat_report_sign(uint8_t report[SNP_REPORT_SIZE], EVP_PKEY *key, struct attest_err *err);

/*
 * An AMD-style CRL signed by the ARK (RSA-PSS SHA-384), valid
 * [this_update, next_update), revoking the ASK (vlek: the ASVK) when
 * revoke_ca. Caller frees.
 */
int snp_plat_crl(struct snp_plat *p, bool vlek, bool revoke_ca, int64_t this_update, int64_t next_update,
		 X509_CRL **out, struct attest_err *err);

/*
 * An Azure-style HCL report (formats.md §6.2, version 1, request type 2,
 * report type SNP, hash type SHA-256) around r: sets r->report_data to
 * SHA-256(runtime_json) followed by zeros, encodes and signs r with key,
 * and appends the runtime JSON. *out (malloc'd, *len bytes) is owned by
 * the caller.
 */
int snp_plat_hcl_report(struct snp_report *r, EVP_PKEY *key, const char *runtime_json, uint8_t **out,
			size_t *len, struct attest_err *err);

/*
 * The runtime JSON an Azure CVM's paravisor writes: keys [HCLAkPub = ak
 * as an RSA JWK] and a vm-configuration object. Caller frees.
 */
char *snp_plat_hcl_runtime_json(EVP_PKEY *ak);

/* DER / PEM of a certificate or CRL (malloc'd; caller frees). */
uint8_t *snp_plat_der(X509 *x, size_t *len);
char *snp_plat_pem(X509 *x);
uint8_t *snp_plat_crl_der(X509_CRL *crl, size_t *len);

#endif
