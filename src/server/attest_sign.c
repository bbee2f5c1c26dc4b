/*
 * Token signing for the attest, policy and certificate routes
 * (attest_mgmt.h): the service keyring signs with header
 * {"alg":"RS256","jku":<issuer>/certs,"kid":<active kid>,"typ":"JWT"}.
 *
 * The keyring (src/keys) is not in the tree yet: until it is, signing
 * fails with a clear error (500) instead of issuing tokens no /certs
 * key can verify.
 */
#include "server/attest_mgmt.h"

int attest_sign(struct http_request *req, const char *jku, const json_t *claims, char **jwt,
		struct attest_err *err)
{
	(void)req;
	(void)jku;
	(void)claims;
	(void)jwt;
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "attest.sign.keyring",
			      "token signing needs the keyring (src/keys), which this build lacks");
}
