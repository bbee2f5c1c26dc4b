/*
 * Private key material out of core dumps and swap (issue 13, "Secrets"):
 * OpenSSL 3's secure heap (CRYPTO_secure_malloc_init) is one mmap'd arena
 * that OpenSSL mlock()s and marks MADV_DONTDUMP (crypto/mem_sec.c), with
 * guard pages around it. Once it exists, OpenSSL allocates the private
 * parts of keys there (BN_secure_new: RSA d, p, q, CRT values; EC private
 * scalars) and its private DRBGs (one per thread), and this module puts its
 * own secrets there too: the KEK (kek_new) and the PKCS#8 plaintext of a
 * key being sealed or unsealed. attestd is also not dumpable
 * (PR_SET_DUMPABLE 0); the secure heap is the second wall, for
 * ATTESTD_ALLOW_CORE=1 and for gcore.
 *
 * The arena has a fixed size and OpenSSL 3.0 does not fall back to the
 * normal heap when it is full (key loads and new threads' DRBGs then fail):
 * keys_secure_heap_init_size takes the size (a power of two; 0: the
 * default, 4 MiB: room for about 4,500 RSA-2048 keys), and keys_secure_heap_usage
 * lets the service watch it.
 *
 * The two statics below are the honest shape of a process-wide resource:
 * OpenSSL has one secure heap per process, set up once (STYLE habit 7 is
 * about state a library could pass in; this it cannot).
 */
#include "keys/keys.h"

#include <openssl/crypto.h>
#include <pthread.h>

static pthread_mutex_t heap_mu = PTHREAD_MUTEX_INITIALIZER;
static int heap_rc =
    -1; /* -1 not tried; else CRYPTO_secure_malloc_init's answer: 0 failed, 1 locked, 2 not locked */
static size_t heap_size; /* the arena's size; 0 when set up by someone else or not at all */

int keys_secure_heap_init_size(size_t size, bool *locked, struct attest_err *err)
{
	int rc;

	if (size == 0)
		size = KEYS_SECURE_HEAP_SIZE;
	if ((size & (size - 1)) != 0 || size < 4096)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.secure_heap",
				      "the secure heap size %zu is not a power of two of at least 4096 bytes",
				      size);
	pthread_mutex_lock(&heap_mu);
	if (heap_rc < 0 && CRYPTO_secure_malloc_initialized()) {
		heap_rc = 1;
	} else if (heap_rc < 0) {
		heap_rc = CRYPTO_secure_malloc_init(size, KEYS_SECURE_HEAP_MIN);
		heap_size = heap_rc > 0 ? size : 0;
	}
	rc = heap_rc;
	pthread_mutex_unlock(&heap_mu);
	if (locked != NULL)
		*locked = rc == 1;
	if (rc == 0)
		return attest_err_set(
		    err, ATTEST_E_INTERNAL, "keys.secure_heap",
		    "cannot set up OpenSSL's secure heap (%zu bytes): keys stay on the normal heap", size);
	return ATTEST_OK;
}

int keys_secure_heap_init(bool *locked, struct attest_err *err)
{
	return keys_secure_heap_init_size(0, locked, err);
}

void keys_secure_heap_usage(size_t *used, size_t *size)
{
	bool on = CRYPTO_secure_malloc_initialized() != 0;

	if (used != NULL)
		*used = on ? CRYPTO_secure_used() : 0;
	if (size != NULL) {
		pthread_mutex_lock(&heap_mu);
		*size = on ? heap_size : 0;
		pthread_mutex_unlock(&heap_mu);
	}
}

struct kek *kek_new(void)
{
	/* without a secure heap, OPENSSL_secure_zalloc is OPENSSL_zalloc */
	(void)keys_secure_heap_init(NULL, NULL);
	return OPENSSL_secure_zalloc(sizeof(struct kek));
}

void kek_free(struct kek *kek)
{
	if (kek != NULL)
		OPENSSL_secure_clear_free(kek, sizeof(*kek));
}
