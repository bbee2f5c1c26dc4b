/*
 * AMD KDS collateral source (kds.h). URLs come from amd_kds_vcek_url /
 * amd_kds_url (amd_collateral.h, formats.md §5.8) so the file mirror and
 * the online client name the same objects; pcs_http spaces the requests.
 */
#include "collateral/kds.h"

#include "collateral/amd_collateral.h"
#include "collateral/amd_tcb.h"
#include "collateral/pcs_http.h"

#include <stdlib.h>
#include <string.h>

#define KDS_URL_MAX 1024

struct kds_source {
	struct pcs_http http;
	char *base;
};

static int kds_fetch(struct kds_source *s, const char *url, struct collateral_blob *out,
		     struct attest_err *err)
{
	struct pcs_http_resp r = {0};
	int rc;

	if ((rc = pcs_http_get(&s->http, url, NULL, &r, err)) != ATTEST_OK)
		return rc;
	if (r.len == 0) {
		pcs_http_resp_free(&r);
		return attest_err_set(err, ATTEST_E_COLLATERAL, "collateral.kds.body", "empty body: %s", url);
	}
	memset(out, 0, sizeof(*out));
	out->data = r.body; /* transferred */
	out->len = r.len;
	r.body = NULL;
	pcs_http_resp_free(&r);
	return ATTEST_OK;
}

static int kds_vcek(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		    struct collateral_blob *out, struct attest_err *err)
{
	struct kds_source *s = self;
	char url[KDS_URL_MAX];
	uint8_t t[8];

	/* REPORTED_TCB bytes in report order from the little-endian u64 (amd_collateral.h). */
	snp_tcb_to_raw(tcb, t);
	if (product == NULL || chip_id == NULL ||
	    amd_kds_vcek_url(s->base, product, chip_id, t, url, sizeof(url)) < 0)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid",
				      "no KDS VCEK URL for product \"%.32s\"", product ? product : "(null)");
	return kds_fetch(s, url, out, err);
}

static int kds_object(struct kds_source *s, const char *product, bool vlek, bool crl,
		      struct collateral_blob *out, struct attest_err *err)
{
	char url[KDS_URL_MAX];

	if (product == NULL || amd_kds_url(s->base, product, vlek, crl, url, sizeof(url)) < 0)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.invalid",
				      "no KDS URL for product \"%.32s\"", product ? product : "(null)");
	return kds_fetch(s, url, out, err);
}

static int kds_cert_chain(void *self, const char *product, bool vlek, struct collateral_blob *out,
			  struct attest_err *err)
{
	return kds_object(self, product, vlek, false, out, err);
}

static int kds_crl(void *self, const char *product, bool vlek, struct collateral_blob *out,
		   struct attest_err *err)
{
	return kds_object(self, product, vlek, true, out, err);
}

static void kds_free(void *self)
{
	struct kds_source *s = self;

	if (s == NULL)
		return;
	pcs_http_fini(&s->http);
	free(s->base);
	free(s);
}

static const struct collateral_source_ops KDS_OPS = {
    .name = "kds",
    .amd_vcek = kds_vcek,
    .amd_cert_chain = kds_cert_chain,
    .amd_crl = kds_crl,
    .free = kds_free,
};

int kds_source_new(const struct kds_options *o, struct collateral_source **out, struct attest_err *err)
{
	struct kds_options d = {0};
	struct pcs_http_options ho = {0};
	struct kds_source *s;
	struct collateral_source *src;
	const char *base;
	size_t n;
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
	ho.min_interval_ms = o->min_interval_ms == 0  ? KDS_DEFAULT_INTERVAL_MS
			     : o->min_interval_ms < 0 ? 0
						      : o->min_interval_ms;
	ho.max_wait_ms = o->max_wait_ms;
	if ((rc = pcs_http_init(&s->http, &ho, "collateral.kds", err)) != ATTEST_OK) {
		free(s);
		free(src);
		return rc;
	}
	base = o->base_url ? o->base_url : KDS_DEFAULT_BASE_URL;
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		;
	if ((s->base = strndup(base, n)) == NULL) {
		kds_free(s);
		free(src);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	src->ops = &KDS_OPS;
	src->self = s;
	*out = src;
	return ATTEST_OK;
}

void kds_source_stats(const struct collateral_source *src, uint64_t *requests, uint64_t *refused)
{
	struct kds_source *s = src->self;

	pcs_http_stats(&s->http, requests, refused);
}
