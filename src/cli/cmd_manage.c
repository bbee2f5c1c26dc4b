/*
 * attestctl provider | keys | signer: management of an attestd.
 *   provider create|list|show|update|delete   the management API (/management/providers)
 *   keys list|rotate                           the signing keys (/certs, /management/keys:rotate)
 *   signer add|remove|list                     a provider's policy-management certificates
 *                                              (Azure Attestation's /certificates endpoints)
 * Address a provider's own endpoints with --url https://host:port/providers/<name>.
 */
#include "cli/cli.h"

#include "base/buf.h"
#include "base/codec.h"
#include "crypto/jose.h"

#include <getopt.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* Sends a request and prints the JSON answer; non-2xx goes through cli_http_fail. */
static int call(struct cli *cli, const char *what, const char *method, const char *path, const char *body)
{
	struct cli_response r = {0};
	json_t *doc;
	int rc = cli_http(cli, method, path, body, &r);

	if (rc != CLI_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = cli_http_fail(cli, what, &r);
	} else if (r.len > 0 && (doc = json_loadb(r.body, r.len, 0, NULL)) != NULL) {
		cli_print_json(cli, doc);
		json_decref(doc);
	}
	cli_response_free(&r);
	return rc;
}

static int want_args(const struct cli *cli, int argc, int n, const char *usage)
{
	if (argc - optind == n)
		return CLI_OK;
	cli_error(cli, "usage: %s", usage);
	return CLI_USAGE;
}

/* ---- provider ---------------------------------------------------------- */

struct provider_opts {
	const char *mode, *settings, *cert_files[8];
	int ncerts;
};

static int parse_provider_opts(const struct cli *cli, int argc, char **argv, struct provider_opts *o)
{
	static const struct option opts[] = {
		{"mode", required_argument, NULL, 'm'},
		{"settings", required_argument, NULL, 's'},
		{"signer-cert", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'm')
			o->mode = optarg;
		else if (ch == 's')
			o->settings = optarg;
		else if (ch == 'c' && o->ncerts < 8)
			o->cert_files[o->ncerts++] = optarg;
		else {
			cli_error(cli, "bad option (see --help)");
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

/* The provider body: {"mode", "settings"?, "policyCertificates"?: [PEM]}. */
static char *provider_body(const struct cli *cli, const struct provider_opts *o)
{
	json_t *body = json_object(), *certs = json_array();
	char *text = NULL;

	if (o->mode)
		json_object_set_new(body, "mode", json_string(o->mode));
	if (o->settings) {
		json_error_t jerr;
		/* --settings '{...}' or --settings @FILE */
		json_t *s = o->settings[0] == '@' ? json_load_file(o->settings + 1, JSON_REJECT_DUPLICATES, &jerr)
						  : json_loads(o->settings, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(s)) {
			cli_error(cli, "--settings must be a JSON object (%s)", s ? "not an object" : jerr.text);
			json_decref(s);
			goto out;
		}
		json_object_set_new(body, "settings", s);
	}
	for (int i = 0; i < o->ncerts; i++) {
		unsigned char *pem = NULL;
		size_t n = 0;

		if (cli_read_file(o->cert_files[i], &pem, &n) != CLI_OK) {
			cli_error(cli, "cannot read %s", o->cert_files[i]);
			goto out;
		}
		json_array_append_new(certs, json_stringn((const char *)pem, n));
		free(pem);
	}
	if (o->ncerts > 0)
		json_object_set(body, "policyCertificates", certs);
	text = json_dumps(body, JSON_COMPACT);
out:
	json_decref(certs);
	json_decref(body);
	return text;
}

static int provider_write(struct cli *cli, int argc, char **argv, const char *method, const char *what)
{
	struct provider_opts o = {0};
	char path[512], *body;
	int rc;

	if ((rc = parse_provider_opts(cli, argc, argv, &o)) != CLI_OK ||
	    (rc = want_args(cli, argc, 1, "attestctl provider create|update <name> [--mode aad|isolated|shared] "
					  "[--settings JSON] [--signer-cert PEM]...")) != CLI_OK)
		return rc;
	if (strcmp(method, "PATCH") == 0 && o.ncerts > 0) {
		cli_error(cli, "provider update: --signer-cert is for create; use `attestctl signer add|remove`");
		return CLI_USAGE;
	}
	if (strcmp(method, "PUT") == 0 && o.mode == NULL)
		o.mode = "aad";
	if ((body = provider_body(cli, &o)) == NULL)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/management/providers/%s", argv[optind]);
	rc = call(cli, what, method, path, body);
	free(body);
	return rc;
}

static int cmd_provider_create(struct cli *cli, int argc, char **argv)
{
	return provider_write(cli, argc, argv, "PUT", "provider create");
}

static int cmd_provider_update(struct cli *cli, int argc, char **argv)
{
	return provider_write(cli, argc, argv, "PATCH", "provider update");
}

static int provider_name_call(struct cli *cli, int argc, char **argv, const char *method, const char *what)
{
	char path[512];

	optind = 1;
	if (argc != 2) {
		cli_error(cli, "usage: attestctl provider %s <name>", what + strlen("provider "));
		return CLI_USAGE;
	}
	snprintf(path, sizeof(path), "/management/providers/%s", argv[1]);
	return call(cli, what, method, path, NULL);
}

static int cmd_provider_show(struct cli *cli, int argc, char **argv)
{
	return provider_name_call(cli, argc, argv, "GET", "provider show");
}

static int cmd_provider_delete(struct cli *cli, int argc, char **argv)
{
	return provider_name_call(cli, argc, argv, "DELETE", "provider delete");
}

static int cmd_provider_list(struct cli *cli, int argc, char **argv)
{
	if (argc != 1) {
		cli_error(cli, "usage: attestctl provider list");
		return CLI_USAGE;
	}
	return call(cli, "provider list", "GET", "/management/providers", NULL);
}

#define PROVIDER_OPTS_HELP                                                                                  \
	"  --mode MODE         aad (bearer auth; default), isolated (signed policies only), shared\n"         \
	"  --settings JSON     provider settings object, or @FILE holding it (docs/operations.md)\n"

static const struct cli_command PROVIDER_VERBS[] = {
	{"create", "create a provider (tenant)", cmd_provider_create,
	 "Usage: attestctl provider create <name> [options]\n\n" PROVIDER_OPTS_HELP
	 "  --signer-cert PEM   an initial policy-management certificate (repeatable)\n"
	 "\nIts endpoints are then https://<host>/providers/<name>/... (use that as --url).\n"},
	{"list", "list providers", cmd_provider_list, "Usage: attestctl provider list\n"},
	{"show", "show one provider", cmd_provider_show, "Usage: attestctl provider show <name>\n"},
	{"update", "change a provider's mode or settings", cmd_provider_update,
	 "Usage: attestctl provider update <name> [options]\n\n" PROVIDER_OPTS_HELP
	 "\nPolicy-management certificates are changed with `attestctl signer add|remove`.\n"},
	{"delete", "delete a provider with its policies and certificates", cmd_provider_delete,
	 "Usage: attestctl provider delete <name>\n\nIts history stays in the audit log.\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_provider = {"provider", "create, list, show, update and delete providers (admin)",
					   PROVIDER_VERBS, NULL, NULL};

/* ---- keys ---------------------------------------------------------------- */

static int cmd_keys_list(struct cli *cli, int argc, char **argv)
{
	if (argc != 1) {
		cli_error(cli, "usage: attestctl keys list");
		return CLI_USAGE;
	}
	return call(cli, "keys list", "GET", "/certs", NULL);
}

static int cmd_keys_rotate(struct cli *cli, int argc, char **argv)
{
	char path[512];

	if (argc > 2) {
		cli_error(cli, "usage: attestctl keys rotate [<provider>]");
		return CLI_USAGE;
	}
	if (argc == 2)
		snprintf(path, sizeof(path), "/management/providers/%s/keys:rotate", argv[1]);
	else
		snprintf(path, sizeof(path), "/management/keys:rotate");
	return call(cli, "keys rotate", "POST", path, "{}");
}

static const struct cli_command KEYS_VERBS[] = {
	{"list", "print the token signing keys (the JWKS of /certs)", cmd_keys_list, "Usage: attestctl keys list\n"},
	{"rotate", "make a new signing key current; the old one stays published until its tokens expire",
	 cmd_keys_rotate,
	 "Usage: attestctl keys rotate [<provider>]\n\nWithout a provider, rotates the service-wide key (admin).\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_keys = {"keys", "list and rotate token signing keys", KEYS_VERBS, NULL, NULL};

/* ---- signer ------------------------------------------------------------ */

/* {"kty", "x5c": [std base64 DER]} of the certificate in a PEM file. */
static json_t *cert_file_jwk(const struct cli *cli, const char *path, X509 **cert_out)
{
	FILE *f = fopen(path, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = cert ? i2d_X509(cert, &der) : -1;
	char *b64 = n > 0 ? b64std_encode(der, (size_t)n) : NULL;
	json_t *jwk = NULL;

	if (f)
		fclose(f);
	if (b64 == NULL) {
		cli_error(cli, "%s: not a PEM certificate", path);
	} else {
		const char *kty = EVP_PKEY_base_id(X509_get0_pubkey(cert)) == EVP_PKEY_EC ? "EC" : "RSA";
		jwk = json_pack("{s:s, s:[s]}", "kty", kty, "x5c", b64);
	}
	OPENSSL_free(der);
	free(b64);
	if (cert_out && jwk)
		*cert_out = cert;
	else
		X509_free(cert);
	return jwk;
}

/*
 * The modification JWS (maa-interface.md §1.5): payload
 * {"policyCertificate": <jwk of the certificate>}, signed by a current
 * signer whose certificate travels in the header's x5c.
 */
static char *modification_jws(const struct cli *cli, const char *target, const char *key_file, const char *cert_file)
{
	json_t *target_jwk = cert_file_jwk(cli, target, NULL), *signer_jwk = NULL, *hdr = NULL, *payload = NULL;
	struct jws_signer *signer = NULL;
	struct attest_err err;
	EVP_PKEY *key = NULL;
	X509 *signer_cert = NULL;
	enum jws_alg alg;
	char *jws = NULL, *text = NULL;
	FILE *f = fopen(key_file, "r");

	attest_err_clear(&err);
	key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	signer_jwk = cert_file_jwk(cli, cert_file, &signer_cert);
	if (target_jwk == NULL || signer_jwk == NULL || key == NULL) {
		if (key == NULL)
			cli_error(cli, "%s: not a PEM private key", key_file);
		goto out;
	}
	hdr = json_pack("{s:O}", "x5c", json_object_get(signer_jwk, "x5c"));
	payload = json_pack("{s:O}", "policyCertificate", target_jwk);
	text = json_dumps(payload, JSON_COMPACT);
	if (jws_alg_for_key(key, &alg) != ATTEST_OK || jws_signer_new(key, alg, hdr, &signer, &err) != ATTEST_OK ||
	    jws_sign(signer, text, strlen(text), &jws, &err) != ATTEST_OK)
		cli_error_record(cli, "signing the modification", &err);
out:
	free(text);
	jws_signer_free(signer);
	EVP_PKEY_free(key);
	X509_free(signer_cert);
	json_decref(payload);
	json_decref(hdr);
	json_decref(signer_jwk);
	json_decref(target_jwk);
	return jws;
}

static int signer_modify(struct cli *cli, int argc, char **argv, const char *suffix, const char *what)
{
	static const struct option opts[] = {
		{"signing-key", required_argument, NULL, 'k'},
		{"signing-cert", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *cert = NULL;
	char path[256], *jws, *body;
	int ch, rc;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			key = optarg;
		else if (ch == 'c')
			cert = optarg;
		else
			return CLI_USAGE;
	}
	if (argc - optind != 1 || key == NULL || cert == NULL) {
		cli_error(cli, "usage: attestctl signer %s <cert.pem> --signing-key KEY --signing-cert CERT", what);
		return CLI_USAGE;
	}
	if ((jws = modification_jws(cli, argv[optind], key, cert)) == NULL)
		return CLI_LOCAL;
	/* The JS SDK's form: a JSON string holding the JWS. */
	{
		json_t *str = json_string(jws);

		body = str ? json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		json_decref(str);
	}
	snprintf(path, sizeof(path), "/certificates:%s?api-version=%s", suffix, CLI_API_VERSION);
	rc = body ? call(cli, what, "POST", path, body) : CLI_LOCAL;
	free(body);
	free(jws);
	return rc;
}

static int cmd_signer_add(struct cli *cli, int argc, char **argv) { return signer_modify(cli, argc, argv, "add", "signer add"); }

static int cmd_signer_remove(struct cli *cli, int argc, char **argv)
{
	return signer_modify(cli, argc, argv, "remove", "signer remove");
}

static int cmd_signer_list(struct cli *cli, int argc, char **argv)
{
	char path[256];

	if (argc != 1) {
		cli_error(cli, "usage: attestctl signer list");
		return CLI_USAGE;
	}
	snprintf(path, sizeof(path), "/certificates?api-version=%s", CLI_API_VERSION);
	return call(cli, "signer list", "GET", path, NULL);
}

static const struct cli_command SIGNER_VERBS[] = {
	{"list", "list a provider's policy-management certificates", cmd_signer_list,
	 "Usage: attestctl signer list\n\nPrints the answer token (its x-ms-policy-certificates claim holds the JWKS).\n"},
	{"add", "trust another policy signer (signed by a current one)", cmd_signer_add,
	 "Usage: attestctl signer add <cert.pem> --signing-key KEY.pem --signing-cert CERT.pem\n\n"
	 "The request is a JWS signed by a current signer (KEY/CERT), as Azure Attestation requires.\n"},
	{"remove", "stop trusting a policy signer (never the last)", cmd_signer_remove,
	 "Usage: attestctl signer remove <cert.pem> --signing-key KEY.pem --signing-cert CERT.pem\n"},
	{NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_signer = {"signer", "add, remove and list policy-management certificates",
					 SIGNER_VERBS, NULL, NULL};
