/*
 * Token signing for the attest, policy and certificate routes
 * (attest_mgmt.h) through the server's keyring adapter (signing.h), with
 * the provider's own key when it has one (published at its /certs):
 * header {"alg":"RS256","jku":<issuer>/certs,"kid":<active kid>,"typ":"JWT"}.
 * The signer serialises the claims compactly with sorted member names, so
 * the payload reads byte for byte like a real MAA token's.
 */
#include "server/attest_mgmt.h"

#include "server/signing.h"
#include "store/store.h"

int attest_sign(struct http_request *req, const char *jku, const json_t *claims, char **jwt,
		struct attest_err *err)
{
	(void)jku; /* the adapter derives it from the base URL */
	/* the provider's own key when it has one, else the service key */
	return srv_signing_sign_provider(req->srv, req->provider->name, req->base_url, claims, jwt, err);
}
