#ifndef ATTEST_EVIDENCE_AMD_CERTS_H
#define ATTEST_EVIDENCE_AMD_CERTS_H

/*
 * The AMD SEV-SNP PKI (formats.md §5.6-5.7): built-in ARK/ASK/ASVK per
 * product line, the VCEK/VLEK extensions under 1.3.6.1.4.1.3704.1, and the
 * chain check ARK -> ASK/ASVK -> VCEK/VLEK at a given time with AMD's CRL.
 * Error names: snp.vcek.* (leaf), snp.chain.* (ASK/ARK), snp.crl.*.
 */

#include "attest/error.h"
#include "evidence/evidence.h"
#include "evidence/snp.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum amd_cert_role { AMD_ROLE_ARK = 0, AMD_ROLE_ASK = 1, AMD_ROLE_ASVK = 2 };

/* The built-in PEM text of a product's ARK, ASK or ASVK (static, NULL if none). */
const char *amd_builtin_pem(enum amd_product product, enum amd_cert_role role);
/* The same certificate parsed (caller frees). Errors: snp.chain.builtin. */
int amd_builtin_cert(enum amd_product product, enum amd_cert_role role, X509 **out, struct attest_err *err);

/* The SPL extensions .3.1 - .3.9 (formats.md §5.6). */
enum amd_spl {
	AMD_SPL_BL = 1,
	AMD_SPL_TEE = 2,
	AMD_SPL_SNP = 3,
	AMD_SPL_UCODE = 8,
	AMD_SPL_FMC = 9,
	AMD_SPL_MAX = 9,
};

/* What a VCEK or VLEK says about itself. */
struct amd_cert_ext {
	bool has_struct_version;
	int64_t struct_version;
	bool has_product_name;
	char product_name[32];
	bool has_spl[AMD_SPL_MAX + 1];
	int64_t spl[AMD_SPL_MAX + 1];
	bool has_hwid;
	uint8_t hwid[64];
	size_t hwid_len;
	bool has_csp_id;
	char csp_id[128];
};

/*
 * Reads the AMD extensions of a leaf certificate. Each extension's
 * extnValue is DER: INTEGER (structVersion, SPLs), IA5String (productName,
 * csp_id) or the raw hwID bytes. A malformed or repeated one is
 * snp.vcek.extension (naming its OID).
 */
int amd_cert_ext_parse(X509 *cert, struct amd_cert_ext *out, struct attest_err *err);

/* The TCB the certificate's SPLs name (an SPL it does not carry reads 0); raw is left zero. */
void amd_cert_ext_tcb(const struct amd_cert_ext *e, struct snp_tcb *out);

/* The CN of the subject into buf ("" when absent). */
void amd_cert_cn(X509 *cert, char *buf, size_t len);

/* Where the chain pieces came from; any may be NULL. */
struct amd_chain {
	X509 *leaf;    /* VCEK or VLEK */
	X509 *ask;     /* ASK or ASVK; NULL = built-in */
	X509 *ark;     /* as supplied with the evidence; checked, never trusted */
	X509_CRL *crl; /* AMD's CRL for this product (signed by the ARK) */
};

/* What a verified chain establishes. */
struct amd_chain_result {
	enum amd_product product;
	bool vlek;
	struct amd_cert_ext ext;
	EVP_PKEY *leaf_key; /* up-referenced; caller frees */
	int64_t valid_from; /* the intersection of every validity window */
	int64_t valid_until;
	bool crl_checked;
};

/*
 * Verifies ch at ctx->now for a report of `product` (AMD_PRODUCT_UNKNOWN:
 * take it from the leaf's productName) signed by a VCEK (vlek false) or
 * VLEK: names (leaf CN SEV-VCEK/SEV-VLEK, issuer SEV-<P>/SEV-VLEK-<P>, ARK
 * ARK-<P>), algorithms (leaf EC P-384, ASK/ARK RSA >= 4096, every
 * signature RSASSA-PSS with SHA-384), the ARK self-signature, the path to
 * an anchor (ctx->anchors->amd_arks or the built-in ARK) at the time, and
 * the CRL (signature by the ARK, currency, ASK not revoked) when given.
 * On success fills *res.
 */
int amd_chain_verify(const struct evidence_ctx *ctx, enum amd_product product, bool vlek,
		     const struct amd_chain *ch, struct amd_chain_result *res, struct attest_err *err);

/*
 * Sorts certificates by role: leaf (CN SEV-VCEK / SEV-VLEK), ASK (CN
 * SEV-...), ARK (CN ARK-...). Borrowed pointers into certs; a second
 * certificate of one role is snp.chain.duplicate, an unknown CN
 * snp.chain.unknown.
 */
int amd_chain_classify(STACK_OF(X509) * certs, struct amd_chain *out, struct attest_err *err);

/* Parses DER or PEM (sniffed) into one certificate. Errors: <code>.parse. */
int amd_cert_load(const uint8_t *p, size_t len, X509 **out, const char *code, struct attest_err *err);

#endif
