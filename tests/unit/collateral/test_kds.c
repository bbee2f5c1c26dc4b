/*
 * The AMD KDS client (collateral/kds.h) against a local HTTPS server
 * replaying the real KDS objects of shared/vectors/snp (VCEK DER, ASK+ARK
 * PEM), with the real SNP verifier on top, and AMD's rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_pcs_server.h"

#include "collateral/amd_collateral.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "collateral/kds.h"
#include "collateral/pcs.h"
#include "evidence/evidence.h"
#include "evidence/snp.h"

#include <jansson.h>
#include <time.h>

#define SNP_VEC		     "snp/gsg-milan-v2-2022-09"
#define SNP_REPORTED_TCB_OFF 0x180 /* formats.md §5.1 */
#define SNP_CHIP_ID_OFF	     0x1A0

struct fx {
	struct tps srv;
	uint8_t *report;
	size_t report_len;
	uint8_t chip_id[64];
	uint64_t tcb;
};

static struct fx *fx_new(const char *vectors)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_true(tps_route_file(&f->srv, vectors, "/vcek/v1/Milan/cert_chain",
				   SNP_VEC "/ask_ark_milan.pem", NULL, NULL, "application/x-pem-file"));
	assert_true(tps_route_file(&f->srv, vectors, "/vcek/v1/Milan/*", SNP_VEC "/vcek.der", NULL, NULL,
				   "application/x-x509-ca-cert"));
	assert_true(tps_start(&f->srv));
	f->report = test_read_vector(vectors, SNP_VEC "/report.bin", &f->report_len);
	assert_non_null(f->report);
	assert_true(f->report_len >= SNP_CHIP_ID_OFF + 64);
	memcpy(f->chip_id, f->report + SNP_CHIP_ID_OFF, 64);
	for (int i = 0; i < 8; i++)
		f->tcb |= (uint64_t)f->report[SNP_REPORTED_TCB_OFF + i] << (8 * i);
	return f;
}

static void fx_free(struct fx *f)
{
	tps_stop(&f->srv);
	free(f->report);
	free(f);
}

static struct collateral_source *kds_for(struct fx *f, int64_t interval_ms, int64_t max_wait_ms)
{
	struct kds_options o = {0};
	struct collateral_source *src = NULL;

	o.base_url = f->srv.base;
	o.ca_pem = (const uint8_t *)f->srv.cert_pem;
	o.ca_pem_len = strlen(f->srv.cert_pem);
	o.min_interval_ms = interval_ms;
	o.max_wait_ms = max_wait_ms;
	assert_int_equal(kds_source_new(&o, &src, NULL), ATTEST_OK);
	return src;
}

static void drop(struct collateral_source *s)
{
	collateral_source_free(s);
	free(s);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vcek_is_requested_by_chip_id_and_reported_tcb(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, -1, 0);
	struct collateral_blob b = {0};
	char url[TPS_URL_MAX], want[512];
	int n;
	const uint8_t *t = f->report + SNP_REPORTED_TCB_OFF;
	size_t len = 0;
	uint8_t *der = test_read_vector(dir, SNP_VEC "/vcek.der", &len);

	assert_int_equal(collateral_get_amd_vcek(kds, "Milan", f->chip_id, f->tcb, &b, NULL), ATTEST_OK);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, der, len);
	assert_null(b.chain);
	/* §5.8: hex CHIP_ID, decimal SPLs from the Milan TCB_VERSION bytes (§5.5: bl 0, tee 1, snp 6, ucode
	 * 7) */
	n = snprintf(want, sizeof(want), "/vcek/v1/Milan/");
	for (int i = 0; i < 64; i++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", f->chip_id[i]);
	snprintf(want + n, sizeof(want) - (size_t)n, "?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", t[0], t[1],
		 t[6], t[7]);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, want);
	collateral_blob_free(&b);
	free(der);
	drop(kds);
	fx_free(f);
}

static void chains_and_crls_use_their_vcek_and_vlek_paths(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, -1, 0);
	struct collateral_blob b = {0};
	struct attest_err err;
	char url[TPS_URL_MAX];
	size_t len = 0;
	uint8_t *pem = test_read_vector(dir, SNP_VEC "/ask_ark_milan.pem", &len);

	assert_int_equal(collateral_get_amd_cert_chain(kds, "Milan", false, &b, NULL), ATTEST_OK);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, pem, len);
	collateral_blob_free(&b);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_amd_cert_chain(kds, "Milan", true, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.kds.not_found");
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/vlek/v1/Milan/cert_chain");
	assert_int_equal(collateral_get_amd_crl(kds, "Genoa", false, &b, NULL), ATTEST_E_NOT_FOUND);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/vcek/v1/Genoa/crl");
	/* Turin (§5.8): CHIP_ID[0:8] and the Turin TCB layout fmc, bl, tee, snp, -, -, -, ucode */
	{
		uint8_t chip[64] = {0}, t[8] = {1, 2, 3, 4, 0, 0, 0, 5};
		uint64_t tcb = 0;

		for (int i = 0; i < 8; i++) {
			chip[i] = (uint8_t)(0xa0 + i);
			tcb |= (uint64_t)t[i] << (8 * i);
		}
		assert_int_equal(collateral_get_amd_vcek(kds, "Turin", chip, tcb, &b, NULL),
				 ATTEST_E_NOT_FOUND);
		tps_last_url(&f->srv, url, sizeof(url));
		assert_string_equal(
		    url, "/vcek/v1/Turin/a0a1a2a3a4a5a6a7?fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=5");
	}
	attest_err_clear(&err);
	assert_int_equal(collateral_get_amd_crl(kds, "Milan/../x", false, &b, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "collateral.invalid");
	free(pem);
	drop(kds);
	fx_free(f);
}

static char *snp_json(const char *vectors, struct fx *f, struct collateral_source *src,
		      struct attest_err *err)
{
	struct evidence_ctx ctx = {.now = 1700000000,
				   .collateral = src}; /* the vector's bundle.json now_unix */
	struct evidence_input in = {.evidence = f->report, .evidence_len = f->report_len};
	struct claim_set *cs = claim_set_new();
	char *s = NULL;
	json_t *j;

	attest_err_clear(err);
	if (snp_verify(&ctx, &in, cs, err) == ATTEST_OK) {
		j = claim_set_to_json(cs);
		s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(j);
	}
	claim_set_free(cs);
	return s;
}

static void verdict_through_kds_equals_the_file_source(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, -1, 0), *file = NULL;
	struct attest_err err;
	char path[1024], *a, *b;

	snprintf(path, sizeof(path), "%s/%s", dir, SNP_VEC);
	assert_int_equal(amd_file_source_new(path, &file, NULL), ATTEST_OK);
	a = snp_json(dir, f, file, &err);
	assert_non_null(a);
	b = snp_json(dir, f, kds, &err);
	if (b == NULL)
		fail_msg("through KDS: %s: %s", err.name, err.msg);
	assert_string_equal(a, b);
	assert_true(atomic_load(&f->srv.requests) >= 1);
	/* a VCEK altered in transit is refused by the verifier */
	atomic_store(&f->srv.tamper_body, 1);
	free(b);
	b = snp_json(dir, f, kds, &err);
	assert_null(b);
	assert_true(strncmp(err.name, "snp.", 4) == 0);
	free(a);
	drop(file);
	drop(kds);
	fx_free(f);
}

static void requests_to_kds_are_spaced_by_the_interval(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, 250, 1000);
	struct collateral_blob b = {0};
	int64_t t0 = mono_ms();

	for (int i = 0; i < 3; i++) {
		assert_int_equal(collateral_get_amd_cert_chain(kds, "Milan", false, &b, NULL), ATTEST_OK);
		collateral_blob_free(&b);
	}
	assert_true(mono_ms() - t0 >= 500); /* the 2nd and 3rd waited for their slots */
	assert_int_equal(atomic_load(&f->srv.requests), 3);
	drop(kds);
	fx_free(f);
}

struct chain_call {
	struct collateral_source *kds;
	int rc;
};

static void *chain_call(void *arg)
{
	struct chain_call *c = arg;
	struct collateral_blob b = {0};

	c->rc = collateral_get_amd_cert_chain(c->kds, "Milan", false, &b, NULL);
	collateral_blob_free(&b);
	return NULL;
}

static void concurrent_requests_queue_for_their_slots(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, 200, 1000);
	struct chain_call calls[4];
	pthread_t th[4];
	int64_t t0 = mono_ms();
	int ok = 0;

	for (int i = 0; i < 4; i++) {
		calls[i] = (struct chain_call){kds, -1};
		assert_int_equal(pthread_create(&th[i], NULL, chain_call, &calls[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += calls[i].rc == ATTEST_OK;
	}
	assert_int_equal(ok, 4);
	assert_true(mono_ms() - t0 >= 600); /* slots at 0, 200, 400, 600 ms */
	assert_int_equal(atomic_load(&f->srv.requests), 4);
	drop(kds);
	fx_free(f);
}

static void a_request_that_would_wait_too_long_is_refused_unsent(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, 0 /* default: 10 s */, 100);
	struct collateral_blob b = {0};
	struct attest_err err;
	uint64_t sent, refused;
	int64_t t0;

	assert_int_equal(collateral_get_amd_cert_chain(kds, "Milan", false, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	t0 = mono_ms();
	attest_err_clear(&err);
	assert_int_equal(collateral_get_amd_vcek(kds, "Milan", f->chip_id, f->tcb, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.kds.rate_limited");
	assert_true(mono_ms() - t0 < 1000); /* refused at once, not after 10 s */
	assert_int_equal(atomic_load(&f->srv.requests), 1);
	kds_source_stats(kds, &sent, &refused);
	assert_int_equal(sent, 1);
	assert_int_equal(refused, 1);
	drop(kds);
	fx_free(f);
}

static void kds_429_is_honoured(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, -1, 0);
	struct collateral_blob b = {0};
	struct attest_err err;

	atomic_store(&f->srv.status, 429);
	atomic_store(&f->srv.retry_after, 30);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_amd_cert_chain(kds, "Milan", false, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.kds.rate_limited");
	atomic_store(&f->srv.status, 0);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_amd_vcek(kds, "Milan", f->chip_id, f->tcb, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.kds.rate_limited");
	assert_int_equal(atomic_load(&f->srv.requests), 1);
	drop(kds);
	fx_free(f);
}

static void a_cached_vcek_costs_one_kds_request(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct collateral_source *kds = kds_for(f, -1, 0), *c = NULL;
	struct collateral_blob b = {0};
	struct attest_err err;
	unsigned after;
	char url[TPS_URL_MAX];
	char *s;

	assert_int_equal(cached_source_new(kds, true, NULL, &c, NULL), ATTEST_OK);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(collateral_get_amd_vcek(c, "Milan", f->chip_id, f->tcb, &b, NULL),
				 ATTEST_OK);
		collateral_blob_free(&b);
	}
	assert_int_equal(atomic_load(&f->srv.requests), 1);
	s = snp_json(dir, f, c, &err); /* the verifier through the cache: chain and CRL asked once */
	assert_non_null(s);
	free(s);
	after = atomic_load(&f->srv.requests);
	s = snp_json(dir, f, c, &err);
	assert_non_null(s);
	free(s);
	/* only the CRL this replay does not have (404) is asked again: negative answers are not cached */
	assert_int_equal(atomic_load(&f->srv.requests), after + 1);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/vcek/v1/Milan/crl");
	drop(c);
	fx_free(f);
}

/* The SGX vector's bundle.json now_unix: its TCB Info is current then. */
static int64_t sgx_vector_now(void *arg)
{
	(void)arg;
	return 1700611200;
}

static void one_cached_source_serves_intel_and_amd_slots(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir);
	struct pcs_options po = {0};
	struct cached_options co = {0};
	struct collateral_source *pcs = NULL, *c = NULL;
	struct collateral_blob b = {0};
	static const uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	char url[TPS_URL_MAX];

	assert_true(tps_add_intel(&f->srv, dir, "sgx/phala-sgx-v3-00a067110000-2023-11"));
	po.base_url = f->srv.base;
	po.ca_pem = (const uint8_t *)f->srv.cert_pem;
	po.ca_pem_len = strlen(f->srv.cert_pem);
	assert_int_equal(pcs_source_new(&po, &pcs, NULL), ATTEST_OK);
	co.clock = sgx_vector_now;
	co.amd_upstream = kds_for(f, -1, 0);
	co.own_amd_upstream = true;
	assert_int_equal(cached_source_new(pcs, true, &co, &c, NULL), ATTEST_OK);
	assert_int_equal(collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, fmspc, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/tcb?fmspc=00a067110000");
	assert_int_equal(collateral_get_amd_cert_chain(c, "Milan", false, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/vcek/v1/Milan/cert_chain");
	assert_int_equal(atomic_load(&f->srv.requests), 2);
	drop(c);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vcek_is_requested_by_chip_id_and_reported_tcb),
	    cmocka_unit_test(chains_and_crls_use_their_vcek_and_vlek_paths),
	    cmocka_unit_test(verdict_through_kds_equals_the_file_source),
	    cmocka_unit_test(requests_to_kds_are_spaced_by_the_interval),
	    cmocka_unit_test(concurrent_requests_queue_for_their_slots),
	    cmocka_unit_test(a_request_that_would_wait_too_long_is_refused_unsent),
	    cmocka_unit_test(kds_429_is_honoured),
	    cmocka_unit_test(a_cached_vcek_costs_one_kds_request),
	    cmocka_unit_test(one_cached_source_serves_intel_and_amd_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
