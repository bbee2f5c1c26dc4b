/* Bearer JWTs from a provider's OpenID issuer (auth.h). */
#include "server/auth.h"

#include "base/buf.h"
#include "crypto/jose.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUTH_SKEW 60          /* seconds of clock difference tolerated (RFC 7519 §4.1.4 "leeway") */
#define AUTH_JWKS_MAX (1u << 20)
#define AUTH_JWKS_TTL 300     /* seconds a fetched key set is used */
#define AUTH_JWKS_REFRESH 30  /* an unknown kid re-fetches a set at most this often */
#define AUTH_JWKS_SLOTS 32

struct jwks_slot {
	char url[512];
	json_t *jwks;
	time_t fetched; /* monotonic seconds */
};

struct auth_jwks_cache {
	pthread_mutex_t mu;
	size_t next;
	struct jwks_slot slot[AUTH_JWKS_SLOTS];
};

struct auth_jwks_cache *auth_jwks_cache_new(void)
{
	struct auth_jwks_cache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->mu, NULL);
	return c;
}

void auth_jwks_cache_free(struct auth_jwks_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < AUTH_JWKS_SLOTS; i++)
		json_decref(c->slot[i].jwks);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	return buf_append(b, p, size * n) == 0 ? size * n : 0; /* past the cap: abort the transfer */
}

/* GETs url (HTTPS only) as a JWKS. New reference. */
static int fetch_jwks(const char *url, const char *ca_file, json_t **out, struct attest_err *err)
{
	CURL *c;
	struct buf b;
	long status = 0;
	CURLcode cc;
	json_error_t je;

	if (strncmp(url, "https://", 8) != 0)
		return attest_err_set(err, ATTEST_E_INVALID, "auth.jwks", "jwks_uri must be an https:// URL");
	c = curl_easy_init();
	if (c == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "auth.jwks", "cannot start an HTTP client");
	buf_init(&b, AUTH_JWKS_MAX);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK || status != 200) {
		buf_free(&b);
		return attest_err_set(err, ATTEST_E_IO, "auth.jwks", "cannot fetch the issuer keys from %.200s: %s (HTTP %ld)",
				      url, curl_easy_strerror(cc), status);
	}
	*out = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
	buf_free(&b);
	if (!json_is_array(json_object_get(*out, "keys"))) {
		json_decref(*out);
		*out = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, "auth.jwks", "%.200s did not answer a JWKS", url);
	}
	return ATTEST_OK;
}

/* The cached set of url, fetched when absent, expired, or (refresh) older than AUTH_JWKS_REFRESH. */
static int cached_jwks(struct auth_jwks_cache *cache, const char *url, const char *ca_file, bool refresh,
		       json_t **out, struct attest_err *err)
{
	struct jwks_slot *hit = NULL;
	time_t now = mono_s();
	json_t *fresh = NULL;
	int rc;

	if (cache == NULL)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "auth.jwks", "jwks_uri is not available here");
	pthread_mutex_lock(&cache->mu);
	for (size_t i = 0; i < AUTH_JWKS_SLOTS; i++) {
		if (cache->slot[i].jwks != NULL && strcmp(cache->slot[i].url, url) == 0)
			hit = &cache->slot[i];
	}
	if (hit != NULL && now - hit->fetched < (refresh ? AUTH_JWKS_REFRESH : AUTH_JWKS_TTL)) {
		*out = json_incref(hit->jwks);
		pthread_mutex_unlock(&cache->mu);
		return ATTEST_OK;
	}
	pthread_mutex_unlock(&cache->mu);
	rc = fetch_jwks(url, ca_file, &fresh, err);
	if (rc != ATTEST_OK)
		return rc;
	pthread_mutex_lock(&cache->mu);
	hit = NULL;
	for (size_t i = 0; i < AUTH_JWKS_SLOTS; i++) {
		if (cache->slot[i].jwks != NULL && strcmp(cache->slot[i].url, url) == 0)
			hit = &cache->slot[i];
	}
	if (hit == NULL)
		hit = &cache->slot[cache->next++ % AUTH_JWKS_SLOTS];
	json_decref(hit->jwks);
	snprintf(hit->url, sizeof(hit->url), "%s", url);
	hit->jwks = json_incref(fresh);
	hit->fetched = now;
	pthread_mutex_unlock(&cache->mu);
	*out = fresh; /* transferred */
	return ATTEST_OK;
}

static const char *str_member(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The issuer's keys: inline "jwks", "jwks_file" read now, or "jwks_uri" (cached). New reference. */
static int load_jwks(const json_t *conf, struct auth_jwks_cache *cache, bool refresh, json_t **out,
		     struct attest_err *err)
{
	const json_t *inline_jwks = json_object_get(conf, "jwks");
	const char *file = str_member(conf, "jwks_file"), *uri = str_member(conf, "jwks_uri");
	uint8_t *text = NULL;
	size_t len = 0;
	json_error_t je;

	if (json_is_object(inline_jwks)) {
		*out = json_incref((json_t *)inline_jwks);
		return ATTEST_OK;
	}
	if (file == NULL && uri != NULL)
		return cached_jwks(cache, uri, str_member(conf, "jwks_ca_file"), refresh, out, err);
	if (file == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "auth.jwks", "the provider's auth names no issuer keys");
	if (file_read_all(file, AUTH_JWKS_MAX, &text, &len) != 0)
		return attest_err_set(err, ATTEST_E_IO, "auth.jwks", "cannot read the issuer keys %s", file);
	*out = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, "auth.jwks", "%s is not a JWKS", file);
	}
	return ATTEST_OK;
}

static bool audience_has(const json_t *aud, const char *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return true;
	}
	return false;
}

/* The highest role the token's roles claim grants under this provider's mapping. */
static enum http_role role_of(const json_t *conf, const json_t *claims)
{
	static const char *const KEYS[] = {"reader", "contributor", "administrator"};
	static const char *const DEFAULTS[] = {"Attestation.Reader", "Attestation.Contributor",
					       "Attestation.Administrator"};
	const char *claim = str_member(conf, "roles_claim");
	const json_t *map = json_object_get(conf, "roles"), *roles, *v;
	enum http_role best = HTTP_ROLE_NONE;
	size_t i;

	roles = json_object_get(claims, claim ? claim : "roles");
	if (json_is_string(roles)) /* a single role as a string */
		roles = json_pack("[O]", roles);
	else
		json_incref((json_t *)roles);
	json_array_foreach(roles, i, v)
	{
		for (int r = 0; r < 3 && json_is_string(v); r++) {
			const char *name = str_member(map, KEYS[r]);
			if (strcmp(json_string_value(v), name ? name : DEFAULTS[r]) == 0 && (enum http_role)(r + 1) > best)
				best = (enum http_role)(r + 1);
		}
	}
	json_decref((json_t *)roles);
	return best;
}

int auth_verify_bearer(const json_t *settings, const char *token, int64_t now, struct auth_jwks_cache *cache,
		       struct http_auth *auth, struct attest_err *err)
{
	const json_t *conf = json_object_get(settings, "auth");
	const char *iss, *aud, *sub;
	struct jws *j = NULL;
	json_t *jwks = NULL, *claims = NULL;
	int rc;

	if (!json_is_object(conf))
		return attest_err_set(err, ATTEST_E_DENIED, "auth.unconfigured",
				      "this provider accepts no bearer tokens (no \"auth\" in its settings)");
	rc = jws_parse(token, strlen(token), &j, err);
	if (rc == ATTEST_OK)
		rc = load_jwks(conf, cache, false, &jwks, err);
	/* "none" is never accepted: the issuer must have signed it. */
	if (rc == ATTEST_OK)
		rc = jws_verify_jwks(j, jwks, 0, err);
	/* An unknown kid may be the issuer's new key: fetch its set again (rate-limited). */
	if (rc != ATTEST_OK && strcmp(err->name, "jws.kid.unknown") == 0 && str_member(conf, "jwks_uri") != NULL &&
	    json_object_get(conf, "jwks") == NULL && str_member(conf, "jwks_file") == NULL) {
		json_decref(jwks);
		jwks = NULL;
		attest_err_clear(err);
		rc = load_jwks(conf, cache, true, &jwks, err);
		if (rc == ATTEST_OK)
			rc = jws_verify_jwks(j, jwks, 0, err);
	}
	if (rc == ATTEST_OK)
		rc = jwt_claims(j, &claims, err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "bearer token: ");
		goto out;
	}
	iss = str_member(claims, "iss");
	aud = str_member(conf, "audience");
	if (str_member(conf, "issuer") == NULL || iss == NULL || strcmp(iss, str_member(conf, "issuer")) != 0) {
		rc = attest_err_set(err, ATTEST_E_DENIED, "auth.issuer", "bearer token issuer \"%.200s\" is not trusted here",
				    iss ? iss : "");
		goto out;
	}
	if (aud == NULL || !audience_has(json_object_get(claims, "aud"), aud)) {
		rc = attest_err_set(err, ATTEST_E_DENIED, "auth.audience", "bearer token is not for this provider (audience)");
		goto out;
	}
	rc = jwt_check_time(claims, now, AUTH_SKEW, JWT_REQUIRE_EXP, err);
	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "bearer token: ");
		goto out;
	}
	sub = str_member(claims, "sub");
	auth->authenticated = true;
	auth->role = role_of(conf, claims);
	snprintf(auth->subject, sizeof(auth->subject), "%s", sub ? sub : "(no sub)");
out:
	json_decref(claims);
	json_decref(jwks);
	jws_free(j);
	return rc;
}

int auth_settings_check(const json_t *auth, struct attest_err *err)
{
	const json_t *jwks = json_object_get(auth, "jwks");

	if (!json_is_object(auth))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings", "settings.auth must be an object");
	if (!json_is_string(json_object_get(auth, "issuer")) || !json_is_string(json_object_get(auth, "audience")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings",
				      "settings.auth needs \"issuer\" and \"audience\" strings");
	if (jwks == NULL && !json_is_string(json_object_get(auth, "jwks_file")) &&
	    !json_is_string(json_object_get(auth, "jwks_uri")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings",
				      "settings.auth needs \"jwks\" (object), \"jwks_file\" (path) or \"jwks_uri\" (https URL)");
	if (jwks != NULL && !json_is_array(json_object_get(jwks, "keys")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings", "settings.auth.jwks must be {\"keys\": [...]}");
	if (json_object_get(auth, "roles") != NULL && !json_is_object(json_object_get(auth, "roles")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings", "settings.auth.roles must be an object");
	return ATTEST_OK;
}
