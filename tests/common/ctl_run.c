/* attestctl for the CLI tests: see ctl_run.h. */
#include "ctl_run.h"

#include "proc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CTL_MAX_ARGS 32

const char *ctl_path(void)
{
	static char path[4096];
	const char *bin = getenv("ATTEST_BINARY_DIR");

	snprintf(path, sizeof(path), "%s/src/cli/attestctl", bin ? bin : ".");
	return access(path, X_OK) == 0 ? path : NULL;
}

int ctl_run(char **out, const char *const *lead, const char *a1, ...)
{
	char *argv[CTL_MAX_ARGS];
	char *o = NULL;
	const char *ctl = ctl_path();
	va_list ap;
	int i = 0, rc;

	if (ctl == NULL)
		return -1;
	argv[i++] = (char *)ctl;
	for (; lead != NULL && *lead != NULL && i < CTL_MAX_ARGS - 1; lead++)
		argv[i++] = (char *)*lead;
	va_start(ap, a1);
	for (const char *a = a1; a != NULL && i < CTL_MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[i++] = (char *)a;
	va_end(ap);
	argv[i] = NULL;
	rc = proc_run(&o, argv);
	if (out != NULL)
		*out = o;
	else
		free(o);
	return rc;
}
