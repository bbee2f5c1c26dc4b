/*
 * TPM benchmark (reports, never asserts; run from a Release build):
 *  A. in-process verification of one quote with a 60-event crypto-agile log
 *     (quote parse + RSA-2048 signature + PCR digest + log parse + replay +
 *     event-data binding + boot-state claims), beside the floor measured in
 *     the same run: one RSA-2048 PKCS#1 verification plus exactly the hashing
 *     the log needs (one extend per event, one H(data) per bound event, the
 *     PCR digest);
 *  B. the same on the real Windows GCP Shielded VM quote and its 21-event log;
 *  C. process level on that real quote: bench_tpm_verify (our verifier CLI)
 *     with and without the log, beside tpm2_checkquote (signature + PCR
 *     digest; its -e replay cannot handle the FF reset of PCR 17-22), and
 *     fork+exec of /bin/true, in timed loops in the same run.
 */
#include "base/buf.h"
#include "base/timeutil.h"
#include "devplat/tpm_dev.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm.h"
#include "testutil.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct quote_case {
	const char *name;
	uint8_t *quote, *sig, *log;
	size_t quote_len, sig_len, log_len;
	EVP_PKEY *ak;
	struct tpm_pcr_values pcrs;
	enum tpm_bank bank;
	const uint8_t *nonce;
	size_t nonce_len;
	uint8_t ak_hash[32]; /* the registered AK (a tenant's list, computed once) */
};

static double per_op_us(uint64_t ns, int n) { return (double)ns / 1000.0 / n; }

/* The whole verification a node does for one quote and its log. */
static int verify_once(struct quote_case *c)
{
	struct tpm_aik_trust t = {.registered = (const uint8_t(*)[32])c->ak_hash, .n_registered = 1};
	struct tpm_quote_in in = {.attest = c->quote, .attest_len = c->quote_len, .sig = c->sig,
				  .sig_len = c->sig_len, .aik = c->ak, .nonce = c->nonce,
				  .nonce_len = c->nonce_len, .required_pcr_mask = 0xFFFFFF,
				  .required_bank = (int)c->bank, .pcrs = &c->pcrs};
	struct tpm_quote_out out;
	struct tcg_log *log = NULL;
	struct tcg_boot_state st;
	int rc;

	rc = tpm_quote_verify(&in, &t, &out, NULL) || tcg_log_parse(c->log, c->log_len, &log, NULL) ||
	     tcg_log_verify(log, &c->pcrs, NULL) || tcg_boot_state(log, &st, NULL);
	tcg_log_free(log);
	return rc;
}

/*
 * The floor: one RSA verification and the hashing the replay cannot avoid,
 * with digests fetched once (the cheapest way OpenSSL 3 offers).
 */
static int floor_once(struct quote_case *c, const struct tcg_log *log, const EVP_MD *sig_md,
		      const EVP_MD *bank_md)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	TPMT_SIGNATURE s;
	size_t bl = tpm_bank_size(c->bank);
	uint8_t buf[2 * TPM_PCR_MAX_DIGEST], out[64];
	int ok;

	tpm_signature_parse(c->sig, c->sig_len, &s, NULL);
	ok = EVP_DigestVerifyInit(md, &pctx, sig_md, NULL, c->ak) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_DigestVerify(md, s.signature.rsassa.sig.buffer, s.signature.rsassa.sig.size, c->quote,
			      c->quote_len) == 1;
	EVP_MD_CTX_free(md);
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		bool checked;

		if (ev->type == EV_NO_ACTION)
			continue;
		memset(buf, 0, bl);
		memcpy(buf + bl, ev->digest[c->bank], bl);
		EVP_Digest(buf, 2 * bl, out, NULL, bank_md, NULL);
		checked = ev->bound; /* events whose data the verifier hashes */
		if (checked)
			EVP_Digest(ev->data, ev->data_len, out, NULL, bank_md, NULL);
	}
	EVP_Digest(c->pcrs.v[c->bank], 24 * bl, out, NULL, sig_md, NULL);
	return ok ? 0 : 1;
}

static void run_inprocess(struct quote_case *c, int n, const char *sig_md_name)
{
	struct tcg_log *log = NULL;
	uint64_t t0, t1, t2;
	int bad = 0;
	EVP_MD *sig_md = EVP_MD_fetch(NULL, sig_md_name, NULL);
	EVP_MD *bank_md = EVP_MD_fetch(NULL, EVP_MD_get0_name(tpm_bank_md(c->bank)), NULL);

	tpm_pkey_spki_sha256(c->ak, c->ak_hash);
	if (tcg_log_parse(c->log, c->log_len, &log, NULL) != 0 || tcg_log_verify(log, &c->pcrs, NULL) != 0 ||
	    verify_once(c) != 0) {
		printf("  %s: does not verify; skipped\n", c->name);
		tcg_log_free(log);
		EVP_MD_free(sig_md);
		EVP_MD_free(bank_md);
		return;
	}
	for (int i = 0; i < n / 10; i++) /* warm-up */
		bad |= verify_once(c) | floor_once(c, log, sig_md, bank_md);
	t0 = time_mono_ns();
	for (int i = 0; i < n; i++)
		bad |= verify_once(c);
	t1 = time_mono_ns();
	for (int i = 0; i < n; i++)
		bad |= floor_once(c, log, sig_md, bank_md);
	t2 = time_mono_ns();
	printf("  %s (%zu events, %zu-byte log, %d runs)%s\n", c->name, log->n_events - 1, c->log_len, n,
	       bad ? " [a run failed!]" : "");
	printf("    full verification  %8.1f us/quote\n", per_op_us(t1 - t0, n));
	printf("    floor (RSA-2048 verify + the log's hashing) %8.1f us  -> ratio %.2fx\n",
	       per_op_us(t2 - t1, n), (double)(t1 - t0) / (double)(t2 - t1));
	tcg_log_free(log);
	EVP_MD_free(sig_md);
	EVP_MD_free(bank_md);
}

static int synthetic_case(struct quote_case *c, struct devplat_tcg_log *dl)
{
	static const uint8_t nonce[32] = {1, 2, 3};
	struct devplat_boot boot = {.secure_boot = true, .vbs = true, .extra_events = 40};

	memset(c, 0, sizeof(*c));
	c->name = "synthetic quote, SHA-256 PCRs 0-23, crypto-agile log";
	c->ak = EVP_RSA_gen(2048);
	c->bank = TPM_BANK_SHA256;
	c->nonce = nonce;
	c->nonce_len = sizeof(nonce);
	if (devplat_tcg_log_init(dl) || devplat_tcg_log_boot(dl, &boot))
		return -1;
	devplat_tcg_log_pcrs(dl, &c->pcrs);
	c->log = dl->log.p;
	c->log_len = dl->log.len;
	return devplat_tpm_quote(c->ak, &c->pcrs, TPM_BANK_SHA256, 0xFFFFFF, nonce, sizeof(nonce), &c->quote,
				 &c->quote_len, &c->sig, &c->sig_len, NULL);
}

static int gcp_case(struct quote_case *c, const char *dir)
{
	char path[4096];
	uint8_t *p = NULL;
	size_t n = 0;
	TPMT_PUBLIC pub;
	json_t *arr, *e;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->name = "real GCP Shielded VM quote, SHA-1 PCRs 0-23, Windows WBCL";
	c->bank = TPM_BANK_SHA1;
	c->quote = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/quote.tpms_attest.bin", &c->quote_len);
	c->sig = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/quote.tpmt_signature.bin", &c->sig_len);
	c->log = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", &c->log_len);
	p = test_read_vector(dir, "tpm/gcp-windows-shielded-vm-quote/ak_public.tpmt_public.bin", &n);
	if (!c->quote || !c->sig || !c->log || !p || tpm_public_parse(p, n, &pub, NULL) ||
	    tpm_public_to_pkey(&pub, &c->ak, NULL)) {
		free(p);
		return -1;
	}
	free(p);
	snprintf(path, sizeof(path), "%s/tpm/gcp-windows-shielded-vm-quote/pcrs.json", dir);
	arr = json_load_file(path, 0, NULL);
	json_array_foreach(arr, i, e) {
		uint8_t d[20];
		const char *h = json_string_value(json_object_get(e, "digest_hex"));

		for (int k = 0; h && k < 20; k++)
			sscanf(h + 2 * k, "%2hhx", &d[k]);
		tpm_pcr_set(&c->pcrs, TPM_BANK_SHA1, (unsigned)json_integer_value(json_object_get(e, "index")), d, 20,
			    NULL);
	}
	json_decref(arr);
	return 0;
}

static void case_free(struct quote_case *c)
{
	free(c->quote);
	free(c->sig);
	EVP_PKEY_free(c->ak);
}

/* ---- process level ----------------------------------------------------------- */

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	fwrite(p, 1, n, f);
	return fclose(f);
}

/* tpm2-tools' "serialized" PCR file: native TPML_PCR_SELECTION + u32 n + n TPML_DIGEST (platform-notes gotcha 5). */
static int write_tss_pcrs(const char *path, const struct quote_case *c)
{
	TPML_PCR_SELECTION sel;
	TPML_DIGEST d[3];
	uint32_t n = 3;
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	memset(&sel, 0, sizeof(sel));
	sel.count = 1;
	sel.pcrSelections[0].hash = tpm_bank_alg(c->bank);
	sel.pcrSelections[0].sizeofSelect = 3;
	memset(sel.pcrSelections[0].pcrSelect, 0xff, 3);
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < 24; i++) {
		d[i / 8].count = 8;
		d[i / 8].digests[i % 8].size = (UINT16)tpm_bank_size(c->bank);
		memcpy(d[i / 8].digests[i % 8].buffer, c->pcrs.v[c->bank][i], tpm_bank_size(c->bank));
	}
	fwrite(&sel, sizeof(sel), 1, f);
	fwrite(&n, sizeof(n), 1, f);
	fwrite(d, sizeof(d), 1, f);
	return fclose(f);
}

static double time_spawn(char *const argv[], int n, int *failures)
{
	uint64_t t0 = time_mono_ns();

	*failures = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st = 0;
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0 || waitpid(pid, &st, 0) < 0 ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			(*failures)++;
		posix_spawn_file_actions_destroy(&fa);
	}
	return (double)(time_mono_ns() - t0) / 1e6 / n;
}

static void run_processes(const struct quote_case *c, const char *self, int n)
{
	char dir[] = "/tmp/bench_tpm_XXXXXX", cli[4096], ak[256], q[256], s[256], raw[256], ser[256], lg[256];
	uint8_t rawpcrs[24 * 20];
	FILE *f;
	int f1, f2, f3, f4;
	double t_true, t_ours, t_ours_log, t_peer;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(cli, sizeof(cli), "%s/bench_tpm_verify", dirname(strdup(self)));
	snprintf(ak, sizeof(ak), "%s/ak.pem", dir);
	snprintf(q, sizeof(q), "%s/quote.msg", dir);
	snprintf(s, sizeof(s), "%s/quote.sig", dir);
	snprintf(raw, sizeof(raw), "%s/pcrs.bin", dir);
	snprintf(ser, sizeof(ser), "%s/pcrs.tss", dir);
	snprintf(lg, sizeof(lg), "%s/log.bin", dir);
	f = fopen(ak, "w");
	PEM_write_PUBKEY(f, c->ak);
	fclose(f);
	for (unsigned i = 0; i < 24; i++)
		memcpy(rawpcrs + i * 20, c->pcrs.v[TPM_BANK_SHA1][i], 20);
	write_file(q, c->quote, c->quote_len);
	write_file(s, c->sig, c->sig_len);
	write_file(raw, rawpcrs, sizeof(rawpcrs));
	write_file(lg, c->log, c->log_len);
	write_tss_pcrs(ser, c);
	{
		char *a_true[] = {"/bin/true", NULL};
		char *a_ours[] = {cli, "--ak", ak, "--quote", q, "--sig", s, "--pcrs", raw, "--bank", "sha1", NULL};
		char *a_log[] = {cli, "--ak", ak, "--quote", q, "--sig", s, "--pcrs", raw, "--bank", "sha1",
				 "--log", lg, NULL};
		char *a_peer[] = {"tpm2_checkquote", "-u", ak, "-m", q, "-s", s, "-g", "sha1", "-f", ser, NULL};

		t_true = time_spawn(a_true, n, &f1);
		t_ours = time_spawn(a_ours, n, &f2);
		t_ours_log = time_spawn(a_log, n, &f3);
		t_peer = time_spawn(a_peer, n, &f4);
	}
	printf("  process level, real GCP quote, %d runs each (fork+exec+wait, same run)\n", n);
	printf("    /bin/true (exec floor)                           %6.2f ms/run\n", t_true);
	printf("    bench_tpm_verify: signature + PCR digest          %6.2f ms/run%s\n", t_ours,
	       f2 ? " [failures!]" : "");
	printf("    bench_tpm_verify: + log replay + boot claims      %6.2f ms/run%s\n", t_ours_log,
	       f3 ? " [failures!]" : "");
	if (f4 == n)
		printf("    tpm2_checkquote: not runnable here (absent?)\n");
	else
		printf("    tpm2_checkquote -f (signature + PCR digest)       %6.2f ms/run%s\n", t_peer,
		       f4 ? " [failures!]" : "");
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
}

int main(int argc, char **argv)
{
	const char *dir = test_vectors_dir();
	struct quote_case syn, gcp;
	struct devplat_tcg_log dl;

	(void)argc;
	setenv("TSS2_LOG", "all+NONE", 1);
	printf("bench_tpm: TPM quote + TCG event log verification\n");
	if (synthetic_case(&syn, &dl) == 0)
		run_inprocess(&syn, 2000, "SHA256");
	case_free(&syn);
	devplat_tcg_log_free(&dl);
	if (dir == NULL || gcp_case(&gcp, dir) != 0) {
		printf("  real vectors absent: skipped B and C\n");
		return 0;
	}
	run_inprocess(&gcp, 2000, "SHA1");
	run_processes(&gcp, argv[0], 100);
	free(gcp.log);
	case_free(&gcp);
	return 0;
}
