/*
 * attestctl end to end against a real attestd (HTTPS, a fresh data folder,
 * the development platform trusted through --trust-roots): attest with its
 * exit codes, token verify against the server's own /certs, providers,
 * policies, signing keys and the signers of an isolated provider.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "proc.h"

static char ctl[4096];

struct env {
	struct attestd_proc srv;
	char dir[128]; /* the development platform and scratch files */
	char roots[200], coll[200], quote[200], token[64 + 128];
};

/* Runs attestctl against srv with the admin credential; returns the exit code. */
static int run_ctl(const struct env *e, char **out, const char *a1, ...)
{
	char *argv[32] = {ctl, "--url", (char *)e->srv.base, "--cacert", (char *)e->srv.cacert, "--token",
			  (char *)e->srv.admin};
	va_list ap;
	int i = 7;

	va_start(ap, a1);
	for (const char *a = a1; a != NULL && i < 31; a = va_arg(ap, const char *))
		argv[i++] = (char *)a;
	va_end(ap);
	argv[i] = NULL;
	return proc_run(out, argv);
}

#define EXPECT_CTL(e, rc, text, ...)                                                                  \
	do {                                                                                          \
		const char *t_ = (text);                                                              \
		char *o_ = NULL;                                                                      \
		int r_ = run_ctl(e, &o_, __VA_ARGS__, NULL);                                          \
		if (r_ != (rc) || strstr(o_, t_) == NULL)                                             \
			fail_msg("attestctl exit %d (want %d), output:\n%s\n(wanted \"%s\")", r_, (rc), o_, t_); \
		free(o_);                                                                             \
	} while (0)

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *bin = getenv("ATTEST_BINARY_DIR");
	char *out = NULL;

	snprintf(ctl, sizeof(ctl), "%s/src/cli/attestctl", bin ? bin : ".");
	snprintf(e->dir, sizeof(e->dir), "/tmp/attestctl-e2e-XXXXXX");
	if (e == NULL || access(ctl, X_OK) != 0 || mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->roots, sizeof(e->roots), "%s/roots.pem", e->dir);
	snprintf(e->coll, sizeof(e->coll), "%s/collateral", e->dir);
	snprintf(e->quote, sizeof(e->quote), "%s/quote.bin", e->dir);
	{
		char *argv[] = {ctl, "dev", "init", "--dir", e->dir, NULL};
		char *argv2[] = {ctl, "dev", "evidence", "sgx", "--dir", e->dir, "-o", e->quote, NULL};
		if (proc_run(&out, argv) != 0 || (free(out), proc_run(&out, argv2)) != 0)
			return -1;
		free(out);
	}
	const char *const extra[] = {"--trust-roots", e->roots, "--collateral-dir", e->coll, NULL};
	if (attestd_start(&e->srv, extra) != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	attestd_stop(&e->srv, SIGTERM);
	attestd_cleanup(&e->srv);
	sh("rm -rf '%s'", e->dir);
	free(e);
	return 0;
}

static void attest_prints_the_claims_of_a_token_and_token_verify_accepts_it(void **state)
{
	struct env *e = *state;
	char *out = NULL, *tok, jwks[256], tokfile[256];
	FILE *f;
	json_t *doc;

	assert_int_equal(run_ctl(e, &out, "-o", "json", "attest", "SgxEnclave", e->quote, "--nonce", "n-42", NULL), 0);
	doc = strchr(out, '{') ? json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	if (doc == NULL)
		fail_msg("attest -o json printed no JSON document:\n%s", out);
	assert_string_equal(json_string_value(json_object_get(doc, "nonce")), "n-42");
	assert_non_null(json_object_get(doc, "x-ms-sgx-mrenclave"));
	tok = strdup(json_string_value(json_object_get(doc, "_token")));
	json_decref(doc);
	free(out);
	snprintf(tokfile, sizeof(tokfile), "@%s/token.jwt", e->dir);
	f = fopen(tokfile + 1, "w");
	fputs(tok, f);
	fclose(f);
	snprintf(jwks, sizeof(jwks), "%s/certs", e->srv.base);
	EXPECT_CTL(e, 0, "token verified", "token", "verify", tokfile, "--jwks", jwks, "--issuer", e->srv.base,
		   "--nonce", "n-42");
	EXPECT_CTL(e, 0, "token verified", "token", "verify", tokfile, "--issuer", e->srv.base);
	EXPECT_CTL(e, 1, "token.nonce", "token", "verify", tokfile, "--issuer", e->srv.base, "--nonce", "other");
	EXPECT_CTL(e, 1, "jwt.expired", "token", "verify", tokfile, "--issuer", e->srv.base, "--at",
		   "2099-01-01T00:00:00Z");
	free(tok);
}

/* The development SEV-SNP platform: its ARK-Milan is trusted beside AMD's own of that name. */
static void dev_snp_report_attests_with_its_runtime_data(void **state)
{
	struct env *e = *state;
	char snp[300], rt[300], other[300];

	snprintf(snp, sizeof(snp), "%s/snp.json", e->dir);
	snprintf(rt, sizeof(rt), "%s/rt.json", e->dir);
	snprintf(other, sizeof(other), "%s/other.json", e->dir);
	sh("echo '{\"key\":\"demo\"}' > '%s'; echo '{\"key\":\"other\"}' > '%s'", rt, other);
	EXPECT_CTL(e, 0, "", "dev", "evidence", "snp", "--dir", e->dir, "--runtime-data", rt, "-o", snp);
	EXPECT_CTL(e, 0, "x-ms-sevsnpvm-reportdata", "attest", "SevSnpVm", snp, "--runtime-data", rt,
		   "--runtime-json");
	EXPECT_CTL(e, 1, "snp.binding.runtime", "attest", "SevSnpVm", snp, "--runtime-data", other,
		   "--runtime-json");
}

static void attest_refusals_exit_1_with_the_reason(void **state)
{
	struct env *e = *state;
	char rt[256];

	snprintf(rt, sizeof(rt), "%s/runtime.bin", e->dir);
	sh("echo not-bound > '%s'", rt);
	EXPECT_CTL(e, 1, "runtime", "attest", "SgxEnclave", e->quote, "--runtime-data", rt);
	EXPECT_CTL(e, 2, "unknown or unsupported type", "attest", "Nitro", e->quote);
	EXPECT_CTL(e, 4, "cannot read evidence file", "attest", "SgxEnclave", "/nonexistent");
}

static void policy_set_get_reset_change_what_attest_allows(void **state)
{
	struct env *e = *state;
	char deny[256];

	snprintf(deny, sizeof(deny), "%s/deny.policy", e->dir);
	sh("printf 'version=1.0;\\nauthorizationrules { => deny(); };\\nissuancerules { };\\n' > '%s'", deny);
	EXPECT_CTL(e, 0, "Updated", "policy", "set", "SgxEnclave", deny);
	EXPECT_CTL(e, 0, "deny()", "policy", "get", "SgxEnclave");
	EXPECT_CTL(e, 1, "refused", "attest", "SgxEnclave", e->quote);
	EXPECT_CTL(e, 0, "", "policy", "reset", "SgxEnclave");
	EXPECT_CTL(e, 0, "attested", "attest", "SgxEnclave", e->quote);
}

static void providers_are_managed_with_the_admin_credential_only(void **state)
{
	struct env *e = *state;
	char *out = NULL, settings[300];
	char *argv[] = {ctl, "--url", e->srv.base, "--cacert", e->srv.cacert, "provider", "list", NULL};

	EXPECT_CTL(e, 0, "tenant1", "provider", "create", "tenant1", "--mode", "aad");
	EXPECT_CTL(e, 0, "tenant1", "provider", "list");
	EXPECT_CTL(e, 0, "isolated", "provider", "update", "tenant1", "--mode", "isolated");
	EXPECT_CTL(e, 0, "isolated", "provider", "show", "tenant1");
	sh("echo '{\"rate_limit\": 7}' > '%s/settings.json'; echo '[1]' > '%s/array.json'", e->dir, e->dir);
	snprintf(settings, sizeof(settings), "@%s/settings.json", e->dir);
	EXPECT_CTL(e, 0, "rate_limit", "provider", "update", "tenant1", "--settings", settings);
	snprintf(settings, sizeof(settings), "@%s/array.json", e->dir);
	EXPECT_CTL(e, 2, "--settings must be a JSON object", "provider", "update", "tenant1", "--settings", settings);
	EXPECT_CTL(e, 2, "signer add", "provider", "update", "tenant1", "--signer-cert", e->roots);
	EXPECT_CTL(e, 0, "", "provider", "delete", "tenant1");
	EXPECT_CTL(e, 3, "404", "provider", "show", "tenant1");
	/* Without the credential: refused, exit 1. */
	assert_int_equal(proc_run(&out, argv), 1);
	assert_non_null(strstr(out, "401"));
	free(out);
}

static void keys_rotate_publishes_a_new_kid(void **state)
{
	struct env *e = *state;
	char *before = NULL, *after = NULL;

	assert_int_equal(run_ctl(e, &before, "-o", "json", "keys", "list", NULL), 0);
	EXPECT_CTL(e, 0, "", "keys", "rotate");
	assert_int_equal(run_ctl(e, &after, "-o", "json", "keys", "list", NULL), 0);
	assert_true(strlen(after) > strlen(before)); /* the old key stays published beside the new one */
	free(before);
	free(after);
}

static void signers_of_an_isolated_provider_are_added_and_removed(void **state)
{
	struct env *e = *state;
	char k1[256], c1[256], k2[256], c2[256], url[256], pol[256];
	char *out = NULL;

	snprintf(k1, sizeof(k1), "%s/k1.pem", e->dir);
	snprintf(c1, sizeof(c1), "%s/c1.pem", e->dir);
	snprintf(k2, sizeof(k2), "%s/k2.pem", e->dir);
	snprintf(c2, sizeof(c2), "%s/c2.pem", e->dir);
	snprintf(pol, sizeof(pol), "%s/p.policy", e->dir);
	sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 -subj /CN=signer1 2>/dev/null", k1, c1);
	sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 -subj /CN=signer2 2>/dev/null", k2, c2);
	sh("printf 'version=1.0;\\nauthorizationrules { => permit(); };\\nissuancerules { };\\n' > '%s'", pol);
	EXPECT_CTL(e, 0, "isolated", "provider", "create", "iso", "--mode", "isolated", "--signer-cert", c1);
	snprintf(url, sizeof(url), "%s/providers/iso", e->srv.base);
	{
		char *argv[] = {ctl, "--url", url, "--cacert", e->srv.cacert, "--token", e->srv.admin, "signer", "add", c2,
				"--signing-key", k1, "--signing-cert", c1, NULL};
		assert_int_equal(proc_run(&out, argv), 0);
		free(out);
	}
	{
		/* An unsigned policy is refused by an isolated provider; one signed by the new signer is taken. */
		char *unsigned_argv[] = {ctl, "--url", url, "--cacert", e->srv.cacert, "--token", e->srv.admin, "policy",
					 "set", "SgxEnclave", pol, NULL};
		char *signed_argv[] = {ctl, "--url", url, "--cacert", e->srv.cacert, "--token", e->srv.admin, "policy",
				       "set", "SgxEnclave", pol, "--signing-key", k2, "--signing-cert", c2, NULL};
		assert_int_equal(proc_run(&out, unsigned_argv), 1);
		free(out);
		assert_int_equal(proc_run(&out, signed_argv), 0);
		free(out);
	}
	{
		char *argv[] = {ctl, "--url", url, "--cacert", e->srv.cacert, "--token", e->srv.admin, "signer", "remove", c2,
				"--signing-key", k1, "--signing-cert", c1, NULL};
		assert_int_equal(proc_run(&out, argv), 0);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attest_prints_the_claims_of_a_token_and_token_verify_accepts_it),
		cmocka_unit_test(dev_snp_report_attests_with_its_runtime_data),
		cmocka_unit_test(attest_refusals_exit_1_with_the_reason),
		cmocka_unit_test(policy_set_get_reset_change_what_attest_allows),
		cmocka_unit_test(providers_are_managed_with_the_admin_credential_only),
		cmocka_unit_test(keys_rotate_publishes_a_new_kid),
		cmocka_unit_test(signers_of_an_isolated_provider_are_added_and_removed),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
