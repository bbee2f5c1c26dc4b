/*
 * Intel PCS v4 / PCCS collateral source (pcs.h). Each slot builds the URL
 * of formats.md §3.1 / §2.3, GETs it through pcs_http, and hands back the
 * body plus the URL-decoded issuer chain from the response header.
 */
#include "collateral/pcs.h"

#include "base/codec.h"
#include "collateral/pcs_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCS_URL_MAX   2048
#define PCS_PEM_BEGIN "-----BEGIN CERTIFICATE-----"

struct pcs_source {
	struct pcs_http http;
	char *base;
	char *root_crl_url;
	enum pcs_update update;
};

static const char *const HDR_PCK_CRL[] = {"SGX-PCK-CRL-Issuer-Chain", NULL};
static const char *const HDR_TCB[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain", NULL};
static const char *const HDR_QEID[] = {"SGX-Enclave-Identity-Issuer-Chain", NULL};
static const char *const HDR_PCK_CERT[] = {"SGX-PCK-Certificate-Issuer-Chain", NULL};

int pcs_decode_chain_header(const char *value, const char *header, const char *code, uint8_t **chain,
			    size_t *chain_len, struct attest_err *err)
{
	size_t n;
	char *pem;
	const char *p;

	if (value == NULL)
		return attest_err_set(err, ATTEST_E_COLLATERAL, code, "response has no %s header", header);
	pem = pcs_http_url_decode(value, strlen(value), &n);
	if (pem == NULL)
		return attest_err_set(err, ATTEST_E_COLLATERAL, code, "%s is not URL-encoded (bad %% escape)",
				      header);
	for (p = pem; *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'; p++)
		;
	if (strncmp(p, PCS_PEM_BEGIN, strlen(PCS_PEM_BEGIN)) != 0 || strlen(pem) != n) {
		free(pem);
		return attest_err_set(err, ATTEST_E_COLLATERAL, code,
				      "%s does not decode to PEM certificates", header);
	}
	*chain = (uint8_t *)pem;
	*chain_len = n;
	return ATTEST_OK;
}

static const char *update_param(enum pcs_update u)
{
	return u == PCS_UPDATE_EARLY ? "early" : u == PCS_UPDATE_STANDARD ? "standard" : NULL;
}

/* GET url; on 200 fills out with the body and, when hdrs is given, the decoded chain (required). */
static int pcs_fetch(struct pcs_source *s, const char *url, const char *const *hdrs,
		     struct collateral_blob *out, struct attest_err *err)
{
	struct pcs_http_resp r = {0};
	const char *chain = NULL, *name = NULL;
	int rc;

	if ((rc = pcs_http_get(&s->http, url, hdrs, &r, err)) != ATTEST_OK)
		return rc;
	if (r.len == 0) {
		pcs_http_resp_free(&r);
		return attest_err_set(err, ATTEST_E_COLLATERAL, "collateral.pcs.body", "empty body: %s", url);
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL && chain == NULL; i++) {
		chain = r.header[i];
		name = hdrs[i];
	}
	if (hdrs != NULL &&
	    (rc = pcs_decode_chain_header(chain, name ? name : hdrs[0], "collateral.pcs.header", &out->chain,
					  &out->chain_len, err)) != ATTEST_OK) {
		attest_err_where(err, "%.120s", url);
		pcs_http_resp_free(&r);
		return rc;
	}
	out->data = r.body; /* transferred */
	out->len = r.len;
	r.body = NULL;
	pcs_http_resp_free(&r);
	return ATTEST_OK;
}

static int url_ok(int n, struct attest_err *err)
{
	if (n < 0 || n >= PCS_URL_MAX)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid", "request URL too long");
	return ATTEST_OK;
}

static int pcs_pck_crl(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
		       struct attest_err *err)
{
	struct pcs_source *s = self;
	char url[PCS_URL_MAX];
	int rc;

	/* §2.3: DER encoding, as the PCK certificates' CRL distribution points name it. */
	rc = url_ok(snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", s->base,
			     ca == COLLATERAL_CA_PLATFORM ? "platform" : "processor"),
		    err);
	return rc ? rc : pcs_fetch(s, url, HDR_PCK_CRL, out, err);
}

static int pcs_root_ca_crl(void *self, struct collateral_blob *out, struct attest_err *err)
{
	struct pcs_source *s = self;

	int rc = pcs_fetch(s, s->root_crl_url, NULL, out, err);
	uint8_t *der = NULL;
	size_t n = 0, len;

	if (rc != ATTEST_OK)
		return rc;
	/* PCCS's /rootcacrl answers the DER as hex text (PCCS v3); DER itself never is all hex digits. */
	for (len = out->len; len > 0 && (out->data[len - 1] == '\n' || out->data[len - 1] == '\r'); len--)
		;
	if (strspn((const char *)out->data, "0123456789abcdefABCDEF") == len && len % 2 == 0 &&
	    hex_decode((const char *)out->data, len, &der, &n) == 0) {
		free(out->data);
		out->data = der; /* transferred */
		out->len = n;
	}
	return ATTEST_OK;
}

/*
 * The selector query parameter: "update=early|standard" or
 * "tcbEvaluationDataNumber=N" (PCS v4 takes one of them, never both);
 * "" when none is sent.
 */
static void select_param(const struct pcs_source *s, const struct collateral_select *sel, char *out,
			 size_t cap)
{
	const char *up = update_param(s->update);

	if (sel != NULL && sel->eval_num > 0)
		snprintf(out, cap, "tcbEvaluationDataNumber=%u", (unsigned)sel->eval_num);
	else if (sel != NULL && sel->update == COLLATERAL_UPDATE_EARLY)
		snprintf(out, cap, "update=early");
	else
		snprintf(out, cap, "%s%s", up ? "update=" : "", up ? up : "");
}

static int tcb_info_get(struct pcs_source *s, enum collateral_tee tee, const uint8_t fmspc[6],
			const struct collateral_select *sel, struct collateral_blob *out,
			struct attest_err *err)
{
	char url[PCS_URL_MAX], q[48];
	int rc;

	select_param(s, sel, q, sizeof(q));
	rc =
	    url_ok(snprintf(url, sizeof(url), "%s/%s/certification/v4/tcb?fmspc=%02x%02x%02x%02x%02x%02x%s%s",
			    s->base, tee == COLLATERAL_TEE_TDX ? "tdx" : "sgx", fmspc[0], fmspc[1], fmspc[2],
			    fmspc[3], fmspc[4], fmspc[5], q[0] ? "&" : "", q),
		   err);
	return rc ? rc : pcs_fetch(s, url, HDR_TCB, out, err);
}

static int pcs_tcb_info(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			struct collateral_blob *out, struct attest_err *err)
{
	return tcb_info_get(self, tee, fmspc, NULL, out, err);
}

static int pcs_tcb_info_ex(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			   const struct collateral_select *sel, struct collateral_blob *out,
			   struct attest_err *err)
{
	return tcb_info_get(self, tee, fmspc, sel, out, err);
}

static int qe_identity_get(struct pcs_source *s, enum collateral_qe kind, const struct collateral_select *sel,
			   struct collateral_blob *out, struct attest_err *err)
{
	static const char *const paths[] = {"sgx/certification/v4/qe", "tdx/certification/v4/qe",
					    "sgx/certification/v4/qve", "sgx/certification/v4/qae"};
	char url[PCS_URL_MAX], q[48];
	int rc;

	if ((unsigned)kind > COLLATERAL_QAE)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid", "unknown identity kind %d",
				      (int)kind);
	select_param(s, sel, q, sizeof(q));
	rc = url_ok(
	    snprintf(url, sizeof(url), "%s/%s/identity%s%s", s->base, paths[kind], q[0] ? "?" : "", q), err);
	return rc ? rc : pcs_fetch(s, url, HDR_QEID, out, err);
}

static int pcs_qe_identity(void *self, enum collateral_qe kind, struct collateral_blob *out,
			   struct attest_err *err)
{
	return qe_identity_get(self, kind, NULL, out, err);
}

static int pcs_qe_identity_ex(void *self, enum collateral_qe kind, const struct collateral_select *sel,
			      struct collateral_blob *out, struct attest_err *err)
{
	return qe_identity_get(self, kind, sel, out, err);
}

static void hex_lower(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int pcs_pck_cert(void *self, const struct collateral_pck_query *q, struct collateral_blob *out,
			struct attest_err *err)
{
	struct pcs_source *s = self;
	char url[PCS_URL_MAX], ppid[2 * 384 + 1], cpusvn[33], pceid[5];
	int rc;

	if (q == NULL || q->ppid == NULL || q->cpusvn == NULL || q->pceid == NULL || q->ppid_len > 384)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid", "incomplete PCK query");
	hex_lower(q->ppid, q->ppid_len, ppid);
	hex_lower(q->cpusvn, 16, cpusvn);
	hex_lower(q->pceid, 2, pceid);
	/*
	 * PCS v4 "Get PCK Certificate" takes the RSA-encrypted PPID (types 2
	 * and 3). A clear PPID (type 1) is never sent to a service: PCS cannot
	 * use it, and a PCCS looks platforms up by QE ID, which this query does
	 * not carry. PCESVN goes as 2 bytes little-endian in hex.
	 */
	if (q->ppid_len != 256 && q->ppid_len != 384)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.pcs.unsupported",
				      "PCS looks PCK certificates up by encrypted PPID only (got %zu bytes)",
				      q->ppid_len);
	rc = url_ok(
	    snprintf(url, sizeof(url),
		     "%s/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%02x%02x&pceid=%s",
		     s->base, ppid, cpusvn, q->pcesvn & 0xff, q->pcesvn >> 8, pceid),
	    err);
	return rc ? rc : pcs_fetch(s, url, HDR_PCK_CERT, out, err);
}

static void pcs_free(void *self)
{
	struct pcs_source *s = self;

	if (s == NULL)
		return;
	pcs_http_fini(&s->http);
	free(s->base);
	free(s->root_crl_url);
	free(s);
}

static const struct collateral_source_ops PCS_OPS = {
    .name = "pcs",
    .pck_crl = pcs_pck_crl,
    .root_ca_crl = pcs_root_ca_crl,
    .tcb_info = pcs_tcb_info,
    .qe_identity = pcs_qe_identity,
    .pck_cert = pcs_pck_cert,
    .tcb_info_ex = pcs_tcb_info_ex,
    .qe_identity_ex = pcs_qe_identity_ex,
    .free = pcs_free,
};

/* Copies a base URL without its trailing slashes. */
static char *base_dup(const char *u)
{
	size_t n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		n--;
	return strndup(u, n);
}

int pcs_source_new(const struct pcs_options *o, struct collateral_source **out, struct attest_err *err)
{
	struct pcs_options d = {0};
	struct pcs_http_options ho = {0};
	struct pcs_source *s;
	struct collateral_source *src;
	int rc;

	if (o == NULL)
		o = &d;
	if ((s = calloc(1, sizeof(*s))) == NULL || (src = calloc(1, sizeof(*src))) == NULL) {
		free(s);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	ho.ca_file = o->ca_file;
	ho.ca_pem = o->ca_pem;
	ho.ca_pem_len = o->ca_pem_len;
	ho.connect_timeout_ms = o->connect_timeout_ms;
	ho.timeout_ms = o->timeout_ms;
	ho.api_key = o->api_key;
	if ((rc = pcs_http_init(&s->http, &ho, "collateral.pcs", err)) != ATTEST_OK) {
		free(s);
		free(src);
		return rc;
	}
	s->update = o->update;
	s->base = base_dup(o->base_url ? o->base_url : PCS_DEFAULT_BASE_URL);
	if (o->root_ca_crl_url != NULL) {
		s->root_crl_url = strdup(o->root_ca_crl_url);
	} else if (s->base != NULL && strcmp(s->base, PCS_DEFAULT_BASE_URL) != 0) {
		/* a PCCS serves the Root CA CRL itself */
		if (asprintf(&s->root_crl_url, "%s/sgx/certification/v4/rootcacrl", s->base) < 0)
			s->root_crl_url = NULL;
	} else {
		s->root_crl_url = strdup(PCS_DEFAULT_ROOT_CA_CRL_URL);
	}
	if (s->base == NULL || s->root_crl_url == NULL) {
		pcs_free(s);
		free(src);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	src->ops = &PCS_OPS;
	src->self = s;
	*out = src;
	return ATTEST_OK;
}

void pcs_source_stats(const struct collateral_source *src, uint64_t *requests, uint64_t *refused)
{
	struct pcs_source *s = src->self;

	pcs_http_stats(&s->http, requests, refused);
}
