/* claim_set_from_json: the forms users write claims in, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "claims/claims.h"

#include <string.h>

static struct claim_set *from(const char *text, int want_rc, const char *want_name)
{
	struct claim_set *set = NULL;
	struct attest_err err;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);

	attest_err_clear(&err);
	assert_non_null(doc);
	assert_int_equal(claim_set_from_json(doc, &set, &err), want_rc);
	if (want_name)
		assert_string_equal(err.name, want_name);
	json_decref(doc);
	return set;
}

static void object_members_become_claims_and_arrays_become_several(void **state)
{
	struct claim_set *set = from("{\"a\": 1, \"b\": [\"x\", \"y\"], \"c\": {\"k\": true}}", ATTEST_OK, NULL);
	json_t *back;

	assert_int_equal(claim_set_count(set), 4);
	assert_int_equal(json_integer_value(claim_set_get(set, "a")), 1);
	assert_string_equal(json_string_value(claim_set_at(set, 1)->value), "x");
	assert_string_equal(json_string_value(claim_set_at(set, 2)->value), "y");
	assert_string_equal(claim_set_at(set, 0)->issuer, CLAIM_ISSUER_SERVICE);
	/* And back: the same object. */
	back = claim_set_to_json(set);
	assert_int_equal(json_array_size(json_object_get(back, "b")), 2);
	json_decref(back);
	claim_set_free(set);
}

static void array_elements_carry_type_value_and_issuer(void **state)
{
	struct claim_set *set =
		from("[{\"type\": \"t\", \"value\": 5, \"issuer\": \"CustomClaim\"}, {\"type\": \"u\", \"value\": null}]",
		     ATTEST_OK, NULL);

	assert_int_equal(claim_set_count(set), 2);
	assert_string_equal(claim_set_at(set, 0)->issuer, "CustomClaim");
	assert_true(json_is_null(claim_set_get(set, "u")));
	claim_set_free(set);
}

static void other_shapes_are_refused_with_the_element_named(void **state)
{
	assert_null(from("\"just a string\"", ATTEST_E_PARSE, "claims.json"));
	assert_null(from("[{\"value\": 1}]", ATTEST_E_PARSE, "claims.json"));
	assert_null(from("[{\"type\": 7, \"value\": 1}]", ATTEST_E_PARSE, "claims.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(object_members_become_claims_and_arrays_become_several),
		cmocka_unit_test(array_elements_carry_type_value_and_issuer),
		cmocka_unit_test(other_shapes_are_refused_with_the_element_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
