#ifndef ATTEST_EVIDENCE_QUOTE_H
#define ATTEST_EVIDENCE_QUOTE_H

/*
 * Intel ECDSA quotes, versions 3, 4 and 5, shared by the SGX and TDX
 * verifiers (formats.md §1). quote_parse() validates the whole structure
 * (header, body descriptor, signature data, QE report certification data,
 * certification data) before anything is interpreted; it allocates nothing:
 * every pointer in struct quote points into the caller's bytes, which must
 * outlive it.
 *
 * The body is exposed generically (type, bytes): SGX bodies are decoded here
 * (struct sgx_report_body, also the layout of the QE report); TD bodies
 * (584 / 648 bytes) are interpreted by tdx.c with the offsets below.
 *
 * Error names start with the caller's prefix ("sgx" or "tdx"):
 *   <p>.quote.truncated      a length runs past the end (where: quote+offset)
 *   <p>.quote.version        version not 3, 4 or 5
 *   <p>.quote.att_key_type   attestation key type not 2 (ECDSA P-256)
 *   <p>.quote.tee_type       tee_type not SGX/TDX, or not the one expected
 *   <p>.quote.qe_vendor      QE vendor id is not Intel's
 *   <p>.quote.body_type      v5 body type/size pair not allowed
 *   <p>.quote.cert_type      certification data type not allowed here
 *   <p>.quote.cert_data      type-6 payload does not end where its inner data ends
 *   <p>.quote.sig_len        signature data length is too small for its contents
 */

#include "attest/error.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* §1.2 header */
#define QUOTE_HEADER_SIZE	   48
#define QUOTE_HDR_OFF_VERSION	   0
#define QUOTE_HDR_OFF_ATT_KEY_TYPE 2
#define QUOTE_HDR_OFF_TEE_TYPE	   4
#define QUOTE_HDR_OFF_QE_SVN	   8
#define QUOTE_HDR_OFF_PCE_SVN	   10
#define QUOTE_HDR_OFF_QE_VENDOR_ID 12
#define QUOTE_HDR_OFF_USER_DATA	   28

#define QUOTE_VERSION_3		 3
#define QUOTE_VERSION_4		 4
#define QUOTE_VERSION_5		 5
#define QUOTE_ATT_KEY_ECDSA_P256 2
#define QUOTE_TEE_SGX		 0x00000000u
#define QUOTE_TEE_TDX		 0x00000081u
/* Intel's QE vendor id 939A7233-F79C-4CA9-940A-0DB3957F0607 (bytes as stored). */
extern const uint8_t QUOTE_INTEL_QE_VENDOR_ID[16];

/* §1.5 v5 body descriptor: u16 type, u32 size, at offset 48. */
#define QUOTE_V5_DESCRIPTOR_SIZE 6
enum quote_body_type {
	QUOTE_BODY_SGX = 1,  /* sgx_report_body_t, 384 bytes */
	QUOTE_BODY_TD10 = 2, /* TDX 1.0 TD report, 584 bytes */
	QUOTE_BODY_TD15 = 3, /* TDX 1.5 TD report, 648 bytes */
};
#define SGX_REPORT_BODY_SIZE  384
#define TD10_REPORT_BODY_SIZE 584
#define TD15_REPORT_BODY_SIZE 648

/* §1.3 SGX report body offsets (also the QE report). */
#define SGX_RB_OFF_CPUSVN	0
#define SGX_RB_OFF_MISCSELECT	16
#define SGX_RB_OFF_ISVEXTPRODID 32
#define SGX_RB_OFF_ATTRIBUTES	48
#define SGX_RB_OFF_MRENCLAVE	64
#define SGX_RB_OFF_MRSIGNER	128
#define SGX_RB_OFF_CONFIGID	192
#define SGX_RB_OFF_ISVPRODID	256
#define SGX_RB_OFF_ISVSVN	258
#define SGX_RB_OFF_CONFIGSVN	260
#define SGX_RB_OFF_ISVFAMILYID	304
#define SGX_RB_OFF_REPORTDATA	320
/* ATTRIBUTES.FLAGS bits (§1.3) */
#define SGX_FLAGS_INIT		 0x1ull
#define SGX_FLAGS_DEBUG		 0x2ull
#define SGX_FLAGS_MODE64BIT	 0x4ull
#define SGX_FLAGS_PROVISION_KEY	 0x10ull
#define SGX_FLAGS_EINITTOKEN_KEY 0x20ull
#define SGX_FLAGS_KSS		 0x80ull

/* §1.4 TD report body offsets (for tdx.c and the TDX TCB inputs). */
#define TD_RB_OFF_TEE_TCB_SVN	 0
#define TD_RB_OFF_MRSEAM	 16
#define TD_RB_OFF_MRSIGNERSEAM	 64
#define TD_RB_OFF_SEAMATTRIBUTES 112
#define TD_RB_OFF_TDATTRIBUTES	 120
#define TD_RB_OFF_XFAM		 128
#define TD_RB_OFF_MRTD		 136
#define TD_RB_OFF_MRCONFIGID	 184
#define TD_RB_OFF_MROWNER	 232
#define TD_RB_OFF_MROWNERCONFIG	 280
#define TD_RB_OFF_RTMR0		 328
#define TD_RB_OFF_RTMR1		 376
#define TD_RB_OFF_RTMR2		 424
#define TD_RB_OFF_RTMR3		 472
#define TD_RB_OFF_REPORTDATA	 520
#define TD_RB_OFF_TEE_TCB_SVN2	 584 /* TDX 1.5 only */
#define TD_RB_OFF_MRSERVICETD	 600 /* TDX 1.5 only */

/* §1.6 signature data */
#define QUOTE_ECDSA_SIG_SIZE 64
#define QUOTE_ECDSA_KEY_SIZE 64
#define QUOTE_QE_REPORT_SIZE SGX_REPORT_BODY_SIZE
/* Smallest quote QVL accepts before parsing (§1.1). */
#define QUOTE_MIN_SIZE 1020

/* Certification data types (sgx_ql_cert_key_type_t). */
enum quote_cert_type {
	QUOTE_CERT_PPID_CLEARTEXT = 1,
	QUOTE_CERT_PPID_RSA2048_ENCRYPTED = 2,
	QUOTE_CERT_PPID_RSA3072_ENCRYPTED = 3,
	QUOTE_CERT_PCK_CLEARTEXT = 4,
	QUOTE_CERT_PCK_CHAIN = 5,
	QUOTE_CERT_QE_REPORT = 6,
	QUOTE_CERT_PLATFORM_MANIFEST = 7,
};

struct quote_header {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;
	uint16_t qe_svn;  /* v3 only; reserved in v4/v5 */
	uint16_t pce_svn; /* informational */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
};

/* sgx_report_body_t, decoded (§1.3). Reserved fields are not kept. */
struct sgx_report_body {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t isvextprodid[16];
	uint8_t attributes[16]; /* FLAGS (u64 LE) then XFRM (u64 LE), report order */
	uint64_t flags;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint8_t configid[64];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t configsvn;
	uint8_t isvfamilyid[16];
	uint8_t reportdata[64];
};

/* Decodes 384 bytes already bounds-checked by the caller. */
void sgx_report_body_decode(const uint8_t raw[SGX_REPORT_BODY_SIZE], struct sgx_report_body *out);

/*
 * Types 1-3: the PPID the collateral source resolves into a PCK certificate
 * (collateral_source pck_cert). Pointers into the quote.
 */
struct quote_ppid {
	const uint8_t *ppid; /* 16 clear, 256 or 384 encrypted */
	size_t ppid_len;
	const uint8_t *cpusvn; /* 16 */
	uint16_t pcesvn;
	const uint8_t *pceid; /* 2 */
};

struct quote {
	struct quote_header hdr;
	const uint8_t *raw; /* the whole input as given */
	size_t raw_len;
	size_t len;	 /* bytes up to the end of the signature data */
	size_t trailing; /* bytes after it (QVL ignores them, §1.7) */

	/* signed by the attestation key: header [+ v5 descriptor] + body */
	const uint8_t *signed_data;
	size_t signed_len;

	enum quote_body_type body_type;
	const uint8_t *body; /* body_len bytes */
	size_t body_len;
	struct sgx_report_body sgx; /* valid when body_type == QUOTE_BODY_SGX */

	uint32_t sig_data_len;
	const uint8_t *isv_sig;	  /* 64: r || s BE */
	const uint8_t *att_key;	  /* 64: x || y BE */
	const uint8_t *qe_report; /* 384 */
	struct sgx_report_body qe;
	const uint8_t *qe_report_sig; /* 64 */
	const uint8_t *qe_auth;
	uint16_t qe_auth_len;

	/* the certification data that identifies the PCK (inner one for v4/v5) */
	uint16_t cert_type;
	const uint8_t *cert_data;
	uint32_t cert_data_len;
	struct quote_ppid ppid; /* types 1-3 */
};

/*
 * Parses and structurally validates a quote. `prefix` starts error names
 * ("sgx", "tdx"). expected_tee: QUOTE_TEE_SGX, QUOTE_TEE_TDX, or
 * QUOTE_TEE_ANY to accept either. On success *q is filled (pointers into p).
 */
#define QUOTE_TEE_ANY 0xffffffffu
int quote_parse(const uint8_t *p, size_t n, uint32_t expected_tee, struct quote *q, const char *prefix,
		struct attest_err *err);

/*
 * QE binding (§1.7 step 4): QE REPORTDATA[0:32] == SHA-256(att_key || qe_auth),
 * REPORTDATA[32:64] zero. Error: <p>.qe_report.binding.
 */
int quote_verify_qe_binding(const struct quote *q, const char *prefix, struct attest_err *err);

/*
 * QE report signature by the PCK key (§1.7 step 3), over the 384 QE report
 * bytes. Error: <p>.qe_report.signature.
 */
int quote_verify_qe_report_sig(const struct quote *q, EVP_PKEY *pck_key, const char *prefix,
			       struct attest_err *err);

/*
 * ISV signature with the attestation key over the signed region (§1.7
 * step 5). Errors: <p>.quote.attestation_key (not a P-256 point),
 * <p>.quote.signature.
 */
int quote_verify_isv_sig(const struct quote *q, const char *prefix, struct attest_err *err);
/* The same in two steps, so a caller can keep the parsed key (new reference in *key). */
int quote_attestation_key(const struct quote *q, EVP_PKEY **key, const char *prefix, struct attest_err *err);
int quote_verify_isv_sig_with_key(const struct quote *q, EVP_PKEY *key, const char *prefix,
				  struct attest_err *err);

/*
 * The PEM text of a type-5 certification data (§1.6): the PEM blocks with
 * trailing whitespace/NULs removed; anything else after the last END line
 * is an error (<p>.quote.cert_data). *pem points into the quote.
 */
int quote_pck_chain_pem(const struct quote *q, const uint8_t **pem, size_t *pem_len, const char *prefix,
			struct attest_err *err);

#endif
