#ifndef ATTEST_TESTUTIL_H
#define ATTEST_TESTUTIL_H

/*
 * Shared by the cmocka tests. Include after cmocka's prerequisites:
 *   #include <stdarg.h> <stddef.h> <stdint.h> <setjmp.h> <cmocka.h>
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * The folder of real vectors ($ATTEST_VECTORS, set by ctest), or NULL when it
 * is absent: tests that need it call skip() and say so.
 */
static inline const char *test_vectors_dir(void)
{
	const char *dir = getenv("ATTEST_VECTORS");
	struct stat st;

	if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}

/*
 * The exit code of a program all of whose tests need the vectors, when
 * they are absent: its .cmake sets SKIP_RETURN_CODE to it, so ctest
 * reports the program skipped (a group setup cannot skip in cmocka).
 */
#define TEST_EXIT_SKIPPED 77

/* In main(): returns TEST_EXIT_SKIPPED, saying why, when the vectors are absent. */
#define REQUIRE_VECTORS_OR_EXIT()                                                                            \
	do {                                                                                                 \
		if (test_vectors_dir() == NULL) {                                                            \
			fprintf(stderr, "SKIP: ../shared/vectors is absent; set ATTEST_VECTORS\n");          \
			return TEST_EXIT_SKIPPED;                                                            \
		}                                                                                            \
	} while (0)

/* Skips the current test, saying why, when the vectors are absent. */
#define REQUIRE_VECTORS(dirvar)                                                                    \
	const char *dirvar = test_vectors_dir();                                                   \
	do {                                                                                       \
		if (dirvar == NULL) {                                                              \
			fprintf(stderr, "SKIP: ../shared/vectors is absent; set ATTEST_VECTORS\n"); \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Reads a file below the vectors folder; NULL when it does not exist. */
static inline unsigned char *test_read_vector(const char *dir, const char *rel, size_t *len)
{
	char path[4096];
	FILE *f;
	unsigned char *p = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else if (p) {
			p[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

#endif
