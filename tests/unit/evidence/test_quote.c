/*
 * The shared quote parser (evidence/quote.h): each structural rule of
 * formats.md §1 has its own error; real quotes parse to what EXPECTED.md
 * lists; the signature checks catch what they must.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "devplat/intel.h"
#include "evidence/quote.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1750377600LL

struct fixture {
	struct intel_devplat *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct intel_devplat_opts o;

	intel_devplat_opts_default(&o, NOW);
	if (f == NULL || intel_devplat_new(&o, &f->p, NULL) != ATTEST_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	intel_devplat_free(f->p);
	free(f);
	return 0;
}

static uint8_t *make(struct fixture *f, int version, size_t trailing, size_t *len)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE], *q = NULL;

	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&s);
	s.version = version;
	s.body = body;
	s.body_len = sizeof(body);
	s.trailing = trailing;
	assert_int_equal(intel_devplat_make_quote(f->p, &s, &q, len, NULL), ATTEST_OK);
	return q;
}

static const char *parse_err(const uint8_t *q, size_t len, uint32_t tee, struct attest_err *err)
{
	struct quote out;

	attest_err_clear(err);
	if (quote_parse(q, len, tee, &out, "sgx", err) == ATTEST_OK)
		return "ok";
	return err->name;
}

static void synthetic_quotes_of_each_version_parse_and_their_signatures_verify(void **state)
{
	struct fixture *f = *state;
	int v;

	for (v = 3; v <= 5; v++) {
		struct quote q;
		size_t len;
		uint8_t *b = make(f, v, 0, &len);

		assert_int_equal(quote_parse(b, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
		assert_int_equal(q.hdr.version, v);
		assert_int_equal(q.body_type, QUOTE_BODY_SGX);
		assert_int_equal(q.signed_len, 48 + 384 + (v == 5 ? 6 : 0));
		assert_int_equal(q.cert_type, QUOTE_CERT_PCK_CHAIN);
		assert_int_equal(q.qe_auth_len, 32);
		assert_int_equal(q.trailing, 0);
		assert_int_equal(q.sgx.isvprodid, 1);
		assert_int_equal(quote_verify_isv_sig(&q, "sgx", NULL), ATTEST_OK);
		assert_int_equal(quote_verify_qe_binding(&q, "sgx", NULL), ATTEST_OK);
		free(b);
	}
}

static void unknown_versions_key_types_tee_types_and_vendors_have_their_own_errors(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	size_t len;
	uint8_t *b = make(f, 4, 0, &len);

	b[0] = 6;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.version");
	b[0] = 4, b[2] = 3;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.att_key_type");
	b[2] = 2, b[4] = 0x82;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.tee_type");
	b[4] = 0x81; /* a v4 TDX header on an SGX body: not what was expected */
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.tee_type");
	b[4] = 0, b[12] ^= 1;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.qe_vendor");
	assert_string_equal(err.where, "quote+0xc");
	free(b);
}

static void a_v3_quote_must_be_sgx(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	size_t len;
	uint8_t *b = make(f, 3, 0, &len);

	b[4] = 0x81;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_ANY, &err), "sgx.quote.tee_type");
	free(b);
}

static void a_v5_body_descriptor_must_name_an_allowed_type_and_size(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	size_t len;
	uint8_t *b = make(f, 5, 0, &len);

	b[48] = 2; /* TD 1.0 type on an SGX quote */
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.body_type");
	b[48] = 1, b[50] = 0x81; /* size 385 */
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.body_type");
	free(b);
}

static void every_truncation_is_a_truncated_error_and_trailing_bytes_are_counted(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	struct quote q;
	size_t len, i;
	uint8_t *b = make(f, 4, 70, &len);

	assert_int_equal(quote_parse(b, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
	assert_int_equal(q.trailing, 70);
	assert_int_equal(q.len + 70, len);
	for (i = 0; i < q.len; i++) {
		const char *name = parse_err(b, i, QUOTE_TEE_SGX, &err);

		if (strcmp(name, "sgx.quote.truncated") != 0)
			fail_msg("cut at %zu: %s", i, name);
	}
	free(b);
}

static void a_v4_quote_needs_certification_data_type_6(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	size_t len;
	uint8_t *b = make(f, 4, 0, &len);
	size_t at = 48 + 384 + 4 + 128; /* outer cert type */

	assert_int_equal(b[at], 6);
	b[at] = 5;
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.cert_type");
	free(b);
}

static void the_signature_data_length_must_match_its_contents(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	size_t len;
	uint8_t *b = make(f, 3, 8, &len); /* 8 trailing bytes to grow into */
	uint32_t sl = (uint32_t)(b[432] | b[433] << 8 | b[434] << 16 | (uint32_t)b[435] << 24);

	sl += 4;
	b[432] = (uint8_t)sl, b[433] = (uint8_t)(sl >> 8);
	assert_string_equal(parse_err(b, len, QUOTE_TEE_SGX, &err), "sgx.quote.sig_len");
	free(b);
}

static void tampering_with_the_signed_region_or_the_binding_is_caught(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	struct quote q;
	size_t len;
	uint8_t *b = make(f, 3, 0, &len);

	b[100] ^= 1; /* inside the body */
	assert_int_equal(quote_parse(b, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(quote_verify_isv_sig(&q, "sgx", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.quote.signature");
	b[100] ^= 1;
	b[48 + 384 + 4 + 64 + 5] ^= 1; /* the attestation key */
	attest_err_clear(&err);
	assert_int_equal(quote_verify_qe_binding(&q, "sgx", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.qe_report.binding");
	free(b);
}

static void pck_chain_pem_refuses_trailing_content_but_not_nul_or_newlines(void **state)
{
	struct fixture *f = *state;
	struct attest_err err;
	struct quote q;
	const uint8_t *pem;
	size_t len, plen;
	uint8_t *b = make(f, 3, 0, &len);

	assert_int_equal(quote_parse(b, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
	assert_int_equal(quote_pck_chain_pem(&q, &pem, &plen, "sgx", NULL), ATTEST_OK);
	assert_true(plen < q.cert_data_len); /* the NUL is cut */
	b[(q.cert_data - b) + q.cert_data_len - 1] = 'x';
	attest_err_clear(&err);
	assert_int_equal(quote_pck_chain_pem(&q, &pem, &plen, "sgx", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "sgx.quote.cert_data");
	free(b);
}

static void real_quotes_parse_to_their_published_fields(void **state)
{
	REQUIRE_VECTORS(dir);
	static const struct {
		const char *file;
		int version, qe_svn, pce_svn;
		const char *mrenclave;
	} v[] = {
	    {"sgx/phala-sgx-v3-00a067110000-2025-06/quote.bin", 3, 10, 15,
	     "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"},
	    {"oe/openenclave-plugin-evidence-00906ed50000-2022-04-26/quote.bin", 3, 7, 12,
	     "91dd79e47cae70787883e617838c7c981cc9744ebac9756c8ce03f09057538ac"},
	    {"oe/azure-samples-intel-sdk-release-00906ed50000-2023-02/quote.bin", 3, 9, 14,
	     "d37d983a85d63fb49649610e2eba0930ecdbff6d113aca3ff3fc7261696c0134"},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct quote q;
		size_t len = 0;
		uint8_t *b = test_read_vector(dir, v[i].file, &len);
		char hex[65];

		assert_non_null(b);
		assert_int_equal(quote_parse(b, len, QUOTE_TEE_SGX, &q, "sgx", NULL), ATTEST_OK);
		assert_int_equal(q.hdr.version, v[i].version);
		assert_int_equal(q.hdr.qe_svn, v[i].qe_svn);
		assert_int_equal(q.hdr.pce_svn, v[i].pce_svn);
		assert_int_equal(q.qe.isvsvn, v[i].qe_svn);
		hex_encode_to(q.sgx.mrenclave, 32, hex);
		assert_string_equal(hex, v[i].mrenclave);
		assert_int_equal(q.cert_type, 5);
		assert_int_equal(q.trailing, 0);
		assert_int_equal(quote_verify_isv_sig(&q, "sgx", NULL), ATTEST_OK);
		assert_int_equal(quote_verify_qe_binding(&q, "sgx", NULL), ATTEST_OK);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(synthetic_quotes_of_each_version_parse_and_their_signatures_verify),
	    cmocka_unit_test(unknown_versions_key_types_tee_types_and_vendors_have_their_own_errors),
	    cmocka_unit_test(a_v3_quote_must_be_sgx),
	    cmocka_unit_test(a_v5_body_descriptor_must_name_an_allowed_type_and_size),
	    cmocka_unit_test(every_truncation_is_a_truncated_error_and_trailing_bytes_are_counted),
	    cmocka_unit_test(a_v4_quote_needs_certification_data_type_6),
	    cmocka_unit_test(the_signature_data_length_must_match_its_contents),
	    cmocka_unit_test(tampering_with_the_signed_region_or_the_binding_is_caught),
	    cmocka_unit_test(pck_chain_pem_refuses_trailing_content_but_not_nul_or_newlines),
	    cmocka_unit_test(real_quotes_parse_to_their_published_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
