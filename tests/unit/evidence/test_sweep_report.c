/*
 * Sweep suite, the report (issue 13: "the mutation sweeps collected in one
 * suite with a count: mutations tried per vector, and zero accepted").
 * Runs after the suite's programs (ctest fixture sweep_suite: test_sweep_sgx,
 * _tdx, _collateral, _snp, _tpm, and test_azure_guest's sweep), reads
 * $ATTEST_BINARY_DIR/sweep-report.json
 * that they wrote, prints one table, and checks that every suite reported,
 * that no mutation was accepted, and that every real vector folder of
 * shared/vectors has rows (the few that cannot be swept are listed with
 * the reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <jansson.h>

static const char *const SUITES[] = {"sgx", "tdx", "collateral", "snp", "tpm", "azure_guest"};

/* Vector folders no sweep can cover, and why. */
static const char *const EXCLUDED[][2] = {
    {"oe/azure-samples-intel-sdk-release-00906ed50000-2023-02",
     "no collateral in shared/vectors covers its PCK certificate (EXPECTED.md): it cannot verify, so no "
     "mutant can"},
    {"tpm/event-logs",
     "logs without quoted PCRs: nothing authenticates them (parsing is fuzzed: fuzz/evidence)"},
};

static json_t *load_report(void)
{
	const char *bin = getenv("ATTEST_BINARY_DIR");
	char path[4096];
	json_t *doc;

	snprintf(path, sizeof(path), "%s/sweep-report.json", bin ? bin : ".");
	doc = json_load_file(path, 0, NULL);
	if (doc == NULL)
		fail_msg("%s is missing: run the sweep suite (ctest -L sweep)", path);
	return doc;
}

static bool has_rows(json_t *suites, const char *vector)
{
	const char *name;
	json_t *suite, *row;
	size_t i;

	json_object_foreach(suites, name, suite)
	{
		json_array_foreach(json_object_get(suite, "rows"), i, row)
		{
			if (strcmp(json_string_value(json_object_get(row, "vector")), vector) == 0)
				return true;
		}
	}
	return false;
}

static bool excluded(const char *vector)
{
	for (size_t i = 0; i < sizeof(EXCLUDED) / sizeof(EXCLUDED[0]); i++)
		if (strcmp(EXCLUDED[i][0], vector) == 0)
			return true;
	return false;
}

static void the_table_of_every_suite_shows_no_accepted_mutation(void **state)
{
	json_t *doc = load_report(), *suites = json_object_get(doc, "suites");
	json_int_t flips = 0, cuts = 0, same = 0, accepted = 0;
	double cpu = 0;

	fprintf(stderr, "\n%-11s %-56s %-24s %7s %8s %6s %5s %8s %6s\n", "suite", "vector", "part", "bytes",
		"flips", "cuts", "same", "ACCEPTED", "cpu s");
	for (size_t s = 0; s < sizeof(SUITES) / sizeof(SUITES[0]); s++) {
		json_t *suite = json_object_get(suites, SUITES[s]), *row;
		size_t i;

		if (suite == NULL)
			fail_msg("suite %s did not report (did its program run? ctest -L sweep)", SUITES[s]);
		json_array_foreach(json_object_get(suite, "rows"), i, row)
		{
			json_int_t a = json_integer_value(json_object_get(row, "accepted"));

			fprintf(stderr, "%-11s %-56s %-24s %7lld %8lld %6lld %5lld %8lld %6.1f\n", SUITES[s],
				json_string_value(json_object_get(row, "vector")),
				json_string_value(json_object_get(row, "part")),
				(long long)json_integer_value(json_object_get(row, "bytes")),
				(long long)json_integer_value(json_object_get(row, "flips")),
				(long long)json_integer_value(json_object_get(row, "cuts")),
				(long long)json_integer_value(json_object_get(row, "same_content")),
				(long long)a, json_number_value(json_object_get(row, "cpu_seconds")));
			cpu += json_number_value(json_object_get(row, "cpu_seconds"));
			flips += json_integer_value(json_object_get(row, "flips"));
			cuts += json_integer_value(json_object_get(row, "cuts"));
			same += json_integer_value(json_object_get(row, "same_content"));
			accepted += a;
		}
		fprintf(stderr, "%-11s stride %lld\n", SUITES[s],
			(long long)json_integer_value(json_object_get(suite, "stride")));
	}
	fprintf(
	    stderr,
	    "TOTAL: %lld flips and %lld cuts tried, %lld same content, %lld accepted, %.0f CPU seconds\n\n",
	    (long long)flips, (long long)cuts, (long long)same, (long long)accepted, cpu);
	assert_true(flips > 0);
	assert_int_equal(accepted, 0);
	json_decref(doc);
}

static void every_real_vector_has_rows(void **state)
{
	static const char *const kinds[] = {"sgx", "oe", "tdx", "snp", "tpm"};
	json_t *doc, *suites;

	REQUIRE_VECTORS(dir);
	doc = load_report();
	suites = json_object_get(doc, "suites");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char path[4096];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/%s", dir, kinds[k]);
		assert_non_null(d = opendir(path));
		while ((e = readdir(d)) != NULL) {
			char vector[512];

			if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL) /* MANIFEST.md */
				continue;
			snprintf(vector, sizeof(vector), "%s/%s", kinds[k], e->d_name);
			if (excluded(vector))
				continue;
			if (!has_rows(suites, vector))
				fail_msg("vector %s has no row in the sweep report", vector);
		}
		closedir(d);
	}
	assert_true(has_rows(suites, "azure-cvm"));
	for (size_t i = 0; i < sizeof(EXCLUDED) / sizeof(EXCLUDED[0]); i++)
		fprintf(stderr, "not swept: %s: %s\n", EXCLUDED[i][0], EXCLUDED[i][1]);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_table_of_every_suite_shows_no_accepted_mutation),
	    cmocka_unit_test(every_real_vector_has_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
