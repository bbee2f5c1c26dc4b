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

/*
 * Verifies token for the provider whose settings JSON is given, at now.
 * On success fills auth (authenticated, role, subject). Errors (the
 * message says which check failed): auth.unconfigured, auth.token (not a
 * JWS / bad signature / unknown key), auth.issuer, auth.audience,
 * auth.expired (jwt.expired, jwt.not_yet_valid), auth.jwks.
 */
int auth_verify_bearer(const json_t *settings, const char *token, int64_t now, struct http_auth *auth,
		       struct attest_err *err);

/* Checks the "auth" member of provider settings (types, JWKS shape). */
int auth_settings_check(const json_t *auth, struct attest_err *err);

#endif
