#ifndef ATTEST_STORE_STORE_H
#define ATTEST_STORE_STORE_H

/*
 * attestd's persistent state behind one interface (ARCHITECTURE.md "State").
 *
 * A `struct store` is a handle on one backend: SQLite (store_sqlite.c, the
 * embedded default) today, PostgreSQL later. Callers use the store_* wrappers
 * below, never the ops table directly, so a backend is a table of function
 * pointers and nothing else.
 *
 * Contract common to every backend:
 *  - Every write is one transaction: either everything it changes (including
 *    its audit row, when an audit record is given) is committed, or nothing.
 *  - A handle is safe to use from several threads at once (the server's
 *    worker pool shares one); readers do not block each other.
 *  - Out parameters are filled only on success; what they point to is owned
 *    by the caller and freed with the matching *_free function.
 *  - Errors: ATTEST_E_NOT_FOUND (store.<thing>.not_found), ATTEST_E_CONFLICT
 *    (store.<thing>.exists), ATTEST_E_INVALID (bad argument), ATTEST_E_IO
 *    (store.io: the database failed; the message carries its words).
 *
 * Mutating calls take an optional `const struct store_audit *`: when given,
 * one row is appended to the tamper-evident audit log in the same
 * transaction, so a management operation is on record before it is
 * acknowledged (issue 9).
 */

#include "attest/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounded names (they become URL segments, host labels and metric labels). */
#define STORE_NAME_MAX 64
#define STORE_TYPE_MAX 32
#define STORE_KID_MAX 128
#define STORE_ACTOR_MAX 128
#define STORE_ACTION_MAX 64

/* Provider (tenant) authentication mode, MAA §1.9. */
enum store_provider_mode {
	STORE_MODE_AAD = 0,      /* bearer auth; unsigned or signed policies */
	STORE_MODE_ISOLATED = 1, /* bearer auth and policies signed by a trusted signer */
	STORE_MODE_SHARED = 2,   /* read-only default policies, anonymous attest */
};

const char *store_mode_name(enum store_provider_mode mode); /* "aad", "isolated", "shared" */
int store_mode_parse(const char *s, enum store_provider_mode *out);

/* A policy-management certificate of a provider (MAA §1.5). */
struct store_cert {
	char provider[STORE_NAME_MAX];
	char thumbprint[41]; /* hex SHA-1 of der */
	uint8_t *der;
	size_t der_len;
	int64_t added;
};

struct store_provider {
	char name[STORE_NAME_MAX];
	enum store_provider_mode mode;
	int64_t created;
	int64_t updated;
	char *settings_json; /* a JSON object as text (malloc'd), never NULL once read */
	/* store_provider_create only: policy-management certificates added in the same transaction. */
	const struct store_cert *initial_certs;
	size_t n_initial_certs;
};

/* One version of a policy for (provider, attestation type). */
struct store_policy {
	char provider[STORE_NAME_MAX];
	char type[STORE_TYPE_MAX];
	int64_t version;   /* 1, 2, ... assigned by the store */
	char *text;        /* policy text; NULL for a reset (back to the default) */
	char *jws;         /* the JWS as submitted (may be NULL) */
	uint8_t hash[32];  /* x-ms-policy-token-hash or policy hash, as the caller computes it */
	size_t hash_len;   /* 0..32 */
	char *signer;      /* signer description (JWK JSON of the signing cert), may be NULL */
	int64_t created;
};


enum store_key_state {
	STORE_KEY_ACTIVE = 0,   /* signs new tokens, published */
	STORE_KEY_RETIRING = 1, /* published until not_after so old tokens verify */
	STORE_KEY_RETIRED = 2,  /* neither */
};

/* A token-signing key: its private part encrypted by keys/ under the KEK. */
struct store_key {
	char kid[STORE_KID_MAX];
	char provider[STORE_NAME_MAX]; /* "" = service-wide key */
	uint8_t *blob;                 /* encrypted export blob (opaque to the store) */
	size_t blob_len;
	int64_t created;
	int64_t not_after; /* publish until (0 = unbounded) */
	enum store_key_state state;
};

/* A cached collateral document (PCK CRL, TCB info, VCEK, ...). */
struct store_collateral {
	char *key; /* what it covers, e.g. "sgx/tcb/00906ED50000" */
	uint8_t *bytes;
	size_t len;
	int64_t issue_date;
	int64_t next_update;
};

/* What a mutating call records in the audit log. */
struct store_audit {
	const char *actor;    /* who: "bootstrap-admin", a token subject, ... */
	const char *action;   /* what: "provider.create", "policy.set", ... */
	const char *provider; /* which provider ("" or NULL = service-wide) */
	const char *detail;   /* JSON object text with the specifics, or NULL */
	int64_t time;         /* when (the server's clock) */
};

/* One audit row as read back. */
struct store_audit_row {
	int64_t seq;
	int64_t time;
	char actor[STORE_ACTOR_MAX];
	char action[STORE_ACTION_MAX];
	char provider[STORE_NAME_MAX];
	char *detail;
	uint8_t prev_hash[32];
	uint8_t hash[32];
};

struct store;

/*
 * The backend's function table. Every entry is required. Semantics are
 * those of the store_* wrapper of the same name below.
 */
struct store_ops {
	const char *name; /* "sqlite", "postgres" */
	void (*close)(struct store *st);
	int (*schema_version)(struct store *st, int *out, struct attest_err *err);

	int (*meta_get)(struct store *st, const char *key, char **out, struct attest_err *err);
	int (*meta_put)(struct store *st, const char *key, const char *value, bool only_if_absent,
			const struct store_audit *audit, struct attest_err *err);

	int (*provider_create)(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			       struct attest_err *err);
	int (*provider_get)(struct store *st, const char *name, struct store_provider *out, struct attest_err *err);
	int (*provider_list)(struct store *st, struct store_provider **out, size_t *n, struct attest_err *err);
	int (*provider_update)(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			       struct attest_err *err);
	int (*provider_delete)(struct store *st, const char *name, const struct store_audit *audit,
			       struct attest_err *err);

	int (*policy_put)(struct store *st, struct store_policy *p, const struct store_audit *audit,
			  struct attest_err *err);
	int (*policy_get)(struct store *st, const char *provider, const char *type, struct store_policy *out,
			  struct attest_err *err);
	int (*policy_history)(struct store *st, const char *provider, const char *type, struct store_policy **out,
			      size_t *n, struct attest_err *err);

	int (*cert_add)(struct store *st, const struct store_cert *c, bool *added, const struct store_audit *audit,
			struct attest_err *err);
	int (*cert_remove)(struct store *st, const char *provider, const char *thumbprint, bool *removed,
			   const struct store_audit *audit, struct attest_err *err);
	int (*cert_list)(struct store *st, const char *provider, struct store_cert **out, size_t *n,
			 struct attest_err *err);

	int (*key_put)(struct store *st, const struct store_key *k, const struct store_audit *audit,
		       struct attest_err *err);
	int (*key_set_state)(struct store *st, const char *kid, enum store_key_state state, int64_t not_after,
			     const struct store_audit *audit, struct attest_err *err);
	int (*key_list)(struct store *st, const char *provider, struct store_key **out, size_t *n,
			struct attest_err *err);

	int (*collateral_put)(struct store *st, const struct store_collateral *items, size_t n,
			      const struct store_audit *audit, struct attest_err *err);
	int (*collateral_get)(struct store *st, const char *key, struct store_collateral *out, struct attest_err *err);
	int (*collateral_purge)(struct store *st, int64_t before, size_t *purged, struct attest_err *err);
	int (*collateral_page)(struct store *st, const char *after, size_t max, struct store_collateral **out, size_t *n,
			       struct attest_err *err);

	int (*audit_append)(struct store *st, const struct store_audit *audit, struct attest_err *err);
	int (*audit_list)(struct store *st, int64_t after_seq, size_t max, struct store_audit_row **out, size_t *n,
			  struct attest_err *err);
	int (*audit_verify)(struct store *st, int64_t *rows, struct attest_err *err);

	/* Test hook: the next write fails just before its commit (see store_fault_next_commit). */
	void (*fault_next_commit)(struct store *st);
	/* Test hook: deletes every row (schema kept), so one database serves many tests. */
	int (*test_reset)(struct store *st, struct attest_err *err);
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

/* ---- Opening ----------------------------------------------------------- */

struct store_open_opts {
	/*
	 * Readers the handle keeps open side by side (SQLite: connections in its
	 * pool). 0 = 4.
	 */
	int max_connections;
	/* Milliseconds a writer waits for another writer's lock. 0 = 5000. */
	int busy_timeout_ms;
};

/*
 * Opens the store named by uri and brings its schema to the newest version
 * (each migration in its own transaction, in order; a no-op when current).
 *   "sqlite:<path>" or a bare path  the SQLite backend; the file and its
 *                                   WAL/SHM companions are created 0600, the
 *                                   parent folder must exist.
 *   "postgres://...", "postgresql://...", "pg:<conninfo>"  PostgreSQL.
 * Errors: store.uri (unknown scheme), store.open, store.migrate,
 * store.schema.newer (the file was written by a newer attestd).
 */
int store_open(const char *uri, const struct store_open_opts *opts, struct store **out, struct attest_err *err);
void store_close(struct store *st);

/* The SQLite backend directly (what store_open calls for sqlite: URIs). */
int store_sqlite_open(const char *path, const struct store_open_opts *opts, struct store **out,
		      struct attest_err *err);
/*
 * The PostgreSQL backend (store_pg.c, issue 11): what store_open calls for
 * "postgres://", "postgresql://" URIs and "pg:<libpq conninfo>".
 */
int store_pg_open(const char *conninfo, const struct store_open_opts *opts, struct store **out,
		  struct attest_err *err);

/* Newest schema version this build knows. */
int store_schema_latest(void);

/*
 * Creates dir (and missing parents) with mode 0700; an existing folder is
 * tightened to 0700 if it is ours. Errors: store.datadir.
 */
int store_make_private_dir(const char *dir, struct attest_err *err);

/* ---- Wrappers (one per op; see the contract above) ---------------------- */

int store_schema_version(struct store *st, int *out, struct attest_err *err);

/* Service-wide settings (bootstrap credential digest, instance id, ...). *out malloc'd. */
int store_meta_get(struct store *st, const char *key, char **out, struct attest_err *err);
/*
 * Sets key = value. With only_if_absent, an existing key is left alone and
 * the call fails with ATTEST_E_CONFLICT (store.meta.exists): first-start
 * races between two processes resolve to one winner.
 */
int store_meta_put(struct store *st, const char *key, const char *value, bool only_if_absent,
		   const struct store_audit *audit, struct attest_err *err);

/* Creates; the store sets created = updated = audit time (or now). Errors: store.provider.exists. */
int store_provider_create(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			  struct attest_err *err);
int store_provider_get(struct store *st, const char *name, struct store_provider *out, struct attest_err *err);
/* All providers, by name. *out is an array of *n (store_provider_list_free). */
int store_provider_list(struct store *st, struct store_provider **out, size_t *n, struct attest_err *err);
/* Replaces mode and settings of an existing provider. Errors: store.provider.not_found. */
int store_provider_update(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			  struct attest_err *err);
/* Deletes a provider with its policies and certificates (its history stays in the audit log). */
int store_provider_delete(struct store *st, const char *name, const struct store_audit *audit,
			  struct attest_err *err);
void store_provider_clear(struct store_provider *p);
void store_provider_list_free(struct store_provider *list, size_t n);

/*
 * Appends a new version of the policy of (p->provider, p->type); the store
 * assigns p->version and p->created (from the audit time, or now). The
 * provider must exist (store.provider.not_found).
 */
int store_policy_put(struct store *st, struct store_policy *p, const struct store_audit *audit,
		     struct attest_err *err);
/* The newest version. Errors: store.policy.not_found (never set: use the default). */
int store_policy_get(struct store *st, const char *provider, const char *type, struct store_policy *out,
		     struct attest_err *err);
/* Every version, oldest first. */
int store_policy_history(struct store *st, const char *provider, const char *type, struct store_policy **out,
			 size_t *n, struct attest_err *err);
void store_policy_clear(struct store_policy *p);
void store_policy_list_free(struct store_policy *list, size_t n);

/* Idempotent (MAA §1.5): *added says whether it was new. */
int store_cert_add(struct store *st, const struct store_cert *c, bool *added, const struct store_audit *audit,
		   struct attest_err *err);
int store_cert_remove(struct store *st, const char *provider, const char *thumbprint, bool *removed,
		      const struct store_audit *audit, struct attest_err *err);
int store_cert_list(struct store *st, const char *provider, struct store_cert **out, size_t *n,
		    struct attest_err *err);
void store_cert_list_free(struct store_cert *list, size_t n);

int store_key_put(struct store *st, const struct store_key *k, const struct store_audit *audit,
		  struct attest_err *err);
int store_key_set_state(struct store *st, const char *kid, enum store_key_state state, int64_t not_after,
			const struct store_audit *audit, struct attest_err *err);
/* Keys of provider ("" = service-wide), oldest first, retired ones included. */
int store_key_list(struct store *st, const char *provider, struct store_key **out, size_t *n,
		   struct attest_err *err);
void store_key_list_free(struct store_key *list, size_t n);

/* Inserts or replaces the entry of c->key. */
int store_collateral_put(struct store *st, const struct store_collateral *c, struct attest_err *err);
/*
 * Inserts or replaces n entries and records audit (NULL: none) in one
 * transaction: all of them are stored, with their audit row, or none.
 */
int store_collateral_put_many(struct store *st, const struct store_collateral *items, size_t n,
			      const struct store_audit *audit, struct attest_err *err);
int store_collateral_get(struct store *st, const char *key, struct store_collateral *out, struct attest_err *err);
/* Deletes entries whose next_update is before `before`. */
int store_collateral_purge(struct store *st, int64_t before, size_t *purged, struct attest_err *err);
void store_collateral_clear(struct store_collateral *c);
/* Every entry, ordered by key (an export of the cache). *out is an array of *n (store_collateral_list_free). */
int store_collateral_list(struct store *st, struct store_collateral **out, size_t *n, struct attest_err *err);
/*
 * One page of that list, read by a keyset query (key > after ORDER BY key
 * LIMIT max): the entries whose key comes after `after` (NULL: from the
 * first) in byte order, at most max of them (0: no limit). A caller paging
 * through passes the last key of a page as the next page's `after`; each
 * page reads only its own rows. *out as store_collateral_list's.
 */
int store_collateral_page(struct store *st, const char *after, size_t max, struct store_collateral **out,
			  size_t *n, struct attest_err *err);
void store_collateral_list_free(struct store_collateral *list, size_t n);

/*
 * Audit log. Row k carries hash_k = SHA-256(hash_{k-1} || canonical(row k))
 * (hash_0 = 32 zero bytes); see store_audit_hash. store_audit_verify walks
 * the whole log and fails with store.audit.tampered naming the first row
 * that does not chain (an edited, inserted or deleted row), or
 * store.audit.truncated when rows past the recorded head are missing.
 * *rows receives the number of rows checked.
 */
int store_audit_append(struct store *st, const struct store_audit *audit, struct attest_err *err);
int store_audit_list(struct store *st, int64_t after_seq, size_t max, struct store_audit_row **out, size_t *n,
		     struct attest_err *err);
int store_audit_verify(struct store *st, int64_t *rows, struct attest_err *err);
void store_audit_list_free(struct store_audit_row *list, size_t n);

/* The chain hash of one row (shared by every backend so logs verify anywhere). */
int store_audit_hash(const uint8_t prev[32], int64_t seq, int64_t time, const char *actor, const char *action,
		     const char *provider, const char *detail, uint8_t out[32]);

/* Test hook: makes the next write of this handle fail just before commit. */
void store_fault_next_commit(struct store *st);
/* Test hook: empties every table (audit log included). Errors: store.unsupported. */
int store_test_reset(struct store *st, struct attest_err *err);

#endif
