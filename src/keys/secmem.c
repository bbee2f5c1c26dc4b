/*
 * Private key material out of core dumps and swap (issue 13, "Secrets"):
 * OpenSSL 3's secure heap (CRYPTO_secure_malloc_init) is one mmap'd arena
 * that OpenSSL mlock()s and marks MADV_DONTDUMP (crypto/mem_sec.c), with
 * guard pages around it. Once it exists, OpenSSL allocates the private
 * parts of keys there (BN_secure_new: RSA d, p, q, CRT values; EC private
 * scalars), and this module puts its own secrets there too: the KEK
 * (kek_new) and the PKCS#8 plaintext of a key being sealed or unsealed.
 * attestd is also not dumpable (PR_SET_DUMPABLE 0); the secure heap is the
 * second wall, for ATTESTD_ALLOW_CORE=1 and for gcore.
 */
#include "keys/keys.h"

#include <openssl/crypto.h>
#include <pthread.h>

static pthread_once_t heap_once = PTHREAD_ONCE_INIT;
static int heap_rc; /* CRYPTO_secure_malloc_init's answer: 0 failed, 1 locked, 2 not locked */

static void heap_init(void)
{
	if (CRYPTO_secure_malloc_initialized())
		heap_rc = 1;
	else
		heap_rc = CRYPTO_secure_malloc_init(KEYS_SECURE_HEAP_SIZE, KEYS_SECURE_HEAP_MIN);
}

int keys_secure_heap_init(bool *locked, struct attest_err *err)
{
	pthread_once(&heap_once, heap_init);
	if (locked != NULL)
		*locked = heap_rc == 1;
	if (heap_rc == 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "keys.secure_heap",
				      "cannot set up OpenSSL's secure heap (%d bytes)", KEYS_SECURE_HEAP_SIZE);
	return ATTEST_OK;
}

struct kek *kek_new(void)
{
	(void)keys_secure_heap_init(NULL, NULL);
	return OPENSSL_secure_zalloc(sizeof(struct kek));
}

void kek_free(struct kek *kek)
{
	if (kek != NULL)
		OPENSSL_secure_clear_free(kek, sizeof(*kek));
}
