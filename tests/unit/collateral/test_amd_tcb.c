/*
 * AMD product lines and the SEV-SNP TCB_VERSION layout (collateral/amd_tcb.h;
 * formats.md §5.5): each product's byte layout, reserved bytes refused by
 * the decoder and ignored by the request form, encode the inverse of
 * decode, the u64 form little-endian, product names matched exactly or by
 * their part before '-'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collateral/amd_tcb.h"

#include <string.h>

/* Milan: bl 3, tee 0, snp 8, ucode 115 (the vectors' REPORTED_TCB shape). */
static const uint8_t MILAN_RAW[8] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x73};
/* Turin: fmc 1, bl 2, tee 3, snp 4, ucode 5. */
static const uint8_t TURIN_RAW[8] = {0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x05};

static void milan_and_genoa_read_bl_tee_snp_ucode_at_0_1_6_7(void **state)
{
	struct snp_tcb t;

	(void)state;
	for (int p = AMD_PRODUCT_MILAN; p <= AMD_PRODUCT_GENOA; p++) {
		assert_int_equal(snp_tcb_decode((enum amd_product)p, MILAN_RAW, &t, "tcb", NULL), ATTEST_OK);
		assert_int_equal(t.bootloader, 3);
		assert_int_equal(t.tee, 0);
		assert_int_equal(t.snp, 8);
		assert_int_equal(t.microcode, 115);
		assert_int_equal(t.fmc, 0);
		assert_memory_equal(t.raw, MILAN_RAW, 8);
	}
}

static void turin_reads_fmc_bl_tee_snp_at_0_to_3_and_ucode_at_7(void **state)
{
	struct snp_tcb t;

	(void)state;
	assert_int_equal(snp_tcb_decode(AMD_PRODUCT_TURIN, TURIN_RAW, &t, "tcb", NULL), ATTEST_OK);
	assert_int_equal(t.fmc, 1);
	assert_int_equal(t.bootloader, 2);
	assert_int_equal(t.tee, 3);
	assert_int_equal(t.snp, 4);
	assert_int_equal(t.microcode, 5);
}

static void a_reserved_byte_is_refused_by_decode_and_ignored_by_fields(void **state)
{
	struct attest_err err;
	struct snp_tcb t;
	uint8_t raw[8];

	(void)state;
	for (int i = 2; i <= 5; i++) {
		memcpy(raw, MILAN_RAW, 8);
		raw[i] = 1;
		attest_err_clear(&err);
		assert_int_equal(snp_tcb_decode(AMD_PRODUCT_MILAN, raw, &t, "REPORTED_TCB", &err),
				 ATTEST_E_PARSE);
		assert_string_equal(err.name, "snp.report.tcb_reserved");
		assert_non_null(strstr(err.msg, "REPORTED_TCB"));
		assert_true(snp_tcb_fields(AMD_PRODUCT_MILAN, raw, &t));
		assert_int_equal(t.snp, 8);
	}
	for (int i = 4; i <= 6; i++) {
		memcpy(raw, TURIN_RAW, 8);
		raw[i] = 1;
		assert_int_equal(snp_tcb_decode(AMD_PRODUCT_TURIN, raw, &t, "tcb", NULL), ATTEST_E_PARSE);
	}
	/* Turin's bytes 2..3 are fields, Milan's reserved. */
	assert_int_equal(snp_tcb_decode(AMD_PRODUCT_MILAN, TURIN_RAW, &t, "tcb", NULL), ATTEST_E_PARSE);
}

static void an_unknown_product_decodes_nothing(void **state)
{
	struct attest_err err;
	struct snp_tcb t;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(snp_tcb_decode(AMD_PRODUCT_UNKNOWN, MILAN_RAW, &t, "tcb", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.report.product");
	assert_false(snp_tcb_fields(AMD_PRODUCT_UNKNOWN, MILAN_RAW, &t));
	assert_false(snp_tcb_fields((enum amd_product)AMD_PRODUCT_COUNT, MILAN_RAW, &t));
}

static void encode_is_the_inverse_of_decode_in_the_u64_form(void **state)
{
	struct snp_tcb t;
	uint8_t raw[8];

	(void)state;
	assert_int_equal(snp_tcb_decode(AMD_PRODUCT_GENOA, MILAN_RAW, &t, "tcb", NULL), ATTEST_OK);
	assert_true(snp_tcb_encode(AMD_PRODUCT_GENOA, &t) == 0x7308000000000003ull);
	assert_true(snp_tcb_from_raw(MILAN_RAW) == 0x7308000000000003ull);
	assert_int_equal(snp_tcb_decode(AMD_PRODUCT_TURIN, TURIN_RAW, &t, "tcb", NULL), ATTEST_OK);
	assert_true(snp_tcb_encode(AMD_PRODUCT_TURIN, &t) == snp_tcb_from_raw(TURIN_RAW));
	snp_tcb_to_raw(0x0500000004030201ull, raw);
	assert_memory_equal(raw, TURIN_RAW, 8);
}

static void product_names_match_exactly_or_by_the_part_before_a_dash(void **state)
{
	(void)state;
	for (int p = AMD_PRODUCT_MILAN; p < AMD_PRODUCT_COUNT; p++) {
		const char *name = amd_product_name((enum amd_product)p);

		assert_non_null(name);
		assert_int_equal(amd_product_of(name), p);
		assert_int_equal(amd_product_from_name(name, strlen(name)), p);
	}
	assert_null(amd_product_name(AMD_PRODUCT_UNKNOWN));
	assert_null(amd_product_name((enum amd_product)AMD_PRODUCT_COUNT));
	assert_int_equal(amd_product_from_name("Genoa-B0", 8), AMD_PRODUCT_GENOA);
	assert_int_equal(amd_product_of("Genoa-B0"), AMD_PRODUCT_UNKNOWN);
	assert_int_equal(amd_product_of("milan"), AMD_PRODUCT_UNKNOWN);
	assert_int_equal(amd_product_of("Rome"), AMD_PRODUCT_UNKNOWN);
	assert_int_equal(amd_product_of(""), AMD_PRODUCT_UNKNOWN);
	assert_int_equal(amd_product_of(NULL), AMD_PRODUCT_UNKNOWN);
	assert_int_equal(amd_product_from_name("Mil", 3), AMD_PRODUCT_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(milan_and_genoa_read_bl_tee_snp_ucode_at_0_1_6_7),
	    cmocka_unit_test(turin_reads_fmc_bl_tee_snp_at_0_to_3_and_ucode_at_7),
	    cmocka_unit_test(a_reserved_byte_is_refused_by_decode_and_ignored_by_fields),
	    cmocka_unit_test(an_unknown_product_decodes_nothing),
	    cmocka_unit_test(encode_is_the_inverse_of_decode_in_the_u64_form),
	    cmocka_unit_test(product_names_match_exactly_or_by_the_part_before_a_dash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
