/*
 * SGX and Open Enclave verification on the real vectors (EXPECTED.md,
 * vectors/oe/MANIFEST.md): status, advisory IDs, measurements, data
 * binding, collateral currency, caching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "evidence/intel.h"
#include "evidence/sgx.h"
#include "sgx_vectors.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

static const char *claim_str(const struct claim_set *cs, const char *type)
{
	const json_t *v = claim_set_get(cs, type);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t claim_int(const struct claim_set *cs, const char *type)
{
	const json_t *v = claim_set_get(cs, type);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* The advisory IDs claim as "A,B,C". */
static void claim_advisories(const struct claim_set *cs, char *out, size_t n)
{
	const json_t *a = claim_set_get(cs, "x-ms-sgx-advisory-ids");
	size_t i;

	out[0] = '\0';
	assert_true(json_is_array(a));
	for (i = 0; i < json_array_size(a); i++) {
		if (i)
			strncat(out, ",", n - strlen(out) - 1);
		strncat(out, json_string_value(json_array_get(a, i)), n - strlen(out) - 1);
	}
}

/* Verifies vector v (quote through sgx_verify) at `now`; claims and error returned. */
static int verify_vector(const char *dir, const struct sgx_vector *v, int64_t now, bool with_runtime,
			 struct claim_set *cs, struct attest_err *err)
{
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	uint8_t *quote, *rt = NULL;
	size_t qlen = 0, rtlen = 0;
	int rc;

	quote = test_read_vector(dir, v->quote, &qlen);
	assert_non_null(quote);
	if (with_runtime && v->runtime_data != NULL) {
		rt = test_read_vector(dir, v->runtime_data, &rtlen);
		assert_non_null(rt);
		in.runtime_data = rt;
		in.runtime_data_len = rtlen;
		in.runtime_data_type = EVIDENCE_DATA_BINARY;
	}
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, now), 0);
	in.evidence = quote;
	in.evidence_len = qlen;
	attest_err_clear(err);
	rc = sgx_verify(&t.ctx, &in, cs, err);
	test_intel_ctx_free(&t);
	free(quote);
	free(rt);
	return rc;
}

static void every_real_vector_verifies_with_its_expected_status_and_measurements(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t i;

	for (i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];
		struct claim_set *cs = claim_set_new();
		struct attest_err err;
		char adv[256];
		int rc = verify_vector(dir, v, v->now, true, cs, &err);

		if (rc != ATTEST_OK)
			fail_msg("%s: %s: %s (%s)", v->quote, err.name, err.msg, err.where);
		assert_string_equal(claim_str(cs, "x-ms-sgx-tcb-status"), v->status);
		if (v->advisories != NULL) {
			claim_advisories(cs, adv, sizeof(adv));
			assert_string_equal(adv, v->advisories);
		}
		assert_string_equal(claim_str(cs, "x-ms-sgx-mrenclave"), v->mrenclave);
		assert_string_equal(claim_str(cs, "x-ms-sgx-mrsigner"), v->mrsigner);
		assert_int_equal(claim_int(cs, "x-ms-sgx-product-id"), v->isvprodid);
		assert_int_equal(claim_int(cs, "x-ms-sgx-svn"), v->isvsvn);
		assert_int_equal(claim_int(cs, "x-ms-sgx-tcb-evaluation-data-number"), v->eval_num);
		assert_true(json_is_boolean(claim_set_get(cs, "x-ms-sgx-is-debuggable")));
		assert_int_equal(json_is_true(claim_set_get(cs, "x-ms-sgx-is-debuggable")), v->debug);
		assert_string_equal(claim_str(cs, "x-ms-attestation-type"), "sgx");
		assert_true(json_is_true(claim_set_get(cs, "x-ms-sgx-revocation-checked")));
		assert_non_null(claim_set_get(cs, "x-ms-sgx-collateral"));
		assert_int_equal(strlen(claim_str(cs, "x-ms-sgx-report-data")), 128);
		claim_set_free(cs);
	}
}

static void forty_days_later_every_vector_is_refused_for_expired_collateral(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t i;

	for (i = 0; i < N_SGX_VECTORS; i++) {
		struct claim_set *cs = claim_set_new();
		struct attest_err err;
		int rc = verify_vector(dir, &SGX_VECTORS[i], SGX_VECTORS[i].now + 40 * DAY, false, cs, &err);

		assert_int_not_equal(rc, ATTEST_OK);
		/* CRLs, TCB Info or QE identity past their nextUpdate: a collateral/chain error, never a
		 * parse one. */
		assert_true(strstr(err.name, "expired") != NULL || strstr(err.name, "crl") != NULL);
		assert_int_equal(claim_set_count(cs), 0);
		claim_set_free(cs);
	}
}

static void a_vector_before_its_collateral_was_issued_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int rc = verify_vector(dir, &SGX_VECTORS[1], SGX_VECTORS[1].now - 3 * DAY, false, cs, &err);

	assert_int_not_equal(rc, ATTEST_OK);
	assert_true(strstr(err.name, "not_yet_valid") != NULL || strstr(err.name, "crl") != NULL);
	claim_set_free(cs);
}

static void runtime_data_is_echoed_as_enclave_held_data(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[3];
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	uint8_t *rt;
	size_t rtlen = 0;
	char *b64;

	assert_int_equal(verify_vector(dir, v, v->now, true, cs, &err), ATTEST_OK);
	rt = test_read_vector(dir, v->runtime_data, &rtlen);
	b64 = b64url_encode(rt, rtlen);
	assert_string_equal(claim_str(cs, "x-ms-sgx-ehd"), b64);
	assert_null(claim_set_get(cs, "x-ms-runtime"));
	free(b64);
	free(rt);
	claim_set_free(cs);
}

static void json_runtime_data_becomes_the_runtime_object_claim(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[3]; /* its runtime data is a JSON JWK */
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0, rtlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen),
		*rt = test_read_vector(dir, v->runtime_data, &rtlen);

	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	attest_err_clear(&err);
	in.evidence = q, in.evidence_len = qlen;
	in.runtime_data = rt, in.runtime_data_len = rtlen, in.runtime_data_type = EVIDENCE_DATA_JSON;
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
	assert_true(json_is_object(claim_set_get(cs, "x-ms-runtime")));
	assert_null(claim_set_get(cs, "x-ms-sgx-ehd"));
	test_intel_ctx_free(&t);
	claim_set_free(cs);
	free(q);
	free(rt);
}

static void runtime_data_that_does_not_hash_to_report_data_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[0];
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);

	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	in.evidence = q, in.evidence_len = qlen;
	in.runtime_data = (const uint8_t *)"Hello, world!", in.runtime_data_len = 13;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.runtime_data.mismatch");
	assert_int_equal(claim_set_count(cs), 0);
	test_intel_ctx_free(&t);
	claim_set_free(cs);
	free(q);
}

static void init_time_data_must_hash_to_config_id(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[0];
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);

	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	in.evidence = q, in.evidence_len = qlen;
	in.init_data = (const uint8_t *)"{}", in.init_data_len = 2, in.init_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.init_data.mismatch");
	test_intel_ctx_free(&t);
	claim_set_free(cs);
	free(q);
}

static void oe_reports_verify_through_oe_verify_with_quotehash_over_the_report(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t i;

	for (i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];
		struct test_intel_ctx t;
		struct evidence_input in = {0};
		struct claim_set *cs;
		struct attest_err err;
		uint8_t *rep, *rt, md[32];
		size_t rlen = 0, rtlen = 0;
		char hex[65];

		if (v->oe_report == NULL)
			continue;
		rep = test_read_vector(dir, v->oe_report, &rlen);
		rt = test_read_vector(dir, v->runtime_data, &rtlen);
		assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
		in.evidence = rep, in.evidence_len = rlen;
		in.runtime_data = rt, in.runtime_data_len = rtlen;
		cs = claim_set_new();
		attest_err_clear(&err);
		if (oe_verify(&t.ctx, &in, cs, &err) != ATTEST_OK)
			fail_msg("%s: %s: %s", v->oe_report, err.name, err.msg);
		assert_string_equal(claim_str(cs, "x-ms-sgx-mrenclave"), v->mrenclave);
		sha256(rep, rlen, md);
		hex_encode_to(md, 32, hex);
		assert_string_equal(
		    json_string_value(json_object_get(claim_set_get(cs, "x-ms-sgx-collateral"), "quotehash")),
		    hex);
		claim_set_free(cs);
		test_intel_ctx_free(&t);
		free(rep);
		free(rt);
	}
}

static void the_plugin_evidence_binds_the_empty_custom_claims_buffer(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[4];
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen), *ev = malloc(qlen + 32);

	/* oe_attestation_header_t: version 3, SGX ECDSA UUID, padding, data_size. */
	memset(ev, 0, 32);
	ev[0] = 3;
	memcpy(ev + 4, OE_FORMAT_UUID_SGX_ECDSA, 16);
	ev[24] = (uint8_t)qlen, ev[25] = (uint8_t)(qlen >> 8);
	memcpy(ev + 32, q, qlen);
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	in.evidence = ev, in.evidence_len = qlen + 32;
	assert_int_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
	assert_string_equal(claim_str(cs, "x-ms-sgx-tcb-status"), "SWHardeningNeeded");
	claim_set_free(cs);
	/* The same header around a quote whose REPORTDATA is not SHA-256(""): refused. */
	free(q);
	q = test_read_vector(dir, SGX_VECTORS[3].quote, &qlen);
	ev = realloc(ev, qlen + 32);
	ev[24] = (uint8_t)qlen, ev[25] = (uint8_t)(qlen >> 8);
	memcpy(ev + 32, q, qlen);
	in.evidence = ev, in.evidence_len = qlen + 32;
	cs = claim_set_new();
	attest_err_clear(&err);
	assert_int_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "oe.custom_claims.mismatch");
	claim_set_free(cs);
	test_intel_ctx_free(&t);
	free(q);
	free(ev);
}

static void a_repeat_platform_is_served_from_the_cache(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[1];
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	struct attest_err err;
	uint64_t hits, misses, hits2, misses2;
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);
	int i;

	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	in.evidence = q, in.evidence_len = qlen;
	for (i = 0; i < 3; i++) {
		struct claim_set *cs = claim_set_new();

		assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
		claim_set_free(cs);
		if (i == 0)
			collateral_cache_stats(t.cache, &hits, &misses);
	}
	collateral_cache_stats(t.cache, &hits2, &misses2);
	assert_int_equal(misses2, misses); /* nothing re-verified */
	/*
	 * Per warm call: built-in root, PCK chain, QE identity, TCB Info, the
	 * parsed attestation key and the remembered absence of an early TCB
	 * Info (the signer chain only when cold).
	 */
	assert_int_equal(hits2 - hits, 2 * 6);
	assert_int_equal(collateral_cache_count(t.cache), 7);
	/* The cached entries do not outlive their windows: 40 days later the same context refuses. */
	t.ctx.now += 40 * DAY;
	{
		struct claim_set *cs = claim_set_new();

		attest_err_clear(&err);
		assert_int_not_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
		claim_set_free(cs);
	}
	test_intel_ctx_free(&t);
	free(q);
}

struct shared_run {
	const struct evidence_ctx *ctx;
	const uint8_t *q;
	size_t len;
	int failures;
};

static void *verify_many(void *arg)
{
	struct shared_run *s = arg;
	int i;

	for (i = 0; i < 25; i++) {
		struct evidence_input in = {.evidence = s->q, .evidence_len = s->len};
		struct claim_set *cs = claim_set_new();
		struct attest_err err;

		attest_err_clear(&err);
		if (sgx_verify(s->ctx, &in, cs, &err) != ATTEST_OK)
			s->failures++;
		claim_set_free(cs);
	}
	return NULL;
}

/* One context (source + cache) shared by several workers, as attestd's workers share it. */
static void concurrent_verifications_share_one_cache(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[1];
	struct test_intel_ctx t;
	struct shared_run runs[4];
	pthread_t th[4];
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);
	int i;

	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	for (i = 0; i < 4; i++) {
		runs[i] = (struct shared_run){&t.ctx, q, qlen, 0};
		assert_int_equal(pthread_create(&th[i], NULL, verify_many, &runs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(runs[i].failures, 0);
	}
	/* Racing cold fills of one key replace each other: one entry per kind remains (7 with the early
	 * absence). */
	assert_int_equal(collateral_cache_count(t.cache), 7);
	test_intel_ctx_free(&t);
	free(q);
}

static void without_a_collateral_source_verification_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	struct evidence_ctx ctx = {.now = SGX_VECTORS[0].now};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, SGX_VECTORS[0].quote, &qlen);

	in.evidence = q, in.evidence_len = qlen;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&ctx, &in, cs, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "sgx.collateral.missing");
	/* With NO_COLLATERAL the signatures and the chain are checked, the TCB is not evaluated. */
	ctx.flags = EVIDENCE_NO_COLLATERAL;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&ctx, &in, cs, &err), ATTEST_OK);
	assert_string_equal(claim_str(cs, "x-ms-sgx-tcb-status"), "NotEvaluated");
	assert_true(json_is_false(claim_set_get(cs, "x-ms-sgx-revocation-checked")));
	claim_set_free(cs);
	free(q);
}

/* The Intel SDK quote has no collateral of its date: chain, signatures and data binding only. */
static void the_intel_sdk_quote_verifies_its_chain_and_runtime_data_without_collateral(void **state)
{
	REQUIRE_VECTORS(dir);
	const char *d = "oe/azure-samples-intel-sdk-release-00906ed50000-2023-02";
	struct evidence_ctx ctx = {.now = 1677628800 /* 2023-03-01 */, .flags = EVIDENCE_NO_COLLATERAL};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char rel[256];
	size_t qlen = 0, rlen = 0;
	uint8_t *q, *rt;

	snprintf(rel, sizeof(rel), "%s/quote.bin", d);
	q = test_read_vector(dir, rel, &qlen);
	snprintf(rel, sizeof(rel), "%s/enclave_held_data.bin", d);
	rt = test_read_vector(dir, rel, &rlen);
	in.evidence = q, in.evidence_len = qlen;
	in.runtime_data = rt, in.runtime_data_len = rlen;
	attest_err_clear(&err);
	if (sgx_verify(&ctx, &in, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(claim_str(cs, "x-ms-sgx-mrenclave"),
			    "d37d983a85d63fb49649610e2eba0930ecdbff6d113aca3ff3fc7261696c0134");
	assert_false(json_is_true(claim_set_get(cs, "x-ms-sgx-is-debuggable")));
	assert_non_null(claim_set_get(cs, "x-ms-sgx-ehd"));
	claim_set_free(cs);
	/* Before its PCK certificate was issued: refused. */
	ctx.now = 1672531200; /* 2023-01-01 */
	cs = claim_set_new();
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.pck.chain.not_yet_valid");
	claim_set_free(cs);
	free(q);
	free(rt);
}

static void a_chain_to_another_root_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[0];
	struct test_intel_ctx t;
	struct evidence_anchors anchors = {0};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t qlen = 0, alen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);
	uint8_t *ark = test_read_vector(dir, "roots/amd_ark_milan.pem", &alen);

	assert_int_equal(x509_stack_from_pem(ark, alen, &anchors.intel_sgx_roots, "t", NULL), ATTEST_OK);
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	t.ctx.anchors = &anchors;
	in.evidence = q, in.evidence_len = qlen;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_true(strncmp(err.name, "sgx.pck.chain.", 14) == 0);
	test_intel_ctx_free(&t);
	sk_X509_pop_free(anchors.intel_sgx_roots, X509_free);
	claim_set_free(cs);
	free(q);
	free(ark);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_real_vector_verifies_with_its_expected_status_and_measurements),
	    cmocka_unit_test(forty_days_later_every_vector_is_refused_for_expired_collateral),
	    cmocka_unit_test(a_vector_before_its_collateral_was_issued_is_refused),
	    cmocka_unit_test(runtime_data_is_echoed_as_enclave_held_data),
	    cmocka_unit_test(json_runtime_data_becomes_the_runtime_object_claim),
	    cmocka_unit_test(runtime_data_that_does_not_hash_to_report_data_is_refused),
	    cmocka_unit_test(init_time_data_must_hash_to_config_id),
	    cmocka_unit_test(oe_reports_verify_through_oe_verify_with_quotehash_over_the_report),
	    cmocka_unit_test(the_plugin_evidence_binds_the_empty_custom_claims_buffer),
	    cmocka_unit_test(a_repeat_platform_is_served_from_the_cache),
	    cmocka_unit_test(concurrent_verifications_share_one_cache),
	    cmocka_unit_test(without_a_collateral_source_verification_is_refused),
	    cmocka_unit_test(the_intel_sdk_quote_verifies_its_chain_and_runtime_data_without_collateral),
	    cmocka_unit_test(a_chain_to_another_root_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
