#ifndef ATTEST_EVIDENCE_PCK_H
#define ATTEST_EVIDENCE_PCK_H

/*
 * PCK certificates (formats.md §2): the Intel SGX extension
 * (OID 1.2.840.113741.1.13.1), decoded by our own bounds-checked DER reader
 * over the extension's octets, and the PCK chain check to the Intel root
 * with the PCK CRL and the Root CA CRL, over the strict DER reader of
 * crypto/x509_der.h (the quote verifiers and the collateral import alike).
 *
 * Error names (prefix "sgx" / "tdx"):
 *   <p>.pck.extension.missing     no SGX extension in the PCK certificate
 *   <p>.pck.extension.malformed   DER structure wrong (where: offset)
 *   <p>.pck.extension.<field>     a field has the wrong type, size or count
 *                                 (fmspc, pceid, tcb, pcesvn, cpusvn, sgx_type,
 *                                 ppid, configuration, entries)
 *   <p>.pck.subject               PCK / CA / root common name not as Intel's
 *   <p>.pck.extensions            AKI, CRL DP, SKI, key usage or basic constraints missing
 *   <p>.pck.chain.<x509 suffix>   from x509_chain_verify (expired, revoked, ...)
 *   <p>.pck.chain.parse           chain PEM unreadable / wrong number of certificates
 *   <p>.pck.chain.der.<rule>      a certificate outside Intel's DER profile (crypto/x509_der.h:
 *                                 length, tag, trailing, version, serial, algorithm, name, time,
 *                                 spki, key, unique_id, extension, key_identifier, basic_constraints,
 *                                 key_usage, crl_dp, signature_value); a CRL likewise under
 *                                 <p>.crl.{pck,root_ca}.der.<rule> (also version, entry,
 *                                 crl_extension), a TCB Info / QE identity issuer chain under
 *                                 <p>.{tcbinfo,qeid}.chain.der.<rule>
 *   <p>.pck.key_usage             the PCK certificate's keyUsage lacks digitalSignature
 *   <p>.pck.chain.root            carried root is not a valid certificate of a trusted root
 */

#include "attest/error.h"
#include "crypto/x509_der.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pck_ca { PCK_CA_PROCESSOR = 0, PCK_CA_PLATFORM = 1 };
enum pck_sgx_type { PCK_SGX_STANDARD = 0, PCK_SGX_SCALABLE = 1, PCK_SGX_SCALABLE_INTEGRITY = 2 };

#define PCK_TCB_COMPONENTS 16

/* The decoded SGX extension (§2.1). */
struct pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[PCK_TCB_COMPONENTS]; /* SGX TCB COMP01..16 SVN */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	enum pck_sgx_type sgx_type;
	bool has_platform_instance_id; /* Platform-CA PCKs only */
	uint8_t platform_instance_id[16];
	bool has_configuration;
	bool dynamic_platform, cached_keys, smt_enabled;
	unsigned n_entries; /* 5 (Processor CA) or 7 (Platform CA) */
};

/*
 * Decodes the SGX extension value (the OCTET STRING contents: DER
 * SEQUENCE OF SEQUENCE{OID, value}). Bounded by `len`, never reads outside.
 */
int pck_ext_decode(const uint8_t *der, size_t len, struct pck_ext *out, const char *prefix,
		   struct attest_err *err);

/* Finds the extension in a certificate and decodes it. */
int pck_ext_from_cert(X509 *cert, struct pck_ext *out, const char *prefix, struct attest_err *err);

/* Which PCK CA issued the certificate (issuer CN "...Platform CA" / "...Processor CA"). */
int pck_ca_of_cert(X509 *pck, enum pck_ca *out, const char *prefix, struct attest_err *err);

const char *pck_ca_name(enum pck_ca ca); /* "processor" / "platform" (PCS's ca= values) */

/* ---- Chains over the strict DER reader (crypto/x509_der.h): intel.c and the collateral import ---- */

#define INTEL_CHAIN_MAX 3

/* A certificate chain leaf first; a certificate that is an anchor's DER is that anchor (borrowed). */
struct intel_der_chain {
	size_t n;
	const struct x509_der_cert *cert[INTEL_CHAIN_MAX];
	struct x509_der_cert *owned[INTEL_CHAIN_MAX];
};
void intel_der_chain_free(struct intel_der_chain *c);

/* The Intel roots as DER views, built once from the configured X509 anchors. */
struct intel_der_anchors {
	size_t n;
	const struct x509_der_cert **certs;
};

/*
 * Views of every anchor in roots. An anchor outside Intel's profile (not
 * ECDSA P-256) can have issued no certificate of it and is left out.
 * Errors: intel.anchors.nomem.
 */
int intel_der_anchors_new(STACK_OF(X509) * roots, struct intel_der_anchors **out, struct attest_err *err);
void intel_der_anchors_free(struct intel_der_anchors *a);

/*
 * Parses a PEM chain (only certificates and whitespace) of at most
 * INTEL_CHAIN_MAX certificates, each with x509_der_cert_parse, except that
 * a certificate whose DER is exactly an anchor's is that anchor (borrowed,
 * no second parse: the carried root is nearly always the anchor itself).
 * Errors: <code>.parse (PEM, count), <code>.der.<rule> (x509_der.h), the
 * message naming the certificate ("certificate 2 of the chain: ").
 */
int intel_pem_chain_der(const uint8_t *pem, size_t len, const struct intel_der_anchors *anchors,
			struct intel_der_chain *out, const char *code, struct attest_err *err);

/* A CRL as DER, or PEM (sniffed). Errors: <code>.parse, <code>.der.<rule>. */
int intel_crl_der(const uint8_t *p, size_t len, struct x509_der_crl **out, const char *code,
		  struct attest_err *err);

/*
 * pck_ext_from_cert and pck_ca_of_cert over DER views, and the check of a
 * root carried with a chain (the 3rd PEM of a type-5 PCK chain, the 2nd of
 * an issuer chain): it must be a valid certificate of a trusted root, the
 * anchor itself or another certificate of an anchor's subject and key whose
 * self-signature verifies (chain building would otherwise skip it, leaving
 * its bytes unchecked). Error: `code` (ATTEST_E_VERIFY).
 */
int pck_ext_from_der(const struct x509_der_cert *cert, struct pck_ext *out, const char *prefix,
		     struct attest_err *err);
int pck_ca_of_der(const struct x509_der_cert *pck, enum pck_ca *out, const char *prefix,
		  struct attest_err *err);
int intel_der_root_check(const struct x509_der_cert *carried, const struct intel_der_anchors *anchors,
			 const char *code, struct attest_err *err);

/*
 * Verifies a PCK chain (leaf first, as quotes carry it: PCK, CA, optionally
 * the root) to one of `anchors` at `now` with the PCK CRL and the Root CA
 * CRL (either may be NULL only when no_revocation) through
 * x509_der_chain_verify (the error names of x509_chain_verify), checking
 * Intel's common names (§2.2), the carried root (intel_der_root_check), the
 * extensions Intel's PCK profile requires, each CRL's cRLNumber and its AKI
 * being the issuer's SKI, and the PCK's keyUsage digitalSignature (it signs
 * the QE report): <p>.pck.key_usage. Fills *ext from the leaf's SGX
 * extension. The CRLs remember their verified signature; *anchor_out
 * (optional) receives the anchor the path ended at.
 */
int pck_der_chain_verify(const struct intel_der_chain *chain, const struct intel_der_anchors *anchors,
			 struct x509_der_crl *pck_crl, struct x509_der_crl *root_crl, int64_t now,
			 bool no_revocation, struct pck_ext *ext, const struct x509_der_cert **anchor_out,
			 const char *prefix, struct attest_err *err);

/*
 * An Intel issuer chain as PCS serves it with TCB Info, QE identities and
 * PCK CRLs (the signer, then at most the root), verified to `anchors` at
 * `now`: the carried root (intel_der_root_check), the signer through
 * x509_der_chain_verify (with the Root CA CRL, which may be NULL only when
 * no_revocation; it remembers its verified signature), and the signer's
 * keyUsage holding every bit of `usage` (X509_DER_KU_*: digitalSignature
 * for the TCB Signing key, cRLSign for a CRL's issuer). Whose name the
 * signer must bear is the caller's to check.
 * Errors: <code>.parse (more than two certificates), <code>.root (carried
 * root, or no anchor in Intel's profile), <code>.crl_missing,
 * <code>.<x509 suffix>, <code>.key_usage. *anchor_out (optional): the
 * anchor the path ended at.
 */
int intel_der_signer_verify(const struct intel_der_chain *chain, const struct intel_der_anchors *anchors,
			    struct x509_der_crl *root_crl, bool no_revocation, int64_t now, unsigned usage,
			    const struct x509_der_cert **anchor_out, const char *code,
			    struct attest_err *err);

/*
 * A CRL on its own (collateral checked before it is stored, not yet applied
 * to a chain), as x509_der_chain_verify judges a CRL it applies: issued
 * under `issuer`'s name with its AKI the issuer's SKI, the issuer allowed
 * to sign CRLs, no unknown critical extension, signed by the issuer's key,
 * and current (thisUpdate <= now < nextUpdate).
 * Errors: <code>.crl_issuer, <code>.invalid, <code>.crl_signature, <code>.crl_expired.
 */
int intel_der_crl_verify(const struct x509_der_crl *crl, const struct x509_der_cert *issuer, int64_t now,
			 const char *code, struct attest_err *err);

/* The built-in Intel SGX Root CA (formats.md §2.2, vectors/roots), as PEM. */
extern const char INTEL_SGX_ROOT_CA_PEM[];
/* A new stack holding the built-in root (caller frees with OSSL_STACK_OF_X509_free). */
int intel_sgx_default_roots(STACK_OF(X509) * *out, struct attest_err *err);

#endif
