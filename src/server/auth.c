/* Bearer JWTs from a provider's OpenID issuer (auth.h). */
#include "server/auth.h"

#include "base/buf.h"
#include "crypto/jose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_SKEW 60          /* seconds of clock difference tolerated (RFC 7519 §4.1.4 "leeway") */
#define AUTH_JWKS_MAX (1u << 20)

static const char *str_member(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The issuer's keys: inline "jwks", or "jwks_file" read now. New reference. */
static int load_jwks(const json_t *conf, json_t **out, struct attest_err *err)
{
	const json_t *inline_jwks = json_object_get(conf, "jwks");
	const char *file = str_member(conf, "jwks_file");
	uint8_t *text = NULL;
	size_t len = 0;
	json_error_t je;

	if (json_is_object(inline_jwks)) {
		*out = json_incref((json_t *)inline_jwks);
		return ATTEST_OK;
	}
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

int auth_verify_bearer(const json_t *settings, const char *token, int64_t now, struct http_auth *auth,
		       struct attest_err *err)
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
		rc = load_jwks(conf, &jwks, err);
	/* "none" is never accepted: the issuer must have signed it. */
	if (rc == ATTEST_OK)
		rc = jws_verify_jwks(j, jwks, 0, err);
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
	if (jwks == NULL && !json_is_string(json_object_get(auth, "jwks_file")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings",
				      "settings.auth needs \"jwks\" (object) or \"jwks_file\" (path)");
	if (jwks != NULL && !json_is_array(json_object_get(jwks, "keys")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings", "settings.auth.jwks must be {\"keys\": [...]}");
	if (json_object_get(auth, "roles") != NULL && !json_is_object(json_object_get(auth, "roles")))
		return attest_err_set(err, ATTEST_E_INVALID, "auth.settings", "settings.auth.roles must be an object");
	return ATTEST_OK;
}
