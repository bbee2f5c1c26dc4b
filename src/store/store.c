/*
 * The backend-independent half of the store: opening by URI, the wrappers
 * over the ops table, freeing what the store hands out, the audit chain
 * hash every backend shares, and the private data folder.
 */
#include "store/store.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const MODE_NAMES[] = {"aad", "isolated", "shared"};

const char *store_mode_name(enum store_provider_mode mode)
{
	if ((unsigned)mode >= sizeof(MODE_NAMES) / sizeof(MODE_NAMES[0]))
		return "unknown";
	return MODE_NAMES[mode];
}

int store_mode_parse(const char *s, enum store_provider_mode *out)
{
	for (size_t i = 0; i < sizeof(MODE_NAMES) / sizeof(MODE_NAMES[0]); i++) {
		if (s != NULL && strcmp(s, MODE_NAMES[i]) == 0) {
			*out = (enum store_provider_mode)i;
			return ATTEST_OK;
		}
	}
	return ATTEST_E_INVALID;
}

int store_open(const char *uri, const struct store_open_opts *opts, struct store **out, struct attest_err *err)
{
	const char *colon;

	if (uri == NULL || *uri == '\0')
		return attest_err_set(err, ATTEST_E_INVALID, "store.uri", "no store given");
	if (strncmp(uri, "sqlite:", 7) == 0)
		return store_sqlite_open(uri + 7, opts, out, err);
#ifdef ATTEST_HAVE_PG
	if (strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0)
		return store_pg_open(uri, opts, out, err);
	if (strncmp(uri, "pg:", 3) == 0)
		return store_pg_open(uri + 3, opts, out, err);
#endif
	colon = strchr(uri, ':');
	/* A scheme is letters before "://"; anything else is a file path. */
	if (colon != NULL && strncmp(colon, "://", 3) == 0)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "store.uri",
				      "store \"%.*s\" is not supported (known: sqlite:<path>, postgres://...)",
				      (int)(colon - uri), uri);
	return store_sqlite_open(uri, opts, out, err);
}

void store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int store_make_private_dir(const char *dir, struct attest_err *err)
{
	char path[4096];
	size_t len = strlen(dir);
	struct stat sb;

	if (len == 0 || len >= sizeof(path))
		return attest_err_set(err, ATTEST_E_INVALID, "store.datadir", "data folder path is empty or too long");
	memcpy(path, dir, len + 1);
	/* Create parents as we go, each 0700: the folder holds the KEK and keys. */
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return attest_err_set(err, ATTEST_E_IO, "store.datadir", "cannot create %s: %s", path,
					      strerror(errno));
		path[i] = c;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return attest_err_set(err, ATTEST_E_IO, "store.datadir", "%s is not a folder", dir);
	if (sb.st_uid == geteuid() && (sb.st_mode & 077) != 0 && chmod(dir, 0700) != 0)
		return attest_err_set(err, ATTEST_E_IO, "store.datadir", "cannot make %s private: %s", dir,
				      strerror(errno));
	return ATTEST_OK;
}

/* ---- wrappers ------------------------------------------------------------ */

int store_schema_version(struct store *st, int *out, struct attest_err *err)
{
	return st->ops->schema_version(st, out, err);
}

int store_meta_get(struct store *st, const char *key, char **out, struct attest_err *err)
{
	return st->ops->meta_get(st, key, out, err);
}

int store_meta_put(struct store *st, const char *key, const char *value, bool only_if_absent,
		   const struct store_audit *audit, struct attest_err *err)
{
	return st->ops->meta_put(st, key, value, only_if_absent, audit, err);
}

static int check_name(const char *name, const char *what, struct attest_err *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= STORE_NAME_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "store.name", "%s name must be 1..%d characters", what,
				      STORE_NAME_MAX - 1);
	return ATTEST_OK;
}

int store_provider_create(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			  struct attest_err *err)
{
	int rc = check_name(p->name, "provider", err);

	for (size_t i = 0; rc == ATTEST_OK && i < p->n_initial_certs; i++) {
		const struct store_cert *c = &p->initial_certs[i];
		if (c->der == NULL || c->der_len == 0 || strlen(c->thumbprint) != 40)
			rc = attest_err_set(err, ATTEST_E_INVALID, "store.cert.invalid",
					    "certificate needs DER bytes and a 40-hex-digit thumbprint");
	}
	return rc ? rc : st->ops->provider_create(st, p, audit, err);
}

int store_provider_get(struct store *st, const char *name, struct store_provider *out, struct attest_err *err)
{
	return st->ops->provider_get(st, name, out, err);
}

int store_provider_list(struct store *st, struct store_provider **out, size_t *n, struct attest_err *err)
{
	return st->ops->provider_list(st, out, n, err);
}

int store_provider_update(struct store *st, const struct store_provider *p, const struct store_audit *audit,
			  struct attest_err *err)
{
	return st->ops->provider_update(st, p, audit, err);
}

int store_provider_delete(struct store *st, const char *name, const struct store_audit *audit,
			  struct attest_err *err)
{
	return st->ops->provider_delete(st, name, audit, err);
}

int store_policy_put(struct store *st, struct store_policy *p, const struct store_audit *audit,
		     struct attest_err *err)
{
	if (p->type[0] == '\0' || p->hash_len > sizeof(p->hash))
		return attest_err_set(err, ATTEST_E_INVALID, "store.policy.invalid", "policy needs a type");
	return st->ops->policy_put(st, p, audit, err);
}

int store_policy_get(struct store *st, const char *provider, const char *type, struct store_policy *out,
		     struct attest_err *err)
{
	return st->ops->policy_get(st, provider, type, out, err);
}

int store_policy_history(struct store *st, const char *provider, const char *type, struct store_policy **out,
			 size_t *n, struct attest_err *err)
{
	return st->ops->policy_history(st, provider, type, out, n, err);
}

int store_cert_add(struct store *st, const struct store_cert *c, bool *added, const struct store_audit *audit,
		   struct attest_err *err)
{
	if (c->der == NULL || c->der_len == 0 || strlen(c->thumbprint) != 40)
		return attest_err_set(err, ATTEST_E_INVALID, "store.cert.invalid",
				      "certificate needs DER bytes and a 40-hex-digit thumbprint");
	return st->ops->cert_add(st, c, added, audit, err);
}

int store_cert_remove(struct store *st, const char *provider, const char *thumbprint, bool *removed,
		      const struct store_audit *audit, struct attest_err *err)
{
	return st->ops->cert_remove(st, provider, thumbprint, removed, audit, err);
}

int store_cert_list(struct store *st, const char *provider, struct store_cert **out, size_t *n,
		    struct attest_err *err)
{
	return st->ops->cert_list(st, provider, out, n, err);
}

int store_key_put(struct store *st, const struct store_key *k, const struct store_audit *audit,
		  struct attest_err *err)
{
	if (k->kid[0] == '\0' || k->blob == NULL || k->blob_len == 0)
		return attest_err_set(err, ATTEST_E_INVALID, "store.key.invalid", "key needs a kid and a blob");
	return st->ops->key_put(st, k, audit, err);
}

int store_key_set_state(struct store *st, const char *kid, enum store_key_state state, int64_t not_after,
			const struct store_audit *audit, struct attest_err *err)
{
	return st->ops->key_set_state(st, kid, state, not_after, audit, err);
}

int store_key_list(struct store *st, const char *provider, struct store_key **out, size_t *n,
		   struct attest_err *err)
{
	return st->ops->key_list(st, provider ? provider : "", out, n, err);
}

int store_collateral_put_many(struct store *st, const struct store_collateral *items, size_t n,
			      const struct store_audit *audit, struct attest_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].key == NULL || items[i].key[0] == '\0' || (items[i].bytes == NULL && items[i].len != 0))
			return attest_err_set(err, ATTEST_E_INVALID, "store.collateral.invalid",
					      "collateral item %zu has no key or no bytes", i);
	return st->ops->collateral_put(st, items, n, audit, err);
}

int store_collateral_put(struct store *st, const struct store_collateral *c, struct attest_err *err)
{
	return store_collateral_put_many(st, c, 1, NULL, err);
}

int store_collateral_get(struct store *st, const char *key, struct store_collateral *out, struct attest_err *err)
{
	return st->ops->collateral_get(st, key, out, err);
}

int store_collateral_purge(struct store *st, int64_t before, size_t *purged, struct attest_err *err)
{
	return st->ops->collateral_purge(st, before, purged, err);
}

int store_collateral_list(struct store *st, struct store_collateral **out, size_t *n, struct attest_err *err)
{
	return st->ops->collateral_page(st, NULL, 0, out, n, err);
}

int store_collateral_page(struct store *st, const char *after, size_t max, struct store_collateral **out,
			  size_t *n, struct attest_err *err)
{
	return st->ops->collateral_page(st, after, max, out, n, err);
}

int store_audit_append(struct store *st, const struct store_audit *audit, struct attest_err *err)
{
	if (audit == NULL || audit->action == NULL || audit->action[0] == '\0')
		return attest_err_set(err, ATTEST_E_INVALID, "store.audit.invalid", "audit entry needs an action");
	return st->ops->audit_append(st, audit, err);
}

int store_audit_list(struct store *st, int64_t after_seq, size_t max, struct store_audit_row **out, size_t *n,
		     struct attest_err *err)
{
	return st->ops->audit_list(st, after_seq, max, out, n, err);
}

int store_audit_verify(struct store *st, int64_t *rows, struct attest_err *err)
{
	return st->ops->audit_verify(st, rows, err);
}

void store_fault_next_commit(struct store *st)
{
	st->ops->fault_next_commit(st);
}

int store_test_reset(struct store *st, struct attest_err *err)
{
	if (st->ops->test_reset == NULL)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "store.unsupported", "%s has no test reset",
				      st->ops->name);
	return st->ops->test_reset(st, err);
}

/* ---- freeing --------------------------------------------------------------- */

void store_provider_clear(struct store_provider *p)
{
	if (p == NULL)
		return;
	free(p->settings_json);
	p->settings_json = NULL;
}

void store_provider_list_free(struct store_provider *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		store_provider_clear(&list[i]);
	free(list);
}

void store_policy_clear(struct store_policy *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p->jws);
	free(p->signer);
	p->text = p->jws = p->signer = NULL;
}

void store_policy_list_free(struct store_policy *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		store_policy_clear(&list[i]);
	free(list);
}

void store_cert_list_free(struct store_cert *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i].der);
	free(list);
}

void store_key_list_free(struct store_key *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		/* The blob is encrypted, but it is still key material: zero it. */
		if (list[i].blob != NULL)
			OPENSSL_cleanse(list[i].blob, list[i].blob_len);
		free(list[i].blob);
	}
	free(list);
}

void store_collateral_clear(struct store_collateral *c)
{
	if (c == NULL)
		return;
	free(c->key);
	free(c->bytes);
	c->key = NULL;
	c->bytes = NULL;
	c->len = 0;
}

void store_collateral_list_free(struct store_collateral *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		store_collateral_clear(&list[i]);
	free(list);
}

void store_audit_list_free(struct store_audit_row *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i].detail);
	free(list);
}

/* ---- the audit chain ----------------------------------------------------------- */

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static int hash_field(EVP_MD_CTX *md, const char *s)
{
	uint8_t len[8];

	/* Length-prefixed so ("ab","c") and ("a","bc") hash differently; NULL is all-ones. */
	be64(len, s == NULL ? UINT64_MAX : (uint64_t)strlen(s));
	if (EVP_DigestUpdate(md, len, sizeof(len)) != 1)
		return -1;
	return s == NULL ? 0 : (EVP_DigestUpdate(md, s, strlen(s)) == 1 ? 0 : -1);
}

int store_audit_hash(const uint8_t prev[32], int64_t seq, int64_t time, const char *actor, const char *action,
		     const char *provider, const char *detail, uint8_t out[32])
{
	static const char DOMAIN[] = "attestd-audit-v1";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t num[16];
	unsigned int outlen = 0;
	int ok;

	if (md == NULL)
		return ATTEST_E_NOMEM;
	be64(num, (uint64_t)seq);
	be64(num + 8, (uint64_t)time);
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(md, DOMAIN, sizeof(DOMAIN)) == 1 &&
	     EVP_DigestUpdate(md, prev, 32) == 1 && EVP_DigestUpdate(md, num, sizeof(num)) == 1 &&
	     hash_field(md, actor) == 0 && hash_field(md, action) == 0 && hash_field(md, provider) == 0 &&
	     hash_field(md, detail) == 0 && EVP_DigestFinal_ex(md, out, &outlen) == 1 && outlen == 32;
	EVP_MD_CTX_free(md);
	return ok ? ATTEST_OK : ATTEST_E_INTERNAL;
}
