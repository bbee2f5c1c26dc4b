/*
 * The collateral interface: the verified-object cache (windows, eviction,
 * reference counts, concurrent use) and the file source (vector layout,
 * specific names first, fallbacks, not found).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "collateral/collateral.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int destroyed;

static void count_destroy(void *p)
{
	destroyed++;
	free(p);
}

static void key_of(uint8_t k[32], int i)
{
	memset(k, 0, 32);
	k[0] = (uint8_t)i;
	k[1] = (uint8_t)(i >> 8);
}

static void a_put_entry_is_found_only_inside_its_window(void **state)
{
	struct collateral_cache *c = collateral_cache_new(4);
	struct collateral_ref *r;
	uint8_t k[32];
	void *obj = NULL;

	destroyed = 0;
	key_of(k, 1);
	r = collateral_cache_put(c, k, strdup("x"), count_destroy, 100, 200);
	assert_non_null(r);
	collateral_ref_release(r);
	assert_null(collateral_cache_get(c, k, 99, &obj)); /* not yet valid: kept */
	assert_int_equal(collateral_cache_count(c), 1);
	r = collateral_cache_get(c, k, 150, &obj);
	assert_non_null(r);
	assert_string_equal(obj, "x");
	collateral_ref_release(r);
	assert_null(collateral_cache_get(c, k, 201, &obj)); /* expired: dropped */
	assert_int_equal(collateral_cache_count(c), 0);
	assert_int_equal(destroyed, 1);
	collateral_cache_free(c);
}

static void the_least_recently_used_entry_is_evicted_when_full(void **state)
{
	struct collateral_cache *c = collateral_cache_new(2);
	uint8_t k1[32], k2[32], k3[32];
	void *obj;

	destroyed = 0;
	key_of(k1, 1), key_of(k2, 2), key_of(k3, 3);
	collateral_ref_release(collateral_cache_put(c, k1, strdup("1"), count_destroy, 0, 10));
	collateral_ref_release(collateral_cache_put(c, k2, strdup("2"), count_destroy, 0, 10));
	collateral_ref_release(collateral_cache_get(c, k1, 5, &obj)); /* k1 is now the most recent */
	collateral_ref_release(collateral_cache_put(c, k3, strdup("3"), count_destroy, 0, 10));
	assert_int_equal(collateral_cache_count(c), 2);
	assert_null(collateral_cache_get(c, k2, 5, &obj));
	collateral_ref_release(collateral_cache_get(c, k1, 5, &obj));
	assert_int_equal(destroyed, 1);
	collateral_cache_free(c);
	assert_int_equal(destroyed, 3);
}

static void an_evicted_object_lives_while_referenced(void **state)
{
	struct collateral_cache *c = collateral_cache_new(1);
	struct collateral_ref *held;
	uint8_t k1[32], k2[32];

	destroyed = 0;
	key_of(k1, 1), key_of(k2, 2);
	held = collateral_cache_put(c, k1, strdup("held"), count_destroy, 0, 10);
	collateral_ref_release(collateral_cache_put(c, k2, strdup("2"), count_destroy, 0, 10));
	assert_int_equal(destroyed, 0);
	assert_string_equal(collateral_ref_obj(held), "held");
	collateral_ref_release(held);
	assert_int_equal(destroyed, 1);
	collateral_cache_free(c);
}

static void without_a_cache_put_gives_a_standalone_reference(void **state)
{
	uint8_t k[32];
	struct collateral_ref *r;
	void *obj;

	destroyed = 0;
	key_of(k, 9);
	r = collateral_cache_put(NULL, k, strdup("solo"), count_destroy, 0, 1);
	assert_string_equal(collateral_ref_obj(r), "solo");
	assert_null(collateral_cache_get(NULL, k, 0, &obj));
	collateral_ref_release(r);
	assert_int_equal(destroyed, 1);
}

struct worker {
	struct collateral_cache *c;
	int id;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	uint8_t k[32];
	void *obj;
	int i;

	for (i = 0; i < 2000; i++) {
		struct collateral_ref *r;

		key_of(k, (i + w->id) % 13);
		r = collateral_cache_get(w->c, k, 5, &obj);
		if (r == NULL)
			r = collateral_cache_put(w->c, k, malloc(16), free, 0, 10);
		if (r != NULL)
			memset(collateral_ref_obj(r), w->id, 16); /* touching freed memory would trip ASan */
		collateral_ref_release(r);
	}
	return NULL;
}

static void concurrent_readers_and_writers_are_safe(void **state)
{
	struct collateral_cache *c = collateral_cache_new(8);
	pthread_t t[4];
	struct worker w[4];
	uint64_t hits, misses;
	int i;

	for (i = 0; i < 4; i++) {
		w[i].c = c, w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	collateral_cache_stats(c, &hits, &misses);
	assert_int_equal(hits + misses, 8000);
	assert_true(collateral_cache_count(c) <= 8);
	collateral_cache_free(c);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void the_file_source_prefers_specific_names_and_falls_back(void **state)
{
	static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
	static const char *const files[] = {"tcb_info.json",
					    "tcb_info_issuer_chain.pem",
					    "tcb_info_sgx_00906ed50000.json",
					    "tcb_info_sgx_00906ed50000_issuer_chain.pem",
					    "qe_identity.json",
					    "pck_crl.der",
					    "pck_crl_issuer_chain.pem",
					    "pck_crl_platform.der"};
	struct collateral_source *src = NULL;
	struct collateral_blob b;
	struct attest_err err;
	char path[256];
	size_t i;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/attest-coll-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_file(files[i], files[i]);
	assert_int_equal(collateral_file_source_new(tmpdir, &src, NULL), ATTEST_OK);

	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_SGX, fmspc, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info_sgx_00906ed50000.json");
	assert_string_equal((char *)b.chain, "tcb_info_sgx_00906ed50000_issuer_chain.pem");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_TDX, fmspc, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info.json");
	collateral_blob_free(&b);
	/* No QE identity chain of its own: the TCB Info's (same signer). */
	assert_int_equal(collateral_get_qe_identity(src, COLLATERAL_QE, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.chain, "tcb_info_issuer_chain.pem");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_pck_crl(src, COLLATERAL_CA_PLATFORM, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.data, "pck_crl_platform.der");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_pck_crl(src, COLLATERAL_CA_PROCESSOR, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.data, "pck_crl.der");
	collateral_blob_free(&b);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_root_ca_crl(src, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.not_found");
	assert_null(b.data);

	collateral_source_free(src);
	free(src);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

/* Selected sets have their own names and never fall back to the standard body (collateral.h). */
static void the_file_source_serves_selected_sets_by_their_own_names(void **state)
{
	static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
	static const char *const files[] = {"tcb_info.json",
					    "tcb_info_issuer_chain.pem",
					    "tcb_info_early.json",
					    "tcb_info_sgx_00906ed50000_eval15.json",
					    "tcb_info_sgx_00906ed50000_eval15_issuer_chain.pem",
					    "tcb_info_eval16.json",
					    "qe_identity.json",
					    "qe_identity_qe_eval15.json"};
	const struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0},
				       n15 = {COLLATERAL_UPDATE_STANDARD, 15},
				       n16 = {COLLATERAL_UPDATE_STANDARD, 16},
				       n17 = {COLLATERAL_UPDATE_STANDARD, 17};
	struct collateral_source *src = NULL;
	struct collateral_blob b;
	struct attest_err err;
	char path[256];
	size_t i;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/attest-coll-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_file(files[i], files[i]);
	assert_int_equal(collateral_file_source_new(tmpdir, &src, NULL), ATTEST_OK);

	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_SGX, fmspc, &early, &b, NULL),
			 ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info_early.json");
	assert_string_equal((char *)b.chain, "tcb_info_issuer_chain.pem"); /* the standard chain */
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_SGX, fmspc, &n15, &b, NULL),
			 ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info_sgx_00906ed50000_eval15.json");
	assert_string_equal((char *)b.chain, "tcb_info_sgx_00906ed50000_eval15_issuer_chain.pem");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_TDX, fmspc, &n16, &b, NULL),
			 ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info_eval16.json");
	collateral_blob_free(&b);
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_SGX, fmspc, &n17, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.not_found");
	assert_null(b.data);
	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_TDX, fmspc, &n15, &b, NULL),
			 ATTEST_E_NOT_FOUND);
	assert_int_equal(collateral_get_qe_identity_ex(src, COLLATERAL_QE, &n15, &b, NULL), ATTEST_OK);
	assert_string_equal((char *)b.data, "qe_identity_qe_eval15.json");
	assert_string_equal((char *)b.chain, "tcb_info_issuer_chain.pem");
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_qe_identity_ex(src, COLLATERAL_QE, &early, &b, NULL),
			 ATTEST_E_NOT_FOUND);
	/* NULL or the standard selection is the plain lookup. */
	assert_int_equal(collateral_get_tcb_info_ex(src, COLLATERAL_TEE_SGX, fmspc, NULL, &b, NULL),
			 ATTEST_OK);
	assert_string_equal((char *)b.data, "tcb_info.json");
	collateral_blob_free(&b);

	collateral_source_free(src);
	free(src);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

/* A selected set's suffix: built once, parsed back exactly, nothing else parsed. */
static void a_selected_set_suffix_round_trips_and_nothing_else_parses(void **state)
{
	static const struct collateral_select sets[] = {{COLLATERAL_UPDATE_STANDARD, 0},
							{COLLATERAL_UPDATE_EARLY, 0},
							{COLLATERAL_UPDATE_STANDARD, 1},
							{COLLATERAL_UPDATE_EARLY, 17},
							{COLLATERAL_UPDATE_STANDARD, 4294967295u}};
	static const char *const bad[] = {"/eval0",  "/eval017", "/eval4294967296", "/eval", "/eval1x",
					  "/early/", "/Early",	 "early",	    "/",     "_early",
					  "/eval-1", "/eval 1",	 "/evaluation"};
	char sfx[COLLATERAL_SELECT_SUFFIX_MAX], key[64];
	struct collateral_select got;

	(void)state;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		for (int sep = 0; sep < 2; sep++) {
			collateral_select_suffix(&sets[i], sep ? '_' : '/', sfx, sizeof(sfx));
			assert_true(collateral_select_parse_suffix(sfx, sep ? '_' : '/', &got));
			assert_int_equal(got.eval_num, sets[i].eval_num);
			assert_int_equal(collateral_select_is_special(&got),
					 collateral_select_is_special(&sets[i]));
			assert_int_equal(got.update == COLLATERAL_UPDATE_EARLY,
					 sets[i].eval_num == 0 && sets[i].update == COLLATERAL_UPDATE_EARLY);
		}
	}
	collateral_select_suffix(&sets[3], '/', sfx, sizeof(sfx));
	assert_string_equal(sfx, "/eval17");
	collateral_select_suffix(&sets[1], '_', sfx, sizeof(sfx));
	assert_string_equal(sfx, "_early");
	collateral_select_suffix(NULL, '/', sfx, sizeof(sfx));
	assert_string_equal(sfx, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(collateral_select_parse_suffix(bad[i], '/', &got));
	assert_false(collateral_select_parse_suffix("/early", '_', &got));
	/* Keys: the standard part and the set. */
	snprintf(key, sizeof(key), "sgx/tcb/00906ED50000/eval17");
	assert_int_equal(collateral_select_split_key(key, &got), strlen("sgx/tcb/00906ED50000"));
	assert_int_equal(got.eval_num, 17);
	assert_int_equal(collateral_select_split_key("tdx/qe/identity/early", &got),
			 strlen("tdx/qe/identity"));
	assert_int_equal(got.update, COLLATERAL_UPDATE_EARLY);
	assert_int_equal(collateral_select_split_key("sgx/tcb/00906ED50000", &got),
			 strlen("sgx/tcb/00906ED50000"));
	assert_false(collateral_select_is_special(&got));
	assert_int_equal(collateral_select_split_key("sgx/tcb/X/eval0", &got), strlen("sgx/tcb/X/eval0"));
	assert_int_equal(collateral_select_split_key("early", &got), 5);
}

static void a_source_without_the_selecting_slots_has_no_selected_sets(void **state)
{
	static const struct collateral_source_ops none = {.name = "plain"};
	struct collateral_source src = {.ops = &none};
	const struct collateral_select early = {COLLATERAL_UPDATE_EARLY, 0};
	struct collateral_blob b;
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(collateral_get_tcb_info_ex(&src, COLLATERAL_TEE_SGX, (const uint8_t *)"\0\0\0\0\0\0",
						    &early, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "early"));
	assert_int_equal(collateral_get_qe_identity_ex(&src, COLLATERAL_QE, &early, &b, &err),
			 ATTEST_E_NOT_FOUND);
	assert_false(collateral_select_is_special(NULL));
	assert_false(
	    collateral_select_is_special(&(struct collateral_select){COLLATERAL_UPDATE_STANDARD, 0}));
	assert_true(collateral_select_is_special(&early));
}

static void a_source_without_a_slot_says_not_found(void **state)
{
	static const struct collateral_source_ops none = {.name = "empty"};
	struct collateral_source src = {.ops = &none};
	struct collateral_blob b;
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(collateral_get_root_ca_crl(&src, &b, &err), ATTEST_E_NOT_FOUND);
	assert_string_equal(err.name, "collateral.not_found");
	assert_non_null(strstr(err.msg, "empty"));
}

static void the_file_source_serves_a_real_vector_folder(void **state)
{
	REQUIRE_VECTORS(dir);
	static const uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	struct collateral_source *src = NULL;
	struct collateral_blob b;
	char path[4096];

	snprintf(path, sizeof(path), "%s/sgx/phala-sgx-v3-00a067110000-2025-06", dir);
	assert_int_equal(collateral_file_source_new(path, &src, NULL), ATTEST_OK);
	assert_int_equal(collateral_get_tcb_info(src, COLLATERAL_TEE_SGX, fmspc, &b, NULL), ATTEST_OK);
	assert_true(b.len > 1000 && memcmp(b.data, "{\"tcbInfo\":", 11) == 0);
	assert_non_null(strstr((char *)b.chain, "BEGIN CERTIFICATE"));
	collateral_blob_free(&b);
	assert_int_equal(collateral_get_root_ca_crl(src, &b, NULL), ATTEST_OK);
	assert_int_equal(b.data[0], 0x30);
	assert_null(b.chain);
	collateral_blob_free(&b);
	collateral_source_free(src);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_put_entry_is_found_only_inside_its_window),
	    cmocka_unit_test(the_least_recently_used_entry_is_evicted_when_full),
	    cmocka_unit_test(an_evicted_object_lives_while_referenced),
	    cmocka_unit_test(without_a_cache_put_gives_a_standalone_reference),
	    cmocka_unit_test(concurrent_readers_and_writers_are_safe),
	    cmocka_unit_test(the_file_source_prefers_specific_names_and_falls_back),
	    cmocka_unit_test(the_file_source_serves_selected_sets_by_their_own_names),
	    cmocka_unit_test(a_selected_set_suffix_round_trips_and_nothing_else_parses),
	    cmocka_unit_test(a_source_without_the_selecting_slots_has_no_selected_sets),
	    cmocka_unit_test(a_source_without_a_slot_says_not_found),
	    cmocka_unit_test(the_file_source_serves_a_real_vector_folder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
