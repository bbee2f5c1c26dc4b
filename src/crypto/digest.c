/*
 * Digests and constant-time comparison (crypto.h). Thin wrappers over
 * OpenSSL's EVP interface so callers name algorithms by enum hash_alg.
 */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <pthread.h>

size_t hash_len(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return 20;
	case HASH_SHA256:
		return 32;
	case HASH_SHA384:
		return 48;
	case HASH_SHA512:
		return 64;
	}
	return 0;
}

static const EVP_MD *legacy_md(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return EVP_sha1();
	case HASH_SHA256:
		return EVP_sha256();
	case HASH_SHA384:
		return EVP_sha384();
	case HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/*
 * EVP_sha256() and its siblings make OpenSSL 3 fetch the implementation
 * again on every EVP_DigestInit (a name lookup under a lock, ~0.3 us): a
 * TPM event log of 60 events paid more for that than for its hashing. The
 * four digests are fetched once per process, then the table is only read
 * (written once under pthread_once, never changed: no mutable state). A
 * digest that cannot be fetched falls back to the legacy object.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_fetched[HASH_SHA512 + 1];

static void md_fetch_all(void)
{
	static const char *const names[HASH_SHA512 + 1] = {
	    [HASH_SHA1] = "SHA1", [HASH_SHA256] = "SHA2-256", [HASH_SHA384] = "SHA2-384", [HASH_SHA512] = "SHA2-512"};

	for (int i = 0; i <= HASH_SHA512; i++)
		md_fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

const EVP_MD *hash_md(enum hash_alg alg)
{
	if ((unsigned)alg > HASH_SHA512)
		return NULL;
	pthread_once(&md_once, md_fetch_all);
	return md_fetched[alg] != NULL ? md_fetched[alg] : legacy_md(alg);
}

int hash_digest(enum hash_alg alg, const void *p, size_t n, uint8_t *out)
{
	const EVP_MD *md = hash_md(alg);
	unsigned int len = 0;

	if (md == NULL || (p == NULL && n > 0) || out == NULL)
		return ATTEST_E_INVALID;
	if (EVP_Digest(p ? p : "", n, out, &len, md, NULL) != 1 || len != hash_len(alg))
		return ATTEST_E_INTERNAL;
	return ATTEST_OK;
}

int sha256(const void *p, size_t n, uint8_t out[32])
{
	return hash_digest(HASH_SHA256, p, n, out);
}

int sha384(const void *p, size_t n, uint8_t out[48])
{
	return hash_digest(HASH_SHA384, p, n, out);
}

int sha512(const void *p, size_t n, uint8_t out[64])
{
	return hash_digest(HASH_SHA512, p, n, out);
}

int hash_init(struct hash_ctx *h, enum hash_alg alg)
{
	const EVP_MD *md = hash_md(alg);

	if (h == NULL || md == NULL)
		return ATTEST_E_INVALID;
	h->alg = alg;
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL)
		return ATTEST_E_NOMEM;
	if (EVP_DigestInit_ex(h->md, md, NULL) != 1) {
		hash_ctx_free(h);
		return ATTEST_E_INTERNAL;
	}
	return ATTEST_OK;
}

int hash_update(struct hash_ctx *h, const void *p, size_t n)
{
	if (h == NULL || h->md == NULL || (p == NULL && n > 0))
		return ATTEST_E_INVALID;
	if (n == 0)
		return ATTEST_OK;
	return EVP_DigestUpdate(h->md, p, n) == 1 ? ATTEST_OK : ATTEST_E_INTERNAL;
}

int hash_final(struct hash_ctx *h, uint8_t *out)
{
	unsigned int len = 0;
	int rc = ATTEST_OK;

	if (h == NULL || h->md == NULL || out == NULL)
		return ATTEST_E_INVALID;
	if (EVP_DigestFinal_ex(h->md, out, &len) != 1 || len != hash_len(h->alg))
		rc = ATTEST_E_INTERNAL;
	hash_ctx_free(h);
	return rc;
}

void hash_ctx_free(struct hash_ctx *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

bool crypto_memeq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}
