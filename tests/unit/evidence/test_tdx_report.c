/*
 * TD report bodies, TD attributes and the EAT-profile claims of the TD
 * report (src/evidence/tdx_report.c, tdx_claims.c), on the real quotes of
 * shared/vectors/tdx and on hand-made bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "evidence/tdx.h"

#include <string.h>

/* One real vector: where its body is and what EXPECTED.md says of it. */
struct expect {
	const char *dir;
	int version;
	const char *mrtd, *rtmr0, *rtmr1, *rtmr2, *rtmr3, *tee_tcb_svn, *tee_tcb_svn2, *report_data;
};

static const struct expect VECTORS[] = {
    {"tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06", 4,
     "935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc57650df20e5582158352e1240b3f1fed55d8",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "04010700000000000000000000000000", NULL,
     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000"},
    {"tdx/edgeless-tdx-v4-00806f050000-2023-02-nocrl", 4,
     "b65ea009e424e6f761fdd3d7c8962439453b37ecdf62da04f7bc5d327686bb8bafc8a5d24a9c31cee60e4aba87c2f71b",
     "e1af75e61927410e42b54b39f6681cf9b0bfbae512b15e870e4c8d9d5a5cb385571b0e1dc2f70bf9ccef08560f0a2b58",
     "215ff1fc0c31442c1f061a317be40940b182c13d43c6db2e5b2a577dde9bee93d452afd3dd46c6e12f9b303912f310b1",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "03000500000000000000000000000000", NULL,
     "48656c6c6f2066726f6d20456467656c6573732053797374656d732100000000000000000000000000000000000000000000000"
     "0000000000000000000000000"},
    {"tdx/google-tdx-v4-spr-e4-50806f000000-2023-07", 4,
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
     "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a",
     "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61",
     "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "03000400000000000000000000000000", NULL,
     "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6"
     "d766c66f6f29f8acb281f1113"},
    {"tdx/google-tdx-v5-90c06f000000-2026-02", 5,
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
     "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
     "463acaace1b6e97c76e92e41fe312aa66f3fd4dad60ec7acf169859db0343e3d1e591646795cdc80fbc0ca5f7041d253",
     "6369b9c9a3b791ebcbdc5a0bb9536cfb57f50df2b393b33c8b29616d3568baa61f4b59dc6092e31ea8764bcbdfc69f20",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "0b010400000000000000000000000000", "0d010400000000000000000000000000",
     "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1255c9c79ec"
     "b3ed82cd1b486233e31c25c3a"},
    {"tdx/phala-tappd-tdx-v4-b0c06f000000-2025-06", 4,
     "c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd",
     "274c2344116db7c663470693b5ba62b8621eac28cb41d2f816ddf188f9f423f900a1c44d32386fd3c993dc814e62af9d",
     "918fbd97108e05450afa6aca140c6363ab913578b66cc312e3e8542ce5ade455a30c8d9e4d53a5e43d81955f76140279",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "a2d25bc888a93009af5b70eadb410e9071d18387e4db39aae20fe767f5c4279d95e6519c5d797938a90694599c5bea7a",
     "05010200000000000000000000000000", NULL,
     "7668c6b4eafb62301c72714ecc7d90ce9a0e04b52dc117720df2047b0a59f1dbd937243eef1410a3cdc524aad66d4554b4f18b5"
     "4da2fc0608dac40d6dea5f1d4"},
    {"tdx/phala-tdx-v4-b0c06f000000-2025-06", 4,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
     "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
     "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "06010300000000000000000000000000", NULL,
     "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51"
     "ec39b7e518fadb92c2b523f20"},
    {"tdx/phala-tdx-v5-90c06f000000-outdated-2026-02", 5,
     "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "07010300000000000000000000000000", NULL,
     "d2142b643598eb5fae2bc8529dd79a558b29f868ccbb6531cb28dab9dce47728000000000000000000000000000000000000000"
     "0000000000000000000000000"},
};

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *s = hex_encode(p, n);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* Slices the body out of a real quote by the header's version (formats.md §1.1). */
static int body_of(const uint8_t *q, size_t len, const uint8_t **body, size_t *blen, int *type)
{
	if (len < 48 + 6)
		return -1;
	if (q[0] == 4) {
		*type = QUOTE_BODY_TD10;
		*blen = TD10_REPORT_BODY_SIZE;
		*body = q + 48;
	} else {
		*type = q[48] | q[49] << 8;
		*blen = (size_t)q[50] | (size_t)q[51] << 8 | (size_t)q[52] << 16 | (size_t)q[53] << 24;
		*body = q + 54;
	}
	return 48 + 6 + *blen <= len ? 0 : -1;
}

static void real_td_reports_parse_to_the_expected_measurements(void **state)
{
	REQUIRE_VECTORS(dir);
	for (size_t i = 0; i < sizeof(VECTORS) / sizeof(VECTORS[0]); i++) {
		const struct expect *e = &VECTORS[i];
		char rel[512];
		size_t len = 0, blen = 0;
		const uint8_t *body = NULL;
		int type = 0;
		uint8_t *q;
		struct tdx_td_report td;
		struct attest_err err;

		snprintf(rel, sizeof(rel), "%s/quote.bin", e->dir);
		q = test_read_vector(dir, rel, &len);
		assert_non_null(q);
		assert_int_equal(q[0], e->version);
		assert_int_equal(body_of(q, len, &body, &blen, &type), 0);
		assert_int_equal(tdx_td_report_parse(body, blen, type, &td, &err), ATTEST_OK);
		assert_hex(td.mrtd, 48, e->mrtd);
		assert_hex(td.rtmr[0], 48, e->rtmr0);
		assert_hex(td.rtmr[1], 48, e->rtmr1);
		assert_hex(td.rtmr[2], 48, e->rtmr2);
		assert_hex(td.rtmr[3], 48, e->rtmr3);
		assert_hex(td.tee_tcb_svn, 16, e->tee_tcb_svn);
		assert_hex(td.report_data, 64, e->report_data);
		if (e->tee_tcb_svn2 != NULL)
			assert_hex(td.tee_tcb_svn2, 16, e->tee_tcb_svn2);
		/* Intel-signed modules: MRSIGNERSEAM and SEAMATTRIBUTES zero (formats.md §3.5). */
		for (size_t k = 0; k < 48; k++)
			assert_int_equal(td.mrsignerseam[k], 0);
		if (type == QUOTE_BODY_TD15)
			for (size_t k = 0; k < 48; k++)
				assert_int_equal(td.mrservicetd[k], 0);
		free(q);
	}
}

static void body_of_wrong_size_is_refused(void **state)
{
	uint8_t body[TD15_REPORT_BODY_SIZE + 1] = {0};
	struct tdx_td_report td;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 583, QUOTE_BODY_TD10, &td, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.body.size");
	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 585, QUOTE_BODY_TD10, &td, &err), ATTEST_E_PARSE);
	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 584, QUOTE_BODY_TD15, &td, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.body.size");
	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 649, QUOTE_BODY_TD15, &td, &err), ATTEST_E_PARSE);
	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(NULL, 584, QUOTE_BODY_TD10, &td, &err), ATTEST_E_PARSE);
}

static void sgx_body_type_is_not_a_td_report(void **state)
{
	uint8_t body[TD15_REPORT_BODY_SIZE] = {0};
	struct tdx_td_report td;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 384, QUOTE_BODY_SGX, &td, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.body.type");
	attest_err_clear(&err);
	assert_int_equal(tdx_td_report_parse(body, 648, 4, &td, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.body.type");
}

static void td15_body_carries_svn2_and_mrservicetd(void **state)
{
	uint8_t body[TD15_REPORT_BODY_SIZE];
	struct tdx_td_report td;
	struct attest_err err;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	assert_int_equal(tdx_td_report_parse(body, sizeof(body), QUOTE_BODY_TD15, &td, &err), ATTEST_OK);
	assert_int_equal(td.tee_tcb_svn2[0], (uint8_t)TD_RB_OFF_TEE_TCB_SVN2);
	assert_int_equal(td.mrservicetd[0], (uint8_t)TD_RB_OFF_MRSERVICETD);
	assert_int_equal(td.report_data[0], (uint8_t)TD_RB_OFF_REPORTDATA);
	assert_int_equal(td.rtmr[3][0], (uint8_t)(TD_RB_OFF_RTMR0 + 3 * 48));
	assert_int_equal(td.xfam[0], (uint8_t)TD_RB_OFF_XFAM);
	assert_int_equal(td.mrownerconfig[0], (uint8_t)TD_RB_OFF_MROWNERCONFIG);
}

static void td_attributes_decode_each_named_bit(void **state)
{
	struct tdx_td_attributes a;
	uint8_t raw[8] = {0};

	tdx_td_attributes_decode(raw, &a);
	assert_false(a.debug || a.under_debug || a.sept_ve_disable || a.pks || a.key_locker || a.perfmon);
	raw[0] = 0x01;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.debug && a.under_debug);
	raw[0] = 0x02; /* a reserved TUD bit: not DEBUG, but the TD is under debug */
	tdx_td_attributes_decode(raw, &a);
	assert_false(a.debug);
	assert_true(a.under_debug);
	assert_true(a.unknown == 0x2);
	memset(raw, 0, 8);
	raw[3] = 0x10;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.sept_ve_disable);
	assert_true(a.raw == 0x10000000ull);
	raw[3] = 0x40;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.pks && !a.sept_ve_disable);
	raw[3] = 0x80;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.key_locker);
	raw[3] = 0x20;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.migratable);
	memset(raw, 0, 8);
	raw[7] = 0x80;
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.perfmon);
	assert_true(a.unknown == 0);
	raw[5] = 0x01; /* bit 40: reserved */
	tdx_td_attributes_decode(raw, &a);
	assert_true(a.unknown == (1ull << 40));
}

/* Microsoft's sample token (maa-tokens/docs-examples/tdxvm.claims.json) shows these encodings. */
static void report_claims_follow_the_eat_profile_encodings(void **state)
{
	uint8_t body[TD10_REPORT_BODY_SIZE] = {0};
	struct tdx_td_report td;
	struct attest_err err;
	struct claim_set *set = claim_set_new();
	const uint8_t svn[3] = {0x03, 0x00, 0x06};
	const uint8_t xfam[3] = {0xe7, 0x18, 0x06};

	memcpy(body + TD_RB_OFF_TEE_TCB_SVN, svn, 3);
	memcpy(body + TD_RB_OFF_XFAM, xfam, 3);
	assert_int_equal(tdx_td_report_parse(body, sizeof(body), QUOTE_BODY_TD10, &td, &err), ATTEST_OK);
	assert_int_equal(tdx_claims_add_report(set, &td, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(set, "eat_profile")),
			    "https://aka.ms/maa-eat-profile-tdxvm");
	assert_string_equal(json_string_value(claim_set_get(set, "dbgstat")), "disabled");
	assert_string_equal(json_string_value(claim_set_get(set, "intuse")), "generic");
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_tee_tcb_svn")),
			    "03000600000000000000000000000000");
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_xfam")), "e718060000000000");
	assert_int_equal(json_integer_value(claim_set_get(set, "tdx_seamsvn")), 3);
	assert_true(json_is_false(claim_set_get(set, "tdx_td_attributes_septve_disable")));
	assert_int_equal(strlen(json_string_value(claim_set_get(set, "tdx_report_data"))), 128);
	assert_int_equal(strlen(json_string_value(claim_set_get(set, "tdx_rtmr3"))), 96);
	assert_null(claim_set_get(set, "tdx_mrservicetd"));
	claim_set_free(set);
}

static void debug_td_claims_say_so(void **state)
{
	uint8_t body[TD15_REPORT_BODY_SIZE] = {0};
	struct tdx_td_report td;
	struct attest_err err;
	struct claim_set *set = claim_set_new();

	body[TD_RB_OFF_TDATTRIBUTES] = 0x01;
	body[TD_RB_OFF_TDATTRIBUTES + 3] = 0x50; /* SEPT_VE_DISABLE | PKS */
	assert_int_equal(tdx_td_report_parse(body, sizeof(body), QUOTE_BODY_TD15, &td, &err), ATTEST_OK);
	assert_int_equal(tdx_claims_add_report(set, &td, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(set, "dbgstat")), "enabled");
	assert_true(json_is_true(claim_set_get(set, "tdx_td_attributes_debug")));
	assert_true(json_is_true(claim_set_get(set, "tdx_td_attributes_septve_disable")));
	assert_true(json_is_true(claim_set_get(set, "tdx_td_attributes_protection_keys")));
	assert_true(json_is_false(claim_set_get(set, "tdx_td_attributes_key_locker")));
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_td_attributes")), "0100005000000000");
	assert_non_null(claim_set_get(set, "tdx_mrservicetd"));
	assert_non_null(claim_set_get(set, "tdx_tee_tcb_svn2"));
	claim_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_td_reports_parse_to_the_expected_measurements),
	    cmocka_unit_test(body_of_wrong_size_is_refused),
	    cmocka_unit_test(sgx_body_type_is_not_a_td_report),
	    cmocka_unit_test(td15_body_carries_svn2_and_mrservicetd),
	    cmocka_unit_test(td_attributes_decode_each_named_bit),
	    cmocka_unit_test(report_claims_follow_the_eat_profile_encodings),
	    cmocka_unit_test(debug_td_claims_say_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
