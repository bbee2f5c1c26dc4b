#ifndef ATTEST_COLLATERAL_AMD_COLLATERAL_H
#define ATTEST_COLLATERAL_AMD_COLLATERAL_H

/*
 * AMD SEV-SNP collateral from a folder laid out like AMD's Key Distribution
 * Service (formats.md §5.8), so a mirror of KDS answers work as they are:
 *
 *   <dir>/vcek/v1/<Product>/<hwid>/<tcb>.der   VCEK for one chip and TCB
 *   <dir>/vcek/v1/<Product>/<hwid>.der         VCEK for one chip, any TCB
 *   <dir>/vcek/v1/<Product>/cert_chain         PEM: ASK then ARK
 *   <dir>/vlek/v1/<Product>/cert_chain         PEM: ASVK then ARK
 *   <dir>/vcek/v1/<Product>/crl                AMD's CRL (DER) for VCEK chains
 *   <dir>/vlek/v1/<Product>/crl                the same for VLEK chains
 *
 * and, for a folder that holds one platform's files (the layout of
 * shared/vectors/snp/<vector>/), as fallbacks:
 *
 *   <dir>/vcek.der or <dir>/vcek.pem           the VCEK, whatever the chip
 *   <dir>/ask_ark_<product>.pem                 ASK then ARK (lower-case product)
 *   <dir>/ask_ark_<product>_vlek.pem            ASVK then ARK
 *   <dir>/vcek_crl_<Product>.der, vlek_crl_<Product>.der
 *
 * <Product> is "Milan", "Genoa" or "Turin"; <hwid> the lower-case hex of
 * CHIP_ID (128 characters; Turin: its first 8 bytes, 16 characters, as KDS
 * names Turin VCEKs); <tcb> the 16 lower-case hex characters of the
 * REPORTED_TCB bytes in report order (e.g. 0200000000000544). These
 * functions fill the AMD slots of a collateral source (collateral.h); they
 * verify nothing. Errors: collateral.not_found, collateral.io,
 * collateral.too_large, collateral.invalid (a product name that is not a
 * plain word).
 */

#include "attest/error.h"
#include "collateral/collateral.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest AMD object read from disk (a VCEK is ~1.4 kB, a chain ~5 kB, a CRL a few kB). */
#define AMD_FILE_MAX (256u * 1024)

/* tcb: the REPORTED_TCB bytes read as a little-endian u64 (byte i = bits 8i..8i+7). */
int amd_file_vcek(const char *dir, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		  struct collateral_blob *out, struct attest_err *err);
int amd_file_cert_chain(const char *dir, const char *product, bool vlek, struct collateral_blob *out,
			struct attest_err *err);
int amd_file_crl(const char *dir, const char *product, bool vlek, struct collateral_blob *out,
		 struct attest_err *err);

/*
 * A collateral source that serves only the AMD slots, from dir (copied).
 * Free with collateral_source_free() then free(), like the file source.
 */
int amd_file_source_new(const char *dir, struct collateral_source **out, struct attest_err *err);

/*
 * AMD KDS URLs (formats.md §5.8), for an online source or an operator
 * fetching collateral by hand. host NULL = "https://kdsintf.amd.com".
 *   VCEK: <host>/vcek/v1/{Milan|Genoa}/<hex CHIP_ID>?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U
 *         <host>/vcek/v1/Turin/<hex CHIP_ID[0:8]>?fmcSPL=F&blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U
 *   chain / CRL: <host>/{vcek|vlek}/v1/<Product>/{cert_chain|crl}
 * The SPLs are decimal, decoded from REPORTED_TCB with the product's
 * layout. Returns the length written, or -1 (unknown product, buffer too
 * small: out is then "").
 */
int amd_kds_vcek_url(const char *host, const char *product, const uint8_t chip_id[64], const uint8_t tcb[8],
		     char *out, size_t outlen);
int amd_kds_url(const char *host, const char *product, bool vlek, bool crl, char *out, size_t outlen);

/* Dispatchers for the AMD slots (a NULL slot or source => collateral.not_found). */
int collateral_get_amd_vcek(struct collateral_source *src, const char *product, const uint8_t chip_id[64],
			    uint64_t tcb, struct collateral_blob *out, struct attest_err *err);
int collateral_get_amd_cert_chain(struct collateral_source *src, const char *product, bool vlek,
				  struct collateral_blob *out, struct attest_err *err);
int collateral_get_amd_crl(struct collateral_source *src, const char *product, bool vlek,
			   struct collateral_blob *out, struct attest_err *err);

#endif
