#ifndef ATTEST_SERVER_SIGNING_H
#define ATTEST_SERVER_SIGNING_H

/*
 * The server's view of its token-signing keys: a thin adapter over keys/
 * (the keyring: generation, encrypted persistence in the store under the
 * KEK file, rotation), so the routes need only these calls.
 */

#include "attest/error.h"

#include <jansson.h>
#include <stdint.h>

struct srv;

/*
 * Opens the keyring: creates the KEK file (0600) and a first RSA-2048 key
 * with its self-signed certificate when the store has none, else loads the
 * stored keys. Sets srv->keys. Errors: from keys/, or signing.unavailable
 * when this build has no keys module.
 */
int srv_signing_open(struct srv *srv, struct attest_err *err);
void srv_signing_close(struct srv *srv);

/*
 * The KEK's 32 bytes (after srv_signing_open; NULL before it, or in a build
 * without the keys module), borrowed for wrapping the service's other
 * stored secrets (the TPM context master key, pipeline_routes.c) as the
 * signing keys are: it stays an AES-256-GCM key, never a KDF input.
 */
const uint8_t *srv_signing_kek(const struct srv *srv);

/* The published keys as a JWKS (kty, kid, x5c, n/e). New reference. */
int srv_signing_jwks(struct srv *srv, json_t **out, struct attest_err *err);

/*
 * The same serialised (what GET /certs sends), from a cache rebuilt at most
 * once a minute and at every rotation: /certs costs a copy, not a JWK
 * encoding of every certificate. *out is malloc'd.
 */
int srv_signing_jwks_text(struct srv *srv, char **out, size_t *len, struct attest_err *err);

/*
 * Signs claims as a JWT with the active key: header {alg RS256, jku
 * <base_url>/certs, kid, typ JWT} as MAA sends (reference §2.1).
 */
int srv_signing_sign(struct srv *srv, const char *base_url, const json_t *claims, char **out, struct attest_err *err);

/*
 * Re-reads the keys from the store (another node rotated them): new kids are
 * imported, the newest becomes current, the /certs cache is dropped.
 */
int srv_signing_reload(struct srv *srv, struct attest_err *err);

/* Rotates: a new active key; the old one stays published until not_after. */
int srv_signing_rotate(struct srv *srv, const char *actor, struct attest_err *err);

/*
 * A provider's own signing keys (issue 9): a provider that has any signs
 * and publishes with them; every other provider uses the service keys.
 * The first srv_signing_rotate_provider gives a provider its own key.
 */
int srv_signing_sign_provider(struct srv *srv, const char *provider, const char *base_url, const json_t *claims,
			      char **out, struct attest_err *err);
/* What GET /certs serves for provider (its own keys, else the service's). *out malloc'd. */
int srv_signing_jwks_provider(struct srv *srv, const char *provider, char **out, size_t *len,
			      struct attest_err *err);
int srv_signing_rotate_provider(struct srv *srv, const char *provider, const char *actor, struct attest_err *err);

#endif
