#ifndef ATTEST_EVIDENCE_TPM_H
#define ATTEST_EVIDENCE_TPM_H

/*
 * TPM 2.0 quotes: the structures a TPM signs and the checks that make a
 * quote evidence (formats.md §7.1-7.3, TCG TPM 2.0 Library Part 2 §10.12,
 * §11.3, §12.2). Every TPM structure is unmarshalled by libtss2-mu, once,
 * and must consume its input exactly: trailing bytes are an error.
 *
 * Design note: a quote is accepted only when, in this order,
 *   1. the AIK public key, the TPMS_ATTEST and the TPMT_SIGNATURE parse;
 *   2. the signature verifies with the AIK (RSASSA, RSAPSS, ECDSA);
 *   3. the AIK is trusted: its certificate chains to a configured root at
 *      the verification time (and certifies this very key), or its key hash
 *      is registered for the tenant; `require_valid_aik_cert` says whether
 *      the certificate is mandatory;
 *   4. magic == TPM_GENERATED_VALUE and type == TPM_ST_ATTEST_QUOTE;
 *   5. extraData == the expected nonce;
 *   6. the PCR selection covers required_pcr_mask (in the bank the caller
 *      names, or any bank when it names none);
 *   7. pcrDigest == H_sig(selected PCR values in selection order).
 * Fields the signature covers are read only after step 2.
 */

#include "attest/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

struct verify_pool; /* crypto.h: a key's kept verification contexts */

#define TPM_PCR_COUNT 24
#define TPM_PCR_MAX_DIGEST 64 /* SHA-512 */

/* The PCR banks attestd understands (TPM_ALG_SHA1/256/384/512). */
enum tpm_bank { TPM_BANK_SHA1, TPM_BANK_SHA256, TPM_BANK_SHA384, TPM_BANK_SHA512, TPM_BANK_COUNT };

/* TPM_ALG_ID of a bank, its digest size, its name ("SHA1", "SHA256", ...). */
uint16_t tpm_bank_alg(enum tpm_bank bank);
size_t tpm_bank_size(enum tpm_bank bank);
const char *tpm_bank_name(enum tpm_bank bank);
const EVP_MD *tpm_bank_md(enum tpm_bank bank);
/* The bank of a TPM_ALG_ID; -1 when it is not a bank we handle. */
int tpm_bank_from_alg(uint16_t alg);

/*
 * PCR values by bank: present[bank] bit i says PCR i of that bank was
 * supplied; v[bank][i] holds tpm_bank_size(bank) bytes.
 */
struct tpm_pcr_values {
	uint32_t present[TPM_BANK_COUNT];
	uint8_t v[TPM_BANK_COUNT][TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];
};

/* Sets one value (len must equal the bank's digest size). */
int tpm_pcr_set(struct tpm_pcr_values *pcrs, enum tpm_bank bank, unsigned index, const uint8_t *d,
		size_t len, struct attest_err *err);

/* ---- structures (libtss2-mu's layout and verdicts, exact length) -------- */

/*
 * TPMS_ATTEST (no TPM2B size). A well-formed quote is read directly (the
 * hot path), anything else by libtss2-mu: the same structure and verdicts
 * either way. Errors: tpm.attest.parse, tpm.attest.trailing.
 */
int tpm_attest_parse(const uint8_t *p, size_t n, TPMS_ATTEST *out, struct attest_err *err);
/* TPMT_SIGNATURE (RSA ones read directly, as above). Errors: tpm.signature.parse, tpm.signature.trailing. */
int tpm_signature_parse(const uint8_t *p, size_t n, TPMT_SIGNATURE *out, struct attest_err *err);
/*
 * A public area, either TPM2B_PUBLIC (u16 size prefix) or a bare
 * TPMT_PUBLIC; the size prefix is recognised when it equals n - 2.
 * Errors: tpm.public.parse, tpm.public.trailing.
 */
int tpm_public_parse(const uint8_t *p, size_t n, TPMT_PUBLIC *out, struct attest_err *err);
/* TPMS_CREATION_DATA. Errors: tpm.creation.parse, tpm.creation.trailing. */
int tpm_creation_data_parse(const uint8_t *p, size_t n, TPMS_CREATION_DATA *out,
			    struct attest_err *err);

/*
 * The OpenSSL key of an RSA or ECC (P-256/P-384) public area; exponent 0
 * means 65537 (Part 2 §12.2.3.5). *out is the caller's.
 * Errors: tpm.public.unsupported, tpm.public.key.
 */
int tpm_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct attest_err *err);
/* Name = nameAlg || H_nameAlg(marshalled TPMT_PUBLIC) (Part 1 §16). */
int tpm_public_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t cap, size_t *len,
		    struct attest_err *err);

/*
 * Verifies a TPMT_SIGNATURE over msg with key: RSASSA (PKCS#1 v1.5),
 * RSAPSS (MGF1 of the same hash, any salt length) or ECDSA (r, s), with the
 * hash the structure names. Errors: <code> (does not verify),
 * <code>.scheme (unsupported scheme or hash, or key type mismatch).
 */
int tpm_signature_verify(EVP_PKEY *key, const TPMT_SIGNATURE *sig, const uint8_t *msg, size_t len,
			 const char *code, struct attest_err *err);
/* The same, RSA schemes checked through key's kept contexts when pool is not NULL (crypto.h). */
int tpm_signature_verify_pooled(EVP_PKEY *key, struct verify_pool *pool, const TPMT_SIGNATURE *sig,
				const uint8_t *msg, size_t len, const char *code, struct attest_err *err);

/* base64(SHA-256(SubjectPublicKeyInfo DER)): MAA's aikPubHash (§2.4). */
int tpm_pkey_spki_sha256(EVP_PKEY *key, uint8_t out[32]);

/* ---- verified AIK chain cache ------------------------------------------- */

/*
 * A bounded, thread-safe cache of verified AIK certificate chains, so a
 * returning client (the same AIK certificate every time) costs a SHA-256
 * of its certificate instead of a DER decode and a chain verification
 * (snp_chain_cache and the Intel PCK chains work the same way). The key is
 * SHA-256 of the certificate DER and of each intermediate's, as received.
 * An entry holds the SHA-256 of the certified key's SubjectPublicKeyInfo,
 * the window in which every certificate of the verified chain is valid and
 * the root it ended at. A lookup is a hit only inside that window (up to
 * one second before the earliest notAfter), while that root is still one
 * of the trusted roots given, and when the certified key is the AIK;
 * anything else is a miss and verifies in full. Only chains that verified
 * are stored. Full: the least recently used chain goes.
 *
 * The same cache keeps the public keys a returning client sends again as
 * JWKs (its AIK, its request key), decoded, under the SHA-256 of their
 * exact JSON text (stored once the request verified): the same text decodes
 * to the same key, and a key
 * decoded afresh paid its decoding and its Montgomery set-up on every
 * request. Keys are shared read-only between threads (OpenSSL 3). Full:
 * the key stored first goes. Both kinds are evidence/chain_cache.h caches.
 */
struct tpm_aik_cache;

/* capacity 1..4096 entries (of each kind); NULL otherwise or out of memory. */
struct tpm_aik_cache *tpm_aik_cache_new(size_t capacity);
void tpm_aik_cache_free(struct tpm_aik_cache *cache);
/* Chain hits and misses so far (tests and metrics). */
void tpm_aik_cache_stats(struct tpm_aik_cache *cache, uint64_t *hits, uint64_t *misses);

/*
 * The key decoded from the JWK whose exact text hashes to id, with its
 * SPKI SHA-256 (tpm_pkey_spki_sha256): a new reference (caller frees), or
 * NULL when absent.
 */
EVP_PKEY *tpm_key_cache_get(struct tpm_aik_cache *cache, const uint8_t id[32], uint8_t spki[32]);
/* The same, with the key's kept verification contexts (a new reference in *pool: verify_pool_free). */
EVP_PKEY *tpm_key_cache_get_pooled(struct tpm_aik_cache *cache, const uint8_t id[32], uint8_t spki[32],
				   struct verify_pool **pool);
/*
 * The key cache's id of a TPM public area (TPM2B_PUBLIC or TPMT_PUBLIC as
 * the evidence carries it): the SHA-256 of its exact bytes behind a prefix
 * of its own, so that no JWK text (keyed by its plain SHA-256) shares an
 * id with it. 0, or -1 when hashing failed.
 */
int tpm_public_area_id(const uint8_t *area, size_t n, uint8_t id[32]);
/* Stores key (taking its own reference) and its SPKI SHA-256 under id. */
void tpm_key_cache_put(struct tpm_aik_cache *cache, const uint8_t id[32], EVP_PKEY *key,
		       const uint8_t spki[32]);

/* ---- quotes ------------------------------------------------------------- */

struct tpm_aik_trust {
	int64_t now;                      /* verification time */
	STACK_OF(X509) *roots;            /* AIK certificate issuers (may be NULL) */
	const uint8_t (*registered)[32];  /* SHA-256 of registered AIKs' SPKI */
	size_t n_registered;
	bool require_valid_aik_cert;      /* policy property (maa-interface.md §3.5) */
	struct tpm_aik_cache *cache;	  /* verified chains, shared (may be NULL) */
};

struct tpm_quote_in {
	const uint8_t *attest; /* TPMS_ATTEST */
	size_t attest_len;
	const uint8_t *sig; /* TPMT_SIGNATURE */
	size_t sig_len;
	EVP_PKEY *aik;           /* the AIK public key (borrowed) */
	X509 *aik_cert;          /* may be NULL (borrowed) */
	/* Or the certificate as DER (borrowed), decoded only when the cache misses. */
	const uint8_t *aik_cert_der;
	size_t aik_cert_der_len;
	/* tpm_pkey_spki_sha256(aik) when the caller has it (a cached key); NULL: computed here. */
	const uint8_t *aik_pub_hash;
	struct verify_pool *aik_pool; /* the cached AIK's kept verification contexts, or NULL (borrowed) */
	STACK_OF(X509) *aik_chain; /* intermediates, may be NULL (borrowed) */
	const uint8_t *nonce;    /* expected extraData */
	size_t nonce_len;
	bool skip_nonce;         /* boot-time quotes carry no fresh nonce */
	uint32_t required_pcr_mask; /* bit n = PCR n must be selected */
	int required_bank;          /* enum tpm_bank, or -1 = any one bank */
	const struct tpm_pcr_values *pcrs; /* values the digest must match */
};

struct tpm_quote_out {
	TPMS_ATTEST attest;            /* the verified structure */
	uint16_t sig_alg, sig_hash;    /* TPM_ALG_ID of scheme and hash */
	bool aik_cert_validated;       /* chain to a root verified */
	bool aik_registered;           /* key hash registered for the tenant */
	uint8_t aik_pub_hash[32];
	uint32_t selected[TPM_BANK_COUNT]; /* PCR selection by bank */
};

/*
 * The whole quote check above. `out` is filled only on success.
 * Errors: tpm.attest.*, tpm.signature.*, tpm.quote.signature,
 * tpm.aik.cert_required, tpm.aik.cert.parse (aik_cert_der is not one DER
 * certificate), tpm.aik.cert.* (chain), tpm.aik.cert_key_mismatch,
 * tpm.aik.untrusted, tpm.quote.magic, tpm.quote.type, tpm.quote.nonce,
 * tpm.quote.pcr_mask, tpm.quote.pcr_bank, tpm.quote.pcr_missing,
 * tpm.quote.pcr_digest.
 */
int tpm_quote_verify(const struct tpm_quote_in *in, const struct tpm_aik_trust *trust,
		     struct tpm_quote_out *out, struct attest_err *err);

/*
 * Only the cryptographic trust of the AIK (step 3): certificate chain at
 * trust->now, certificate key == aik, or registration.
 */
int tpm_aik_check(EVP_PKEY *aik, X509 *cert, STACK_OF(X509) *chain, const struct tpm_aik_trust *trust,
		  bool *cert_validated, bool *registered, struct attest_err *err);

/*
 * The PCR digest a TPM computes for this selection over these values
 * (Part 3 §18.4: concatenation in selection order, ascending index), with
 * the hash alg (TPM_ALG_ID). Errors: tpm.quote.pcr_bank,
 * tpm.quote.pcr_missing.
 */
int tpm_pcr_digest(const TPML_PCR_SELECTION *sel, const struct tpm_pcr_values *pcrs, uint16_t alg,
		   uint8_t *out, size_t *outlen, struct attest_err *err);

/*
 * A TPM2_CertifyCreation check (formats.md §7.3): `attest` is a
 * TPM_ST_ATTEST_CREATION signed by `signer`, objectName == Name(pub) and
 * creationHash == H_nameAlg(creation data). Errors: tpm.creation.*.
 */
int tpm_creation_verify(const TPMT_PUBLIC *pub, EVP_PKEY *signer, const uint8_t *attest,
			size_t attest_len, const uint8_t *sig, size_t sig_len,
			const uint8_t *creation_data, size_t creation_data_len, struct attest_err *err);

/*
 * A TPM2_Certify check (v2 protocol `tpm_certify`): `attest` is a
 * TPM_ST_ATTEST_CERTIFY signed by the AIK whose certified name equals
 * Name(pub); through the AIK's kept verification contexts when aik_pool
 * is not NULL. Errors: tpm.certify.*.
 */
int tpm_certify_verify(const TPMT_PUBLIC *pub, EVP_PKEY *aik, struct verify_pool *aik_pool,
		       const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len,
		       struct attest_err *err);

#endif
