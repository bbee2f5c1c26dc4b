#ifndef ATTEST_TEST_PCS_SERVER_H
#define ATTEST_TEST_PCS_SERVER_H

/*
 * A local HTTPS server (libmicrohttpd, TLS with a self-signed P-256
 * certificate for 127.0.0.1 made at run time, port 0) that replays real
 * Intel PCS and AMD KDS answers: bodies and issuer-chain headers read from
 * a vector folder of shared/vectors at start, served under the PCS v4 /
 * KDS paths (formats.md §3.1, §2.3, §5.8). Knobs let a test set the status
 * (outage), a 429 with Retry-After, a delay, and tamper with a body or a
 * header chain; every request is counted. Shared by test_pcs*, test_kds*,
 * test_cached* and the benchmark. Include after cmocka and testutil.h.
 */

#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TPS_MAX_ROUTES 16
#define TPS_URL_MAX    2048 /* a pckcert query carries a 384-byte PPID in hex */

struct tps_route {
	char path[128]; /* request path, e.g. "/sgx/certification/v4/tcb" */
	uint8_t *body;	/* served bytes */
	size_t len;
	const char *hdr;  /* issuer-chain header name or NULL */
	char *hdr_value;  /* URL-encoded PEM */
	const char *type; /* Content-Type */
};

struct tps {
	struct MHD_Daemon *d;
	uint16_t port;
	char base[64];	/* "https://127.0.0.1:<port>" */
	char *cert_pem; /* the server's certificate: the clients' trust anchor */
	char *key_pem;
	struct tps_route routes[TPS_MAX_ROUTES];
	size_t n_routes;
	/* knobs (read by the server thread) */
	atomic_int status;	  /* 0 = normal; else answer every request with it */
	atomic_int retry_after;	  /* with status 429: Retry-After seconds (-1 = none) */
	atomic_int retry_as_date; /* send Retry-After as an HTTP-date (RFC 9110 §5.6.7) */
	atomic_int delay_ms;	  /* before answering */
	atomic_int tamper_body;	  /* flip a byte in the middle of the body: 1 all, 2 JSON only */
	atomic_int tamper_chain;  /* change one base64 character of the chain header */
	atomic_int omit_chain;	  /* drop the issuer-chain header */
	/* counters */
	atomic_uint requests;
	pthread_mutex_t mu;
	char last_url[TPS_URL_MAX];
	char last_api_key[128]; /* Ocp-Apim-Subscription-Key of the last request */
};

/* Percent-encodes everything but RFC 3986 unreserved characters, as PCS does. */
static inline char *tps_url_encode(const uint8_t *p, size_t n)
{
	char *o = malloc(3 * n + 1), *q = o;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~')
			*q++ = (char)c;
		else
			q += sprintf(q, "%%%02X", c);
	}
	*q = 0;
	return o;
}

/* Adds a route serving file `rel` below the vectors folder; false when the file is absent. */
static inline bool tps_route_file(struct tps *s, const char *vectors, const char *path, const char *rel,
				  const char *hdr, const char *chain_rel, const char *type)
{
	struct tps_route *r = &s->routes[s->n_routes];
	uint8_t *chain;
	size_t clen = 0;

	if (s->n_routes >= TPS_MAX_ROUTES || (r->body = test_read_vector(vectors, rel, &r->len)) == NULL)
		return false;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->hdr = hdr;
	r->type = type;
	if (chain_rel != NULL) {
		if ((chain = test_read_vector(vectors, chain_rel, &clen)) == NULL) {
			free(r->body);
			return false;
		}
		r->hdr_value = tps_url_encode(chain, clen);
		free(chain);
	}
	s->n_routes++;
	return true;
}

/* Routes for an Intel vector folder (sgx/<v> or tdx/<v>): PCS v4 paths, both TEEs, both CAs. */
static inline bool tps_add_intel(struct tps *s, const char *vectors, const char *vdir)
{
	char a[512], b[512];
	bool ok = true;

	snprintf(a, sizeof(a), "%s/tcb_info.json", vdir);
	snprintf(b, sizeof(b), "%s/tcb_info_issuer_chain.pem", vdir);
	ok &= tps_route_file(s, vectors, "/sgx/certification/v4/tcb", a, "TCB-Info-Issuer-Chain", b,
			     "application/json");
	ok &= tps_route_file(s, vectors, "/tdx/certification/v4/tcb", a, "TCB-Info-Issuer-Chain", b,
			     "application/json");
	snprintf(a, sizeof(a), "%s/qe_identity.json", vdir);
	snprintf(b, sizeof(b), "%s/qe_identity_issuer_chain.pem", vdir);
	ok &= tps_route_file(s, vectors, "/sgx/certification/v4/qe/identity", a,
			     "SGX-Enclave-Identity-Issuer-Chain", b, "application/json");
	ok &= tps_route_file(s, vectors, "/tdx/certification/v4/qe/identity", a,
			     "SGX-Enclave-Identity-Issuer-Chain", b, "application/json");
	snprintf(a, sizeof(a), "%s/pck_crl.der", vdir);
	snprintf(b, sizeof(b), "%s/pck_crl_issuer_chain.pem", vdir);
	ok &= tps_route_file(s, vectors, "/sgx/certification/v4/pckcrl", a, "SGX-PCK-CRL-Issuer-Chain", b,
			     "application/pkix-crl");
	snprintf(a, sizeof(a), "%s/root_ca_crl.der", vdir);
	ok &= tps_route_file(s, vectors, "/IntelSGXRootCA.der", a, NULL, NULL, "application/pkix-crl");
	return ok;
}

static enum MHD_Result tps_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	char *u = cls;
	size_t n = strlen(u);

	snprintf(u + n, TPS_URL_MAX - n, "%s%s=%s", strchr(u, '?') ? "&" : "?", key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result tps_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				   const char *version, const char *upload, size_t *upload_len,
				   void **con_cls)
{
	struct tps *s = cls;
	struct MHD_Response *resp;
	const struct tps_route *r = NULL;
	char full[TPS_URL_MAX], ra[64];
	int status = atomic_load(&s->status), delay = atomic_load(&s->delay_ms);
	enum MHD_Result ret;

	if (*con_cls == NULL) { /* first call of a request: headers only */
		*con_cls = s;
		return MHD_YES;
	}
	atomic_fetch_add(&s->requests, 1);
	snprintf(full, sizeof(full), "%s", url);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, tps_arg, full);
	pthread_mutex_lock(&s->mu);
	memcpy(s->last_url, full, sizeof(full));
	{
		const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Ocp-Apim-Subscription-Key");

		snprintf(s->last_api_key, sizeof(s->last_api_key), "%s", k ? k : "");
	}
	pthread_mutex_unlock(&s->mu);
	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	/* an exact path wins; a path ending in '*' matches by prefix (KDS VCEK paths name the chip) */
	for (size_t i = 0; i < s->n_routes && r == NULL; i++)
		if (strcmp(s->routes[i].path, url) == 0)
			r = &s->routes[i];
	for (size_t i = 0; i < s->n_routes && r == NULL; i++) {
		size_t pl = strlen(s->routes[i].path);

		/* the '*' stands for a hardware id: 16 (Turin) or 128 hex characters, not "crl" */
		if (pl > 0 && s->routes[i].path[pl - 1] == '*' &&
		    strncmp(s->routes[i].path, url, pl - 1) == 0 && strlen(url + pl - 1) >= 16)
			r = &s->routes[i];
	}
	if (status == 0 && r == NULL)
		status = 404;
	if (status != 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (status == 429 && atomic_load(&s->retry_after) >= 0) {
			time_t t = time(NULL) + atomic_load(&s->retry_after);
			struct tm tm;

			if (atomic_load(&s->retry_as_date))
				strftime(ra, sizeof(ra), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
			else
				snprintf(ra, sizeof(ra), "%d", atomic_load(&s->retry_after));
			MHD_add_response_header(resp, "Retry-After", ra);
		}
		ret = MHD_queue_response(c, (unsigned)status, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	{
		uint8_t *body;
		size_t len;
		char *chain_v;
		int tb = atomic_load(&s->tamper_body);

		/* a copy under the lock: tps_route_replace may swap the route meanwhile */
		pthread_mutex_lock(&s->mu);
		len = r->len;
		body = malloc(len > 0 ? len : 1);
		memcpy(body, r->body, len);
		chain_v = r->hdr_value ? strdup(r->hdr_value) : NULL;
		pthread_mutex_unlock(&s->mu);

		/*
		 * 1: every body, a bit in the middle; 2: JSON bodies only (TCB Info,
		 * identities), the last digit of the first "...svn": value, inside
		 * the signed member, so the document still parses.
		 */
		if (tb == 1 && len > 0)
			body[len / 2] ^= 0x01;
		if (tb == 2 && strcmp(r->type, "application/json") == 0) {
			char *p = memmem(body, len, "svn\":", 5);

			while (p != NULL && p < (char *)body + len && (*p < '0' || *p > '9'))
				p++;
			while (p != NULL && p + 1 < (char *)body + len && p[1] >= '0' && p[1] <= '9')
				p++; /* the last digit: flipping it never makes a leading zero */
			if (p != NULL && p < (char *)body + len)
				*p ^= 0x01;
		}
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (r->hdr != NULL && chain_v != NULL && !atomic_load(&s->omit_chain)) {
			size_t n = strlen(chain_v);

			/* a base64 character deep inside the first certificate, past
			 * "-----BEGIN CERTIFICATE-----%0A" */
			if (atomic_load(&s->tamper_chain) && n > 400)
				chain_v[300] = chain_v[300] == 'A' ? 'B' : 'A';
			MHD_add_response_header(resp, r->hdr, chain_v);
		}
		free(chain_v);
	}
	MHD_add_response_header(resp, "Content-Type", r->type);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A self-signed P-256 certificate for IP 127.0.0.1, valid one day around now. */
static inline bool tps_make_cert(struct tps *s)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	BIO *b;
	BUF_MEM *m;
	bool ok;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ok = X509_sign(x, k, EVP_sha256()) > 0;
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	BIO_get_mem_ptr(b, &m);
	s->cert_pem = strndup(m->data, m->length);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	BIO_get_mem_ptr(b, &m);
	s->key_pem = strndup(m->data, m->length);
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return ok && s->cert_pem && s->key_pem;
}

/* Starts the server on 127.0.0.1, port 0 (routes added before or after). */
static inline bool tps_start(struct tps *s)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;

	if (!tps_make_cert(s))
		return false;
	pthread_mutex_init(&s->mu, NULL);
	atomic_store(&s->retry_after, -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				0, NULL, NULL, tps_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_HTTPS_MEM_KEY, s->key_pem, MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
				MHD_OPTION_END);
	if (s->d == NULL || (di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)) == NULL)
		return false;
	s->port = di->port;
	snprintf(s->base, sizeof(s->base), "https://127.0.0.1:%u", (unsigned)s->port);
	return true;
}

static inline void tps_stop(struct tps *s)
{
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	for (size_t i = 0; i < s->n_routes; i++) {
		free(s->routes[i].body);
		free(s->routes[i].hdr_value);
	}
	free(s->cert_pem);
	free(s->key_pem);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof(*s));
}

/*
 * Serves file `rel` (and chain_rel, URL-encoded, when given) at every
 * route of `path` from now on (a newer document replacing the old one
 * upstream). False when a file is absent or no route has that path.
 */
static inline bool tps_route_replace(struct tps *s, const char *vectors, const char *path, const char *rel,
				     const char *chain_rel)
{
	bool found = false;

	for (size_t i = 0; i < s->n_routes; i++) {
		struct tps_route *r = &s->routes[i];
		uint8_t *body, *chain = NULL;
		size_t len, clen = 0;
		char *enc = NULL;

		if (strcmp(r->path, path) != 0)
			continue;
		if ((body = test_read_vector(vectors, rel, &len)) == NULL)
			return false;
		if (chain_rel != NULL && ((chain = test_read_vector(vectors, chain_rel, &clen)) == NULL ||
					  (enc = tps_url_encode(chain, clen)) == NULL)) {
			free(body);
			free(chain);
			return false;
		}
		free(chain);
		pthread_mutex_lock(&s->mu);
		free(r->body);
		r->body = body;
		r->len = len;
		if (enc != NULL) {
			free(r->hdr_value);
			r->hdr_value = enc;
		}
		pthread_mutex_unlock(&s->mu);
		found = true;
	}
	return found;
}

static inline void tps_last_api_key(struct tps *s, char *out, size_t n)
{
	pthread_mutex_lock(&s->mu);
	snprintf(out, n, "%s", s->last_api_key);
	pthread_mutex_unlock(&s->mu);
}

static inline void tps_last_url(struct tps *s, char *out, size_t n)
{
	pthread_mutex_lock(&s->mu);
	snprintf(out, n, "%s", s->last_url);
	pthread_mutex_unlock(&s->mu);
}

#endif
