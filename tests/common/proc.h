#ifndef ATTEST_TEST_PROC_H
#define ATTEST_TEST_PROC_H

/*
 * Runs a program for end-to-end tests and captures what it printed.
 * proc_run(&out, argv) returns the exit status (or 128+signal); out holds
 * stdout followed by stderr, NUL-terminated, freed with free().
 * attestd runs under $ATTESTD_WRAPPER when set (make valgrind).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * execv, under $ATTESTD_WRAPPER (split at spaces, e.g. valgrind and its
 * options: make valgrind) when the program is attestd. Returns only on
 * failure.
 */
static inline void proc_exec(char *const argv[])
{
	const char *w = getenv("ATTESTD_WRAPPER");
	const char *base = strrchr(argv[0], '/');
	char words[2048], *args[128];
	int n = 0;

	if (w == NULL || *w == '\0' || strcmp(base ? base + 1 : argv[0], "attestd") != 0) {
		execv(argv[0], argv);
		return;
	}
	snprintf(words, sizeof(words), "%s", w);
	for (char *save = NULL, *t = strtok_r(words, " ", &save); t != NULL && n < 64;
	     t = strtok_r(NULL, " ", &save))
		args[n++] = t;
	for (int i = 0; argv[i] != NULL && n < 127; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(args[0], args);
}

static inline int proc_run_input(char **out, char *const argv[], const char *stdin_text)
{
	char tmpl[] = "/tmp/attest-proc-XXXXXX";
	int fd = mkstemp(tmpl), in[2] = {-1, -1}, status = 0;
	pid_t pid;
	long n;

	if (fd < 0 || (stdin_text && pipe(in) != 0))
		return -1;
	unlink(tmpl);
	pid = fork();
	if (pid == 0) {
		if (stdin_text) {
			dup2(in[0], 0);
			close(in[1]);
		} else {
			int nul = open("/dev/null", O_RDONLY);
			dup2(nul, 0);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		proc_exec(argv);
		_exit(127);
	}
	if (stdin_text) {
		close(in[0]);
		if (write(in[1], stdin_text, strlen(stdin_text)) < 0)
			status = -1;
		close(in[1]);
	}
	waitpid(pid, &status, 0);
	n = lseek(fd, 0, SEEK_END);
	*out = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (*out && n > 0 && pread(fd, *out, (size_t)n, 0) != n)
		(*out)[0] = 0;
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline int proc_run(char **out, char *const argv[])
{
	return proc_run_input(out, argv, NULL);
}

#endif
