#ifndef ATTEST_TEST_CTL_RUN_H
#define ATTEST_TEST_CTL_RUN_H

/*
 * attestctl for the CLI tests: the program of this build and one way to run
 * it with a few fixed leading arguments (a server's --url, --cacert,
 * --token) then the test's own. Link it through the program's <prog>.cmake:
 *   target_sources(${ATTEST_PROGRAM} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common/ctl_run.c)
 */

/* $ATTEST_BINARY_DIR/src/cli/attestctl (./src/cli/attestctl without it); NULL when not executable. */
const char *ctl_path(void);

/*
 * Runs attestctl with the arguments of lead (NULL-terminated; NULL for
 * none) then a1 and what follows it up to a NULL, 30 in all at most.
 * Returns its exit status (proc.h); *out (when out is not NULL) gets its
 * output, freed by the caller.
 */
int ctl_run(char **out, const char *const *lead, const char *a1, ...);

#endif
