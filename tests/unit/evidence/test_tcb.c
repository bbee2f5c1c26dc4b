/*
 * TCB Info / Enclave Identity parsing and signatures (formats.md §3.2-3.4)
 * and the TCB status algorithm (§3.5, §3.6) on real collateral and on
 * hand-written documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "crypto/crypto.h"
#include "evidence/pck.h"
#include "evidence/quote.h"
#include "evidence/tcb.h"

#include <stdlib.h>
#include <string.h>

/* The TCB signing key of a real issuer chain. */
static EVP_PKEY *signer_of(const char *dir, const char *rel)
{
	size_t len = 0;
	uint8_t *pem = test_read_vector(dir, rel, &len);
	STACK_OF(X509) *s = NULL;
	EVP_PKEY *k;

	assert_non_null(pem);
	assert_int_equal(x509_stack_from_pem(pem, len, &s, "t", NULL), ATTEST_OK);
	k = X509_get_pubkey(sk_X509_value(s, 0));
	sk_X509_pop_free(s, X509_free);
	free(pem);
	return k;
}

static void real_tcb_infos_and_identities_parse_and_their_signatures_verify(void **state)
{
	REQUIRE_VECTORS(dir);
	static const char *const dirs[] = {
	    "sgx/phala-sgx-v3-00a067110000-2023-11", "sgx/phala-sgx-v3-00a067110000-2025-06",
	    "oe/openenclave-plugin-evidence-00906ed50000-2022-04-26", "tdx/phala-tdx-v4-b0c06f000000-2025-06",
	    "tdx/google-tdx-v5-90c06f000000-2026-02"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char rel[512];
		size_t len = 0;
		uint8_t *body;
		struct tcb_info *ti = NULL;
		struct qe_identity *qi = NULL;
		EVP_PKEY *k;

		snprintf(rel, sizeof(rel), "%s/tcb_info_issuer_chain.pem", dirs[i]);
		k = signer_of(dir, rel);
		snprintf(rel, sizeof(rel), "%s/tcb_info.json", dirs[i]);
		body = test_read_vector(dir, rel, &len);
		assert_int_equal(tcb_info_parse(body, len, &ti, "t", NULL), ATTEST_OK);
		assert_int_equal(tcb_info_verify_signature(ti, k, "t", NULL), ATTEST_OK);
		assert_true(ti->n_levels > 0);
		assert_int_equal(ti->version, i == 2 ? 2 : 3);
		assert_int_equal(ti->id, i >= 3	  ? TCB_INFO_ID_TDX
					 : i == 2 ? TCB_INFO_ID_NONE
						  : TCB_INFO_ID_SGX);
		if (i >= 3)
			assert_true(ti->has_tdx_module && ti->levels[0].has_tdx);
		tcb_info_free(ti);
		free(body);
		snprintf(rel, sizeof(rel), "%s/qe_identity.json", dirs[i]);
		body = test_read_vector(dir, rel, &len);
		assert_int_equal(qe_identity_parse(body, len, &qi, "t", NULL), ATTEST_OK);
		assert_int_equal(qe_identity_verify_signature(qi, k, "t", NULL), ATTEST_OK);
		assert_int_equal(qi->id, i >= 3 ? QE_ID_TD_QE : QE_ID_QE);
		qe_identity_free(qi);
		free(body);
		EVP_PKEY_free(k);
	}
}

static void a_respaced_tcb_info_no_longer_verifies(void **state)
{
	REQUIRE_VECTORS(dir);
	const char *d = "sgx/phala-sgx-v3-00a067110000-2025-06";
	char rel[256];
	size_t len = 0;
	uint8_t *body, *sp;
	struct tcb_info *ti = NULL;
	struct attest_err err;
	EVP_PKEY *k;

	snprintf(rel, sizeof(rel), "%s/tcb_info_issuer_chain.pem", d);
	k = signer_of(dir, rel);
	snprintf(rel, sizeof(rel), "%s/tcb_info.json", d);
	body = test_read_vector(dir, rel, &len);
	/* "id":"SGX" -> "id": "SGX" (one more byte, same JSON value) */
	sp = malloc(len + 1);
	memcpy(sp, body, 17);
	assert_memory_equal(body + 12, "\"id\":", 5);
	sp[17] = ' ';
	memcpy(sp + 18, body + 17, len - 17);
	assert_int_equal(tcb_info_parse(sp, len + 1, &ti, "t", NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(tcb_info_verify_signature(ti, k, "t", &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "t.tcbinfo.signature");
	tcb_info_free(ti);
	EVP_PKEY_free(k);
	free(sp);
	free(body);
}

static const char *parse_tcb(const char *json, struct attest_err *err)
{
	struct tcb_info *ti = NULL;

	attest_err_clear(err);
	if (tcb_info_parse((const uint8_t *)json, strlen(json), &ti, "t", err) != ATTEST_OK)
		return err->name;
	tcb_info_free(ti);
	return "ok";
}

#define SIG                                                                                                  \
	"\"signature\":\""                                                                                   \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000\""
#define LEVEL(c0, pce, st)                                                                                   \
	"{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":" #c0                                                      \
	"},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"                                     \
	"{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{"  \
	"\"svn\":0},"                                                                                        \
	"{\"svn\":0}],\"pcesvn\":" #pce "},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"" st "\"}"
#define HEAD                                                                                                 \
	"{\"tcbInfo\":{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-06-01T00:00:00Z\",\"nextUpdate\":"  \
	"\"2025-07-01T00:00:00Z\",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\",\"tcbType\":0,"              \
	"\"tcbEvaluationDataNumber\":17,\"tcbLevels\":["

static void malformed_tcb_infos_have_their_own_errors(void **state)
{
	struct attest_err err;

	assert_string_equal(parse_tcb(HEAD LEVEL(3, 1, "UpToDate") "]}," SIG "}", &err), "ok");
	assert_string_equal(
	    parse_tcb(HEAD LEVEL(3, 1, "UpToDate") "," LEVEL(3, 1, "OutOfDate") "]}," SIG "}", &err),
	    "t.tcbinfo.duplicate_level");
	assert_string_equal(parse_tcb(HEAD LEVEL(3, 1, "Fine") "]}," SIG "}", &err), "t.tcbinfo.member");
	assert_string_equal(parse_tcb(HEAD "]}," SIG "}", &err), "t.tcbinfo.levels");
	/* A second tcbInfo member (jansson refuses duplicates outright). */
	assert_string_equal(parse_tcb("{\"tcbInfo\":{},\"tcbInfo\":{}," SIG "}", &err), "t.tcbinfo.parse");
	/* An escaped key equal to "tcbInfo" is not the literal member the signature covers. */
	assert_string_equal(parse_tcb("{\"tcb\\u0049nfo\":{\"version\":3}," SIG "}", &err),
			    "t.tcbinfo.parse");
	assert_string_equal(parse_tcb("{\"tcbInfo\":{\"version\":4}," SIG "}", &err), "t.tcbinfo.version");
	assert_string_equal(parse_tcb("{\"tcbInfo\":{\"version\":3,\"id\":\"XYZ\"}," SIG "}", &err),
			    "t.tcbinfo.id");
	assert_string_equal(parse_tcb("{\"tcbInfo\":{\"version\":3},\"signature\":\"00\"}", &err),
			    "t.tcbinfo.signature");
	assert_string_equal(parse_tcb("{\"tcbInfo\":{\"version\":3}}", &err), "t.tcbinfo.parse");
	assert_string_equal(parse_tcb("{\"tcbInfo\":", &err), "t.tcbinfo.parse");
}

static void levels_are_sorted_highest_first(void **state)
{
	static const char json[] = HEAD LEVEL(1, 9, "OutOfDate") "," LEVEL(5, 1, "UpToDate") "," LEVEL(
	    5, 2, "SWHardeningNeeded") "]}," SIG "}";
	struct tcb_info *ti = NULL;

	assert_int_equal(tcb_info_parse((const uint8_t *)json, strlen(json), &ti, "t", NULL), ATTEST_OK);
	assert_int_equal(ti->n_levels, 3);
	assert_int_equal(ti->levels[0].status, TCB_SW_HARDENING_NEEDED); /* (5, pce 2) */
	assert_int_equal(ti->levels[1].status, TCB_UP_TO_DATE);		 /* (5, pce 1) */
	assert_int_equal(ti->levels[2].status, TCB_OUT_OF_DATE);	 /* (1, pce 9) */
	tcb_info_free(ti);
}

static void evaluation_takes_the_first_level_the_pck_reaches_and_converges_with_the_qe(void **state)
{
	static const char json[] = HEAD LEVEL(5, 2, "UpToDate") "," LEVEL(
	    5, 1, "ConfigurationNeeded") "," LEVEL(1, 1, "OutOfDate") "]}," SIG "}";
	struct tcb_info *ti = NULL;
	struct pck_ext pck;
	struct tcb_verdict v;
	struct attest_err err;

	assert_int_equal(tcb_info_parse((const uint8_t *)json, strlen(json), &ti, "t", NULL), ATTEST_OK);
	memset(&pck, 0, sizeof(pck));
	memcpy(pck.fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
	pck.comp_svn[0] = 5;
	pck.pcesvn = 1;
	assert_int_equal(tcb_evaluate(ti, &pck, NULL, TCB_UP_TO_DATE, NULL, &v, "t", NULL), ATTEST_OK);
	assert_int_equal(v.status, TCB_CONFIGURATION_NEEDED);
	tcb_verdict_free(&v);
	assert_int_equal(tcb_evaluate(ti, &pck, NULL, TCB_OUT_OF_DATE, NULL, &v, "t", NULL), ATTEST_OK);
	assert_int_equal(v.status, TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(v.platform, TCB_CONFIGURATION_NEEDED);
	tcb_verdict_free(&v);
	pck.comp_svn[0] = 0;
	assert_int_equal(tcb_evaluate(ti, &pck, NULL, TCB_UP_TO_DATE, NULL, &v, "t", NULL), ATTEST_OK);
	assert_int_equal(v.status, TCB_NOT_SUPPORTED);
	tcb_verdict_free(&v);
	pck.fmspc[0] = 1;
	attest_err_clear(&err);
	assert_int_equal(tcb_evaluate(ti, &pck, NULL, TCB_UP_TO_DATE, NULL, &v, "t", &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "t.tcbinfo.fmspc");
	tcb_info_free(ti);
}

static void the_qe_convergence_table_is_qvls(void **state)
{
	assert_int_equal(tcb_converge_with_qe(TCB_UP_TO_DATE, TCB_OUT_OF_DATE), TCB_OUT_OF_DATE);
	assert_int_equal(tcb_converge_with_qe(TCB_SW_HARDENING_NEEDED, TCB_OUT_OF_DATE), TCB_OUT_OF_DATE);
	assert_int_equal(tcb_converge_with_qe(TCB_CONFIGURATION_NEEDED, TCB_OUT_OF_DATE),
			 TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(tcb_converge_with_qe(TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, TCB_OUT_OF_DATE),
			 TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(tcb_converge_with_qe(TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, TCB_OUT_OF_DATE),
			 TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(tcb_converge_with_qe(TCB_UP_TO_DATE, TCB_REVOKED), TCB_REVOKED);
	assert_int_equal(tcb_converge_with_qe(TCB_UP_TO_DATE, TCB_NOT_SUPPORTED), TCB_NOT_SUPPORTED);
	assert_int_equal(tcb_converge_with_qe(TCB_SW_HARDENING_NEEDED, TCB_UP_TO_DATE),
			 TCB_SW_HARDENING_NEEDED);
}

static void status_strings_round_trip(void **state)
{
	enum tcb_status s, back;

	for (s = TCB_UP_TO_DATE; s <= TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED; s++) {
		assert_int_equal(tcb_status_parse(tcb_status_str(s), &back), ATTEST_OK);
		assert_int_equal(back, s);
	}
	assert_int_not_equal(tcb_status_parse("Fine", &back), ATTEST_OK);
}

static void the_real_phala_verdict_is_reproduced_from_its_pck(void **state)
{
	REQUIRE_VECTORS(dir);
	const char *d = "sgx/phala-sgx-v3-00a067110000-2025-06";
	char rel[256];
	size_t len = 0, plen;
	uint8_t *qb, *tb, *ib;
	struct quote q;
	const uint8_t *pem;
	STACK_OF(X509) *chain = NULL;
	struct pck_ext pck;
	struct tcb_info *ti = NULL;
	struct qe_identity *qi = NULL;
	enum tcb_status qs;
	const struct qe_tcb_level *ql;
	struct tcb_verdict v;

	snprintf(rel, sizeof(rel), "%s/quote.bin", d);
	qb = test_read_vector(dir, rel, &len);
	assert_int_equal(quote_parse(qb, len, QUOTE_TEE_SGX, &q, "t", NULL), ATTEST_OK);
	assert_int_equal(quote_pck_chain_pem(&q, &pem, &plen, "t", NULL), ATTEST_OK);
	assert_int_equal(x509_stack_from_pem(pem, plen, &chain, "t", NULL), ATTEST_OK);
	assert_int_equal(pck_ext_from_cert(sk_X509_value(chain, 0), &pck, "t", NULL), ATTEST_OK);
	snprintf(rel, sizeof(rel), "%s/tcb_info.json", d);
	tb = test_read_vector(dir, rel, &len);
	assert_int_equal(tcb_info_parse(tb, len, &ti, "t", NULL), ATTEST_OK);
	snprintf(rel, sizeof(rel), "%s/qe_identity.json", d);
	ib = test_read_vector(dir, rel, &len);
	assert_int_equal(qe_identity_parse(ib, len, &qi, "t", NULL), ATTEST_OK);
	assert_int_equal(qe_identity_check(qi, &q.qe, &qs, &ql, "t", NULL), ATTEST_OK);
	assert_int_equal(qs, TCB_UP_TO_DATE);
	assert_int_equal(tcb_evaluate(ti, &pck, NULL, qs, ql, &v, "t", NULL), ATTEST_OK);
	assert_int_equal(v.status, TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	assert_int_equal(v.adv.n, 2);
	assert_string_equal(v.adv.ids[0], "INTEL-SA-00289");
	assert_string_equal(v.adv.ids[1], "INTEL-SA-00615");
	tcb_verdict_free(&v);
	tcb_info_free(ti);
	qe_identity_free(qi);
	sk_X509_pop_free(chain, X509_free);
	free(qb);
	free(tb);
	free(ib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_tcb_infos_and_identities_parse_and_their_signatures_verify),
	    cmocka_unit_test(a_respaced_tcb_info_no_longer_verifies),
	    cmocka_unit_test(malformed_tcb_infos_have_their_own_errors),
	    cmocka_unit_test(levels_are_sorted_highest_first),
	    cmocka_unit_test(evaluation_takes_the_first_level_the_pck_reaches_and_converges_with_the_qe),
	    cmocka_unit_test(the_qe_convergence_table_is_qvls),
	    cmocka_unit_test(status_strings_round_trip),
	    cmocka_unit_test(the_real_phala_verdict_is_reproduced_from_its_pck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
