/*
 * attestctl dev: a development platform on a laptop with no TEE. `dev init`
 * creates (once) the keys of a synthetic Intel platform, a synthetic AMD
 * Milan platform and a synthetic AIK CA, and writes, fresh each time, their
 * roots and collateral; `dev evidence` makes SGX quotes, TDX TD quotes,
 * SEV-SNP reports (in the SevSnpVm envelope) and TPM quotes signed by them.
 * Only an attestd started with --trust-roots <dir>/roots.pem (what `make run`
 * does in development mode) accepts them: the vendors' roots never chain to
 * this platform.
 */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "base/codec.h"
#include "devplat/intel.h"
#include "devplat/snp_plat.h"
#include "devplat/tdx.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/quote.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEV_DEFAULT_DIR "./data/devplat"
/* Collateral written by `dev init` stays valid this long (rerun init to refresh). */
#define DEV_COLLATERAL_DAYS 29
/* The synthetic AMD and TPM roots have fixed validity, so every run makes the same names and keys. */
#define DEV_CA_NOT_BEFORE 1704067200LL /* 2024-01-01 */
#define DEV_CA_NOT_AFTER  2019686400LL /* 2034-01-01 */
#define DEV_TPM_CA_CN	  "attestd development AIK CA"

struct dev_opts {
	const char *dir, *out, *runtime_file;
};

static int parse_dev_opts(const struct cli *cli, int argc, char **argv, struct dev_opts *o, int want_args)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'},
	    {"runtime-data", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->dir = DEV_DEFAULT_DIR;
	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->dir = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'r':
			o->runtime_file = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (argc - optind != want_args) {
		cli_error(cli, "wrong number of arguments (see --help)");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dir(const struct cli *cli, const char *path)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		cli_error(cli, "path too long: %s", path);
		return CLI_USAGE;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
			cli_error(cli, "cannot create %s: %s", tmp, strerror(errno));
			return CLI_LOCAL;
		}
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
		cli_error(cli, "cannot create %s: %s", path, strerror(errno));
		return CLI_LOCAL;
	}
	return CLI_OK;
}

/* The platform of dir: keys in <dir>/keys, created on first use. */
static int dev_platform(const struct cli *cli, const char *dir, struct intel_devplat **out)
{
	struct intel_devplat_opts o;
	struct attest_err err;
	char keys[4096];

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	if (make_dir(cli, dir) != CLI_OK || make_dir(cli, keys) != CLI_OK)
		return CLI_LOCAL;
	intel_devplat_opts_default(&o, time_now());
	o.key_dir = keys;
	attest_err_clear(&err);
	if (intel_devplat_new(&o, out, &err) != ATTEST_OK) {
		cli_error_record(cli, "development platform", &err);
		return CLI_LOCAL;
	}
	return CLI_OK;
}

/* dir/name into out; false when it does not fit. */
static bool join_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n > 0 && (size_t)n < cap;
}

/* The AMD CA key files of the development platform (snp_plat's names in its key_dir). */
static const char *const SNP_KEY_FILES[] = {"snp-ark-4096.pem", "snp-ask-4096.pem", "snp-asvk-4096.pem"};

/* Copies from/name to to/name (mode 0600, written then renamed) unless to/name exists. */
static void copy_key_file(const char *from, const char *to, const char *name)
{
	char src[4096], dst[4096], tmp[4200];
	unsigned char *p = NULL;
	size_t n = 0;
	FILE *f = NULL;
	int fd;

	if (!join_path(src, sizeof(src), from, name) || !join_path(dst, sizeof(dst), to, name) ||
	    access(dst, F_OK) == 0 || cli_read_file(src, &p, &n) != CLI_OK)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", dst, (long)getpid());
	(void)unlink(tmp); /* a stale one; never written through (O_EXCL, O_NOFOLLOW) */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0 &&
	    (f = fdopen(fd, "w")) == NULL)
		close(fd);
	if (f != NULL) {
		bool ok = fwrite(p, 1, n, f) == n;

		if (fclose(f) == 0 && ok)
			(void)rename(tmp, dst);
		else
			(void)unlink(tmp);
	}
	OPENSSL_cleanse(p, n);
	free(p);
}

/*
 * TESTS ONLY: ATTESTCTL_DEV_KEY_CACHE names a folder that seeds the AMD CA
 * keys of a new development platform and keeps those it generates, so test
 * suites that run `dev init` in many fresh folders pay the RSA-4096 key
 * generation (seconds) once. Every platform seeded from one cache shares
 * its keys: never set it for a development platform you use.
 */
static void snp_key_cache(const char *keys, bool after)
{
	const char *cache = getenv("ATTESTCTL_DEV_KEY_CACHE");

	if (cache == NULL || cache[0] == '\0' || (mkdir(cache, 0700) != 0 && errno != EEXIST))
		return;
	for (size_t i = 0; i < sizeof(SNP_KEY_FILES) / sizeof(SNP_KEY_FILES[0]); i++)
		copy_key_file(after ? keys : cache, after ? cache : keys, SNP_KEY_FILES[i]);
}

/* The synthetic AMD Milan platform of dir: RSA-4096 CA keys in <dir>/keys (seconds, once). */
static int dev_snp(const struct cli *cli, const char *dir, struct snp_plat **out)
{
	char keys[4096];
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = DEV_CA_NOT_BEFORE,
				  .not_after = DEV_CA_NOT_AFTER,
				  .key_dir = keys};
	struct attest_err err;

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snp_key_cache(keys, false);
	attest_err_clear(&err);
	if (snp_plat_new(&o, out, &err) != ATTEST_OK) {
		cli_error_record(cli, "development SEV-SNP platform", &err);
		return CLI_LOCAL;
	}
	snp_key_cache(keys, true);
	return CLI_OK;
}

/* Reads the PEM private key at path, or creates an EC P-256 key there (mode 0600). */
static EVP_PKEY *key_file_p256(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = NULL;
	int fd;

	if (f != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		return k;
	}
	if ((k = EVP_EC_gen("P-256")) == NULL)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	if (f != NULL)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	return k;
}

/* The synthetic AIK CA of dir: its key in <dir>/keys/tpm-ca.pem, so roots.pem stays valid. */
static int dev_tpm_ca(const struct cli *cli, const char *dir, struct devplat_tpm_ca **out)
{
	char path[4096];
	struct attest_err err;
	EVP_PKEY *key;

	snprintf(path, sizeof(path), "%s/keys/tpm-ca.pem", dir);
	if ((key = key_file_p256(path)) == NULL) {
		cli_error(cli, "cannot read or create the development AIK CA key %s", path);
		return CLI_LOCAL;
	}
	attest_err_clear(&err);
	if (devplat_tpm_ca_of_key(key, DEV_TPM_CA_CN, DEV_CA_NOT_BEFORE, DEV_CA_NOT_AFTER, out, &err) !=
	    ATTEST_OK) {
		cli_error_record(cli, "development AIK CA", &err);
		return CLI_LOCAL;
	}
	return CLI_OK;
}

static int write_file(const struct cli *cli, const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		cli_error(cli, "cannot write %s", path);
		return CLI_LOCAL;
	}
	return CLI_OK;
}

/* <dir>/roots.pem: the platforms' roots (Intel, AMD ARK-Milan, AIK CA), for attestd --trust-roots. */
static int write_roots(const struct cli *cli, const struct intel_devplat *p, const struct snp_plat *snp,
		       const struct devplat_tpm_ca *ca, const char *dir)
{
	STACK_OF(X509) *roots = intel_devplat_roots(p);
	char path[4096];
	FILE *f;
	int rc = CLI_OK;

	snprintf(path, sizeof(path), "%s/roots.pem", dir);
	f = fopen(path, "w");
	for (int i = 0; f != NULL && roots != NULL && i < sk_X509_num(roots); i++)
		if (PEM_write_X509(f, sk_X509_value(roots, i)) != 1)
			rc = CLI_LOCAL;
	if (f != NULL && (PEM_write_X509(f, snp_plat_ark(snp)) != 1 || PEM_write_X509(f, ca->cert) != 1))
		rc = CLI_LOCAL;
	if (f == NULL || fclose(f) != 0 || roots == NULL)
		rc = CLI_LOCAL;
	sk_X509_pop_free(roots, X509_free);
	if (rc != CLI_OK)
		cli_error(cli, "cannot write %s", path);
	return rc;
}

/* Writes text (the PEMs one after the other) to path. */
static bool write_pems(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "w");
	bool ok = f != NULL && fputs(a, f) >= 0 && fputs(b, f) >= 0;

	return f != NULL && fclose(f) == 0 && ok;
}

/* AMD's KDS layout (amd_collateral.h): the Milan chain and a CRL revoking nothing. */
static int snp_collateral(struct snp_plat *p, const char *dir, int64_t now, struct attest_err *err)
{
	char kds[4096], crl_path[4096], chain_path[4096];
	char *ask = snp_plat_pem(snp_plat_ask(p)), *ark = snp_plat_pem(snp_plat_ark(p));
	X509_CRL *crl = NULL;
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = ask && ark ? snp_plat_crl(p, false, false, now - 86400, now + DEV_COLLATERAL_DAYS * 86400,
					   &crl, err)
			    : attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");

	if (rc == ATTEST_OK && (der = snp_plat_crl_der(crl, &n)) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");
	if (rc == ATTEST_OK &&
	    (!join_path(kds, sizeof(kds), dir, "vcek/v1/Milan") ||
	     !join_path(crl_path, sizeof(crl_path), kds, "crl") ||
	     !join_path(chain_path, sizeof(chain_path), kds, "cert_chain") || make_dir(NULL, kds) != CLI_OK ||
	     write_file(NULL, crl_path, der, n) != CLI_OK || !write_pems(chain_path, ask, ark)))
		rc = attest_err_set(err, ATTEST_E_IO, "cli.write", "cannot write the AMD collateral in %s",
				    dir);
	X509_CRL_free(crl);
	free(der);
	free(ask);
	free(ark);
	return rc;
}

/* The SGX TCB Info: one UpToDate level at the platform's own SVNs. */
static int sgx_collateral(const struct intel_devplat *p, const char *dir, int64_t now, struct attest_err *err)
{
	struct intel_devplat_opts d;
	struct intel_devplat_tcb_level level = {.pcesvn = 0, .status = "UpToDate"};
	struct intel_devplat_tcb_info ti = {.version = 3, .id = "SGX", .levels = &level, .n_levels = 1};
	struct intel_devplat_qe_identity qe;
	char *tcb = NULL, *qeb = NULL;
	size_t tl = 0, ql = 0;
	int rc;

	intel_devplat_opts_default(&d, now);
	memcpy(level.sgx, d.comp_svn, 16);
	level.pcesvn = d.pcesvn;
	ti.issue_date = now - 86400;
	ti.next_update = now + DEV_COLLATERAL_DAYS * 86400;
	intel_devplat_qe_identity_default(&qe);
	qe.issue_date = ti.issue_date;
	qe.next_update = ti.next_update;
	rc = intel_devplat_tcb_info(p, &ti, &tcb, &tl, err);
	if (rc == ATTEST_OK)
		rc = intel_devplat_qe_identity(p, &qe, &qeb, &ql, err);
	if (rc == ATTEST_OK)
		rc = intel_devplat_write_collateral(p, dir, tcb, tl, qeb, ql, ti.issue_date, ti.next_update,
						    err);
	free(tcb);
	free(qeb);
	return rc;
}

/*
 * The TDX TCB Info and TD QE identity of the same platform (same FMSPC), in
 * the file source's TDX-specific names: one UpToDate level whose TDX
 * components any TD meets, and the TDX module 1.x identity.
 */
static int tdx_collateral(const struct intel_devplat *p, const char *dir, int64_t now, struct attest_err *err)
{
	static const struct intel_devplat_module_level mod_level = {1, "UpToDate", NULL};
	struct intel_devplat_opts d;
	struct intel_devplat_tcb_level level = {.has_tdx = true, .status = "UpToDate"};
	struct intel_devplat_module mod = {.id = "TDX_01", .levels = &mod_level, .n_levels = 1};
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_qe_identity qe;
	char *tcb = NULL, *qeb = NULL, path[4096], hex[13];
	size_t tl = 0, ql = 0;
	int rc;

	intel_devplat_opts_default(&d, now);
	memcpy(level.sgx, d.comp_svn, 16);
	level.pcesvn = d.pcesvn;
	tdx_devplat_tcb_info_default(&ti, &level, 1, &mod, 1);
	ti.issue_date = now - 86400;
	ti.next_update = now + DEV_COLLATERAL_DAYS * 86400;
	tdx_devplat_td_qe_identity_default(&qe);
	qe.issue_date = ti.issue_date;
	qe.next_update = ti.next_update;
	rc = intel_devplat_tcb_info(p, &ti, &tcb, &tl, err);
	if (rc == ATTEST_OK)
		rc = intel_devplat_qe_identity(p, &qe, &qeb, &ql, err);
	for (int i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", d.fmspc[i]);
	if (rc == ATTEST_OK &&
	    ((size_t)snprintf(path, sizeof(path), "%s/tcb_info_tdx_%s.json", dir, hex) >= sizeof(path) ||
	     write_file(NULL, path, tcb, tl) != CLI_OK))
		rc =
		    attest_err_set(err, ATTEST_E_IO, "cli.write", "cannot write the TDX TCB Info in %s", dir);
	if (rc == ATTEST_OK &&
	    ((size_t)snprintf(path, sizeof(path), "%s/qe_identity_td_qe.json", dir) >= sizeof(path) ||
	     write_file(NULL, path, qeb, ql) != CLI_OK))
		rc = attest_err_set(err, ATTEST_E_IO, "cli.write", "cannot write the TD QE identity in %s",
				    dir);
	free(tcb);
	free(qeb);
	return rc;
}

static int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct intel_devplat *p = NULL;
	struct snp_plat *snp = NULL;
	struct devplat_tpm_ca *ca = NULL;
	struct dev_opts o = {0};
	struct attest_err err;
	char coll[4096];
	int64_t now = time_now();
	int rc;

	if ((rc = parse_dev_opts(cli, argc, argv, &o, 0)) != CLI_OK)
		return rc;
	if ((rc = dev_platform(cli, o.dir, &p)) == CLI_OK && (rc = dev_snp(cli, o.dir, &snp)) == CLI_OK)
		rc = dev_tpm_ca(cli, o.dir, &ca);
	snprintf(coll, sizeof(coll), "%s/collateral", o.dir);
	attest_err_clear(&err);
	if (rc == CLI_OK && (rc = make_dir(cli, coll)) == CLI_OK &&
	    (rc = write_roots(cli, p, snp, ca, o.dir)) == CLI_OK &&
	    (sgx_collateral(p, coll, now, &err) != ATTEST_OK ||
	     tdx_collateral(p, coll, now, &err) != ATTEST_OK ||
	     snp_collateral(snp, coll, now, &err) != ATTEST_OK)) {
		cli_error_record(cli, "development collateral", &err);
		rc = CLI_LOCAL;
	}
	if (rc == CLI_OK)
		printf("development platform in %s (collateral valid %d days)\n"
		       "  attestd --dev --trust-roots %s/roots.pem --collateral-dir %s\n",
		       o.dir, DEV_COLLATERAL_DAYS, o.dir, coll);
	intel_devplat_free(p);
	snp_plat_free(snp);
	devplat_tpm_ca_free(ca);
	return rc;
}

/* SHA-256 of the runtime data file into the first 32 bytes of report data. */
static int bind_runtime(const struct cli *cli, const char *file, uint8_t report_data[64])
{
	unsigned char *data = NULL;
	size_t n = 0;

	if (file == NULL)
		return CLI_OK;
	if (cli_read_file(file, &data, &n) != CLI_OK) {
		cli_error(cli, "cannot read %s", file);
		return CLI_LOCAL;
	}
	sha256(data, n, report_data);
	free(data);
	return CLI_OK;
}

static int intel_evidence(const struct cli *cli, const char *kind, const char *dir, const char *runtime,
			  uint8_t **quote, size_t *len, struct attest_err *err)
{
	struct intel_devplat *p = NULL;
	int rc = dev_platform(cli, dir, &p);

	if (rc == CLI_OK && strcmp(kind, "sgx") == 0) {
		struct intel_devplat_enclave e;
		uint8_t body[SGX_REPORT_BODY_SIZE];
		struct intel_devplat_quote q;

		intel_devplat_enclave_default(&e);
		if ((rc = bind_runtime(cli, runtime, e.reportdata)) == CLI_OK) {
			intel_devplat_report_body(&e, body);
			intel_devplat_quote_default(&q);
			q.body = body;
			q.body_len = sizeof(body);
			rc = intel_devplat_make_quote(p, &q, quote, len, err) == ATTEST_OK ? CLI_OK
											   : CLI_REFUSED;
		}
	} else if (rc == CLI_OK) {
		struct tdx_devplat_td td;

		tdx_devplat_td_default(&td);
		if ((rc = bind_runtime(cli, runtime, td.report_data)) == CLI_OK)
			rc = tdx_devplat_make_quote(p, 4, &td, NULL, 0, quote, len, err) == ATTEST_OK
				 ? CLI_OK
				 : CLI_REFUSED;
	}
	intel_devplat_free(p);
	return rc;
}

/* The SevSnpVm envelope {"SnpReport", "VcekCertChain"} (maa-interface.md §1.3.3) as JSON text. */
static char *snp_envelope(const uint8_t report[SNP_REPORT_SIZE], X509 *vcek, const struct snp_plat *p)
{
	char *leaf = snp_plat_pem(vcek), *ask = snp_plat_pem(snp_plat_ask(p)),
	     *ark = snp_plat_pem(snp_plat_ark(p));
	char *chain = NULL, *r64 = NULL, *c64 = NULL;
	json_t *env = NULL;
	char *out = NULL;

	if (leaf && ask && ark && asprintf(&chain, "%s%s%s", leaf, ask, ark) > 0 &&
	    (r64 = b64url_encode(report, SNP_REPORT_SIZE)) != NULL &&
	    (c64 = b64url_encode((const uint8_t *)chain, strlen(chain))) != NULL &&
	    (env = json_pack("{s:s, s:s}", "SnpReport", r64, "VcekCertChain", c64)) != NULL)
		out = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	free(leaf), free(ask), free(ark), free(chain), free(r64), free(c64);
	return out;
}

/*
 * A report of a synthetic Milan guest: a fresh VCEK for the development
 * chip (its chain is in the envelope), SHA-256 of the runtime data in
 * REPORT_DATA[0:32] as attestd checks for SevSnpVm.
 */
static int snp_evidence(const struct cli *cli, const char *dir, const char *runtime, uint8_t **out,
			size_t *len, struct attest_err *err)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73}; /* bl 3, snp 8, ucode 0x73 */
	struct snp_plat *p = NULL;
	struct snp_plat_leaf leaf = {0};
	struct snp_report r;
	uint8_t chip_id[64], report[SNP_REPORT_SIZE];
	char *env = NULL;
	int rc = dev_snp(cli, dir, &p);

	for (int i = 0; i < 64; i++)
		chip_id[i] = (uint8_t)(0xD0 + i);
	if (rc == CLI_OK) {
		struct snp_plat_leaf_spec spec = {.chip_id = chip_id, .tcb = tcb};

		snp_plat_report_defaults(p, chip_id, tcb, false, &r);
		rc = bind_runtime(cli, runtime, r.report_data);
		if (rc == CLI_OK && snp_plat_issue(p, &spec, &leaf, err) != ATTEST_OK)
			rc = CLI_REFUSED;
	}
	if (rc == CLI_OK) {
		snp_plat_report_encode(&r, report);
		if (snp_plat_report_sign(report, leaf.key, err) != ATTEST_OK)
			rc = CLI_REFUSED;
	}
	if (rc == CLI_OK && (env = snp_envelope(report, leaf.cert, p)) == NULL) {
		attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");
		rc = CLI_REFUSED;
	}
	*out = (uint8_t *)env;
	*len = env ? strlen(env) : 0;
	snp_plat_leaf_free(&leaf);
	snp_plat_free(p);
	return rc;
}

/* The nonce a TPM quote carries: the runtime data file itself (TPM2B_DATA holds up to 64 bytes). */
static int tpm_nonce(const struct cli *cli, const char *file, uint8_t nonce[64], size_t *len)
{
	unsigned char *data = NULL;
	size_t n = 0;

	*len = 0;
	if (file == NULL)
		return CLI_OK;
	if (cli_read_file(file, &data, &n) != CLI_OK || n > 64) {
		cli_error(cli, "%s: cannot read it, or it is over the 64 bytes a TPM quote's nonce holds",
			  file);
		free(data);
		return CLI_LOCAL;
	}
	memcpy(nonce, data, n);
	*len = n;
	free(data);
	return CLI_OK;
}

/* A quote of a synthetic TPM over a synthetic Secure Boot log, by a fresh AIK the development CA certified.
 */
static int tpm_quote_json(const struct devplat_tpm_ca *ca, const uint8_t *nonce, size_t nonce_len, char **out,
			  struct attest_err *err)
{
	struct devplat_boot boot = {.secure_boot = true, .vbs = true};
	struct devplat_tcg_log log = {0};
	struct tpm_pcr_values pcrs;
	struct devplat_tpm_attestation a = {0};
	uint8_t *quote = NULL, *sig = NULL, *der = NULL;
	size_t ql = 0, sl = 0;
	EVP_PKEY *aik = EVP_EC_gen("P-256");
	X509 *cert = NULL;
	int64_t now = time_now();
	int rc = aik ? devplat_tcg_log_init(&log)
		     : attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");

	if (rc == ATTEST_OK)
		rc = devplat_tcg_log_boot(&log, &boot);
	if (rc == ATTEST_OK) {
		devplat_tcg_log_pcrs(&log, &pcrs);
		rc = devplat_tpm_quote(aik, &pcrs, TPM_BANK_SHA256, pcrs.present[TPM_BANK_SHA256], nonce,
				       nonce_len, &quote, &ql, &sig, &sl, err);
	}
	if (rc == ATTEST_OK)
		rc = devplat_tpm_ca_issue(ca, aik, "attestd development AIK", now - 86400,
					  now + 365 * 86400LL, &cert, err);
	if (rc == ATTEST_OK) {
		int n = i2d_X509(cert, &der);

		a = (struct devplat_tpm_attestation){.quote = quote,
						     .quote_len = ql,
						     .sig = sig,
						     .sig_len = sl,
						     .pcrs = &pcrs,
						     .log = log.log.p,
						     .log_len = log.log.len,
						     .aik = aik,
						     .aik_cert_der = der,
						     .aik_cert_len = n > 0 ? (size_t)n : 0};
		rc = n > 0 ? devplat_tpm_attestation_json(&a, out, err)
			   : attest_err_set(err, ATTEST_E_INTERNAL, "cli.tpm",
					    "cannot encode the AIK certificate");
	}
	devplat_tcg_log_free(&log);
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(aik);
	free(quote);
	free(sig);
	return rc;
}

static int tpm_evidence(const struct cli *cli, const char *dir, const char *runtime, uint8_t **out,
			size_t *len, struct attest_err *err)
{
	struct devplat_tpm_ca *ca = NULL;
	uint8_t nonce[64];
	size_t nlen = 0;
	char *json = NULL;
	int rc = tpm_nonce(cli, runtime, nonce, &nlen);

	if (rc == CLI_OK && (rc = dev_tpm_ca(cli, dir, &ca)) == CLI_OK &&
	    tpm_quote_json(ca, nonce, nlen, &json, err) != ATTEST_OK)
		rc = CLI_REFUSED;
	devplat_tpm_ca_free(ca);
	*out = (uint8_t *)json;
	*len = json ? strlen(json) : 0;
	return rc;
}

static int make_evidence(const struct cli *cli, const char *kind, const char *dir, const char *runtime,
			 uint8_t **out, size_t *len, struct attest_err *err)
{
	if (strcmp(kind, "sgx") == 0 || strcmp(kind, "tdx") == 0)
		return intel_evidence(cli, kind, dir, runtime, out, len, err);
	if (strcmp(kind, "snp") == 0)
		return snp_evidence(cli, dir, runtime, out, len, err);
	if (strcmp(kind, "tpm") == 0)
		return tpm_evidence(cli, dir, runtime, out, len, err);
	cli_error(cli, "dev evidence: unknown kind '%s' (sgx, tdx, snp, tpm)", kind);
	return CLI_USAGE;
}

static int cmd_evidence(struct cli *cli, int argc, char **argv)
{
	struct dev_opts o = {0};
	struct attest_err err;
	uint8_t *ev = NULL;
	size_t len = 0;
	int rc;

	if ((rc = parse_dev_opts(cli, argc, argv, &o, 1)) != CLI_OK)
		return rc;
	attest_err_clear(&err);
	rc = make_evidence(cli, argv[optind], o.dir, o.runtime_file, &ev, &len, &err);
	if (rc == CLI_REFUSED)
		cli_error_record(cli, "dev evidence", &err);
	if (rc == CLI_OK && o.out)
		rc = write_file(cli, o.out, ev, len);
	else if (rc == CLI_OK && fwrite(ev, 1, len, stdout) != len)
		rc = CLI_LOCAL;
	free(ev);
	return rc;
}

static const struct cli_command VERBS[] = {
    {"init", "create the development platform and write its roots and collateral", cmd_init,
     "Usage: attestctl dev init [--dir DIR]\n\n"
     "Creates (once) the keys of a synthetic Intel platform, a synthetic AMD Milan\n"
     "platform and a synthetic AIK CA in DIR/keys (default " DEV_DEFAULT_DIR "; the AMD\n"
     "RSA-4096 keys take a few seconds the first time), and writes, fresh each time,\n"
     "DIR/roots.pem and DIR/collateral/ (valid 29 days).\n"
     "Start attestd with --trust-roots DIR/roots.pem --collateral-dir DIR/collateral\n"
     "to accept its evidence (`make run` does). Never trust it in production.\n"},
    {"evidence", "write synthetic evidence (sgx, tdx, snp, tpm) from the development platform", cmd_evidence,
     "Usage: attestctl dev evidence sgx|tdx|snp|tpm [--dir DIR] [--runtime-data FILE] [-o FILE]\n\n"
     "Writes evidence signed by the development platform, to stdout or FILE:\n"
     "  sgx  an SGX quote (v3)                    attestctl attest SgxEnclave FILE\n"
     "  tdx  a TDX TD quote (v4)                  attestctl attest TdxVm FILE\n"
     "  snp  a SEV-SNP report in the SevSnpVm JSON envelope, with its VCEK chain\n"
     "                                            attestctl attest SevSnpVm FILE\n"
     "  tpm  one TPM quote with its log, PCRs and certified AIK (JSON)\n"
     "                                            attestctl verify Tpm FILE --trust-roots DIR/roots.pem\n"
     "With --runtime-data, SHA-256 of the file is bound in the report data (sgx, tdx,\n"
     "snp), as attestd checks for runtimeData; for tpm the file itself (up to 64\n"
     "bytes) is the quote's nonce, which `attestctl verify Tpm --runtime-data` expects.\n"},
    {NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_dev = {
    "dev", "a development platform: synthetic evidence for laptops without a TEE", VERBS, NULL, NULL};
