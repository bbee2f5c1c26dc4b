/*
 * attestd's attest, policy and certificate routes (pipeline_routes.h).
 * The attest handler is thin: it reads the provider's policy for the type
 * from the store and hands everything to pipeline_attest_run(), which knows
 * no HTTP.
 */
#include "server/pipeline_routes.h"
#include "crypto/crypto.h"
#include "server/provider_trust.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/jsonx.h"
#include "base/lru.h"
#include "base/timeutil.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "collateral/kds.h"
#include "collateral/pcs.h"
#include "evidence/tpm_protocol.h"
#include "server/attest_certificates.h"
#include "server/attest_mgmt.h"
#include "server/attest_policies.h"
#include "server/attest_tcbbaselines.h"
#include "server/http.h"
#include "server/log.h"
#include "server/server.h"
#include "server/signing.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Verified collateral objects kept per node (chains, TCB info, CRLs). */
#define PIPELINE_COLLATERAL_CACHE 1024

/* The keyring signer behind pipeline_sign_fn. */
static int sign_for_request(void *arg, const char *jku, const json_t *claims, char **jwt,
			    struct attest_err *err)
{
	return attest_sign(arg, jku, claims, jwt, err);
}

/* ---- the policy views (pipeline_routes.h) ---------------------------------------------- */

/*
 * The views are the one cache skeleton (base/lru.h) in store order: a
 * view read again from the store is stored again, so when full the view
 * loaded longest ago goes, as the linear table did. A slot is a pointer to
 * the view (what a lookup marks in it, under the skeleton's lock); the key
 * is the provider's name zero-padded with the type in the last byte, or
 * beyond 30 characters the SHA-256 of the name and the type, and the whole
 * name and the type are compared on lookup.
 */
struct pview {
	char provider[64];
	enum maa_type type;
	uint64_t loaded_ns; /* monotonic */
	bool changed;	    /* marked changed since: read again, kept as the fallback */
	bool stale_warned;  /* served past its age once (logged) */
	char *text;	    /* NULL: the type's default */
	char *signer;	    /* JWK text of the signer, or NULL */
};

struct pipeline_policy_views {
	struct lru *lru;
};

/* A slot holds the view's pointer (slots are aligned for any type: lru.h). */
static struct pview *pview_of(const void *slot)
{
	return *(struct pview *const *)slot;
}

static void pview_free(struct pview *v)
{
	if (v == NULL)
		return;
	free(v->text);
	free(v->signer);
	free(v);
}

static void pview_release(void *slot, void *arg)
{
	(void)arg;
	pview_free(pview_of(slot));
}

static const struct lru_type PVIEW_SLOT = {
    .slot_size = sizeof(struct pview *), .order = LRU_ORDER_STORE, .release = pview_release};

struct pipeline_policy_views *pipeline_policy_views_new(void)
{
	struct pipeline_policy_views *v = calloc(1, sizeof(*v));

	if (v != NULL && (v->lru = lru_new(PIPELINE_POLICY_VIEWS, &PVIEW_SLOT)) == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

void pipeline_policy_views_free(struct pipeline_policy_views *v)
{
	if (v == NULL)
		return;
	lru_free(v->lru);
	free(v);
}

bool pipeline_view_name_init(struct pipeline_view_name *vn, const char *name)
{
	vn->name = name;
	vn->len = strnlen(name, 64);
	vn->hashed = vn->len >= PIPELINE_VIEW_NAME_INLINE && vn->len < 64 &&
		     sha256(name, vn->len, vn->digest) == ATTEST_OK;
	/* not hashed beyond the inline length: no view is kept of the name (pview_key, trust_key) */
	return vn->len < PIPELINE_VIEW_NAME_INLINE || vn->hashed;
}

/*
 * The skeleton's key of (provider, type): the name zero-padded, the type
 * in the last byte (1 + type: never a name's zero padding); beyond 30
 * characters the name's SHA-256 with 1 + type added into its last byte
 * (distinct names differ in the other 31 bytes too). False for a name of
 * 64 characters or more.
 */
static bool pview_key(const struct pipeline_view_name *vn, enum maa_type type, uint8_t key[LRU_KEY_SIZE])
{
	if (vn->len >= 64 || (vn->len >= PIPELINE_VIEW_NAME_INLINE && !vn->hashed))
		return false;
	if (vn->hashed) {
		memcpy(key, vn->digest, LRU_KEY_SIZE);
		key[LRU_KEY_SIZE - 1] ^= (uint8_t)(1 + (unsigned)type);
		return true;
	}
	memset(key, 0, LRU_KEY_SIZE);
	memcpy(key, vn->name, vn->len);
	key[LRU_KEY_SIZE - 1] = (uint8_t)(1 + (unsigned)type);
	return true;
}

static int dup_or_null(const char *s, char **out)
{
	*out = s != NULL ? strdup(s) : NULL;
	return s != NULL && *out == NULL ? ATTEST_E_NOMEM : ATTEST_OK;
}

/* One lookup: the pair wanted, what may be served, and the copies made. */
struct pview_look {
	const char *provider;
	enum maa_type type;
	uint64_t now_ns;
	bool any_age, mark_changed;
	int rc; /* of the copies */
	char *text, *signer;
	bool first_stale;
};

static bool pview_is(const struct pview *v, const struct pview_look *q)
{
	return v->type == q->type && strcmp(v->provider, q->provider) == 0;
}

/* Serves the view if it may be (copies made under the skeleton's lock). */
static enum lru_verdict pview_look(const void *slot, void *arg)
{
	struct pview *v = pview_of(slot);
	struct pview_look *q = arg;

	if (!pview_is(v, q))
		return LRU_MISS;
	if (q->mark_changed) {
		v->changed = true;
		return LRU_MISS;
	}
	/* a view another request stored after this one read its clock is fresh, not 584 years old */
	if (!q->any_age &&
	    (v->changed || (q->now_ns > v->loaded_ns &&
			    q->now_ns - v->loaded_ns > (uint64_t)PIPELINE_POLICY_VIEW_TTL_MS * 1000000u)))
		return LRU_MISS;
	q->rc = dup_or_null(v->text, &q->text);
	if (q->rc == ATTEST_OK && v->text != NULL)
		q->rc = dup_or_null(v->signer, &q->signer);
	if (q->rc == ATTEST_OK && q->any_age && !v->stale_warned)
		v->stale_warned = q->first_stale = true;
	return LRU_HIT;
}

int pipeline_policy_view_get(struct pipeline_policy_views *vs, const struct pipeline_view_name *provider,
			     enum maa_type type, uint64_t now_ns, bool any_age, char **text, char **signer,
			     bool *first_stale)
{
	struct pview_look q = {
	    .provider = provider->name, .type = type, .now_ns = now_ns, .any_age = any_age};
	uint8_t key[LRU_KEY_SIZE];
	int rc = ATTEST_E_NOT_FOUND;

	*text = *signer = NULL;
	if (pview_key(provider, type, key) && lru_get(vs->lru, key, pview_look, &q))
		rc = q.rc;
	if (rc != ATTEST_OK) {
		free(q.text);
		free(q.signer);
		return rc;
	}
	*text = q.text; /* transferred */
	*signer = q.signer;
	if (first_stale != NULL)
		*first_stale = q.first_stale;
	return ATTEST_OK;
}

void pipeline_policy_view_put(struct pipeline_policy_views *vs, const struct pipeline_view_name *provider,
			      enum maa_type type, const char *text, const char *signer, uint64_t now_ns)
{
	uint8_t key[LRU_KEY_SIZE];
	struct pview *v;

	if (!pview_key(provider, type, key) || (v = calloc(1, sizeof(*v))) == NULL)
		return;
	memcpy(v->provider, provider->name, provider->len); /* under 64 characters (pview_key); zeros after */
	v->type = type;
	v->loaded_ns = now_ns;
	if (dup_or_null(text, &v->text) != ATTEST_OK ||
	    (text != NULL && dup_or_null(signer, &v->signer) != ATTEST_OK)) {
		pview_free(v);
		return;
	}
	lru_put(vs->lru, key, &v); /* the view is the skeleton's now; the pair's previous one is released */
}

void pipeline_policy_view_changed(struct pipeline_policy_views *vs, const struct pipeline_view_name *provider,
				  enum maa_type type)
{
	struct pview_look q = {.provider = provider->name, .type = type, .mark_changed = true};
	uint8_t key[LRU_KEY_SIZE];

	/*
	 * Marked, not dropped: the next request re-reads it, and if the store
	 * cannot answer at that moment (a notification can arrive just as the
	 * database returns) the last policy stays in force.
	 */
	if (pview_key(provider, type, key))
		lru_get(vs->lru, key, pview_look, &q);
}

/* ---- the policy of a request ---------------------------------------------------------------- */

/* The policy view of (provider, type) and what it holds, copied out. */
struct policy_copy {
	char *text;
	json_t *signer;
};

static void policy_copy_free(struct policy_copy *c)
{
	free(c->text);
	json_decref(c->signer);
}

/* Fills out from a view's copies (taking text, freeing signer). */
static int policy_from(char *text, char *signer, struct policy_copy *out, struct attest_err *err)
{
	int rc = ATTEST_OK;

	out->text = text; /* transferred */
	out->signer = NULL;
	if (text != NULL && signer != NULL &&
	    jsonx_parse(signer, strlen(signer), &out->signer, "attest.policy.signer", "stored policy signer",
			err) != ATTEST_OK) {
		policy_copy_free(out);
		out->text = NULL;
		rc = ATTEST_E_INTERNAL;
	}
	free(signer);
	return rc;
}

static int copy_out(const char *text, const char *signer, struct policy_copy *out, struct attest_err *err)
{
	char *t = NULL, *sg = NULL;

	if (dup_or_null(text, &t) != ATTEST_OK || (text != NULL && dup_or_null(signer, &sg) != ATTEST_OK)) {
		free(t);
		return attest_err_set(err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
	}
	return policy_from(t, sg, out, err);
}

/*
 * The store is unreachable (issue 11, degraded operation): the last policy
 * this node loaded for (provider, type) stays in force, said once in the
 * log per view. ATTEST_E_IO when this node never loaded one.
 */
static int stale_policy(struct pipeline_routes *pr, struct http_request *req,
			const struct pipeline_view_name *vn, enum maa_type type, struct policy_copy *out,
			struct attest_err *err)
{
	char *text, *signer;
	bool warn = false;
	struct attest_err copy_err;
	int rc =
	    pipeline_policy_view_get(pr->policies, vn, type, time_mono_ns(), true, &text, &signer, &warn);

	attest_err_clear(&copy_err);
	if (rc == ATTEST_OK)
		rc = policy_from(text, signer, out, &copy_err);
	if (rc != ATTEST_OK)
		return err->rc != ATTEST_OK ? err->rc : ATTEST_E_IO;
	if (warn)
		srv_log(&req->srv->log, SRV_LOG_WARN,
			"the store is unreachable (%s): provider %s keeps its last loaded %s policy",
			err->msg, req->provider->name, maa_type_name(type));
	attest_err_clear(err);
	return ATTEST_OK;
}

/* The provider's policy for the type (text NULL = default) and its signer JWK. */
static int provider_policy(struct pipeline_routes *pr, struct http_request *req,
			   const struct pipeline_view_name *vn, enum maa_type type, struct policy_copy *out,
			   struct attest_err *err)
{
	uint64_t now_ns = time_mono_ns();
	struct store_policy pol = {0};
	char *text, *signer;
	int rc = pipeline_policy_view_get(pr->policies, vn, type, now_ns, false, &text, &signer, NULL);

	if (rc == ATTEST_OK)
		return policy_from(text, signer, out, err);
	if (rc != ATTEST_E_NOT_FOUND)
		return attest_err_set(err, rc, "pipeline.nomem", "out of memory");
	rc = store_policy_get(req->srv->store, req->provider->name, maa_type_name(type), &pol, err);
	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		pipeline_policy_view_put(pr->policies, vn, type, NULL, NULL, now_ns);
		return copy_out(NULL, NULL, out, err);
	}
	if (rc == ATTEST_E_IO)
		return stale_policy(pr, req, vn, type, out, err);
	if (rc != ATTEST_OK)
		return rc;
	rc = copy_out(pol.text, pol.signer && pol.signer[0] ? pol.signer : NULL, out, err);
	if (rc == ATTEST_OK)
		pipeline_policy_view_put(pr->policies, vn, type, pol.text,
					 pol.signer && pol.signer[0] ? pol.signer : NULL, now_ns);
	store_policy_clear(&pol);
	return rc;
}

/* A parsed provider_trust shared by the requests using it and the trust views. */
struct pipeline_trust_ref {
	struct provider_trust *trust;
	atomic_uint n;
};

/* Drops one reference; the last frees the trust. */
static void trust_ref_put(struct pipeline_trust_ref *t)
{
	if (t != NULL && atomic_fetch_sub(&t->n, 1) == 1) {
		provider_trust_free(t->trust);
		free(t);
	}
}

/*
 * A trust view (pipeline_routes.h): one per provider, on the one cache
 * skeleton (base/lru.h), so a provider's new settings replace its view.
 * The skeleton's key is the provider's name, zero-padded (names have at
 * most 63 characters, routes_provider_name_ok), or beyond 32 characters
 * the name's SHA-256 (made once per request: struct pipeline_view_name),
 * and the whole name and the settings hash are compared on lookup.
 */
struct trust_slot {
	struct pipeline_trust_ref *ref; /* one reference held by the view */
	char provider[64];
	uint8_t settings_hash[32];
};

static void trust_slot_release(void *slot, void *arg)
{
	(void)arg;
	trust_ref_put(((struct trust_slot *)slot)->ref);
}

static const struct lru_type TRUST_SLOT = {
    .slot_size = sizeof(struct trust_slot), .order = LRU_ORDER_USE, .release = trust_slot_release};

static bool trust_key(const struct pipeline_view_name *vn, uint8_t key[LRU_KEY_SIZE])
{
	if (vn->len > LRU_KEY_SIZE) {
		if (vn->hashed) /* the name's SHA-256, computed once for the request */
			memcpy(key, vn->digest, LRU_KEY_SIZE);
		return vn->hashed;
	}
	memset(key, 0, LRU_KEY_SIZE); /* the name, then zeros to the end */
	memcpy(key, vn->name, vn->len);
	return true;
}

/* One lookup: the provider and settings hash wanted and, on a hit, a new reference. */
struct trust_look {
	const char *provider;
	const uint8_t *hash;
	struct pipeline_trust_ref *ref;
};

static enum lru_verdict trust_look(const void *slot, void *arg)
{
	const struct trust_slot *s = slot;
	struct trust_look *q = arg;

	if (strcmp(s->provider, q->provider) != 0 || memcmp(s->settings_hash, q->hash, 32) != 0)
		return LRU_MISS; /* the provider's settings changed: parsed again, then replaced */
	atomic_fetch_add(&s->ref->n, 1);
	q->ref = s->ref;
	return LRU_HIT;
}

/* The cached view of (provider, settings hash), with a reference taken, or NULL. */
static struct pipeline_trust_ref *trust_find(struct pipeline_routes *pr, const struct pipeline_view_name *vn,
					     const uint8_t hash[32])
{
	struct trust_look q = {.provider = vn->name, .hash = hash};
	uint8_t key[LRU_KEY_SIZE];

	if (!trust_key(vn, key) || !lru_get(pr->trusts, key, trust_look, &q))
		return NULL;
	return q.ref;
}

/* Keeps t (one more reference) as the view of (provider, hash), replacing that provider's view. */
static void trust_keep(struct pipeline_routes *pr, const struct pipeline_view_name *vn,
		       const uint8_t hash[32], struct pipeline_trust_ref *t)
{
	struct trust_slot s = {.ref = t};
	uint8_t key[LRU_KEY_SIZE];

	if (vn->len >= sizeof(s.provider) || !trust_key(vn, key))
		return; /* not kept: parsed again next time */
	memcpy(s.provider, vn->name, vn->len + 1);
	memcpy(s.settings_hash, hash, 32);
	atomic_fetch_add(&t->n, 1); /* the view's, before another thread can see it */
	lru_put(pr->trusts, key, &s);
}

/*
 * What the provider registered (AIKs, CVM measurements; provider_trust.h),
 * parsed once per settings text. Settings written before they were
 * validated (routes_mgmt.c) may not parse: then nothing is registered, said
 * in the log at most once a minute, rather than every attestation of the
 * provider failing. Release *ref with trust_release.
 */
static const struct evidence_tenant *provider_tenant(struct pipeline_routes *pr, struct http_request *req,
						     const struct pipeline_view_name *vn,
						     struct pipeline_trust_ref **ref)
{
	const char *settings = req->provider->settings_json, *name = req->provider->name;
	struct provider_trust *trust = NULL;
	struct pipeline_trust_ref *t;
	struct attest_err err;
	uint64_t now = time_mono_ns();
	uint8_t hash[32];
	bool warn;

	*ref = NULL;
	if (settings == NULL || sha256(settings, strlen(settings), hash) != ATTEST_OK)
		return NULL;
	*ref = trust_find(pr, vn, hash);
	if (*ref != NULL)
		return provider_trust_tenant((*ref)->trust);
	attest_err_clear(&err);
	if (provider_trust_parse(settings, &trust, &err) != ATTEST_OK) {
		pthread_mutex_lock(&pr->views_lock);
		warn = pr->settings_warned_ns == 0 || now - pr->settings_warned_ns > 60ull * 1000000000ull;
		if (warn)
			pr->settings_warned_ns = now;
		pthread_mutex_unlock(&pr->views_lock);
		if (warn)
			srv_log(&req->srv->log, SRV_LOG_WARN,
				"provider %s: stored settings do not parse (%s: %s); attesting with nothing "
				"registered",
				name, err.name, err.msg);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		provider_trust_free(trust);
		return NULL;
	}
	t->trust = trust;      /* transferred */
	atomic_init(&t->n, 1); /* the caller's */
	trust_keep(pr, vn, hash, t);
	*ref = t;
	return provider_trust_tenant(t->trust);
}

static void trust_release(struct pipeline_routes *pr, struct pipeline_trust_ref *ref)
{
	(void)pr;
	trust_ref_put(ref);
}

static void attest_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pipeline_routes *pr = arg;
	struct pipeline_attest in = {0};
	struct pipeline_outcome out;
	struct policy_copy pol = {0};
	struct pipeline_trust_ref *trust = NULL;
	struct pipeline_view_name vn;
	struct attest_err err;
	enum maa_type type;

	if (!attest_route_type(req, resp, &type))
		return;
	attest_err_clear(&err);
	/* a name the views cannot key is still served: its policy read and its settings parsed each time */
	(void)pipeline_view_name_init(&vn, req->provider->name);
	if (provider_policy(pr, req, &vn, type, &pol, &err) != ATTEST_OK) {
		attest_respond_store_error(resp, &err);
		return;
	}
	in.tenant = provider_tenant(pr, req, &vn, &trust);
	in.provider = req->provider->name; /* binds a TPM service context to the provider that issued it */
	in.type = type;
	in.body = (const char *)req->body;
	in.body_len = req->body_len;
	in.policy_text = pol.text;
	in.policy_len = pol.text ? strlen(pol.text) : 0;
	in.policy_signer = pol.signer;
	in.issuer = req->base_url;
	in.now = req->now;
	in.sign = sign_for_request;
	in.sign_arg = req;
	pipeline_attest_run(pr->ctx, &in, &out);
	if (out.status == 200 && out.body != NULL) {
		/* Tpm: the protocol message, {"data": ...} in the form asked */
		http_resp_bytes(resp, 200, "application/json; charset=utf-8", out.body, strlen(out.body));
	} else if (out.status == 200) {
		http_resp_json_str_member(resp, 200, "token", out.token);
	} else {
		http_resp_error_from(resp, out.status, out.code, &out.err);
		if (out.status == 503)
			http_resp_header(resp, "Retry-After", "1");
	}
	pipeline_outcome_clear(&out);
	policy_copy_free(&pol);
	trust_release(pr, trust);
}

void pipeline_routes_policy_changed(struct pipeline_routes *pr, const char *provider, enum maa_type type)
{
	struct pipeline_view_name vn;

	if (pipeline_view_name_init(&vn, provider))
		pipeline_policy_view_changed(pr->policies, &vn, type);
}

/*
 * The master key of the TPM service contexts (tpm_protocol.h): one per
 * service, kept in the store so every node (and a restarted one) opens the
 * contexts another issued. No node seals with it directly: each derives
 * the keys of its own random epochs from it (tpm_context.c), so the one
 * stored key serves any number of contexts.
 *
 * At rest it is sealed under the KEK, as the signing keys are: the row
 * TPM_MASTER_META holds the hex of 'TKM1' || IV (12) || ciphertext (32) ||
 * tag (16), AES-256-GCM with TPM_MASTER_AAD as additional data, so a copy
 * of the database (a replica, a backup) alone forges no context. The first
 * node to start creates it; a race between two first starts resolves to
 * the stored row (only_if_absent). The row of earlier versions,
 * TPM_KEY_META_V0, held the key in plain hex: it is treated as exposed,
 * overwritten with a note, never used (its TPC1 contexts are refused
 * anyway), and a fresh master is made.
 */
#define TPM_MASTER_META	  "tpm_context_master"
#define TPM_MASTER_AAD	  "attestd tpm context master v1"
#define TPM_MASTER_MAGIC  "TKM1"
#define TPM_MASTER_SEALED (4 + AEAD_IV_LEN + TPM_PROTO_KEY_LEN + AEAD_TAG_LEN)
#define TPM_KEY_META_V0	  "tpm_service_key"
#define TPM_KEY_V0_NOTE	  "retired: the TPM context master key is tpm_context_master, sealed under the KEK"

/* A fresh master sealed under kek, stored unless a row is there already (another node won). */
static int tpm_master_create(struct store *st, const uint8_t kek[AEAD_KEY_LEN], struct attest_err *err)
{
	uint8_t master[TPM_PROTO_KEY_LEN], sealed[TPM_MASTER_SEALED];
	char hex[2 * TPM_MASTER_SEALED + 1];
	int rc;

	memcpy(sealed, TPM_MASTER_MAGIC, 4);
	if (RAND_bytes(master, sizeof(master)) != 1 || RAND_bytes(sealed + 4, AEAD_IV_LEN) != 1 ||
	    aead_seal(kek, sealed + 4, (const uint8_t *)TPM_MASTER_AAD, strlen(TPM_MASTER_AAD), master,
		      sizeof(master), sealed + 4 + AEAD_IV_LEN,
		      sealed + 4 + AEAD_IV_LEN + TPM_PROTO_KEY_LEN) != 0) {
		OPENSSL_cleanse(master, sizeof(master));
		return attest_err_set(
		    err, ATTEST_E_INTERNAL, "pipeline.tpm.key.internal",
		    "a TPM context master key could not be made (random generator or AES-GCM failed)");
	}
	OPENSSL_cleanse(master, sizeof(master));
	hex_encode_to(sealed, sizeof(sealed), hex);
	rc = store_meta_put(st, TPM_MASTER_META, hex, true, NULL, err);
	if (rc == ATTEST_E_CONFLICT) {
		attest_err_clear(err);
		rc = ATTEST_OK;
	}
	return rc;
}

/* The master out of its stored row (hex text). Errors: pipeline.tpm.key. */
static int tpm_master_unseal(const char *hex, const uint8_t kek[AEAD_KEY_LEN], const char *kek_name,
			     uint8_t master[TPM_PROTO_KEY_LEN], struct attest_err *err)
{
	uint8_t sealed[TPM_MASTER_SEALED];

	if (strlen(hex) != 2 * sizeof(sealed) ||
	    hex_decode_to(hex, strlen(hex), sealed, sizeof(sealed)) != 0 ||
	    memcmp(sealed, TPM_MASTER_MAGIC, 4) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "pipeline.tpm.key.malformed",
				      "the stored TPM context master key (%s) is malformed", TPM_MASTER_META);
	if (aead_open(kek, sealed + 4, (const uint8_t *)TPM_MASTER_AAD, strlen(TPM_MASTER_AAD),
		      sealed + 4 + AEAD_IV_LEN, TPM_PROTO_KEY_LEN, master,
		      sealed + 4 + AEAD_IV_LEN + TPM_PROTO_KEY_LEN) != 0)
		return attest_err_set(
		    err, ATTEST_E_VERIFY, "pipeline.tpm.key.kek",
		    "the stored TPM context master key does not unseal under the KEK %s: this "
		    "node's KEK is not the one of the nodes that share this store (give every node the same "
		    "--kek)",
		    kek_name ? kek_name : "");
	return ATTEST_OK;
}

/* Overwrites the plaintext key row of earlier versions, if any, with a note. */
static int tpm_key_v0_retire(struct store *st, struct attest_err *err)
{
	char *old = NULL;
	int rc = store_meta_get(st, TPM_KEY_META_V0, &old, err);

	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		return ATTEST_OK;
	}
	if (rc == ATTEST_OK && strcmp(old, TPM_KEY_V0_NOTE) != 0)
		rc = store_meta_put(st, TPM_KEY_META_V0, TPM_KEY_V0_NOTE, false, NULL, err);
	if (old != NULL)
		mem_free_secret(old, strlen(old));
	return rc;
}

int pipeline_tpm_key_load(struct pipeline_ctx *ctx, struct store *st, const uint8_t *kek,
			  const char *kek_name, struct attest_err *err)
{
	uint8_t master[TPM_PROTO_KEY_LEN];
	char *hex = NULL;
	int rc;

	if (kek == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "pipeline.tpm.key.nokek",
				      "no KEK to seal the TPM context master key under");
	if ((rc = tpm_key_v0_retire(st, err)) != ATTEST_OK)
		return rc;
	rc = store_meta_get(st, TPM_MASTER_META, &hex, err);
	if (rc == ATTEST_E_NOT_FOUND) {
		attest_err_clear(err);
		if ((rc = tpm_master_create(st, kek, err)) != ATTEST_OK)
			return rc;
		rc = store_meta_get(st, TPM_MASTER_META, &hex, err); /* ours, or the race winner's */
	}
	if (rc != ATTEST_OK)
		return rc;
	rc = tpm_master_unseal(hex, kek, kek_name, master, err);
	free(hex); /* sealed: not a secret */
	if (rc == ATTEST_OK)
		rc = pipeline_ctx_set_tpm_key(ctx, master, err);
	OPENSSL_cleanse(master, sizeof(master));
	return rc;
}

/* Trust anchors and collateral from the configuration (test/dev options). */
/* The durable side of the collateral cache: the store's collateral table (issue 12). */
static int persist_get(void *arg, const char *key, uint8_t **bytes, size_t *len, int64_t *issue_date,
		       int64_t *next_update, struct attest_err *err)
{
	struct store_collateral c = {0};
	int rc = store_collateral_get(arg, key, &c, err);

	if (rc != ATTEST_OK)
		return rc;
	*bytes = c.bytes; /* transferred */
	*len = c.len;
	*issue_date = c.issue_date;
	*next_update = c.next_update;
	c.bytes = NULL;
	store_collateral_clear(&c);
	return ATTEST_OK;
}

static int persist_put(void *arg, const char *key, const uint8_t *bytes, size_t len, int64_t issue_date,
		       int64_t next_update, struct attest_err *err)
{
	struct store_collateral c = {(char *)key, (uint8_t *)bytes, len, issue_date, next_update};

	return store_collateral_put(arg, &c, err);
}

/*
 * Online collateral: Intel PCS/PCCS and AMD KDS behind one caching source
 * (single-flight, refresh ahead of nextUpdate, stale TCB Info within the
 * grace, never stale CRLs), written through to the store so a restarted or
 * another node starts warm, and usable offline from the store alone. The
 * verifiers verify every item on use, as with the file source.
 */
/* The cache judges freshness by the server's clock (fixed in tests with --test-fixed-time). */
static int64_t collateral_clock(void *arg)
{
	return srv_now(arg);
}

/* One log line per background refresh attempt (cached.h formats it). */
static void collateral_refresh_log(void *arg, const struct cached_refresh_event *ev)
{
	const struct srv *srv = arg;
	char line[512];
	bool warn = cached_refresh_event_format(ev, line, sizeof(line));

	srv_log(&srv->log, warn ? SRV_LOG_WARN : SRV_LOG_INFO, "%s", line);
}

static int pipeline_online_collateral(struct pipeline_ctx *ctx, const struct srv *srv, struct attest_err *err)
{
	const struct srv_config *cfg = srv->cfg;
	const char *ca = cfg->collateral_ca_file[0] ? cfg->collateral_ca_file : NULL;
	struct pcs_options po = {.base_url = cfg->pcs_url,
				 .api_key = cfg->pcs_api_key[0] ? cfg->pcs_api_key : NULL,
				 .ca_file = ca};
	struct kds_options ko = {.base_url = cfg->kds_url, .ca_file = ca};
	struct cached_persist persist = {.arg = srv->store, .get = persist_get, .put = persist_put};
	struct cached_options co = {.grace_s = cfg->collateral_grace,
				    .refresh_ahead_s = 86400,
				    .offline = cfg->collateral_offline,
				    .backoff_min_s = 30,
				    .backoff_max_s = 300,
				    .persist = &persist,
				    .own_amd_upstream = true,
				    .clock = collateral_clock,
				    .clock_arg = (void *)srv,
				    .refresh_interval_ms = (int64_t)cfg->collateral_refresh_interval * 1000,
				    .refresh_idle_s = 7 * 86400,
				    .on_refresh = collateral_refresh_log,
				    .on_refresh_arg = (void *)srv};
	struct collateral_source *intel = NULL;
	int rc = ATTEST_OK;

	if (cfg->pcs_url[0] != '\0')
		rc = pcs_source_new(&po, &intel, err);
	else if (cfg->collateral_dir[0] != '\0')
		rc = collateral_file_source_new(cfg->collateral_dir, &intel, err);
	if (rc == ATTEST_OK && cfg->kds_url[0] != '\0')
		rc = kds_source_new(&ko, &co.amd_upstream, err);
	if (rc == ATTEST_OK)
		rc = cached_source_new(intel, true, &co, &ctx->collateral, err);
	if (rc != ATTEST_OK) {
		if (intel != NULL && ctx->collateral == NULL) {
			collateral_source_free(intel);
			free(intel);
		}
		return rc;
	}
	srv_log(&srv->log, SRV_LOG_INFO, "online collateral: Intel from %s, AMD from %s%s",
		cfg->pcs_url[0]		 ? cfg->pcs_url
		: cfg->collateral_dir[0] ? cfg->collateral_dir
					 : "(none)",
		cfg->kds_url[0] ? cfg->kds_url : "(none)",
		cfg->collateral_offline ? " (offline: cache only)" : "");
	return ATTEST_OK;
}

static int pipeline_configure(struct pipeline_ctx *ctx, const struct srv *srv, struct attest_err *err)
{
	const struct srv_config *cfg = srv->cfg;
	int rc = ATTEST_OK;

	if (cfg->trust_roots[0] != '\0') {
		rc = pipeline_ctx_load_anchors(ctx, cfg->trust_roots, err);
		if (rc == ATTEST_OK)
			srv_log(&srv->log, SRV_LOG_WARN,
				"DEVELOPMENT: the extra trust anchors of %s are trusted beside the vendors' "
				"roots; every "
				"token says so with the claim \"%s\": true",
				cfg->trust_roots, PIPELINE_DEV_CLAIM);
	}
	if (rc == ATTEST_OK &&
	    (cfg->pcs_url[0] != '\0' || cfg->kds_url[0] != '\0' || cfg->collateral_offline))
		rc = pipeline_online_collateral(ctx, srv, err);
	else if (rc == ATTEST_OK && cfg->collateral_dir[0] != '\0')
		rc = collateral_file_source_new(cfg->collateral_dir, &ctx->collateral, err);
	if (rc == ATTEST_OK && ctx->collateral != NULL) {
		ctx->collateral_cache = collateral_cache_new(PIPELINE_COLLATERAL_CACHE);
		ctx->collateral->cache = ctx->collateral_cache;
	}
	return rc;
}

int pipeline_routes_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	struct pipeline_routes *pr = calloc(1, sizeof(*pr));
	int rc;

	if (pr == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
	pr->srv = srv;
	if ((pr->trusts = lru_new(PIPELINE_TRUST_VIEWS, &TRUST_SLOT)) == NULL ||
	    (pr->policies = pipeline_policy_views_new()) == NULL) {
		lru_free(pr->trusts);
		free(pr);
		return attest_err_set(err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
	}
	if (pthread_mutex_init(&pr->views_lock, NULL) != 0) {
		pipeline_policy_views_free(pr->policies);
		lru_free(pr->trusts);
		free(pr);
		return attest_err_set(err, ATTEST_E_INTERNAL, "pipeline.lock", "cannot create a mutex");
	}
	rc = pipeline_ctx_new(0, &pr->ctx, err);
	if (rc == ATTEST_OK)
		rc = pipeline_configure(pr->ctx, srv, err);
	if (rc == ATTEST_OK)
		rc = pipeline_tpm_key_load(pr->ctx, srv->store, srv_signing_kek(srv), srv->cfg->kek_file, err);
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "POST", "/attest/{type}",
				     HTTP_ROUTE_API_VERSION | HTTP_ROUTE_RATE_LIMITED, attest_handler, pr,
				     err);
	if (rc == ATTEST_OK)
		rc = attest_policies_register(r, pr, err);
	if (rc == ATTEST_OK)
		rc = attest_certificates_register(r, pr, err);
	if (rc == ATTEST_OK)
		rc = attest_tcbbaselines_register(r, pr, err);
	if (rc != ATTEST_OK) {
		pipeline_ctx_free(pr->ctx);
		pipeline_policy_views_free(pr->policies);
		lru_free(pr->trusts);
		pthread_mutex_destroy(&pr->views_lock);
		free(pr);
		return rc;
	}
	srv->pipeline = pr; /* freed by pipeline_shutdown */
	return ATTEST_OK;
}

void pipeline_shutdown(struct srv *srv)
{
	struct pipeline_routes *pr = srv->pipeline;

	if (pr == NULL)
		return;
	pipeline_ctx_free(pr->ctx);
	pipeline_policy_views_free(pr->policies);
	lru_free(pr->trusts);
	pthread_mutex_destroy(&pr->views_lock);
	free(pr);
	srv->pipeline = NULL;
}
