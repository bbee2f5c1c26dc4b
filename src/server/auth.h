#ifndef ATTEST_SERVER_AUTH_H
#define ATTEST_SERVER_AUTH_H

/*
 * Bearer authentication of provider operations (issue 9, MAA §1.9): a JWT
 * from the OpenID issuer the provider trusts, verified against that
 * issuer's keys, for the provider's audience, within its lifetime; the
 * roles claim maps to reader / contributor / administrator on this
 * provider only. A provider's settings carry the configuration:
 *
 *   "auth": {
 *     "issuer":   "https://login.example/tenant",       exact "iss"
 *     "audience": "https://attest.example/providers/p1", one of "aud"
 *     "jwks":      {"keys": [...]}                       the issuer's keys, inline,
 *     "jwks_file": "/etc/attestd/issuer.jwks",           or a file (read when used)
 *     "jwks_uri":  "https://login.example/keys",          or the issuer's HTTPS URL (cached 5 min,
 *                                                        re-fetched early for an unknown kid)
 *     "jwks_ca_file": "/path/ca.pem",                    TEST/DEV: CA for jwks_uri (default: system)
 *     "roles_claim": "roles",                            default "roles"
 *     "roles": {"reader": "Attestation.Reader",          defaults shown
 *               "contributor": "Attestation.Contributor",
 *               "administrator": "Attestation.Administrator"}
 *   }
 *
 * Tokens of another provider fail on their audience (and issuer/keys when
 * those differ), so one provider's credentials never act on another.
 */

#include "attest/error.h"
#include "server/http.h"

#include <jansson.h>
#include <stdint.h>

/* Issuers' key sets fetched from their URLs, shared by the workers. */
struct auth_jwks_cache;

struct auth_jwks_cache *auth_jwks_cache_new(void);
void auth_jwks_cache_free(struct auth_jwks_cache *c);

/*
 * Verifies token for the provider whose settings JSON is given, at now.
 * cache serves "jwks_uri" (NULL: URLs are refused).
 * On success fills auth (authenticated, role, subject). Errors (the
 * message says which check failed): auth.unconfigured, auth.token (not a
 * JWS / bad signature / unknown key), auth.issuer, auth.audience,
 * auth.expired (jwt.expired, jwt.not_yet_valid), auth.jwks.
 */
int auth_verify_bearer(const json_t *settings, const char *token, int64_t now, struct auth_jwks_cache *cache,
		       struct http_auth *auth, struct attest_err *err);

/* Checks the "auth" member of provider settings (types, JWKS shape). */
int auth_settings_check(const json_t *auth, struct attest_err *err);

#endif
