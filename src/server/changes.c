/* Cache invalidation from the store's change notifications (changes.h). */
#include "server/changes.h"

#include "server/httpd.h"
#include "server/server.h"
#include "server/signing.h"
#include "store/store.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ATTEST_HAVE_PG
#include "server/pipeline_routes.h"
#include "store/store_pg.h"
#include "token/catalogue.h"

#include <pthread.h>
#include <time.h>

struct srv_changes {
	struct srv *srv;
	char conninfo[1024];
	pthread_t thread;
	atomic_int stop;
};

static void apply(struct srv *srv, const char *payload)
{
	if (strncmp(payload, "provider:", 9) == 0) {
		httpd_provider_changed(srv->httpd, payload + 9);
	} else if (strncmp(payload, "policy:", 7) == 0 && srv->pipeline != NULL) {
		/* "policy:<provider>/<type>": the pipeline drops its view of that policy at once. */
		const char *prov = payload + 7, *slash = strchr(prov, '/');
		char name[STORE_NAME_MAX];
		enum maa_type t;
		if (slash != NULL && (size_t)(slash - prov) < sizeof(name) &&
		    maa_type_from_name(slash + 1, strlen(slash + 1), &t) == 0) {
			memcpy(name, prov, (size_t)(slash - prov));
			name[slash - prov] = '\0';
			pipeline_routes_policy_changed(srv->pipeline, name, t);
		}
	} else if (strncmp(payload, "key:", 4) == 0) {
		struct attest_err err = {0};
		if (srv_signing_reload(srv, &err) != ATTEST_OK)
			srv_log(&srv->log, SRV_LOG_WARN, "cannot reload signing keys after %s: %s", payload, err.msg);
	}
	/* cert: and meta: are read from the store on use. */
}

static void *listen_loop(void *arg)
{
	struct srv_changes *c = arg;
	struct store_pg_listener *l = NULL;
	char payload[512];

	while (!atomic_load(&c->stop)) {
		struct attest_err err = {0};
		if (l == NULL && store_pg_listener_open(c->conninfo, &l, &err) != ATTEST_OK) {
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
			continue;
		}
		int rc = store_pg_listener_wait(l, 250, payload, sizeof(payload), &err);
		if (rc == ATTEST_OK) {
			apply(c->srv, payload);
		} else if (rc != ATTEST_E_NOT_FOUND) {
			/*
			 * Lost: changes may have been missed. Providers expire from
			 * the cache within a second anyway (and are served stale only
			 * while the store is down); the keys are re-read when the store
			 * answers again (a failed reload keeps the keys in use).
			 */
			srv_log(&c->srv->log, SRV_LOG_WARN, "store change listener lost (%s); reloading keys", err.msg);
			store_pg_listener_free(l);
			l = NULL;
			attest_err_clear(&err);
			srv_signing_reload(c->srv, &err);
		}
	}
	store_pg_listener_free(l);
	return NULL;
}

int srv_changes_start(struct srv *srv, struct srv_changes **out, struct attest_err *err)
{
	const char *uri = srv->cfg->store_uri;
	struct srv_changes *c;

	*out = NULL;
	if (strncmp(uri, "postgres://", 11) != 0 && strncmp(uri, "postgresql://", 13) != 0 && strncmp(uri, "pg:", 3) != 0)
		return ATTEST_OK;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "server.changes", "out of memory");
	c->srv = srv;
	snprintf(c->conninfo, sizeof(c->conninfo), "%s", strncmp(uri, "pg:", 3) == 0 ? uri + 3 : uri);
	atomic_init(&c->stop, 0);
	if (pthread_create(&c->thread, NULL, listen_loop, c) != 0) {
		free(c);
		return attest_err_set(err, ATTEST_E_INTERNAL, "server.changes", "cannot start the change listener");
	}
	srv_log(&srv->log, SRV_LOG_INFO, "listening for changes made by other nodes");
	*out = c;
	return ATTEST_OK;
}

void srv_changes_stop(struct srv_changes *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->stop, 1);
	pthread_join(c->thread, NULL);
	free(c);
}

#else

int srv_changes_start(struct srv *srv, struct srv_changes **out, struct attest_err *err)
{
	(void)srv;
	(void)err;
	*out = NULL;
	return ATTEST_OK;
}

void srv_changes_stop(struct srv_changes *c)
{
	(void)c;
}

#endif
