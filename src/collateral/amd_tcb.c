/* AMD product lines and the SEV-SNP TCB_VERSION layout: see amd_tcb.h. */
#include "collateral/amd_tcb.h"

#include <stdbool.h>
#include <string.h>

static const char *const PRODUCT_NAMES[AMD_PRODUCT_COUNT] = {NULL, "Milan", "Genoa", "Turin"};

const char *amd_product_name(enum amd_product p)
{
	return (unsigned)p < AMD_PRODUCT_COUNT ? PRODUCT_NAMES[p] : NULL;
}

enum amd_product amd_product_from_name(const char *name, size_t len)
{
	size_t base = 0;

	while (base < len && name[base] != '-' && name[base] != '\0')
		base++;
	for (int p = 1; p < AMD_PRODUCT_COUNT; p++)
		if (strlen(PRODUCT_NAMES[p]) == base && memcmp(PRODUCT_NAMES[p], name, base) == 0)
			return (enum amd_product)p;
	return AMD_PRODUCT_UNKNOWN;
}

enum amd_product amd_product_of(const char *name)
{
	for (int p = 1; name != NULL && p < AMD_PRODUCT_COUNT; p++)
		if (strcmp(PRODUCT_NAMES[p], name) == 0)
			return (enum amd_product)p;
	return AMD_PRODUCT_UNKNOWN;
}

bool snp_tcb_fields(enum amd_product product, const uint8_t raw[8], struct snp_tcb *out)
{
	struct snp_tcb t;

	memset(&t, 0, sizeof(t));
	memcpy(t.raw, raw, 8);
	switch (product) {
	case AMD_PRODUCT_MILAN:
	case AMD_PRODUCT_GENOA:
		t.bootloader = raw[0];
		t.tee = raw[1];
		t.snp = raw[6];
		t.microcode = raw[7];
		break;
	case AMD_PRODUCT_TURIN:
		t.fmc = raw[0];
		t.bootloader = raw[1];
		t.tee = raw[2];
		t.snp = raw[3];
		t.microcode = raw[7];
		break;
	default:
		return false;
	}
	*out = t;
	return true;
}

int snp_tcb_decode(enum amd_product product, const uint8_t raw[8], struct snp_tcb *out, const char *which,
		   struct attest_err *err)
{
	/* §5.5: Milan/Genoa bytes 2..5 reserved, Turin bytes 4..6. */
	bool reserved = product == AMD_PRODUCT_TURIN ? (raw[4] | raw[5] | raw[6]) != 0
						     : (raw[2] | raw[3] | raw[4] | raw[5]) != 0;
	struct snp_tcb t;

	if (!snp_tcb_fields(product, raw, &t))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.report.product",
				      "cannot decode %s: the product line is not known", which);
	if (reserved)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.tcb_reserved",
				      "%s has non-zero reserved bytes for a %s TCB_VERSION", which,
				      amd_product_name(product));
	*out = t;
	return ATTEST_OK;
}

uint64_t snp_tcb_encode(enum amd_product product, const struct snp_tcb *t)
{
	uint8_t raw[8] = {0};

	if (product == AMD_PRODUCT_TURIN) {
		raw[0] = t->fmc, raw[1] = t->bootloader, raw[2] = t->tee, raw[3] = t->snp;
	} else {
		raw[0] = t->bootloader, raw[1] = t->tee, raw[6] = t->snp;
	}
	raw[7] = t->microcode;
	return snp_tcb_from_raw(raw);
}

void snp_tcb_to_raw(uint64_t tcb, uint8_t raw[8])
{
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(tcb >> (8 * i));
}

uint64_t snp_tcb_from_raw(const uint8_t raw[8])
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | raw[i];
	return v;
}
