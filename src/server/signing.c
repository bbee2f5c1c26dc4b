/*
 * The adapter between attestd and keys/ (signing.h). While this build has
 * no keys module, /certs publishes an empty key set and signing fails with
 * signing.unavailable, so the rest of the server still runs.
 */
#include "server/signing.h"

#include "server/server.h"

#if __has_include("keys/keys.h")
#define HAVE_KEYS 1
#include "keys/keys.h"
#endif

#include <stdlib.h>
#include <string.h>

#ifndef HAVE_KEYS

int srv_signing_open(struct srv *srv, struct attest_err *err)
{
	(void)err;
	srv_log(&srv->log, SRV_LOG_WARN, "this build has no keys module: /certs is empty and nothing is signed");
	return ATTEST_OK;
}

void srv_signing_close(struct srv *srv)
{
	(void)srv;
}

const uint8_t *srv_signing_kek(const struct srv *srv)
{
	(void)srv;
	return NULL;
}

int srv_signing_jwks(struct srv *srv, json_t **out, struct attest_err *err)
{
	(void)srv;
	(void)err;
	*out = json_pack("{s:[]}", "keys");
	return *out ? ATTEST_OK : ATTEST_E_NOMEM;
}

int srv_signing_jwks_text(struct srv *srv, char **out, size_t *len, struct attest_err *err)
{
	(void)srv;
	(void)err;
	*out = strdup("{\"keys\":[]}");
	*len = *out ? strlen(*out) : 0;
	return *out ? ATTEST_OK : ATTEST_E_NOMEM;
}

int srv_signing_sign(struct srv *srv, const char *base_url, const json_t *claims, char **out, struct attest_err *err)
{
	(void)srv;
	(void)base_url;
	(void)claims;
	(void)out;
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "signing.unavailable", "this build has no keys module");
}

int srv_signing_reload(struct srv *srv, struct attest_err *err)
{
	(void)srv;
	(void)err;
	return ATTEST_OK;
}

int srv_signing_sign_provider(struct srv *srv, const char *provider, const char *base_url, const json_t *claims,
			      char **out, struct attest_err *err)
{
	(void)provider;
	return srv_signing_sign(srv, base_url, claims, out, err);
}

int srv_signing_jwks_provider(struct srv *srv, const char *provider, char **out, size_t *len,
			      struct attest_err *err)
{
	(void)provider;
	return srv_signing_jwks_text(srv, out, len, err);
}

int srv_signing_rotate_provider(struct srv *srv, const char *provider, const char *actor, struct attest_err *err)
{
	(void)provider;
	return srv_signing_rotate(srv, actor, err);
}

int srv_signing_rotate(struct srv *srv, const char *actor, struct attest_err *err)
{
	(void)srv;
	(void)actor;
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "signing.unavailable", "this build has no keys module");
}

#endif

#ifdef HAVE_KEYS

#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_MAX_LIFETIME (8 * 3600) /* attestation tokens live 8 h (reference §5) */

#define SIGNING_MAX_PROVIDER_RINGS 256
#define JWKS_CACHE_SECONDS 60 /* publication windows are hours; a minute is exact enough */

/* snprintf(jku, cap, "%s/certs", base) without printf: the /certs URL of an issuer, per token signed. */
static void jku_into(char *jku, size_t cap, const char *base)
{
	static const char certs[] = "/certs";
	size_t n = strnlen(base, cap - 1), m = sizeof(certs) - 1;

	memcpy(jku, base, n);
	if (m > cap - 1 - n)
		m = cap - 1 - n;
	memcpy(jku + n, certs, m);
	jku[n + m] = '\0';
}

struct srv_signing {
	pthread_rwlock_t lock; /* readers sign and publish; add/rotate/import write */
	struct kek *kek; /* in OpenSSL's secure heap (kek_new): the one secret that unseals every key */
	pthread_mutex_t cache_mu;
	char *jwks_text; /* serialised JWKS, or NULL */
	size_t jwks_len;
	int64_t jwks_at; /* the clock when built */
	/*
	 * Providers' own keys (issue 9: "optionally its own signing key"),
	 * loaded on first use; ring NULL = the provider uses the service keys.
	 * Guarded by lock (read to sign/publish, write to load/rotate).
	 */
	size_t nprov;
	struct prov_ring {
		char name[STORE_NAME_MAX];
		struct keyring *ring;
	} prov[SIGNING_MAX_PROVIDER_RINGS];
};

static void prov_rings_clear(struct srv_signing *s)
{
	for (size_t i = 0; i < s->nprov; i++)
		keyring_free(s->prov[i].ring);
	s->nprov = 0;
}

static void jwks_cache_drop(struct srv_signing *s)
{
	pthread_mutex_lock(&s->cache_mu);
	free(s->jwks_text);
	s->jwks_text = NULL;
	pthread_mutex_unlock(&s->cache_mu);
}

/* Seals key kid of ring and stores it under provider ("" = service-wide), with its audit row. */
static int persist_key_of(struct srv *srv, struct keyring *ring, const char *provider, const char *kid,
			  const char *actor, const char *action, struct attest_err *err)
{
	struct signing_key *k = keyring_find(ring, kid);
	struct store_key row;
	uint8_t *blob = NULL;
	size_t len = 0;
	char detail[160];
	int rc;

	if (k == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.persist", "key %s vanished", kid);
	rc = keyring_export_blob(ring, kid, srv->signing->kek, &blob, &len, err);
	if (rc != ATTEST_OK)
		return rc;
	memset(&row, 0, sizeof(row));
	snprintf(row.kid, sizeof(row.kid), "%s", kid);
	snprintf(row.provider, sizeof(row.provider), "%s", provider);
	row.blob = blob;
	row.blob_len = len;
	row.created = signing_key_created(k);
	row.state = STORE_KEY_ACTIVE;
	snprintf(detail, sizeof(detail), "{\"kid\":\"%.100s\",\"type\":\"rsa2048\"}", kid);
	struct store_audit a = {.actor = actor, .action = action, .provider = provider, .detail = detail,
				.time = srv_now(srv)};
	rc = store_key_put(srv->store, &row, &a, err);
	free(blob);
	return rc;
}

static int persist_key(struct srv *srv, const char *kid, const char *actor, const char *action,
		       struct attest_err *err)
{
	return persist_key_of(srv, srv->keys, "", kid, actor, action, err);
}

/* Imports every stored key of provider ("" = service) still to be published into ring. */
static int load_keys_of(struct srv *srv, struct keyring *ring, const char *provider, int64_t now, size_t *loaded,
			struct attest_err *err)
{
	struct store_key *keys = NULL;
	size_t n = 0;
	int rc = store_key_list(srv->store, provider, &keys, &n, err);

	*loaded = 0;
	/*
	 * Retiring keys first, active ones last: a blob does not record that it
	 * was retired later (the store row does), and the ring makes the newest
	 * key not retiring current, the later one on a tie of creation times.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; rc == ATTEST_OK && i < n; i++) {
			/* A key retired, or retiring with its window over, is no longer published. */
			if (keys[i].state == STORE_KEY_RETIRED ||
			    (keys[i].state == STORE_KEY_RETIRING && keys[i].not_after != 0 && keys[i].not_after <= now))
				continue;
			if ((pass == 0) != (keys[i].state == STORE_KEY_RETIRING))
				continue;
			rc = keyring_import_blob(ring, keys[i].blob, keys[i].blob_len, srv->signing->kek, err);
			if (rc == ATTEST_OK)
				(*loaded)++;
		}
	}
	store_key_list_free(keys, n);
	return rc;
}

static int load_keys(struct srv *srv, int64_t now, size_t *loaded, struct attest_err *err)
{
	return load_keys_of(srv, srv->keys, "", now, loaded, err);
}

int srv_signing_open(struct srv *srv, struct attest_err *err)
{
	struct keyring_opts ro;
	bool created = false;
	size_t loaded = 0;
	int64_t now = srv_now(srv);
	int rc;

	srv->signing = calloc(1, sizeof(*srv->signing));
	if (srv->signing == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "signing.open", "out of memory");
	pthread_rwlock_init(&srv->signing->lock, NULL);
	pthread_mutex_init(&srv->signing->cache_mu, NULL);
	if ((srv->signing->kek = kek_new()) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "signing.open", "no room for the key-encryption key");
	rc = kek_load_or_create(srv->cfg->kek_file, srv->signing->kek, &created, err);
	if (rc != ATTEST_OK)
		return rc;
	if (created)
		srv_log(&srv->log, SRV_LOG_INFO, "created the key-encryption key %s", srv->cfg->kek_file);
	memset(&ro, 0, sizeof(ro));
	ro.key.type = KEY_RSA2048; /* as Azure Attestation */
	ro.key.subject_cn = srv->cfg->public_url[0] ? srv->cfg->public_url : "attestd";
	ro.max_token_lifetime = TOKEN_MAX_LIFETIME;
	rc = keyring_new(&ro, &srv->keys, err);
	if (rc == ATTEST_OK)
		rc = load_keys(srv, now, &loaded, err);
	if (rc == ATTEST_OK && keyring_current(srv->keys) == NULL) {
		const char *kid = NULL;
		rc = keyring_add_generated(srv->keys, now, &kid, err);
		if (rc == ATTEST_OK)
			rc = persist_key(srv, kid, "attestd", "key.create", err);
		if (rc == ATTEST_OK)
			srv_log(&srv->log, SRV_LOG_INFO, "created signing key %s (RSA-2048), stored encrypted", kid);
	} else if (rc == ATTEST_OK) {
		srv_log(&srv->log, SRV_LOG_INFO, "loaded %zu signing key(s); current %s", loaded,
			signing_key_kid(keyring_current(srv->keys)));
	}
	return rc;
}

const uint8_t *srv_signing_kek(const struct srv *srv)
{
	return srv->signing != NULL && srv->signing->kek != NULL ? srv->signing->kek->k : NULL;
}

void srv_signing_close(struct srv *srv)
{
	if (srv->signing != NULL) {
		kek_free(srv->signing->kek);
		prov_rings_clear(srv->signing);
		free(srv->signing->jwks_text);
		pthread_mutex_destroy(&srv->signing->cache_mu);
		pthread_rwlock_destroy(&srv->signing->lock);
		free(srv->signing);
		srv->signing = NULL;
	}
	keyring_free(srv->keys);
	srv->keys = NULL;
}

int srv_signing_jwks(struct srv *srv, json_t **out, struct attest_err *err)
{
	int rc;

	if (srv->keys == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.closed", "no keyring");
	pthread_rwlock_rdlock(&srv->signing->lock);
	rc = keyring_jwks(srv->keys, srv_now(srv), out, err);
	pthread_rwlock_unlock(&srv->signing->lock);
	return rc;
}

int srv_signing_jwks_text(struct srv *srv, char **out, size_t *len, struct attest_err *err)
{
	struct srv_signing *s = srv->signing;
	int64_t now = srv_now(srv);
	int rc = ATTEST_OK;

	if (s == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.closed", "no keyring");
	pthread_mutex_lock(&s->cache_mu);
	if (s->jwks_text == NULL || now < s->jwks_at || now - s->jwks_at >= JWKS_CACHE_SECONDS) {
		json_t *jwks = NULL;
		char *text = NULL;
		free(s->jwks_text);
		s->jwks_text = NULL;
		rc = srv_signing_jwks(srv, &jwks, err);
		if (rc == ATTEST_OK && (text = json_dumps(jwks, JSON_COMPACT)) == NULL)
			rc = attest_err_set(err, ATTEST_E_NOMEM, "signing.jwks", "cannot serialise the JWKS");
		if (text != NULL) {
			s->jwks_text = text;
			s->jwks_len = strlen(text);
			s->jwks_at = now;
		}
		json_decref(jwks);
	}
	if (rc == ATTEST_OK && s->jwks_text != NULL) {
		char *copy = malloc(s->jwks_len + 1);
		if (copy == NULL) {
			rc = attest_err_set(err, ATTEST_E_NOMEM, "signing.jwks", "out of memory");
		} else {
			memcpy(copy, s->jwks_text, s->jwks_len + 1);
			*out = copy;
			*len = s->jwks_len;
		}
	}
	pthread_mutex_unlock(&s->cache_mu);
	return rc;
}

int srv_signing_sign(struct srv *srv, const char *base_url, const json_t *claims, char **out, struct attest_err *err)
{
	char jku[600];
	int rc;

	if (srv->keys == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.closed", "no keyring");
	jku_into(jku, sizeof(jku), base_url ? base_url : srv->cfg->public_url);
	pthread_rwlock_rdlock(&srv->signing->lock);
	rc = keyring_sign_jwt_jku(srv->keys, claims, jku, out, err);
	pthread_rwlock_unlock(&srv->signing->lock);
	return rc;
}

int srv_signing_reload(struct srv *srv, struct attest_err *err)
{
	size_t loaded = 0;
	int rc;

	if (srv->keys == NULL || srv->signing == NULL)
		return ATTEST_OK;
	pthread_rwlock_wrlock(&srv->signing->lock);
	rc = load_keys(srv, srv_now(srv), &loaded, err);
	if (rc == ATTEST_OK)
		prov_rings_clear(srv->signing); /* re-read on next use; kept while the store is down */
	pthread_rwlock_unlock(&srv->signing->lock);
	jwks_cache_drop(srv->signing);
	return rc;
}

int srv_signing_rotate(struct srv *srv, const char *actor, struct attest_err *err)
{
	struct signing_key *old;
	char old_kid[KEYS_KID_MAX + 1] = "";
	const char *kid = NULL;
	int64_t now = srv_now(srv);
	int rc;

	pthread_rwlock_wrlock(&srv->signing->lock);
	old = keyring_current(srv->keys);
	if (old != NULL)
		snprintf(old_kid, sizeof(old_kid), "%s", signing_key_kid(old));
	rc = keyring_rotate(srv->keys, now, &kid, err);
	if (rc == ATTEST_OK)
		rc = persist_key(srv, kid, actor, "key.rotate", err);
	/* The previous key stays published until the tokens it signed have expired. */
	if (rc == ATTEST_OK && old_kid[0] != '\0') {
		struct signing_key *k = keyring_find(srv->keys, old_kid);
		char detail[200];
		snprintf(detail, sizeof(detail), "{\"kid\":\"%.100s\",\"retire_at\":%lld}", old_kid,
			 (long long)(k ? signing_key_retire_at(k) : now));
		struct store_audit a = {.actor = actor, .action = "key.retire", .detail = detail, .time = now};
		rc = store_key_set_state(srv->store, old_kid, STORE_KEY_RETIRING, k ? signing_key_retire_at(k) : now, &a,
					 err);
	}
	pthread_rwlock_unlock(&srv->signing->lock);
	jwks_cache_drop(srv->signing);
	return rc;
}

/* ---- providers' own keys --------------------------------------------------------- */

static struct prov_ring *prov_find(struct srv_signing *s, const char *name)
{
	for (size_t i = 0; i < s->nprov; i++) {
		if (strcmp(s->prov[i].name, name) == 0)
			return &s->prov[i];
	}
	return NULL;
}

static struct keyring *new_ring(struct srv *srv, struct attest_err *err)
{
	struct keyring_opts ro;
	struct keyring *ring = NULL;

	memset(&ro, 0, sizeof(ro));
	ro.key.type = KEY_RSA2048;
	ro.key.subject_cn = srv->cfg->public_url[0] ? srv->cfg->public_url : "attestd";
	ro.max_token_lifetime = TOKEN_MAX_LIFETIME;
	return keyring_new(&ro, &ring, err) == ATTEST_OK ? ring : NULL;
}

/* Loads provider's own keys into the table (under the write lock). */
static int prov_load(struct srv *srv, const char *provider, struct attest_err *err)
{
	struct srv_signing *s = srv->signing;
	struct keyring *ring;
	size_t loaded = 0;
	int rc;

	if (prov_find(s, provider) != NULL)
		return ATTEST_OK;
	if (s->nprov == SIGNING_MAX_PROVIDER_RINGS)
		return ATTEST_OK; /* beyond the table, providers fall back to the service keys */
	ring = new_ring(srv, err);
	if (ring == NULL)
		return err ? err->rc : ATTEST_E_INTERNAL;
	rc = load_keys_of(srv, ring, provider, srv_now(srv), &loaded, err);
	if (rc != ATTEST_OK) {
		keyring_free(ring);
		return rc;
	}
	if (loaded == 0) {
		keyring_free(ring);
		ring = NULL;
	}
	snprintf(s->prov[s->nprov].name, sizeof(s->prov[s->nprov].name), "%s", provider);
	s->prov[s->nprov++].ring = ring;
	return ATTEST_OK;
}

/*
 * Runs fn with the ring that signs for provider (its own, else the
 * service's) under the read lock, loading the provider's keys first when
 * they were never looked at.
 */
static int with_ring(struct srv *srv, const char *provider, int (*fn)(struct keyring *, void *), void *arg,
		     struct attest_err *err)
{
	struct srv_signing *s = srv->signing;
	struct prov_ring *pr;
	int rc;

	if (provider != NULL && provider[0] != '\0') {
		pthread_rwlock_rdlock(&s->lock);
		pr = prov_find(s, provider);
		pthread_rwlock_unlock(&s->lock);
		if (pr == NULL) {
			pthread_rwlock_wrlock(&s->lock);
			rc = prov_load(srv, provider, err);
			pthread_rwlock_unlock(&s->lock);
			if (rc != ATTEST_OK)
				return rc;
		}
	}
	pthread_rwlock_rdlock(&s->lock);
	pr = provider != NULL && provider[0] != '\0' ? prov_find(s, provider) : NULL;
	rc = fn(pr != NULL && pr->ring != NULL ? pr->ring : srv->keys, arg);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

struct sign_args {
	const char *jku;
	const json_t *claims;
	char **out;
	json_t **jwks;
	int64_t now;
	struct attest_err *err;
};

static int do_sign(struct keyring *ring, void *arg)
{
	struct sign_args *a = arg;

	return keyring_sign_jwt_jku(ring, a->claims, a->jku, a->out, a->err);
}

static int do_jwks(struct keyring *ring, void *arg)
{
	struct sign_args *a = arg;

	return keyring_jwks(ring, a->now, a->jwks, a->err);
}

int srv_signing_sign_provider(struct srv *srv, const char *provider, const char *base_url, const json_t *claims,
			      char **out, struct attest_err *err)
{
	char jku[600];
	struct sign_args a = {.jku = jku, .claims = claims, .out = out, .err = err};

	if (srv->keys == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.closed", "no keyring");
	jku_into(jku, sizeof(jku), base_url ? base_url : srv->cfg->public_url);
	return with_ring(srv, provider, do_sign, &a, err);
}

int srv_signing_jwks_provider(struct srv *srv, const char *provider, char **out, size_t *len,
			      struct attest_err *err)
{
	json_t *jwks = NULL;
	struct sign_args a = {.jwks = &jwks, .now = srv_now(srv), .err = err};
	int rc;
	bool own;

	if (srv->keys == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "signing.closed", "no keyring");
	/* Providers without their own keys share the service's cached JWKS. */
	rc = with_ring(srv, provider, do_jwks, &a, err);
	if (rc != ATTEST_OK)
		return rc;
	pthread_rwlock_rdlock(&srv->signing->lock);
	struct prov_ring *pr = provider ? prov_find(srv->signing, provider) : NULL;
	own = pr != NULL && pr->ring != NULL;
	pthread_rwlock_unlock(&srv->signing->lock);
	if (!own) {
		json_decref(jwks);
		return srv_signing_jwks_text(srv, out, len, err);
	}
	*out = json_dumps(jwks, JSON_COMPACT);
	json_decref(jwks);
	if (*out == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "signing.jwks", "cannot serialise the JWKS");
	*len = strlen(*out);
	return ATTEST_OK;
}

int srv_signing_rotate_provider(struct srv *srv, const char *provider, const char *actor, struct attest_err *err)
{
	struct srv_signing *s = srv->signing;
	struct prov_ring *pr;
	const char *kid = NULL;
	char old_kid[KEYS_KID_MAX + 1] = "";
	int64_t now = srv_now(srv);
	int rc;

	pthread_rwlock_wrlock(&s->lock);
	rc = prov_load(srv, provider, err);
	if (rc != ATTEST_OK)
		goto out;
	pr = prov_find(s, provider);
	if (pr == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "signing.providers", "too many providers with their own keys");
		goto out;
	}
	if (pr->ring == NULL && (pr->ring = new_ring(srv, err)) == NULL) {
		rc = ATTEST_E_INTERNAL;
		goto out;
	}
	if (rc == ATTEST_OK && keyring_current(pr->ring) != NULL)
		snprintf(old_kid, sizeof(old_kid), "%s", signing_key_kid(keyring_current(pr->ring)));
	if (rc == ATTEST_OK)
		rc = keyring_rotate(pr->ring, now, &kid, err);
	if (rc == ATTEST_OK)
		rc = persist_key_of(srv, pr->ring, provider, kid, actor, old_kid[0] ? "key.rotate" : "key.create", err);
	if (rc == ATTEST_OK && old_kid[0] != '\0') {
		struct signing_key *k = keyring_find(pr->ring, old_kid);
		struct store_audit a = {.actor = actor, .action = "key.retire", .provider = provider, .time = now};
		rc = store_key_set_state(srv->store, old_kid, STORE_KEY_RETIRING, k ? signing_key_retire_at(k) : now, &a,
					 err);
	}
out:
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

#endif
