/*
 * attestctl end to end, offline commands: help at every level, exit codes,
 * `verify` on every real SGX, TDX and SEV-SNP vector at its fixed time, the
 * real TPM quote packed from its pieces by `tpm pack`,
 * `token verify` on real Azure Attestation tokens (and their refusals),
 * `policy check` and `policy test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"
#include "testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <jansson.h>

static char ctl[4096];

static void write_file(const char *path, const char *text);

static int setup(void **state)
{
	const char *bin = getenv("ATTEST_BINARY_DIR");

	snprintf(ctl, sizeof(ctl), "%s/src/cli/attestctl", bin ? bin : "build");
	return access(ctl, X_OK) == 0 ? 0 : -1;
}

/* Runs attestctl with up to 15 arguments; returns the exit code, *out its output. */
static int ctl_run(char **out, const char *a1, ...)
{
	char *argv[16] = {ctl};
	va_list ap;
	int i = 1;

	va_start(ap, a1);
	for (const char *a = a1; a != NULL && i < 15; a = va_arg(ap, const char *))
		argv[i++] = (char *)a;
	va_end(ap);
	argv[i] = NULL;
	return proc_run(out, argv);
}


/* Runs attestctl and checks its exit code and (unless text is "") that its output contains text. */
#define EXPECT_RUN(rc, text, ...)                                                                  \
	do {                                                                                       \
		const char *t_ = (text);                                                           \
		char *o_ = NULL;                                                                   \
		int r_ = ctl_run(&o_, __VA_ARGS__, NULL);                                          \
		if (r_ != (rc) || strstr(o_, t_) == NULL)                                          \
			fail_msg("attestctl exit %d (want %d), output:\n%s\n(wanted \"%s\")", r_, (rc), o_, t_); \
		free(o_);                                                                          \
	} while (0)

static void help_is_offered_at_every_level(void **state)
{
	EXPECT_RUN(0, "Commands:", "--help");
	EXPECT_RUN(0, "Verbs:", "policy", "--help");
	EXPECT_RUN(0, "line and column", "policy", "check", "--help");
	EXPECT_RUN(0, "Exit 0 only for evidence that verified", "verify", "--help");
	EXPECT_RUN(0, "--nonce", "token", "verify", "--help");
	EXPECT_RUN(0, "attestctl ", "--version");
}

static void usage_errors_exit_2(void **state)
{
	EXPECT_RUN(2, "unknown command 'frobnicate'", "frobnicate");
	EXPECT_RUN(2, "unknown verb 'explode'", "policy", "explode");
	EXPECT_RUN(2, "usage", "verify", "SgxEnclave");
	EXPECT_RUN(2, "--output takes json or table", "--output", "xml", "verify");
	EXPECT_RUN(2, "unknown attestation type", "verify", "Nope", "/dev/null", "--no-collateral");
}

/* bundle.json's now_unix of a vector folder, as a string. */
static void vector_time(const char *dir, char *out, size_t n, long long add)
{
	char path[4096];
	json_t *b;

	snprintf(path, sizeof(path), "%s/bundle.json", dir);
	b = json_load_file(path, 0, NULL);
	assert_non_null(b);
	snprintf(out, n, "%lld", (long long)json_integer_value(json_object_get(b, "now_unix")) + add);
	json_decref(b);
}

/* The verdict EXPECTED.md gives each Intel vector (the independent verifier's). */
static const struct {
	const char *dir, *type, *status; /* status NULL: refused as "TCB level not supported" */
	bool no_revocation;
} INTEL[] = {
	{"sgx/phala-sgx-v3-00a067110000-2023-11", "SgxEnclave", "ConfigurationAndSWHardeningNeeded", false},
	{"sgx/phala-sgx-v3-00a067110000-2025-06", "SgxEnclave", "ConfigurationAndSWHardeningNeeded", false},
	{"tdx/automata-zkdcap-tdx-v4-00806f050000-2025-06", "TdxVm", "OutOfDate", false},
	{"tdx/edgeless-tdx-v4-00806f050000-2023-02-nocrl", "TdxVm", "UpToDate", true},
	{"tdx/google-tdx-v4-spr-e4-50806f000000-2023-07", "TdxVm", NULL, false},
	{"tdx/phala-tappd-tdx-v4-b0c06f000000-2025-06", "TdxVm", NULL, false},
	{"tdx/phala-tdx-v5-90c06f000000-outdated-2026-02", "TdxVm", NULL, false},
};

static void verify_gives_each_intel_vector_its_expected_verdict(void **state)
{
	REQUIRE_VECTORS(vectors);
	for (size_t i = 0; i < sizeof(INTEL) / sizeof(INTEL[0]); i++) {
		char dir[4096], quote[4200], at[32];

		snprintf(dir, sizeof(dir), "%s/%s", vectors, INTEL[i].dir);
		snprintf(quote, sizeof(quote), "%s/quote.bin", dir);
		if (access(quote, R_OK) != 0)
			continue;
		vector_time(dir, at, sizeof(at), 0);
		if (INTEL[i].no_revocation) {
			EXPECT_RUN(1, "pck_crl", "verify", INTEL[i].type, quote, "--collateral", dir, "--at", at);
			EXPECT_RUN(0, INTEL[i].status, "verify", INTEL[i].type, quote, "--collateral", dir, "--at", at,
				   "--no-revocation");
		} else if (INTEL[i].status) {
			EXPECT_RUN(0, INTEL[i].status, "verify", INTEL[i].type, quote, "--collateral", dir, "--at", at);
		} else {
			EXPECT_RUN(1, "tcb.not_supported", "verify", INTEL[i].type, quote, "--collateral", dir, "--at",
				   at);
		}
	}
}

static void verify_refuses_expired_collateral_40_days_later(void **state)
{
	REQUIRE_VECTORS(vectors);
	for (size_t i = 0; i < sizeof(INTEL) / sizeof(INTEL[0]); i++) {
		char dir[4096], quote[4200], at[32];

		if (INTEL[i].status == NULL || INTEL[i].no_revocation)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", vectors, INTEL[i].dir);
		snprintf(quote, sizeof(quote), "%s/quote.bin", dir);
		vector_time(dir, at, sizeof(at), 40 * 86400);
		EXPECT_RUN(1, "refused", "verify", INTEL[i].type, quote, "--collateral", dir, "--at", at);
	}
}

/* The SEV-SNP vectors, with the measurement and debug bit EXPECTED.md lists. */
static const struct {
	const char *dir, *measurement, *debug;
} SNP[] = {
	{"snp/gsg-milan-v2-2022-09",
	 "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01", "true"},
	{"snp/teekit-gcp-milan-v5-reportdata-2025-12",
	 "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3", "false"},
	{"snp/teekit-gcp-milan-v5-x25519-2025-12",
	 "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3", "false"},
};

static void verify_gives_each_snp_vector_its_measurement_and_debug_bit(void **state)
{
	REQUIRE_VECTORS(vectors);
	for (size_t i = 0; i < sizeof(SNP) / sizeof(SNP[0]); i++) {
		char dir[4096], report[4200], at[32], *out = NULL;
		json_t *doc;

		snprintf(dir, sizeof(dir), "%s/%s", vectors, SNP[i].dir);
		snprintf(report, sizeof(report), "%s/report.bin", dir);
		vector_time(dir, at, sizeof(at), 0);
		assert_int_equal(ctl_run(&out, "-o", "json", "verify", "SevSnp", report, "--collateral", dir, "--at",
					 at, NULL),
				 0);
		assert_non_null(strchr(out, '{'));
		doc = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
		assert_non_null(doc);
		assert_string_equal(json_string_value(json_object_get(doc, "x-ms-sevsnpvm-launchmeasurement")),
				    SNP[i].measurement);
		assert_true(json_is_boolean(json_object_get(doc, "x-ms-sevsnpvm-is-debuggable")));
		assert_int_equal(json_is_true(json_object_get(doc, "x-ms-sevsnpvm-is-debuggable")),
				 strcmp(SNP[i].debug, "true") == 0);
		json_decref(doc);
		free(out);
	}
}

static void verify_refuses_an_snp_report_against_another_folder_chain(void **state)
{
	char a[4096], b[4096], report[4200], at[32];

	REQUIRE_VECTORS(vectors);
	/* The gsg report with the teekit folder: that VCEK belongs to another chip. */
	snprintf(a, sizeof(a), "%s/%s", vectors, SNP[0].dir);
	snprintf(b, sizeof(b), "%s/%s", vectors, SNP[1].dir);
	snprintf(report, sizeof(report), "%s/report.bin", a);
	vector_time(a, at, sizeof(at), 0);
	EXPECT_RUN(1, "refused", "verify", "SevSnp", report, "--collateral", b, "--at", at);
}

static void verify_without_collateral_checks_signatures_but_not_the_tcb(void **state)
{
	char dir[4096], quote[4200], at[32], *bad = NULL, path[128];
	size_t n = 0;
	FILE *f;

	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/sgx/phala-sgx-v3-00a067110000-2023-11", vectors);
	snprintf(quote, sizeof(quote), "%s/quote.bin", dir);
	vector_time(dir, at, sizeof(at), 0);
	EXPECT_RUN(0, "NOT evaluated", "verify", "SgxEnclave", quote, "--no-collateral", "--at", at);
	/* A flipped bit in the report body still fails: the signatures are checked. */
	bad = (char *)test_read_vector(vectors, "sgx/phala-sgx-v3-00a067110000-2023-11/quote.bin", &n);
	assert_non_null(bad);
	bad[48 + 64] ^= 1; /* inside the ISV enclave report body */
	snprintf(path, sizeof(path), "/tmp/attestctl-flip-%d.bin", (int)getpid());
	f = fopen(path, "wb");
	fwrite(bad, 1, n, f);
	fclose(f);
	EXPECT_RUN(1, "refused", "verify", "SgxEnclave", path, "--no-collateral", "--at", at);
	unlink(path);
	free(bad);
}

/* `dev evidence snp|tpm` of an initialised dev folder: trusted through roots.pem only. */
static void dev_snp_and_tpm_evidence_verify_only_with_its_roots(const char *dir, const char *roots, const char *coll,
								const char *rt, const char *rt2)
{
	char snp[128], tpm[128], nonce[128];

	snprintf(snp, sizeof(snp), "%s/snp.json", dir);
	snprintf(tpm, sizeof(tpm), "%s/tpm.json", dir);
	snprintf(nonce, sizeof(nonce), "%s/nonce.bin", dir);
	write_file(nonce, "nonce-0042");
	EXPECT_RUN(0, "", "dev", "evidence", "snp", "--dir", dir, "--runtime-data", rt, "-o", snp);
	EXPECT_RUN(1, "snp.chain.untrusted_root", "verify", "SevSnpVm", snp, "--collateral", coll);
	EXPECT_RUN(0, "x-ms-sevsnpvm-reportdata", "verify", "SevSnpVm", snp, "--collateral", coll, "--trust-roots",
		   roots, "--runtime-data", rt);
	EXPECT_RUN(1, "snp.binding.runtime", "verify", "SevSnpVm", snp, "--collateral", coll, "--trust-roots", roots,
		   "--runtime-data", rt2);
	EXPECT_RUN(0, "", "dev", "evidence", "tpm", "--dir", dir, "--runtime-data", nonce, "-o", tpm);
	EXPECT_RUN(1, "tpm.aik.cert.untrusted_root", "verify", "Tpm", tpm, "--collateral", coll, "--runtime-data",
		   nonce);
	EXPECT_RUN(0, "secureBootEnabled", "verify", "Tpm", tpm, "--collateral", coll, "--trust-roots", roots,
		   "--runtime-data", nonce);
	EXPECT_RUN(1, "tpm.quote.nonce", "verify", "Tpm", tpm, "--collateral", coll, "--trust-roots", roots,
		   "--runtime-data", rt2);
	EXPECT_RUN(4, "64 bytes", "dev", "evidence", "tpm", "--dir", dir, "--runtime-data", roots);
}

static void dev_platform_evidence_verifies_only_with_its_roots(void **state)
{
	char dir[] = "/tmp/attestctl-dev-XXXXXX", roots[128], coll[128], quote[128], td[128], rt[128], rt2[128];

	assert_non_null(mkdtemp(dir));
	snprintf(roots, sizeof(roots), "%s/roots.pem", dir);
	snprintf(coll, sizeof(coll), "%s/collateral", dir);
	snprintf(quote, sizeof(quote), "%s/sgx.bin", dir);
	snprintf(td, sizeof(td), "%s/tdx.bin", dir);
	snprintf(rt, sizeof(rt), "%s/runtime.json", dir);
	snprintf(rt2, sizeof(rt2), "%s/other.json", dir);
	write_file(rt, "{\"key\": \"demo\"}");
	write_file(rt2, "{\"key\": \"other\"}");
	EXPECT_RUN(0, "development platform", "dev", "init", "--dir", dir);
	EXPECT_RUN(0, "", "dev", "evidence", "sgx", "--dir", dir, "--runtime-data", rt, "-o", quote);
	EXPECT_RUN(0, "", "dev", "evidence", "tdx", "--dir", dir, "-o", td);
	/* Trusted only when its root is given: the vendors' roots never chain to it. */
	EXPECT_RUN(1, "pck.chain.root", "verify", "SgxEnclave", quote, "--collateral", coll);
	EXPECT_RUN(0, "UpToDate", "verify", "SgxEnclave", quote, "--collateral", coll, "--trust-roots", roots,
		   "--runtime-data", rt);
	EXPECT_RUN(1, "runtime_data", "verify", "SgxEnclave", quote, "--collateral", coll, "--trust-roots", roots,
		   "--runtime-data", rt2);
	EXPECT_RUN(0, "UpToDate", "verify", "TdxVm", td, "--collateral", coll, "--trust-roots", roots);
	/* A second init reuses the keys: earlier evidence still verifies. */
	EXPECT_RUN(0, "development platform", "dev", "init", "--dir", dir);
	EXPECT_RUN(0, "verified", "verify", "SgxEnclave", quote, "--collateral", coll, "--trust-roots", roots);
	EXPECT_RUN(2, "unknown kind", "dev", "evidence", "nitro", "--dir", dir);
	dev_snp_and_tpm_evidence_verify_only_with_its_roots(dir, roots, coll, rt, rt2);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

#define GCP_TPM "tpm/gcp-windows-shielded-vm-quote"

/* The vector's pcrs.json (24 SHA-1 values) as tpm2_quote -F values writes them: digests by index. */
static void write_gcp_pcr_values(const char *vectors, const char *out)
{
	char path[4096];
	json_t *arr, *v;
	size_t i;
	uint8_t d[24][20];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" GCP_TPM "/pcrs.json", vectors);
	arr = json_load_file(path, 0, NULL);
	assert_true(json_is_array(arr) && json_array_size(arr) == 24);
	json_array_foreach(arr, i, v) {
		const char *hex = json_string_value(json_object_get(v, "digest_hex"));
		json_int_t idx = json_integer_value(json_object_get(v, "index"));

		assert_true(hex && strlen(hex) == 40 && idx >= 0 && idx < 24);
		for (int k = 0; k < 20; k++)
			assert_int_equal(sscanf(hex + 2 * k, "%2hhx", &d[idx][k]), 1);
	}
	json_decref(arr);
	f = fopen(out, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, sizeof(d), f), sizeof(d));
	fclose(f);
}

static void tpm_pack_of_a_real_gcp_quote_verifies_and_its_altered_pieces_do_not(void **state)
{
	char dir[] = "/tmp/attestctl-tpm-XXXXXX", v[4096], q[4200], s[4200], ak[4200], log[4200], pcrs[128], ev[128],
		bad[128], cmd[8600];

	REQUIRE_VECTORS(vectors);
	assert_non_null(mkdtemp(dir));
	snprintf(v, sizeof(v), "%s/" GCP_TPM, vectors);
	snprintf(q, sizeof(q), "%s/quote.tpms_attest.bin", v);
	snprintf(s, sizeof(s), "%s/quote.tpmt_signature.bin", v);
	snprintf(ak, sizeof(ak), "%s/ak_public.tpmt_public.bin", v);
	snprintf(log, sizeof(log), "%s/binary_bios_measurements.bin", v);
	snprintf(pcrs, sizeof(pcrs), "%s/pcrs.bin", dir);
	snprintf(ev, sizeof(ev), "%s/ev.json", dir);
	snprintf(bad, sizeof(bad), "%s/bad.bin", dir);
	write_gcp_pcr_values(vectors, pcrs);
	EXPECT_RUN(0, "", "tpm", "pack", "--quote", q, "--signature", s, "--ak-public", ak, "--pcrs", pcrs, "--log", log,
		   "-o", ev);
	/* No AK certificate comes with this quote: its signatures and log only (aikValidated false). */
	EXPECT_RUN(0, "secureBootEnabled", "verify", "Tpm", ev, "--no-collateral");
	/* A PCR value that is not the quoted one; a signature of another message; pieces swapped. */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && printf '\\001' | dd of='%s' bs=1 seek=30 conv=notrunc 2>/dev/null",
		 pcrs, bad, bad);
	assert_int_equal(system(cmd), 0);
	EXPECT_RUN(0, "", "tpm", "pack", "--quote", q, "--signature", s, "--ak-public", ak, "--pcrs", bad, "-o", ev);
	EXPECT_RUN(1, "tpm.quote.pcr_digest", "verify", "Tpm", ev, "--no-collateral");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && printf '\\377' | dd of='%s' bs=1 seek=100 conv=notrunc 2>/dev/null",
		 s, bad, bad);
	assert_int_equal(system(cmd), 0);
	EXPECT_RUN(0, "", "tpm", "pack", "--quote", q, "--signature", bad, "--ak-public", ak, "--pcrs", pcrs, "-o", ev);
	EXPECT_RUN(1, "tpm.quote.signature", "verify", "Tpm", ev, "--no-collateral");
	EXPECT_RUN(2, "TPMT_SIGNATURE", "tpm", "pack", "--quote", q, "--signature", ak, "--ak-public", ak, "--pcrs", pcrs);
	EXPECT_RUN(2, "fewer than the digests", "tpm", "pack", "--quote", q, "--signature", s, "--ak-public", ak, "--pcrs",
		   s);
	EXPECT_RUN(2, "take 480", "tpm", "pack", "--quote", q, "--signature", s, "--ak-public", ak, "--pcrs", log);
	EXPECT_RUN(2, "--pcrs", "tpm", "pack", "--quote", q, "--signature", s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ATTESTCTL_DEV_KEY_CACHE (tests only): the AMD CA keys are generated once and seed later platforms. */
static void dev_key_cache_seeds_the_amd_keys_of_a_new_platform(void **state)
{
	char cache[] = "/tmp/attestctl-kc-XXXXXX", a[] = "/tmp/attestctl-da-XXXXXX", b[] = "/tmp/attestctl-db-XXXXXX";
	char cmd[512], *old = getenv("ATTESTCTL_DEV_KEY_CACHE");

	old = old ? strdup(old) : NULL;
	assert_non_null(mkdtemp(cache));
	assert_non_null(mkdtemp(a));
	assert_non_null(mkdtemp(b));
	setenv("ATTESTCTL_DEV_KEY_CACHE", cache, 1);
	EXPECT_RUN(0, "development platform", "dev", "init", "--dir", a);
	EXPECT_RUN(0, "development platform", "dev", "init", "--dir", b);
	snprintf(cmd, sizeof(cmd),
		 "cmp -s %s/keys/snp-ark-4096.pem %s/snp-ark-4096.pem && cmp -s %s/keys/snp-ark-4096.pem "
		 "%s/keys/snp-ark-4096.pem && test \"$(stat -c %%a %s/snp-ask-4096.pem)\" = 600",
		 a, cache, a, b, cache);
	assert_int_equal(system(cmd), 0);
	if (old != NULL)
		setenv("ATTESTCTL_DEV_KEY_CACHE", old, 1);
	else
		unsetenv("ATTESTCTL_DEV_KEY_CACHE");
	free(old);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", cache, a, b);
	assert_int_equal(system(cmd), 0);
}

static void verify_prints_json_claims(void **state)
{
	char dir[4096], quote[4200], at[32], *out = NULL;
	json_t *doc;

	REQUIRE_VECTORS(vectors);
	snprintf(dir, sizeof(dir), "%s/sgx/phala-sgx-v3-00a067110000-2023-11", vectors);
	snprintf(quote, sizeof(quote), "%s/quote.bin", dir);
	vector_time(dir, at, sizeof(at), 0);
	assert_int_equal(ctl_run(&out, "-o", "json", "verify", "SgxEnclave", quote, "--collateral", dir, "--at", at,
				 NULL),
			 0);
	/* stdout's JSON document; the status lines went to stderr. */
	assert_non_null(strchr(out, '{'));
	doc = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "x-ms-sgx-mrenclave")),
			    "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	json_decref(doc);
	free(out);
}

static void verify_refuses_a_missing_file_as_local_error(void **state)
{
	EXPECT_RUN(4, "cannot read evidence file", "verify", "SgxEnclave", "/nonexistent/quote.bin", "--collateral",
		   "/tmp");
}

#define MAA "maa-tokens/js-2022-01-28-sharedwus"
#define MAA_ISS "https://sharedwus.wus.attest.azure.net"

static void token_verify_accepts_a_real_azure_token_and_refuses_alterations(void **state)
{
	char tok[4096], jwks[4096], bad[4200], *text, *p;
	size_t n;
	FILE *f;

	REQUIRE_VECTORS(vectors);
	snprintf(tok, sizeof(tok), "@%s/%s/tokens/attest-SgxEnclave-binary-runtime.jwt", vectors, MAA);
	snprintf(jwks, sizeof(jwks), "%s/%s/certs.json", vectors, MAA);
	EXPECT_RUN(0, "token verified", "token", "verify", tok, "--jwks", jwks, "--issuer", MAA_ISS, "--at",
		   "2022-01-29T00:00:00Z");
	EXPECT_RUN(1, "jwt.expired", "token", "verify", tok, "--jwks", jwks, "--issuer", MAA_ISS);
	EXPECT_RUN(1, "token.issuer", "token", "verify", tok, "--jwks", jwks, "--issuer", "https://evil.example",
		   "--at", "2022-01-29T00:00:00Z");
	EXPECT_RUN(1, "token.nonce", "token", "verify", tok, "--jwks", jwks, "--nonce", "abc", "--at",
		   "2022-01-29T00:00:00Z");
	/* One character of the signature changed. */
	text = (char *)test_read_vector(vectors, MAA "/tokens/attest-SgxEnclave-binary-runtime.jwt", &n);
	assert_non_null(text);
	p = strrchr(text, '.');
	assert_non_null(p);
	p[5] = p[5] == 'A' ? 'B' : 'A';
	snprintf(bad, sizeof(bad), "/tmp/attestctl-bad-%d.jwt", (int)getpid());
	f = fopen(bad, "w");
	fputs(text, f);
	fclose(f);
	memmove(bad + 1, bad, strlen(bad) + 1);
	bad[0] = '@';
	EXPECT_RUN(1, "jws.signature", "token", "verify", bad, "--jwks", jwks, "--at", "2022-01-29T00:00:00Z");
	unlink(bad + 1);
	free(text);
}

static const char GOOD_POLICY[] = "version= 1.0;\n"
				  "authorizationrules\n{\n"
				  "  c:[type==\"x-ms-sgx-is-debuggable\", value==false] => permit();\n};\n"
				  "issuancerules\n{\n"
				  "  c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"signer\", value=c.value);\n};\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void policy_check_names_line_and_column_of_an_error(void **state)
{
	char good[128], bad[128];

	snprintf(good, sizeof(good), "/tmp/attestctl-good-%d.policy", (int)getpid());
	snprintf(bad, sizeof(bad), "/tmp/attestctl-bad-%d.policy", (int)getpid());
	write_file(good, GOOD_POLICY);
	write_file(bad, "version= 1.0;\nauthorizationrules\n{\n  c:[type==\"x\" value==1] => permit();\n};\n"
			"issuancerules\n{\n};\n");
	EXPECT_RUN(0, "authorizationrules", "policy", "check", good);
	EXPECT_RUN(1, "line 4", "policy", "check", bad);
	unlink(good);
	unlink(bad);
}

static void policy_test_explains_permit_and_deny(void **state)
{
	char pol[128], ok[128], dbg[128];

	snprintf(pol, sizeof(pol), "/tmp/attestctl-p-%d.policy", (int)getpid());
	snprintf(ok, sizeof(ok), "/tmp/attestctl-ok-%d.json", (int)getpid());
	snprintf(dbg, sizeof(dbg), "/tmp/attestctl-dbg-%d.json", (int)getpid());
	write_file(pol, GOOD_POLICY);
	write_file(ok, "{\"x-ms-sgx-is-debuggable\": false, \"x-ms-sgx-mrsigner\": \"abcd\"}");
	write_file(dbg, "{\"x-ms-sgx-is-debuggable\": true, \"x-ms-sgx-mrsigner\": \"abcd\"}");
	EXPECT_RUN(0, "\"signer\"", "-o", "json", "policy", "test", pol, "--claims", ok);
	EXPECT_RUN(1, "x-ms-sgx-is-debuggable", "policy", "test", pol, "--claims", dbg);
	unlink(pol);
	unlink(ok);
	unlink(dbg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_is_offered_at_every_level),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(verify_gives_each_intel_vector_its_expected_verdict),
		cmocka_unit_test(verify_refuses_expired_collateral_40_days_later),
		cmocka_unit_test(verify_gives_each_snp_vector_its_measurement_and_debug_bit),
		cmocka_unit_test(verify_refuses_an_snp_report_against_another_folder_chain),
		cmocka_unit_test(verify_without_collateral_checks_signatures_but_not_the_tcb),
		cmocka_unit_test(dev_platform_evidence_verifies_only_with_its_roots),
		cmocka_unit_test(tpm_pack_of_a_real_gcp_quote_verifies_and_its_altered_pieces_do_not),
		cmocka_unit_test(dev_key_cache_seeds_the_amd_keys_of_a_new_platform),
		cmocka_unit_test(verify_prints_json_claims),
		cmocka_unit_test(verify_refuses_a_missing_file_as_local_error),
		cmocka_unit_test(token_verify_accepts_a_real_azure_token_and_refuses_alterations),
		cmocka_unit_test(policy_check_names_line_and_column_of_an_error),
		cmocka_unit_test(policy_test_explains_permit_and_deny),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
