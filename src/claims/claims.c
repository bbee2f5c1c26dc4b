/*
 * The claim set: see claims.h. A plain array: sets hold tens of claims.
 * The first CLAIM_SET_INLINE claims live in the set's own allocation (a
 * verifier's set, the policy's outgoing set: one malloc, no growth, and
 * under glibc's per-thread cache bound of 1032 bytes, so no trip into the
 * main heap); a larger set moves to an array of its own.
 */
#include "claims/claims.h"

#include "base/codec.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A bound on claims per set: evidence cannot make a node allocate without end. */
#define CLAIM_SET_MAX 4096
/*
 * A bound on chains of lending sets (a set borrowing from a set that
 * borrows, ...): releasing a set releases its lenders recursively.
 */
#define CLAIM_SET_MAX_DEPTH 8
/* Claims held in the set's own allocation (28 * 32 bytes and the header: under 1 KiB). */
#define CLAIM_SET_INLINE 28

struct claim_set {
	struct claim *v;
	size_t n;
	size_t cap;
	atomic_size_t refs;
	/* Sets this one borrows values from, one reference each (lending, claims.h). */
	struct claim_set *lenders[CLAIM_SET_MAX_LENDERS];
	unsigned nlenders;
	unsigned depth;      /* 0, or 1 + the deepest lender's depth */
	/*
	 * Set once another set borrows from this one; from then on this set
	 * starts borrowing from no other (it copies instead; what it borrowed
	 * before stays, so chains form, bounded by CLAIM_SET_MAX_DEPTH). The
	 * last edge of any cycle would be a lending set starting to borrow,
	 * so lending never makes a cycle of references that would keep sets
	 * alive for ever.
	 */
	atomic_bool lends;
	struct claim inl[CLAIM_SET_INLINE]; /* v until the set outgrows it */
};

/*
 * The three issuers of the policy language are stored as pointers to these
 * constants rather than copies: nearly every claim has one of them. They
 * are the string literals themselves, not arrays: the linker merges equal
 * literals of a program (or library), so a caller passing
 * CLAIM_ISSUER_SERVICE usually passes this very pointer and is recognised
 * without a string compare.
 */
static const char *const ISSUER_SERVICE = CLAIM_ISSUER_SERVICE;
static const char *const ISSUER_POLICY = CLAIM_ISSUER_POLICY;
static const char *const ISSUER_CUSTOM = CLAIM_ISSUER_CUSTOM;

static const char *issuer_const(const char *issuer)
{
	/* A claim copied from another set already carries one of the constants. */
	if (issuer == ISSUER_SERVICE || issuer == ISSUER_POLICY || issuer == ISSUER_CUSTOM)
		return issuer;
	if (strcmp(issuer, ISSUER_SERVICE) == 0)
		return ISSUER_SERVICE;
	if (strcmp(issuer, ISSUER_POLICY) == 0)
		return ISSUER_POLICY;
	if (strcmp(issuer, ISSUER_CUSTOM) == 0)
		return ISSUER_CUSTOM;
	return NULL;
}

static void issuer_free(const char *issuer)
{
	if (issuer != ISSUER_SERVICE && issuer != ISSUER_POLICY && issuer != ISSUER_CUSTOM)
		free((char *)issuer);
}

/* Releases what a claim owns: its name unless borrowed, its issuer and value unless lent. */
static void claim_release(const struct claim *c)
{
	if (!(c->flags & CLAIM_F_TYPE_BORROWED))
		free((char *)c->type);
	if (c->flags & CLAIM_F_LENT)
		return; /* the value and issuer are a lender's */
	issuer_free(c->issuer);
	json_decref(c->value);
}

struct claim_set *claim_set_new(void)
{
	/* Not calloc: the inline claims are written before they are read. */
	struct claim_set *s = malloc(sizeof(*s));

	if (s != NULL) {
		s->v = s->inl;
		s->n = 0;
		s->cap = CLAIM_SET_INLINE;
		atomic_init(&s->refs, 1);
		s->nlenders = 0;
		s->depth = 0;
		atomic_init(&s->lends, false);
	}
	return s;
}

/* Grows the claim array to cap entries (cap > set->cap, within the bound). */
static int grow(struct claim_set *set, size_t cap)
{
	struct claim *v;

	if (set->v == set->inl) {
		if ((v = malloc(cap * sizeof(*v))) == NULL)
			return ATTEST_E_NOMEM;
		memcpy(v, set->inl, set->n * sizeof(*v));
	} else if ((v = realloc(set->v, cap * sizeof(*v))) == NULL) {
		return ATTEST_E_NOMEM;
	}
	set->v = v;
	set->cap = cap;
	return ATTEST_OK;
}

/* One more reference to a set (the sets that borrow from it hold one each). */
static struct claim_set *set_ref(const struct claim_set *set)
{
	/* The count is the one mutable part of a set others hold (claims.h). */
	struct claim_set *s = (struct claim_set *)set;

	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void claim_set_free(struct claim_set *set)
{
	if (set == NULL)
		return;
	/*
	 * The caller's is the only reference when the count is 1 (no one else
	 * holds one to add another): no atomic write then, the common case.
	 */
	if (atomic_load_explicit(&set->refs, memory_order_acquire) != 1 &&
	    atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < set->n; i++)
		if ((set->v[i].flags & (CLAIM_F_LENT | CLAIM_F_TYPE_BORROWED)) != (CLAIM_F_LENT | CLAIM_F_TYPE_BORROWED))
			claim_release(&set->v[i]); /* (a lent claim with a borrowed name owns nothing) */
	if (set->v != set->inl)
		free(set->v);
	for (unsigned k = 0; k < set->nlenders; k++)
		claim_set_free(set->lenders[k]); /* after the claims that borrow from it */
	free(set);
}

/* Releases the last claim of a set (undoing an add). */
static void drop_last(struct claim_set *set)
{
	claim_release(&set->v[--set->n]);
}

int claim_set_reserve(struct claim_set *set, size_t n)
{
	if (set == NULL || n > CLAIM_SET_MAX - set->n)
		return ATTEST_E_NOMEM;
	if (set->n + n <= set->cap)
		return ATTEST_OK;
	return grow(set, set->n + n);
}

/* Room for one more claim: ATTEST_OK, or ATTEST_E_NOMEM (out of memory, or the set's bound). */
static int room_for_one(struct claim_set *set)
{
	size_t cap = set->cap * 2;

	if (set->n < set->cap)
		return ATTEST_OK;
	if (set->n >= CLAIM_SET_MAX)
		return ATTEST_E_NOMEM;
	return grow(set, cap < CLAIM_SET_MAX ? cap : CLAIM_SET_MAX);
}

static int add_claim(struct claim_set *set, const char *type, bool borrow, const char *issuer, json_t *value)
{
	struct claim *c;

	if (value == NULL)
		return ATTEST_E_NOMEM;
	if (room_for_one(set) != ATTEST_OK) {
		json_decref(value);
		return ATTEST_E_NOMEM;
	}
	c = &set->v[set->n];
	c->flags = borrow ? CLAIM_F_TYPE_BORROWED : 0;
	c->type = borrow ? type : strdup(type);
	c->issuer = issuer_const(issuer);
	if (c->issuer == NULL)
		c->issuer = strdup(issuer);
	if (c->type == NULL || c->issuer == NULL) {
		if (!borrow)
			free((char *)c->type);
		if (c->issuer != NULL)
			issuer_free(c->issuer);
		json_decref(value);
		return ATTEST_E_NOMEM;
	}
	c->value = value; /* transferred */
	set->n++;
	return ATTEST_OK;
}

int claim_set_add_issued(struct claim_set *set, const char *type, const char *issuer, json_t *value)
{
	return add_claim(set, type, false, issuer, value);
}

int claim_set_add_borrowed(struct claim_set *set, const char *type, const char *issuer, json_t *value)
{
	return add_claim(set, type, true, issuer, value);
}

/*
 * Whether set may borrow from lender: lender is one of set's lenders
 * already, or becomes one now (a reference taken). No when set lends
 * itself (see lends), when set holds CLAIM_SET_MAX_LENDERS others, or
 * when the chain would grow past CLAIM_SET_MAX_DEPTH.
 */
static bool keep_lender(struct claim_set *set, const struct claim_set *lender)
{
	struct claim_set *l = (struct claim_set *)lender; /* only its count and mark change */

	for (unsigned k = 0; k < set->nlenders; k++)
		if (set->lenders[k] == l)
			return true;
	if (set->nlenders == CLAIM_SET_MAX_LENDERS || l->depth + 1 > CLAIM_SET_MAX_DEPTH ||
	    atomic_load_explicit(&set->lends, memory_order_relaxed))
		return false;
	if (!atomic_load_explicit(&l->lends, memory_order_relaxed))
		atomic_store_explicit(&l->lends, true, memory_order_relaxed);
	set->lenders[set->nlenders++] = set_ref(l);
	if (set->depth < l->depth + 1)
		set->depth = l->depth + 1;
	return true;
}

int claim_set_add_lent_issued(struct claim_set *set, const struct claim_set *lender, size_t i, const char *type,
			      const char *issuer)
{
	const char *iss = issuer != NULL ? issuer_const(issuer) : NULL;
	const struct claim *c;
	struct claim *d;
	bool own_type;

	if (set == NULL || lender == NULL || set == lender || i >= lender->n || iss == NULL)
		return ATTEST_E_INVALID;
	c = &lender->v[i];
	if (!keep_lender(set, lender)) /* the same claim with its own reference */
		return add_claim(set, type ? type : c->type, type != NULL, iss, json_incref(c->value));
	if (room_for_one(set) != ATTEST_OK)
		return ATTEST_E_NOMEM;
	d = &set->v[set->n];
	/* A name the lender only borrows was promised to outlive the lender's first owner, not this set. */
	own_type = type == NULL && (c->flags & CLAIM_F_TYPE_BORROWED);
	d->type = type ? type : own_type ? strdup(c->type) : c->type;
	if (d->type == NULL)
		return ATTEST_E_NOMEM;
	d->flags = CLAIM_F_LENT | (own_type ? 0 : CLAIM_F_TYPE_BORROWED);
	d->issuer = iss;     /* a constant: never released */
	d->value = c->value; /* lender's: kept alive through set->lenders */
	set->n++;
	return ATTEST_OK;
}

int claim_set_add_lent_range(struct claim_set *set, const struct claim_set *lender, size_t first, size_t n,
			     unsigned flags)
{
	bool share = (flags & CLAIM_LEND_NAMES) != 0;

	if (set == NULL || lender == NULL || set == lender || first > lender->n || n > lender->n - first)
		return ATTEST_E_INVALID;
	if (!keep_lender(set, lender)) {
		for (size_t i = first; i < first + n; i++) {
			const struct claim *c = &lender->v[i];
			bool borrow = share && (c->flags & CLAIM_F_TYPE_BORROWED);
			int rc = add_claim(set, c->type, borrow, c->issuer, json_incref(c->value));

			if (rc != ATTEST_OK)
				return rc;
		}
		return ATTEST_OK;
	}
	if (claim_set_reserve(set, n) != ATTEST_OK)
		return ATTEST_E_NOMEM;
	for (size_t i = first; i < first + n; i++) {
		const struct claim *c = &lender->v[i];
		struct claim *d = &set->v[set->n];
		/* See claim_set_add_lent_issued: a name the lender only borrows is copied unless the caller vouches. */
		bool own_type = !share && (c->flags & CLAIM_F_TYPE_BORROWED);

		if ((d->type = own_type ? strdup(c->type) : c->type) == NULL)
			return ATTEST_E_NOMEM;
		d->flags = CLAIM_F_LENT | (own_type ? 0 : CLAIM_F_TYPE_BORROWED);
		d->issuer = c->issuer;
		d->value = c->value; /* lender's: kept alive through set->lenders */
		set->n++;
	}
	return ATTEST_OK;
}

int claim_set_move_all(struct claim_set *dst, struct claim_set *src)
{
	size_t n0;

	if (dst == NULL || src == NULL || dst == src)
		return ATTEST_E_INVALID;
	if (claim_set_reserve(dst, src->n) != ATTEST_OK)
		return ATTEST_E_NOMEM;
	if (atomic_load_explicit(&src->refs, memory_order_acquire) != 1 || src->nlenders > 0 ||
	    atomic_load_explicit(&src->lends, memory_order_relaxed)) {
		/* Others may read src's claims, or its values are a lender's: copies, src untouched. */
		n0 = dst->n;
		for (size_t i = 0; i < src->n; i++) {
			const struct claim *c = &src->v[i];

			if (add_claim(dst, c->type, (c->flags & CLAIM_F_TYPE_BORROWED) != 0, c->issuer,
				      json_incref(c->value)) != ATTEST_OK) {
				while (dst->n > n0) /* dst unchanged, as promised */
					drop_last(dst);
				return ATTEST_E_NOMEM;
			}
		}
		return ATTEST_OK;
	}
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v)); /* ownership moves with the entries */
	dst->n += src->n;
	src->n = 0;
	return ATTEST_OK;
}

int claim_set_add(struct claim_set *set, const char *type, json_t *value)
{
	return claim_set_add_issued(set, type, CLAIM_ISSUER_SERVICE, value);
}

int claim_set_add_str(struct claim_set *set, const char *type, const char *value)
{
	return claim_set_add(set, type, json_string(value));
}

int claim_set_add_int(struct claim_set *set, const char *type, int64_t value)
{
	return claim_set_add(set, type, json_integer((json_int_t)value));
}

int claim_set_add_bool(struct claim_set *set, const char *type, bool value)
{
	return claim_set_add(set, type, json_boolean(value));
}

/*
 * Encodings of up to CLAIM_TEXT_STACK bytes of text (a 64-byte report
 * data in hex, a certificate hash in base64url) are written on the stack
 * and handed to jansson without its UTF-8 scan: hex and base64url are
 * ASCII by construction.
 */
#define CLAIM_TEXT_STACK 256

int claim_set_add_hex(struct claim_set *set, const char *type, const uint8_t *p, size_t n)
{
	char buf[CLAIM_TEXT_STACK + 1], *s = buf;
	int rc;

	if (n > SIZE_MAX / 2 - 1)
		return ATTEST_E_NOMEM;
	if (2 * n > CLAIM_TEXT_STACK && (s = malloc(2 * n + 1)) == NULL)
		return ATTEST_E_NOMEM;
	hex_encode_to(p, n, s);
	rc = claim_set_add(set, type, json_stringn_nocheck(s, 2 * n));
	if (s != buf)
		free(s);
	return rc;
}

int claim_set_add_b64url(struct claim_set *set, const char *type, const uint8_t *p, size_t n)
{
	char buf[CLAIM_TEXT_STACK + 1], *s = buf;
	size_t len;
	int rc;

	if (n > SIZE_MAX / 2)
		return ATTEST_E_NOMEM;
	len = b64url_encoded_len(n);
	if (len > CLAIM_TEXT_STACK && (s = malloc(len + 1)) == NULL)
		return ATTEST_E_NOMEM;
	b64url_encode_to(p, n, s);
	rc = claim_set_add(set, type, json_stringn_nocheck(s, len));
	if (s != buf)
		free(s);
	return rc;
}

size_t claim_set_count(const struct claim_set *set) { return set->n; }

const struct claim *claim_set_at(const struct claim_set *set, size_t i)
{
	return i < set->n ? &set->v[i] : NULL;
}

const struct claim *claim_set_find(const struct claim_set *set, const char *type)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].type, type) == 0)
			return &set->v[i];
	return NULL;
}

const json_t *claim_set_get(const struct claim_set *set, const char *type)
{
	const struct claim *c = claim_set_find(set, type);

	return c ? c->value : NULL;
}

/* All values of c's type from c on, as an array (new reference). */
static json_t *claim_values_from(const struct claim_set *set, size_t first)
{
	json_t *arr = json_array();

	for (size_t j = first; arr != NULL && j < set->n; j++)
		if (strcmp(set->v[j].type, set->v[first].type) == 0 && json_array_append(arr, set->v[j].value) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	return arr;
}

json_t *claim_set_to_json(const struct claim_set *set)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj != NULL && i < set->n; i++) {
		const struct claim *c = &set->v[i];
		json_t *v;

		if (json_object_get(obj, c->type) != NULL)
			continue; /* a later value of a type already written as an array */
		v = claim_values_from(set, i);
		if (v != NULL && json_array_size(v) == 1) {
			json_t *only = json_incref(json_array_get(v, 0));

			json_decref(v);
			v = only;
		}
		if (v == NULL || json_object_set_new(obj, c->type, v) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

enum claim_value_type claim_value_type(const json_t *v)
{
	size_t i;
	json_t *e;

	if (v == NULL)
		return CLAIM_VT_INVALID;
	switch (json_typeof(v)) {
	case JSON_STRING: return CLAIM_VT_STRING;
	case JSON_INTEGER: return CLAIM_VT_INTEGER;
	case JSON_TRUE:
	case JSON_FALSE: return CLAIM_VT_BOOLEAN;
	case JSON_OBJECT: return CLAIM_VT_JSON;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v) && ((e) = json_array_get(v, i)) != NULL; i++)
			if (!json_is_string(e) && !json_is_integer(e) && !json_is_boolean(e))
				return CLAIM_VT_JSON;
		return CLAIM_VT_SET;
	default: return CLAIM_VT_INVALID;
	}
}

const char *claim_value_type_name(enum claim_value_type t)
{
	static const char *const N[] = {"Invalid", "String", "Integer", "Boolean", "Set", "JSON"};

	return (unsigned)t < sizeof(N) / sizeof(N[0]) ? N[t] : "Invalid";
}

int claim_set_add_set(struct claim_set *set, const char *type, json_t *values)
{
	if (values == NULL)
		return ATTEST_E_NOMEM;
	if (claim_value_type(values) != CLAIM_VT_SET) {
		json_decref(values);
		return ATTEST_E_INVALID;
	}
	return claim_set_add(set, type, values);
}

const struct claim *claim_set_find_issued(const struct claim_set *set, const char *type, const char *issuer)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].type, type) == 0 && strcmp(set->v[i].issuer, issuer) == 0)
			return &set->v[i];
	return NULL;
}

struct claim_set *claim_set_copy(const struct claim_set *set)
{
	struct claim_set *c = claim_set_new();

	for (size_t i = 0; c != NULL && i < set->n; i++)
		if (claim_set_add_issued(c, set->v[i].type, set->v[i].issuer, json_incref(set->v[i].value)) != ATTEST_OK) {
			claim_set_free(c);
			c = NULL;
		}
	return c;
}

/* Adds one {type: value} member: an array value is one claim per element. */
static int claims_add_member(struct claim_set *set, const char *type, json_t *v)
{
	size_t i;
	json_t *e;
	int rc = ATTEST_OK;

	if (!json_is_array(v))
		return claim_set_add(set, type, json_incref(v));
	json_array_foreach(v, i, e)
		if (rc == ATTEST_OK)
			rc = claim_set_add(set, type, json_incref(e));
	return rc;
}

int claim_set_from_json(const json_t *doc, struct claim_set **out, struct attest_err *err)
{
	struct claim_set *set = claim_set_new();
	const char *key;
	json_t *v;
	size_t i;
	int rc = set ? ATTEST_OK : ATTEST_E_NOMEM;

	if (rc == ATTEST_OK && json_is_object(doc)) {
		json_object_foreach((json_t *)doc, key, v)
			if (rc == ATTEST_OK)
				rc = claims_add_member(set, key, v);
	} else if (rc == ATTEST_OK && json_is_array(doc)) {
		json_array_foreach(doc, i, v) {
			const char *type = json_string_value(json_object_get(v, "type"));
			const char *issuer = json_string_value(json_object_get(v, "issuer"));
			json_t *value = json_object_get(v, "value");

			if (type == NULL || value == NULL) {
				claim_set_free(set);
				return attest_err_set(err, ATTEST_E_PARSE, "claims.json",
						      "claim %zu needs a string \"type\" and a \"value\"", i);
			}
			if (rc == ATTEST_OK)
				rc = claim_set_add_issued(set, type, issuer ? issuer : CLAIM_ISSUER_SERVICE,
							  json_incref(value));
		}
	} else if (rc == ATTEST_OK) {
		claim_set_free(set);
		return attest_err_set(err, ATTEST_E_PARSE, "claims.json",
				      "claims must be a JSON object {type: value} or an array of {type, value}");
	}
	if (rc != ATTEST_OK) {
		claim_set_free(set);
		return attest_err_set(err, rc, "claims.nomem", "out of memory");
	}
	*out = set;
	return ATTEST_OK;
}
