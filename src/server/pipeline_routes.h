#ifndef ATTEST_SERVER_PIPELINE_ROUTES_H
#define ATTEST_SERVER_PIPELINE_ROUTES_H

/*
 * The attest pipeline as attestd serves it: pipeline_routes_register()
 * (the hook http.h declares) builds the long-lived pipeline state from the
 * configuration (trust anchors, collateral folder) and registers
 * POST /attest/{type}, the policy routes and the certificate routes.
 */

#include "server/pipeline.h"
#include "token/catalogue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct srv;

/*
 * The provider policies last read from the store, so an attestation costs
 * no database read (ARCHITECTURE.md: nothing on the hot path). A view is
 * read again when this node changes that policy (it is marked, not
 * dropped), and after PIPELINE_POLICY_VIEW_TTL_MS anyway, so a change made
 * through another node sharing the store is in force here within that
 * time. While the store is unreachable, the last view loaded stays in
 * force (degraded operation, issue 11); a type this node never loaded
 * answers 503. One view per (provider, type), PIPELINE_POLICY_VIEWS at
 * most, on the one cache skeleton (base/lru.h) in store order: full, the
 * view loaded longest ago goes.
 */
#define PIPELINE_POLICY_VIEWS	    128
#define PIPELINE_POLICY_VIEW_TTL_MS 500

struct pipeline_policy_views;

/*
 * A provider's name as the views key it (policy and trust views): a name
 * under PIPELINE_VIEW_NAME_INLINE characters as it is, a longer one by its
 * SHA-256, computed once per request and shared by its lookups.
 */
#define PIPELINE_VIEW_NAME_INLINE 31

struct pipeline_view_name {
	const char *name; /* borrowed: must outlive the struct */
	size_t len;
	bool hashed; /* digest is the name's SHA-256 (len >= PIPELINE_VIEW_NAME_INLINE) */
	uint8_t digest[32];
};

/* Fills vn for name (borrowed); false when the name has 64 characters or more (no view is kept of it). */
bool pipeline_view_name_init(struct pipeline_view_name *vn, const char *name);

/* PIPELINE_POLICY_VIEWS views; NULL out of memory. Free with pipeline_policy_views_free (NULL is fine). */
struct pipeline_policy_views *pipeline_policy_views_new(void);
void pipeline_policy_views_free(struct pipeline_policy_views *v);

/*
 * The view of (provider, type), copied out: *text (NULL: the type's
 * default) and *signer (the signer's JWK text, or NULL), both malloc'd,
 * the caller's. any_age false: only a view loaded within
 * PIPELINE_POLICY_VIEW_TTL_MS before now_ns and not marked changed since;
 * true (the store is unreachable): whatever its age, *first_stale saying
 * whether this is the first time the view is served so (to be logged
 * once). ATTEST_OK, ATTEST_E_NOT_FOUND (no such view), ATTEST_E_NOMEM.
 * Thread-safe, as the two below.
 */
int pipeline_policy_view_get(struct pipeline_policy_views *v, const struct pipeline_view_name *provider,
			     enum maa_type type, uint64_t now_ns, bool any_age, char **text, char **signer,
			     bool *first_stale);
/*
 * Remembers what the store said for (provider, type) at now_ns (text NULL:
 * no policy set, the default), replacing that view; full, the view loaded
 * longest ago goes. Best effort: out of memory only skips the cache.
 */
void pipeline_policy_view_put(struct pipeline_policy_views *v, const struct pipeline_view_name *provider,
			      enum maa_type type, const char *text, const char *signer, uint64_t now_ns);
/* Marks the view of (provider, type) changed: read again at its next use, kept as the fallback. */
void pipeline_policy_view_changed(struct pipeline_policy_views *v, const struct pipeline_view_name *provider,
				  enum maa_type type);

/*
 * The providers' registered trust (provider_trust.h) parsed once per
 * settings text: one view per provider, holding the SHA-256 of the
 * settings it was parsed from, so any change (through any node) is parsed
 * again and replaces the provider's view; full, the least recently used
 * view is replaced. Views are reference-counted: a request keeps the one
 * it took even if another request replaces it meanwhile. An lru (base/lru.h)
 * of PIPELINE_TRUST_VIEWS entries (pipeline_routes.c).
 */
#define PIPELINE_TRUST_VIEWS 64

struct lru;

struct pipeline_routes {
	struct srv *srv;
	struct pipeline_ctx *ctx;
	pthread_mutex_t views_lock;
	struct pipeline_policy_views *policies; /* the policy views (above); their own lock */
	uint64_t settings_warned_ns;		/* last "unreadable provider settings" log line (views_lock) */
	struct lru *trusts;			/* the trust views (above); its own lock */
};

struct store;

/*
 * Loads the TPM context master key from st (creating it, sealed under
 * kek, when the store has none; retiring the plaintext row of earlier
 * versions) and gives ctx its context keys (pipeline_ctx_set_tpm_key).
 * kek: the KEK's 32 bytes (srv_signing_kek); kek_name: its file, named in
 * errors. Errors: pipeline.tpm.key.nokek (no KEK), .malformed (the row),
 * .kek (the row is sealed under another KEK), .internal (RAND/AES-GCM),
 * pipeline.tpm.key (the context keys cannot be set up), store.*.
 */
int pipeline_tpm_key_load(struct pipeline_ctx *ctx, struct store *st, const uint8_t *kek, const char *kek_name,
			  struct attest_err *err);

/*
 * Tells the pipeline a provider's policy for a type changed (after the
 * store committed it), so no cached view of it outlives the change.
 */
void pipeline_routes_policy_changed(struct pipeline_routes *pr, const char *provider, enum maa_type type);

#endif
