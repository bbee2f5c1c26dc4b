#ifndef ATTEST_COLLATERAL_AMD_TCB_H
#define ATTEST_COLLATERAL_AMD_TCB_H

/*
 * AMD SEV-SNP product lines and the TCB_VERSION byte layout of each
 * (formats.md §5.5), described once for every module that reads or writes
 * one: evidence decodes REPORTED_TCB with it, collateral names VCEKs by it
 * (bundle keys, KDS URLs, folder names), the server's KDS routes build the
 * TCB a request asks for. Collateral is the lowest module that needs it
 * (evidence depends on collateral, not the reverse).
 *
 * A TCB travels between modules as a u64: the eight TCB_VERSION bytes in
 * report order read little-endian (byte i = bits 8i..8i+7), the form
 * collateral sources key VCEKs by.
 */

#include "attest/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Product lines with their own ARK. */
enum amd_product { AMD_PRODUCT_UNKNOWN = 0, AMD_PRODUCT_MILAN, AMD_PRODUCT_GENOA, AMD_PRODUCT_TURIN };
#define AMD_PRODUCT_COUNT 4

/* "Milan", "Genoa", "Turin" (NULL for unknown). */
const char *amd_product_name(enum amd_product p);
/* Matches "Milan", "Milan-B0", ... by the part before '-' (a certificate's productName). */
enum amd_product amd_product_from_name(const char *name, size_t len);
/* Exactly "Milan", "Genoa" or "Turin" (a KDS path, a bundle key); AMD_PRODUCT_UNKNOWN otherwise or for NULL.
 */
enum amd_product amd_product_of(const char *name);

/* A TCB_VERSION decoded with its product's layout (§5.5). */
struct snp_tcb {
	uint8_t raw[8]; /* in report byte order */
	uint8_t fmc;	/* Turin only */
	uint8_t bootloader;
	uint8_t tee;
	uint8_t snp;
	uint8_t microcode;
};

/*
 * The fields of raw by the layout of product, reserved bytes not looked at
 * (what a request for that TCB says); false for an unknown product.
 */
bool snp_tcb_fields(enum amd_product product, const uint8_t raw[8], struct snp_tcb *out);
/*
 * Decodes raw with the layout of product (Milan/Genoa: bl, tee, -, -, -, -,
 * snp, ucode; Turin: fmc, bl, tee, snp, -, -, -, ucode). Fails with
 * snp.report.tcb_reserved when a reserved byte is not zero, and
 * snp.report.product when the product is unknown; `which` names the field
 * in the message.
 */
int snp_tcb_decode(enum amd_product product, const uint8_t raw[8], struct snp_tcb *out, const char *which,
		   struct attest_err *err);
/*
 * The inverse for building requests and keys: the TCB_VERSION bytes of t
 * in report order for product (reserved bytes zero) as the u64 form.
 */
uint64_t snp_tcb_encode(enum amd_product product, const struct snp_tcb *t);

/* The u64 form's bytes in report order, and back. */
void snp_tcb_to_raw(uint64_t tcb, uint8_t raw[8]);
uint64_t snp_tcb_from_raw(const uint8_t raw[8]);

#endif
