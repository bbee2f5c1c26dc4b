/*
 * Token signing for the attest, policy and certificate routes
 * (attest_mgmt.h) through the server's keyring adapter (signing.h):
 * header {"alg":"RS256","jku":<issuer>/certs,"kid":<active kid>,"typ":"JWT"}.
 * The claims are handed over with their members in name order, so the
 * payload text has the member order of real MAA tokens (which the signer
 * keeps: it serialises in insertion order).
 */
#include "server/attest_mgmt.h"

#include "server/signing.h"
#include "token/token.h"

int attest_sign(struct http_request *req, const char *jku, const json_t *claims, char **jwt,
		struct attest_err *err)
{
	json_t *sorted = token_json_sorted(claims);
	int rc;

	(void)jku; /* the adapter derives it from the base URL */
	if (sorted == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory signing a token");
	rc = srv_signing_sign(req->srv, req->base_url, sorted, jwt, err);
	json_decref(sorted);
	return rc;
}
