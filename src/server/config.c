/*
 * attestd's options: one table names each option once, for the command
 * line (--data-dir / --data), the key = value file and the JSON file alike.
 */
#include "server/config.h"

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STR, OPT_INT, OPT_SIZE, OPT_BOOL, OPT_DOUBLE, OPT_LEVEL, OPT_TIME };

struct opt {
	const char *key;   /* file key; the flag is "--" + key with '_' → '-' */
	const char *alias; /* a second flag name, or NULL */
	enum opt_type type;
	size_t off;
	size_t size;
	long long min, max;
	const char *help;
};

#define O(field) offsetof(struct srv_config, field), sizeof(((struct srv_config *)0)->field)

static const struct opt OPTS[] = {
	{"listen", NULL, OPT_STR, O(listen), 0, 0, "address to listen on (default 127.0.0.1)"},
	{"port", NULL, OPT_INT, O(port), 0, 65535, "TCP port (default 8443; 0 = any free port)"},
	{"tls_cert", NULL, OPT_STR, O(tls_cert), 0, 0, "TLS certificate chain, PEM"},
	{"tls_key", NULL, OPT_STR, O(tls_key), 0, 0, "TLS private key, PEM"},
	{"data", "data_dir", OPT_STR, O(data_dir), 0, 0, "data folder (default ./data), created 0700"},
	{"store", NULL, OPT_STR, O(store_uri), 0, 0, "store URI (default sqlite:<data>/attestd.db)"},
	{"kek", NULL, OPT_STR, O(kek_file), 0, 0, "key-encryption key file (default <data>/kek.bin)"},
	{"public_url", NULL, OPT_STR, O(public_url), 0, 0, "issuer base URL (default https://<listen>:<port>)"},
	{"domain", NULL, OPT_STR, O(domain), 0, 0, "address providers by host name <name>.<domain>"},
	{"default_provider", NULL, OPT_STR, O(default_provider), 0, 0, "provider of bare paths (default \"default\")"},
	{"log_level", NULL, OPT_LEVEL, O(log_level), 0, 0, "error | warn | info | debug (default info)"},
	{"workers", NULL, OPT_INT, O(workers), 0, 256, "worker threads (default: one per core)"},
	{"dev", NULL, OPT_BOOL, O(dev), 0, 0, "development mode: generate a TLS certificate for 127.0.0.1"},
	{"json_logs", NULL, OPT_BOOL, O(json_logs), 0, 0, "leveled logs as JSON lines too"},
	{"test_fixed_time", NULL, OPT_TIME, O(fixed_time), 0, 0,
	 "TEST ONLY: fix the server's clock (Unix seconds or RFC 3339)"},
	{"max_body", NULL, OPT_SIZE, O(max_body), 1, 64LL * 1024 * 1024, "largest request body in bytes (413)"},
	{"max_header", NULL, OPT_SIZE, O(max_header), 1024, 1024 * 1024, "largest request head in bytes"},
	{"timeout", "conn_timeout", OPT_INT, O(conn_timeout), 1, 3600, "idle connection timeout, seconds"},
	{"max_connections", NULL, OPT_INT, O(max_connections), 1, 100000, "concurrent connections"},
	{"rate_limit", NULL, OPT_DOUBLE, O(rate_limit), 0, 1000000, "requests/s per provider (0 = off)"},
	{"rate_burst", NULL, OPT_INT, O(rate_burst), 1, 1000000, "burst size of the rate limit"},
	{"port_file", NULL, OPT_STR, O(port_file), 0, 0, "write the bound port to this file"},
	{"collateral_dir", NULL, OPT_STR, O(collateral_dir), 0, 0, "folder of collateral files (PCK CRLs, TCB info, ...)"},
	{"trust_roots", NULL, OPT_STR, O(trust_roots), 0, 0, "TEST/DEV ONLY: extra trust anchors (one PEM file)"},
	{"pcs_url", NULL, OPT_STR, O(pcs_url), 0, 0,
	 "Intel PCS v4 or PCCS base URL for online collateral, e.g. https://api.trustedservices.intel.com"},
	{"pcs_api_key", NULL, OPT_STR, O(pcs_api_key), 0, 0, "PCS subscription key (PCK certificates by PPID)"},
	{"kds_url", NULL, OPT_STR, O(kds_url), 0, 0, "AMD KDS base URL for online collateral, e.g. https://kdsintf.amd.com"},
	{"collateral_ca_file", NULL, OPT_STR, O(collateral_ca_file), 0, 0,
	 "CA bundle trusted for PCS/PCCS/KDS (default: the system store)"},
	{"collateral_grace", NULL, OPT_INT, O(collateral_grace), 0, 90 * 86400,
	 "seconds TCB Info / QE identity may be served past nextUpdate while upstream fails (default 0)"},
	{"collateral_offline", NULL, OPT_BOOL, O(collateral_offline), 0, 0,
	 "use only collateral already cached in the store (air-gapped)"},
	{"collateral_refresh_interval", NULL, OPT_INT, O(collateral_refresh_interval), 0, 86400,
	 "seconds between background refreshes of collateral nearing its next update (default 300; 0 = off)"},
	{"pccs", NULL, OPT_BOOL, O(pccs), 0, 0,
	 "serve the Intel PCS v4 / PCCS and AMD KDS read API from the collateral cache (default off)"},
	{"pccs_pckcert", NULL, OPT_BOOL, O(pccs_pckcert), 0, 0,
	 "with --pccs, also answer PCK certificate lookups (they use the PCS API key; default off)"},
	{"pccs_fetch", NULL, OPT_BOOL, O(pccs_fetch), 0, 0,
	 "with --pccs, fetch from PCS/KDS what the cache lacks (anonymous readers then cause upstream requests; "
	 "default off: serve only what the node holds)"},
	{"bootstrap_admin_file", NULL, OPT_STR, O(admin_file), 0, 0,
	 "write the first-start admin credential to this file (0600)"},
};

#define N_OPTS (sizeof(OPTS) / sizeof(OPTS[0]))

void srv_config_defaults(struct srv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
	cfg->port = 8443;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./data");
	snprintf(cfg->default_provider, sizeof(cfg->default_provider), "default");
	cfg->log_level = SRV_LOG_INFO;
	cfg->max_body = 1024 * 1024; /* real SGX bodies are ~6.5 KB (reference §5) */
	cfg->max_header = 16 * 1024;
	cfg->conn_timeout = 30;
	cfg->max_connections = 1024;
	cfg->rate_limit = 0;
	cfg->rate_burst = 100;
	cfg->collateral_refresh_interval = 300;
}

const char *srv_log_level_name(enum srv_log_level l)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	return (unsigned)l < 4 ? names[l] : "info";
}

static const struct opt *opt_find(const char *key)
{
	char norm[64];
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < sizeof(norm); i++)
		norm[i] = key[i] == '-' ? '_' : key[i];
	norm[i] = '\0';
	for (size_t k = 0; k < N_OPTS; k++) {
		if (strcmp(OPTS[k].key, norm) == 0 || (OPTS[k].alias && strcmp(OPTS[k].alias, norm) == 0))
			return &OPTS[k];
	}
	return NULL;
}

static int parse_ll(const char *v, long long min, long long max, long long *out)
{
	char *end = NULL;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static int set_bool(bool *dst, const char *v)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "on") == 0)
		*dst = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
		*dst = false;
	else
		return -1;
	return 0;
}

static int set_level(enum srv_log_level *dst, const char *v)
{
	for (int l = SRV_LOG_ERROR; l <= SRV_LOG_DEBUG; l++) {
		if (strcmp(v, srv_log_level_name((enum srv_log_level)l)) == 0) {
			*dst = (enum srv_log_level)l;
			return 0;
		}
	}
	return -1;
}

static int set_time(int64_t *dst, const char *v)
{
	long long x;

	if (parse_ll(v, 1, 253402300799LL, &x) == 0) {
		*dst = x;
		return 0;
	}
	return time_parse_rfc3339(v, dst) == 0 ? 0 : -1;
}

static int opt_apply(struct srv_config *cfg, const struct opt *o, const char *v, struct attest_err *err)
{
	char *field = (char *)cfg + o->off;
	long long x = 0;
	int bad = 0;

	if (v == NULL && o->type != OPT_BOOL)
		return attest_err_set(err, ATTEST_E_INVALID, "config.value", "option %s needs a value", o->key);
	switch (o->type) {
	case OPT_STR:
		if (strlen(v) >= o->size)
			return attest_err_set(err, ATTEST_E_INVALID, "config.value", "%s is too long (max %zu)", o->key,
					      o->size - 1);
		memcpy(field, v, strlen(v) + 1);
		break;
	case OPT_INT:
		bad = parse_ll(v, o->min, o->max, &x);
		if (!bad)
			*(int *)(void *)field = (int)x;
		break;
	case OPT_SIZE:
		bad = parse_ll(v, o->min, o->max, &x);
		if (!bad)
			*(size_t *)(void *)field = (size_t)x;
		break;
	case OPT_DOUBLE: {
		char *end = NULL;
		double d = strtod(v, &end);
		bad = end == v || *end != '\0' || d < (double)o->min || d > (double)o->max;
		if (!bad)
			*(double *)(void *)field = d;
		break;
	}
	case OPT_BOOL:
		bad = set_bool((bool *)(void *)field, v);
		break;
	case OPT_LEVEL:
		bad = set_level((enum srv_log_level *)(void *)field, v);
		break;
	case OPT_TIME:
		bad = set_time((int64_t *)(void *)field, v);
		break;
	}
	if (bad)
		return attest_err_set(err, ATTEST_E_INVALID, "config.value", "bad value \"%s\" for %s (%s)", v, o->key,
				      o->help);
	return ATTEST_OK;
}

int srv_config_set(struct srv_config *cfg, const char *key, const char *value, struct attest_err *err)
{
	const struct opt *o = opt_find(key);

	if (o == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "config.unknown", "unknown option \"%s\"", key);
	return opt_apply(cfg, o, value, err);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_json(struct srv_config *cfg, const char *text, size_t len, const char *path, struct attest_err *err)
{
	json_t *doc = NULL, *v;
	const char *key;
	int rc = jsonx_parse(text, len, &doc, "config.parse", path, err);

	if (rc != ATTEST_OK)
		return rc;
	if (!json_is_object(doc)) {
		json_decref(doc);
		return attest_err_set(err, ATTEST_E_PARSE, "config.parse", "%s: expected a JSON object", path);
	}
	json_object_foreach(doc, key, v)
	{
		char num[64];
		const char *s = num;
		if (json_is_string(v))
			s = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			s = json_is_true(v) ? "true" : "false";
		else
			rc = attest_err_set(err, ATTEST_E_PARSE, "config.value", "%s: \"%s\" must be a string, number or boolean",
					    path, key);
		if (rc == ATTEST_OK)
			rc = srv_config_set(cfg, key, s, err);
		if (rc != ATTEST_OK)
			break;
	}
	json_decref(doc);
	return rc;
}

static int load_lines(struct srv_config *cfg, char *text, const char *path, struct attest_err *err)
{
	int line = 0;

	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char *eq, *key, *val;
		int rc;

		line++;
		if (strchr(l, '#') != NULL)
			*strchr(l, '#') = '\0';
		l = trim(l);
		if (*l == '\0')
			continue;
		eq = strchr(l, '=');
		if (eq == NULL) {
			attest_err_set(err, ATTEST_E_PARSE, "config.parse", "%s: expected key = value", path);
			attest_err_where(err, "%s line %d", path, line);
			return ATTEST_E_PARSE;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		/* Quotes are optional: data = "/var/lib/attestd" */
		if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		rc = srv_config_set(cfg, key, val, err);
		if (rc != ATTEST_OK) {
			attest_err_where(err, "%s line %d", path, line);
			return rc;
		}
	}
	return ATTEST_OK;
}

int srv_config_load_text(struct srv_config *cfg, const char *text, size_t len, const char *name,
			 struct attest_err *err)
{
	char *copy;
	const char *p;
	int rc;

	if (len > 1024 * 1024 || memchr(text, '\0', len) != NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "config.parse", "%s is too large or holds a NUL byte", name);
	copy = malloc(len + 1);
	if (copy == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "config.parse", "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (p = copy; isspace((unsigned char)*p); p++)
		;
	if (*p == '{')
		rc = load_json(cfg, copy, len, name, err);
	else
		rc = load_lines(cfg, copy, name, err);
	free(copy);
	return rc;
}

int srv_config_load_file(struct srv_config *cfg, const char *path, struct attest_err *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	if (file_read_all(path, 1024 * 1024, &text, &len) != 0)
		return attest_err_set(err, ATTEST_E_IO, "config.file", "cannot read config file %s", path);
	rc = srv_config_load_text(cfg, (const char *)text, len, path, err);
	free(text);
	return rc;
}

static void print_help(const char *prog)
{
	printf("Usage: %s [options]\n\n"
	       "attestd: a remote attestation service speaking Microsoft Azure Attestation's data-plane API.\n\n"
	       "Options (each also a key of the --config file, '-' written as '_'):\n",
	       prog);
	printf("  %-28s %s\n", "--config FILE", "read options from FILE (key = value lines, or a JSON object)");
	for (size_t i = 0; i < N_OPTS; i++) {
		char flag[64];
		size_t k;
		snprintf(flag, sizeof(flag), "--%s%s", OPTS[i].key, OPTS[i].type == OPT_BOOL ? "" : " VALUE");
		for (k = 2; flag[k] != '\0' && flag[k] != ' '; k++)
			if (flag[k] == '_')
				flag[k] = '-';
		printf("  %-28s %s\n", flag, OPTS[i].help);
	}
	printf("  %-28s %s\n  %-28s %s\n\n", "--help", "this text", "--version", "print the version");
	printf("Try: %s --dev --data ./data   then   curl --cacert ./data/tls/dev-cert.pem https://127.0.0.1:8443/certs\n"
	       "See docs/operations.md.\n",
	       prog);
}

/* "--key=value" or "--key value" or a bare boolean "--dev". */
static int apply_flag(struct srv_config *cfg, int argc, char **argv, int *i, struct attest_err *err)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	char key[64];
	const struct opt *o;
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);

	if (klen >= sizeof(key))
		return attest_err_set(err, ATTEST_E_INVALID, "config.flag", "unknown flag %s", argv[*i]);
	memcpy(key, arg, klen);
	key[klen] = '\0';
	o = opt_find(key);
	if (o == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "config.flag", "unknown flag --%s (see --help)", key);
	if (eq != NULL)
		return opt_apply(cfg, o, eq + 1, err);
	if (o->type == OPT_BOOL)
		return opt_apply(cfg, o, NULL, err);
	if (*i + 1 >= argc)
		return attest_err_set(err, ATTEST_E_INVALID, "config.flag", "flag --%s needs a value", key);
	return opt_apply(cfg, o, argv[++*i], err);
}

int srv_config_from_args(struct srv_config *cfg, int argc, char **argv, bool *exit_now, struct attest_err *err)
{
	int rc;

	*exit_now = false;
	/* First --help/--version and the config file, so flags override the file wherever they appear. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help(argv[0]);
			*exit_now = true;
			return ATTEST_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("attestd %s\n", ATTEST_VERSION);
			*exit_now = true;
			return ATTEST_OK;
		}
		if (strncmp(argv[i], "--config", 8) == 0 && (argv[i][8] == '\0' || argv[i][8] == '=')) {
			const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
			if (path == NULL)
				return attest_err_set(err, ATTEST_E_INVALID, "config.flag", "--config needs a file");
			snprintf(cfg->config_file, sizeof(cfg->config_file), "%s", path);
			rc = srv_config_load_file(cfg, path, err);
			if (rc != ATTEST_OK)
				return rc;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--config", 8) == 0 && (argv[i][8] == '\0' || argv[i][8] == '=')) {
			i += argv[i][8] == '\0';
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0)
			return attest_err_set(err, ATTEST_E_INVALID, "config.flag", "unexpected argument \"%s\"", argv[i]);
		rc = apply_flag(cfg, argc, argv, &i, err);
		if (rc != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

void srv_config_finish(struct srv_config *cfg, int bound_port)
{
	if (cfg->store_uri[0] == '\0')
		snprintf(cfg->store_uri, sizeof(cfg->store_uri), "sqlite:%.1000s/attestd.db", cfg->data_dir);
	if (cfg->kek_file[0] == '\0')
		snprintf(cfg->kek_file, sizeof(cfg->kek_file), "%.1000s/kek.bin", cfg->data_dir);
	if (cfg->public_url[0] == '\0' && bound_port > 0) {
		const char *host = strcmp(cfg->listen, "0.0.0.0") == 0 || cfg->listen[0] == '\0' ? "127.0.0.1" : cfg->listen;
		/* An IPv6 literal is bracketed in a URL (RFC 3986 3.2.2). */
		snprintf(cfg->public_url, sizeof(cfg->public_url),
			 strchr(host, ':') ? "https://[%.64s]:%d" : "https://%.64s:%d", host, bound_port);
	}
	/* The issuer is a base URL: no trailing slash (clients append "/certs"). */
	size_t n = strlen(cfg->public_url);
	while (n > 0 && cfg->public_url[n - 1] == '/')
		cfg->public_url[--n] = '\0';
}
