/*
 * The TPM protocol's sealed service context and its epoch keys
 * (src/evidence/tpm_context.c): the format, the HKDF derivation, the
 * rotation after a bounded number of seals, contexts of other nodes over
 * the same master key, the bounded cache of epoch keys under a flood of
 * made-up epochs, every flipped bit refused, expiry, version 1 refused,
 * the binding to the issuing provider, and four threads sharing one
 * keyring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "crypto/crypto.h"
#include "evidence/tpm_protocol.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define T_NOW 1767225600 /* 2026-01-01 */

/* The layout of a version 2 context (tpm_protocol.h). */
#define OFF_EPOCH 4
#define OFF_IV	  (OFF_EPOCH + TPM_CONTEXT_EPOCH_LEN)
#define OFF_TEXT  (OFF_IV + AEAD_IV_LEN)
#define OVERHEAD  (OFF_TEXT + AEAD_TAG_LEN)
#define PLAIN_MAX (1 + 1 + TPM_CONTEXT_PROVIDER_MAX + TPM_PROTO_ID_LEN + 8 + 8 + 1 + TPM_PROTO_CHALLENGE_LEN)

static const uint8_t MASTER[TPM_PROTO_KEY_LEN] = {0x42, 0x13, 0x37};
/* The provider the helpers seal for and open at. */
static const char PROVIDER[] = "contoso";

static unsigned sweep_stride(void)
{
	const char *s = getenv("ATTEST_SWEEP_STRIDE");
	int n = s ? atoi(s) : 1;

	return n > 0 ? (unsigned)n : 1;
}

/* A fresh context of keys with a 32-byte challenge of byte tag; the caller frees it. */
static char *seal(struct tpm_context_keys *k, uint8_t tag, int64_t expiry)
{
	uint8_t ch[TPM_PROTO_CHALLENGE_LEN], id[TPM_PROTO_ID_LEN];
	char *ctx = NULL;

	memset(ch, tag, sizeof(ch));
	memset(id, tag ^ 0xA5, sizeof(id));
	assert_int_equal(tpm_context_seal(k, PROVIDER, id, T_NOW, expiry, ch, sizeof(ch), &ctx, NULL), 0);
	assert_non_null(ctx);
	return ctx;
}

static uint8_t *decode(const char *ctx, size_t *n)
{
	uint8_t *raw = NULL;

	assert_int_equal(b64_decode(ctx, strlen(ctx), &raw, n), 0);
	return raw;
}

static char *encode(const uint8_t *raw, size_t n)
{
	char *s = b64url_encode(raw, n);

	assert_non_null(s);
	return s;
}

/* 0 when ctx opens under k at T_NOW; otherwise the error code, its name in err. */
static int open_ctx(struct tpm_context_keys *k, const char *ctx, struct attest_err *err)
{
	struct tpm_context c;

	attest_err_clear(err);
	return tpm_context_open(k, PROVIDER, ctx, strlen(ctx), T_NOW, &c, err);
}

static struct tpm_context_keys_stats stats(struct tpm_context_keys *k)
{
	struct tpm_context_keys_stats s;

	tpm_context_keys_stats(k, &s);
	return s;
}

static void context_round_trip_keeps_every_field(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	uint8_t ch[TPM_PROTO_CHALLENGE_LEN], id[TPM_PROTO_ID_LEN], *raw;
	struct tpm_context c;
	char *ctx = NULL;
	size_t n;

	(void)state;
	assert_non_null(k);
	for (size_t len = 0; len <= sizeof(ch); len += 8) {
		memset(ch, (int)len + 1, sizeof(ch));
		memset(id, (int)len + 2, sizeof(id));
		assert_int_equal(
		    tpm_context_seal(k, PROVIDER, id, T_NOW - 5, T_NOW + 300, ch, len, &ctx, NULL), 0);
		memset(&c, 0xEE, sizeof(c));
		assert_int_equal(tpm_context_open(k, PROVIDER, ctx, strlen(ctx), T_NOW, &c, NULL), 0);
		assert_memory_equal(c.id, id, sizeof(id));
		assert_int_equal(c.issued, T_NOW - 5);
		assert_int_equal(c.expiry, T_NOW + 300);
		assert_int_equal(c.challenge_len, len);
		assert_memory_equal(c.challenge, ch, len);
		/* 'TPC2' || this process's current epoch || IV || text || tag */
		raw = decode(ctx, &n);
		assert_int_equal(n, OVERHEAD + 2 + strlen(PROVIDER) + TPM_PROTO_ID_LEN + 16 + 1 + len);
		assert_memory_equal(raw, "TPC2", 4);
		assert_memory_equal(raw + OFF_EPOCH, stats(k).epoch, TPM_CONTEXT_EPOCH_LEN);
		free(raw);
		free(ctx);
	}
	/* A challenge longer than a context holds is refused when sealing. */
	assert_int_equal(tpm_context_seal(k, PROVIDER, id, T_NOW, T_NOW + 1, ch, sizeof(ch) + 1, &ctx, NULL),
			 ATTEST_E_INVALID);
	tpm_context_keys_free(k);
}

/*
 * The epoch key is HKDF-SHA256 (RFC 5869) of the master with no salt and
 * info "attestd tpm context v2" || epoch id, computed here from HMAC by
 * the RFC's two steps; a context opens with it and AES-256-GCM alone.
 */
static void epoch_key_is_rfc5869_hkdf_of_the_master(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	static const char label[] = "attestd tpm context v2";
	uint8_t zeros[32] = {0}, prk[32], okm[32], lib[32], msg[64], plain[PLAIN_MAX], *raw;
	unsigned int ml = 0;
	size_t n, ml2;
	char *ctx;

	(void)state;
	assert_non_null(k);
	ctx = seal(k, 7, T_NOW + 60);
	raw = decode(ctx, &n);
	/* Extract: PRK = HMAC-SHA256(salt = 32 zero bytes, IKM). Expand: T(1) = HMAC(PRK, info || 0x01). */
	assert_non_null(HMAC(EVP_sha256(), zeros, sizeof(zeros), MASTER, sizeof(MASTER), prk, &ml));
	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, raw + OFF_EPOCH, TPM_CONTEXT_EPOCH_LEN);
	ml2 = sizeof(label) - 1 + TPM_CONTEXT_EPOCH_LEN;
	msg[ml2++] = 1;
	assert_non_null(HMAC(EVP_sha256(), prk, sizeof(prk), msg, ml2, okm, &ml));
	assert_int_equal(tpm_context_epoch_key(MASTER, raw + OFF_EPOCH, lib), 0);
	assert_memory_equal(okm, lib, sizeof(okm));
	assert_int_equal(aead_open(okm, raw + OFF_IV, raw, OFF_IV, raw + OFF_TEXT, n - OVERHEAD, plain,
				   raw + n - AEAD_TAG_LEN),
			 0);
	assert_int_equal(plain[0], 2); /* the inner version */
	/* and the master key itself does not open it */
	assert_int_equal(aead_open(MASTER, raw + OFF_IV, raw, OFF_IV, raw + OFF_TEXT, n - OVERHEAD, plain,
				   raw + n - AEAD_TAG_LEN),
			 -1);
	free(raw);
	free(ctx);
	tpm_context_keys_free(k);
}

/*
 * A golden version 2 context, made by an independent implementation
 * (Python's cryptography: HKDF-SHA256, AESGCM) under MASTER with epoch id
 * 00..0f, IV ee.., provider "contoso", id a0..af, issued 1767225600,
 * expiry +300 and challenge c0..df: the format and the derivation are what
 * tpm_protocol.h says. It opens at contoso only.
 */
static void golden_context_of_an_independent_implementation_opens(void **state)
{
	static const char golden[] =
	    "VFBDMgABAgMEBQYHCAkKCwwNDg_u7u7u7u7u7u7u7u6rKFtzVXshGaL5Qz9lNBpEbeEihoVXqtKfzWuvIXA7SDM3"
	    "UQpa-oTCWX35vzR0WCwMZqmvfPw5neOdmV5dfM0PqS2odIe9DLHGsxy0A1m50mzEKLlAGwljh5M";
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	uint8_t want_id[TPM_PROTO_ID_LEN], want_ch[TPM_PROTO_CHALLENGE_LEN];
	struct tpm_context c;

	(void)state;
	assert_non_null(k);
	for (int i = 0; i < TPM_PROTO_ID_LEN; i++)
		want_id[i] = (uint8_t)(0xA0 + i);
	for (int i = 0; i < TPM_PROTO_CHALLENGE_LEN; i++)
		want_ch[i] = (uint8_t)(0xC0 + i);
	assert_int_equal(tpm_context_open(k, "contoso", golden, strlen(golden), T_NOW, &c, NULL), 0);
	assert_memory_equal(c.id, want_id, sizeof(want_id));
	assert_int_equal(c.issued, 1767225600);
	assert_int_equal(c.expiry, 1767225900);
	assert_int_equal(c.challenge_len, sizeof(want_ch));
	assert_memory_equal(c.challenge, want_ch, sizeof(want_ch));
	assert_int_equal(tpm_context_open(k, "fabrikam", golden, strlen(golden), T_NOW, &c, NULL),
			 ATTEST_E_VERIFY);
	assert_int_equal(
	    tpm_context_open(k, TPM_CONTEXT_NO_PROVIDER, golden, strlen(golden), T_NOW, &c, NULL),
	    ATTEST_E_VERIFY);
	tpm_context_keys_free(k);
}

/* After N seals an epoch is done: the next seal starts a new random one; every context still opens. */
static void seals_move_to_a_new_epoch_after_the_limit(void **state)
{
	enum { LIMIT = 3, SEALS = 10 };
	struct tpm_context_keys *k = tpm_context_keys_new_bounded(MASTER, LIMIT, 8);
	struct tpm_context_keys *other = tpm_context_keys_new(MASTER);
	uint8_t epochs[SEALS][TPM_CONTEXT_EPOCH_LEN];
	char *ctx[SEALS];
	struct attest_err err;
	uint64_t derived;

	(void)state;
	assert_non_null(k);
	assert_non_null(other);
	assert_int_equal(stats(k).rotations, 1);
	for (int i = 0; i < SEALS; i++) {
		size_t n;
		uint8_t *raw;

		ctx[i] = seal(k, (uint8_t)i, T_NOW + 60);
		raw = decode(ctx[i], &n);
		memcpy(epochs[i], raw + OFF_EPOCH, TPM_CONTEXT_EPOCH_LEN);
		free(raw);
		assert_int_equal(stats(k).sealed, (uint64_t)(i % LIMIT + 1));
	}
	for (int i = 1; i < SEALS; i++) {
		if (i % LIMIT == 0)
			assert_memory_not_equal(epochs[i], epochs[i - 1], TPM_CONTEXT_EPOCH_LEN);
		else
			assert_memory_equal(epochs[i], epochs[i - 1], TPM_CONTEXT_EPOCH_LEN);
	}
	assert_int_equal(stats(k).rotations, (SEALS + LIMIT - 1) / LIMIT);
	derived = stats(k).derived;
	assert_int_equal(derived, stats(k).rotations);
	for (int i = 0; i < SEALS; i++) {
		assert_int_equal(open_ctx(k, ctx[i], &err), 0);	    /* its own past epochs are still kept */
		assert_int_equal(open_ctx(other, ctx[i], &err), 0); /* and another node opens them */
		free(ctx[i]);
	}
	assert_int_equal(stats(k).derived, derived);
	assert_int_equal(stats(other).derived, 1 + (SEALS + LIMIT - 1) / LIMIT);
	/* Wrong limits are refused. */
	assert_null(tpm_context_keys_new_bounded(MASTER, 0, 8));
	assert_null(tpm_context_keys_new_bounded(MASTER, 1, 1));
	assert_null(tpm_context_keys_new_bounded(NULL, 1, 8));
	tpm_context_keys_free(k);
	tpm_context_keys_free(other);
}

/* Two nodes over one master key: each opens the other's contexts, deriving the other's epoch key once. */
static void context_of_another_node_opens_after_one_derivation(void **state)
{
	struct tpm_context_keys *a = tpm_context_keys_new(MASTER), *b = tpm_context_keys_new(MASTER);
	uint8_t other_master[TPM_PROTO_KEY_LEN];
	struct tpm_context_keys *foreign;
	struct attest_err err;
	char *ctx;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_not_equal(stats(a).epoch, stats(b).epoch, TPM_CONTEXT_EPOCH_LEN);
	for (int i = 0; i < 5; i++) {
		ctx = seal(b, (uint8_t)i, T_NOW + 60);
		assert_int_equal(open_ctx(a, ctx, &err), 0);
		free(ctx);
	}
	assert_int_equal(stats(a).derived, 2); /* its own first epoch, then b's once */
	assert_int_equal(stats(a).epochs_kept, 2);
	/* Another service's master key: refused, and nothing kept. */
	memcpy(other_master, MASTER, sizeof(other_master));
	other_master[31] ^= 0x80;
	foreign = tpm_context_keys_new(other_master);
	assert_non_null(foreign);
	ctx = seal(foreign, 1, T_NOW + 60);
	assert_int_equal(open_ctx(a, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.auth");
	assert_int_equal(stats(a).epochs_kept, 2);
	free(ctx);
	tpm_context_keys_free(foreign);
	tpm_context_keys_free(a);
	tpm_context_keys_free(b);
}

/* Every single flipped bit of magic, epoch id, IV, ciphertext and tag is refused, with its error. */
static void every_flipped_bit_is_refused(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	unsigned stride = sweep_stride();
	struct attest_err err;
	size_t n, kept;
	uint8_t *raw;
	char *ctx, *bad;

	(void)state;
	assert_non_null(k);
	ctx = seal(k, 3, T_NOW + 60);
	raw = decode(ctx, &n);
	kept = stats(k).epochs_kept;
	for (size_t bit = 0; bit < 8 * n; bit += stride) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		bad = encode(raw, n);
		assert_int_equal(open_ctx(k, bad, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name,
				    bit < 8 * OFF_EPOCH ? "tpm.context.encoding" : "tpm.context.auth");
		free(bad);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* No altered epoch id was kept, and the genuine context still opens. */
	assert_int_equal(stats(k).epochs_kept, kept);
	assert_int_equal(open_ctx(k, ctx, &err), 0);
	free(raw);
	free(ctx);
	tpm_context_keys_free(k);
}

/*
 * Made-up epoch ids (well-formed contexts that authenticate under no key)
 * cost a derivation each but are never kept: the cache does not grow and
 * the genuine epochs in it stay, so their contexts open without deriving.
 */
static void random_epoch_flood_neither_grows_nor_evicts_the_cache(void **state)
{
	enum { KEPT = 4, FLOOD = 1000 };
	struct tpm_context_keys *a = tpm_context_keys_new_bounded(MASTER, TPM_CONTEXT_SEALS_PER_EPOCH, KEPT);
	struct tpm_context_keys *b = tpm_context_keys_new(MASTER), *c = tpm_context_keys_new(MASTER);
	char *cb = NULL, *cc = NULL, *ca = NULL, *junk;
	uint8_t raw[OVERHEAD + PLAIN_MAX];
	struct attest_err err;
	uint64_t derived;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	cb = seal(b, 1, T_NOW + 60);
	cc = seal(c, 2, T_NOW + 60);
	ca = seal(a, 3, T_NOW + 60);
	assert_int_equal(open_ctx(a, cb, &err), 0);
	assert_int_equal(open_ctx(a, cc, &err), 0);
	assert_int_equal(stats(a).epochs_kept, 3);
	derived = stats(a).derived;
	memcpy(raw, "TPC2", 4);
	for (int i = 0; i < FLOOD; i++) {
		assert_int_equal(RAND_bytes(raw + 4, sizeof(raw) - 4), 1);
		junk = encode(raw, sizeof(raw));
		assert_int_equal(open_ctx(a, junk, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.auth");
		free(junk);
		assert_true(stats(a).epochs_kept <= 3);
	}
	assert_int_equal(stats(a).derived, derived + FLOOD);
	assert_int_equal(stats(a).epochs_kept, 3);
	/* The genuine epochs were not displaced: no derivation to open their contexts. */
	derived = stats(a).derived;
	assert_int_equal(open_ctx(a, cb, &err), 0);
	assert_int_equal(open_ctx(a, cc, &err), 0);
	assert_int_equal(open_ctx(a, ca, &err), 0);
	assert_int_equal(stats(a).derived, derived);
	free(ca);
	free(cb);
	free(cc);
	tpm_context_keys_free(a);
	tpm_context_keys_free(b);
	tpm_context_keys_free(c);
}

/*
 * Genuine but expired contexts of many old epochs (a node pushed through
 * epochs, or restarted, long ago) are refused and never kept: replaying
 * them cannot push the live epochs out of the cache.
 */
static void expired_contexts_of_old_epochs_do_not_displace_live_ones(void **state)
{
	enum { KEPT = 4, OLD = 40 };
	struct tpm_context_keys *a = tpm_context_keys_new_bounded(MASTER, TPM_CONTEXT_SEALS_PER_EPOCH, KEPT);
	struct tpm_context_keys *b = tpm_context_keys_new(MASTER);
	struct tpm_context_keys *old = tpm_context_keys_new_bounded(MASTER, 1, 2); /* a new epoch per seal */
	char *live_a, *live_b, *ctx;
	struct tpm_context c;
	struct attest_err err;
	uint64_t derived;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(old);
	live_a = seal(a, 1, T_NOW + 600);
	live_b = seal(b, 2, T_NOW + 600);
	assert_int_equal(open_ctx(a, live_b, &err), 0);
	assert_int_equal(stats(a).epochs_kept, 2);
	for (int i = 0; i < OLD; i++) {
		ctx = seal(old, (uint8_t)i, T_NOW - 1); /* expired a second ago */
		attest_err_clear(&err);
		assert_int_equal(tpm_context_open(a, PROVIDER, ctx, strlen(ctx), T_NOW, &c, &err),
				 ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.expired");
		assert_int_equal(stats(a).epochs_kept, 2);
		free(ctx);
	}
	derived = stats(a).derived;
	assert_int_equal(open_ctx(a, live_a, &err), 0);
	assert_int_equal(open_ctx(a, live_b, &err), 0);
	assert_int_equal(stats(a).derived, derived);
	free(live_a);
	free(live_b);
	tpm_context_keys_free(a);
	tpm_context_keys_free(b);
	tpm_context_keys_free(old);
}

/*
 * More genuine epochs than the cache keeps (a cluster larger than it):
 * the cache stays at its bound, never drops the current epoch, and a
 * context of an epoch that fell out still opens (one derivation again).
 */
static void genuine_epochs_beyond_the_bound_still_open(void **state)
{
	enum { KEPT = 3, NODES = 7 };
	struct tpm_context_keys *a = tpm_context_keys_new_bounded(MASTER, TPM_CONTEXT_SEALS_PER_EPOCH, KEPT);
	struct tpm_context_keys *node[NODES];
	char *ctx[NODES], *own;
	struct attest_err err;
	uint64_t derived;

	(void)state;
	assert_non_null(a);
	own = seal(a, 0x77, T_NOW + 60);
	for (int i = 0; i < NODES; i++) {
		node[i] = tpm_context_keys_new(MASTER);
		assert_non_null(node[i]);
		ctx[i] = seal(node[i], (uint8_t)i, T_NOW + 60);
		assert_int_equal(open_ctx(a, ctx[i], &err), 0);
		assert_true(stats(a).epochs_kept <= KEPT);
	}
	assert_int_equal(stats(a).epochs_kept, KEPT);
	/* the current epoch was never dropped */
	derived = stats(a).derived;
	assert_int_equal(open_ctx(a, own, &err), 0);
	assert_int_equal(stats(a).derived, derived);
	/* the oldest nodes' epochs fell out: one derivation each, and they open */
	for (int i = 0; i < NODES; i++)
		assert_int_equal(open_ctx(a, ctx[i], &err), 0);
	assert_true(stats(a).derived > derived);
	assert_int_equal(stats(a).epochs_kept, KEPT);
	for (int i = 0; i < NODES; i++) {
		free(ctx[i]);
		tpm_context_keys_free(node[i]);
	}
	free(own);
	tpm_context_keys_free(a);
}

static void context_expires_at_its_expiry(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	struct tpm_context c;
	struct attest_err err;
	char *ctx;

	(void)state;
	assert_non_null(k);
	ctx = seal(k, 5, T_NOW + 60);
	assert_int_equal(tpm_context_open(k, PROVIDER, ctx, strlen(ctx), T_NOW + 59, &c, NULL), 0);
	attest_err_clear(&err);
	assert_int_equal(tpm_context_open(k, PROVIDER, ctx, strlen(ctx), T_NOW + 60, &c, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.expired");
	attest_err_clear(&err);
	assert_int_equal(tpm_context_open(k, PROVIDER, ctx, strlen(ctx), T_NOW + 3600, &c, &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.expired");
	assert_non_null(strstr(err.msg, "3540 s ago"));
	free(ctx);
	tpm_context_keys_free(k);
}

/*
 * A context sealed by hand under key, layout v1 or v2: inner version,
 * the provider's name (its length byte says plen; name bytes
 * are PROVIDER's, cut or padded with 'x'), an id, the times, a 4-byte
 * challenge, then extra trailing bytes.
 */
static char *seal_by_hand_named(const uint8_t key[AEAD_KEY_LEN], int format, const uint8_t epoch[16],
				uint8_t version, uint8_t plen, size_t extra)
{
	uint8_t raw[OVERHEAD + PLAIN_MAX + 300], plain[PLAIN_MAX + 300] = {0};
	size_t name = 2, body = name + plen; /* where the id starts */
	size_t pl = body + TPM_PROTO_ID_LEN + 16 + 1 + 4 + extra, hdr = format == 1 ? 4 : OFF_IV;
	uint64_t expiry = T_NOW + 60;

	plain[0] = version;
	plain[1] = plen;
	for (size_t i = 0; i < plen; i++)
		plain[name + i] = i < strlen(PROVIDER) ? (uint8_t)PROVIDER[i] : 'x';
	for (int i = 0; i < 8; i++)
		plain[body + TPM_PROTO_ID_LEN + 8 + i] = (uint8_t)(expiry >> (56 - 8 * i));
	plain[body + TPM_PROTO_ID_LEN + 16] = 4; /* a 4-byte challenge, then extra trailing bytes */
	memcpy(raw, format == 1 ? "TPC1" : "TPC2", 4);
	if (format == 2)
		memcpy(raw + OFF_EPOCH, epoch, TPM_CONTEXT_EPOCH_LEN);
	assert_int_equal(RAND_bytes(raw + hdr, AEAD_IV_LEN), 1);
	assert_int_equal(aead_seal(key, raw + hdr, raw, hdr, plain, pl, raw + hdr + AEAD_IV_LEN,
				   raw + hdr + AEAD_IV_LEN + pl),
			 0);
	return encode(raw, hdr + AEAD_IV_LEN + pl + AEAD_TAG_LEN);
}

/* The same for PROVIDER exactly. */
static char *seal_by_hand(const uint8_t key[AEAD_KEY_LEN], int format, const uint8_t epoch[16],
			  uint8_t version, size_t extra)
{
	return seal_by_hand_named(key, format, epoch, version, (uint8_t)strlen(PROVIDER), extra);
}

/*
 * Version 1 contexts (sealed under the master key itself, before the
 * epochs) are refused with tpm.context.version: they live one TTL, and
 * accepting them would keep the master key a GCM key. Inside a version 2
 * context, an unknown inner version and trailing bytes are refused too.
 */
static void version_1_contexts_and_bad_plaintexts_are_refused(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	uint8_t epoch[16] = {0xEB}, sub[AEAD_KEY_LEN];
	struct attest_err err;
	char *ctx;

	(void)state;
	assert_non_null(k);
	ctx = seal_by_hand(MASTER, 1, NULL, 1, 0);
	assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.version");
	assert_non_null(strstr(err.msg, "init"));
	free(ctx);
	assert_int_equal(tpm_context_epoch_key(MASTER, epoch, sub), 0);
	ctx = seal_by_hand(sub, 2, epoch, 2, 0); /* well-formed: it opens */
	assert_int_equal(open_ctx(k, ctx, &err), 0);
	free(ctx);
	ctx = seal_by_hand(sub, 2, epoch, 3, 0);
	assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.version");
	free(ctx);
	ctx = seal_by_hand(sub, 2, epoch, 2, 1);
	assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.encoding");
	free(ctx);
	/* Other magics are not this service's. */
	ctx = encode((const uint8_t *)"TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3TPC3", 52);
	assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.encoding");
	free(ctx);
	assert_int_equal(tpm_context_open(NULL, PROVIDER, "x", 1, T_NOW, &(struct tpm_context){0}, &err),
			 ATTEST_E_INVALID);
	tpm_context_keys_free(k);
}

/* 0 when ctx opens under k at provider and T_NOW; otherwise the error code, its name in err. */
static int open_at(struct tpm_context_keys *k, const char *provider, const char *ctx, struct attest_err *err)
{
	struct tpm_context c;

	attest_err_clear(err);
	return tpm_context_open(k, provider, ctx, strlen(ctx), T_NOW, &c, err);
}

/*
 * A context is redeemed only at the provider whose init issued it: any
 * other name (a prefix, an extension, another case, none) is refused with
 * tpm.context.provider, on this node and on another, and the genuine
 * provider still opens it afterwards.
 */
static void context_opens_only_at_the_provider_that_issued_it(void **state)
{
	static const char *const others[] = {"fabrikam", "contos",  "contoso-",
					     "contosoo", "Contoso", TPM_CONTEXT_NO_PROVIDER};
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER), *peer = tpm_context_keys_new(MASTER);
	struct attest_err err;
	char *ctx, *plain;

	(void)state;
	assert_non_null(k);
	assert_non_null(peer);
	ctx = seal(k, 1, T_NOW + 60);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(open_at(k, others[i], ctx, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.provider");
		assert_non_null(strstr(err.msg, "init"));
		assert_int_equal(open_at(peer, others[i], ctx, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.provider");
	}
	assert_int_equal(open_at(k, PROVIDER, ctx, &err), 0);
	assert_int_equal(open_at(peer, PROVIDER, ctx, &err), 0);
	/* and one issued outside any provider opens only outside any */
	assert_int_equal(tpm_context_seal(k, TPM_CONTEXT_NO_PROVIDER, (uint8_t[TPM_PROTO_ID_LEN]){7}, T_NOW,
					  T_NOW + 60, MASTER, 0, &plain, NULL),
			 0);
	assert_int_equal(open_at(k, TPM_CONTEXT_NO_PROVIDER, plain, &err), 0);
	assert_int_equal(open_at(k, PROVIDER, plain, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.provider");
	free(plain);
	free(ctx);
	tpm_context_keys_free(k);
	tpm_context_keys_free(peer);
}

/* The provider is checked before expiry: an expired context of another provider says whose it is not. */
static void another_providers_context_is_refused_as_such_even_expired(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	struct attest_err err;
	char *ctx;

	(void)state;
	assert_non_null(k);
	ctx = seal(k, 2, T_NOW - 1);
	assert_int_equal(open_at(k, "fabrikam", ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.provider");
	assert_int_equal(open_at(k, PROVIDER, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.expired");
	free(ctx);
	tpm_context_keys_free(k);
}

/*
 * Names up to TPM_CONTEXT_PROVIDER_MAX (63) bytes, a DNS label's limit,
 * round-trip; a longer one, or none, is refused when sealing, and a longer
 * one redeems nothing.
 */
static void provider_names_are_bounded(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	char name[TPM_CONTEXT_PROVIDER_MAX + 2], *ctx = NULL;
	uint8_t id[TPM_PROTO_ID_LEN] = {9}, *raw;
	struct attest_err err;
	size_t n;

	(void)state;
	assert_non_null(k);
	memset(name, 'a', sizeof(name) - 1);
	name[TPM_CONTEXT_PROVIDER_MAX] = '\0';
	assert_int_equal(tpm_context_seal(k, name, id, T_NOW, T_NOW + 60, id, 0, &ctx, NULL), 0);
	raw = decode(ctx, &n);
	assert_int_equal(n, OVERHEAD + 2 + TPM_CONTEXT_PROVIDER_MAX + TPM_PROTO_ID_LEN + 16 + 1);
	free(raw);
	assert_int_equal(open_at(k, name, ctx, &err), 0);
	name[TPM_CONTEXT_PROVIDER_MAX] = 'a';
	name[TPM_CONTEXT_PROVIDER_MAX + 1] = '\0';
	assert_int_equal(open_at(k, name, ctx, &err), ATTEST_E_VERIFY); /* 64 bytes: no context names it */
	assert_string_equal(err.name, "tpm.context.provider");
	free(ctx);
	ctx = NULL;
	attest_err_clear(&err);
	assert_int_equal(tpm_context_seal(k, name, id, T_NOW, T_NOW + 60, id, 0, &ctx, &err),
			 ATTEST_E_INVALID);
	assert_string_equal(err.name, "tpm.context.seal");
	assert_null(ctx);
	assert_int_equal(tpm_context_seal(k, NULL, id, T_NOW, T_NOW + 60, id, 0, &ctx, &err),
			 ATTEST_E_INVALID);
	assert_null(ctx);
	ctx = seal(k, 3, T_NOW + 60);
	assert_int_equal(open_at(k, NULL, ctx, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "tpm.proto.config");
	free(ctx);
	tpm_context_keys_free(k);
}

/*
 * The provider field's own mutations, sealed by hand under a genuine
 * epoch key (so the tag holds): a length one short or one long names
 * another provider; a length beyond 63 or beyond the plaintext is
 * malformed.
 */
static void provider_field_mutations_are_refused(void **state)
{
	struct tpm_context_keys *k = tpm_context_keys_new(MASTER);
	uint8_t epoch[16] = {0xEC}, sub[AEAD_KEY_LEN];
	size_t own = strlen(PROVIDER);
	struct attest_err err;
	char *ctx;

	(void)state;
	assert_non_null(k);
	assert_int_equal(tpm_context_epoch_key(MASTER, epoch, sub), 0);
	ctx = seal_by_hand_named(sub, 2, epoch, 2, (uint8_t)own, 0);
	assert_int_equal(open_ctx(k, ctx, &err), 0);
	free(ctx);
	for (int d = -1; d <= 1; d += 2) {
		ctx = seal_by_hand_named(sub, 2, epoch, 2, (uint8_t)(own + (size_t)d), 0);
		assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.provider");
		free(ctx);
	}
	ctx = seal_by_hand_named(sub, 2, epoch, 2, TPM_CONTEXT_PROVIDER_MAX + 1, 0);
	assert_int_equal(open_ctx(k, ctx, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.encoding");
	free(ctx);
	/* a length byte of 255 over a short plaintext: the cursor stops it */
	ctx = seal_by_hand_named(sub, 2, epoch, 2, 0, 0);
	{
		size_t n;
		uint8_t *raw = decode(ctx, &n), plain[PLAIN_MAX];
		char *bad;

		assert_int_equal(aead_open(sub, raw + OFF_IV, raw, OFF_IV, raw + OFF_TEXT, n - OVERHEAD,
					   plain, raw + n - AEAD_TAG_LEN),
				 0);
		plain[1] = 255;
		assert_int_equal(aead_seal(sub, raw + OFF_IV, raw, OFF_IV, plain, n - OVERHEAD,
					   raw + OFF_TEXT, raw + n - AEAD_TAG_LEN),
				 0);
		bad = encode(raw, n);
		assert_int_equal(open_at(k, TPM_CONTEXT_NO_PROVIDER, bad, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tpm.context.encoding");
		free(bad);
		free(raw);
	}
	free(ctx);
	tpm_context_keys_free(k);
}

/* ---- four threads ----------------------------------------------------------- */

enum { RACE_SEALS = 300 };

struct racer {
	struct tpm_context_keys *k, *peer; /* shared keyring, another node's */
	const char *peer_ctx;		   /* a context the other node sealed */
	pthread_barrier_t *go;
	uint8_t epochs[RACE_SEALS][TPM_CONTEXT_EPOCH_LEN];
	int failures;
};

/* Seals on the shared keyring, opens on it and on the other node, and opens the other node's context. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct attest_err err;

	pthread_barrier_wait(r->go);
	for (int i = 0; i < RACE_SEALS; i++) {
		uint8_t ch[TPM_PROTO_CHALLENGE_LEN], id[TPM_PROTO_ID_LEN] = {0}, *raw = NULL;
		struct tpm_context c;
		char *ctx = NULL;
		size_t n = 0;

		memset(ch, i, sizeof(ch));
		memcpy(id, &r, sizeof(r));
		id[15] = (uint8_t)i;
		if (tpm_context_seal(r->k, PROVIDER, id, T_NOW, T_NOW + 60, ch, sizeof(ch), &ctx, NULL) !=
		    0) {
			r->failures++;
			continue;
		}
		if (tpm_context_open(r->k, PROVIDER, ctx, strlen(ctx), T_NOW, &c, &err) != 0 ||
		    memcmp(c.id, id, sizeof(id)) != 0 || memcmp(c.challenge, ch, sizeof(ch)) != 0 ||
		    tpm_context_open(r->peer, PROVIDER, ctx, strlen(ctx), T_NOW, &c, &err) != 0 ||
		    memcmp(c.id, id, sizeof(id)) != 0 ||
		    tpm_context_open(r->k, PROVIDER, r->peer_ctx, strlen(r->peer_ctx), T_NOW, &c, &err) !=
			0 ||
		    b64_decode(ctx, strlen(ctx), &raw, &n) != 0 || n < OVERHEAD)
			r->failures++;
		else
			memcpy(r->epochs[i], raw + OFF_EPOCH, TPM_CONTEXT_EPOCH_LEN);
		free(raw);
		free(ctx);
	}
	return NULL;
}

static int by_epoch(const void *x, const void *y)
{
	return memcmp(x, y, TPM_CONTEXT_EPOCH_LEN);
}

/*
 * Four threads share one keyring that rotates every `limit` seals and
 * keeps `kept` epochs: every context opens on it and on another node, and
 * no epoch sealed more than `limit` (the count and the rotation hold under
 * the lock); under ASan an epoch key freed while a thread still used it
 * would be a report.
 */
static void race_keyring(uint64_t limit, size_t kept)
{
	struct tpm_context_keys *k = tpm_context_keys_new_bounded(MASTER, limit, kept);
	struct tpm_context_keys *peer = tpm_context_keys_new_bounded(MASTER, limit, kept);
	uint8_t(*all)[TPM_CONTEXT_EPOCH_LEN] = calloc(4 * RACE_SEALS, TPM_CONTEXT_EPOCH_LEN);
	struct racer *r = calloc(4, sizeof(*r));
	pthread_barrier_t go;
	pthread_t t[4];
	char *peer_ctx;
	size_t run = 1;

	assert_non_null(k);
	assert_non_null(peer);
	assert_non_null(all);
	assert_non_null(r);
	peer_ctx = seal(peer, 9, T_NOW + 60);
	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){.k = k, .peer = peer, .peer_ctx = peer_ctx, .go = &go};
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
		memcpy(all[i * RACE_SEALS], r[i].epochs, sizeof(r[i].epochs));
	}
	qsort(all, 4 * RACE_SEALS, TPM_CONTEXT_EPOCH_LEN, by_epoch);
	for (size_t i = 1; i <= 4 * RACE_SEALS; i++) {
		if (i < 4 * RACE_SEALS && memcmp(all[i], all[i - 1], TPM_CONTEXT_EPOCH_LEN) == 0) {
			run++;
			continue;
		}
		assert_true(run <= limit);
		run = 1;
	}
	/* every epoch but the current one sealed exactly its share: no seal was lost or counted twice */
	assert_int_equal((stats(k).rotations - 1) * limit + stats(k).sealed, 4 * RACE_SEALS);
	assert_true(stats(k).epochs_kept <= kept);
	assert_true(stats(peer).epochs_kept <= kept);
	pthread_barrier_destroy(&go);
	free(peer_ctx);
	free(all);
	free(r);
	tpm_context_keys_free(k);
	tpm_context_keys_free(peer);
}

static void four_threads_seal_and_open_concurrently(void **state)
{
	(void)state;
	race_keyring(7, 4);
}

/* The hardest case for the holds: a new epoch every seal, two kept, so epochs are evicted while in use. */
static void four_threads_with_a_rotation_every_seal_and_two_epochs_kept(void **state)
{
	(void)state;
	race_keyring(1, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(context_round_trip_keeps_every_field),
	    cmocka_unit_test(epoch_key_is_rfc5869_hkdf_of_the_master),
	    cmocka_unit_test(golden_context_of_an_independent_implementation_opens),
	    cmocka_unit_test(seals_move_to_a_new_epoch_after_the_limit),
	    cmocka_unit_test(context_of_another_node_opens_after_one_derivation),
	    cmocka_unit_test(every_flipped_bit_is_refused),
	    cmocka_unit_test(random_epoch_flood_neither_grows_nor_evicts_the_cache),
	    cmocka_unit_test(expired_contexts_of_old_epochs_do_not_displace_live_ones),
	    cmocka_unit_test(genuine_epochs_beyond_the_bound_still_open),
	    cmocka_unit_test(context_expires_at_its_expiry),
	    cmocka_unit_test(version_1_contexts_and_bad_plaintexts_are_refused),
	    cmocka_unit_test(context_opens_only_at_the_provider_that_issued_it),
	    cmocka_unit_test(another_providers_context_is_refused_as_such_even_expired),
	    cmocka_unit_test(provider_names_are_bounded),
	    cmocka_unit_test(provider_field_mutations_are_refused),
	    cmocka_unit_test(four_threads_seal_and_open_concurrently),
	    cmocka_unit_test(four_threads_with_a_rotation_every_seal_and_two_epochs_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
