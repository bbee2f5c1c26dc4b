/*
 * Private keys stay out of core dumps (issue 13, "Secrets"; src/keys/secmem.c):
 * once the KEK is loaded, OpenSSL's secure heap exists; a KEK from kek_new,
 * the private part of a generated signing key and of one opened from its
 * sealed blob are allocated in it; and the pages of that heap are marked
 * MADV_DONTDUMP ("dd" in the VmFlags of /proc/self/smaps); its default size
 * holds a thousand keys and new threads' DRBGs (OpenSSL 3.0 does not fall
 * back when it is full). robust_secrets checks the mapping in a running
 * attestd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "keys/keys.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char kek_path[64];

static int setup(void **state)
{
	struct kek kek;
	bool created = false;
	int fd;

	(void)state;
	snprintf(kek_path, sizeof(kek_path), "/tmp/attest-secheap-XXXXXX");
	if ((fd = mkstemp(kek_path)) < 0)
		return -1;
	close(fd);
	unlink(kek_path); /* kek_load_or_create makes it (0600) */
	if (kek_load_or_create(kek_path, &kek, &created, NULL) != ATTEST_OK || !created)
		return -1;
	kek_clear(&kek);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kek_path);
	return 0;
}

/* The VmFlags of the mapping that holds addr ("" when not found). */
static void vmflags_of(const void *addr, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;

	out[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			size_t n = strnlen(line + 8, cap - 1);

			memcpy(out, line + 8, n); /* VmFlags is a short line; a longer one is cut */
			out[n] = '\0';
			break;
		}
	}
	fclose(f);
}

static void loading_the_kek_sets_up_the_secure_heap(void **state)
{
	bool locked = false;
	size_t used = 0, size = 0;

	(void)state;
	assert_true(CRYPTO_secure_malloc_initialized());
	assert_int_equal(keys_secure_heap_init(&locked, NULL), ATTEST_OK); /* idempotent */
	keys_secure_heap_usage(&used, &size);
	assert_int_equal(size, KEYS_SECURE_HEAP_SIZE);
	fprintf(stderr, "secure heap: %zu bytes, %zu used, %s\n", size, used,
		locked ? "mlocked" : "not mlocked (RLIMIT_MEMLOCK)");
	/* a bad size is refused, not rounded */
	assert_int_equal(keys_secure_heap_init_size(3000, NULL, NULL), ATTEST_E_INVALID);
}

static void a_kek_from_kek_new_lives_in_pages_excluded_from_core_dumps(void **state)
{
	struct kek *kek = kek_new();
	char flags[256];

	(void)state;
	assert_non_null(kek);
	assert_true(CRYPTO_secure_allocated(kek));
	vmflags_of(kek, flags, sizeof(flags));
	if (strstr(flags, " dd") == NULL)
		fail_msg("the KEK's mapping is not MADV_DONTDUMP: VmFlags:%s", flags);
	/* a heap allocation, for contrast, is dumped */
	{
		void *plain = malloc(64);

		vmflags_of(plain, flags, sizeof(flags));
		assert_null(strstr(flags, " dd"));
		free(plain);
	}
	kek_free(kek);
}

static void private_parts_of_generated_and_unsealed_keys_go_to_the_secure_heap(void **state)
{
	struct signing_key_opts o = {.type = KEY_RSA2048, .subject_cn = "https://attest.test"};
	struct signing_key *k = NULL, *back = NULL;
	struct kek *kek = kek_new();
	uint8_t *blob = NULL;
	size_t len = 0, before, after_gen, after_open;

	(void)state;
	assert_non_null(kek);
	memset(kek->k, 0x42, sizeof(kek->k));
	/* OpenSSL's first key generation keeps some state of its own there for good (the private DRBG): warm
	 * up */
	assert_int_equal(signing_key_generate(&o, (int64_t)time(NULL), &k, NULL), ATTEST_OK);
	signing_key_free(k);
	k = NULL;
	before = CRYPTO_secure_used();
	assert_int_equal(signing_key_generate(&o, (int64_t)time(NULL), &k, NULL), ATTEST_OK);
	after_gen = CRYPTO_secure_used();
	/* RSA-2048 d (256 bytes), p, q, dmp1, dmq1, iqmp (128 each): 896 bytes of secret numbers */
	if (after_gen < before + 896)
		fail_msg("generating an RSA key put %zu bytes in the secure heap", after_gen - before);
	assert_int_equal(signing_key_export(k, kek, &blob, &len, NULL), ATTEST_OK);
	assert_int_equal(signing_key_import(blob, len, kek, NULL, &back, NULL), ATTEST_OK);
	after_open = CRYPTO_secure_used();
	if (after_open < after_gen + 896)
		fail_msg("opening a sealed RSA key put %zu bytes in the secure heap", after_open - after_gen);
	signing_key_free(back);
	signing_key_free(k);
	/* freed keys give their secure memory back (OpenSSL zeroes it): nothing leaks there, where LSan
	 * cannot see */
	if (CRYPTO_secure_used() > before)
		fail_msg("%zu bytes of the secure heap still used after both keys were freed",
			 CRYPTO_secure_used() - before);
	free(blob);
	kek_free(kek);
}

static void *thread_random(void *arg)
{
	uint8_t b[32];

	/* a new thread's private DRBG is allocated in the secure heap too */
	*(int *)arg = RAND_priv_bytes(b, sizeof(b));
	return NULL;
}

/*
 * OpenSSL 3.0 does not fall back to the normal heap when the arena is full:
 * the default size must hold a node's keys (1,000 providers with their own
 * key: robust_providers_memory) and its threads' DRBGs, and still sign.
 */
static void a_thousand_unsealed_keys_and_new_threads_fit_and_still_sign(void **state)
{
	enum { N = 1000, THREADS = 16 };
	struct signing_key_opts o = {.type = KEY_RSA2048, .subject_cn = "https://attest.test"};
	struct signing_key *k = NULL, **keys = calloc(N, sizeof(*keys));
	struct kek *kek = kek_new();
	uint8_t *blob = NULL;
	size_t len = 0, used = 0, size = 0;
	pthread_t t[THREADS];
	int ok[THREADS];
	json_t *claims = json_pack("{s:s}", "iss", "https://attest.test");
	char *jwt = NULL;

	(void)state;
	assert_non_null(keys);
	memset(kek->k, 7, sizeof(kek->k));
	assert_int_equal(signing_key_generate(&o, (int64_t)time(NULL), &k, NULL), ATTEST_OK);
	assert_int_equal(signing_key_export(k, kek, &blob, &len, NULL), ATTEST_OK);
	for (size_t i = 0; i < N; i++)
		if (signing_key_import(blob, len, kek, NULL, &keys[i], NULL) != ATTEST_OK)
			fail_msg("key %zu of %d could not be opened (secure heap full?)", i, N);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_random, &ok[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ok[i], 1);
	}
	assert_int_equal(signing_key_sign_jwt(keys[N - 1], claims, &jwt, NULL), ATTEST_OK);
	keys_secure_heap_usage(&used, &size);
	fprintf(stderr, "%d RSA-2048 keys and %d threads: %zu of %zu bytes of the secure heap (%.0f%%)\n", N,
		THREADS, used, size, 100.0 * (double)used / (double)size);
	assert_true(used >= (size_t)N * 896);
	assert_true(used < size);
	free(jwt);
	json_decref(claims);
	for (size_t i = 0; i < N; i++)
		signing_key_free(keys[i]);
	free(keys);
	signing_key_free(k);
	free(blob);
	kek_free(kek);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loading_the_kek_sets_up_the_secure_heap),
	    cmocka_unit_test(a_kek_from_kek_new_lives_in_pages_excluded_from_core_dumps),
	    cmocka_unit_test(private_parts_of_generated_and_unsealed_keys_go_to_the_secure_heap),
	    cmocka_unit_test(a_thousand_unsealed_keys_and_new_threads_fit_and_still_sign),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
