#ifndef ATTEST_SERVER_HTTPD_H
#define ATTEST_SERVER_HTTPD_H

/*
 * The transport: libmicrohttpd with its TLS (GnuTLS), a pool of one worker
 * thread per core, limits, and the request pipeline of http.h (provider,
 * api-version, auth, rate limit, handler, headers, log line, metrics).
 */

#include "attest/error.h"
#include "server/server.h"

#include <stdint.h>

struct httpd;

/*
 * Binds and listens on cfg->listen:cfg->port (port 0 = any): *fd is the
 * socket, *bound_port its port. Apart from httpd_start so that the
 * configuration that depends on the port (the public URL, srv_config_finish)
 * is complete before any worker serves a request. Errors: httpd.start.
 */
struct srv_config;
int httpd_listen(const struct srv_config *cfg, int *fd, int *bound_port, struct attest_err *err);

/*
 * Serves on listen_fd (httpd_listen's, then owned by the server: closed by
 * httpd_stop) with the PEM certificate chain and key given. *out is set
 * before the first worker starts. Errors: httpd.start.
 */
int httpd_start(struct srv *srv, const char *cert_pem, const char *key_pem, int listen_fd, struct httpd **out,
		struct attest_err *err);

/*
 * Graceful stop: stops accepting connections, waits up to grace_ms for the
 * requests in flight to finish, then closes everything and frees h.
 * Returns the number of requests still in flight when the grace ran out.
 */
int64_t httpd_stop(struct httpd *h, int grace_ms);

/* Forgets the cached copy of a provider (after a change or deletion); NULL forgets all. */
void httpd_provider_changed(struct httpd *h, const char *name);

/* Requests being handled now. */
int64_t httpd_inflight(const struct httpd *h);

/* The API versions accepted (MAA §1.1), NULL-terminated, and as one comma-separated string. */
extern const char *const HTTPD_API_VERSIONS[];
const char *httpd_api_versions_str(void);

#endif
