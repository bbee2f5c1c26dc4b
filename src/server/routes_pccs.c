/*
 * The Intel PCS v4 / PCCS read API and the AMD KDS read paths, served from
 * the node's collateral source (issue 12), so Intel's quote verification
 * library, dcap-qvl and other verifiers can use attestd as their
 * collateral cache (docs/collateral.md, "attestd as a PCCS").
 *
 * Design note. Each handler checks its query parameters as PCS v4 does
 * (400 on anything malformed), asks the collateral source the attest
 * pipeline built (pipeline_routes.c: cache → file source or PCS/KDS
 * upstream; read from srv->pipeline at request time, set before the daemon
 * starts) and answers the bytes with the issuer chain URL-encoded in the
 * PCS header (formats.md §2.3, §3.1). An item whose FMSPC, TEE or identity
 * id differs from what was asked (a folder source serves one platform's
 * files for any key) is not served: 404, as PCS answers an unknown FMSPC.
 * Source errors map to 404 (not found), 503 + Retry-After (upstream down,
 * backing off, stale) or 500. The routes are provider-scoped, anonymous and
 * counted against the provider's rate limit like every provider operation;
 * they exist only with the `pccs` option (default off).
 */
#include "base/codec.h"
#include "collateral/amd_collateral.h"
#include "collateral/cached.h"
#include "collateral/collateral.h"
#include "collateral/pcs_http.h"
#include "crypto/crypto.h"
#include "evidence/amd_certs.h"
#include "evidence/snp.h"
#include "server/http.h"
#include "server/log.h"
#include "server/pipeline_routes.h"
#include "server/routes.h"
#include "server/routes_pccs.h"
#include "server/server.h"

#include <stdarg.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCCS_RETRY_AFTER   "60"
#define PCCS_TYPE_JSON	   "application/json"
#define PCCS_TYPE_PEM	   "application/x-pem-file"
#define PCCS_TYPE_CRL	   "application/pkix-crl"
#define PCCS_TYPE_CERT	   "application/pkix-cert"
#define PCCS_HDR_PCK_CRL   "SGX-PCK-CRL-Issuer-Chain"
#define PCCS_HDR_TCB	   "TCB-Info-Issuer-Chain"
#define PCCS_HDR_IDENTITY  "SGX-Enclave-Identity-Issuer-Chain"
#define PCCS_HDR_PCK_CHAIN "SGX-PCK-Certificate-Issuer-Chain"

/*
 * The source the attest pipeline built, or NULL (no collateral configured).
 * Anonymous readers get its cache-only view unless pccs_fetch is on: else
 * anyone could make the node ask PCS/KDS for arbitrary FMSPCs, evaluation
 * numbers or chips, fill its cache, and drive the upstream into the rate
 * limit every attestation then waits behind.
 */
static struct collateral_source *source_of(const struct http_request *req)
{
	const struct pipeline_routes *pr = req->srv->pipeline;
	struct collateral_source *cs = pr != NULL && pr->ctx != NULL ? pr->ctx->collateral : NULL;

	return cs != NULL && !req->srv->cfg->pccs_fetch ? cached_source_cache_only(cs) : cs;
}

static void bad_request(struct http_response *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bad_request(struct http_response *resp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_resp_error(resp, 400, "InvalidParameter", "%s", msg);
}

/* Maps a source's failure to the PCS status a client expects. */
/*
 * Maps a source's failure to the PCS status a client expects. Readers are
 * anonymous: they get the error's stable name and a fixed text, never the
 * source's message (it may name the internal upstream, someone's encrypted
 * PPID, curl's diagnostics); the details go to the log.
 */
static void source_failed(const struct http_request *req, struct http_response *resp, int rc,
			  const struct attest_err *err)
{
	srv_log(&req->srv->log, rc == ATTEST_E_NOT_FOUND ? SRV_LOG_DEBUG : SRV_LOG_WARN, "pccs %s: %s: %s",
		req->path, err->name, err->msg);
	if (rc == ATTEST_E_NOT_FOUND) {
		http_resp_error(resp, 404, "NotFound", "this node does not have that item (%s)", err->name);
	} else if (rc == ATTEST_E_INVALID) {
		http_resp_error(resp, 400, "InvalidParameter", "the request names no valid item (%s)", err->name);
	} else if (rc == ATTEST_E_NOMEM || rc == ATTEST_E_INTERNAL) {
		http_resp_error(resp, 500, "InternalError", "internal error (%s)", err->name);
	} else { /* the upstream is down, rate-limited or backing off; the item is stale or refused */
		http_resp_header(resp, "Retry-After", PCCS_RETRY_AFTER);
		http_resp_error(resp, 503, "ServiceUnavailable", "the item cannot be served now; retry later (%s)",
				err->name);
	}
}

static bool have_source(const struct http_request *req, struct http_response *resp)
{
	if (source_of(req) != NULL)
		return true;
	http_resp_error(resp, 404, "NotFound",
			"this node has no collateral source (collateral_dir, pcs_url, kds_url)");
	return false;
}

/* Answers 200 with body and, when hdr is given, the blob's issuer chain in it (required). */
static void send_item(struct http_response *resp, const char *type, const uint8_t *body, size_t len,
		      const char *hdr, const struct collateral_blob *b)
{
	char *enc = NULL;

	if (hdr != NULL) {
		if (b->chain == NULL || b->chain_len == 0) {
			http_resp_header(resp, "Retry-After", PCCS_RETRY_AFTER);
			http_resp_error(
			    resp, 503, "ServiceUnavailable",
			    "the collateral source gave no issuer chain for this item (pccs.chain)");
			return;
		}
		if ((enc = pcs_http_url_encode(b->chain, b->chain_len)) == NULL ||
		    http_resp_header(resp, hdr, enc) != ATTEST_OK) {
			free(enc);
			http_resp_error(resp, 500, "InternalError",
					"cannot send the issuer chain header %s (pccs.header)", hdr);
			return;
		}
		free(enc);
	}
	http_resp_bytes(resp, 200, type, body, len);
}

/* ---- the request side ----------------------------------------------------------------- */

static const char *req_query(void *ctx, const char *name)
{
	return http_req_query(ctx, name);
}

#define QUERY_OF(req) ((struct pccs_query){req_query, (req)})

/* ---- Intel ------------------------------------------------------------------------- */

/* A CRL in the encoding asked (DER or PEM), whatever the source holds; NULL when unreadable. */
static uint8_t *crl_encode(const struct collateral_blob *b, bool der, size_t *len)
{
	X509_CRL *crl = NULL;
	uint8_t *out = NULL;
	BIO *bio;
	BUF_MEM *m;
	int n;

	if (x509_crl_load(b->data, b->len, &crl, "pccs.crl", NULL) != ATTEST_OK)
		return NULL;
	if (der) {
		uint8_t *p;

		if ((n = i2d_X509_CRL(crl, NULL)) > 0 && (out = malloc((size_t)n)) != NULL) {
			p = out;
			i2d_X509_CRL(crl, &p);
			*len = (size_t)n;
		}
	} else if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		if (PEM_write_bio_X509_CRL(bio, crl) == 1 && BIO_get_mem_ptr(bio, &m) == 1 &&
		    (out = malloc(m->length)) != NULL) {
			memcpy(out, m->data, m->length);
			*len = m->length;
		}
		BIO_free(bio);
	}
	X509_CRL_free(crl);
	return out;
}

/*
 * False when the CRL's issuer is the other PCK CA (CN "Intel SGX PCK
 * Processor CA" / "... Platform CA", formats.md §2.2): a folder source
 * answers both CAs with its one file.
 */
static bool crl_issuer_is(const struct collateral_blob *b, enum collateral_pck_ca ca)
{
	X509_CRL *crl = NULL;
	char cn[128] = "";
	bool ok = true;

	if (x509_crl_load(b->data, b->len, &crl, "pccs.crl", NULL) != ATTEST_OK)
		return true; /* crl_encode reports it */
	if (X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, cn, sizeof(cn)) > 0)
		ok = strstr(cn, ca == COLLATERAL_CA_PLATFORM ? "Processor" : "Platform") == NULL;
	X509_CRL_free(crl);
	return ok;
}

/* GET /sgx/certification/v4/pckcrl?ca=processor|platform[&encoding=der] (PEM without encoding). */
static void pckcrl_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pccs_query q = QUERY_OF(req);
	struct collateral_blob b = {0};
	struct attest_err err;
	enum collateral_pck_ca which;
	uint8_t *out = NULL;
	size_t len = 0;
	char why[256];
	bool der;
	int rc;

	(void)arg;
	if (!pccs_parse_pckcrl(&q, &which, &der, why, sizeof(why))) {
		bad_request(resp, "%s", why);
		return;
	}
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	if ((rc = collateral_get_pck_crl(source_of(req), which, &b, &err)) != ATTEST_OK) {
		source_failed(req, resp, rc, &err);
		return;
	}
	if (!crl_issuer_is(&b, which))
		http_resp_error(resp, 404, "NotFound", "no PCK CRL of the %s CA (pccs.ca.unknown)",
				which == COLLATERAL_CA_PLATFORM ? "platform" : "processor");
	else if ((out = crl_encode(&b, der, &len)) == NULL)
		http_resp_error(resp, 503, "ServiceUnavailable",
				"the source's PCK CRL is not a CRL (pccs.crl)");
	else
		send_item(resp, der ? PCCS_TYPE_CRL : PCCS_TYPE_PEM, out, len, PCCS_HDR_PCK_CRL, &b);
	free(out);
	collateral_blob_free(&b);
}

/*
 * GET /sgx/certification/v4/rootcacrl: the Intel SGX Root CA CRL as PCCS
 * serves it, the hex text of its DER (what Intel's QPL, dcap-qvl and our
 * own PCS client read from a PCCS).
 */
static void rootcacrl_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	struct collateral_blob b = {0};
	struct attest_err err;
	uint8_t *der;
	char *hex = NULL;
	size_t len = 0;
	int rc;

	(void)arg;
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	if ((rc = collateral_get_root_ca_crl(source_of(req), &b, &err)) != ATTEST_OK) {
		source_failed(req, resp, rc, &err);
		return;
	}
	if ((der = crl_encode(&b, true, &len)) == NULL || (hex = hex_encode(der, len)) == NULL)
		http_resp_error(resp, 503, "ServiceUnavailable",
				"the source's Root CA CRL is not a CRL (pccs.crl)");
	else
		http_resp_bytes(resp, 200, "text/plain", hex, strlen(hex));
	free(hex);
	free(der);
	collateral_blob_free(&b);
}

/* GET /{sgx|tdx}/certification/v4/tcb?fmspc=<12 hex>[&update=..|&tcbEvaluationDataNumber=..] */
static void tcb_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	const enum collateral_tee tee = arg != NULL ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX;
	struct pccs_query q = QUERY_OF(req);
	const char *fm = http_req_query(req, "fmspc");
	struct collateral_select sel;
	struct collateral_blob b = {0};
	struct attest_err err;
	uint8_t fmspc[6];
	char why[256];
	int rc;

	if (!pccs_parse_fmspc(&q, fmspc, why, sizeof(why)) ||
	    !pccs_parse_select(&q, &sel, why, sizeof(why))) {
		bad_request(resp, "%s", why);
		return;
	}
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	if ((rc = collateral_get_tcb_info_ex(source_of(req), tee, fmspc, &sel, &b, &err)) != ATTEST_OK) {
		source_failed(req, resp, rc, &err);
		return;
	}
	if (!pccs_item_matches(b.data, b.len, "tcbInfo", fm, tee == COLLATERAL_TEE_TDX ? "TDX" : "SGX"))
		http_resp_error(resp, 404, "NotFound", "no %s TCB Info for FMSPC %s (pccs.fmspc.unknown)",
				tee == COLLATERAL_TEE_TDX ? "TDX" : "SGX", fm);
	else
		send_item(resp, PCCS_TYPE_JSON, b.data, b.len, PCCS_HDR_TCB, &b);
	collateral_blob_free(&b);
}

static const char *const IDENTITY_IDS[] = {"QE", "TD_QE", "QVE", "QAE"};
static const enum collateral_qe IDENTITY_KINDS[] = {COLLATERAL_QE, COLLATERAL_TD_QE, COLLATERAL_QVE,
						    COLLATERAL_QAE};

/* GET /sgx/certification/v4/{qe|qve|qae}/identity, /tdx/certification/v4/qe/identity[?update=..] */
static void identity_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	const enum collateral_qe *kind = arg;
	struct pccs_query q = QUERY_OF(req);
	struct collateral_select sel;
	struct collateral_blob b = {0};
	struct attest_err err;
	char why[256];
	int rc;

	if (!pccs_parse_select(&q, &sel, why, sizeof(why))) {
		bad_request(resp, "%s", why);
		return;
	}
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	if ((rc = collateral_get_qe_identity_ex(source_of(req), *kind, &sel, &b, &err)) != ATTEST_OK) {
		source_failed(req, resp, rc, &err);
		return;
	}
	if (!pccs_item_matches(b.data, b.len, "enclaveIdentity", NULL, IDENTITY_IDS[*kind]))
		http_resp_error(resp, 404, "NotFound", "no %s identity (pccs.identity.unknown)",
				IDENTITY_IDS[*kind]);
	else
		send_item(resp, PCCS_TYPE_JSON, b.data, b.len, PCCS_HDR_IDENTITY, &b);
	collateral_blob_free(&b);
}

/*
 * GET /sgx/certification/v4/pckcert?encrypted_ppid=..&cpusvn=..&pcesvn=..&pceid=..[&qeid=..]
 * (the encrypted PPID of types 2 and 3: RSA-2048 or RSA-3072; PCESVN
 * little-endian hex). Only with pccs_pckcert: each lookup may spend the
 * operator's PCS API key.
 */
static void pckcert_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	struct pccs_query q = QUERY_OF(req);
	struct pccs_pck_params p;
	struct collateral_pck_query pq;
	struct collateral_blob b = {0};
	struct attest_err err;
	char why[256];
	int rc;

	(void)arg;
	if (!req->srv->cfg->pccs_pckcert) {
		http_resp_error(resp, 404, "NotFound",
				"this node does not serve PCK certificates (pccs_pckcert is off)");
		return;
	}
	if (!pccs_parse_pckcert(&q, &p, why, sizeof(why))) {
		bad_request(resp, "%s", why);
		return;
	}
	if (!have_source(req, resp))
		return;
	pq = (struct collateral_pck_query){p.ppid, p.ppid_len, p.cpusvn, p.pcesvn, p.pceid};
	attest_err_clear(&err);
	if ((rc = collateral_get_pck_cert(source_of(req), &pq, &b, &err)) != ATTEST_OK) {
		source_failed(req, resp, rc, &err);
		return;
	}
	send_item(resp, PCCS_TYPE_PEM, b.data, b.len, PCCS_HDR_PCK_CHAIN, &b);
	collateral_blob_free(&b);
}

/* ---- AMD KDS (formats.md §5.8) ------------------------------------------------------------ */

static bool amd_product(const char *p) { return amd_product_of(p) != AMD_PRODUCT_UNKNOWN; }

/* GET /vcek/v1/{product}/{hwid}?...SPL=..: the VCEK (DER). */
/* One SPL of the VCEK against the asked TCB component; false (and why) when it differs or is missing. */
static bool spl_is(const struct amd_cert_ext *e, enum amd_spl spl, int64_t want, const char *name, char *why,
		   size_t cap)
{
	if (e->has_spl[spl] && e->spl[spl] == want)
		return true;
	snprintf(why, cap, "the VCEK the source holds is for another TCB (%s) (pccs.kds.tcb)", name);
	return false;
}

/*
 * A folder source answers its one VCEK for any chip: serve the answer only
 * when its hwID and SPLs are the ones asked, as KDS would (amd_cert_ext).
 */
static bool vcek_is_the_one_asked(const char *product, const uint8_t chip_id[64], uint64_t tcb,
				  const struct collateral_blob *b, char *why, size_t cap)
{
	enum amd_product p = amd_product_of(product);
	const unsigned char *q = b->data;
	X509 *x = d2i_X509(NULL, &q, (long)b->len);
	struct amd_cert_ext e;
	struct snp_tcb t;
	uint8_t raw[8];
	bool ok;

	snp_tcb_to_raw(tcb, raw);
	ok = x != NULL && q == b->data + b->len && amd_cert_ext_parse(x, &e, NULL) == ATTEST_OK &&
	     snp_tcb_decode(p, raw, &t, "tcb", NULL) == ATTEST_OK;
	X509_free(x);
	if (!ok) {
		snprintf(why, cap, "the source's answer is not a VCEK of %s (pccs.kds.vcek)", product);
		return false;
	}
	/* KDS keys Turin VCEKs by CHIP_ID[0:8] (amd_collateral.h) */
	if (!e.has_hwid || e.hwid_len > 64 || (e.hwid_len != 64 && (p != AMD_PRODUCT_TURIN || e.hwid_len != 8)) ||
	    memcmp(e.hwid, chip_id, e.hwid_len) != 0) {
		snprintf(why, cap, "the VCEK the source holds is of another chip (pccs.kds.hwid)");
		return false;
	}
	return spl_is(&e, AMD_SPL_BL, t.bootloader, "blSPL", why, cap) &&
	       spl_is(&e, AMD_SPL_TEE, t.tee, "teeSPL", why, cap) && spl_is(&e, AMD_SPL_SNP, t.snp, "snpSPL", why, cap) &&
	       spl_is(&e, AMD_SPL_UCODE, t.microcode, "ucodeSPL", why, cap) &&
	       (p != AMD_PRODUCT_TURIN || spl_is(&e, AMD_SPL_FMC, t.fmc, "fmcSPL", why, cap));
}

static void vcek_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	/* the hardware id from the path itself: route parameters are cut at 63 characters, it has 128 */
	const char *hwid = strrchr(req->path, '/');
	struct pccs_query q = QUERY_OF(req);
	uint8_t chip_id[64];
	struct collateral_blob b = {0};
	struct attest_err err;
	uint64_t tcb = 0;
	char why[256];
	int rc, status;

	(void)arg;
	if (!pccs_parse_vcek(http_req_param(req, "product"), hwid ? hwid + 1 : NULL, &q, chip_id, &tcb,
			     &status, why, sizeof(why))) {
		http_resp_error(resp, status, status == 404 ? "NotFound" : "InvalidParameter", "%s", why);
		return;
	}
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	if ((rc = collateral_get_amd_vcek(source_of(req), http_req_param(req, "product"), chip_id, tcb, &b,
					  &err)) != ATTEST_OK)
		source_failed(req, resp, rc, &err);
	else if (!vcek_is_the_one_asked(http_req_param(req, "product"), chip_id, tcb, &b, why, sizeof(why)))
		http_resp_error(resp, 404, "NotFound", "%s", why);
	else
		http_resp_bytes(resp, 200, PCCS_TYPE_CERT, b.data, b.len);
	collateral_blob_free(&b);
}

/* GET /{vcek|vlek}/v1/{product}/{cert_chain|crl}; arg: bit 0 vlek, bit 1 crl. */
static void kds_object_handler(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *product = http_req_param(req, "product");
	bool vlek = ((uintptr_t)arg & 1) != 0, crl = ((uintptr_t)arg & 2) != 0;
	struct collateral_blob b = {0};
	struct attest_err err;
	int rc;

	if (!amd_product(product)) {
		http_resp_error(resp, 404, "NotFound", "unknown product \"%.32s\" (pccs.kds.product)",
				product ? product : "");
		return;
	}
	if (!have_source(req, resp))
		return;
	attest_err_clear(&err);
	rc = crl ? collateral_get_amd_crl(source_of(req), product, vlek, &b, &err)
		 : collateral_get_amd_cert_chain(source_of(req), product, vlek, &b, &err);
	if (rc != ATTEST_OK)
		source_failed(req, resp, rc, &err);
	else
		http_resp_bytes(resp, 200, crl ? PCCS_TYPE_CRL : PCCS_TYPE_PEM, b.data, b.len);
	collateral_blob_free(&b);
}

/* ---- registration ------------------------------------------------------------------------ */

struct pccs_route {
	const char *pattern;
	http_handler fn;
	void *arg;
};

int routes_pccs_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	const struct pccs_route routes[] = {
	    {"/sgx/certification/v4/pckcrl", pckcrl_handler, NULL},
	    {"/sgx/certification/v4/rootcacrl", rootcacrl_handler, NULL},
	    {"/sgx/certification/v4/tcb", tcb_handler, NULL},
	    {"/tdx/certification/v4/tcb", tcb_handler, (void *)1},
	    {"/sgx/certification/v4/qe/identity", identity_handler, (void *)&IDENTITY_KINDS[0]},
	    {"/tdx/certification/v4/qe/identity", identity_handler, (void *)&IDENTITY_KINDS[1]},
	    {"/sgx/certification/v4/qve/identity", identity_handler, (void *)&IDENTITY_KINDS[2]},
	    {"/sgx/certification/v4/qae/identity", identity_handler, (void *)&IDENTITY_KINDS[3]},
	    {"/sgx/certification/v4/pckcert", pckcert_handler, NULL},
	    {"/vcek/v1/{product}/{hwid}", vcek_handler, NULL},
	    {"/vcek/v1/{product}/cert_chain", kds_object_handler, (void *)0},
	    {"/vlek/v1/{product}/cert_chain", kds_object_handler, (void *)1},
	    {"/vcek/v1/{product}/crl", kds_object_handler, (void *)2},
	    {"/vlek/v1/{product}/crl", kds_object_handler, (void *)3},
	};
	int rc = ATTEST_OK;

	if (!srv->cfg->pccs)
		return ATTEST_OK;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && rc == ATTEST_OK; i++)
		rc = http_router_add(r, "GET", routes[i].pattern, 0, routes[i].fn, routes[i].arg, err);
	if (rc == ATTEST_OK)
		srv_log(&srv->log, SRV_LOG_INFO,
			"PCCS read API on: /sgx|tdx/certification/v4/... and /vcek|vlek/v1/... from the "
			"collateral cache%s",
			srv->cfg->pccs_pckcert ? " (PCK certificates too)" : "");
	return rc;
}
