/*
 * jsonx_read (src/base/json_read.c): the reader's index, read without
 * building values. Which documents it accepts is held to jansson by
 * test_json_read (jsonx_load is this index turned into values); here: that
 * members, strings, numbers and the text of values come back as sent, and
 * duplicate keys are refused in objects of every size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/jsonx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int index_of(const char *text, struct jsonx_doc *doc)
{
	return jsonx_read(text, strlen(text), doc, NULL, 0, NULL);
}

static void members_strings_and_numbers_come_back_as_sent(void **state)
{
	static const char text[] = " {\"a\": \"plain\", \"b\\u0041\": \"t\\u00e9\\n\", \"n\": -42,"
				   " \"r\": 2.5e1, \"t\": true, \"z\": null, \"s\": \"x\\u0000y\"} ";
	struct jsonx_doc d;
	const struct jsonx_node *root, *v;
	const char *s;
	size_t n = 0;

	(void)state;
	assert_int_equal(index_of(text, &d), ATTEST_OK);
	root = &d.nodes[0];
	assert_int_equal(root->kind, JSONX_OBJECT);
	assert_int_equal(root->count, 7);
	s = jsonx_str(&d, jsonx_member(&d, root, "a"), &n);
	assert_non_null(s);
	assert_int_equal(n, 5);
	assert_memory_equal(s, "plain", 5);
	assert_ptr_equal(s, text + 8); /* plain strings are not copied */
	s = jsonx_str(&d, jsonx_member(&d, root, "bA"), &n); /* an escaped key matches decoded */
	assert_non_null(s);
	assert_int_equal(n, 4);
	assert_memory_equal(s, "t\xc3\xa9\n", 4);
	v = jsonx_member(&d, root, "n");
	assert_int_equal(v->kind, JSONX_INTEGER);
	assert_true(v->num.i == -42);
	v = jsonx_member(&d, root, "r");
	assert_int_equal(v->kind, JSONX_REAL);
	assert_true(v->num.d == 25.0);
	s = jsonx_text(&d, v, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(s, "2.5e1", 5);
	assert_int_equal(jsonx_member(&d, root, "t")->kind, JSONX_TRUE);
	assert_int_equal(jsonx_member(&d, root, "z")->kind, JSONX_NULL);
	s = jsonx_str(&d, jsonx_member(&d, root, "s"), &n); /* NUL inside a string is kept */
	assert_int_equal(n, 3);
	assert_memory_equal(s, "x\0y", 3);
	assert_null(jsonx_member(&d, root, "missing"));
	assert_null(jsonx_member(&d, jsonx_member(&d, root, "a"), "x")); /* not an object */
	assert_null(jsonx_member(&d, NULL, "a"));
	assert_null(jsonx_str(&d, jsonx_member(&d, root, "n"), &n)); /* not a string */
	assert_null(jsonx_text(&d, jsonx_member(&d, root, "a"), &n));
	jsonx_doc_free(&d);
}

/* The text of a nested value is exactly its bytes in the document (a hash over it covers what was sent). */
static void nested_values_keep_their_exact_text(void **state)
{
	static const char text[] = "{\"x\":1,\"att\":{ \"rs\" : {\"k\" :[1, 2 ,{\"q\":\"\\\"\"}] } ,\"y\":[]}}";
	struct jsonx_doc d;
	const struct jsonx_node *rs;
	const char *s;
	size_t n = 0;

	(void)state;
	assert_int_equal(index_of(text, &d), ATTEST_OK);
	rs = jsonx_member(&d, jsonx_member(&d, &d.nodes[0], "att"), "rs");
	s = jsonx_text(&d, rs, &n);
	assert_non_null(s);
	assert_int_equal(n, strlen("{\"k\" :[1, 2 ,{\"q\":\"\\\"\"}] }"));
	assert_memory_equal(s, "{\"k\" :[1, 2 ,{\"q\":\"\\\"\"}] }", n);
	s = jsonx_text(&d, &d.nodes[0], &n);
	assert_int_equal(n, strlen(text));
	jsonx_doc_free(&d);
}

static void arrays_and_objects_iterate_in_order(void **state)
{
	static const char text[] = "[{\"a\":[1,[2,3]],\"b\":{}}, 7, [], \"s\"]";
	struct jsonx_doc d;
	const struct jsonx_node *root, *e, *k;
	int kinds[4], i = 0;
	const char *names[2];
	int nk = 0;

	(void)state;
	assert_int_equal(index_of(text, &d), ATTEST_OK);
	root = &d.nodes[0];
	assert_int_equal(root->count, 4);
	for (e = jsonx_first(&d, root); e != NULL; e = jsonx_next(&d, root, e)) {
		assert_true(i < 4);
		kinds[i++] = e->kind;
	}
	assert_int_equal(i, 4);
	assert_int_equal(kinds[0], JSONX_OBJECT);
	assert_int_equal(kinds[1], JSONX_INTEGER);
	assert_int_equal(kinds[2], JSONX_ARRAY);
	assert_int_equal(kinds[3], JSONX_STRING);
	e = jsonx_first(&d, root);
	for (k = jsonx_first(&d, e); k != NULL; k = jsonx_next(&d, e, k)) {
		size_t n;

		names[nk++] = jsonx_str(&d, k, &n);
		assert_true(nk <= 2);
	}
	assert_int_equal(nk, 2);
	assert_memory_equal(names[0], "a", 1);
	assert_memory_equal(names[1], "b", 1);
	assert_null(jsonx_first(&d, jsonx_member(&d, e, "b"))); /* empty */
	assert_null(jsonx_first(&d, jsonx_next(&d, root, e)));  /* not a container */
	/* A cursor that is no member of the container (a last value, a node outside it, NULL): NULL. */
	assert_null(jsonx_next(&d, e, jsonx_member(&d, e, "b")));
	assert_null(jsonx_next(&d, e, root));
	assert_null(jsonx_next(&d, e, NULL));
	assert_null(jsonx_next(&d, jsonx_member(&d, e, "b"), &d.nodes[d.n - 1]));
	jsonx_doc_free(&d);
}

/* {"k0":0, ..., "k<n-1>":n-1} with key `dup` written a second time at the end when dup >= 0. */
static char *object_text(int n, int dup)
{
	size_t cap = (size_t)n * 24 + 64, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	t[len++] = '{';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, "%s\"k%d\":%d", i ? "," : "", i, i);
	if (dup >= 0)
		len += (size_t)snprintf(t + len, cap - len, ",\"k%d\":0", dup);
	snprintf(t + len, cap - len, "}");
	return t;
}

/* Small objects are checked pairwise, large ones by sorting: a repeated key is refused in both. */
static void duplicate_keys_are_refused_in_objects_of_every_size(void **state)
{
	static const int sizes[] = {1, 2, 15, 16, 17, 40, 3000};
	struct jsonx_doc d;
	char msg[96];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = sizes[i];
		char *ok = object_text(n, -1), *first = object_text(n, 0), *last = object_text(n, n - 1);

		assert_int_equal(index_of(ok, &d), ATTEST_OK);
		assert_int_equal(d.nodes[0].count, (uint32_t)n);
		jsonx_doc_free(&d);
		assert_int_equal(jsonx_read(first, strlen(first), &d, msg, sizeof(msg), NULL), ATTEST_E_PARSE);
		assert_string_equal(msg, "duplicate object key");
		assert_null(d.nodes);
		assert_int_equal(jsonx_read(last, strlen(last), &d, msg, sizeof(msg), NULL), ATTEST_E_PARSE);
		assert_string_equal(msg, "duplicate object key");
		free(ok);
		free(first);
		free(last);
	}
	/* Escaped and plain spellings of one key are the same key. */
	assert_int_equal(index_of("{\"a\":1,\"\\u0061\":2}", &d), ATTEST_E_PARSE);
}

/* The error names the document and where the reader stopped, as jsonx_parse's. */
static void jsonx_index_errors_name_the_document_and_place(void **state)
{
	struct jsonx_doc d;
	struct attest_err err;

	(void)state;
	attest_err_clear(&err);
	assert_int_equal(jsonx_index("{\"a\":\n [1,}", 11, &d, "x.body", "request", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "x.body");
	assert_non_null(strstr(err.msg, "request is not valid JSON"));
	assert_string_equal(err.where, "request line 2 column 5");
	assert_null(d.nodes);
}

/* jsonx_json builds what jsonx_load builds. */
static void values_convert_to_jansson(void **state)
{
	static const char text[] = "{\"a\":[1,2.5,\"x\\ty\",true,false,null,{\"b\":{}}],\"c\":\"\"}";
	struct jsonx_doc d;
	json_t *mine, *theirs = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	(void)state;
	assert_int_equal(index_of(text, &d), ATTEST_OK);
	mine = jsonx_json(&d, &d.nodes[0]);
	assert_true(json_equal(mine, theirs));
	json_decref(mine);
	mine = jsonx_json(&d, jsonx_member(&d, &d.nodes[0], "a"));
	assert_true(json_equal(mine, json_object_get(theirs, "a")));
	json_decref(mine);
	json_decref(theirs);
	jsonx_doc_free(&d);
}

/* jsonx_is and jsonx_str_is: kinds, and strings equal byte for byte (escaped, NUL inside, not a string,
 * NULL). */
static void kinds_and_string_equality_are_exact(void **state)
{
	static const char text[] = "{\"t\": \"SevSnp\", \"e\": \"Sev\\u0053np\", \"z\": \"SevSnp\\u0000x\","
				   " \"n\": 7, \"p\": \"SevSn\"}";
	struct jsonx_doc d;
	const struct jsonx_node *root;

	(void)state;
	assert_int_equal(index_of(text, &d), ATTEST_OK);
	root = &d.nodes[0];
	assert_true(jsonx_is(root, JSONX_OBJECT));
	assert_false(jsonx_is(root, JSONX_ARRAY));
	assert_false(jsonx_is(NULL, JSONX_NULL));
	assert_true(jsonx_is(jsonx_member(&d, root, "n"), JSONX_INTEGER));
	assert_true(jsonx_str_is(&d, jsonx_member(&d, root, "t"), "SevSnp"));
	assert_true(jsonx_str_is(&d, jsonx_member(&d, root, "e"), "SevSnp"));  /* decoded escapes */
	assert_false(jsonx_str_is(&d, jsonx_member(&d, root, "z"), "SevSnp")); /* a NUL and more after it */
	assert_false(jsonx_str_is(&d, jsonx_member(&d, root, "p"), "SevSnp")); /* a prefix */
	assert_false(jsonx_str_is(&d, jsonx_member(&d, root, "t"), "SevSn"));
	assert_false(jsonx_str_is(&d, jsonx_member(&d, root, "n"), "7")); /* not a string */
	assert_false(jsonx_str_is(&d, NULL, "SevSnp"));
	jsonx_doc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(members_strings_and_numbers_come_back_as_sent),
	    cmocka_unit_test(kinds_and_string_equality_are_exact),
	    cmocka_unit_test(nested_values_keep_their_exact_text),
	    cmocka_unit_test(arrays_and_objects_iterate_in_order),
	    cmocka_unit_test(duplicate_keys_are_refused_in_objects_of_every_size),
	    cmocka_unit_test(jsonx_index_errors_name_the_document_and_place),
	    cmocka_unit_test(values_convert_to_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
