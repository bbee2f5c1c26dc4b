/*
 * The Intel PCS v4 / PCCS client (collateral/pcs.h) against a local HTTPS
 * server replaying the real PCS answers of shared/vectors (bodies and
 * issuer-chain headers), with the real SGX and TDX verifiers on top.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_pcs_server.h"

#include "collateral/collateral.h"
#include "collateral/pcs.h"
#include "evidence/evidence.h"
#include "evidence/sgx.h"
#include "evidence/tdx.h"

#include <jansson.h>
#include <time.h>

#define SGX_VEC "sgx/phala-sgx-v3-00a067110000-2023-11"
#define TDX_VEC "tdx/phala-tdx-v4-b0c06f000000-2025-06"

static int64_t bundle_now(const char *vectors, const char *vdir)
{
	char rel[512];
	size_t n;
	uint8_t *p;
	json_t *doc;
	int64_t now = 0;

	snprintf(rel, sizeof(rel), "%s/bundle.json", vdir);
	if ((p = test_read_vector(vectors, rel, &n)) == NULL)
		return 0;
	doc = json_loadb((const char *)p, n, 0, NULL);
	now = json_integer_value(json_object_get(doc, "now_unix"));
	json_decref(doc);
	free(p);
	return now;
}

struct fx {
	struct tps srv;
	struct collateral_source *pcs;
	const char *vectors;
};

static struct collateral_source *pcs_for(struct tps *s, enum pcs_update up, long timeout_ms)
{
	struct pcs_options o = {0};
	struct collateral_source *src = NULL;
	char root[128];

	snprintf(root, sizeof(root), "%s/IntelSGXRootCA.der", s->base);
	o.base_url = s->base;
	o.root_ca_crl_url = root;
	o.ca_pem = (const uint8_t *)s->cert_pem;
	o.ca_pem_len = strlen(s->cert_pem);
	o.update = up;
	o.timeout_ms = timeout_ms;
	assert_int_equal(pcs_source_new(&o, &src, NULL), ATTEST_OK);
	return src;
}

static struct fx *fx_new(const char *vectors, const char *vdir)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->vectors = vectors;
	assert_true(tps_add_intel(&f->srv, vectors, vdir));
	assert_true(tps_start(&f->srv));
	f->pcs = pcs_for(&f->srv, PCS_UPDATE_DEFAULT, 0);
	return f;
}

static void fx_free(struct fx *f)
{
	collateral_source_free(f->pcs);
	free(f->pcs);
	tps_stop(&f->srv);
	free(f);
}

static void assert_file_equals(const char *vectors, const char *rel, const uint8_t *p, size_t n)
{
	size_t len = 0;
	uint8_t *want = test_read_vector(vectors, rel, &len);

	assert_non_null(want);
	assert_int_equal(n, len);
	assert_memory_equal(p, want, n);
	free(want);
}

static const uint8_t FMSPC[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};

static void tcb_info_body_and_chain_header_are_returned_as_served(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	struct attest_err err;
	char url[TPS_URL_MAX];

	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &b, &err), ATTEST_OK);
	assert_file_equals(dir, SGX_VEC "/tcb_info.json", b.data, b.len);
	/* the header's URL-encoded PEM decodes to the chain file, byte for byte */
	assert_file_equals(dir, SGX_VEC "/tcb_info_issuer_chain.pem", b.chain, b.chain_len);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/tcb?fmspc=00a067110000");
	collateral_blob_free(&b);
	fx_free(f);
}

static void pck_crl_of_each_ca_is_requested_in_der(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	char url[TPS_URL_MAX];

	assert_int_equal(collateral_get_pck_crl(f->pcs, COLLATERAL_CA_PLATFORM, &b, NULL), ATTEST_OK);
	assert_file_equals(dir, SGX_VEC "/pck_crl.der", b.data, b.len);
	assert_file_equals(dir, SGX_VEC "/pck_crl_issuer_chain.pem", b.chain, b.chain_len);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_pck_crl(f->pcs, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
	collateral_blob_free(&b);
	fx_free(f);
}

static void root_ca_crl_comes_without_a_chain(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};

	assert_int_equal(collateral_get_root_ca_crl(f->pcs, &b, NULL), ATTEST_OK);
	assert_file_equals(dir, SGX_VEC "/root_ca_crl.der", b.data, b.len);
	assert_null(b.chain);
	collateral_blob_free(&b);
	fx_free(f);
}

static void a_pccs_serves_the_root_ca_crl_as_hex_text(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct pcs_options o = {0};
	struct collateral_source *pccs = NULL;
	struct collateral_blob b = {0};
	struct tps_route *r = &f->srv.routes[f->srv.n_routes];
	size_t n = 0;
	uint8_t *der = test_read_vector(dir, SGX_VEC "/root_ca_crl.der", &n);
	char url[TPS_URL_MAX];

	/* PCCS v3 style: GET <base>/sgx/certification/v4/rootcacrl answers the DER in hex */
	assert_non_null(der);
	snprintf(r->path, sizeof(r->path), "/sgx/certification/v4/rootcacrl");
	r->body = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		sprintf((char *)r->body + 2 * i, "%02x", der[i]);
	r->len = 2 * n;
	r->type = "text/plain";
	f->srv.n_routes++;
	o.base_url = f->srv.base; /* no root_ca_crl_url: a PCCS base serves it */
	o.ca_pem = (const uint8_t *)f->srv.cert_pem;
	o.ca_pem_len = strlen(f->srv.cert_pem);
	assert_int_equal(pcs_source_new(&o, &pccs, NULL), ATTEST_OK);
	assert_int_equal(collateral_get_root_ca_crl(pccs, &b, NULL), ATTEST_OK);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, der, n);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/rootcacrl");
	collateral_blob_free(&b);
	free(der);
	collateral_source_free(pccs);
	free(pccs);
	fx_free(f);
}

static void pck_certificate_by_encrypted_ppid_sends_the_api_key(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct pcs_options o = {0};
	struct collateral_source *src = NULL;
	struct collateral_blob b = {0};
	uint8_t ppid[384], cpusvn[16], pceid[2] = {0x00, 0x00};
	struct collateral_pck_query q = {ppid, sizeof(ppid), cpusvn, 0x0d0e, pceid};
	char url[2048], want[2048], key[128];
	int n;

	/* any PEM with a chain header will do: the source does not interpret it */
	assert_true(tps_route_file(&f->srv, dir, "/sgx/certification/v4/pckcert",
				   SGX_VEC "/pck_crl_issuer_chain.pem", "SGX-PCK-Certificate-Issuer-Chain",
				   SGX_VEC "/pck_crl_issuer_chain.pem", "application/x-pem-file"));
	for (size_t i = 0; i < sizeof(ppid); i++)
		ppid[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(cpusvn); i++)
		cpusvn[i] = (uint8_t)(0xf0 + i);
	o.base_url = f->srv.base;
	o.api_key = "test-subscription-key";
	o.ca_pem = (const uint8_t *)f->srv.cert_pem;
	o.ca_pem_len = strlen(f->srv.cert_pem);
	assert_int_equal(pcs_source_new(&o, &src, NULL), ATTEST_OK);
	assert_int_equal(collateral_get_pck_cert(src, &q, &b, NULL), ATTEST_OK);
	assert_file_equals(dir, SGX_VEC "/pck_crl_issuer_chain.pem", b.chain, b.chain_len);
	n = snprintf(want, sizeof(want), "/sgx/certification/v4/pckcert?encrypted_ppid=");
	for (size_t i = 0; i < sizeof(ppid); i++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", ppid[i]);
	/* PCS v4: PCESVN as 2 bytes little-endian in hex */
	snprintf(want + n, sizeof(want) - (size_t)n,
		 "&cpusvn=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff&pcesvn=0e0d&pceid=0000");
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, want);
	tps_last_api_key(&f->srv, key, sizeof(key));
	assert_string_equal(key, "test-subscription-key");
	collateral_blob_free(&b);
	/* a clear PPID (type 1) is never sent */
	q.ppid_len = 16;
	assert_int_equal(collateral_get_pck_cert(src, &q, &b, NULL), ATTEST_E_NOT_FOUND);
	assert_int_equal(atomic_load(&f->srv.requests), 1);
	collateral_source_free(src);
	free(src);
	fx_free(f);
}

static void identities_and_tdx_paths_follow_pcs_v4(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, TDX_VEC);
	struct collateral_source *early = pcs_for(&f->srv, PCS_UPDATE_EARLY, 0);
	struct collateral_blob b = {0};
	char url[TPS_URL_MAX];

	assert_int_equal(collateral_get_qe_identity(f->pcs, COLLATERAL_TD_QE, &b, NULL), ATTEST_OK);
	assert_file_equals(dir, TDX_VEC "/qe_identity.json", b.data, b.len);
	assert_file_equals(dir, TDX_VEC "/qe_identity_issuer_chain.pem", b.chain, b.chain_len);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/tdx/certification/v4/qe/identity");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_tcb_info(early, COLLATERAL_TEE_TDX, FMSPC, &b, NULL), ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/tdx/certification/v4/tcb?fmspc=00a067110000&update=early");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_qe_identity(early, COLLATERAL_QE, &b, NULL), ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/qe/identity?update=early");
	collateral_blob_free(&b);
	collateral_source_free(early);
	free(early);
	fx_free(f);
}

/* tcb_info_ex / qe_identity_ex: update=early, or tcbEvaluationDataNumber instead of update. */
static void selected_sets_are_asked_for_by_update_or_evaluation_data_number(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_source *standard = pcs_for(&f->srv, PCS_UPDATE_STANDARD, 0);
	const struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0},
				       n15 = {COLLATERAL_UPDATE_STANDARD, 15},
				       plain = {COLLATERAL_UPDATE_STANDARD, 0};
	struct collateral_blob b = {0};
	char url[TPS_URL_MAX];

	assert_int_equal(collateral_get_tcb_info_ex(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &early, &b, NULL),
			 ATTEST_OK);
	assert_file_equals(dir, SGX_VEC "/tcb_info_issuer_chain.pem", b.chain, b.chain_len);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/tcb?fmspc=00a067110000&update=early");
	collateral_blob_free(&b);
	/* A number replaces the source's own update selector (PCS takes one or the other). */
	assert_int_equal(collateral_get_tcb_info_ex(standard, COLLATERAL_TEE_SGX, FMSPC, &n15, &b, NULL),
			 ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/tcb?fmspc=00a067110000&tcbEvaluationDataNumber=15");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_qe_identity_ex(f->pcs, COLLATERAL_QE, &n15, &b, NULL), ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/qe/identity?tcbEvaluationDataNumber=15");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_qe_identity_ex(f->pcs, COLLATERAL_QE, &early, &b, NULL), ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/qe/identity?update=early");
	collateral_blob_free(&b);
	/* The standard selection is the plain request, with the source's own selector. */
	assert_int_equal(collateral_get_tcb_info_ex(standard, COLLATERAL_TEE_SGX, FMSPC, &plain, &b, NULL),
			 ATTEST_OK);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_string_equal(url, "/sgx/certification/v4/tcb?fmspc=00a067110000&update=standard");
	collateral_blob_free(&b);
	collateral_source_free(standard);
	free(standard);
	fx_free(f);
}

/* Claims of the vector's quote verified at its time through src (NULL on failure, err filled). */
static char *verify_json(const char *vectors, const char *vdir, bool tdx, struct collateral_source *src,
			 struct attest_err *err)
{
	char rel[512];
	size_t n = 0;
	uint8_t *quote;
	struct evidence_ctx ctx = {0};
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct collateral_cache *cache = collateral_cache_new(64);
	json_t *j;
	char *s = NULL;
	int rc;

	snprintf(rel, sizeof(rel), "%s/quote.bin", vdir);
	quote = test_read_vector(vectors, rel, &n);
	assert_non_null(quote);
	src->cache = cache;
	ctx.now = bundle_now(vectors, vdir);
	ctx.collateral = src;
	in.evidence = quote;
	in.evidence_len = n;
	attest_err_clear(err);
	rc = tdx ? tdx_verify(&ctx, &in, cs, err) : sgx_verify(&ctx, &in, cs, err);
	if (rc == ATTEST_OK) {
		j = claim_set_to_json(cs);
		s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(j);
	}
	src->cache = NULL;
	collateral_cache_free(cache);
	claim_set_free(cs);
	free(quote);
	return s;
}

static void verdict_through_pcs_equals_the_file_source(void **state)
{
	REQUIRE_VECTORS(dir);
	static const struct {
		const char *vdir;
		bool tdx;
	} V[] = {{SGX_VEC, false}, {TDX_VEC, true}};

	for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
		struct fx *f = fx_new(dir, V[i].vdir);
		struct collateral_source *file = NULL;
		struct attest_err err;
		char path[1024], *a, *b;

		snprintf(path, sizeof(path), "%s/%s", dir, V[i].vdir);
		assert_int_equal(collateral_file_source_new(path, &file, NULL), ATTEST_OK);
		a = verify_json(dir, V[i].vdir, V[i].tdx, file, &err);
		assert_non_null(a);
		b = verify_json(dir, V[i].vdir, V[i].tdx, f->pcs, &err);
		if (b == NULL)
			fail_msg("%s through PCS: %s: %s", V[i].vdir, err.name, err.msg);
		assert_string_equal(a, b);
		assert_true(atomic_load(&f->srv.requests) >= 3); /* it really went over HTTPS */
		free(a);
		free(b);
		collateral_source_free(file);
		free(file);
		fx_free(f);
	}
}

static void tampered_body_or_chain_is_refused_by_the_verifier(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct attest_err err;
	char *s;

	atomic_store(&f->srv.tamper_body, 2);
	s = verify_json(dir, SGX_VEC, false, f->pcs, &err);
	assert_null(s);
	print_message("tampered body: %s: %s\n", err.name, err.msg);
	assert_true(strncmp(err.name, "sgx.", 4) == 0); /* the verifier refused it, not the transport */
	atomic_store(&f->srv.tamper_body, 0);
	atomic_store(&f->srv.tamper_chain, 1);
	s = verify_json(dir, SGX_VEC, false, f->pcs, &err);
	assert_null(s);
	print_message("tampered chain: %s: %s\n", err.name, err.msg);
	assert_true(strncmp(err.name, "sgx.", 4) == 0);
	atomic_store(&f->srv.tamper_chain, 0);
	s = verify_json(dir, SGX_VEC, false, f->pcs, &err);
	assert_non_null(s); /* the same server, untampered, verifies */
	free(s);
	fx_free(f);
}

static void error_status_is_collateral_pcs_http_with_status_and_url(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	struct attest_err err;

	atomic_store(&f->srv.status, 503);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.http");
	assert_non_null(strstr(err.msg, "503"));
	assert_non_null(strstr(err.msg, "/sgx/certification/v4/tcb?fmspc=00a067110000"));
	atomic_store(&f->srv.status, 404);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.pcs.not_found");
	assert_null(b.data);
	fx_free(f);
}

static void missing_or_garbled_chain_header_is_collateral_pcs_header(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	struct attest_err err;
	uint8_t *chain = NULL;
	size_t n;

	atomic_store(&f->srv.omit_chain, 1);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_qe_identity(f->pcs, COLLATERAL_QE, &b, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "collateral.pcs.header");
	assert_non_null(strstr(err.msg, "SGX-Enclave-Identity-Issuer-Chain"));
	assert_null(b.data);
	attest_err_clear(&err);
	assert_int_equal(pcs_decode_chain_header("%2-----", "H", "x.header", &chain, &n, &err),
			 ATTEST_E_COLLATERAL);
	attest_err_clear(&err);
	assert_int_equal(pcs_decode_chain_header("hello%20world", "H", "x.header", &chain, &n, &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "x.header");
	fx_free(f);
}

static void slow_upstream_is_collateral_pcs_timeout(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_source *quick = pcs_for(&f->srv, PCS_UPDATE_DEFAULT, 200);
	struct collateral_blob b = {0};
	struct attest_err err;

	atomic_store(&f->srv.delay_ms, 800);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_root_ca_crl(quick, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.timeout");
	collateral_source_free(quick);
	free(quick);
	fx_free(f);
}

static void rate_limit_429_gates_requests_until_retry_after_passes(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	struct attest_err err;
	uint64_t sent, refused;
	unsigned before;
	struct timespec t0, t1;

	atomic_store(&f->srv.status, 429);
	atomic_store(&f->srv.retry_after, 1);
	attest_err_clear(&err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(collateral_get_pck_crl(f->pcs, COLLATERAL_CA_PROCESSOR, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.rate_limited");
	atomic_store(&f->srv.status, 0); /* the upstream is fine again, but the gate holds */
	before = atomic_load(&f->srv.requests);
	for (int i = 0; i < 5; i++) {
		attest_err_clear(&err);
		assert_int_equal(collateral_get_tcb_info(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &b, &err),
				 ATTEST_E_IO);
		assert_string_equal(err.name, "collateral.pcs.rate_limited");
	}
	assert_int_equal(atomic_load(&f->srv.requests), before); /* nothing was sent */
	pcs_source_stats(f->pcs, &sent, &refused);
	assert_int_equal(sent, 1);
	assert_int_equal(refused, 5);
	usleep(1100 * 1000);
	assert_int_equal(collateral_get_tcb_info(f->pcs, COLLATERAL_TEE_SGX, FMSPC, &b, NULL), ATTEST_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 1000);
	assert_int_equal(atomic_load(&f->srv.requests), before + 1);
	collateral_blob_free(&b);
	fx_free(f);
}

static void retry_after_as_an_http_date_is_honoured(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct collateral_blob b = {0};
	struct attest_err err;
	long long ms = 0;
	const char *p;

	atomic_store(&f->srv.status, 429);
	atomic_store(&f->srv.retry_after, 120);
	atomic_store(&f->srv.retry_as_date, 1);
	assert_int_equal(collateral_get_root_ca_crl(f->pcs, &b, NULL), ATTEST_E_IO);
	atomic_store(&f->srv.status, 0);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_root_ca_crl(f->pcs, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.rate_limited");
	p = strstr(err.msg, "wait ");
	assert_non_null(p);
	ms = atoll(p + 5);
	assert_true(ms > 100 * 1000 && ms <= 121 * 1000); /* the date, not the 60 s default */
	assert_int_equal(atomic_load(&f->srv.requests), 1);
	fx_free(f);
}

static void server_certificate_is_verified(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, SGX_VEC);
	struct pcs_options o = {0};
	struct collateral_source *src = NULL;
	struct collateral_blob b = {0};
	struct attest_err err;

	o.base_url = f->srv.base; /* system trust store: the self-signed test certificate is not in it */
	assert_int_equal(pcs_source_new(&o, &src, NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_SGX, FMSPC, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.io");
	assert_int_equal(atomic_load(&f->srv.requests), 0);
	collateral_source_free(src);
	free(src);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tcb_info_body_and_chain_header_are_returned_as_served),
	    cmocka_unit_test(pck_crl_of_each_ca_is_requested_in_der),
	    cmocka_unit_test(root_ca_crl_comes_without_a_chain),
	    cmocka_unit_test(a_pccs_serves_the_root_ca_crl_as_hex_text),
	    cmocka_unit_test(pck_certificate_by_encrypted_ppid_sends_the_api_key),
	    cmocka_unit_test(identities_and_tdx_paths_follow_pcs_v4),
	    cmocka_unit_test(selected_sets_are_asked_for_by_update_or_evaluation_data_number),
	    cmocka_unit_test(verdict_through_pcs_equals_the_file_source),
	    cmocka_unit_test(tampered_body_or_chain_is_refused_by_the_verifier),
	    cmocka_unit_test(error_status_is_collateral_pcs_http_with_status_and_url),
	    cmocka_unit_test(missing_or_garbled_chain_header_is_collateral_pcs_header),
	    cmocka_unit_test(slow_upstream_is_collateral_pcs_timeout),
	    cmocka_unit_test(rate_limit_429_gates_requests_until_retry_after_passes),
	    cmocka_unit_test(retry_after_as_an_http_date_is_honoured),
	    cmocka_unit_test(server_certificate_is_verified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
