#ifndef ATTEST_COLLATERAL_PCS_H
#define ATTEST_COLLATERAL_PCS_H

/*
 * Intel PCS v4 / PCCS client as a collateral source (collateral.h; issue
 * 12; formats.md §3.1 endpoints and headers, §2.3 CRL distribution):
 *
 *   pck_crl      GET <base>/sgx/certification/v4/pckcrl?ca=processor|platform&encoding=der
 *                chain: SGX-PCK-CRL-Issuer-Chain (URL-encoded PEM, CA then root)
 *   tcb_info     GET <base>/{sgx|tdx}/certification/v4/tcb?fmspc=<12 hex>[&update=early|standard]
 *                chain: TCB-Info-Issuer-Chain, else SGX-TCB-Info-Issuer-Chain (v3 name)
 *   qe_identity  GET <base>/{sgx|tdx}/certification/v4/{qe|qve|qae}/identity[?update=...]
 *                chain: SGX-Enclave-Identity-Issuer-Chain
 *   tcb_info_ex, qe_identity_ex: the same requests with update=early, or
 *                tcbEvaluationDataNumber=<N> instead of update (a numbered set)
 *   root_ca_crl  GET <root_ca_crl_url> (Intel's IntelSGXRootCA.der, or a PCCS's
 *                <base>/sgx/certification/v4/rootcacrl), no chain
 *   pck_cert     GET <base>/sgx/certification/v4/pckcert?encrypted_ppid=..&cpusvn=..&pcesvn=..&pceid=..
 *                (encrypted PPID only; a clear PPID is collateral.pcs.unsupported)
 *                (needs api_key against Intel's PCS), chain: SGX-PCK-Certificate-Issuer-Chain
 *
 * Bytes and chain come back exactly as the file source returns them; the
 * verifiers verify. A missing issuer-chain header, or one that does not
 * URL-decode to PEM, is collateral.pcs.header. Other errors: see pcs_http.h
 * (collateral.pcs.http / .timeout / .io / .rate_limited / .not_found / .too_large).
 */

#include "attest/error.h"
#include "collateral/collateral.h"

#include <stdbool.h>
#include <stdint.h>

#define PCS_DEFAULT_BASE_URL	    "https://api.trustedservices.intel.com"
#define PCS_DEFAULT_ROOT_CA_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

enum pcs_update { PCS_UPDATE_DEFAULT = 0, PCS_UPDATE_STANDARD, PCS_UPDATE_EARLY };

struct pcs_options {
	const char *base_url; /* NULL = PCS_DEFAULT_BASE_URL; a PCCS: "https://pccs:8081" */
	/*
	 * NULL: PCS_DEFAULT_ROOT_CA_CRL_URL with Intel's base URL, and
	 * <base>/sgx/certification/v4/rootcacrl with any other (a PCCS), whose
	 * hex-text answer (PCCS v3 style) is decoded to DER.
	 */
	const char *root_ca_crl_url;
	const char *api_key;	/* PCS subscription key (pckcert only); NULL none */
	enum pcs_update update; /* update=standard|early on tcb and identity requests */
	const char *ca_file;	/* HTTPS trust; NULL = system store */
	const uint8_t *ca_pem;	/* or PEM bytes; NULL = not used */
	size_t ca_pem_len;
	long connect_timeout_ms; /* 0 = 5 s */
	long timeout_ms;	 /* 0 = 15 s */
};

/* *out is freed with collateral_source_free() then free(), like the file source. */
int pcs_source_new(const struct pcs_options *o, struct collateral_source **out, struct attest_err *err);

/* Requests sent upstream and requests refused by the 429 gate, since creation. */
void pcs_source_stats(const struct collateral_source *src, uint64_t *requests, uint64_t *refused);

/*
 * URL-decodes an issuer-chain header value and checks that it is PEM
 * (starts with "-----BEGIN CERTIFICATE-----"). *chain malloc'd, NUL-terminated.
 * Error: <code>.header.
 */
int pcs_decode_chain_header(const char *value, const char *header, const char *code, uint8_t **chain,
			    size_t *chain_len, struct attest_err *err);

#endif
