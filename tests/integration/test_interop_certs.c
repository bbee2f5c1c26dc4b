/*
 * Interop (issue 2): the official @azure/attestation client and the `jose`
 * package read a running attestd over HTTPS (NODE_EXTRA_CA_CERTS = its
 * development certificate): getAttestationSigners(), getOpenIdMetadata(),
 * and a token attestd signs (GET /policies/{type}) verified by jose against
 * the JWKS that /certs serves. The checks are in tests/interop/certs_interop.mjs;
 * this driver starts attestd, runs node, and stops attestd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

static bool node_ready(char *script, size_t cap)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char mod[1200];

	if (src == NULL)
		src = ".";
	snprintf(script, cap, "%s/tests/interop/certs_interop.mjs", src);
	snprintf(mod, sizeof(mod), "%s/tests/interop/node_modules/@azure/attestation/package.json", src);
	if (system("node --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: node is not installed (scripts/setup.sh installs it)\n");
		return false;
	}
	if (access(mod, R_OK) != 0 || access(script, R_OK) != 0) {
		fprintf(stderr, "SKIP: tests/interop/node_modules is absent (run scripts/setup.sh)\n");
		return false;
	}
	return true;
}

static void azure_client_and_jose_accept_what_attestd_publishes_and_signs(void **state)
{
	struct attestd_proc p;
	struct http_reply r;
	char script[1024];
	json_t *jwks;
	pid_t pid;
	int st = 0;

	(void)state;
	if (!node_ready(script, sizeof(script)))
		skip();
	assert_int_equal(attestd_start(&p, NULL), 0);
	assert_int_equal(http_do(&p, "GET", "/certs", NULL, NULL, 0, NULL, &r), 0);
	jwks = http_json(&r);
	http_reply_free(&r);
	if (json_array_size(json_object_get(jwks, "keys")) == 0) {
		json_decref(jwks);
		attestd_stop(&p, SIGTERM);
		attestd_cleanup(&p);
		fprintf(stderr, "SKIP: this build has no keys module, /certs is empty\n");
		skip();
	}
	json_decref(jwks);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("ATTESTD_URL", p.base, 1);
		setenv("ATTESTD_ADMIN", p.admin, 1);
		setenv("NODE_EXTRA_CA_CERTS", p.cacert, 1);
		unsetenv("HTTPS_PROXY");
		unsetenv("https_proxy");
		/* node is not instrumented: keep the sanitizer runtime out of it. */
		unsetenv("LD_PRELOAD");
		execlp("node", "node", script, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(attestd_stop(&p, SIGTERM), 0);
	attestd_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(azure_client_and_jose_accept_what_attestd_publishes_and_signs),
	};
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
