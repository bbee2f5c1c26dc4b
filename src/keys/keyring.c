/*
 * The keyring: current signing key plus earlier keys still published until
 * their retire time (keys.h).
 */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <stdlib.h>
#include <string.h>

/* Named maximum: rotations are rare, this is years of daily rotation. */
#define KEYRING_MAX_KEYS 1024

struct keyring {
	struct keyring_opts opts; /* strings below are the ring's copies */
	char *subject_cn;
	char *jku;
	struct signing_key **keys;
	size_t n, cap;
	struct signing_key *current;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int keyring_new(const struct keyring_opts *opts, struct keyring **out, struct attest_err *err)
{
	struct keyring *r;

	if (opts == NULL || out == NULL || key_type_name(opts->key.type) == NULL ||
	    opts->max_token_lifetime <= 0)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring", "keyring_new: bad argument");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.ring", "out of memory");
	r->opts = *opts;
	r->subject_cn = dup_or_null(opts->key.subject_cn);
	r->jku = dup_or_null(opts->key.jku);
	if ((opts->key.subject_cn && !r->subject_cn) || (opts->key.jku && !r->jku)) {
		keyring_free(r);
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.ring", "out of memory");
	}
	r->opts.key.subject_cn = r->subject_cn;
	r->opts.key.jku = r->jku;
	*out = r;
	return ATTEST_OK;
}

void keyring_free(struct keyring *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		signing_key_free(r->keys[i]);
	free(r->keys);
	free(r->subject_cn);
	free(r->jku);
	free(r);
}

struct signing_key *keyring_current(const struct keyring *r)
{
	return r ? r->current : NULL;
}

size_t keyring_count(const struct keyring *r)
{
	return r ? r->n : 0;
}

struct signing_key *keyring_key(const struct keyring *r, size_t i)
{
	return r && i < r->n ? r->keys[i] : NULL;
}

struct signing_key *keyring_find(const struct keyring *r, const char *kid)
{
	size_t i;

	for (i = 0; r != NULL && kid != NULL && i < r->n; i++) {
		if (strcmp(signing_key_kid(r->keys[i]), kid) == 0)
			return r->keys[i];
	}
	return NULL;
}

/* Appends k (ownership taken on success). */
static int ring_push(struct keyring *r, struct signing_key *k, struct attest_err *err)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		struct signing_key **keys;

		if (cap > KEYRING_MAX_KEYS)
			return attest_err_set(err, ATTEST_E_NOMEM, "keys.ring",
					      "keyring holds %d keys already; prune it", KEYRING_MAX_KEYS);
		keys = realloc(
		    r->keys,
		    cap * sizeof(keys[0])); /* NOLINT(bugprone-sizeof-expression): array of pointers */
		if (keys == NULL)
			return attest_err_set(err, ATTEST_E_NOMEM, "keys.ring", "out of memory");
		r->keys = keys;
		r->cap = cap;
	}
	r->keys[r->n++] = k;
	return ATTEST_OK;
}

/*
 * Retires the current key at max(now + max token lifetime, last exp it
 * signed): no token it signed can outlive its publication.
 */
static void retire_current(struct keyring *r, int64_t now)
{
	int64_t at;

	if (r->current == NULL)
		return;
	at = now + r->opts.max_token_lifetime;
	if (signing_key_last_exp(r->current) > at)
		at = signing_key_last_exp(r->current);
	signing_key_set_retire_at(r->current, at);
}

int keyring_add_generated(struct keyring *r, int64_t now, const char **kid_out, struct attest_err *err)
{
	struct signing_key *k = NULL;
	int rc;

	if (r == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring",
				      "keyring_add_generated: bad argument");
	rc = signing_key_generate(&r->opts.key, now, &k, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = ring_push(r, k, err);
	if (rc != ATTEST_OK) {
		signing_key_free(k);
		return rc;
	}
	retire_current(r, now);
	r->current = k;
	if (kid_out != NULL)
		*kid_out = signing_key_kid(k);
	return ATTEST_OK;
}

int keyring_rotate(struct keyring *r, int64_t now, const char **kid_out, struct attest_err *err)
{
	return keyring_add_generated(r, now, kid_out, err);
}

int keyring_export_blob(const struct keyring *r, const char *kid, const struct kek *kek, uint8_t **blob,
			size_t *len, struct attest_err *err)
{
	struct signing_key *k = keyring_find(r, kid);

	if (k == NULL)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "keys.kid.unknown",
				      "no signing key with kid \"%.64s\"", kid ? kid : "(null)");
	return signing_key_export(k, kek, blob, len, err);
}

/* The newest key that is not retiring (ties: the later one in the ring). */
static struct signing_key *pick_current(const struct keyring *r)
{
	struct signing_key *best = NULL;
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct signing_key *k = r->keys[i];

		if (signing_key_retire_at(k) == 0 &&
		    (best == NULL || signing_key_created(k) >= signing_key_created(best)))
			best = k;
	}
	return best;
}

int keyring_import_blob(struct keyring *r, const uint8_t *blob, size_t len, const struct kek *kek,
			struct attest_err *err)
{
	struct signing_key *k = NULL;
	size_t i;
	int rc;

	if (r == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring",
				      "keyring_import_blob: bad argument");
	rc = signing_key_import(blob, len, kek, &r->opts.key, &k, err);
	if (rc != ATTEST_OK)
		return rc;
	for (i = 0; i < r->n; i++) {
		if (strcmp(signing_key_kid(r->keys[i]), signing_key_kid(k)) == 0) {
			signing_key_free(r->keys[i]);
			r->keys[i] = k; /* replaced */
			r->current = pick_current(r);
			return ATTEST_OK;
		}
	}
	rc = ring_push(r, k, err);
	if (rc != ATTEST_OK) {
		signing_key_free(k);
		return rc;
	}
	r->current = pick_current(r);
	return ATTEST_OK;
}

static bool published(const struct signing_key *k, int64_t now)
{
	return signing_key_retire_at(k) == 0 || signing_key_retire_at(k) > now;
}

int keyring_jwks(const struct keyring *r, int64_t now, json_t **out, struct attest_err *err)
{
	json_t *jwks;
	size_t i;
	int rc = ATTEST_OK;

	if (r == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring", "keyring_jwks: bad argument");
	jwks = jwks_new();
	if (jwks == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "keys.ring", "out of memory");
	/* Current key first, then the others still published, in ring order. */
	for (i = 0; rc == ATTEST_OK && i <= r->n; i++) {
		struct signing_key *k = i == 0 ? r->current : r->keys[i - 1];
		json_t *jwk = NULL;

		if (k == NULL || (i > 0 && k == r->current) || !published(k, now))
			continue;
		rc = signing_key_jwk(k, &jwk, err);
		if (rc == ATTEST_OK)
			rc = jwks_add(jwks, jwk);
	}
	if (rc != ATTEST_OK) {
		json_decref(jwks);
		return attest_err_set(err, rc, "keys.ring", "cannot build the JWKS");
	}
	*out = jwks;
	return ATTEST_OK;
}

int keyring_sign_jwt(const struct keyring *r, const json_t *claims, char **out, struct attest_err *err)
{
	return keyring_sign_jwt_jku(r, claims, NULL, out, err);
}

int keyring_sign_jwt_jku(const struct keyring *r, const json_t *claims, const char *jku, char **out,
			 struct attest_err *err)
{
	if (r == NULL || r->current == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.ring.empty", "no current signing key");
	return signing_key_sign_jwt_jku(r->current, claims, jku, out, err);
}

static bool prunable(const struct keyring *r, const struct signing_key *k, int64_t now)
{
	return k != r->current && !published(k, now);
}

void keyring_retired_kids(const struct keyring *r, int64_t now, void (*fn)(const char *kid, void *arg),
			  void *arg)
{
	size_t i;

	for (i = 0; r != NULL && fn != NULL && i < r->n; i++) {
		if (prunable(r, r->keys[i], now))
			fn(signing_key_kid(r->keys[i]), arg);
	}
}

size_t keyring_prune(struct keyring *r, int64_t now)
{
	size_t i, kept = 0, dropped = 0;

	if (r == NULL)
		return 0;
	for (i = 0; i < r->n; i++) {
		if (prunable(r, r->keys[i], now)) {
			signing_key_free(r->keys[i]);
			dropped++;
		} else {
			r->keys[kept++] = r->keys[i];
		}
	}
	r->n = kept;
	return dropped;
}
