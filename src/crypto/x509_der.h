#ifndef ATTEST_CRYPTO_X509_DER_H
#define ATTEST_CRYPTO_X509_DER_H

/*
 * A strict DER reader for the certificates and CRLs of Intel's DCAP PKI
 * (Intel SGX PCK Certificate and Certificate Revocation List Profile
 * Specification; RFC 5280 profile), and chain verification over it, so the
 * Intel verifiers need neither OpenSSL's X509 decoder (its public-key
 * decoding through the provider framework dominates a cold call) nor
 * X509_verify_cert. The checks are those of x509_chain_verify (crypto.h)
 * with the same error names; the profile is narrower than OpenSSL's:
 * whatever this reader accepts, d2i_X509 / d2i_X509_CRL accept too (the
 * fuzz target fuzz_x509_der checks it), never the other way round.
 *
 * Profile (refused otherwise, each with its own code <code>.der.<rule>,
 * the message saying what and `where` the offset):
 *   Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING }
 *   v3; serial a positive INTEGER of at most 20 octets (RFC 5280 4.1.2.2);
 *   signature ecdsa-with-SHA256 without parameters, the same inside and
 *   outside the TBS (4.1.1.2); Names well-formed, kept as DER; validity
 *   UTCTime before 2050 and GeneralizedTime from 2050, "Z", seconds
 *   (4.1.2.5); SubjectPublicKeyInfo id-ecPublicKey prime256v1 with an
 *   uncompressed point on the curve; no unique identifiers; extensions
 *   with unique OIDs, critical only as TRUE (DER DEFAULT), value an OCTET
 *   STRING; definite minimal lengths; nothing trailing anywhere.
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, BIT
 *   STRING }: v2, nextUpdate present, CRL Number and AKI keyIdentifier
 *   present (RFC 5280 5.2.1, 5.2.3), entries with positive serials.
 *
 * Ownership: a parsed object holds its own copy of the DER and its key;
 * free with x509_der_cert_free / x509_der_crl_free.
 */

#include "attest/error.h"
#include "base/cur.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X509_DER_CERT_MAX (64u * 1024)
#define X509_DER_CRL_MAX  (8u * 1024 * 1024)
/* Longest chain the verifier walks (leaf + intermediates below the anchor). */
#define X509_DER_PATH_MAX 4

/* A byte range inside a parsed object's own copy of the DER. */
struct der_span {
	const uint8_t *p;
	size_t n;
};

/* RFC 5280 4.2.1.3 KeyUsage bits, as bit i of the BIT STRING. */
enum {
	X509_DER_KU_DIGITAL_SIGNATURE = 1u << 0,
	X509_DER_KU_KEY_CERT_SIGN = 1u << 5,
	X509_DER_KU_CRL_SIGN = 1u << 6,
};

/* Which of the extensions the profile knows a certificate carries. */
enum {
	X509_DER_EXT_AKI = 1u << 0,
	X509_DER_EXT_SKI = 1u << 1,
	X509_DER_EXT_KU = 1u << 2,
	X509_DER_EXT_BC = 1u << 3,
	X509_DER_EXT_CRLDP = 1u << 4,
	X509_DER_EXT_SGX = 1u << 5,
};

struct x509_der_cert {
	struct der_span der;	 /* the whole certificate */
	struct der_span tbs;	 /* the signed TBSCertificate */
	struct der_span sig;	 /* ECDSA-Sig-Value (the BIT STRING's octets) */
	struct der_span serial;	 /* INTEGER contents */
	struct der_span issuer;	 /* Name, whole TLV */
	struct der_span subject; /* Name, whole TLV */
	struct der_span spki;	 /* SubjectPublicKeyInfo, whole TLV */
	uint8_t pub_xy[64];	 /* the P-256 point x || y */
	EVP_PKEY *key;		 /* owned; from ec_pubkey_from_xy */
	int64_t not_before, not_after;
	unsigned exts;		 /* X509_DER_EXT_* present */
	bool ca;		 /* basicConstraints cA */
	int path_len;		 /* pathLenConstraint, -1 when absent */
	unsigned key_usage;	 /* X509_DER_KU_* */
	struct der_span ski;	 /* subjectKeyIdentifier octets */
	struct der_span aki;	 /* authorityKeyIdentifier keyIdentifier octets */
	struct der_span sgx_ext; /* 1.2.840.113741.1.13.1 value (OCTET STRING contents) */
	size_t unknown_critical; /* offset of the first unknown critical extension, 0: none */
};

struct x509_der_crl {
	struct der_span der, tbs, sig;
	struct der_span issuer;	 /* Name, whole TLV */
	struct der_span revoked; /* contents of revokedCertificates (may be empty) */
	struct der_span number;	 /* cRLNumber INTEGER contents */
	struct der_span aki;	 /* authorityKeyIdentifier keyIdentifier octets */
	int64_t this_update, next_update;
	size_t n_revoked;
	size_t unknown_critical; /* offset of the first unknown critical CRL or entry extension, 0: none */
	/* The signature verified once with this key (x || y): both chains share the Root CA CRL. */
	bool sig_ok;
	uint8_t sig_key[64];
};

/*
 * One DER TLV (X.690 §8.1, §10.1): a single-octet tag, a definite length in
 * the fewest octets (short form below 128, no leading zero octet, at most
 * three length octets), the contents split off as a cursor of their own
 * (same origin, for offsets). Returns 0, or -1 leaving c unchanged.
 */
int x509_der_tlv(struct cur *c, uint8_t *tag, struct cur *val);

/*
 * Parses one certificate (exactly len bytes) into a new object.
 * Errors: <code>.der.<rule> (ATTEST_E_PARSE; rules: length, tag, trailing,
 * version, serial, algorithm, name, time, spki, key, unique_id, extension,
 * basic_constraints, key_usage, key_identifier, crl_dp, signature_value).
 */
int x509_der_cert_parse(const uint8_t *der, size_t len, struct x509_der_cert **out, const char *code,
			struct attest_err *err);
void x509_der_cert_free(struct x509_der_cert *c);

/* One CRL (DER, exactly len bytes). Errors: as above plus number, entry, crl_extension. */
int x509_der_crl_parse(const uint8_t *der, size_t len, struct x509_der_crl **out, const char *code,
		       struct attest_err *err);
void x509_der_crl_free(struct x509_der_crl *c);

/* The first commonName of a Name into out (NUL-terminated, "" when none). */
void x509_der_name_cn(struct der_span name, char *out, size_t cap);

/* Is the certificate's DER the same as der? */
bool x509_der_same(const struct x509_der_cert *c, const uint8_t *der, size_t len);

/* Does serial (INTEGER contents) appear in the CRL's revokedCertificates? */
bool x509_der_crl_lists(const struct x509_der_crl *crl, struct der_span serial);

/*
 * Is cert signed by key? (ecdsa-with-SHA256 over the TBS; the algorithm was
 * fixed at parse time.)
 */
bool x509_der_signed_by(const struct x509_der_cert *cert, EVP_PKEY *key);

struct x509_der_verify_opts {
	int64_t time; /* Unix seconds */
	const struct x509_der_cert *const *anchors;
	size_t n_anchors;
	struct x509_der_crl *const *crls; /* CRLs to apply, found by issuer name (may be NULL) */
	size_t n_crls;
	bool require_crls; /* every certificate below the anchor must have one */
};

/*
 * Verifies path[0] (leaf) .. path[n-1] (issued by an anchor) at opts->time,
 * as x509_chain_verify does with OpenSSL (crypto.h), in OpenSSL's order:
 *   1. each issuer Name is the next certificate's subject (DER equal), the
 *      top one an anchor's, with AKI keyIdentifier == SKI where both exist:
 *      <code>.untrusted_root;
 *   2. unknown critical extensions, CA constraints (basicConstraints cA,
 *      pathLenConstraint, keyUsage keyCertSign) on every issuer, the
 *      anchor included: <code>.invalid;
 *   3. revocation of path[0..n-1] by the CRL of its issuer (issuer Name
 *      equal; AKI keyIdentifier == the issuer's SKI): <code>.crl_missing,
 *      <code>.invalid (issuer without cRLSign, unknown critical CRL
 *      extension), <code>.crl_expired (thisUpdate <= t < nextUpdate),
 *      <code>.crl_signature, <code>.revoked;
 *   4. from the anchor down: signature by the issuer's key
 *      (<code>.signature), validity notBefore <= t < notAfter
 *      (<code>.not_yet_valid, <code>.expired).
 * A CRL's signature is verified once per key (the CRL remembers it).
 * *anchor_out (optional) receives the anchor used.
 */
int x509_der_chain_verify(const struct x509_der_cert *const *path, size_t n,
			  const struct x509_der_verify_opts *opts, const struct x509_der_cert **anchor_out,
			  const char *code, struct attest_err *err);

#endif
