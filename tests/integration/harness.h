#ifndef ATTEST_TESTS_INTEGRATION_HARNESS_H
#define ATTEST_TESTS_INTEGRATION_HARNESS_H

/*
 * Integration-test harness: starts a real attestd (the binary of the build
 * being tested: $ATTEST_BINARY_DIR/src/server/attestd, so the ASan build
 * tests the ASan server) on a free loopback port with a fresh data folder,
 * talks HTTPS to it with libcurl trusting its development certificate, and
 * stops it by its PID. $ATTESTD_WRAPPER (e.g. valgrind and its options)
 * runs attestd under that command, with longer waits (make valgrind).
 *
 *   struct attestd_proc p;
 *   attestd_start(&p, NULL);                      // or extra flags
 *   struct http_reply r; http_do(&p, "GET", "/certs", NULL, NULL, 0, NULL, &r);
 *   attestd_stop(&p, SIGTERM);                    // waits, returns exit status
 *   attestd_cleanup(&p);                          // removes the data folder
 *
 * Include after cmocka. Link libcurl, jansson.
 */

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct attestd_proc {
	pid_t pid;
	int port;
	char dir[256]; /* temp folder: data/, port, admin, out, err */
	char data[300];
	char cacert[400];
	char admin[128]; /* bootstrap administrator credential */
	char base[128];	 /* https://127.0.0.1:<port> */
	char binary[1024];
};

struct http_reply {
	long status;
	char *body; /* NUL-terminated (malloc) */
	size_t body_len;
	char headers[8192]; /* raw response head */
};

static inline void http_reply_free(struct http_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static inline void harness_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static inline bool harness_read_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return n > 0;
}

/* The attestd of this build; NULL (and a message) when it is not built. */
static inline const char *harness_binary(char *out, size_t cap)
{
	const char *bin = getenv("ATTEST_BINARY_DIR");

	snprintf(out, cap, "%s/src/server/attestd", bin ? bin : ".");
	if (access(out, X_OK) != 0) {
		fprintf(stderr, "attestd binary not found at %s (set ATTEST_BINARY_DIR)\n", out);
		return NULL;
	}
	return out;
}

/*
 * $ATTESTD_WRAPPER: a command that runs attestd, split at spaces and put
 * before it (e.g. "valgrind --log-file=/tmp/vg.%p --error-exitcode=99":
 * make valgrind). Fills argv[0..] (at most max words, each a pointer into
 * a static copy) and returns how many.
 */
static inline int harness_wrapper(const char **argv, int max)
{
	static char words[2048];
	const char *w = getenv("ATTESTD_WRAPPER");
	int n = 0;

	if (w == NULL || *w == '\0')
		return 0;
	snprintf(words, sizeof(words), "%s", w);
	for (char *save = NULL, *t = strtok_r(words, " ", &save); t != NULL && n < max;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	return n;
}

/* Fresh temp folder for p (keeps binary). */
static inline int attestd_prepare(struct attestd_proc *p)
{
	memset(p, 0, sizeof(*p));
	if (harness_binary(p->binary, sizeof(p->binary)) == NULL)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/attestd-it-XXXXXX");
	if (mkdtemp(p->dir) == NULL)
		return -1;
	snprintf(p->data, sizeof(p->data), "%s/data", p->dir);
	snprintf(p->cacert, sizeof(p->cacert), "%s/tls/dev-cert.pem", p->data);
	return 0;
}

/*
 * Starts attestd on p's folder (a restart keeps the folder and its state).
 * extra: NULL-terminated extra flags. Waits until it listens (port file).
 */
static inline int attestd_launch(struct attestd_proc *p, const char *const *extra)
{
	char port_file[300], admin_file[300], out[300], err[300], buf[64];
	const char *argv[80];
	int argc = 0;

	snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
	snprintf(admin_file, sizeof(admin_file), "%s/admin", p->dir);
	snprintf(out, sizeof(out), "%s/out", p->dir);
	snprintf(err, sizeof(err), "%s/err", p->dir);
	unlink(port_file);
	argc = harness_wrapper(argv, 16);
	argv[argc++] = p->binary;
	argv[argc++] = "--dev";
	argv[argc++] = "--data";
	argv[argc++] = p->data;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	argv[argc++] = "--bootstrap-admin-file";
	argv[argc++] = admin_file;
	argv[argc++] = "--workers";
	argv[argc++] = "2";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 78; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600),
		    fe = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fo >= 0)
			dup2(fo, STDOUT_FILENO);
		if (fe >= 0)
			dup2(fe, STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* Up to 30 s (300 s under a wrapper such as valgrind): the sanitizer build starts slowly and makes an
	 * RSA key. */
	for (int i = 0; i < (getenv("ATTESTD_WRAPPER") != NULL ? 30000 : 3000); i++) {
		int st;
		if (harness_read_file(port_file, buf, sizeof(buf))) {
			p->port = atoi(buf);
			snprintf(p->base, sizeof(p->base), "https://127.0.0.1:%d", p->port);
			harness_read_file(admin_file, p->admin, sizeof(p->admin));
			return 0;
		}
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			fprintf(stderr, "attestd exited during start-up (status %d); see %s\n", st, err);
			p->pid = 0;
			return -1;
		}
		harness_sleep_ms(10);
	}
	fprintf(stderr, "attestd did not start in time\n");
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	return -1;
}

static inline int attestd_start(struct attestd_proc *p, const char *const *extra)
{
	if (attestd_prepare(p) != 0)
		return -1;
	return attestd_launch(p, extra);
}

/* Sends sig and waits (up to 60 s); returns the exit status (-1 on signal death or timeout). */
static inline int attestd_stop(struct attestd_proc *p, int sig)
{
	int st = 0;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	for (int i = 0; i < (getenv("ATTESTD_WRAPPER") != NULL ? 30000 : 6000); i++) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid) {
			p->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		harness_sleep_ms(10);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	return -1;
}

static inline void attestd_cleanup(struct attestd_proc *p)
{
	char cmd[400];

	if (p->pid > 0)
		attestd_stop(p, SIGKILL);
	if (p->dir[0] == '\0')
		return;
	/* Keep the logs of a failing run when asked. */
	if (getenv("ATTEST_KEEP_TMP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", p->dir);
	}
}

/* ---- HTTPS client ------------------------------------------------------------ */

struct harness_sink {
	char *p;
	size_t n;
};

static inline size_t harness_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct harness_sink *s = ud;
	size_t add = size * nmemb;
	char *np = realloc(s->p, s->n + add + 1);

	if (np == NULL)
		return 0;
	memcpy(np + s->n, data, add);
	s->p = np;
	s->n += add;
	s->p[s->n] = '\0';
	return add;
}

static inline size_t harness_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct http_reply *r = ud;
	size_t add = size * nmemb, have = strlen(r->headers);

	if (have + add < sizeof(r->headers))
		memcpy(r->headers + have, data, add), r->headers[have + add] = '\0';
	return add;
}

/*
 * One request. headers: NULL-terminated "Name: value" strings. body may be
 * NULL. Returns 0 when an HTTP answer came back (any status).
 */
static inline int http_do(const struct attestd_proc *p, const char *method, const char *path,
			  const char *const *headers, const void *body, size_t body_len, const char *host_url,
			  struct http_reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct harness_sink sink = {0};
	char url[2048];
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	if (c == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", host_url ? host_url : p->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, p->cacert);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, harness_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, harness_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	bool expect = false;
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		hl = curl_slist_append(hl, headers[i]);
		expect |= strncasecmp(headers[i], "Expect:", 7) == 0;
	}
	/* No "Expect: 100-continue" unless the caller asks for it. */
	if (!expect)
		hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	r->body = sink.p ? sink.p : calloc(1, 1);
	r->body_len = sink.n;
	if (cc != CURLE_OK)
		fprintf(stderr, "curl %s %s: %s\n", method, url, curl_easy_strerror(cc));
	return cc == CURLE_OK ? 0 : -1;
}

/* A response header's value (first match, case-insensitive) into out; false when absent. */
static inline bool http_header(const struct http_reply *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *line = r->headers; line != NULL && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t n;
			while (*v == ' ')
				v++;
			n = strcspn(v, "\r\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

/* The body as JSON (new reference) or NULL. */
static inline json_t *http_json(const struct http_reply *r)
{
	return json_loadb(r->body, r->body_len, 0, NULL);
}

#endif
