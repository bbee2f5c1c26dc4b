/*
 * Lending between claim sets (claims.h): a set that borrows a value takes
 * no reference count on it and keeps the lending set alive instead, so it
 * can never outlive what it borrows. Each test frees the sets in the order
 * that would expose a wrong lifetime (the lender first); under ASan a
 * value read after its release, a set freed twice or a cycle of sets kept
 * alive for ever (a leak) fails the run. Moving claims between sets
 * (claim_set_move_all) is here too: the other way a set holds values it
 * did not make without counting references.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "claims/claims.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Lends lender's i-th claim to set (the lender's name and issuer). */
static int lend1(struct claim_set *set, const struct claim_set *lender, size_t i)
{
	return claim_set_add_lent_range(set, lender, i, 1, 0);
}

/* A set with claims "a" = "va", "b" = {"k": 1}, both issued by the service. */
static struct claim_set *lender_new(void)
{
	struct claim_set *s = claim_set_new();

	assert_non_null(s);
	assert_int_equal(claim_set_add_str(s, "a", "va"), 0);
	assert_int_equal(claim_set_add(s, "b", json_pack("{s:i}", "k", 1)), 0);
	return s;
}

static void lent_claims_share_the_value_without_a_reference(void **state)
{
	struct claim_set *l = lender_new(), *s = claim_set_new();
	json_t *v = claim_set_at(l, 1)->value;

	assert_int_equal(v->refcount, 1);
	assert_int_equal(lend1(s, l, 1), 0);
	assert_int_equal(claim_set_add_lent_issued(s, l, 0, "renamed", CLAIM_ISSUER_SERVICE), 0);
	assert_int_equal(v->refcount, 1); /* no reference taken */
	assert_ptr_equal(claim_set_at(s, 0)->value, v);
	assert_true(claim_set_at(s, 0)->flags & CLAIM_F_LENT);
	assert_ptr_equal(claim_set_at(s, 0)->type, claim_set_at(l, 1)->type); /* the lender owns it: shared */
	assert_string_equal(claim_set_at(s, 1)->type, "renamed");
	assert_string_equal(claim_set_at(s, 1)->issuer, CLAIM_ISSUER_SERVICE);
	assert_string_equal(json_string_value(claim_set_get(s, "renamed")), "va");
	claim_set_free(s);
	assert_int_equal(v->refcount, 1); /* and none dropped */
	claim_set_free(l);
}

static void a_borrowing_set_outlives_its_freed_lender(void **state)
{
	struct claim_set *l = lender_new(), *s = claim_set_new();

	assert_int_equal(lend1(s, l, 0), 0);
	assert_int_equal(lend1(s, l, 1), 0);
	claim_set_free(l); /* the owner lets go: the lender lives on in s */
	assert_string_equal(claim_set_at(s, 0)->type, "a");
	assert_string_equal(json_string_value(claim_set_at(s, 0)->value), "va");
	assert_int_equal(json_integer_value(json_object_get(claim_set_get(s, "b"), "k")), 1);
	claim_set_free(s); /* releases the lender too: ASan reports any leak or double free */
}

static void a_lender_changed_after_lending_keeps_lent_values(void **state)
{
	struct claim_set *l = lender_new(), *s = claim_set_new();

	assert_int_equal(lend1(s, l, 0), 0);
	for (int i = 0; i < 100; i++) /* the lender's array moves; lent values do not */
		assert_int_equal(claim_set_add_int(l, "n", i), 0);
	assert_string_equal(json_string_value(claim_set_at(s, 0)->value), "va");
	claim_set_free(l);
	assert_string_equal(json_string_value(claim_set_at(s, 0)->value), "va");
	claim_set_free(s);
}

static void a_name_the_lender_only_borrows_is_copied(void **state)
{
	char name[16];
	struct claim_set *l = claim_set_new(), *s = claim_set_new();

	strcpy(name, "short-lived");
	assert_int_equal(claim_set_add_borrowed(l, name, CLAIM_ISSUER_SERVICE, json_true()), 0);
	assert_int_equal(lend1(s, l, 0), 0);
	assert_ptr_not_equal(claim_set_at(s, 0)->type, name);
	assert_false(claim_set_at(s, 0)->flags & CLAIM_F_TYPE_BORROWED);
	claim_set_free(l);
	memset(name, 'x', sizeof(name) - 1); /* the name's owner is done with it */
	assert_string_equal(claim_set_at(s, 0)->type, "short-lived");
	claim_set_free(s);
}

static void lending_all_claims_adds_each_as_lending_one_would(void **state)
{
	static const char literal[] = "literal";
	struct claim_set *l = lender_new(), *all = claim_set_new(), *one = claim_set_new();

	assert_int_equal(claim_set_add_borrowed(l, literal, "SomeIssuer", json_integer(7)), 0);
	assert_int_equal(claim_set_add_str(all, "first", "mine"), 0);
	assert_int_equal(claim_set_add_lent_range(all, l, 0, claim_set_count(l), 0), 0);
	for (size_t i = 0; i < claim_set_count(l); i++)
		assert_int_equal(lend1(one, l, i), 0);
	assert_int_equal(claim_set_count(all), 1 + claim_set_count(l));
	for (size_t i = 0; i < claim_set_count(l); i++) {
		const struct claim *a = claim_set_at(all, i + 1), *o = claim_set_at(one, i), *c = claim_set_at(l, i);

		assert_string_equal(a->type, c->type);
		assert_ptr_equal(a->issuer, c->issuer);
		assert_ptr_equal(a->value, c->value);
		assert_int_equal(a->flags, o->flags);
		assert_int_equal(c->value->refcount, 1);
	}
	assert_ptr_not_equal(claim_set_at(all, 3)->type, literal); /* a name l only borrows: copied */
	assert_string_equal(claim_set_at(all, 3)->issuer, "SomeIssuer");
	assert_int_equal(claim_set_add_lent_range(l, l, 0, claim_set_count(l), 0), ATTEST_E_INVALID);
	claim_set_free(l);
	claim_set_free(one);
	assert_int_equal(json_integer_value(claim_set_get(all, "literal")), 7);
	claim_set_free(all);
}

static void lending_all_past_the_bounds_takes_references(void **state)
{
	struct claim_set *a = lender_new(), *b = lender_new();

	assert_int_equal(claim_set_add_lent_range(b, a, 0, 2, 0), 0); /* a lends: it may no longer borrow */
	assert_int_equal(claim_set_add_lent_range(a, b, 0, 4, 0), 0);
	assert_int_equal(claim_set_count(a), 6);
	assert_false(claim_set_at(a, 2)->flags & CLAIM_F_LENT);
	assert_int_equal(claim_set_at(b, 0)->value->refcount, 2);
	claim_set_free(b);
	claim_set_free(a);
}

static void lent_claims_may_carry_one_of_the_three_issuers(void **state)
{
	struct claim_set *l = lender_new(), *s = claim_set_new();
	char policy[] = CLAIM_ISSUER_POLICY; /* not the constant's address: compared by text */

	assert_int_equal(claim_set_add_lent_issued(s, l, 0, "mine", policy), 0);
	assert_int_equal(claim_set_add_lent_issued(s, l, 1, NULL, CLAIM_ISSUER_CUSTOM), 0);
	assert_int_equal(claim_set_add_lent_issued(s, l, 0, NULL, "SomeIssuer"), ATTEST_E_INVALID);
	assert_int_equal(claim_set_add_lent_issued(s, l, 0, NULL, NULL), ATTEST_E_INVALID);
	assert_int_equal(claim_set_count(s), 2);
	memset(policy, 0, sizeof(policy)); /* the set keeps its own constant, not the caller's text */
	assert_string_equal(claim_set_at(s, 0)->issuer, CLAIM_ISSUER_POLICY);
	assert_string_equal(claim_set_at(s, 1)->issuer, CLAIM_ISSUER_CUSTOM);
	assert_string_equal(claim_set_at(l, 0)->issuer, CLAIM_ISSUER_SERVICE); /* the lender's own unchanged */
	assert_ptr_equal(claim_set_at(s, 0)->value, claim_set_at(l, 0)->value);
	assert_non_null(claim_set_find_issued(s, "mine", CLAIM_ISSUER_POLICY));
	claim_set_free(l);
	assert_string_equal(json_string_value(claim_set_get(s, "mine")), "va");
	claim_set_free(s);
}

static void moving_hands_over_names_and_values_without_copies(void **state)
{
	static const char literal[] = "literal";
	struct claim_set *src = claim_set_new(), *dst = claim_set_new();
	json_t *v = json_string("moved");
	const char *owned_type;

	for (int i = 0; i < 30; i++) /* dst past its inline claims when the move lands */
		assert_int_equal(claim_set_add_int(dst, "d", i), 0);
	assert_int_equal(claim_set_add_issued(src, "owned", "SomeIssuer", v), 0);
	assert_int_equal(claim_set_add_borrowed(src, literal, CLAIM_ISSUER_SERVICE, json_true()), 0);
	owned_type = claim_set_at(src, 0)->type;
	assert_int_equal(claim_set_move_all(dst, src), 0);
	assert_int_equal(claim_set_count(src), 0);
	assert_int_equal(claim_set_count(dst), 32);
	assert_ptr_equal(claim_set_at(dst, 30)->type, owned_type); /* the same string, not a copy */
	assert_ptr_equal(claim_set_at(dst, 30)->value, v);
	assert_int_equal(v->refcount, 1);
	assert_string_equal(claim_set_at(dst, 30)->issuer, "SomeIssuer");
	assert_ptr_equal(claim_set_at(dst, 31)->type, literal);
	assert_true(claim_set_at(dst, 31)->flags & CLAIM_F_TYPE_BORROWED);
	assert_int_equal(claim_set_add_str(src, "again", "usable"), 0); /* src stays a set */
	claim_set_free(src);
	assert_string_equal(json_string_value(claim_set_get(dst, "owned")), "moved");
	assert_int_equal(claim_set_move_all(dst, dst), ATTEST_E_INVALID);
	claim_set_free(dst);
}

static void moving_from_a_shared_set_copies_and_leaves_it_whole(void **state)
{
	struct claim_set *src = lender_new(), *borrower = claim_set_new();
	struct claim_set *dst = claim_set_new();

	assert_int_equal(lend1(borrower, src, 0), 0); /* src lends: borrower holds a reference */
	assert_int_equal(claim_set_move_all(dst, src), 0);
	assert_int_equal(claim_set_count(src), 2);
	assert_int_equal(claim_set_at(src, 0)->value->refcount, 2); /* dst's reference */
	assert_int_equal(claim_set_move_all(dst, borrower), 0); /* borrower borrows: copied */
	assert_int_equal(claim_set_count(borrower), 1);
	claim_set_free(src);
	claim_set_free(borrower);
	assert_int_equal(claim_set_count(dst), 3);
	assert_string_equal(json_string_value(claim_set_at(dst, 2)->value), "va");
	claim_set_free(dst);
}

static void moving_past_the_bound_changes_neither_set(void **state)
{
	struct claim_set *src = lender_new(), *dst = claim_set_new();
	int rc = 0;

	for (int i = 0; i < 4095 && rc == 0; i++)
		rc = claim_set_add_int(dst, "n", i);
	assert_int_equal(rc, 0);
	assert_int_equal(claim_set_move_all(dst, src), ATTEST_E_NOMEM);
	assert_int_equal(claim_set_count(dst), 4095);
	assert_int_equal(claim_set_count(src), 2);
	claim_set_free(src);
	claim_set_free(dst);
}

static void lending_a_range_shares_borrowed_names_only_when_vouched_for(void **state)
{
	static const char literal[] = "literal";
	struct claim_set *l = lender_new(), *a = claim_set_new(), *b = claim_set_new();

	assert_int_equal(claim_set_add_borrowed(l, literal, CLAIM_ISSUER_POLICY, json_integer(3)), 0);
	assert_int_equal(claim_set_add_lent_range(a, l, 1, 2, CLAIM_LEND_NAMES), 0);
	assert_int_equal(claim_set_add_lent_range(b, l, 1, 2, 0), 0);
	assert_int_equal(claim_set_count(a), 2);
	assert_string_equal(claim_set_at(a, 0)->type, "b");
	assert_ptr_equal(claim_set_at(a, 1)->type, literal); /* vouched for: shared */
	assert_ptr_not_equal(claim_set_at(b, 1)->type, literal); /* not: copied */
	assert_string_equal(claim_set_at(b, 1)->type, literal);
	assert_ptr_equal(claim_set_at(a, 1)->value, claim_set_at(l, 2)->value);
	assert_int_equal(claim_set_add_lent_range(a, l, 0, 0, 0), 0); /* nothing: fine */
	assert_int_equal(claim_set_add_lent_range(a, l, 3, 1, 0), ATTEST_E_INVALID);
	assert_int_equal(claim_set_add_lent_range(a, l, 4, 0, 0), ATTEST_E_INVALID);
	assert_int_equal(claim_set_add_lent_range(a, l, 1, SIZE_MAX, 0), ATTEST_E_INVALID);
	assert_int_equal(claim_set_count(a), 2);
	claim_set_free(l);
	claim_set_free(b);
	assert_int_equal(json_integer_value(claim_set_get(a, "literal")), 3);
	claim_set_free(a);
}

static void lending_refuses_itself_and_claims_it_does_not_have(void **state)
{
	struct claim_set *l = lender_new(), *s = claim_set_new();

	assert_int_equal(lend1(s, l, 2), ATTEST_E_INVALID);
	assert_int_equal(lend1(l, l, 0), ATTEST_E_INVALID);
	assert_int_equal(lend1(NULL, l, 0), ATTEST_E_INVALID);
	assert_int_equal(lend1(s, NULL, 0), ATTEST_E_INVALID);
	assert_int_equal(claim_set_count(s), 0);
	assert_int_equal(claim_set_count(l), 2);
	claim_set_free(s);
	claim_set_free(l);
}

static void past_the_lender_bound_claims_take_a_reference(void **state)
{
	struct claim_set *l[CLAIM_SET_MAX_LENDERS + 1], *s = claim_set_new();
	json_t *last;

	for (int k = 0; k <= CLAIM_SET_MAX_LENDERS; k++) {
		l[k] = lender_new();
		assert_int_equal(lend1(s, l[k], 0), 0);
		assert_int_equal(lend1(s, l[k], 1), 0);
	}
	last = claim_set_at(l[CLAIM_SET_MAX_LENDERS], 0)->value;
	assert_int_equal(claim_set_at(l[0], 0)->value->refcount, 1);
	assert_int_equal(last->refcount, 2); /* the fifth lender is not kept: its values are referenced */
	assert_false(claim_set_at(s, 2 * CLAIM_SET_MAX_LENDERS)->flags & CLAIM_F_LENT);
	for (int k = 0; k <= CLAIM_SET_MAX_LENDERS; k++)
		claim_set_free(l[k]);
	assert_int_equal(last->refcount, 1);
	assert_int_equal(claim_set_count(s), 2 * (CLAIM_SET_MAX_LENDERS + 1));
	assert_string_equal(json_string_value(claim_set_at(s, 2 * CLAIM_SET_MAX_LENDERS)->value), "va");
	claim_set_free(s);
}

static void a_set_that_lends_borrows_by_reference_so_no_cycle_forms(void **state)
{
	struct claim_set *a = lender_new(), *b = lender_new();

	assert_int_equal(lend1(b, a, 0), 0); /* a lends to b */
	assert_int_equal(lend1(a, b, 1), 0); /* a may not keep b: b keeps a */
	assert_false(claim_set_at(a, 2)->flags & CLAIM_F_LENT);
	assert_int_equal(claim_set_at(b, 1)->value->refcount, 2);
	claim_set_free(a);
	claim_set_free(b); /* with a cycle, both would leak: LeakSanitizer fails the test */
}

static void lending_chains_are_bounded(void **state)
{
	struct claim_set *s[12];

	s[0] = lender_new();
	for (int k = 1; k < 12; k++) {
		s[k] = claim_set_new();
		assert_int_equal(lend1(s[k], s[k - 1], 0), 0);
		/*
		 * Links 1-8 borrow; the 9th would make the chain too long and
		 * takes a reference instead, keeping nothing, so a chain starts
		 * again from it.
		 */
		assert_int_equal(!!(claim_set_at(s[k], 0)->flags & CLAIM_F_LENT), k != 9);
	}
	for (int k = 0; k < 12; k++)
		claim_set_free(s[k]); /* lenders first: the last set releases the chain */
	/* (LeakSanitizer checks the chain went with it.) */
}

/*
 * Four threads borrowing from one shared set, each through a set of its
 * own that holds a counted reference to it (made before the threads
 * start) and that it frees when done, while the shared set's owner frees
 * it as they start: the last thread to finish releases the shared set
 * and, through it, the set the shared one borrows from.
 */
#define LEND_THREADS 4

struct lend_thread {
	const struct claim_set *shared;
	struct claim_set *holder; /* borrows from shared: this thread's reference to it */
	pthread_barrier_t *go;
	int rounds;
	int ok;
};

static void *borrow_many(void *arg)
{
	struct lend_thread *t = arg;

	pthread_barrier_wait(t->go);
	t->ok = 1;
	for (int i = 0; i < t->rounds; i++) {
		struct claim_set *s = claim_set_new();

		/* All threads borrow from shared at once: its count and lending mark are shared. */
		if (s == NULL || lend1(s, t->shared, 0) != ATTEST_OK || !(claim_set_at(s, 0)->flags & CLAIM_F_LENT) ||
		    strcmp(json_string_value(claim_set_at(s, 0)->value), "va") != 0)
			t->ok = 0;
		claim_set_free(s);
	}
	claim_set_free(t->holder); /* this thread's reference to the shared set: maybe the last */
	return NULL;
}

static void concurrent_borrowers_count_the_lender_safely(void **state)
{
	struct claim_set *l = lender_new();
	struct claim_set *shared = claim_set_new();
	pthread_barrier_t go;
	pthread_t th[LEND_THREADS];
	struct lend_thread t[LEND_THREADS];

	/* shared borrows from l; l's owner lets go before the threads start. */
	assert_int_equal(lend1(shared, l, 0), 0);
	claim_set_free(l);
	assert_int_equal(pthread_barrier_init(&go, NULL, LEND_THREADS + 1), 0);
	for (int k = 0; k < LEND_THREADS; k++) {
		struct claim_set *holder = claim_set_new();

		assert_non_null(holder);
		assert_int_equal(lend1(holder, shared, 0), 0);
		t[k] = (struct lend_thread){shared, holder, &go, 500 * (k + 1), 0};
		assert_int_equal(pthread_create(&th[k], NULL, borrow_many, &t[k]), 0);
	}
	pthread_barrier_wait(&go);
	claim_set_free(shared); /* the owner's reference, while the threads borrow */
	for (int k = 0; k < LEND_THREADS; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(t[k].ok, 1);
	}
	pthread_barrier_destroy(&go);
	/* LeakSanitizer: shared and l went with the last thread's holder. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lent_claims_share_the_value_without_a_reference),
	    cmocka_unit_test(a_borrowing_set_outlives_its_freed_lender),
	    cmocka_unit_test(a_lender_changed_after_lending_keeps_lent_values),
	    cmocka_unit_test(a_name_the_lender_only_borrows_is_copied),
	    cmocka_unit_test(lending_all_claims_adds_each_as_lending_one_would),
	    cmocka_unit_test(lending_all_past_the_bounds_takes_references),
	    cmocka_unit_test(lent_claims_may_carry_one_of_the_three_issuers),
	    cmocka_unit_test(moving_hands_over_names_and_values_without_copies),
	    cmocka_unit_test(moving_from_a_shared_set_copies_and_leaves_it_whole),
	    cmocka_unit_test(moving_past_the_bound_changes_neither_set),
	    cmocka_unit_test(lending_a_range_shares_borrowed_names_only_when_vouched_for),
	    cmocka_unit_test(lending_refuses_itself_and_claims_it_does_not_have),
	    cmocka_unit_test(past_the_lender_bound_claims_take_a_reference),
	    cmocka_unit_test(a_set_that_lends_borrows_by_reference_so_no_cycle_forms),
	    cmocka_unit_test(lending_chains_are_bounded),
	    cmocka_unit_test(concurrent_borrowers_count_the_lender_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
