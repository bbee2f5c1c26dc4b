/*
 * attestctl collateral export|import|list: collateral bundles (issue 12,
 * docs/receipts-and-bundles.md, format in src/collateral/bundle.h), so an
 * air-gapped attestd is fed from files.
 *
 *   export --from-dir DIR      a collateral folder (the file source's layout)
 *   export [--key K ...]       a running attestd's durable collateral cache
 *   import FILE                POST /management/collateral: attestd verifies
 *                              every item before it stores any
 *   import FILE --dir DIR      a folder for attestd --collateral-dir
 *   list FILE                  what a bundle holds
 */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/timeutil.h"
#include "collateral/bundle.h"
#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/snp.h"

#include <dirent.h>
#include <getopt.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a folder's items ------------------------------------------------------------ */

static bool read_opt(const char *dir, const char *name, uint8_t **p, size_t *n)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*p = NULL;
	*n = 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       file_read_all(path, BUNDLE_MAX_ITEM_BYTES, p, n) == ATTEST_OK;
}

/* Reads dir/name with the first existing chain of `chains`; false when name is absent. */
static bool read_item(const char *dir, const char *name, const char *const *chains, size_t nchains,
		      struct collateral_blob *b)
{
	memset(b, 0, sizeof(*b));
	if (!read_opt(dir, name, &b->data, &b->len))
		return false;
	for (size_t i = 0; i < nchains; i++)
		if (chains[i] != NULL && read_opt(dir, chains[i], &b->chain, &b->chain_len))
			break;
	return true;
}

/* Adds one item; a file that is not what its name says is reported, not fatal. */
static int add_or_warn(const struct cli *cli, struct bundle *b, int kind, const char *key, const char *name,
		       struct collateral_blob *blob, struct attest_err *err)
{
	int rc = ATTEST_OK;

	if (kind < 0 || key == NULL)
		cli_error(cli, "%s: not recognised, skipped", name);
	else
		rc = bundle_add(b, (enum bundle_kind)kind, key, blob, err);
	collateral_blob_free(blob);
	return rc;
}

/* tcb_info.json, tcb_info_<tee>_<fmspc>.json: the key from the signed body. */
static const char *tcb_info_key(const struct collateral_blob *b, char key[CACHED_KEY_MAX])
{
	json_t *doc = json_loadb((const char *)b->data, b->len, 0, NULL);
	json_t *ti = json_object_get(doc, "tcbInfo");
	const char *fmspc = json_string_value(json_object_get(ti, "fmspc"));
	const char *id = json_string_value(json_object_get(ti, "id"));
	uint8_t f[6];
	const char *out = NULL;

	if (fmspc != NULL && strlen(fmspc) == 12 && hex_decode_to(fmspc, 12, f, 6) == 0) {
		cached_key_tcb_info(
		    id != NULL && strcmp(id, "TDX") == 0 ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX, f, key);
		out = key;
	}
	json_decref(doc);
	return out;
}

static const char *qe_identity_key(const struct collateral_blob *b, char key[CACHED_KEY_MAX])
{
	static const char *const ids[] = {"QE", "TD_QE", "QVE", "QAE"};
	json_t *doc = json_loadb((const char *)b->data, b->len, 0, NULL);
	const char *id = json_string_value(json_object_get(json_object_get(doc, "enclaveIdentity"), "id"));
	const char *out = NULL;

	for (int i = 0; id != NULL && i < 4; i++)
		if (strcmp(id, ids[i]) == 0) {
			cached_key_qe_identity((enum collateral_qe)i, key);
			out = key;
		}
	json_decref(doc);
	return out;
}

/* The CN of a CRL's issuer, "" when unreadable. */
static void crl_issuer_cn(const struct collateral_blob *b, char *cn, size_t n)
{
	X509_CRL *crl = NULL;

	cn[0] = '\0';
	if (x509_crl_load(b->data, b->len, &crl, "cli.crl", NULL) == ATTEST_OK)
		X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, cn, (int)n);
	X509_CRL_free(crl);
}

/*
 * The selected set a file name ends with before ".json" (as bundle_write_dir
 * writes them): "_early" -> "/early", "_eval<N>" -> "/eval<N>", "" -> "";
 * NULL for anything else.
 */
static const char *selector_of(const char *rest, char *out, size_t cap)
{
	size_t n = strlen(rest);
	char sfx[COLLATERAL_SELECT_SUFFIX_MAX];
	struct collateral_select sel;

	if (n < 5 || n - 5 >= sizeof(sfx) || strcmp(rest + n - 5, ".json") != 0)
		return NULL;
	memcpy(sfx, rest, n - 5);
	sfx[n - 5] = '\0';
	if (!collateral_select_parse_suffix(sfx, '_', &sel))
		return NULL;
	collateral_select_suffix(&sel, '/', out, cap);
	return out;
}

/*
 * tcb_info_<tee>_<fmspc>[_early|_eval<N>].json and
 * qe_identity_<id>_(early|eval<N>).json: the key from the body, the set from the name.
 */
static int named_item(const struct cli *cli, const char *dir, const char *name, struct bundle *b,
		      struct attest_err *err)
{
	static const char *const ids[] = {"qe_identity_qe", "qe_identity_td_qe", "qe_identity_qve",
					  "qe_identity_qae"};
	char key[CACHED_KEY_MAX], chain[300], sel[32];
	const char *ch[3] = {chain, "tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem"};
	struct collateral_blob blob;
	const char *base = NULL;
	size_t stem = strlen(name) - 5;
	int kind = -1;

	if (strncmp(name, "tcb_info_", 9) == 0 && strlen(name) >= 9 + 4 + 12 + 5 &&
	    selector_of(name + 9 + 4 + 12, sel, sizeof(sel)) != NULL)
		kind = BUNDLE_TCB_INFO;
	for (size_t i = 0; i < 4 && kind < 0; i++) {
		size_t n = strlen(ids[i]);

		if (strncmp(name, ids[i], n) == 0 && selector_of(name + n, sel, sizeof(sel)) != NULL &&
		    sel[0] != '\0')
			kind = BUNDLE_QE_IDENTITY;
	}
	if (kind < 0)
		return ATTEST_OK;
	snprintf(chain, sizeof(chain), "%.*s_issuer_chain.pem", (int)stem, name);
	if (!read_item(dir, name, ch, kind == BUNDLE_TCB_INFO ? 2 : 3, &blob))
		return ATTEST_OK;
	base = kind == BUNDLE_TCB_INFO ? tcb_info_key(&blob, key) : qe_identity_key(&blob, key);
	if (base != NULL)
		snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s", sel);
	return add_or_warn(cli, b, kind, base, name, &blob, err);
}

static int intel_items(const struct cli *cli, const char *dir, struct bundle *b, struct attest_err *err)
{
	static const char *const tcb_chain[] = {"tcb_info_issuer_chain.pem"};
	static const char *const qe_names[] = {"qe_identity.json", "qe_identity_qe.json",
					       "qe_identity_td_qe.json", "qe_identity_qve.json",
					       "qe_identity_qae.json"};
	static const char *const crl_names[] = {"pck_crl.der",		 "pck_crl.pem",
						"pck_crl_processor.der", "pck_crl_processor.pem",
						"pck_crl_platform.der",	 "pck_crl_platform.pem"};
	struct collateral_blob blob;
	char key[CACHED_KEY_MAX], chain[300], cn[128];
	int rc = ATTEST_OK;
	DIR *d;
	struct dirent *e;

	/* The generic name first: a specific file of the same key then replaces it. */
	if (read_item(dir, "tcb_info.json", tcb_chain, 1, &blob))
		rc = add_or_warn(cli, b, BUNDLE_TCB_INFO, tcb_info_key(&blob, key), "tcb_info.json", &blob,
				 err);
	if (rc == ATTEST_OK && (d = opendir(dir)) != NULL) {
		while (rc == ATTEST_OK && (e = readdir(d)) != NULL)
			rc = named_item(cli, dir, e->d_name, b, err);
		closedir(d);
	}
	for (size_t i = 0; rc == ATTEST_OK && i < 5; i++) {
		const char *ch[3] = {chain, "qe_identity_issuer_chain.pem", "tcb_info_issuer_chain.pem"};

		snprintf(chain, sizeof(chain), "%.*s_issuer_chain.pem", (int)(strlen(qe_names[i]) - 5),
			 qe_names[i]);
		if (read_item(dir, qe_names[i], ch, 3, &blob))
			rc = add_or_warn(cli, b, BUNDLE_QE_IDENTITY, qe_identity_key(&blob, key), qe_names[i],
					 &blob, err);
	}
	for (size_t i = 0; rc == ATTEST_OK && i < 6; i++) {
		const char *ch[2] = {chain, "pck_crl_issuer_chain.pem"};

		snprintf(chain, sizeof(chain), "%.*s_issuer_chain.pem", (int)(strlen(crl_names[i]) - 4),
			 crl_names[i]);
		if (!read_item(dir, crl_names[i], ch, 2, &blob))
			continue;
		/* Which PCK CA: the CRL's issuer says (Intel SGX PCK Platform CA / Processor CA). */
		crl_issuer_cn(&blob, cn, sizeof(cn));
		cached_key_pck_crl(strstr(cn, "Platform") ? COLLATERAL_CA_PLATFORM : COLLATERAL_CA_PROCESSOR,
				   key);
		rc = add_or_warn(cli, b, strstr(cn, "PCK") ? BUNDLE_PCK_CRL : -1, key, crl_names[i], &blob,
				 err);
	}
	if (rc == ATTEST_OK && (read_item(dir, "root_ca_crl.der", NULL, 0, &blob) ||
				read_item(dir, "root_ca_crl.pem", NULL, 0, &blob)))
		rc = add_or_warn(cli, b, BUNDLE_ROOT_CA_CRL, "root_ca_crl", "root_ca_crl", &blob, err);
	return rc;
}

/* A VCEK/VLEK file: product, CHIP_ID and REPORTED_TCB from the certificate itself. */
static const char *vcek_key(const struct collateral_blob *b, char key[CACHED_KEY_MAX])
{
	struct amd_cert_ext ext;
	struct snp_tcb tcb;
	X509 *x = NULL;
	enum amd_product p = AMD_PRODUCT_UNKNOWN;
	char issuer[64] = "";
	const char *out = NULL;

	if (amd_cert_load(b->data, b->len, &x, "cli.vcek", NULL) != ATTEST_OK ||
	    amd_cert_ext_parse(x, &ext, NULL) != ATTEST_OK || !ext.has_hwid)
		goto out;
	if (ext.has_product_name)
		p = amd_product_from_name(ext.product_name, strlen(ext.product_name));
	if (p == AMD_PRODUCT_UNKNOWN) { /* older VCEKs: the issuer is SEV-<Product> */
		X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, issuer, sizeof(issuer));
		p = strncmp(issuer, "SEV-", 4) == 0 ? amd_product_from_name(issuer + 4, strlen(issuer + 4))
						    : AMD_PRODUCT_UNKNOWN;
	}
	amd_cert_ext_tcb(&ext, &tcb);
	if (p != AMD_PRODUCT_UNKNOWN && bundle_key_amd_vcek_of(p, ext.hwid, ext.hwid_len, &tcb, key))
		out = key;
out:
	X509_free(x);
	return out;
}

/* The KDS tree (vcek|vlek/v1/<Product>/...) and the one-platform names of a vector folder. */
/* A product's chain and CRL of one kind (vcek/vlek): the KDS tree first, then the vector names. */
static int amd_chain_and_crl(const struct cli *cli, const char *dir, const char *product, bool vlek,
			     struct bundle *b, struct attest_err *err)
{
	const char *sel = vlek ? "vlek" : "vcek";
	struct collateral_blob blob;
	char key[CACHED_KEY_MAX], name[600], low[8];
	int rc = ATTEST_OK;

	snprintf(low, sizeof(low), "%c%s", product[0] + 32, product + 1);
	cached_key_amd(product, false, vlek, key);
	snprintf(name, sizeof(name), "%s/v1/%s/cert_chain", sel, product);
	if (read_item(dir, name, NULL, 0, &blob))
		rc = add_or_warn(cli, b, BUNDLE_AMD_CERT_CHAIN, key, name, &blob, err);
	snprintf(name, sizeof(name), "ask_ark_%s%s.pem", low, vlek ? "_vlek" : "");
	if (rc == ATTEST_OK && bundle_find(b, key) == NULL && read_item(dir, name, NULL, 0, &blob))
		rc = add_or_warn(cli, b, BUNDLE_AMD_CERT_CHAIN, key, name, &blob, err);
	cached_key_amd(product, true, vlek, key);
	snprintf(name, sizeof(name), "%s/v1/%s/crl", sel, product);
	if (rc == ATTEST_OK && read_item(dir, name, NULL, 0, &blob))
		rc = add_or_warn(cli, b, BUNDLE_AMD_CRL, key, name, &blob, err);
	snprintf(name, sizeof(name), "%s_crl_%s.der", sel, product);
	if (rc == ATTEST_OK && bundle_find(b, key) == NULL && read_item(dir, name, NULL, 0, &blob))
		rc = add_or_warn(cli, b, BUNDLE_AMD_CRL, key, name, &blob, err);
	return rc;
}

/* Every VCEK file below rel (vcek/v1/<Product>/<hwid>.der, .../<hwid>/<tcb>.der), depth levels deep. */
static int kds_vceks(const struct cli *cli, const char *dir, const char *rel, int depth, struct bundle *b,
		     struct attest_err *err)
{
	char path[4096], name[600], key[CACHED_KEY_MAX];
	struct collateral_blob blob;
	struct dirent *e;
	int rc = ATTEST_OK;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((d = opendir(path)) == NULL)
		return ATTEST_OK;
	while (rc == ATTEST_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "crl") == 0 ||
		    strcmp(e->d_name, "cert_chain") == 0)
			continue;
		snprintf(name, sizeof(name), "%s/%.200s", rel, e->d_name);
		if (read_item(dir, name, NULL, 0, &blob))
			rc = add_or_warn(cli, b, BUNDLE_AMD_VCEK, vcek_key(&blob, key), name, &blob, err);
		else if (depth > 1)
			rc = kds_vceks(cli, dir, name, depth - 1, b, err);
	}
	closedir(d);
	return rc;
}

/* The KDS tree (vcek|vlek/v1/<Product>/...) and the one-platform names of a vector folder. */
static int amd_items(const struct cli *cli, const char *dir, struct bundle *b, struct attest_err *err)
{
	static const char *const leaf_names[] = {"vcek.der", "vcek.pem"};
	struct collateral_blob blob;
	char key[CACHED_KEY_MAX], rel[64];
	int rc = ATTEST_OK;

	for (size_t i = 0; rc == ATTEST_OK && i < 2; i++)
		if (read_item(dir, leaf_names[i], NULL, 0, &blob))
			rc = add_or_warn(cli, b, BUNDLE_AMD_VCEK, vcek_key(&blob, key), leaf_names[i], &blob,
					 err);
	for (int p = AMD_PRODUCT_MILAN; rc == ATTEST_OK && p < AMD_PRODUCT_COUNT; p++) {
		const char *product = amd_product_name((enum amd_product)p);

		if ((rc = amd_chain_and_crl(cli, dir, product, false, b, err)) == ATTEST_OK)
			rc = amd_chain_and_crl(cli, dir, product, true, b, err);
		snprintf(rel, sizeof(rel), "vcek/v1/%s", product);
		if (rc == ATTEST_OK)
			rc = kds_vceks(cli, dir, rel, 2, b, err);
	}
	return rc;
}

int cli_bundle_from_dir(const struct cli *cli, const char *dir, struct bundle **out, struct attest_err *err)
{
	struct bundle *b = bundle_new();
	struct stat st;
	int rc;

	if (b == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "cli.nomem", "out of memory");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		bundle_free(b);
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "%s is not a folder", dir);
	}
	if ((rc = intel_items(cli, dir, b, err)) == ATTEST_OK)
		rc = amd_items(cli, dir, b, err);
	if (rc != ATTEST_OK) {
		bundle_free(b);
		return rc;
	}
	*out = b;
	return ATTEST_OK;
}

int cli_bundle_load(const char *path, struct bundle **out, struct attest_err *err)
{
	unsigned char *text = NULL;
	size_t len = 0;
	int rc;

	if (cli_read_file(path, &text, &len) != CLI_OK)
		return attest_err_set(err, ATTEST_E_IO, "cli.read", "cannot read %s", path);
	rc = bundle_parse((const char *)text, len, out, err);
	free(text);
	return rc;
}

int cli_write_json(const char *path, const json_t *doc)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	int rc;

	if (f == NULL)
		return CLI_LOCAL;
	rc = json_dumpf(doc, f, JSON_INDENT(1)) == 0 && fputc('\n', f) != EOF ? CLI_OK : CLI_LOCAL;
	if (f != stdout && fclose(f) != 0)
		rc = CLI_LOCAL;
	return rc;
}

/* ---- export ------------------------------------------------------------------------ */

/* One GET /management/collateral answer merged into b; *next (malloc'd) names the next page, if any. */
static int fetch_one(struct cli *cli, const char *path, struct bundle *b, char **next)
{
	struct cli_response r = {0};
	struct bundle *got = NULL;
	struct attest_err err;
	json_t *doc = NULL;
	int rc;

	*next = NULL;
	if ((rc = cli_http(cli, "GET", path, NULL, &r)) != CLI_OK)
		return rc;
	attest_err_clear(&err);
	if (r.status != 200) {
		rc = cli_http_fail(cli, "collateral export", &r);
	} else if (bundle_parse(r.body, r.len, &got, &err) != ATTEST_OK) {
		cli_error_record(cli, "the server's bundle", &err);
		rc = CLI_SERVER;
	} else if ((doc = json_loadb(r.body, r.len, 0, NULL)) != NULL &&
		   json_string_value(json_object_get(doc, "next")) != NULL &&
		   bundle_kind_of_key(json_string_value(json_object_get(doc, "next"))) >= 0) {
		*next = strdup(json_string_value(json_object_get(doc, "next")));
	}
	for (size_t j = 0; rc == CLI_OK && j < got->n; j++)
		if (bundle_add(b, got->items[j].kind, got->items[j].key, &got->items[j].blob, &err) != 0) {
			cli_error_record(cli, "export", &err);
			rc = CLI_LOCAL;
		}
	json_decref(doc);
	bundle_free(got);
	cli_response_free(&r);
	return rc;
}

/* GET /management/collateral: the keys asked, or the whole durable cache page by page. */
static int fetch_server(struct cli *cli, const char *const *keys, int nkeys, int page, struct bundle *b)
{
	char path[CACHED_KEY_MAX + 64], first[64], *next = NULL;
	int rc = CLI_OK;

	for (int i = 0; rc == CLI_OK && i < nkeys; i++) {
		snprintf(path, sizeof(path), "/management/collateral?key=%s", keys[i]);
		rc = fetch_one(cli, path, b, &next);
		free(next);
		next = NULL;
	}
	if (nkeys > 0)
		return rc;
	snprintf(first, sizeof(first), "/management/collateral?max=%d", page);
	rc = fetch_one(cli, first, b, &next);
	/* Keys grow strictly from page to page: a server repeating one cannot loop this. */
	while (rc == CLI_OK && next != NULL) {
		if (b->n >= BUNDLE_MAX_ITEMS) {
			cli_error(cli,
				  "the server holds more than %u items, the most one bundle carries: export "
				  "parts with --key",
				  BUNDLE_MAX_ITEMS);
			rc = CLI_LOCAL;
			break;
		}
		/* Every page of --page-size, not only the first. */
		snprintf(path, sizeof(path), "/management/collateral?max=%d&after=%s", page, next);
		free(next);
		rc = fetch_one(cli, path, b, &next);
		if (rc == CLI_OK && next != NULL &&
		    strcmp(next, strstr(path, "&after=") + strlen("&after=")) <= 0) {
			cli_error(cli, "the server's pages do not advance (%s)", next);
			rc = CLI_SERVER;
		}
	}
	free(next);
	return rc;
}

static int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from-dir", required_argument, NULL, 'd'},
	    {"key", required_argument, NULL, 'k'},
	    {"out", required_argument, NULL, 'O'},
	    {"page-size", required_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *outp = "-", *keys[64];
	struct bundle *b = NULL;
	struct attest_err err;
	json_t *doc;
	int ch, nkeys = 0, rc, page = 512;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "O:", opts, NULL)) != -1) {
		if (ch == 'd')
			dir = optarg;
		else if (ch == 'k' && nkeys < 64 && bundle_kind_of_key(optarg) >= 0)
			keys[nkeys++] = optarg;
		else if (ch == 'k') {
			cli_error(cli, "--key %s: not the key of a collateral item (at most 64 keys)",
				  optarg);
			return CLI_USAGE;
		} else if (ch == 'O')
			outp = optarg;
		else if (ch == 'P' && (page = atoi(optarg)) >= 1 && page <= 512)
			continue;
		else
			return CLI_USAGE;
	}
	if (argc != optind || (dir != NULL && nkeys > 0)) {
		cli_error(cli,
			  "usage: attestctl collateral export [--from-dir DIR | --key KEY ...] [-O FILE]");
		return CLI_USAGE;
	}
	attest_err_clear(&err);
	if (dir != NULL) {
		if (cli_bundle_from_dir(cli, dir, &b, &err) != ATTEST_OK) {
			cli_error_record(cli, "export", &err);
			return CLI_LOCAL;
		}
	} else if ((b = bundle_new()) == NULL) {
		return CLI_LOCAL;
	} else if ((rc = fetch_server(cli, keys, nkeys, page, b)) != CLI_OK) {
		bundle_free(b);
		return rc;
	}
	b->created = time_now();
	doc = bundle_to_json(b);
	rc = doc ? cli_write_json(outp, doc) : CLI_LOCAL;
	if (rc != CLI_OK)
		cli_error(cli, "cannot write %s", outp);
	else if (strcmp(outp, "-") != 0)
		cli_status(cli, true, "exported %zu item(s) to %s", b->n, outp);
	json_decref(doc);
	bundle_free(b);
	return rc;
}

/* ---- import ------------------------------------------------------------------------ */

/* Prints the server's per-item answer: {"items": [{"key", "status", "error", "message"}]}. */
static void print_results(const struct cli *cli, const struct cli_response *r)
{
	json_t *doc = json_loadb(r->body, r->len, 0, NULL), *it;
	size_t i;

	if (cli->output == CLI_OUTPUT_JSON && doc != NULL) {
		cli_print_json(cli, doc);
	} else {
		json_array_foreach(json_object_get(doc, "items"), i, it)
		{
			const char *st = json_string_value(json_object_get(it, "status"));
			const char *key = json_string_value(json_object_get(it, "key"));
			const char *code = json_string_value(json_object_get(it, "error"));
			const char *msg = json_string_value(json_object_get(it, "message"));
			bool ok = st != NULL && strcmp(st, "refused") != 0;

			cli_status(cli, ok, "%-9s %s%s%s%s%s", st ? st : "?", key ? key : "?",
				   code ? ": " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
		}
	}
	json_decref(doc);
}

/*
 * Parts of at most IMPORT_PART_BYTES of JSON, so each request stays under
 * attestd's default body limit (1 MiB); one item larger than that goes alone.
 */
#define IMPORT_PART_BYTES (768u * 1024)

/* The part of b starting at *next (advanced past it). */
static struct bundle *next_part(const struct bundle *b, size_t *next, struct attest_err *err)
{
	struct bundle *p = bundle_new();
	size_t bytes = 0;

	while (p != NULL && *next < b->n) {
		const struct bundle_item *it = &b->items[*next];
		size_t sz = (it->blob.len + it->blob.chain_len) / 3 * 4 + 256 + strlen(it->key);

		if (p->n > 0 && bytes + sz > IMPORT_PART_BYTES)
			break;
		if (bundle_add(p, it->kind, it->key, &it->blob, err) != ATTEST_OK) {
			bundle_free(p);
			return NULL;
		}
		bytes += sz;
		(*next)++;
	}
	return p;
}

/* POSTs one part; CLI_OK on 200 (results printed unless quiet). */
static int post_part(struct cli *cli, const struct bundle *part, const char *query, bool quiet)
{
	struct cli_response r = {0};
	json_t *doc = bundle_to_json(part);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL, path[96];
	int rc;

	json_decref(doc);
	if (body == NULL)
		return CLI_LOCAL;
	snprintf(path, sizeof(path), "/management/collateral%s", query);
	rc = cli_http(cli, "POST", path, body, &r);
	free(body);
	if (rc != CLI_OK)
		return rc;
	if (r.status == 200) {
		if (!quiet)
			print_results(cli, &r);
	} else if (r.status == 400 && strstr(r.body, "\"items\"") != NULL) {
		print_results(cli, &r);
		rc = CLI_REFUSED;
	} else {
		rc = cli_http_fail(cli, "collateral import", &r);
	}
	cli_response_free(&r);
	return rc;
}

/*
 * A bundle that fits one request is verified and stored in one (all or
 * nothing). A larger one is sent in parts: every part is verified first
 * (dry run, nothing stored), then the parts are stored one by one.
 */
static int import_server(struct cli *cli, const char *file, const struct bundle *b, bool force)
{
	const char *q = force ? "?force=1" : "", *dq = force ? "?force=1&dry_run=1" : "?dry_run=1";
	struct attest_err err;
	struct bundle *part;
	size_t next = 0, parts = 0;
	int rc = CLI_OK;

	attest_err_clear(&err);
	while (rc == CLI_OK && next < b->n && (part = next_part(b, &next, &err)) != NULL) {
		parts++;
		if (next < b->n || parts > 1)
			rc = post_part(cli, part, dq, true);
		else /* the whole bundle in one part: one request does it all */
			rc = post_part(cli, part, q, false);
		bundle_free(part);
	}
	for (size_t at = 0; rc == CLI_OK && parts > 1 && at < b->n;) {
		if ((part = next_part(b, &at, &err)) == NULL)
			break;
		rc = post_part(cli, part, q, false);
		bundle_free(part);
		if (rc != CLI_OK) { /* verified a moment ago: the store or a concurrent import stopped it */
			cli_status(cli, false, "stopped after %zu of %zu item(s) of %s were imported", at,
				   b->n, file);
			return rc;
		}
	}
	if (err.rc != ATTEST_OK) {
		cli_error_record(cli, "import", &err);
		return CLI_LOCAL;
	}
	if (rc == CLI_OK)
		cli_status(cli, true, "imported %zu item(s) from %s%s", b->n, file,
			   parts > 1 ? " (in parts)" : "");
	else if (rc == CLI_REFUSED)
		cli_status(cli, false, "refused: nothing of %s was imported", file);
	return rc;
}

static int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	bool force = false;
	struct bundle *b = NULL;
	struct attest_err err;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'd')
			dir = optarg;
		else if (ch == 'f')
			force = true;
		else
			return CLI_USAGE;
	}
	if (argc - optind != 1) {
		cli_error(cli, "usage: attestctl collateral import BUNDLE [--dir DIR] [--force]");
		return CLI_USAGE;
	}
	attest_err_clear(&err);
	if (cli_bundle_load(argv[optind], &b, &err) != ATTEST_OK) {
		cli_error_record(cli, "import", &err);
		return err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
	}
	if (dir == NULL) {
		rc = import_server(cli, argv[optind], b, force);
	} else if (bundle_write_dir(b, dir, &err) != ATTEST_OK) {
		cli_error_record(cli, "import", &err);
		rc = CLI_LOCAL;
	} else {
		cli_status(cli, true, "wrote %zu item(s) to %s (attestd verifies each on use)", b->n, dir);
		rc = CLI_OK;
	}
	bundle_free(b);
	return rc;
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct bundle *b = NULL;
	struct attest_err err;
	json_t *rows;
	char hex[65];

	if (argc != 2) {
		cli_error(cli, "usage: attestctl collateral list BUNDLE");
		return CLI_USAGE;
	}
	attest_err_clear(&err);
	if (cli_bundle_load(argv[1], &b, &err) != ATTEST_OK) {
		cli_error_record(cli, "list", &err);
		return err.rc == ATTEST_E_IO ? CLI_LOCAL : CLI_REFUSED;
	}
	rows = json_object();
	for (size_t i = 0; rows != NULL && i < b->n; i++) {
		hex_encode_to(b->items[i].sha256, 32, hex);
		json_object_set_new(rows, b->items[i].key,
				    json_pack("{s:s,s:s,s:I,s:b}", "kind", bundle_kind_name(b->items[i].kind),
					      "sha256", hex, "bytes", (json_int_t)b->items[i].blob.len,
					      "issuer_chain", b->items[i].blob.chain != NULL));
	}
	cli_print_json(cli, rows);
	json_decref(rows);
	bundle_free(b);
	return CLI_OK;
}

static const struct cli_command VERBS[] = {
    {"export", "write a collateral bundle from a folder or a running attestd", cmd_export,
     "Usage: attestctl collateral export [--from-dir DIR | --key KEY ...] [-O FILE]\n\n"
     "Writes a collateral bundle (docs/receipts-and-bundles.md): one JSON file listing\n"
     "Intel PCK and Root CA CRLs, TCB Info, QE identities, AMD VCEKs, chains and CRLs,\n"
     "each with its bytes, issuer chain and SHA-256.\n\n"
     "  --from-dir DIR  a collateral folder in the layout attestd --collateral-dir reads\n"
     "                  (shared/vectors/<tee>/<vector>/ or the AMD KDS tree)\n"
     "  --key KEY       (repeatable) export these keys of a running attestd's durable\n"
     "                  collateral cache (--url, admin --token); without --from-dir and\n"
     "                  --key, every item the server holds\n"
     "  -O, --out FILE  where to write (default standard output)\n"
     "  --page-size N   items per request when exporting a whole cache (1-512, default 512)\n\n"
     "Exit 0 written, 3 server error, 4 local error.\n"},
    {"import", "feed a bundle to attestd (verified there) or write it as a folder", cmd_import,
     "Usage: attestctl collateral import BUNDLE [--dir DIR] [--force]\n\n"
     "Without --dir: POST /management/collateral (admin). attestd verifies every item\n"
     "(signature chain to the Intel or AMD root, validity at its time, key matching the\n"
     "content) and stores them only if all verify; each refused item is listed with its\n"
     "error. Imported items serve offline attestd (--collateral-offline) at once.\n\n"
     "  --dir DIR  write the items as a collateral folder for attestd --collateral-dir\n"
     "             (no server; attestd verifies each item when it uses it)\n"
     "  --force    accept items older than those attestd holds (a deliberate rollback,\n"
     "             e.g. to undo a bad import; refused otherwise: collateral.import.older)\n\n"
     "Exit 0 imported, 1 refused (nothing stored), 3 server error, 4 local error.\n"},
    {"list", "list the items of a bundle", cmd_list,
     "Usage: attestctl collateral list BUNDLE\n\n"
     "Prints each item's key, kind, size and SHA-256 after checking the bundle's\n"
     "structure and digests. Exit 0, 1 for a malformed bundle, 4 unreadable.\n"},
    {NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_collateral = {
    "collateral", "collateral bundles: export, import (air-gapped deployments), list", VERBS, NULL, NULL};
