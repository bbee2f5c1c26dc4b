/*
 * Anonymous service metadata: the signing keys (GET /certs), OpenID
 * discovery (MAA §1.6), health and metrics.
 */
#include "collateral/cached.h"
#include "keys/keys.h"
#include "server/http.h"
#include "server/httpd.h"
#include "server/metrics.h"
#include "server/pipeline.h"
#include "server/pipeline_routes.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/signing.h"
#include "base/timeutil.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* Claims a relying party can expect in our tokens (MAA's list, reference §1.6, plus §2.2's). */
static const char *const CLAIMS_SUPPORTED[] = {
	"cnf", "nonce", "x-ms-ver", "x-ms-attestation-type", "x-ms-policy-hash", "x-ms-policy-signer",
	"x-ms-sgx-is-debuggable", "x-ms-sgx-mrenclave", "x-ms-sgx-mrsigner", "x-ms-sgx-svn", "x-ms-sgx-ehd",
	"x-ms-sgx-collateral", "x-ms-sgx-product-id", "x-ms-runtime", "x-ms-inittime", "x-ms-policy",
	"is-debuggable", "sgx-mrsigner", "sgx-mrenclave", "product-id", "svn", "tee", NULL,
};

static void get_certs(struct http_request *req, struct http_response *resp, void *arg)
{
	struct attest_err err = {0};
	char *text = NULL;
	size_t len = 0;

	(void)arg;
	if (srv_signing_jwks_provider(req->srv, req->provider ? req->provider->name : NULL, &text, &len, &err) !=
	    ATTEST_OK) {
		http_resp_error_from(resp, 500, "InternalError", &err);
		return;
	}
	http_resp_bytes(resp, 200, "application/json; charset=utf-8", text, len);
	free(text);
}

static void get_openid(struct http_request *req, struct http_response *resp, void *arg)
{
	json_t *doc, *claims = json_array();
	char uri[600];

	(void)arg;
	for (size_t i = 0; CLAIMS_SUPPORTED[i] != NULL; i++)
		json_array_append_new(claims, json_string(CLAIMS_SUPPORTED[i]));
	doc = json_object();
	json_object_set_new(doc, "issuer", json_string(req->base_url));
	snprintf(uri, sizeof(uri), "%s/certs", req->base_url);
	json_object_set_new(doc, "jwks_uri", json_string(uri));
	snprintf(uri, sizeof(uri), "%s/revoke", req->base_url);
	json_object_set_new(doc, "revocation_endpoint", json_string(uri));
	json_object_set_new(doc, "response_types_supported", json_pack("[ss]", "token", "none"));
	json_object_set_new(doc, "id_token_signing_alg_values_supported", json_pack("[s]", "RS256"));
	json_object_set_new(doc, "token_endpoint_auth_methods_supported", json_pack("[s]", "none"));
	json_object_set_new(doc, "claims_supported", claims);
	http_resp_json(resp, 200, doc);
	json_decref(doc);
}

static void get_healthz(struct http_request *req, struct http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_bytes(resp, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/* Ready = started, keys loaded and the store answering. */
static void get_readyz(struct http_request *req, struct http_response *resp, void *arg)
{
	struct attest_err err = {0};
	int v = 0;

	(void)arg;
	if (!req->srv->ready) {
		http_resp_error(resp, 503, "ServiceUnavailable", "attestd is starting or shutting down");
		return;
	}
	if (store_schema_version(req->srv->store, &v, &err) != ATTEST_OK) {
		http_resp_error_from(resp, 503, "ServiceUnavailable", &err);
		return;
	}
	http_resp_bytes(resp, 200, "text/plain; charset=utf-8", "ready\n", 6);
}

/*
 * The secure heap holding private keys (src/keys): OpenSSL 3.0 does not fall
 * back to the normal heap when it is full, so key loads and rotations would
 * fail; alert well before (docs/operations.md).
 */
static void secure_heap_metrics(struct buf *out)
{
	size_t used = 0, size = 0;
	char line[512];
	int n;

	keys_secure_heap_usage(&used, &size);
	n = snprintf(line, sizeof(line),
		     "# HELP attestd_secure_heap_bytes Size of the secure heap that holds private keys.\n"
		     "# TYPE attestd_secure_heap_bytes gauge\nattestd_secure_heap_bytes %zu\n"
		     "# HELP attestd_secure_heap_used_bytes Bytes of it in use.\n"
		     "# TYPE attestd_secure_heap_used_bytes gauge\nattestd_secure_heap_used_bytes %zu\n",
		     size, used);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)buf_append(out, line, (size_t)n);
}

static void get_metrics(struct http_request *req, struct http_response *resp, void *arg)
{
	const struct pipeline_routes *pr = req->srv->pipeline;
	struct buf out;

	(void)arg;
	buf_init(&out, HTTP_RESP_BODY_MAX);
	srv_metrics_render(req->srv->metrics, &out, req->srv->httpd ? httpd_inflight(req->srv->httpd) : 0,
			   time_now() - req->srv->started);
	if (pr != NULL && pr->ctx != NULL && pr->ctx->collateral != NULL)
		cached_source_metrics(pr->ctx->collateral, &out); /* nothing unless it is the caching source */
	if (pr != NULL && pr->ctx != NULL)
		pipeline_tpm_metrics(pr->ctx, &out);
	secure_heap_metrics(&out);
	http_resp_bytes(resp, 200, "text/plain; version=0.0.4; charset=utf-8", out.p, out.len);
	buf_free(&out);
}

int routes_meta_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	int rc;

	(void)srv;
	/* A trailing '/' is accepted by the router itself (Gramine asks for /certs/). */
	rc = http_router_add(r, "GET", "/certs", 0, get_certs, NULL, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "GET", "/.well-known/openid-configuration", 0, get_openid, NULL, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "GET", "/healthz", HTTP_ROUTE_SERVICE, get_healthz, NULL, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "GET", "/readyz", HTTP_ROUTE_SERVICE, get_readyz, NULL, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "GET", "/metrics", HTTP_ROUTE_SERVICE, get_metrics, NULL, err);
	return rc;
}
