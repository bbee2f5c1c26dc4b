/* Unit tests of src/claims: the claim set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "claims/claims.h"

#include <stdlib.h>
#include <string.h>

static void typed_adders_store_json_values_issued_by_the_service(void **state)
{
	struct claim_set *s = claim_set_new();
	static const uint8_t bytes[] = {0xde, 0xad, 0xbe, 0xef, 0xff};

	assert_int_equal(claim_set_add_str(s, "s", "text"), 0);
	assert_int_equal(claim_set_add_int(s, "i", -5), 0);
	assert_int_equal(claim_set_add_bool(s, "b", true), 0);
	assert_int_equal(claim_set_add_hex(s, "h", bytes, sizeof(bytes)), 0);
	assert_int_equal(claim_set_add_b64url(s, "u", bytes, sizeof(bytes)), 0);
	assert_int_equal(claim_set_count(s), 5);
	assert_string_equal(json_string_value(claim_set_get(s, "s")), "text");
	assert_int_equal(json_integer_value(claim_set_get(s, "i")), -5);
	assert_true(json_is_true(claim_set_get(s, "b")));
	assert_string_equal(json_string_value(claim_set_get(s, "h")), "deadbeefff");
	assert_string_equal(json_string_value(claim_set_get(s, "u")), "3q2-7_8");
	assert_string_equal(claim_set_at(s, 0)->issuer, CLAIM_ISSUER_SERVICE);
	assert_null(claim_set_at(s, 5));
	assert_null(claim_set_get(s, "absent"));
	claim_set_free(s);
}

static void value_types_follow_the_policy_language(void **state)
{
	json_t *set = json_pack("[i,s,b]", 1, "a", 1), *mixed = json_pack("[i,{}]", 1), *obj = json_object();
	json_t *str = json_string("x"), *in = json_integer(1), *bo = json_false(), *re = json_real(1.5), *nu = json_null();

	assert_int_equal(claim_value_type(str), CLAIM_VT_STRING);
	assert_int_equal(claim_value_type(in), CLAIM_VT_INTEGER);
	assert_int_equal(claim_value_type(bo), CLAIM_VT_BOOLEAN);
	assert_int_equal(claim_value_type(set), CLAIM_VT_SET);
	assert_int_equal(claim_value_type(mixed), CLAIM_VT_JSON);
	assert_int_equal(claim_value_type(obj), CLAIM_VT_JSON);
	assert_int_equal(claim_value_type(re), CLAIM_VT_INVALID);
	assert_int_equal(claim_value_type(nu), CLAIM_VT_INVALID);
	assert_int_equal(claim_value_type(NULL), CLAIM_VT_INVALID);
	assert_string_equal(claim_value_type_name(CLAIM_VT_SET), "Set");
	assert_string_equal(claim_value_type_name(CLAIM_VT_INTEGER), "Integer");
	assert_string_equal(claim_value_type_name((enum claim_value_type)99), "Invalid");
	json_decref(set);
	json_decref(mixed);
	json_decref(obj);
	json_decref(str);
	json_decref(in);
	json_decref(bo);
	json_decref(re);
	json_decref(nu);
}

static void set_claims_hold_only_primitive_elements(void **state)
{
	struct claim_set *s = claim_set_new();

	assert_int_equal(claim_set_add_set(s, "pcrs", json_pack("[i,i,i]", 0, 1, 7)), 0);
	assert_int_equal(claim_set_add_set(s, "bad", json_pack("[i,[]]", 0)), ATTEST_E_INVALID);
	assert_int_equal(claim_set_add_set(s, "bad", json_object()), ATTEST_E_INVALID);
	assert_int_equal(claim_set_add_set(s, "bad", NULL), ATTEST_E_NOMEM);
	assert_int_equal(claim_set_count(s), 1);
	assert_int_equal(json_array_size(claim_set_get(s, "pcrs")), 3);
	claim_set_free(s);
}

static void issuers_are_kept_and_searchable(void **state)
{
	struct claim_set *s = claim_set_new();

	assert_int_equal(claim_set_add_issued(s, "k", CLAIM_ISSUER_CUSTOM, json_string("c")), 0);
	assert_int_equal(claim_set_add_str(s, "k", "svc"), 0);
	assert_string_equal(json_string_value(claim_set_find(s, "k")->value), "c");
	assert_string_equal(json_string_value(claim_set_find_issued(s, "k", CLAIM_ISSUER_SERVICE)->value), "svc");
	assert_null(claim_set_find_issued(s, "k", CLAIM_ISSUER_POLICY));
	claim_set_free(s);
}

static void null_value_is_refused(void **state)
{
	struct claim_set *s = claim_set_new();

	assert_int_equal(claim_set_add(s, "x", NULL), ATTEST_E_NOMEM);
	assert_int_equal(claim_set_count(s), 0);
	claim_set_free(s);
	claim_set_free(NULL);
}

static void set_is_bounded(void **state)
{
	struct claim_set *s = claim_set_new();
	int rc = 0, i;

	for (i = 0; i < 5000 && rc == 0; i++)
		rc = claim_set_add_int(s, "n", i);
	assert_int_equal(rc, ATTEST_E_NOMEM);
	assert_int_equal(claim_set_count(s), 4096);
	claim_set_free(s);
}

/* Room reserved ahead keeps the same bound and the same claims, whatever the reservation. */
static void reserve_keeps_the_bound_and_the_claims(void **state)
{
	struct claim_set *s = claim_set_new();
	int rc = 0, i;

	(void)state;
	assert_int_equal(claim_set_reserve(s, 4097), ATTEST_E_NOMEM);
	assert_int_equal(claim_set_reserve(s, 41), ATTEST_OK);
	for (i = 0; i < 41; i++)
		assert_int_equal(claim_set_add_int(s, "n", i), ATTEST_OK);
	assert_int_equal(claim_set_reserve(s, 3), ATTEST_OK); /* an odd capacity, then doubling */
	for (; i < 5000 && rc == 0; i++)
		rc = claim_set_add_int(s, "n", i);
	assert_int_equal(rc, ATTEST_E_NOMEM);
	assert_int_equal(claim_set_count(s), 4096);
	assert_int_equal(claim_set_reserve(s, 1), ATTEST_E_NOMEM);
	for (i = 0; i < 4096; i++)
		assert_int_equal(json_integer_value(claim_set_at(s, (size_t)i)->value), i);
	claim_set_free(s);
}

/* A set outgrows the claims held in its own allocation at any point without losing one. */
static void claims_move_out_of_the_set_intact(void **state)
{
	for (int split = 0; split < 40; split += 3) {
		struct claim_set *s = claim_set_new();
		int i;

		for (i = 0; i < split; i++)
			assert_int_equal(claim_set_add_int(s, "n", i), ATTEST_OK);
		assert_int_equal(claim_set_reserve(s, (size_t)split % 7), ATTEST_OK);
		for (; i < 70; i++)
			assert_int_equal(claim_set_add_borrowed(s, "n", CLAIM_ISSUER_SERVICE, json_integer(i)), ATTEST_OK);
		assert_int_equal(claim_set_count(s), 70);
		for (i = 0; i < 70; i++) {
			assert_int_equal(json_integer_value(claim_set_at(s, (size_t)i)->value), i);
			assert_string_equal(claim_set_at(s, (size_t)i)->type, "n");
		}
		claim_set_free(s); /* ASan: the inline claims are never freed, the array is */
	}
}

/* The hex and base64url adders give the codec's text whatever the length (on the stack or not). */
static void encoded_values_equal_the_codecs_text_at_every_length(void **state)
{
	static const size_t lens[] = {0, 1, 2, 3, 32, 64, 127, 128, 129, 191, 192, 193, 200, 1000};
	uint8_t bytes[1000];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct claim_set *s = claim_set_new();
		char *hex = hex_encode(bytes, lens[k]), *u = b64url_encode(bytes, lens[k]);

		assert_non_null(hex);
		assert_non_null(u);
		assert_int_equal(claim_set_add_hex(s, "h", bytes, lens[k]), ATTEST_OK);
		assert_int_equal(claim_set_add_b64url(s, "u", bytes, lens[k]), ATTEST_OK);
		assert_string_equal(json_string_value(claim_set_get(s, "h")), hex);
		assert_int_equal(json_string_length(claim_set_get(s, "h")), strlen(hex));
		assert_string_equal(json_string_value(claim_set_get(s, "u")), u);
		assert_int_equal(json_string_length(claim_set_get(s, "u")), strlen(u));
		free(hex);
		free(u);
		claim_set_free(s);
	}
}

/* An issuer given as the pointer a claim of another set carries is the same issuer. */
static void issuers_from_another_set_are_kept(void **state)
{
	struct claim_set *a = claim_set_new(), *b = claim_set_new();
	char custom[] = "SomeIssuer";

	(void)state;
	claim_set_add_issued(a, "x", CLAIM_ISSUER_POLICY, json_true());
	claim_set_add_issued(a, "y", custom, json_true());
	for (size_t i = 0; i < claim_set_count(a); i++) {
		const struct claim *c = claim_set_at(a, i);

		claim_set_add_issued(b, c->type, c->issuer, json_incref(c->value));
	}
	custom[0] = 'X'; /* the set holds its own copy of an issuer it does not know */
	assert_string_equal(claim_set_at(b, 0)->issuer, CLAIM_ISSUER_POLICY);
	assert_ptr_equal(claim_set_at(b, 0)->issuer, claim_set_at(a, 0)->issuer);
	assert_string_equal(claim_set_at(b, 1)->issuer, "SomeIssuer");
	assert_non_null(claim_set_find_issued(b, "x", CLAIM_ISSUER_POLICY));
	claim_set_free(a);
	claim_set_free(b);
}

static void to_json_groups_repeated_types_into_arrays(void **state)
{
	struct claim_set *s = claim_set_new();
	json_t *o;
	char *text;

	claim_set_add_int(s, "a", 1);
	claim_set_add_str(s, "b", "x");
	claim_set_add_int(s, "a", 2);
	claim_set_add(s, "c", json_pack("{s:i}", "k", 1));
	o = claim_set_to_json(s);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"a\":[1,2],\"b\":\"x\",\"c\":{\"k\":1}}");
	free(text);
	json_decref(o);
	claim_set_free(s);
}

static void copy_is_independent_and_shares_values(void **state)
{
	struct claim_set *s = claim_set_new(), *c;

	claim_set_add_str(s, "a", "x");
	claim_set_add_issued(s, "b", CLAIM_ISSUER_POLICY, json_true());
	c = claim_set_copy(s);
	assert_non_null(c);
	assert_int_equal(claim_set_count(c), 2);
	assert_ptr_equal(claim_set_get(c, "a"), claim_set_get(s, "a"));
	assert_string_equal(claim_set_at(c, 1)->issuer, CLAIM_ISSUER_POLICY);
	claim_set_add_int(c, "extra", 1);
	assert_int_equal(claim_set_count(s), 2);
	claim_set_free(s);
	assert_string_equal(json_string_value(claim_set_get(c, "a")), "x");
	claim_set_free(c);
}

static void borrowed_types_are_not_copied_or_freed(void **state)
{
	static const char name[] = "static-name";
	struct claim_set *s = claim_set_new();

	assert_int_equal(claim_set_add_borrowed(s, name, CLAIM_ISSUER_POLICY, json_true()), 0);
	assert_int_equal(claim_set_add_issued(s, "copied", "AnIssuer", json_true()), 0);
	assert_ptr_equal(claim_set_at(s, 0)->type, name);
	assert_true(claim_set_at(s, 0)->flags & CLAIM_F_TYPE_BORROWED);
	assert_false(claim_set_at(s, 1)->flags & CLAIM_F_TYPE_BORROWED);
	assert_string_equal(claim_set_at(s, 1)->issuer, "AnIssuer");
	claim_set_free(s); /* ASan: nothing freed twice, nothing leaked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(typed_adders_store_json_values_issued_by_the_service),
	    cmocka_unit_test(value_types_follow_the_policy_language),
	    cmocka_unit_test(set_claims_hold_only_primitive_elements),
	    cmocka_unit_test(issuers_are_kept_and_searchable),
	    cmocka_unit_test(null_value_is_refused),
	    cmocka_unit_test(set_is_bounded),
	    cmocka_unit_test(reserve_keeps_the_bound_and_the_claims),
	    cmocka_unit_test(claims_move_out_of_the_set_intact),
	    cmocka_unit_test(encoded_values_equal_the_codecs_text_at_every_length),
	    cmocka_unit_test(issuers_from_another_set_are_kept),
	    cmocka_unit_test(to_json_groups_repeated_types_into_arrays),
	    cmocka_unit_test(copy_is_independent_and_shares_values),
	    cmocka_unit_test(borrowed_types_are_not_copied_or_freed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
