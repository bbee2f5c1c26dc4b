/*
 * The adapter between attestd and keys/ (signing.h). While this build has
 * no keys module, /certs publishes an empty key set and signing fails with
 * signing.unavailable, so the rest of the server still runs.
 */
#include "server/signing.h"

#include "server/server.h"

#if __has_include("keys/keyring.h")
#define HAVE_KEYS 1
#include "keys/keyring.h"
#endif

#include <stdlib.h>

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

int srv_signing_jwks(struct srv *srv, json_t **out, struct attest_err *err)
{
	(void)srv;
	(void)err;
	*out = json_pack("{s:[]}", "keys");
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

int srv_signing_rotate(struct srv *srv, const char *actor, struct attest_err *err)
{
	(void)srv;
	(void)actor;
	return attest_err_set(err, ATTEST_E_UNSUPPORTED, "signing.unavailable", "this build has no keys module");
}

#endif
