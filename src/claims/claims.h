#ifndef ATTEST_CLAIMS_CLAIMS_H
#define ATTEST_CLAIMS_CLAIMS_H

/*
 * The claim set: what a verifier produces and the policy engine consumes.
 * A claim is (type, issuer, value); values are JSON values (string,
 * integer, boolean, object or array), which is also how tokens carry them.
 * A set may hold several claims of the same type (MAA's policy language
 * matches each in turn). Insertion order is kept; tokens list claims in it.
 *
 * Ownership: the set owns its claims; getters return borrowed pointers
 * valid until the set is changed or freed.
 *
 * Lending: a set may share another set's values without counting a
 * reference to each (claim_set_add_lent_range, claim_set_add_lent_issued).
 * The borrowing set holds one counted reference to the lending set
 * instead, so it can never outlive what it borrows: claim_set_free of the
 * lender drops its owner's reference and the lender goes with the last
 * set that borrows from it. Claims are never removed or replaced, so a
 * lent value stays the value it was. Values are shared, not copied (as
 * with claim_set_copy): changing one in place changes it for every set.
 * A name given to claim_set_add_borrowed must outlive every set that
 * borrows it (lending copies such names unless the caller vouches for
 * them, CLAIM_LEND_NAMES).
 * Threads: adding to a set is for its owner alone; once nobody adds, any
 * number of threads may read it, lend from it and free what they borrowed
 * (the counts are atomic).
 */

#include "attest/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLAIM_ISSUER_SERVICE "AttestationService"
#define CLAIM_ISSUER_POLICY "AttestationPolicy"
#define CLAIM_ISSUER_CUSTOM "CustomClaim"

struct claim {
	const char *type;
	const char *issuer;
	json_t *value;
	unsigned flags; /* CLAIM_F_* */
};

/* The type string is borrowed (claim_set_add_borrowed), not owned by the set. */
#define CLAIM_F_TYPE_BORROWED 0x1u
/*
 * The value (and the issuer) belong to another set that this set keeps
 * alive (lending): the set takes no reference to the value and does not
 * release it.
 */
#define CLAIM_F_LENT 0x2u

struct claim_set;

/* A new empty set, or NULL when out of memory. */
struct claim_set *claim_set_new(void);
/*
 * Drops the owner's reference; the last reference (the owner's or that of
 * the last set borrowing from it) releases the claims, the references this
 * set holds to its lenders, and the set. NULL is allowed.
 */
void claim_set_free(struct claim_set *set);

/* Adds a claim issued by CLAIM_ISSUER_SERVICE. The set takes `value` (stolen). */
int claim_set_add(struct claim_set *set, const char *type, json_t *value);
/* Adds a claim with an explicit issuer; `value` is stolen. */
int claim_set_add_issued(struct claim_set *set, const char *type, const char *issuer, json_t *value);
/*
 * The same without copying type: the caller guarantees the string outlives
 * the set (the policy engine's results borrow claim names from the plan they
 * keep a reference to). `value` is stolen.
 */
int claim_set_add_borrowed(struct claim_set *set, const char *type, const char *issuer, json_t *value);
/*
 * Lender's claims first .. first + n - 1, in order, with their values and
 * issuers, without a reference count per value: set keeps lender alive
 * instead (one counted reference per lender, taken when set first borrows
 * from it). Names: the lender's own are shared; a name the lender itself
 * borrows is copied (it was only promised to outlive the lender's owner),
 * unless flags has CLAIM_LEND_NAMES: the caller vouches that it outlives
 * set (the policy engine's result, which holds the plan). A set keeps up
 * to CLAIM_SET_MAX_LENDERS lenders, and a set that lends starts borrowing
 * from no other (so no cycle of sets keeps itself alive); past that the
 * claims are added with their own references (the same claims, slower).
 * Errors: ATTEST_E_INVALID (lender == set, or the range is not lender's),
 * ATTEST_E_NOMEM (the claims added before it stay).
 */
#define CLAIM_SET_MAX_LENDERS 4
#define CLAIM_LEND_NAMES 0x1u
int claim_set_add_lent_range(struct claim_set *set, const struct claim_set *lender, size_t first, size_t n,
			     unsigned flags);
/*
 * Lender's i-th claim under another name and issuer: type NULL (the
 * lender's, as above) or a string the caller guarantees outlives set (as
 * claim_set_add_borrowed); issuer one of the three CLAIM_ISSUER_* (a policy
 * issuing an incoming value as its own claim).
 * Errors: ATTEST_E_INVALID (no i-th claim, lender == set, another issuer),
 * ATTEST_E_NOMEM.
 */
int claim_set_add_lent_issued(struct claim_set *set, const struct claim_set *lender, size_t i, const char *type,
			      const char *issuer);
/*
 * Moves every claim of src, in order, to the end of dst: their names,
 * issuers and values change owner without a copy or a reference count
 * (a verifier that builds its claims in a set of its own, then hands them
 * to the caller's). src is left empty, still a set its owner frees. When
 * src lends to or borrows from another set, the claims are copied with
 * references instead and src keeps them: the same result for dst. A name src borrowed stays
 * borrowed: it must outlive dst too (a literal, as verifiers use).
 * Errors: ATTEST_E_INVALID (src == dst), ATTEST_E_NOMEM (past the bound
 * of 4096 claims or out of memory: dst and src unchanged).
 */
int claim_set_move_all(struct claim_set *dst, struct claim_set *src);
/*
 * Room for n more claims in one allocation (a caller that knows how many
 * it adds). ATTEST_E_NOMEM past the set's bound of 4096 claims.
 */
int claim_set_reserve(struct claim_set *set, size_t n);
int claim_set_add_str(struct claim_set *set, const char *type, const char *value);
int claim_set_add_int(struct claim_set *set, const char *type, int64_t value);
int claim_set_add_bool(struct claim_set *set, const char *type, bool value);
/* Lower-case hex string of the bytes (MAA's encoding of measurements). */
int claim_set_add_hex(struct claim_set *set, const char *type, const uint8_t *p, size_t n);
/* base64url (no padding) string of the bytes. */
int claim_set_add_b64url(struct claim_set *set, const char *type, const uint8_t *p, size_t n);

size_t claim_set_count(const struct claim_set *set);
/* The i-th claim in insertion order, or NULL. */
const struct claim *claim_set_at(const struct claim_set *set, size_t i);
/* The first claim of this type (any issuer), or NULL. */
const struct claim *claim_set_find(const struct claim_set *set, const char *type);
/* Its value, or NULL. */
const json_t *claim_set_get(const struct claim_set *set, const char *type);

/*
 * Value types (the policy language's valueType, maa-interface.md §3.3):
 * String, Integer, Boolean; a JSON array whose elements are all strings,
 * integers or booleans is a Set (a claim with several values, e.g. what
 * JsonToClaimValue makes of an array); any other array or an object is
 * JSON. Reals and null are CLAIM_VT_INVALID.
 */
enum claim_value_type {
	CLAIM_VT_INVALID = 0,
	CLAIM_VT_STRING,
	CLAIM_VT_INTEGER,
	CLAIM_VT_BOOLEAN,
	CLAIM_VT_SET,
	CLAIM_VT_JSON,
};
enum claim_value_type claim_value_type(const json_t *v);
/* "String", "Integer", "Boolean", "Set", "JSON", or "Invalid". */
const char *claim_value_type_name(enum claim_value_type t);

/*
 * Adds a set-valued claim (issuer AttestationService). `values` (stolen)
 * must be an array of strings, integers or booleans; otherwise
 * ATTEST_E_INVALID and the array is released.
 */
int claim_set_add_set(struct claim_set *set, const char *type, json_t *values);
/* The first claim of this type and issuer, or NULL. */
const struct claim *claim_set_find_issued(const struct claim_set *set, const char *type, const char *issuer);
/* A copy of the set (values shared by reference), or NULL when out of memory. */
struct claim_set *claim_set_copy(const struct claim_set *set);

/*
 * The set as one JSON object, {type: value}, in insertion order; a type
 * present several times becomes an array of its values. New reference.
 */
json_t *claim_set_to_json(const struct claim_set *set);

/*
 * The inverse, for claims a user supplies (attestctl policy test, libattest):
 * an object {type: value} where an array value gives one claim per element,
 * or an array of {"type", "value", "issuer"?}. *out is a new set.
 * Errors: claims.json (not of either form, with the element named).
 */
int claim_set_from_json(const json_t *doc, struct claim_set **out, struct attest_err *err);

#endif
