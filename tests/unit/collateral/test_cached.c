/*
 * The caching collateral source (collateral/cached.h) over the real PCS
 * client and a local HTTPS server replaying the real PCS answers of
 * shared/vectors: cold fetch, hits, expiry and refresh, outage and grace,
 * CRLs never stale, single-flight, tampered items refused and not cached,
 * offline mode and import, and durability in the real SQLite store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_pcs_server.h"

#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "collateral/pcs.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "evidence/sgx.h"
#include "evidence/tcb.h"
#include "store/store.h"

#include "base/buf.h"
#include "base/lru.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <pthread.h>

#define SGX_VEC "sgx/phala-sgx-v3-00a067110000-2023-11"

static const uint8_t FMSPC[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};

struct fx {
	struct tps srv;
	struct collateral_source *pcs, *cached;
	_Atomic int64_t now;
	const char *vectors;
	X509 *root;
	int64_t tcb_iss, tcb_nu, crl_iss, crl_nu; /* the vector's own dates */
};

static int64_t fx_clock(void *arg)
{
	struct fx *f = arg;

	return atomic_load(&f->now);
}

/*
 * What attestd plugs in as validate(): the issuer chain to the Intel SGX
 * Root CA (read from the vectors' roots/) and the item's signature by its
 * first certificate (formats.md §2.3, §3.3). Time: the cache's now.
 */
static int validate_intel(void *arg, const char *key, enum cached_kind kind, const struct collateral_blob *b,
			  int64_t now, struct attest_err *err)
{
	struct fx *f = arg;
	STACK_OF(X509) *chain = NULL, *anchors = sk_X509_new_null();
	struct x509_verify_opts vo = {0};
	struct tcb_info *ti = NULL;
	struct qe_identity *qi = NULL;
	X509_CRL *crl = NULL;
	X509 *leaf;
	int rc;

	if (b->chain == NULL) { /* the Root CA CRL: signed by the root itself */
		rc = x509_crl_load(b->data, b->len, &crl, "test.crl", err);
		if (rc == ATTEST_OK)
			rc = x509_crl_verify(crl, f->root, now, "test.crl", err);
		goto out;
	}
	if ((rc = x509_stack_from_pem(b->chain, b->chain_len, &chain, "test.chain", err)) != ATTEST_OK)
		goto out;
	sk_X509_push(anchors, f->root);
	X509_up_ref(f->root);
	vo.time = now;
	vo.anchors = anchors;
	leaf = sk_X509_value(chain, 0);
	if ((rc = x509_chain_verify(leaf, chain, &vo, NULL, "test.chain", err)) != ATTEST_OK)
		goto out;
	if (kind == CACHED_TCB_INFO && (rc = tcb_info_parse(b->data, b->len, &ti, "sgx", err)) == ATTEST_OK)
		rc = tcb_info_verify_signature(ti, X509_get0_pubkey(leaf), "sgx", err);
	else if (kind == CACHED_QE_IDENTITY &&
		 (rc = qe_identity_parse(b->data, b->len, &qi, "sgx", err)) == ATTEST_OK)
		rc = qe_identity_verify_signature(qi, X509_get0_pubkey(leaf), "sgx", err);
	else if (kind == CACHED_CRL &&
		 (rc = x509_crl_load(b->data, b->len, &crl, "test.crl", err)) == ATTEST_OK)
		rc = x509_crl_verify(crl, leaf, now, "test.crl", err);
out:
	tcb_info_free(ti);
	qe_identity_free(qi);
	X509_CRL_free(crl);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	return rc;
}

static void item_dates(const char *vectors, const char *rel, enum cached_kind kind, int64_t *iss, int64_t *nu)
{
	struct collateral_blob b = {0};

	b.data = test_read_vector(vectors, rel, &b.len);
	assert_non_null(b.data);
	assert_int_equal(cached_item_dates(kind, &b, 0, 1, iss, nu, NULL), ATTEST_OK);
	free(b.data);
}

static struct collateral_source *cached_over(struct fx *f, struct collateral_source *up,
					     struct cached_options *o)
{
	struct collateral_source *c = NULL;

	o->clock = fx_clock;
	o->clock_arg = f;
	o->validate = validate_intel;
	o->validate_arg = f;
	assert_int_equal(cached_source_new(up, false, o, &c, NULL), ATTEST_OK);
	return c;
}

static struct fx *fx_new(const char *vectors, const struct cached_options *opt)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pcs_options po = {0};
	struct cached_options o = {0};
	char root[128];
	size_t n;
	uint8_t *pem;
	STACK_OF(X509) *st = NULL;

	f->vectors = vectors;
	assert_true(tps_add_intel(&f->srv, vectors, SGX_VEC));
	assert_true(tps_start(&f->srv));
	snprintf(root, sizeof(root), "%s/IntelSGXRootCA.der", f->srv.base);
	po.base_url = f->srv.base;
	po.root_ca_crl_url = root;
	po.ca_pem = (const uint8_t *)f->srv.cert_pem;
	po.ca_pem_len = strlen(f->srv.cert_pem);
	assert_int_equal(pcs_source_new(&po, &f->pcs, NULL), ATTEST_OK);
	pem = test_read_vector(vectors, "roots/intel_sgx_root_ca.pem", &n);
	assert_non_null(pem);
	assert_int_equal(x509_stack_from_pem(pem, n, &st, "test", NULL), ATTEST_OK);
	f->root = sk_X509_shift(st);
	sk_X509_pop_free(st, X509_free);
	free(pem);
	item_dates(vectors, SGX_VEC "/tcb_info.json", CACHED_TCB_INFO, &f->tcb_iss, &f->tcb_nu);
	item_dates(vectors, SGX_VEC "/pck_crl.der", CACHED_CRL, &f->crl_iss, &f->crl_nu);
	/* the cache's clock starts inside both windows */
	atomic_store(&f->now, (f->tcb_iss > f->crl_iss ? f->tcb_iss : f->crl_iss) + 1);
	if (opt != NULL)
		o = *opt;
	f->cached = cached_over(f, f->pcs, &o);
	return f;
}

static void fx_free(struct fx *f)
{
	collateral_source_free(f->cached);
	free(f->cached);
	collateral_source_free(f->pcs);
	free(f->pcs);
	X509_free(f->root);
	tps_stop(&f->srv);
	free(f);
}

static unsigned requests(struct fx *f)
{
	return atomic_load(&f->srv.requests);
}

static int get_tcb(struct collateral_source *s, struct collateral_blob *b, struct attest_err *err)
{
	attest_err_clear(err);
	return collateral_get_tcb_info(s, COLLATERAL_TEE_SGX, FMSPC, b, err);
}

static void assert_is_file(const char *vectors, const char *rel, const struct collateral_blob *b)
{
	size_t n = 0;
	uint8_t *want = test_read_vector(vectors, rel, &n);

	assert_non_null(want);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, want, n);
	free(want);
}

static void cold_fetch_then_hits_without_another_request(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;

	for (int i = 0; i < 10; i++) {
		assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
		assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
		assert_is_file(dir, SGX_VEC "/tcb_info_issuer_chain.pem",
			       &(struct collateral_blob){.data = b.chain, .len = b.chain_len});
		collateral_blob_free(&b);
	}
	assert_int_equal(requests(f), 1);
	cached_source_stats(f->cached, &st);
	assert_int_equal(st.upstream_fetches, 1);
	assert_int_equal(st.hits, 9);
	assert_int_equal(cached_source_count(f->cached), 1);
	fx_free(f);
}

/* The PCCS read API's view: serves what the node holds, never asks upstream, adds no entry. */
static void cache_only_view_serves_held_items_and_asks_nobody_for_the_rest(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *view = cached_source_cache_only(f->cached);
	struct collateral_blob b = {0};
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(get_tcb(view, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.cache.miss");
	assert_int_equal(requests(f), 0);
	assert_int_equal(cached_source_count(f->cached), 0);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(get_tcb(view, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	/* Past its nextUpdate the item is not served by the view, and still nothing is asked. */
	atomic_store(&f->now, f->tcb_nu + 1);
	attest_err_clear(&err);
	assert_int_equal(get_tcb(view, &b, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(requests(f), 1);
	collateral_source_free(view); /* a no-op: the view lives with its cache */
	fx_free(f);
}

static void item_is_fetched_again_after_its_next_update(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_blob b = {0};
	struct attest_err err;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->now, f->tcb_nu - 1); /* still current: a hit */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	atomic_store(&f->now, f->tcb_nu + 1); /* expired, no grace: fetched again */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_COLLATERAL);
	/* the replayed answer is the same document, already past its nextUpdate: refused, not served */
	assert_string_equal(err.name, "collateral.cache.stale");
	assert_int_equal(requests(f), 2);
	fx_free(f);
}

static void refresh_ahead_serves_cached_while_one_caller_refreshes(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 3600};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	size_t done = 0, failed = 0;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->now, f->tcb_nu - 60);
	atomic_store(&f->srv.status,
		     503); /* the refresh fails: the cached item is still current and served */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	atomic_store(&f->srv.status, 0);
	cached_source_refresh_due(f->cached, &done, &failed); /* the background refresh */
	assert_int_equal(done, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(requests(f), 3);
	atomic_store(&f->now, f->tcb_iss + 10); /* nothing due: the timer sends nothing */
	cached_source_refresh_due(f->cached, &done, &failed);
	assert_int_equal(done + failed, 0);
	assert_int_equal(requests(f), 3);
	fx_free(f);
}

static void outage_serves_tcb_info_within_grace_and_refuses_after(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.grace_s = 7 * 86400};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->srv.status, 503);
	atomic_store(&f->now, f->tcb_nu + 86400);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	cached_source_stats(f->cached, &st);
	assert_int_equal(st.stale_served, 1);
	assert_int_equal(st.upstream_failures, 1);
	atomic_store(&f->now, f->tcb_nu + 8 * 86400);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "collateral.cache.stale");
	assert_non_null(strstr(err.msg, "collateral.pcs.http"));
	assert_null(b.data);
	fx_free(f);
}

static void crls_are_never_served_past_their_next_update(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.grace_s = 365 * 86400};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;

	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/pck_crl.der", &b);
	collateral_blob_free(&b);
	atomic_store(&f->srv.status, 503);
	atomic_store(&f->now, f->crl_nu + 1);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PROCESSOR, &b, &err),
			 ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "collateral.cache.stale");
	assert_null(b.data);
	assert_int_equal(requests(f), 2);
	fx_free(f);
}

struct flight {
	struct collateral_source *src;
	pthread_barrier_t *start;
	int rc;
	size_t len;
};

static void *one_lookup(void *arg)
{
	struct flight *fl = arg;
	struct collateral_blob b = {0};
	struct attest_err err;

	pthread_barrier_wait(fl->start); /* all 100 ask at once, even on a loaded machine */
	fl->rc = get_tcb(fl->src, &b, &err);
	fl->len = b.len;
	collateral_blob_free(&b);
	return NULL;
}

static void run_100(struct collateral_source *src, struct flight *fl)
{
	pthread_t th[100];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, 100);
	for (int i = 0; i < 100; i++) {
		fl[i].src = src;
		fl[i].start = &start;
		assert_int_equal(pthread_create(&th[i], NULL, one_lookup, &fl[i]), 0);
	}
	for (int i = 0; i < 100; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
}

static void hundred_concurrent_lookups_cause_one_upstream_request(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct flight fl[100];
	struct cached_stats st;
	size_t n = 0;
	uint8_t *want = test_read_vector(dir, SGX_VEC "/tcb_info.json", &n);

	atomic_store(&f->srv.delay_ms, 500); /* a slow upstream */
	run_100(f->cached, fl);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(fl[i].rc, ATTEST_OK);
		assert_int_equal(fl[i].len, n);
	}
	assert_int_equal(requests(f), 1);
	cached_source_stats(f->cached, &st);
	assert_int_equal(st.upstream_fetches, 1);
	assert_true(st.waits >= 1);
	free(want);
	fx_free(f);
}

static void a_failure_is_shared_by_waiters_and_not_cached(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct flight fl[100];
	struct collateral_blob b = {0};
	struct attest_err err;

	atomic_store(&f->srv.delay_ms, 500);
	atomic_store(&f->srv.status, 503);
	run_100(f->cached, fl);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fl[i].rc, ATTEST_E_IO);
	assert_int_equal(requests(f), 1);
	atomic_store(&f->srv.status, 0);
	atomic_store(&f->srv.delay_ms, 0);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK); /* nothing negative was remembered */
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	fx_free(f);
}

static void expired_answers_are_shared_by_waiters_too(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct flight fl[100];

	atomic_store(&f->now, f->tcb_nu + 1); /* what the upstream serves is already past nextUpdate */
	atomic_store(&f->srv.delay_ms, 500);
	run_100(f->cached, fl);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fl[i].rc, ATTEST_E_COLLATERAL);
	assert_int_equal(requests(f), 1);
	fx_free(f);
}

static void failed_keys_back_off_exponentially(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.backoff_min_s = 60, .backoff_max_s = 200};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	int64_t t0 = atomic_load(&f->now);

	atomic_store(&f->srv.status, 503);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.pcs.http");
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_IO); /* within 60 s: nothing sent */
	assert_string_equal(err.name, "collateral.cache.backoff");
	assert_non_null(strstr(err.msg, "collateral.pcs.http"));
	assert_int_equal(requests(f), 1);
	atomic_store(&f->now, t0 + 61);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_IO); /* second failure: next wait 120 s */
	assert_int_equal(requests(f), 2);
	atomic_store(&f->now, t0 + 61 + 119);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_IO);
	assert_string_equal(err.name, "collateral.cache.backoff");
	assert_int_equal(requests(f), 2);
	atomic_store(&f->srv.status, 0);
	atomic_store(&f->now, t0 + 61 + 121);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK); /* recovered: back-off cleared */
	collateral_blob_free(&b);
	/* other keys were never held back */
	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 4);
	fx_free(f);
}

static void tampered_body_or_chain_is_refused_and_not_cached(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;

	atomic_store(&f->srv.tamper_body, 2);
	assert_int_not_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_string_equal(err.name, "sgx.tcbinfo.signature");
	assert_null(b.data);
	atomic_store(&f->srv.tamper_body, 0);
	atomic_store(&f->srv.tamper_chain, 1);
	assert_int_not_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_true(strncmp(err.name, "test.chain", 10) == 0);
	atomic_store(&f->srv.tamper_chain, 0);
	cached_source_stats(f->cached, &st);
	assert_int_equal(st.rejected, 2);
	/* nothing was kept: the next lookup asks again and gets the genuine item */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 3);
	fx_free(f);
}

/* The claims of the vector's quote through src at the vector's time (NULL on failure). */
static char *verify_json(const char *vectors, struct collateral_source *src, struct attest_err *err)
{
	size_t n = 0;
	uint8_t *quote = test_read_vector(vectors, SGX_VEC "/quote.bin", &n);
	struct evidence_ctx ctx = {.now = 1700611200, .collateral = src}; /* bundle.json now_unix */
	struct evidence_input in = {.evidence = quote, .evidence_len = n};
	struct claim_set *cs = claim_set_new();
	char *s = NULL;
	json_t *j;

	attest_err_clear(err);
	if (sgx_verify(&ctx, &in, cs, err) == ATTEST_OK) {
		j = claim_set_to_json(cs);
		s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(j);
	}
	claim_set_free(cs);
	free(quote);
	return s;
}

static void verdict_through_the_cache_equals_the_file_source_and_repeats_need_no_request(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *file = NULL;
	struct attest_err err;
	char path[1024], *a, *b;
	unsigned after_first;

	snprintf(path, sizeof(path), "%s/%s", dir, SGX_VEC);
	assert_int_equal(collateral_file_source_new(path, &file, NULL), ATTEST_OK);
	a = verify_json(dir, file, &err);
	assert_non_null(a);
	atomic_store(&f->now, 1700611200);
	b = verify_json(dir, f->cached, &err);
	if (b == NULL)
		fail_msg("through the cache: %s: %s", err.name, err.msg);
	assert_string_equal(a, b);
	after_first = requests(f);
	assert_true(after_first >= 4); /* TCB Info, QE identity, PCK CRL, Root CA CRL */
	free(b);
	b = verify_json(dir, f->cached, &err);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_int_equal(requests(f), after_first);
	free(a);
	free(b);
	collateral_source_free(file);
	free(file);
	fx_free(f);
}

static void offline_serves_only_what_is_cached_or_imported(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct cached_options o = {.offline = true};
	struct collateral_source *off = cached_over(f, NULL, &o);
	struct collateral_blob b = {0}, imp = {0};
	struct attest_err err;
	char key[CACHED_KEY_MAX];

	assert_int_equal(get_tcb(off, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.cache.offline");
	imp.data = test_read_vector(dir, SGX_VEC "/tcb_info.json", &imp.len);
	imp.chain = test_read_vector(dir, SGX_VEC "/tcb_info_issuer_chain.pem", &imp.chain_len);
	cached_key_tcb_info(COLLATERAL_TEE_SGX, FMSPC, key);
	assert_string_equal(key, "sgx/tcb/00A067110000");
	assert_int_equal(cached_source_import(off, key, CACHED_TCB_INFO, &imp, NULL), ATTEST_OK);
	atomic_store(&f->now, f->tcb_nu + 400 * 86400); /* offline: served whatever its age */
	assert_int_equal(get_tcb(off, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	/* an import is validated like a fetch */
	imp.data[imp.len / 2] ^= 1;
	assert_int_not_equal(cached_source_import(off, key, CACHED_TCB_INFO, &imp, &err), ATTEST_OK);
	collateral_blob_free(&imp);
	/* a PCS-backed cache switched offline sends nothing */
	cached_source_set_offline(f->cached, true);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_qe_identity(f->cached, COLLATERAL_QE, &b, &err), ATTEST_E_NOT_FOUND);
	assert_int_equal(requests(f), 0);
	collateral_source_free(off);
	free(off);
	fx_free(f);
}

/* ---- durability through the real store (what attestd's adapter does) ---------------- */

static int st_get(void *arg, const char *key, uint8_t **bytes, size_t *len, int64_t *iss, int64_t *nu,
		  struct attest_err *err)
{
	struct store_collateral c = {0};
	int rc = store_collateral_get(arg, key, &c, err);

	if (rc != ATTEST_OK)
		return rc;
	*bytes = c.bytes; /* transferred */
	*len = c.len;
	*iss = c.issue_date;
	*nu = c.next_update;
	c.bytes = NULL;
	store_collateral_clear(&c);
	return ATTEST_OK;
}

static int st_put(void *arg, const char *key, const uint8_t *bytes, size_t len, int64_t iss, int64_t nu,
		  struct attest_err *err)
{
	struct store_collateral c = {(char *)key, (uint8_t *)bytes, len, iss, nu};

	return store_collateral_put(arg, &c, err);
}

static void items_survive_a_restart_in_the_store(void **state)
{
	REQUIRE_VECTORS(dir);
	char tmp[] = "/tmp/attest-cached-XXXXXX", uri[256], cmd[300];
	struct store *st = NULL;
	struct cached_persist p = {0};
	struct cached_options o = {0};
	struct fx *f;
	struct collateral_source *second;
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats s;

	assert_non_null(mkdtemp(tmp));
	snprintf(uri, sizeof(uri), "sqlite:%s/state.db", tmp);
	assert_int_equal(store_open(uri, NULL, &st, NULL), ATTEST_OK);
	p.arg = st;
	p.get = st_get;
	p.put = st_put;
	o.persist = &p;
	f = fx_new(dir, &o);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	/* a new node (fresh memory) over the same store asks nobody */
	second = cached_over(f, f->pcs, &o);
	assert_int_equal(get_tcb(second, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	assert_is_file(dir, SGX_VEC "/tcb_info_issuer_chain.pem",
		       &(struct collateral_blob){.data = b.chain, .len = b.chain_len});
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	cached_source_stats(second, &s);
	assert_int_equal(s.persist_loads, 1);
	assert_int_equal(s.upstream_fetches, 0);
	assert_int_equal(cached_source_invalidate(second, "sgx/tcb/00A067110000"), ATTEST_OK);
	collateral_source_free(second);
	free(second);
	/* a row altered in the store is refused on load (validated again) and fetched anew */
	{
		struct collateral_blob t = {0};
		struct store_collateral row = {0};
		uint8_t *enc = NULL;
		size_t n = 0;

		t.data = test_read_vector(dir, SGX_VEC "/tcb_info.json", &t.len);
		t.chain = test_read_vector(dir, SGX_VEC "/tcb_info_issuer_chain.pem", &t.chain_len);
		*(char *)memmem(t.data, t.len, "\"tcbLevels\"", 11) = ' '; /* breaks the member, signed */
		assert_int_equal(cached_encode(&t, &enc, &n, NULL), ATTEST_OK);
		row = (struct store_collateral){"sgx/tcb/00A067110000", enc, n, f->tcb_iss, f->tcb_nu};
		assert_int_equal(store_collateral_put(st, &row, NULL), ATTEST_OK);
		free(enc);
		collateral_blob_free(&t);
	}
	second = cached_over(f, f->pcs, &o);
	assert_int_equal(get_tcb(second, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	cached_source_stats(second, &s);
	assert_int_equal(s.rejected, 1);
	assert_int_equal(s.persist_loads, 0);
	collateral_source_free(second);
	free(second);
	fx_free(f);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

static void persisted_records_round_trip_and_truncations_are_refused(void **state)
{
	struct collateral_blob in = {(uint8_t *)"body", 4, (uint8_t *)"chain", 5}, out = {0};
	uint8_t *enc = NULL;
	size_t n = 0;

	assert_int_equal(cached_encode(&in, &enc, &n, NULL), ATTEST_OK);
	assert_int_equal(cached_decode(enc, n, &out, NULL), ATTEST_OK);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "body", 4);
	assert_int_equal(out.chain_len, 5);
	assert_memory_equal(out.chain, "chain", 5);
	collateral_blob_free(&out);
	for (size_t cut = 0; cut < n; cut++) {
		struct attest_err err;

		attest_err_clear(&err);
		assert_int_equal(cached_decode(enc, cut, &out, &err), ATTEST_E_PARSE);
		assert_string_equal(err.name, "collateral.cache.encoding");
	}
	free(enc);
}

static void entries_are_bounded(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.max_entries = 2};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};

	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PLATFORM, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_qe_identity(f->cached, COLLATERAL_QE, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(cached_source_count(f->cached), 2);
	/* the least recently used (processor CRL) went: asking again is a request */
	assert_int_equal(collateral_get_pck_crl(f->cached, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 4);
	fx_free(f);
}

/* ---- background refresh ahead of next update ---------------------------------------- */

#define SGX_NEW "sgx/phala-sgx-v3-00a067110000-2025-06" /* the same FMSPC, a newer TCB Info */

struct events {
	pthread_mutex_t mu;
	unsigned n, ok, failed, from_store, advanced;
	char key[CACHED_KEY_MAX], err_name[ATTEST_ERR_NAME_MAX], line[600];
	int64_t next_update, retry_in_s;
	unsigned fails;
};

static void on_refresh(void *arg, const struct cached_refresh_event *ev)
{
	struct events *v = arg;

	pthread_mutex_lock(&v->mu);
	v->n++;
	v->ok += ev->ok;
	v->failed += !ev->ok;
	v->from_store += ev->from_store;
	v->advanced += ev->advanced;
	snprintf(v->key, sizeof(v->key), "%s", ev->key);
	snprintf(v->err_name, sizeof(v->err_name), "%s", ev->err ? ev->err->name : "");
	v->next_update = ev->next_update;
	v->retry_in_s = ev->retry_in_s;
	v->fails = ev->fails;
	cached_refresh_event_format(ev, v->line, sizeof(v->line));
	pthread_mutex_unlock(&v->mu);
}

static unsigned events_n(struct events *v)
{
	unsigned n;

	pthread_mutex_lock(&v->mu);
	n = v->n;
	pthread_mutex_unlock(&v->mu);
	return n;
}

/* A cache over f's PCS client that checks dates only (the newer vector's chain postdates f's clock). */
static struct collateral_source *bare_over(struct fx *f, struct cached_options *o)
{
	struct collateral_source *c = NULL;

	o->clock = fx_clock;
	o->clock_arg = f;
	assert_int_equal(cached_source_new(f->pcs, false, o, &c, NULL), ATTEST_OK);
	return c;
}

static void free_source(struct collateral_source *c)
{
	collateral_source_free(c);
	free(c);
}

static bool wait_for(struct fx *f, unsigned want_requests, int ms)
{
	for (int i = 0; i < ms / 10 && requests(f) < want_requests; i++)
		usleep(10000);
	return requests(f) >= want_requests;
}

static void background_thread_refreshes_items_due_soon_before_anyone_asks(void **state)
{
	REQUIRE_VECTORS(dir);
	struct events ev = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_options o = {.refresh_ahead_s = 86400,
				   .refresh_interval_ms = 20,
				   .on_refresh = on_refresh,
				   .on_refresh_arg = &ev};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;
	int64_t new_iss, new_nu;

	item_dates(dir, SGX_NEW "/tcb_info.json", CACHED_TCB_INFO, &new_iss, &new_nu);
	assert_int_equal(get_tcb(c, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	usleep(100000); /* ticks with nothing due send nothing */
	assert_int_equal(requests(f), 1);
	/* upstream publishes a newer TCB Info; the cached one nears its nextUpdate */
	assert_true(tps_route_replace(&f->srv, dir, "/sgx/certification/v4/tcb", SGX_NEW "/tcb_info.json",
				      SGX_NEW "/tcb_info_issuer_chain.pem"));
	atomic_store(&f->now, f->tcb_nu - 3600);
	assert_true(wait_for(f, 2, 5000));
	for (int i = 0; i < 500 && events_n(&ev) == 0; i++)
		usleep(10000);
	assert_int_equal(ev.ok, 1);
	assert_int_equal(ev.advanced, 1);
	assert_string_equal(ev.key, "sgx/tcb/00A067110000");
	assert_true(ev.next_update == new_nu);
	assert_non_null(strstr(ev.line, "sgx/tcb/00A067110000 refreshed, next update 2025-07-19T10:56:11Z"));
	/* the caller now gets the new document without a request of its own */
	assert_int_equal(get_tcb(c, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_NEW "/tcb_info.json", &b);
	collateral_blob_free(&b);
	usleep(100000); /* the new item is not due: no further requests */
	assert_int_equal(requests(f), 2);
	cached_source_stats(c, &st);
	assert_int_equal(st.refresh_ok, 1);
	assert_int_equal(st.upstream_fetches, 2);
	assert_true(st.refresh_passes >= 2);
	{
		struct buf m;

		buf_init(&m, 64 * 1024);
		assert_int_equal(cached_source_metrics(c, &m), ATTEST_OK);
		assert_int_equal(buf_append(&m, "", 1), ATTEST_OK);
		assert_non_null(strstr((char *)m.p, "attestd_collateral_refresh_total{result=\"ok\"} 1\n"));
		assert_non_null(
		    strstr((char *)m.p, "attestd_collateral_upstream_requests_total{result=\"ok\"} 2\n"));
		assert_non_null(strstr((char *)m.p, "attestd_collateral_lookups_total{result=\"hit\"} 1\n"));
		assert_non_null(strstr((char *)m.p, "attestd_collateral_items 1\n"));
		assert_non_null(strstr((char *)m.p, "attestd_collateral_uncached_total 0\n"));
		buf_free(&m);
	}
	free_source(c);
	fx_free(f);
}

static void outage_during_refresh_keeps_serving_within_grace_and_backs_off(void **state)
{
	REQUIRE_VECTORS(dir);
	struct events ev = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_options o = {.grace_s = 7 * 86400,
				   .refresh_ahead_s = 86400,
				   .backoff_min_s = 600,
				   .backoff_max_s = 3600,
				   .on_refresh = on_refresh,
				   .on_refresh_arg = &ev};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;
	size_t done, failed;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->srv.status, 503);
	atomic_store(&f->now, f->tcb_nu - 3600);
	cached_source_refresh_tick(f->cached, 0, &done, &failed);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(requests(f), 2);
	assert_string_equal(ev.err_name, "collateral.pcs.http");
	assert_int_equal(ev.fails, 1);
	assert_int_equal(ev.retry_in_s, 600);
	assert_non_null(strstr(ev.line, "failed: collateral.pcs.http"));
	cached_source_refresh_tick(f->cached, 0, &done, &failed); /* backing off: nothing sent */
	assert_int_equal(done + failed, 0);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK); /* still current: served */
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	/* past nextUpdate, within the grace: one more try, then served stale */
	atomic_store(&f->now, f->tcb_nu + 3600);
	cached_source_refresh_tick(f->cached, 0, &done, &failed);
	assert_int_equal(failed, 1);
	assert_int_equal(ev.fails, 2);
	assert_int_equal(ev.retry_in_s, 1200); /* doubled */
	assert_int_equal(requests(f), 3);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 3);
	cached_source_stats(f->cached, &st);
	assert_int_equal(st.stale_served, 1);
	assert_int_equal(st.refresh_failed, 2);
	/* beyond the grace: refused */
	atomic_store(&f->now, f->tcb_nu + 8 * 86400);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "collateral.cache.stale");
	fx_free(f);
}

static void refresh_passes_are_bounded_and_stop_at_the_first_failure(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 86400};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct collateral_blob b = {0};
	size_t done, failed;

	/* six platforms (the replay serves the same document for every FMSPC) */
	for (uint8_t i = 0; i < 6; i++) {
		uint8_t fm[6] = {0, 0xa0, 0x67, 0x11, 0, i};

		assert_int_equal(collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, fm, &b, NULL), ATTEST_OK);
		collateral_blob_free(&b);
	}
	assert_int_equal(requests(f), 6);
	atomic_store(&f->now, f->tcb_nu - 60);
	cached_source_refresh_tick(c, 4, &done, &failed);
	assert_int_equal(done, 4);
	assert_int_equal(requests(f), 10);
	/* what came back unchanged is not asked again at the next tick */
	cached_source_refresh_tick(c, 4, &done, &failed);
	assert_int_equal(done, 2);
	cached_source_refresh_tick(c, 4, &done, &failed);
	assert_int_equal(done + failed, 0);
	assert_int_equal(requests(f), 12);
	/* an hour later the upstream is down: one request per pass, not one per item */
	atomic_store(&f->now, f->tcb_nu - 60 + 3601);
	atomic_store(&f->srv.status, 503);
	cached_source_refresh_tick(c, 4, &done, &failed);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(requests(f), 13);
	cached_source_refresh_tick(c, 4, &done, &failed); /* the next item; the failed one waits */
	assert_int_equal(failed, 1);
	assert_int_equal(requests(f), 14);
	free_source(c);
	fx_free(f);
}

struct slow_tick {
	struct collateral_source *c;
	size_t done, failed;
};

static void *tick_thread(void *arg)
{
	struct slow_tick *t = arg;

	cached_source_refresh_tick(t->c, 0, &t->done, &t->failed);
	return NULL;
}

static void refresh_passes_never_overlap_and_lookups_are_served_meanwhile(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 86400};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	struct slow_tick t = {c, 0, 0};
	size_t done = 9, failed = 9;
	pthread_t th;

	assert_int_equal(get_tcb(c, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->now, f->tcb_nu - 60);
	atomic_store(&f->srv.delay_ms, 400);
	assert_int_equal(pthread_create(&th, NULL, tick_thread, &t), 0);
	assert_true(wait_for(f, 2, 5000)); /* the pass's fetch is in flight */
	cached_source_refresh_tick(c, 0, &done, &failed);
	assert_int_equal(done + failed, 0); /* a second pass returns at once */
	/* a caller is served the cached item meanwhile, and starts no second fetch (single-flight) */
	assert_int_equal(get_tcb(c, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	pthread_join(th, NULL);
	assert_int_equal(t.done, 1);
	assert_int_equal(requests(f), 2);
	free_source(c);
	fx_free(f);
}

/* A shared store (what several nodes on one PostgreSQL see), in memory: one row per key. */
struct mem_store {
	pthread_mutex_t mu;
	char key[8][CACHED_KEY_MAX];
	uint8_t *bytes[8];
	size_t len[8];
	int64_t iss[8], nu[8];
	size_t n;
};

static int ms_get(void *arg, const char *key, uint8_t **bytes, size_t *len, int64_t *iss, int64_t *nu,
		  struct attest_err *err)
{
	struct mem_store *m = arg;
	int rc = ATTEST_E_NOT_FOUND;

	(void)err;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0 && (*bytes = malloc(m->len[i])) != NULL) {
			memcpy(*bytes, m->bytes[i], m->len[i]);
			*len = m->len[i];
			*iss = m->iss[i];
			*nu = m->nu[i];
			rc = ATTEST_OK;
		}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int ms_put(void *arg, const char *key, const uint8_t *bytes, size_t len, int64_t iss, int64_t nu,
		  struct attest_err *err)
{
	struct mem_store *m = arg;
	size_t i;

	(void)err;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < m->n && strcmp(m->key[i], key) != 0; i++)
		;
	if (i == m->n && m->n < 8)
		m->n++;
	if (i < m->n) {
		snprintf(m->key[i], CACHED_KEY_MAX, "%s", key);
		free(m->bytes[i]);
		m->bytes[i] = malloc(len);
		memcpy(m->bytes[i], bytes, len);
		m->len[i] = len;
		m->iss[i] = iss;
		m->nu[i] = nu;
	}
	pthread_mutex_unlock(&m->mu);
	return ATTEST_OK;
}

/* An item its caller stored already (attestd's bundle import) is installed, validated, not written again. */
static void an_installed_item_is_served_without_a_second_write(void **state)
{
	REQUIRE_VECTORS(dir);
	struct mem_store m = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_persist p = {&m, ms_get, ms_put};
	struct cached_options o = {.offline = true, .persist = &p};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *off = cached_over(f, NULL, &o);
	struct collateral_blob b = {0}, imp = {0};
	struct attest_err err;
	char key[CACHED_KEY_MAX];

	imp.data = test_read_vector(dir, SGX_VEC "/tcb_info.json", &imp.len);
	imp.chain = test_read_vector(dir, SGX_VEC "/tcb_info_issuer_chain.pem", &imp.chain_len);
	cached_key_tcb_info(COLLATERAL_TEE_SGX, FMSPC, key);
	assert_int_equal(cached_source_install(off, key, CACHED_TCB_INFO, &imp, NULL), ATTEST_OK);
	assert_int_equal(m.n, 0);
	assert_int_equal(get_tcb(off, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_VEC "/tcb_info.json", &b);
	collateral_blob_free(&b);
	/* import writes through */
	assert_int_equal(cached_source_import(off, key, CACHED_TCB_INFO, &imp, NULL), ATTEST_OK);
	assert_int_equal(m.n, 1);
	/* an install is validated like a fetch */
	imp.data[imp.len / 2] ^= 1;
	attest_err_clear(&err);
	assert_int_not_equal(cached_source_install(off, key, CACHED_TCB_INFO, &imp, &err), ATTEST_OK);
	collateral_blob_free(&imp);
	for (size_t i = 0; i < m.n; i++)
		free(m.bytes[i]);
	collateral_source_free(off);
	free(off);
	fx_free(f);
}

static void a_refresh_takes_the_newer_copy_another_node_stored_instead_of_fetching(void **state)
{
	REQUIRE_VECTORS(dir);
	struct mem_store m = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_persist p = {&m, ms_get, ms_put};
	struct events ev = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_options o = {.refresh_ahead_s = 86400, .persist = &p};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *a = bare_over(f, &o), *bnode;
	struct collateral_blob b = {0};
	struct attest_err err;
	struct cached_stats st;
	size_t done, failed;

	o.on_refresh = on_refresh;
	o.on_refresh_arg = &ev;
	bnode = bare_over(f, &o);
	assert_int_equal(get_tcb(a, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(get_tcb(bnode, &b, &err), ATTEST_OK); /* from the store */
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	assert_true(tps_route_replace(&f->srv, dir, "/sgx/certification/v4/tcb", SGX_NEW "/tcb_info.json",
				      SGX_NEW "/tcb_info_issuer_chain.pem"));
	atomic_store(&f->now, f->tcb_nu - 3600);
	cached_source_refresh_tick(a, 0, &done, &failed); /* node a fetches the new item and stores it */
	assert_int_equal(done, 1);
	assert_int_equal(requests(f), 2);
	cached_source_refresh_tick(bnode, 0, &done, &failed); /* node b takes it from the store */
	assert_int_equal(done, 1);
	assert_int_equal(requests(f), 2);
	assert_int_equal(ev.from_store, 1);
	assert_non_null(strstr(ev.line, "taken from the store"));
	assert_int_equal(get_tcb(bnode, &b, &err), ATTEST_OK);
	assert_is_file(dir, SGX_NEW "/tcb_info.json", &b);
	collateral_blob_free(&b);
	cached_source_stats(bnode, &st);
	assert_int_equal(st.refresh_from_store, 1);
	assert_int_equal(st.upstream_fetches, 0);
	free_source(a);
	free_source(bnode);
	for (size_t i = 0; i < m.n; i++)
		free(m.bytes[i]);
	fx_free(f);
}

static void items_nobody_asks_for_are_left_to_expire(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 86400, .refresh_idle_s = 7 * 86400};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	size_t done, failed;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK); /* asked ~30 days before nextUpdate */
	collateral_blob_free(&b);
	atomic_store(&f->now, f->tcb_nu - 60);
	cached_source_refresh_tick(f->cached, 0, &done, &failed);
	assert_int_equal(done + failed, 0);
	assert_int_equal(requests(f), 1);
	fx_free(f);
}

static void stopping_joins_the_refresher_even_with_a_fetch_in_flight(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 86400, .refresh_interval_ms = 10};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct collateral_blob b = {0};
	struct attest_err err;
	uint64_t t0;

	assert_int_equal(get_tcb(c, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->srv.delay_ms, 300);
	atomic_store(&f->now, f->tcb_nu - 60);
	assert_true(wait_for(f, 2, 5000)); /* the refresher is inside its fetch */
	t0 = time_mono_ns();
	free_source(c);
	assert_true(time_mono_ns() - t0 < 3000000000ull);
	/* and an idle one stops at once (its wait is woken, not timed out) */
	o.refresh_interval_ms = 3600 * 1000;
	c = bare_over(f, &o);
	t0 = time_mono_ns();
	free_source(c);
	assert_true(time_mono_ns() - t0 < 1000000000ull);
	fx_free(f);
}

static void selected_sets_are_cached_under_their_own_keys_and_not_found_is_remembered(void **state)
{
	REQUIRE_VECTORS(dir);
	struct fx *f = fx_new(dir, NULL);
	struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0},
				 eval17 = {COLLATERAL_UPDATE_STANDARD, 17};
	struct collateral_blob b = {0};
	struct attest_err err;
	char url[TPS_URL_MAX];

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_tcb_info_ex(f->cached, COLLATERAL_TEE_SGX, FMSPC, &early, &b, NULL),
			 ATTEST_OK); /* not answered by the standard entry */
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_non_null(strstr(url, "update=early"));
	assert_int_equal(collateral_get_tcb_info_ex(f->cached, COLLATERAL_TEE_SGX, FMSPC, &early, &b, NULL),
			 ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2); /* a hit under "sgx/tcb/<fmspc>/early" */
	assert_int_equal(cached_source_invalidate(f->cached, "sgx/tcb/00A067110000/early"), ATTEST_OK);
	/* a numbered set the upstream does not serve: not found, remembered for an hour */
	atomic_store(&f->srv.status, 410);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info_ex(f->cached, COLLATERAL_TEE_SGX, FMSPC, &eval17, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.pcs.not_found");
	tps_last_url(&f->srv, url, sizeof(url));
	assert_non_null(strstr(url, "tcbEvaluationDataNumber=17"));
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info_ex(f->cached, COLLATERAL_TEE_SGX, FMSPC, &eval17, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.pcs.not_found");
	assert_int_equal(requests(f), 3);
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK); /* the standard set is untouched */
	collateral_blob_free(&b);
	atomic_store(&f->now, atomic_load(&f->now) + 3601);
	assert_int_equal(collateral_get_tcb_info_ex(f->cached, COLLATERAL_TEE_SGX, FMSPC, &eval17, &b, NULL),
			 ATTEST_E_NOT_FOUND);
	assert_int_equal(requests(f), 4); /* asked again after the hour */
	/* identities too */
	atomic_store(&f->srv.status, 0);
	assert_int_equal(collateral_get_qe_identity_ex(f->cached, COLLATERAL_QE, &early, &b, NULL),
			 ATTEST_OK);
	collateral_blob_free(&b);
	tps_last_url(&f->srv, url, sizeof(url));
	assert_non_null(strstr(url, "/qe/identity?update=early"));
	fx_free(f);
}

static void with_the_refresher_running_requests_never_pay_a_fetch_for_a_current_item(void **state)
{
	REQUIRE_VECTORS(dir);
	/* a refresher that never ticks within the test: what happens is the lookups' own doing */
	struct cached_options o = {
	    .grace_s = 86400, .refresh_ahead_s = 86400, .refresh_interval_ms = 3600 * 1000};
	struct fx *f = fx_new(dir, &o);
	struct collateral_blob b = {0};
	struct attest_err err;

	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	atomic_store(&f->now, f->tcb_nu - 60); /* due, still current: served, no fetch */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 1);
	atomic_store(&f->now, f->tcb_nu + 60); /* past nextUpdate, within the grace: the caller refreshes */
	assert_int_equal(get_tcb(f->cached, &b, &err), ATTEST_OK);
	collateral_blob_free(&b);
	assert_int_equal(requests(f), 2);
	fx_free(f);
}

struct hammer {
	struct collateral_source *c;
	int failures;
};

static void *hammer_lookups(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 300; i++) {
		uint8_t fm[6] = {0, 0xa0, 0x67, 0x11, 0, (uint8_t)(i % 6)};
		struct collateral_blob b = {0};

		if (collateral_get_tcb_info(h->c, COLLATERAL_TEE_SGX, fm, &b, NULL) != ATTEST_OK)
			h->failures++;
		collateral_blob_free(&b);
	}
	return NULL;
}

static void the_refresher_and_concurrent_lookups_fetch_each_due_item_once(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.refresh_ahead_s = 86400, .refresh_interval_ms = 1};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct hammer h[4];
	pthread_t th[4];
	struct collateral_blob b = {0};

	for (uint8_t i = 0; i < 6; i++) {
		uint8_t fm[6] = {0, 0xa0, 0x67, 0x11, 0, i};

		assert_int_equal(collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, fm, &b, NULL), ATTEST_OK);
		collateral_blob_free(&b);
	}
	assert_int_equal(requests(f), 6);
	atomic_store(&f->now, f->tcb_nu - 60); /* all six due at once */
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){c, 0};
		assert_int_equal(pthread_create(&th[i], NULL, hammer_lookups, &h[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(h[i].failures, 0);
	}
	assert_true(wait_for(f, 12, 5000));
	usleep(100000);
	assert_int_equal(requests(f), 12); /* one refresh per item, none by the lookups, none twice */
	free_source(c);
	fx_free(f);
}

/* ---- the table (base/lru.h): eviction order, pins, walks ------------------------------------ */

/* TCB Info of platform i (the replay serves the same document for every FMSPC): one key each. */
static int get_fm(struct collateral_source *c, uint8_t i, struct attest_err *err)
{
	uint8_t fm[6] = {0, 0xa0, 0x67, 0x11, 0x7f, i};
	struct collateral_blob b = {0};
	int rc;

	if (err != NULL)
		attest_err_clear(err);
	rc = collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, fm, &b, err);
	collateral_blob_free(&b);
	return rc;
}

/* Asks platform i and says whether that took an upstream request. */
static bool asked_upstream(struct fx *f, struct collateral_source *c, uint8_t i, int want_rc)
{
	unsigned before = requests(f);

	assert_int_equal(get_fm(c, i, NULL), want_rc);
	return requests(f) != before;
}

static void a_full_table_evicts_keys_never_served_first_then_the_least_recently_served(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.max_entries = 3};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);

	assert_true(asked_upstream(f, c, 1, ATTEST_OK));
	assert_true(asked_upstream(f, c, 2, ATTEST_OK));
	assert_true(asked_upstream(f, c, 3, ATTEST_OK));
	assert_false(asked_upstream(f, c, 1, ATTEST_OK)); /* served: 1 is the most recent, 2 the least */
	atomic_store(&f->srv.status, 404);
	assert_true(asked_upstream(f, c, 4, ATTEST_E_NOT_FOUND)); /* full: 2 goes; 4 is never served */
	atomic_store(&f->srv.status, 0);
	assert_true(asked_upstream(f, c, 5, ATTEST_OK)); /* full: 4 goes (never served), not 3 */
	assert_int_equal(cached_source_count(c), 3);
	assert_false(asked_upstream(f, c, 3, ATTEST_OK));
	assert_false(asked_upstream(f, c, 1, ATTEST_OK));
	assert_false(asked_upstream(f, c, 5, ATTEST_OK));
	assert_true(asked_upstream(f, c, 2, ATTEST_OK)); /* evicted above: asked again */
	free_source(c);
	fx_free(f);
}

/* One lookup of platform `fm` from its own thread, started by a barrier. */
struct asker {
	struct collateral_source *c;
	pthread_barrier_t *go;
	uint8_t fm;
	int rc;
};

static void *ask_thread(void *arg)
{
	struct asker *a = arg;

	pthread_barrier_wait(a->go);
	a->rc = get_fm(a->c, a->fm, NULL);
	return NULL;
}

/* Starts n askers of fm[i] released together by one barrier (joined by askers_join). */
static void askers_start(struct asker *a, pthread_t *t, pthread_barrier_t *go, int n,
			 struct collateral_source *c, const uint8_t *fm)
{
	assert_int_equal(pthread_barrier_init(go, NULL, (unsigned)n), 0);
	for (int i = 0; i < n; i++) {
		a[i] = (struct asker){.c = c, .go = go, .fm = fm[i], .rc = -1};
		assert_int_equal(pthread_create(&t[i], NULL, ask_thread, &a[i]), 0);
	}
}

static void askers_join(struct asker *a, pthread_t *t, pthread_barrier_t *go, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].rc, ATTEST_OK);
	}
	pthread_barrier_destroy(go);
}

/*
 * A gate in validate() (which runs during the fetch, without the cache's
 * lock, the entry in flight): fetches of the platforms in `hold` stay in
 * flight until the test opens it, so a test knows exactly what is held.
 */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t hold; /* platforms (the FMSPC's last byte, < 64) held */
	int held;      /* fetches waiting at the gate now */
	bool open;
};

static int gate_validate(void *arg, const char *key, enum cached_kind kind, const struct collateral_blob *b,
			 int64_t now, struct attest_err *err)
{
	struct gate *g = arg;
	size_t n = strlen(key);
	unsigned fm = n >= 2 ? (unsigned)strtoul(key + n - 2, NULL, 16) : 64;

	(void)kind, (void)b, (void)now, (void)err;
	pthread_mutex_lock(&g->mu);
	if (!g->open && fm < 64 && (g->hold >> fm & 1)) {
		g->held++;
		pthread_cond_broadcast(&g->cv);
		while (!g->open)
			pthread_cond_wait(&g->cv, &g->mu);
		g->held--;
	}
	pthread_mutex_unlock(&g->mu);
	return ATTEST_OK;
}

/* Waits until n fetches are held at the gate (5 s at most). */
static bool gate_wait_held(struct gate *g, int n)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&g->mu);
	while (g->held < n && rc == 0)
		rc = pthread_cond_timedwait(&g->cv, &g->mu, &ts);
	rc = g->held >= n;
	pthread_mutex_unlock(&g->mu);
	return rc;
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/*
 * Entries held by a fetch in flight or by its waiters are never evicted
 * (under ASan a freed one would be a use after free): with every entry
 * held, a lookup of another key is served from an entry of its own, not
 * kept, and the held keys keep one request each (single-flight).
 */
static void entries_in_use_are_never_evicted_and_a_full_table_of_them_still_serves(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .hold = 0xE};
	struct cached_options o = {.max_entries = 3, .validate = gate_validate, .validate_arg = &g};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c;
	static const uint8_t held[6] = {1, 1, 1, 1, 2, 3}, others[2] = {4, 5};
	struct asker a[6], b[2];
	pthread_t ta[6], tb[2];
	pthread_barrier_t go_a, go_b;
	struct cached_stats st;

	o.clock = fx_clock; /* bare_over would drop validate: set up here */
	o.clock_arg = f;
	assert_int_equal(cached_source_new(f->pcs, false, &o, &c, NULL), ATTEST_OK);
	askers_start(a, ta, &go_a, 6, c, held); /* four on platform 1, one each on 2 and 3 */
	assert_true(gate_wait_held(&g, 3));	/* three fetches in flight: every entry held */
	askers_start(b, tb, &go_b, 2, c, others);
	askers_join(b, tb, &go_b, 2); /* served while 1, 2, 3 are still held */
	assert_int_equal(cached_source_count(c), 3);
	gate_open(&g);
	askers_join(a, ta, &go_a, 6);
	assert_int_equal(requests(f), 5); /* 1, 2, 3 once each (single-flight), 4 and 5 */
	assert_int_equal(cached_source_count(c), 3);
	assert_false(asked_upstream(f, c, 1, ATTEST_OK)); /* the held ones were kept */
	assert_false(asked_upstream(f, c, 2, ATTEST_OK));
	assert_false(asked_upstream(f, c, 3, ATTEST_OK));
	assert_true(asked_upstream(f, c, 4, ATTEST_OK)); /* served before, not kept: the table was full */
	cached_source_stats(c, &st);
	assert_int_equal(st.upstream_fetches, 6);
	assert_int_equal(st.uncached, 2); /* 4 and 5, while 1, 2 and 3 were held */
	free_source(c);
	fx_free(f);
}

/*
 * The waiters' pin: when a fetch ends, its entry is no longer in flight
 * but the callers waiting for it have yet to take the lock back and read
 * it; a lookup of another key that takes the lock first, on a full table,
 * must not evict it under them (under ASan a use after free). Rounds of
 * four callers of one new key, beside three threads asking new keys of a
 * one-entry table all along.
 */
struct pincaller {
	struct collateral_source *c;
	pthread_barrier_t *go;
	uint16_t first;
	int rc_bad;
};

static int get_key(struct collateral_source *c, uint16_t k)
{
	uint8_t fm[6] = {0, 0xa0, 0x67, 0x11, (uint8_t)(k >> 8), (uint8_t)k};
	struct collateral_blob b = {0};
	int rc = collateral_get_tcb_info(c, COLLATERAL_TEE_SGX, fm, &b, NULL);

	collateral_blob_free(&b);
	return rc;
}

static void *newkeys_thread(void *arg)
{
	struct pincaller *h = arg;

	pthread_barrier_wait(h->go);
	for (uint16_t j = 0; j < 6; j++)
		h->rc_bad += get_key(h->c, (uint16_t)(h->first + j)) != ATTEST_OK;
	return NULL;
}

static void *waiter_thread(void *arg)
{
	struct pincaller *h = arg;

	pthread_barrier_wait(h->go);
	h->rc_bad += get_key(h->c, h->first) != ATTEST_OK;
	return NULL;
}

static void waiters_keep_their_entry_after_the_fetch_until_they_have_read_it(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.max_entries = 1};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	struct cached_stats st;

	for (uint16_t r = 0; r < 24; r++) {
		struct pincaller h[7];
		pthread_t t[7];
		pthread_barrier_t go;

		assert_int_equal(pthread_barrier_init(&go, NULL, 7), 0);
		for (int i = 0; i < 7; i++) {
			/* 0..3: one new key per round; 4..6: six new keys each */
			h[i] = (struct pincaller){.c = c,
						  .go = &go,
						  .first = i < 4 ? (uint16_t)(0x100 + r)
								 : (uint16_t)(0x1000 + r * 32 + (i - 4) * 8)};
			assert_int_equal(
			    pthread_create(&t[i], NULL, i < 4 ? waiter_thread : newkeys_thread, &h[i]), 0);
		}
		for (int i = 0; i < 7; i++) {
			assert_int_equal(pthread_join(t[i], NULL), 0);
			assert_int_equal(h[i].rc_bad, 0);
		}
		pthread_barrier_destroy(&go);
	}
	cached_source_stats(c, &st);
	assert_true(st.waits > 0); /* the rounds did make callers wait for a fetch */
	assert_int_equal(cached_source_count(c), 1);
	free_source(c);
	fx_free(f);
}

/* An import needs a place in the table: with every entry held it is refused, and says why. */
static void an_import_into_a_table_full_of_entries_in_use_is_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.max_entries = 1};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	static const uint8_t one[1] = {1};
	struct collateral_blob b = {0};
	struct attest_err err;
	struct asker a[1];
	pthread_t t[1];
	pthread_barrier_t go;

	b.data = test_read_vector(dir, SGX_VEC "/pck_crl.der", &b.len);
	assert_non_null(b.data);
	atomic_store(&f->srv.delay_ms, 400);
	askers_start(a, t, &go, 1, c, one);
	assert_true(wait_for(f, 1, 5000));
	attest_err_clear(&err);
	assert_int_equal(cached_source_import(c, "pck_crl/processor", CACHED_CRL, &b, &err), ATTEST_E_NOMEM);
	assert_string_equal(err.name, "collateral.cache.full");
	askers_join(a, t, &go, 1);
	attest_err_clear(&err); /* now the one entry is free to go */
	assert_int_equal(cached_source_import(c, "pck_crl/processor", CACHED_CRL, &b, &err), ATTEST_OK);
	assert_int_equal(cached_source_count(c), 1);
	free(b.data);
	free_source(c);
	fx_free(f);
}

/* Keys beyond 32 characters (a PCK certificate's: the PPID in hex) are kept under their SHA-256, compared
 * whole. */
static void long_keys_are_found_whole_and_one_byte_apart_are_distinct(void **state)
{
	REQUIRE_VECTORS(dir);
	struct cached_options o = {.offline = true};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c = bare_over(f, &o);
	uint8_t ppid[384], cpusvn[16] = {1}, pceid[2] = {0, 1};
	struct collateral_pck_query q = {ppid, sizeof(ppid), cpusvn, 11, pceid};
	struct collateral_blob item = {0}, got = {0};
	char key[CACHED_KEY_MAX];
	struct attest_err err;

	memset(ppid, 0xA5, sizeof(ppid));
	item.data = test_read_vector(dir, SGX_VEC "/tcb_info_issuer_chain.pem", &item.len);
	assert_non_null(item.data);
	cached_key_pck_cert(&q, key);
	assert_true(strlen(key) > 32);
	assert_int_equal(cached_source_import(c, key, CACHED_CERT, &item, NULL), ATTEST_OK);
	assert_int_equal(collateral_get_pck_cert(c, &q, &got, NULL), ATTEST_OK);
	assert_int_equal(got.len, item.len);
	assert_memory_equal(got.data, item.data, item.len);
	collateral_blob_free(&got);
	ppid[383] ^= 1; /* another platform: not in the cache (offline: nobody is asked) */
	attest_err_clear(&err);
	assert_int_equal(collateral_get_pck_cert(c, &q, &got, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.cache.offline");
	ppid[383] ^= 1;
	assert_int_equal(cached_source_invalidate(c, key), ATTEST_OK);
	assert_int_equal(collateral_get_pck_cert(c, &q, &got, NULL), ATTEST_E_NOT_FOUND);
	assert_int_equal(requests(f), 0);
	free(item.data);
	free_source(c);
	fx_free(f);
}

/* The keys are stored texts (the store's collateral table, bundles): they must not change. */
static void tcb_info_keys_are_the_stored_texts(void **state)
{
	static const uint8_t a[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00},
			     ff[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	char key[CACHED_KEY_MAX];

	(void)state;
	memset(key, 'x', sizeof(key));
	cached_key_tcb_info(COLLATERAL_TEE_SGX, a, key);
	assert_string_equal(key, "sgx/tcb/00A067110000");
	cached_key_tcb_info(COLLATERAL_TEE_TDX, a, key);
	assert_string_equal(key, "tdx/tcb/00A067110000");
	cached_key_tcb_info(COLLATERAL_TEE_SGX, ff, key);
	assert_string_equal(key, "sgx/tcb/FFFFFFFFFFFF");
}

static void max_entries_beyond_the_skeletons_bound_is_refused(void **state)
{
	struct cached_options o = {.max_entries = LRU_MAX_CAPACITY + 1};
	struct collateral_source *c = NULL;
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(cached_source_new(NULL, false, &o, &c, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "collateral.cache.max_entries");
	assert_null(c);
	o.max_entries = LRU_MAX_CAPACITY; /* the bound itself: allocated, untouched */
	assert_int_equal(cached_source_new(NULL, false, &o, &c, NULL), ATTEST_OK);
	free_source(c);
}

/* Four threads churning a small table while the refresher walks it and refreshes what is due. */
struct churn {
	struct collateral_source *c;
	pthread_barrier_t *go;
	atomic_int *failed;
	unsigned seed;
};

static void *churn_thread(void *arg)
{
	struct churn *ch = arg;

	pthread_barrier_wait(ch->go);
	for (int i = 0; i < 60; i++)
		if (get_fm(ch->c, (uint8_t)(rand_r(&ch->seed) % 12), NULL) != ATTEST_OK)
			atomic_fetch_add(ch->failed, 1);
	return NULL;
}

static void the_refresher_walks_the_table_while_requests_churn_it(void **state)
{
	REQUIRE_VECTORS(dir);
	struct events ev = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct cached_options o = {.max_entries = 6,
				   .refresh_ahead_s = 86400,
				   .refresh_interval_ms = 2,
				   .on_refresh = on_refresh,
				   .on_refresh_arg = &ev};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c;
	struct churn ch[4];
	pthread_t t[4];
	pthread_barrier_t go;
	atomic_int failed = 0;
	struct cached_stats st;

	/* every item is due (inside its refresh window): each walk finds work */
	atomic_store(&f->now, f->tcb_nu - 3600);
	c = bare_over(f, &o);
	atomic_store(&f->srv.delay_ms, 2);
	assert_int_equal(pthread_barrier_init(&go, NULL, 4), 0);
	for (int i = 0; i < 4; i++) {
		ch[i] = (struct churn){.c = c, .go = &go, .failed = &failed, .seed = 17u * (unsigned)i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &ch[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&go);
	assert_int_equal(atomic_load(&failed), 0);
	assert_true(cached_source_count(c) <= 6);
	cached_source_stats(c, &st);
	assert_true(st.refresh_passes > 0);
	assert_int_equal(st.refresh_ok + st.refresh_failed, ev.n);
	free_source(c); /* joins the refresher: no walk outlives the table */
	fx_free(f);
}

/* Refresh attempts seen so far, and the last one's key (copied into key). */
static unsigned events_seen(struct events *v, char key[CACHED_KEY_MAX])
{
	unsigned n;

	pthread_mutex_lock(&v->mu);
	n = v->n;
	snprintf(key, CACHED_KEY_MAX, "%s", v->key);
	pthread_mutex_unlock(&v->mu);
	return n;
}

/*
 * The refresher pins the entry it refreshes: with its fetch held at the
 * gate, four threads asking new keys of the full table evict every other
 * entry, never that one (under ASan the refresher would resume on freed
 * memory); once the gate opens it is refreshed, kept and served.
 */
static void the_refresher_keeps_the_entry_it_refreshes_while_requests_evict_the_rest(void **state)
{
	REQUIRE_VECTORS(dir);
	struct events ev = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct cached_options o = {.max_entries = 6,
				   .refresh_ahead_s = 86400,
				   .refresh_interval_ms = 2,
				   .validate = gate_validate,
				   .validate_arg = &g,
				   .on_refresh = on_refresh,
				   .on_refresh_arg = &ev};
	struct fx *f = fx_new(dir, NULL);
	struct collateral_source *c;
	uint8_t others[4] = {0}, held;
	struct asker a[4];
	pthread_t t[4];
	pthread_barrier_t go;
	char key[CACHED_KEY_MAX];

	o.clock = fx_clock;
	o.clock_arg = f;
	assert_int_equal(cached_source_new(f->pcs, false, &o, &c, NULL), ATTEST_OK);
	for (uint8_t i = 0; i < 6; i++) /* six items, not yet due */
		assert_true(asked_upstream(f, c, i, ATTEST_OK));
	pthread_mutex_lock(&g.mu);
	g.hold = 0x3F; /* a refresh of any of them stops at the gate */
	pthread_mutex_unlock(&g.mu);
	atomic_store(&f->now, f->tcb_nu - 3600);  /* all six due */
	assert_true(gate_wait_held(&g, 1));	  /* the refresher's fetch of one of them is in flight */
	for (int round = 0; round < 3; round++) { /* twelve new keys: everything not held goes */
		for (int i = 0; i < 4; i++)
			others[i] = (uint8_t)(10 + round * 4 + i);
		askers_start(a, t, &go, 4, c, others);
		askers_join(a, t, &go, 4);
	}
	assert_int_equal(cached_source_count(c), 6);
	gate_open(&g);
	for (int i = 0; i < 500 && events_seen(&ev, key) == 0; i++)
		usleep(10000);
	assert_true(events_seen(&ev, key) >= 1);
	assert_true(ev.ok >= 1);
	held = (uint8_t)strtoul(key + strlen(key) - 2, NULL, 16);
	assert_true(held < 6);
	/* the held one was kept through the churn, refreshed: served without a request */
	assert_false(asked_upstream(f, c, held, ATTEST_OK));
	free_source(c);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cold_fetch_then_hits_without_another_request),
	    cmocka_unit_test(cache_only_view_serves_held_items_and_asks_nobody_for_the_rest),
	    cmocka_unit_test(item_is_fetched_again_after_its_next_update),
	    cmocka_unit_test(refresh_ahead_serves_cached_while_one_caller_refreshes),
	    cmocka_unit_test(outage_serves_tcb_info_within_grace_and_refuses_after),
	    cmocka_unit_test(crls_are_never_served_past_their_next_update),
	    cmocka_unit_test(hundred_concurrent_lookups_cause_one_upstream_request),
	    cmocka_unit_test(a_failure_is_shared_by_waiters_and_not_cached),
	    cmocka_unit_test(expired_answers_are_shared_by_waiters_too),
	    cmocka_unit_test(failed_keys_back_off_exponentially),
	    cmocka_unit_test(tampered_body_or_chain_is_refused_and_not_cached),
	    cmocka_unit_test(verdict_through_the_cache_equals_the_file_source_and_repeats_need_no_request),
	    cmocka_unit_test(offline_serves_only_what_is_cached_or_imported),
	    cmocka_unit_test(items_survive_a_restart_in_the_store),
	    cmocka_unit_test(persisted_records_round_trip_and_truncations_are_refused),
	    cmocka_unit_test(entries_are_bounded),
	    cmocka_unit_test(background_thread_refreshes_items_due_soon_before_anyone_asks),
	    cmocka_unit_test(outage_during_refresh_keeps_serving_within_grace_and_backs_off),
	    cmocka_unit_test(refresh_passes_are_bounded_and_stop_at_the_first_failure),
	    cmocka_unit_test(refresh_passes_never_overlap_and_lookups_are_served_meanwhile),
	    cmocka_unit_test(an_installed_item_is_served_without_a_second_write),
	    cmocka_unit_test(a_refresh_takes_the_newer_copy_another_node_stored_instead_of_fetching),
	    cmocka_unit_test(items_nobody_asks_for_are_left_to_expire),
	    cmocka_unit_test(stopping_joins_the_refresher_even_with_a_fetch_in_flight),
	    cmocka_unit_test(selected_sets_are_cached_under_their_own_keys_and_not_found_is_remembered),
	    cmocka_unit_test(with_the_refresher_running_requests_never_pay_a_fetch_for_a_current_item),
	    cmocka_unit_test(the_refresher_and_concurrent_lookups_fetch_each_due_item_once),
	    cmocka_unit_test(a_full_table_evicts_keys_never_served_first_then_the_least_recently_served),
	    cmocka_unit_test(entries_in_use_are_never_evicted_and_a_full_table_of_them_still_serves),
	    cmocka_unit_test(waiters_keep_their_entry_after_the_fetch_until_they_have_read_it),
	    cmocka_unit_test(an_import_into_a_table_full_of_entries_in_use_is_refused),
	    cmocka_unit_test(long_keys_are_found_whole_and_one_byte_apart_are_distinct),
	    cmocka_unit_test(tcb_info_keys_are_the_stored_texts),
	    cmocka_unit_test(max_entries_beyond_the_skeletons_bound_is_refused),
	    cmocka_unit_test(the_refresher_walks_the_table_while_requests_churn_it),
	    cmocka_unit_test(the_refresher_keeps_the_entry_it_refreshes_while_requests_evict_the_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
