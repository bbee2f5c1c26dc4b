/*
 * VBS enclave reports (src/evidence/vbs.c). No public real report exists
 * (formats.md §7.8), so reports come from src/devplat/tpm_dev.c, laid out
 * from the Windows SDK definitions; docs/vbs.md says what that leaves open.
 * The cut and bit-flip sweep is in the sweep suite (test_sweep_tpm.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_tpm_lib.h"

#include "devplat/tpm_dev.h"
#include "evidence/vbs.h"

static const char REPORT_SIGNED[] = "{\"rp_id\":\"https://rp\",\"challenge\":\"abc\"}";

struct fx {
	EVP_PKEY *key;
	struct buf rep;
	struct devplat_vbs_identity id;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t h[64];

	f->key = EVP_RSA_gen(2048);
	memset(f->id.unique_id, 0x55, 32);
	memset(f->id.author_id, 0xA1, 32);
	f->id.enclave_svn = 9;
	f->id.platform_svn = 2;
	f->id.secure_kernel_svn = 5;
	f->id.flags = VBS_FLAG_DYNAMIC_DEBUG_ENABLED;
	f->id.module_name = "vbsenclave.dll";
	EVP_Digest(REPORT_SIGNED, strlen(REPORT_SIGNED), h, NULL, EVP_sha512(), NULL);
	buf_init(&f->rep, 1 << 16);
	assert_int_equal(devplat_vbs_report(f->key, h, &f->id, &f->rep, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	EVP_PKEY_free(f->key);
	buf_free(&f->rep);
	free(f);
	return 0;
}

static void report_parses_with_identity_and_module(void **state)
{
	struct fx *f = *state;
	struct vbs_report r;

	assert_int_equal(vbs_report_parse(f->rep.p, f->rep.len, &r, NULL), 0);
	assert_int_equal(r.statement_len, VBS_REPORT_FIXED_SIZE + 8 + 100 + 2 * 15);
	assert_int_equal(r.signature_len, 256);
	assert_int_equal(r.enclave_svn, 9);
	assert_int_equal(r.secure_kernel_svn, 5);
	assert_int_equal(r.enclave_type, 0x10);
	assert_int_equal(r.n_modules, 1);
	assert_string_equal(r.modules[0].name, "vbsenclave.dll");
	assert_memory_equal(r.modules[0].author_id, f->id.author_id, 32);
}

static void binding_to_report_signed_is_checked(void **state)
{
	struct fx *f = *state;
	struct vbs_report r;
	struct attest_err err;
	char other[sizeof(REPORT_SIGNED)];

	assert_int_equal(vbs_report_parse(f->rep.p, f->rep.len, &r, NULL), 0);
	assert_int_equal(vbs_report_check_binding(&r, (const uint8_t *)REPORT_SIGNED, strlen(REPORT_SIGNED), NULL), 0);
	memcpy(other, REPORT_SIGNED, sizeof(other));
	other[3] = 'X';
	attest_err_clear(&err);
	assert_int_equal(vbs_report_check_binding(&r, (const uint8_t *)other, strlen(other), &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "vbs.report.binding");
}

static void signature_verifies_only_with_the_report_key(void **state)
{
	struct fx *f = *state;
	struct vbs_report r;
	struct attest_err err;
	EVP_PKEY *other = EVP_RSA_gen(2048);

	assert_int_equal(vbs_report_parse(f->rep.p, f->rep.len, &r, NULL), 0);
	assert_int_equal(vbs_report_verify_signature(&r, f->key, NULL), 0);
	attest_err_clear(&err);
	assert_int_equal(vbs_report_verify_signature(&r, other, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "vbs.report.signature");
	EVP_PKEY_free(other);
}

static void claims_carry_identity_and_debug_state(void **state)
{
	struct fx *f = *state;
	struct vbs_report r;
	struct claim_set *cs = claim_set_new();

	assert_int_equal(vbs_report_parse(f->rep.p, f->rep.len, &r, NULL), 0);
	assert_int_equal(vbs_report_claims(&r, true, cs), 0);
	assert_int_equal(json_integer_value(claim_set_get(cs, "enclaveSvn")), 9);
	assert_int_equal(json_integer_value(claim_set_get(cs, "enclaveFlags")), VBS_FLAG_DYNAMIC_DEBUG_ENABLED);
	assert_true(json_is_true(claim_set_get(cs, "enclaveDebuggable")));
	assert_true(json_is_true(claim_set_get(cs, "vbsReportSignatureVerified")));
	assert_string_equal(json_string_value(claim_set_get(cs, "enclaveUniqueId")),
			    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVU");
	claim_set_free(cs);
}

static void inconsistent_sizes_are_refused(void **state)
{
	struct fx *f = *state;
	struct vbs_report r;
	struct attest_err err;
	uint8_t *p = malloc(f->rep.len);

	memcpy(p, f->rep.p, f->rep.len);
	p[12] ^= 1; /* SignedStatementSize */
	attest_err_clear(&err);
	assert_int_equal(vbs_report_parse(p, f->rep.len, &r, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "vbs.report.size");
	memcpy(p, f->rep.p, f->rep.len);
	p[24] ^= 4; /* ReportSize */
	attest_err_clear(&err);
	assert_int_equal(vbs_report_parse(p, f->rep.len, &r, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "vbs.report.size");
	memcpy(p, f->rep.p, f->rep.len);
	p[24 + VBS_REPORT_FIXED_SIZE + 4] = 0xff; /* module block Size beyond the statement */
	attest_err_clear(&err);
	assert_int_equal(vbs_report_parse(p, f->rep.len, &r, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "vbs.report.vardata");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_parses_with_identity_and_module),
		cmocka_unit_test(binding_to_report_signed_is_checked),
		cmocka_unit_test(signature_verifies_only_with_the_report_key),
		cmocka_unit_test(claims_carry_identity_and_debug_state),
		cmocka_unit_test(inconsistent_sizes_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
