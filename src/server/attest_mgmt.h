#ifndef ATTEST_SERVER_ATTEST_MGMT_H
#define ATTEST_SERVER_ATTEST_MGMT_H

/*
 * What the attest, policy and certificate routes share: signing a token
 * with the service keyring (MAA header: alg, jku = <issuer>/certs, kid,
 * typ), answering {"token": ...}, resolving the {type} of a path, and
 * deciding whether a JWS signer is one of a provider's trusted
 * policy-management certificates (isolated mode, maa-interface.md §1.9).
 */

#include "attest/error.h"
#include "server/http.h"
#include "token/catalogue.h"

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>

struct store;

/* Signs claims for req's provider; *jwt malloc'd. Errors: keys.* / attest.sign. */
int attest_sign(struct http_request *req, const char *jku, const json_t *claims, char **jwt,
		struct attest_err *err);

/* Signs claims and answers 200 {"token": jwt}; a failure answers 500. */
void attest_respond_token(struct http_request *req, struct http_response *resp, const json_t *claims);

/*
 * The attestation type named by the {type} path parameter. On failure
 * answers 400 InvalidParameter naming the supported types and returns
 * false.
 */
bool attest_route_type(struct http_request *req, struct http_response *resp, enum maa_type *out);

/* Upper-case hex SHA-1 of a certificate's DER (MAA's thumbprint, §1.5), 41 bytes. */
int attest_cert_thumbprint(X509 *cert, char out[41]);

/*
 * Is the signer of a policy or certificate JWS trusted by the provider?
 * x5c: the JWS header's certificates (leaf first, already checked to have
 * signed). Trusted when the leaf is one of the provider's certificates, or
 * when the x5c chain from the leaf verifies at `now` up to a certificate
 * of the provider (which must then be a CA). Errors (ATTEST_E_DENIED):
 * attest.signer.untrusted, attest.signer.none (no x5c); store errors.
 */
int attest_signer_trusted(struct store *st, const char *provider, STACK_OF(X509) * x5c, int64_t now,
			  struct attest_err *err);

/* The stack of certificates of a JSON x5c array (standard base64 DER). Errors: attest.x5c. */
int attest_x5c_parse(const json_t *x5c, STACK_OF(X509) * *out, struct attest_err *err);

/*
 * Answers a failure of the store or of a lookup in it: an unreachable
 * store (ATTEST_E_IO, e.g. store.unavailable) is 503 ServiceUnavailable
 * with Retry-After, a missing object 404 NotFound, anything else 500.
 */
void attest_respond_store_error(struct http_response *resp, const struct attest_err *err);

/* Audit record actor for req: the authenticated subject, or "anonymous". */
const char *attest_actor(const struct http_request *req);

#endif
