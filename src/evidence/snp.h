#ifndef ATTEST_EVIDENCE_SNP_H
#define ATTEST_EVIDENCE_SNP_H

/*
 * AMD SEV-SNP attestation reports (formats.md §5; AMD SEV-SNP Firmware ABI
 * specification, pub. 56860, "ATTESTATION_REPORT Structure") verified to
 * AMD's roots: ARK (self-signed, RSA-PSS) -> ASK or ASVK -> VCEK or VLEK ->
 * report (ECDSA P-384 / SHA-384 over bytes 0x000..0x29F, r and s
 * little-endian).
 *
 * Entry points:
 *   snp_verify       the raw report (optionally followed by the GHCB
 *                    certificate table of an extended report, §5.9); the
 *                    VCEK comes from that table or from the AMD collateral
 *                    source.
 *   sevsnpvm_verify  Azure's /attest/SevSnpVm envelope (azure_cvm.h).
 *   snp_verify_report the building block both use: report bytes plus the
 *                    leaf certificate and chain given explicitly.
 *
 * Error names start with "snp." ("snp.report.*" structure, "snp.vcek.*"
 * leaf binding, "snp.chain.*" certificate chain, "snp.signature" report
 * signature, "snp.binding.*" runtime/init-time data).
 */

#include "attest/error.h"
#include "claims/claims.h"
#include "collateral/amd_tcb.h"
#include "evidence/evidence.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The report layout (formats.md §5.1), offsets from the report start -- */
#define SNP_REPORT_SIZE 0x4A0u
#define SNP_SIGNED_SIZE 0x2A0u /* the signature covers bytes 0x000..0x29F */

#define SNP_OFF_VERSION		   0x000u
#define SNP_OFF_GUEST_SVN	   0x004u
#define SNP_OFF_POLICY		   0x008u
#define SNP_OFF_FAMILY_ID	   0x010u
#define SNP_OFF_IMAGE_ID	   0x020u
#define SNP_OFF_VMPL		   0x030u
#define SNP_OFF_SIGNATURE_ALGO	   0x034u
#define SNP_OFF_CURRENT_TCB	   0x038u
#define SNP_OFF_PLATFORM_INFO	   0x040u
#define SNP_OFF_SIGNER_INFO	   0x048u
#define SNP_OFF_RESERVED0	   0x04Cu
#define SNP_OFF_REPORT_DATA	   0x050u
#define SNP_OFF_MEASUREMENT	   0x090u
#define SNP_OFF_HOST_DATA	   0x0C0u
#define SNP_OFF_ID_KEY_DIGEST	   0x0E0u
#define SNP_OFF_AUTHOR_KEY_DIGEST  0x110u
#define SNP_OFF_REPORT_ID	   0x140u
#define SNP_OFF_REPORT_ID_MA	   0x160u
#define SNP_OFF_REPORTED_TCB	   0x180u
#define SNP_OFF_CPUID_FAM_ID	   0x188u
#define SNP_OFF_CPUID_MOD_ID	   0x189u
#define SNP_OFF_CPUID_STEP	   0x18Au
#define SNP_OFF_RESERVED1	   0x18Bu
#define SNP_OFF_CHIP_ID		   0x1A0u
#define SNP_OFF_COMMITTED_TCB	   0x1E0u
#define SNP_OFF_CURRENT_VERSION	   0x1E8u /* build, minor, major, reserved */
#define SNP_OFF_COMMITTED_VERSION  0x1ECu
#define SNP_OFF_LAUNCH_TCB	   0x1F0u
#define SNP_OFF_LAUNCH_MIT_VECTOR  0x1F8u
#define SNP_OFF_CURRENT_MIT_VECTOR 0x200u
#define SNP_OFF_RESERVED2	   0x208u
#define SNP_OFF_SIGNATURE	   0x2A0u
#define SNP_OFF_SIG_R		   0x2A0u
#define SNP_OFF_SIG_S		   0x2E8u
#define SNP_OFF_SIG_RESERVED	   0x330u
#define SNP_SIG_COMPONENT_SIZE	   72u

/* Report versions this verifier knows (§5.1: 2; 3 adds CPUID; 4 as 3; 5 adds MIT vectors). */
#define SNP_REPORT_VERSION_MIN 2u
#define SNP_REPORT_VERSION_MAX 5u

#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

/* Guest POLICY bits (§5.3). */
#define SNP_POLICY_ABI_MINOR(p)	     ((unsigned)((p)&0xFFu))
#define SNP_POLICY_ABI_MAJOR(p)	     ((unsigned)(((p) >> 8) & 0xFFu))
#define SNP_POLICY_SMT		     (1ull << 16)
#define SNP_POLICY_RESERVED_ONE	     (1ull << 17)
#define SNP_POLICY_MIGRATE_MA	     (1ull << 18)
#define SNP_POLICY_DEBUG	     (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET     (1ull << 20)
#define SNP_POLICY_CXL_ALLOW	     (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS   (1ull << 22)
#define SNP_POLICY_RAPL_DIS	     (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_MBZ_MASK	     (~0ull << 26)

/* PLATFORM_INFO bits (§5.4). */
#define SNP_PLATFORM_SMT_EN		  (1ull << 0)
#define SNP_PLATFORM_TSME_EN		  (1ull << 1)
#define SNP_PLATFORM_ECC_EN		  (1ull << 2)
#define SNP_PLATFORM_RAPL_DIS		  (1ull << 3)
#define SNP_PLATFORM_CIPHERTEXT_HIDING_EN (1ull << 4)
#define SNP_PLATFORM_ALIAS_CHECK_COMPLETE (1ull << 5)
#define SNP_PLATFORM_TIO_EN		  (1ull << 7)
#define SNP_PLATFORM_MBZ_MASK		  ((~0ull << 8) | (1ull << 6))

/* Signer info word at 0x48 (§5.1). */
#define SNP_SIGNER_AUTHOR_KEY_EN     (1u << 0)
#define SNP_SIGNER_MASK_CHIP_KEY     (1u << 1)
#define SNP_SIGNER_SIGNING_KEY_SHIFT 2
#define SNP_SIGNER_SIGNING_KEY_MASK  0x7u
#define SNP_SIGNER_MBZ_MASK	     (~0u << 5)

enum snp_signing_key { SNP_KEY_VCEK = 0, SNP_KEY_VLEK = 1, SNP_KEY_NONE = 7 };

/* Product lines, TCB_VERSION layout (snp_tcb_decode/encode): collateral/amd_tcb.h. */

/*
 * Every field of one ATTESTATION_REPORT, read through the cursor. Points
 * into nothing: all fields are copies, so the report outlives its input.
 */
struct snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t signature_algo;
	uint8_t current_tcb[8];
	uint64_t platform_info;
	uint32_t signer_info;
	bool author_key_en;
	bool mask_chip_key;
	unsigned signing_key; /* enum snp_signing_key */
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint8_t reported_tcb[8];
	bool has_cpuid; /* version >= 3 */
	uint8_t cpuid_fam_id;
	uint8_t cpuid_mod_id;
	uint8_t cpuid_step;
	uint8_t chip_id[64];
	uint8_t committed_tcb[8];
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint8_t launch_tcb[8];
	bool has_mit_vectors; /* version >= 5 */
	uint64_t launch_mit_vector;
	uint64_t current_mit_vector;
	uint8_t sig_r[SNP_SIG_COMPONENT_SIZE];
	uint8_t sig_s[SNP_SIG_COMPONENT_SIZE];
	uint8_t signed_bytes[SNP_SIGNED_SIZE]; /* what the signature covers */
};

/*
 * Parses exactly SNP_REPORT_SIZE bytes (a longer or shorter input is an
 * error: snp.report.truncated / snp.report.trailing) and checks the
 * structure: known version (snp.report.version), signature algorithm
 * (snp.report.sig_algo), VMPL 0-3 (snp.report.vmpl), signing key VCEK or
 * VLEK (snp.report.signing_key, snp.report.unsigned), every reserved bit
 * and byte zero (snp.report.reserved, naming the field), policy bit 17 set
 * and bits 63:26 zero (snp.report.policy), platform-info reserved bits
 * zero (snp.report.platform_info). *out is written only on success.
 */
int snp_report_parse(const uint8_t *p, size_t n, struct snp_report *out, struct attest_err *err);

/*
 * The product line a report names: v3+ from CPUID_FAM_ID / CPUID_MOD_ID
 * (Milan: family 0x19 model 0x00-0x0F; Genoa: 0x19, 0x10-0x1F or
 * 0xA0-0xAF; Turin: 0x1A, 0x00-0x11), AMD_PRODUCT_UNKNOWN for v2 reports
 * (which carry no CPUID) or an unknown CPU.
 */
enum amd_product snp_report_product(const struct snp_report *r);

/* ---- The verified-chain cache ------------------------------------------ */

/*
 * A bounded, thread-safe cache of verified AMD chains (ARK -> ASK/ASVK ->
 * VCEK/VLEK), keyed by SHA-256 of the certificate (and CRL) bytes as
 * received. An entry holds the leaf's public key and decoded extensions and
 * the time window in which the whole chain (and CRLs) is valid, up to one
 * second before the earliest notAfter or nextUpdate; a lookup outside that
 * window is a miss. The caller owns the cache and shares it between
 * threads; when it is full the least recently used entry goes
 * (evidence/chain_cache.h).
 */
struct snp_chain_cache;

/* capacity 1..4096 entries (one per platform: chip and TCB); NULL otherwise. */
struct snp_chain_cache *snp_chain_cache_new(size_t capacity);
void snp_chain_cache_free(struct snp_chain_cache *cache);
/* Number of hits and misses so far (tests and metrics). */
void snp_chain_cache_stats(struct snp_chain_cache *cache, uint64_t *hits, uint64_t *misses);

/* ---- Verification -------------------------------------------------------- */

/*
 * Certificates that come with the evidence. Each field may be NULL/0, and
 * each certificate may be DER or PEM. leaf: the VCEK or VLEK. ask, ark: the
 * ASK (or ASVK) and ARK one by one (GHCB table). chain: PEM text with any
 * of leaf, ASK/ASVK and ARK in any order (AMD's cert_chain is ASK then ARK;
 * Azure's VcekCertChain is VCEK, ASK, ARK), sorted by CN. crl: AMD's CRL.
 */
struct snp_certs {
	const uint8_t *leaf;
	size_t leaf_len;
	const uint8_t *ask;
	size_t ask_len;
	const uint8_t *ark;
	size_t ark_len;
	const uint8_t *chain;
	size_t chain_len;
	/*
	 * Or the chain as base64 of that PEM text (Azure's VcekCertChain), decoded
	 * only when the verified chain is not in a cache (the key hashes this text).
	 */
	const char *chain_b64;
	size_t chain_b64_len;
	const uint8_t *crl;
	size_t crl_len;
};

/* Options beyond evidence_ctx. Each field may be NULL. */
struct snp_opts {
	struct snp_chain_cache *cache; /* verified chains, shared between threads */
};

/* What verification established, beside the claims. */
struct snp_result {
	struct snp_report report;
	enum amd_product product;
	bool vlek;	       /* signed by a VLEK */
	bool crl_checked;      /* an AMD CRL was applied */
	char product_name[32]; /* the leaf's productName */
	struct snp_tcb current, reported, committed, launch;
	/*
	 * SHA-256 of the items looked up in the collateral source (not of
	 * what came with the evidence, which the evidence itself pins): the
	 * VCEK, the ASK/ASVK+ARK chain, the CRL applied. Claimed as
	 * x-attestd-snp-collateral, so a receipt can name what it relied on.
	 */
	uint8_t vcek_hash[32], chain_hash[32], crl_hash[32];
	bool has_vcek_hash, has_chain_hash, has_crl_hash;
};

/*
 * Verifies one report: parse, chain to the ARK of its product at ctx->now
 * (ctx->anchors->amd_arks when set, else the built-in ARKs), leaf binding
 * (VCEK hwID == CHIP_ID, SPL extensions == REPORTED_TCB; VLEK chain for a
 * VLEK-signed report), CRL when one is given or found, and the report
 * signature. When certs holds no leaf, the VCEK is looked up through
 * ctx->collateral (collateral/amd_collateral.h), and the CRL likewise when
 * certs holds none. On success fills *res (optional).
 */
int snp_verify_report(const struct evidence_ctx *ctx, const struct snp_opts *opts, const uint8_t *report,
		      size_t report_len, const struct snp_certs *certs, struct snp_result *res,
		      struct attest_err *err);

/*
 * Binds runtime data to REPORT_DATA (SHA-256 in bytes 0..31, bytes 32..63
 * zero; snp.binding.runtime) and init-time data to HOST_DATA (SHA-256;
 * snp.binding.inittime), as maa-interface.md §1.3.1 says. Absent data is
 * not checked.
 */
int snp_bind_data(const struct snp_report *r, const struct evidence_input *in, struct attest_err *err);

/*
 * The claims of a verified report, named and typed as Azure Attestation
 * emits them (maa-interface.md §2.5) plus the raw TCB values and decoded
 * policy (docs/claims-snp.md). Adds x-ms-attestation-type "sevsnpvm".
 */
int snp_claims_add(const struct snp_result *res, struct claim_set *out, struct attest_err *err);

/*
 * Adds x-ms-runtime / x-ms-inittime (JSON data), as §1.3.1 says. JSON that
 * does not parse is snp.runtime.json / snp.inittime.json.
 */
int snp_claims_add_data(const struct evidence_input *in, struct claim_set *out, struct attest_err *err);

/*
 * The uniform entry point (evidence.h). in->evidence is the 1184-byte
 * report, optionally followed by the GHCB certificate table (§5.9) of an
 * extended report carrying the VCEK/VLEK, ASK/ASVK and ARK. Without a
 * table, the VCEK is looked up through the collateral source. No cache.
 */
int snp_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	       struct attest_err *err);
/* Same with a verified-chain cache. */
int snp_verify_ex(const struct evidence_ctx *ctx, const struct snp_opts *opts,
		  const struct evidence_input *in, struct claim_set *out, struct attest_err *err);

/*
 * Splits a GHCB certificate table (§5.9: 24-byte entries {GUID, u32 offset,
 * u32 length}, all-zero terminator, offsets from the table start) into the
 * certificates it names. Pointers point into table. snp.certtable.* errors.
 */
struct snp_cert_table {
	const uint8_t *vcek, *vlek, *ask, *ark;
	size_t vcek_len, vlek_len, ask_len, ark_len;
};
int snp_cert_table_parse(const uint8_t *table, size_t len, struct snp_cert_table *out,
			 struct attest_err *err);

/* The GUIDs of the table entries, as bytes in table order (§5.9). */
extern const uint8_t SNP_GUID_VCEK[16], SNP_GUID_VLEK[16], SNP_GUID_ASK[16], SNP_GUID_ARK[16];

#endif
