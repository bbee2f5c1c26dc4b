#ifndef ATTEST_SERVER_ROUTES_PCCS_H
#define ATTEST_SERVER_ROUTES_PCCS_H

/*
 * What the PCCS read routes (routes_pccs.c, issue 12) parse of a request
 * and of the items they serve, as pure functions over strings so a fuzz
 * target drives them (fuzz/server/fuzz_pccs_query.c) without a server.
 * Each parser checks what Intel PCS v4 / AMD KDS accept (formats.md §3.1,
 * §5.8) and returns false with a message naming the stable code
 * ("pccs.fmspc", "pccs.select", ...) in why (always NUL-terminated).
 */

#include "collateral/collateral.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The request's query arguments: get returns one by name (decoded) or NULL. */
struct pccs_query {
	const char *(*get)(void *ctx, const char *name);
	void *ctx;
};

/* fmspc: exactly 12 hex digits. */
bool pccs_parse_fmspc(const struct pccs_query *q, uint8_t fmspc[6], char *why, size_t n);

/* update=standard|early or tcbEvaluationDataNumber=1..2^32-1, never both; none = the standard set. */
bool pccs_parse_select(const struct pccs_query *q, struct collateral_select *sel, char *why, size_t n);

/* ca=processor|platform (any case), encoding absent (PEM, PCS's default) or der|pem. */
bool pccs_parse_pckcrl(const struct pccs_query *q, enum collateral_pck_ca *ca, bool *der, char *why,
		       size_t n);

/* A PCK certificate query: encrypted_ppid (512 or 768 hex), cpusvn (32), pcesvn (4, LE), pceid (4), qeid (32,
 * optional). */
struct pccs_pck_params {
	uint8_t ppid[384];
	size_t ppid_len;
	uint8_t cpusvn[16];
	uint16_t pcesvn;
	uint8_t pceid[2];
};
bool pccs_parse_pckcert(const struct pccs_query *q, struct pccs_pck_params *out, char *why, size_t n);

/*
 * A KDS VCEK request: product Milan|Genoa|Turin (else *status 404), hwid
 * of 128 hex digits (Turin: 16, CHIP_ID[0:8]) and the product's SPLs
 * (decimal 0..255) as REPORTED_TCB, the little-endian u64 collateral.h
 * takes (else *status 400).
 */
bool pccs_parse_vcek(const char *product, const char *hwid, const struct pccs_query *q, uint8_t chip_id[64],
		     uint64_t *tcb, int *status, char *why, size_t n);

/*
 * True when an item names what was asked in its signed member: TCB Info
 * tcbInfo.fmspc (any case) and tcbInfo.id "SGX"/"TDX" (v2, without id: SGX
 * only); identities (fmspc NULL) enclaveIdentity.id. len bytes, need not
 * be NUL-terminated.
 */
bool pccs_item_matches(const uint8_t *doc, size_t len, const char *member, const char *fmspc, const char *id);

#endif
