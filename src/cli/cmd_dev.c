/*
 * attestctl dev: a development platform on a laptop with no TEE. `dev init`
 * creates (once) the keys of a synthetic Intel platform and writes, fresh
 * each time, its root certificate and collateral; `dev evidence` makes SGX
 * quotes and TDX TD quotes signed by it. Only an attestd started with
 * --trust-roots <dir>/roots.pem (what `make run` does in development mode)
 * accepts them: the vendors' roots never chain to this platform.
 */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "devplat/tdx.h"
#include "evidence/quote.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEV_DEFAULT_DIR "./data/devplat"
/* Collateral written by `dev init` stays valid this long (rerun init to refresh). */
#define DEV_COLLATERAL_DAYS 29

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
		case 'd': o->dir = optarg; break;
		case 'o': o->out = optarg; break;
		case 'r': o->runtime_file = optarg; break;
		default: return CLI_USAGE;
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

static int write_file(const struct cli *cli, const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		cli_error(cli, "cannot write %s", path);
		return CLI_LOCAL;
	}
	return CLI_OK;
}

/* <dir>/roots.pem: the platform's root, for attestd --trust-roots. */
static int write_roots(const struct cli *cli, const struct intel_devplat *p, const char *dir)
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
	if (f == NULL || fclose(f) != 0 || roots == NULL)
		rc = CLI_LOCAL;
	sk_X509_pop_free(roots, X509_free);
	if (rc != CLI_OK)
		cli_error(cli, "cannot write %s", path);
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
		rc = intel_devplat_write_collateral(p, dir, tcb, tl, qeb, ql, ti.issue_date, ti.next_update, err);
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
	if (rc == ATTEST_OK && ((size_t)snprintf(path, sizeof(path), "%s/tcb_info_tdx_%s.json", dir, hex) >= sizeof(path) ||
				write_file(NULL, path, tcb, tl) != CLI_OK))
		rc = attest_err_set(err, ATTEST_E_IO, "cli.write", "cannot write the TDX TCB Info in %s", dir);
	if (rc == ATTEST_OK && ((size_t)snprintf(path, sizeof(path), "%s/qe_identity_td_qe.json", dir) >= sizeof(path) ||
				write_file(NULL, path, qeb, ql) != CLI_OK))
		rc = attest_err_set(err, ATTEST_E_IO, "cli.write", "cannot write the TD QE identity in %s", dir);
	free(tcb);
	free(qeb);
	return rc;
}

static int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct intel_devplat *p = NULL;
	struct dev_opts o = {0};
	struct attest_err err;
	char coll[4096];
	int64_t now = time_now();
	int rc;

	if ((rc = parse_dev_opts(cli, argc, argv, &o, 0)) != CLI_OK)
		return rc;
	if ((rc = dev_platform(cli, o.dir, &p)) != CLI_OK)
		return rc;
	snprintf(coll, sizeof(coll), "%s/collateral", o.dir);
	attest_err_clear(&err);
	if ((rc = make_dir(cli, coll)) == CLI_OK && (rc = write_roots(cli, p, o.dir)) == CLI_OK &&
	    (sgx_collateral(p, coll, now, &err) != ATTEST_OK || tdx_collateral(p, coll, now, &err) != ATTEST_OK)) {
		cli_error_record(cli, "development collateral", &err);
		rc = CLI_LOCAL;
	}
	if (rc == CLI_OK)
		printf("development platform in %s (collateral valid %d days)\n"
		       "  attestd --dev --trust-roots %s/roots.pem --collateral-dir %s\n",
		       o.dir, DEV_COLLATERAL_DAYS, o.dir, coll);
	intel_devplat_free(p);
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

static int make_evidence(const struct cli *cli, const char *kind, struct intel_devplat *p, const char *runtime,
			 uint8_t **quote, size_t *len, struct attest_err *err)
{
	if (strcmp(kind, "sgx") == 0) {
		struct intel_devplat_enclave e;
		uint8_t body[SGX_REPORT_BODY_SIZE];
		struct intel_devplat_quote q;

		intel_devplat_enclave_default(&e);
		if (bind_runtime(cli, runtime, e.reportdata) != CLI_OK)
			return CLI_LOCAL;
		intel_devplat_report_body(&e, body);
		intel_devplat_quote_default(&q);
		q.body = body;
		q.body_len = sizeof(body);
		return intel_devplat_make_quote(p, &q, quote, len, err) == ATTEST_OK ? CLI_OK : CLI_REFUSED;
	}
	if (strcmp(kind, "tdx") == 0) {
		struct tdx_devplat_td td;

		tdx_devplat_td_default(&td);
		if (bind_runtime(cli, runtime, td.report_data) != CLI_OK)
			return CLI_LOCAL;
		return tdx_devplat_make_quote(p, 4, &td, NULL, 0, quote, len, err) == ATTEST_OK ? CLI_OK : CLI_REFUSED;
	}
	cli_error(cli, "dev evidence: unknown kind '%s' (sgx, tdx)", kind);
	return CLI_USAGE;
}

static int cmd_evidence(struct cli *cli, int argc, char **argv)
{
	struct intel_devplat *p = NULL;
	struct dev_opts o = {0};
	struct attest_err err;
	uint8_t *quote = NULL;
	size_t len = 0;
	int rc;

	if ((rc = parse_dev_opts(cli, argc, argv, &o, 1)) != CLI_OK)
		return rc;
	if ((rc = dev_platform(cli, o.dir, &p)) != CLI_OK)
		return rc;
	attest_err_clear(&err);
	rc = make_evidence(cli, argv[optind], p, o.runtime_file, &quote, &len, &err);
	if (rc == CLI_REFUSED)
		cli_error_record(cli, "dev evidence", &err);
	if (rc == CLI_OK && o.out)
		rc = write_file(cli, o.out, quote, len);
	else if (rc == CLI_OK && fwrite(quote, 1, len, stdout) != len)
		rc = CLI_LOCAL;
	free(quote);
	intel_devplat_free(p);
	return rc;
}

static const struct cli_command VERBS[] = {
	{"init", "create the development platform and write its roots and collateral", cmd_init,
	 "Usage: attestctl dev init [--dir DIR]\n\n"
	 "Creates (once) the keys of a synthetic Intel platform in DIR/keys (default\n" DEV_DEFAULT_DIR "), and\n"
	 "writes, fresh each time, DIR/roots.pem and DIR/collateral/ (valid 29 days).\n"
	 "Start attestd with --trust-roots DIR/roots.pem --collateral-dir DIR/collateral\n"
	 "to accept its evidence (`make run` does). Never trust it in production.\n"},
	{"evidence", "write synthetic evidence (sgx, tdx) from the development platform", cmd_evidence,
	 "Usage: attestctl dev evidence sgx|tdx [--dir DIR] [--runtime-data FILE] [-o FILE]\n\n"
	 "Writes an SGX quote (v3) or a TDX TD quote (v4) signed by the development\n"
	 "platform, to stdout or FILE. With --runtime-data, SHA-256 of the file is bound\n"
	 "in the report data, as attestd checks for runtimeData.\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_dev = {"dev", "a development platform: synthetic evidence for laptops without a TEE",
				      VERBS, NULL, NULL};
