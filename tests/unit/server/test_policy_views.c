/*
 * attestd's policy views (server/pipeline_routes.h): the providers'
 * policies last read from the store, so an attestation reads no database.
 * What is served fresh (within PIPELINE_POLICY_VIEW_TTL_MS) and what only
 * as the fallback while the store is unreachable (said once per view), the
 * default (no text), a change marking the view for a new read without
 * dropping it, replacement, the bound (the view loaded longest ago goes),
 * provider names up to 63 characters compared whole, and four threads on a
 * barrier reading, replacing and marking views of more pairs than fit
 * (under ASan: a view freed under a reader is a report; a text served for
 * another pair is counted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/timeutil.h"
#include "server/pipeline_routes.h"
#include "server/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * attestd's clock (server.h) is defined beside its main (main.c), which a
 * test of the server library without the server does not have;
 * pipeline_routes.c refers to it (the collateral cache's clock). Never
 * called here. Weak: should the library define it one day, its own wins.
 */
int64_t srv_now(const struct srv *srv);
__attribute__((weak)) int64_t srv_now(const struct srv *srv)
{
	(void)srv;
	return time_now();
}

#define TTL_NS ((uint64_t)PIPELINE_POLICY_VIEW_TTL_MS * 1000000u)

/* A provider's name as the views key it (the compound literal lives to the end of the caller's block). */
static const struct pipeline_view_name *name_of(struct pipeline_view_name *vn, const char *name)
{
	assert_true(pipeline_view_name_init(vn, name));
	return vn;
}

#define N(s) name_of(&(struct pipeline_view_name){0}, (s))

static struct pipeline_policy_views *views_new(void)
{
	struct pipeline_policy_views *v = pipeline_policy_views_new();

	assert_non_null(v);
	return v;
}

/* get, expecting rc; on success the text (or NULL) and signer (or NULL) are compared and freed. */
static void expect_view(struct pipeline_policy_views *v, const char *provider, enum maa_type type,
			uint64_t now, bool any_age, int rc, const char *text, const char *signer)
{
	char *t = (char *)1, *s = (char *)1;

	assert_int_equal(pipeline_policy_view_get(v, N(provider), type, now, any_age, &t, &s, NULL), rc);
	if (text == NULL)
		assert_null(t);
	else
		assert_string_equal(t, text);
	if (signer == NULL)
		assert_null(s);
	else
		assert_string_equal(s, signer);
	free(t);
	free(s);
}

static bool fresh(struct pipeline_policy_views *v, const char *provider, enum maa_type type, uint64_t now)
{
	char *t = NULL, *s = NULL;
	int rc = pipeline_policy_view_get(v, N(provider), type, now, false, &t, &s, NULL);

	free(t);
	free(s);
	assert_true(rc == ATTEST_OK || rc == ATTEST_E_NOT_FOUND);
	return rc == ATTEST_OK;
}

static void a_view_is_served_fresh_within_its_ttl_and_only_as_fallback_after(void **state)
{
	struct pipeline_policy_views *v = views_new();
	uint64_t t0 = 5000000000ull;

	(void)state;
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0, false, ATTEST_E_NOT_FOUND, NULL, NULL);
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_SGX_ENCLAVE, "version=1.0;", "{\"kty\":\"EC\"}",
				 t0);
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0, false, ATTEST_OK, "version=1.0;",
		    "{\"kty\":\"EC\"}");
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0 + TTL_NS, false, ATTEST_OK, "version=1.0;",
		    "{\"kty\":\"EC\"}");
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0 + TTL_NS + 1, false, ATTEST_E_NOT_FOUND, NULL,
		    NULL);
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0 + 100 * TTL_NS, true, ATTEST_OK, "version=1.0;",
		    "{\"kty\":\"EC\"}");
	/* loaded by another request after this one read the clock: fresh too */
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, t0 - 1, false, ATTEST_OK, "version=1.0;",
		    "{\"kty\":\"EC\"}");
	/* another type of the same provider, the same type of another: no view */
	expect_view(v, "contoso", MAA_TYPE_TPM, t0, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	expect_view(v, "contoso2", MAA_TYPE_SGX_ENCLAVE, t0, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	expect_view(v, "contos", MAA_TYPE_SGX_ENCLAVE, t0, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	pipeline_policy_views_free(v);
}

static void the_default_view_has_no_text_and_a_signer_needs_a_text(void **state)
{
	struct pipeline_policy_views *v = views_new();

	(void)state;
	pipeline_policy_view_put(v, N("fabrikam"), MAA_TYPE_TPM, NULL, NULL, 10);
	expect_view(v, "fabrikam", MAA_TYPE_TPM, 10, false, ATTEST_OK, NULL, NULL);
	pipeline_policy_view_put(v, N("fabrikam"), MAA_TYPE_TPM, NULL, "{\"kty\":\"EC\"}", 10);
	expect_view(v, "fabrikam", MAA_TYPE_TPM, 10, false, ATTEST_OK, NULL, NULL);
	pipeline_policy_view_put(v, N("fabrikam"), MAA_TYPE_TPM, "version=1.0;", NULL, 10);
	expect_view(v, "fabrikam", MAA_TYPE_TPM, 10, false, ATTEST_OK, "version=1.0;", NULL);
	pipeline_policy_views_free(v);
	pipeline_policy_views_free(NULL);
}

static void a_put_replaces_the_view_of_its_pair_only(void **state)
{
	struct pipeline_policy_views *v = views_new();

	(void)state;
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_SGX_ENCLAVE, "a", NULL, 10);
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_TDX_VM, "b", NULL, 10);
	pipeline_policy_view_put(v, N("fabrikam"), MAA_TYPE_SGX_ENCLAVE, "c", NULL, 10);
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_SGX_ENCLAVE, "a2", "{}", 20);
	expect_view(v, "contoso", MAA_TYPE_SGX_ENCLAVE, 20, false, ATTEST_OK, "a2", "{}");
	expect_view(v, "contoso", MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "b", NULL);
	expect_view(v, "fabrikam", MAA_TYPE_SGX_ENCLAVE, 10, false, ATTEST_OK, "c", NULL);
	pipeline_policy_views_free(v);
}

static void a_changed_view_is_read_again_and_kept_as_the_fallback(void **state)
{
	struct pipeline_policy_views *v = views_new();
	const uint64_t T0 = 10 * TTL_NS; /* a monotonic clock some seconds after boot */

	(void)state;
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_SEV_SNP_VM, "old", NULL, T0);
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_TPM, "other", NULL, T0);
	pipeline_policy_view_changed(v, N("contoso"), MAA_TYPE_SEV_SNP_VM);
	pipeline_policy_view_changed(v, N("nobody"), MAA_TYPE_SEV_SNP_VM); /* no view: nothing happens */
	assert_false(fresh(v, "contoso", MAA_TYPE_SEV_SNP_VM, T0));
	assert_true(fresh(v, "contoso", MAA_TYPE_TPM, T0)); /* the other type is untouched */
	expect_view(v, "contoso", MAA_TYPE_SEV_SNP_VM, T0, true, ATTEST_OK, "old", NULL);
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_SEV_SNP_VM, "new", NULL, T0 + 1); /* read again */
	expect_view(v, "contoso", MAA_TYPE_SEV_SNP_VM, T0 + 1, false, ATTEST_OK, "new", NULL);
	pipeline_policy_views_free(v);
}

static bool first_stale(struct pipeline_policy_views *v, const char *provider, enum maa_type type,
			uint64_t now)
{
	char *t = NULL, *s = NULL;
	bool first = false;

	assert_int_equal(pipeline_policy_view_get(v, N(provider), type, now, true, &t, &s, &first),
			 ATTEST_OK);
	free(t);
	free(s);
	return first;
}

static void the_fallback_is_reported_once_per_view(void **state)
{
	struct pipeline_policy_views *v = views_new();
	char *t = NULL, *s = NULL;
	bool first = true;

	(void)state;
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_TPM, "p", NULL, 10);
	pipeline_policy_view_put(v, N("fabrikam"), MAA_TYPE_TPM, "q", NULL, 10);
	assert_int_equal(pipeline_policy_view_get(v, N("contoso"), MAA_TYPE_TPM, 10, false, &t, &s, &first),
			 ATTEST_OK);
	assert_false(first); /* a fresh read is no fallback */
	free(t);
	assert_true(first_stale(v, "contoso", MAA_TYPE_TPM, 10 + 10 * TTL_NS));
	assert_false(first_stale(v, "contoso", MAA_TYPE_TPM, 10 + 11 * TTL_NS));
	assert_true(first_stale(v, "fabrikam", MAA_TYPE_TPM, 10 + 11 * TTL_NS)); /* each view once */
	pipeline_policy_view_put(v, N("contoso"), MAA_TYPE_TPM, "p2", NULL, 20); /* a new read: a new view */
	assert_true(first_stale(v, "contoso", MAA_TYPE_TPM, 20 + 10 * TTL_NS));
	pipeline_policy_views_free(v);
}

static void provider_of(unsigned i, char out[64])
{
	snprintf(out, 64, "provider-%u", i);
}

static void a_full_table_drops_the_view_loaded_longest_ago(void **state)
{
	struct pipeline_policy_views *v = views_new();
	char name[64];
	uint64_t now = 1;

	(void)state;
	for (unsigned i = 0; i < PIPELINE_POLICY_VIEWS; i++) {
		provider_of(i, name);
		pipeline_policy_view_put(v, N(name), MAA_TYPE_TPM, name, NULL, now++);
	}
	/* reading a view does not keep it: 0 is still the one loaded longest ago */
	assert_true(fresh(v, "provider-0", MAA_TYPE_TPM, now));
	pipeline_policy_view_put(v, N("provider-1"), MAA_TYPE_TPM, "reloaded", NULL,
				 now++); /* 1 is read again */
	pipeline_policy_view_put(v, N("newcomer"), MAA_TYPE_TPM, "n", NULL, now++);
	expect_view(v, "provider-0", MAA_TYPE_TPM, now, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	pipeline_policy_view_put(v, N("newcomer2"), MAA_TYPE_TPM, "n2", NULL, now++);
	expect_view(v, "provider-2", MAA_TYPE_TPM, now, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	expect_view(v, "provider-1", MAA_TYPE_TPM, now, true, ATTEST_OK, "reloaded", NULL);
	for (unsigned i = 3; i < PIPELINE_POLICY_VIEWS; i++) {
		provider_of(i, name);
		expect_view(v, name, MAA_TYPE_TPM, now, true, ATTEST_OK, name, NULL);
	}
	expect_view(v, "newcomer", MAA_TYPE_TPM, now, true, ATTEST_OK, "n", NULL);
	expect_view(v, "newcomer2", MAA_TYPE_TPM, now, true, ATTEST_OK, "n2", NULL);
	pipeline_policy_views_free(v);
}

/* Names of 33..63 characters sharing their first 32, and one differing only in its last. */
static void long_provider_names_are_compared_whole(void **state)
{
	struct pipeline_policy_views *v = views_new();
	char a[64], b[64], c[64];

	(void)state;
	memset(a, 'p', 63);
	a[63] = 0;
	memcpy(b, a, sizeof(b));
	b[62] = 'q';
	memcpy(c, a, sizeof(c));
	c[33] = 0;
	pipeline_policy_view_put(v, N(a), MAA_TYPE_TDX_VM, "A", NULL, 10);
	pipeline_policy_view_put(v, N(b), MAA_TYPE_TDX_VM, "B", NULL, 10);
	pipeline_policy_view_put(v, N(c), MAA_TYPE_TDX_VM, "C", NULL, 10);
	expect_view(v, a, MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "A", NULL);
	expect_view(v, b, MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "B", NULL);
	expect_view(v, c, MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "C", NULL);
	expect_view(v, a, MAA_TYPE_SGX_ENCLAVE, 10, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	c[32] = 0; /* the 32-character prefix itself: no view */
	expect_view(v, c, MAA_TYPE_TDX_VM, 10, true, ATTEST_E_NOT_FOUND, NULL, NULL);
	c[31] = 0; /* 31 characters: the first kept by its SHA-256 */
	pipeline_policy_view_put(v, N(c), MAA_TYPE_TDX_VM, "31", NULL, 10);
	c[30] = 0; /* 30: the last kept as it is */
	pipeline_policy_view_put(v, N(c), MAA_TYPE_TDX_VM, "30", NULL, 10);
	expect_view(v, c, MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "30", NULL);
	c[30] = 'p';
	expect_view(v, c, MAA_TYPE_TDX_VM, 10, false, ATTEST_OK, "31", NULL);
	expect_view(v, c, MAA_TYPE_TPM, 10, true, ATTEST_E_NOT_FOUND, NULL, NULL); /* the type counts too */
	pipeline_policy_views_free(v);
}

/* A name of 64 characters or more (refused by the management API) is never kept: read each time. */
static void names_of_64_characters_or_more_are_not_kept(void **state)
{
	struct pipeline_policy_views *v = views_new();
	struct pipeline_view_name vn;
	char big[80], *t = NULL, *s = NULL;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	for (size_t n = 64; n < sizeof(big); n += 15) {
		big[n] = 0;
		assert_false(pipeline_view_name_init(&vn, big));
		pipeline_policy_view_put(v, &vn, MAA_TYPE_TPM, "X", NULL, 10);
		pipeline_policy_view_changed(v, &vn, MAA_TYPE_TPM);
		assert_int_equal(pipeline_policy_view_get(v, &vn, MAA_TYPE_TPM, 10, true, &t, &s, NULL),
				 ATTEST_E_NOT_FOUND);
		assert_null(t);
		big[n] = 'x';
	}
	big[63] = 0; /* 63: kept */
	pipeline_policy_view_put(v, N(big), MAA_TYPE_TPM, "63", NULL, 10);
	expect_view(v, big, MAA_TYPE_TPM, 10, false, ATTEST_OK, "63", NULL);
	pipeline_policy_views_free(v);
}

/* ---- four threads on a barrier ----------------------------------------------------------------- */

#define THREADS 4
#define OPS	20000
#define PAIRS	(PIPELINE_POLICY_VIEWS + PIPELINE_POLICY_VIEWS / 2) /* more than fit: evictions */

struct race {
	struct pipeline_policy_views *v;
	pthread_barrier_t go;
	atomic_int wrong, hits;
};

/* The text of pair k: names the pair, so a text served for another pair is seen. */
static void text_of(unsigned k, unsigned gen, char out[64])
{
	snprintf(out, 64, "policy of pair %u, read %u", k, gen);
}

static void *race_thread(void *arg)
{
	struct race *r = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;

	pthread_barrier_wait(&r->go);
	for (int i = 0; i < OPS; i++) {
		unsigned k = (unsigned)rand_r(&seed) % PAIRS, op = (unsigned)rand_r(&seed) % 8;
		enum maa_type type = (enum maa_type)(k % MAA_TYPE_COUNT);
		char name[64], want[64], *t = NULL, *s = NULL;

		provider_of(k / MAA_TYPE_COUNT, name);
		if (op == 0) {
			text_of(k, (unsigned)i, want);
			pipeline_policy_view_put(r->v, N(name), type, want, i % 2 ? "{}" : NULL,
						 time_mono_ns());
		} else if (op == 1) {
			pipeline_policy_view_changed(r->v, N(name), type);
		} else if (pipeline_policy_view_get(r->v, N(name), type, time_mono_ns(), op == 2, &t, &s,
						    NULL) == ATTEST_OK) {
			size_t n;

			atomic_fetch_add(&r->hits, 1);
			text_of(k, 0, want);
			n = strlen(want) - 1; /* "policy of pair <k>, read " */
			if (t == NULL || strncmp(t, want, n) != 0)
				atomic_fetch_add(&r->wrong, 1);
		}
		free(t);
		free(s);
	}
	return NULL;
}

static void four_threads_on_a_barrier_read_replace_and_mark_views(void **state)
{
	struct race r = {.v = views_new()};
	pthread_t t[THREADS];

	(void)state;
	assert_int_equal(pthread_barrier_init(&r.go, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&r.go);
	assert_int_equal(atomic_load(&r.wrong), 0);
	assert_true(atomic_load(&r.hits) > 0);
	pipeline_policy_views_free(r.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_view_is_served_fresh_within_its_ttl_and_only_as_fallback_after),
	    cmocka_unit_test(the_default_view_has_no_text_and_a_signer_needs_a_text),
	    cmocka_unit_test(a_put_replaces_the_view_of_its_pair_only),
	    cmocka_unit_test(a_changed_view_is_read_again_and_kept_as_the_fallback),
	    cmocka_unit_test(the_fallback_is_reported_once_per_view),
	    cmocka_unit_test(a_full_table_drops_the_view_loaded_longest_ago),
	    cmocka_unit_test(long_provider_names_are_compared_whole),
	    cmocka_unit_test(names_of_64_characters_or_more_are_not_kept),
	    cmocka_unit_test(four_threads_on_a_barrier_read_replace_and_mark_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
