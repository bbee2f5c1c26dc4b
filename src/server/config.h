#ifndef ATTEST_SERVER_CONFIG_H
#define ATTEST_SERVER_CONFIG_H

/*
 * attestd's configuration: defaults, then an optional config file, then
 * command-line flags (each later source overrides the earlier). The file is
 * either JSON (an object whose members are the option names) or lines of
 * `key = value` with '#' comments; docs/operations.md lists every key.
 */

#include "attest/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum srv_log_level { SRV_LOG_ERROR = 0, SRV_LOG_WARN = 1, SRV_LOG_INFO = 2, SRV_LOG_DEBUG = 3 };

#define SRV_PATH_MAX 1024

struct srv_config {
	char listen[64];            /* address to bind, "127.0.0.1" */
	int port;                   /* 8443; 0 = any free port (printed) */
	char tls_cert[SRV_PATH_MAX]; /* PEM files; empty = dev certificate (with --dev) */
	char tls_key[SRV_PATH_MAX];
	char data_dir[SRV_PATH_MAX]; /* "./data" */
	char store_uri[SRV_PATH_MAX]; /* empty = sqlite:<data_dir>/attestd.db */
	char kek_file[SRV_PATH_MAX];  /* empty = <data_dir>/kek.bin */
	char public_url[256];        /* issuer base URL; empty = https://<listen>:<port> */
	char domain[128];            /* providers by host: <name>.<domain> (empty = off) */
	char default_provider[64];   /* bare paths reach it: "default" */
	enum srv_log_level log_level;
	int workers;                 /* 0 = one per core */
	bool dev;                    /* development mode: dev TLS certificate, relaxed defaults */
	bool json_logs;              /* leveled logs as JSON too (request lines always are) */
	int64_t fixed_time;          /* TEST ONLY: the server's clock; 0 = wall clock */
	size_t max_body;             /* bytes; larger bodies → 413 */
	size_t max_header;           /* bytes of the request head; larger → 400/431 */
	int conn_timeout;            /* seconds of inactivity before a connection is closed (408) */
	int max_connections;
	double rate_limit;           /* requests per second per provider (0 = unlimited) */
	int rate_burst;              /* bucket size */
	char port_file[SRV_PATH_MAX]; /* automation: write the bound port here once listening */
	char admin_file[SRV_PATH_MAX]; /* automation: write the bootstrap admin credential here (0600) */
	char collateral_dir[SRV_PATH_MAX]; /* collateral files folder for the pipeline ("" = none) */
	char trust_roots[SRV_PATH_MAX];    /* TEST/DEV: extra trust anchors, one PEM file */
	char pcs_url[256];                 /* Intel PCS or a PCCS ("" = no online Intel collateral) */
	char pcs_api_key[128];             /* PCS subscription key (PCK certificates only) */
	char kds_url[256];                 /* AMD KDS ("" = no online AMD collateral) */
	char collateral_ca_file[SRV_PATH_MAX]; /* TLS trust for PCS/KDS ("" = the system store) */
	int collateral_grace;              /* seconds TCB Info/identities may be served past nextUpdate */
	bool collateral_offline;           /* only what is cached (the store) or imported */
	int collateral_refresh_interval;   /* seconds between background refresh passes (0 = off) */
	bool pccs;                         /* serve the PCS v4 / PCCS (and KDS) read API (issue 12) */
	bool pccs_pckcert;                 /* ... including PCK certificates (spends the PCS API key) */
	bool pccs_fetch;                   /* ... and fetch misses upstream (else serve the cache only) */
	char config_file[SRV_PATH_MAX];
};

void srv_config_defaults(struct srv_config *cfg);

/*
 * Applies one option by name ("port", "data", ...) with its text value.
 * Errors: config.unknown (no such option), config.value (bad value).
 */
int srv_config_set(struct srv_config *cfg, const char *key, const char *value, struct attest_err *err);

/* Reads a config file (JSON object or key = value lines). Errors: config.file, config.parse, and the above. */
int srv_config_load_file(struct srv_config *cfg, const char *path, struct attest_err *err);
/* The same from text in memory (len bytes, need not be NUL-terminated); name is used in messages. */
int srv_config_load_text(struct srv_config *cfg, const char *text, size_t len, const char *name,
			 struct attest_err *err);

/*
 * Parses argv: flags override the file named by --config (read first,
 * wherever it appears). Sets *exit_now (and prints help/version to stdout)
 * for --help/--version. Errors as above, plus config.flag.
 */
int srv_config_from_args(struct srv_config *cfg, int argc, char **argv, bool *exit_now, struct attest_err *err);

/* Derived paths filled in after parsing (store uri, kek file, public URL). */
void srv_config_finish(struct srv_config *cfg, int bound_port);

const char *srv_log_level_name(enum srv_log_level l);

#endif
