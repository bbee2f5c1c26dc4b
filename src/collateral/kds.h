#ifndef ATTEST_COLLATERAL_KDS_H
#define ATTEST_COLLATERAL_KDS_H

/*
 * AMD Key Distribution Service client as the amd_* slots of a collateral
 * source (collateral.h; formats.md §5.8, host https://kdsintf.amd.com):
 *
 *   amd_vcek        GET <base>/vcek/v1/{Milan|Genoa}/{CHIP_ID hex, 128}?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U
 *                   Turin: /vcek/v1/Turin/{CHIP_ID[0:8] hex,
 * 16}?fmcSPL=F&blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. (DER; decimal SPLs from REPORTED_TCB) amd_cert_chain
 * GET <base>/{vcek|vlek}/v1/{Product}/cert_chain  (PEM ASK|ASVK then ARK) amd_crl         GET
 * <base>/{vcek|vlek}/v1/{Product}/crl         (DER)
 *
 * VLEK leaves are not served by KDS (the cloud provider holds them), so a
 * VLEK lookup goes to the vlek paths for its chain and CRL only.
 *
 * AMD throttles KDS to about one request per 10 s per address: requests
 * from one source are spaced min_interval_ms apart (default 10000), a
 * request waits for its slot up to max_wait_ms (default: one interval) and
 * is otherwise refused with collateral.kds.rate_limited; a 429 gate is
 * honoured as in pcs_http.h. Nothing is verified here.
 * Errors: collateral.kds.http / .timeout / .io / .rate_limited /
 * .not_found / .too_large, collateral.invalid (unknown product). URLs are
 * built by amd_kds_vcek_url / amd_kds_url (amd_collateral.h).
 */

#include "attest/error.h"
#include "collateral/collateral.h"

#include <stdint.h>

#define KDS_DEFAULT_BASE_URL	"https://kdsintf.amd.com"
#define KDS_DEFAULT_INTERVAL_MS 10000

struct kds_options {
	const char *base_url;	 /* NULL = KDS_DEFAULT_BASE_URL */
	int64_t min_interval_ms; /* 0 = KDS_DEFAULT_INTERVAL_MS; < 0 = no spacing */
	int64_t max_wait_ms;	 /* 0 = one interval */
	const char *ca_file;	 /* HTTPS trust; NULL = system store */
	const uint8_t *ca_pem;
	size_t ca_pem_len;
	long connect_timeout_ms;
	long timeout_ms;
};

/* A source with only the AMD slots. Free with collateral_source_free() then free(). */
int kds_source_new(const struct kds_options *o, struct collateral_source **out, struct attest_err *err);
void kds_source_stats(const struct collateral_source *src, uint64_t *requests, uint64_t *refused);

#endif
