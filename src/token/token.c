/* MAA attestation token claim sets: see token.h. */
#include "token/token.h"

#include "base/codec.h"
#include "base/jsonx.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* Names a policy may not set at top level: the service owns them (§2.2). */
static const char *const RESERVED[] = {
    "iss",
    "iat",
    "nbf",
    "exp",
    "jti",
    "x-ms-ver",
    "x-ms-attestation-type",
    "x-ms-policy-hash",
    "x-ms-policy-signer",
    "x-ms-policy",
    "nonce",
    "cnf",
};

/* attestd's own claims (own_claims): a policy may issue them into x-ms-policy, never at top level. */
static const char OWN_PREFIX[] = "x-attestd-";

static bool reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(RESERVED) / sizeof(RESERVED[0]); i++)
		if (strcmp(RESERVED[i], name) == 0)
			return true;
	/* Else a policy's issue(type="x-attestd-development") would mark a production token development. */
	return strncmp(name, OWN_PREFIX, sizeof(OWN_PREFIX) - 1) == 0;
}

/*
 * A value the token shares with the claim set it came from. The token's
 * claim set exists to be serialised and signed, never changed, so values
 * are shared by reference (as claim_set_copy does) rather than deep-copied:
 * the copies cost about 1 % of an attestation (issue 13).
 */
static json_t *shared(const json_t *v)
{
	return json_incref((json_t *)v);
}

static int set(json_t *obj, const char *key, json_t *v, struct attest_err *err)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return attest_err_set(err, ATTEST_E_NOMEM, "token.nomem", "out of memory setting claim %s",
				      key);
	return ATTEST_OK;
}

/*
 * The verifier's claims sorted by type, then by position: the catalogue
 * looks each of its names up by binary search instead of scanning the
 * whole set per name (those string compares were about a sixth of
 * building a token's claims).
 */
struct service_entry {
	const struct claim *c;
	size_t pos;
};

struct service_index {
	struct service_entry *e;
	size_t n;
};

static int service_entry_cmp(const void *a, const void *b)
{
	const struct service_entry *x = a, *y = b;
	int r = strcmp(x->c->type, y->c->type);

	return r != 0 ? r : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Indexes the claims issued by the service (the verifier). Release with free(ix->e). */
static int service_index_build(const struct claim_set *set, struct service_index *ix, struct attest_err *err)
{
	size_t n = claim_set_count(set);

	ix->n = 0;
	ix->e = malloc((n ? n : 1) * sizeof(*ix->e));
	if (ix->e == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "token.nomem", "out of memory indexing claims");
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = claim_set_at(set, i);

		if (strcmp(c->issuer, CLAIM_ISSUER_SERVICE) == 0)
			ix->e[ix->n++] = (struct service_entry){c, i};
	}
	qsort(ix->e, ix->n, sizeof(*ix->e), service_entry_cmp);
	return ATTEST_OK;
}

/* The first claim of `type` issued by the service, or NULL. */
static const struct claim *service_claim(const struct service_index *ix, const char *type)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) { /* leftmost entry whose type is >= type */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->e[mid].c->type, type) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && strcmp(ix->e[lo].c->type, type) == 0 ? ix->e[lo].c : NULL;
}

/* iss, iat, nbf, exp of a token living `lifetime` seconds (nbf = iat, §5). */
static json_t *registered_claims(const char *issuer, int64_t now, int64_t lifetime)
{
	json_t *o = json_object();

	if (o == NULL || set(o, "iss", json_string(issuer), NULL) || set(o, "iat", json_integer(now), NULL) ||
	    set(o, "nbf", json_integer(now), NULL) || set(o, "exp", json_integer(now + lifetime), NULL)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int jti_claim(json_t *o, const uint8_t *given, struct attest_err *err)
{
	uint8_t id[TOKEN_JTI_BYTES];
	char hex[2 * TOKEN_JTI_BYTES + 1];

	if (given != NULL)
		memcpy(id, given, sizeof(id));
	else if (RAND_bytes(id, sizeof(id)) != 1)
		return attest_err_set(err, ATTEST_E_INTERNAL, "token.random", "the random generator failed");
	hex_encode_to(id, sizeof(id), hex);
	return set(o, "jti", json_string(hex), err);
}

/* The MAA members every attestation token carries (§2.2). */
static int common_claims(json_t *o, const struct token_attest_params *p, struct attest_err *err)
{
	int rc = jti_claim(o, p->jti, err);

	if (rc == ATTEST_OK)
		rc = set(o, "x-ms-ver", json_string(TOKEN_MAA_VERSION), err);
	if (rc == ATTEST_OK)
		rc = set(o, "x-ms-attestation-type", json_string(p->cat->tee), err);
	if (rc == ATTEST_OK)
		rc = set(o, "x-ms-policy-hash", json_string(p->policy_hash), err);
	if (rc == ATTEST_OK && p->policy_signer != NULL)
		rc = set(o, "x-ms-policy-signer", shared(p->policy_signer), err);
	if (rc == ATTEST_OK && p->nonce != NULL)
		rc = set(o, "nonce", json_string(p->nonce), err);
	return rc;
}

/* The catalogue's claims, from the verifier's output, type-checked. */
static int catalogue_claims(json_t *o, const struct token_attest_params *p, struct attest_err *err)
{
	const struct token_catalogue *cat = p->cat;
	struct service_index ix;
	int rc = service_index_build(p->incoming, &ix, err);

	for (size_t i = 0; rc == ATTEST_OK && i < cat->n_claims; i++) {
		const struct token_claim_def *def = &cat->claims[i];
		const struct claim *c = service_claim(&ix, def->name);

		if (c == NULL) {
			if (def->flags & TOKEN_CLAIM_REQUIRED)
				rc = attest_err_set(err, ATTEST_E_INTERNAL, "token.claim.missing",
						    "the %s verifier produced no \"%s\" claim",
						    cat->path_name, def->name);
			continue;
		}
		rc = token_claim_check(def, c->value, err);
		if (rc == ATTEST_OK)
			rc = set(o, def->name, shared(c->value), err);
	}
	free(ix.e);
	return rc;
}

/*
 * Aliases and constants of the type, and the derived EAT debug status of
 * TDX (§2.7: dbgstat "disabled" unless the TD's DEBUG attribute is set).
 */
static int profile_claims(json_t *o, const struct token_catalogue *cat, struct attest_err *err)
{
	int rc = ATTEST_OK;

	for (size_t i = 0; rc == ATTEST_OK && i < cat->n_aliases; i++) {
		json_t *v = json_object_get(o, cat->aliases[i].of);

		if (v != NULL)
			rc = set(o, cat->aliases[i].alias, shared(v), err);
	}
	for (size_t i = 0; rc == ATTEST_OK && i < cat->n_consts; i++)
		rc = set(o, cat->consts[i].name, json_string(cat->consts[i].value), err);
	if (rc == ATTEST_OK && cat->type == MAA_TYPE_TDX_VM && json_object_get(o, "dbgstat") == NULL) {
		json_t *dbg = json_object_get(o, "tdx_td_attributes_debug");

		if (dbg != NULL)
			rc = set(o, "dbgstat", json_string(json_is_true(dbg) ? "enabled" : "disabled"), err);
	}
	return rc;
}

/* This service's own claims (x-attestd-*, e.g. the development-mode marker). */
static int own_claims(json_t *o, const struct claim_set *incoming, struct attest_err *err)
{
	for (size_t i = 0; i < claim_set_count(incoming); i++) {
		const struct claim *c = claim_set_at(incoming, i);
		int rc;

		if (strncmp(c->type, OWN_PREFIX, sizeof(OWN_PREFIX) - 1) != 0 ||
		    strcmp(c->issuer, CLAIM_ISSUER_SERVICE) != 0 || json_object_get(o, c->type) != NULL)
			continue;
		rc = set(o, c->type, shared(c->value), err);
		if (rc != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

/*
 * What the policy issued: every claim into x-ms-policy, and at top level
 * where the name is not the service's (§2.2: "the same claims also appear
 * at top level"). A claim issued several times becomes an array.
 */
static int policy_claims(json_t *o, const struct claim_set *issued, struct attest_err *err)
{
	json_t *pol;
	const char *name;
	json_t *v;

	if (issued == NULL || claim_set_count(issued) == 0)
		return ATTEST_OK;
	pol = claim_set_to_json(issued);
	if (pol == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "token.nomem",
				      "out of memory building x-ms-policy");
	json_object_foreach(pol, name, v)
	{
		if (reserved(name) || json_object_get(o, name) != NULL)
			continue;
		if (set(o, name, shared(v), err) != ATTEST_OK) {
			json_decref(pol);
			return ATTEST_E_NOMEM;
		}
	}
	return set(o, "x-ms-policy", pol, err);
}

int token_attest_claims(const struct token_attest_params *p, json_t **out, struct attest_err *err)
{
	json_t *o;
	int rc;

	if (p == NULL || p->cat == NULL || p->issuer == NULL || p->policy_hash == NULL || p->incoming == NULL)
		return attest_err_set(
		    err, ATTEST_E_INVALID, "token.param",
		    "token parameters need a catalogue, an issuer, a policy hash and claims");
	o = registered_claims(p->issuer, p->now, TOKEN_ATTEST_LIFETIME);
	if (o == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "token.nomem", "out of memory building a token");
	rc = common_claims(o, p, err);
	if (rc == ATTEST_OK)
		rc = catalogue_claims(o, p, err);
	if (rc == ATTEST_OK)
		rc = profile_claims(o, p->cat, err);
	if (rc == ATTEST_OK)
		rc = own_claims(o, p->incoming, err);
	if (rc == ATTEST_OK)
		rc = policy_claims(o, p->issued, err);
	if (rc != ATTEST_OK) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return ATTEST_OK;
}

json_t *token_mgmt_claims(const char *issuer, int64_t now)
{
	return registered_claims(issuer, now, TOKEN_MGMT_LIFETIME);
}

json_t *token_header(const char *alg, const char *jku, const char *kid)
{
	json_t *h = json_object();

	if (h == NULL || set(h, "alg", json_string(alg), NULL) ||
	    (jku != NULL && set(h, "jku", json_string(jku), NULL)) ||
	    (kid != NULL && set(h, "kid", json_string(kid), NULL)) ||
	    set(h, "typ", json_string("JWT"), NULL)) {
		json_decref(h);
		return NULL;
	}
	return h;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The object's members re-inserted in name order, values sorted too. */
static json_t *sorted_object(const json_t *v)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
	json_t *o = json_object(), *m;
	const char *k;

	if (o == NULL || keys == NULL) {
		free(keys);
		if (n == 0)
			return o; /* {} */
		json_decref(o);
		return NULL;
	}
	json_object_foreach((json_t *)v, k, m)
	{
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; o != NULL && i < n; i++) {
		json_t *c = token_json_sorted(json_object_get(v, keys[i]));

		if (c == NULL || json_object_set_new(o, keys[i], c) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	free(keys);
	return o;
}

json_t *token_json_sorted(const json_t *v)
{
	if (json_is_object(v))
		return sorted_object(v);
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
		{
			if (a != NULL && json_array_append_new(a, token_json_sorted(e)) != 0) {
				json_decref(a);
				a = NULL;
			}
		}
		return a;
	}
	return json_deep_copy(v);
}

char *token_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* base64url of the compact JSON text of v. */
static char *b64url_json(const json_t *v)
{
	char *text = token_json_dump(v);
	char *enc = NULL;

	if (text != NULL)
		enc = b64url_encode((const uint8_t *)text, strlen(text));
	free(text);
	return enc;
}

char *token_signing_input(const json_t *header, const json_t *payload)
{
	char *h = b64url_json(header), *p = b64url_json(payload), *out = NULL;

	if (h != NULL && p != NULL) {
		size_t hl = strlen(h), pl = strlen(p);

		out = malloc(hl + 1 + pl + 1);
		if (out != NULL) {
			memcpy(out, h, hl);
			out[hl] = '.';
			memcpy(out + hl + 1, p, pl + 1);
		}
	}
	free(h);
	free(p);
	return out;
}

char *token_encode_unsigned(const json_t *payload)
{
	json_t *h = token_header("none", NULL, NULL);
	char *input = h ? token_signing_input(h, payload) : NULL;
	char *out = NULL;

	json_decref(h);
	if (input != NULL) {
		size_t n = strlen(input);

		out = realloc(input, n + 2);
		if (out == NULL) {
			free(input);
			return NULL;
		}
		out[n] = '.';
		out[n + 1] = '\0';
	}
	return out;
}

/* Decodes one base64url segment as a JSON object. */
static int segment_json(const char *seg, size_t len, const char *what, json_t **out, struct attest_err *err)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	struct attest_err jerr;
	int rc;

	if (b64_decode(seg, len, &raw, &rawlen) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "token.decode.base64",
				      "the token %s is not base64url", what);
	attest_err_clear(&jerr);
	rc = jsonx_parse((const char *)raw, rawlen, out, "token.decode.json", what, &jerr);
	free(raw);
	if (rc != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_PARSE, "token.decode.json", "the token %s is not JSON",
				      what);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, "token.decode.json",
				      "the token %s is not a JSON object", what);
	}
	return ATTEST_OK;
}

int token_decode_unverified(const char *jwt, size_t len, json_t **header, json_t **payload,
			    struct attest_err *err)
{
	const char *d1 = memchr(jwt, '.', len), *d2;
	json_t *h = NULL, *p = NULL;
	int rc;

	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
	if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "token.decode.parts",
				      "a compact JWS has exactly three dot-separated parts");
	rc = segment_json(jwt, (size_t)(d1 - jwt), "header", &h, err);
	if (rc == ATTEST_OK)
		rc = segment_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &p, err);
	if (rc != ATTEST_OK) {
		json_decref(h);
		return rc;
	}
	*header = h;
	*payload = p;
	return ATTEST_OK;
}
