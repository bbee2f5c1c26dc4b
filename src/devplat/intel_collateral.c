/*
 * Synthetic Intel collateral (devplat/intel.h): TCB Info v2/v3 (SGX, TDX)
 * and Enclave Identity v2 in PCS body form, signed over the exact member
 * bytes (formats.md §3.3), and a collateral folder in the file source's
 * layout with CRLs and issuer chains.
 */
#include "devplat/intel_internal.h"

#include "base/codec.h"
#include "base/timeutil.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

static const uint8_t INTEL_QE_MRSIGNER[32] = {
    0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};

void intel_devplat_qe_identity_default(struct intel_devplat_qe_identity *q)
{
	static const struct intel_devplat_qe_level levels[] = {
	    {8, "UpToDate", NULL}, {6, "OutOfDate", "INTEL-SA-00615"}, {2, "Revoked", "INTEL-SA-00219"}};
	static const uint8_t attrs_mask[16] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	memset(q, 0, sizeof(*q));
	q->id = "QE";
	memcpy(q->mrsigner, INTEL_QE_MRSIGNER, 32);
	q->isvprodid = 1;
	q->miscselect = 0;
	q->miscselect_mask = 0xffffffffu;
	q->attributes[0] = 0x11;
	memcpy(q->attributes_mask, attrs_mask, 16);
	q->levels = levels;
	q->n_levels = sizeof(levels) / sizeof(levels[0]);
}

static void put_hex(struct buf *b, const uint8_t *p, size_t n)
{
	static const char H[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		char c[2] = {H[p[i] >> 4], H[p[i] & 15]};

		buf_append(b, c, 2);
	}
}

static void put_date(struct buf *b, const char *key, int64_t t)
{
	char s[32];

	time_format_rfc3339(t, s, sizeof(s));
	buf_printf(b, "\"%s\":\"%s\"", key, s);
}

static void put_advisories(struct buf *b, const char *list)
{
	const char *p = list;

	if (list == NULL || *list == '\0')
		return;
	buf_append_str(b, ",\"advisoryIDs\":[");
	while (*p) {
		size_t n = strcspn(p, ",");

		buf_printf(b, "%s\"%.*s\"", p == list ? "" : ",", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
	buf_append_str(b, "]");
}

static void put_components(struct buf *b, const char *key, const uint8_t svn[16])
{
	int i;

	buf_printf(b, "\"%s\":[", key);
	for (i = 0; i < 16; i++)
		buf_printf(b, "%s{\"svn\":%u}", i ? "," : "", svn[i]);
	buf_append_str(b, "]");
}

static void put_level(struct buf *b, int version, const struct intel_devplat_tcb_level *l)
{
	int i;

	buf_append_str(b, "{\"tcb\":{");
	if (version == 2) {
		for (i = 0; i < 16; i++)
			buf_printf(b, "\"sgxtcbcomp%02dsvn\":%u,", i + 1, l->sgx[i]);
		buf_printf(b, "\"pcesvn\":%u", l->pcesvn);
	} else {
		put_components(b, "sgxtcbcomponents", l->sgx);
		if (l->has_tdx) {
			buf_append_str(b, ",");
			put_components(b, "tdxtcbcomponents", l->tdx);
		}
		buf_printf(b, ",\"pcesvn\":%u", l->pcesvn);
	}
	buf_printf(b, "},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"", l->date ? l->date : "2024-01-01T00:00:00Z",
		   l->status);
	put_advisories(b, l->advisories);
	buf_append_str(b, "}");
}

static void put_modules(struct buf *b, const struct intel_devplat_tcb_info *s)
{
	size_t i, k;

	buf_append_str(b, ",\"tdxModule\":{\"mrsigner\":\"");
	put_hex(b, s->tdx_module_mrsigner, 48);
	buf_append_str(b, "\",\"attributes\":\"");
	put_hex(b, s->tdx_module_attributes, 8);
	buf_append_str(b, "\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}");
	if (s->n_modules == 0)
		return;
	buf_append_str(b, ",\"tdxModuleIdentities\":[");
	for (i = 0; i < s->n_modules; i++) {
		const struct intel_devplat_module *m = &s->modules[i];

		buf_printf(b, "%s{\"id\":\"%s\",\"mrsigner\":\"", i ? "," : "", m->id);
		put_hex(b, m->mrsigner, 48);
		buf_append_str(b, "\",\"attributes\":\"");
		put_hex(b, m->attributes, 8);
		buf_append_str(b, "\",\"attributesMask\":\"");
		put_hex(b, m->attributes_mask, 8);
		buf_append_str(b, "\",\"tcbLevels\":[");
		for (k = 0; k < m->n_levels; k++) {
			buf_printf(b,
				   "%s{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-01-01T00:00:00Z\","
				   "\"tcbStatus\":\"%s\"",
				   k ? "," : "", m->levels[k].isvsvn, m->levels[k].status);
			put_advisories(b, m->levels[k].advisories);
			buf_append_str(b, "}");
		}
		buf_append_str(b, "]}");
	}
	buf_append_str(b, "]");
}

/* Wraps a signed member into {"<member>":<json>,"signature":"<hex>"}. */
static int envelope(const struct intel_devplat *p, const char *member, const struct buf *inner, char **body,
		    size_t *len, struct attest_err *err)
{
	uint8_t sig[64];
	char hex[129];
	struct buf out;

	if (inner->len == 0 || intel_devplat_sign(p->tcb_key, inner->p, inner->len, sig) != 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.sign", "signing %s failed", member);
	hex_encode_to(sig, 64, hex);
	buf_init(&out, 1u << 22);
	buf_printf(&out, "{\"%s\":", member);
	buf_append(&out, inner->p, inner->len);
	buf_printf(&out, ",\"signature\":\"%s\"}", hex);
	*body = (char *)buf_steal(&out, len);
	return *body ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "devplat.nomem", "out of memory");
}

int intel_devplat_tcb_info(const struct intel_devplat *p, const struct intel_devplat_tcb_info *s, char **body,
			   size_t *len, struct attest_err *err)
{
	struct buf b;
	int64_t now = p->o.now;
	size_t i;
	int rc;

	buf_init(&b, 1u << 22);
	buf_append_str(&b, "{");
	if (s->version == 3)
		buf_printf(&b, "\"id\":\"%s\",", s->id ? s->id : "SGX");
	buf_printf(&b, "\"version\":%d,", s->version);
	put_date(&b, "issueDate", s->issue_date ? s->issue_date : now - DAY);
	buf_append_str(&b, ",");
	put_date(&b, "nextUpdate", s->next_update ? s->next_update : now + 29 * DAY);
	buf_append_str(&b, ",\"fmspc\":\"");
	put_hex(&b, s->fmspc ? s->fmspc : p->o.fmspc, 6);
	buf_append_str(&b, "\",\"pceId\":\"");
	put_hex(&b, p->o.pceid, 2);
	buf_printf(&b, "\",\"tcbType\":0,\"tcbEvaluationDataNumber\":%lld",
		   (long long)(s->eval_num ? s->eval_num : 17));
	if (s->has_tdx_module)
		put_modules(&b, s);
	buf_append_str(&b, ",\"tcbLevels\":[");
	for (i = 0; i < s->n_levels; i++) {
		if (i)
			buf_append_str(&b, ",");
		put_level(&b, s->version, &s->levels[i]);
	}
	buf_append_str(&b, "]}");
	rc = envelope(p, "tcbInfo", &b, body, len, err);
	buf_free(&b);
	return rc;
}

int intel_devplat_qe_identity(const struct intel_devplat *p, const struct intel_devplat_qe_identity *s,
			      char **body, size_t *len, struct attest_err *err)
{
	struct buf b;
	uint8_t m[4];
	size_t i;
	int64_t now = p->o.now;
	int rc;

	buf_init(&b, 1u << 20);
	buf_printf(&b, "{\"id\":\"%s\",\"version\":2,", s->id ? s->id : "QE");
	put_date(&b, "issueDate", s->issue_date ? s->issue_date : now - DAY);
	buf_append_str(&b, ",");
	put_date(&b, "nextUpdate", s->next_update ? s->next_update : now + 29 * DAY);
	buf_printf(&b, ",\"tcbEvaluationDataNumber\":%lld,\"miscselect\":\"",
		   (long long)(s->eval_num ? s->eval_num : 17));
	/* Report byte order (LE u32), formats.md §3.4. */
	m[0] = (uint8_t)s->miscselect, m[1] = (uint8_t)(s->miscselect >> 8),
	m[2] = (uint8_t)(s->miscselect >> 16), m[3] = (uint8_t)(s->miscselect >> 24);
	put_hex(&b, m, 4);
	buf_append_str(&b, "\",\"miscselectMask\":\"");
	m[0] = (uint8_t)s->miscselect_mask, m[1] = (uint8_t)(s->miscselect_mask >> 8),
	m[2] = (uint8_t)(s->miscselect_mask >> 16), m[3] = (uint8_t)(s->miscselect_mask >> 24);
	put_hex(&b, m, 4);
	buf_append_str(&b, "\",\"attributes\":\"");
	put_hex(&b, s->attributes, 16);
	buf_append_str(&b, "\",\"attributesMask\":\"");
	put_hex(&b, s->attributes_mask, 16);
	buf_append_str(&b, "\",\"mrsigner\":\"");
	put_hex(&b, s->mrsigner, 32);
	buf_printf(&b, "\",\"isvprodid\":%u,\"tcbLevels\":[", s->isvprodid);
	for (i = 0; i < s->n_levels; i++) {
		buf_printf(
		    &b,
		    "%s{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"",
		    i ? "," : "", s->levels[i].isvsvn, s->levels[i].status);
		put_advisories(&b, s->levels[i].advisories);
		buf_append_str(&b, "}");
	}
	buf_append_str(&b, "]}");
	rc = envelope(p, "enclaveIdentity", &b, body, len, err);
	buf_free(&b);
	return rc;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, struct attest_err *err)
{
	char path[4096];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return attest_err_set(err, ATTEST_E_IO, "devplat.io", "cannot write %s", path);
	ok = fwrite(data, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	return ok ? ATTEST_OK : attest_err_set(err, ATTEST_E_IO, "devplat.io", "cannot write %s", path);
}

static int write_crl(const char *dir, const char *name, X509_CRL *crl, struct attest_err *err)
{
	unsigned char *der = NULL;
	int n = crl ? i2d_X509_CRL(crl, &der) : -1;
	int rc;

	if (n <= 0)
		return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.crl", "encoding %s failed", name);
	rc = write_file(dir, name, der, (size_t)n, err);
	OPENSSL_free(der);
	return rc;
}

static int write_chain(const char *dir, const char *name, X509 *a, X509 *b, struct attest_err *err)
{
	X509 *c[2] = {a, b};
	char *pem = NULL;
	size_t len = 0;
	int rc = intel_devplat_pem(c, 2, &pem, &len);

	if (rc == ATTEST_OK)
		rc = write_file(dir, name, pem, len, err);
	free(pem);
	return rc;
}

int intel_devplat_write_collateral(const struct intel_devplat *p, const char *dir, const char *tcb_info,
				   size_t tcb_info_len, const char *qe_identity, size_t qe_identity_len,
				   int64_t crl_this, int64_t crl_next, struct attest_err *err)
{
	long pck_serial = INTEL_DEVPLAT_SERIAL_PCK, ca_serial = INTEL_DEVPLAT_SERIAL_CA;
	int64_t t0 = crl_this ? crl_this : p->o.now - DAY, t1 = crl_next ? crl_next : p->o.now + 29 * DAY;
	X509_CRL *pck_crl = intel_devplat_crl(p->ca, p->ca_key, t0, t1, &pck_serial, p->o.revoke_pck ? 1 : 0);
	X509_CRL *root_crl =
	    intel_devplat_crl(p->root, p->root_key, t0, t1, &ca_serial, p->o.revoke_pck_ca ? 1 : 0);
	int rc;

	if ((rc = write_crl(dir, "pck_crl.der", pck_crl, err)) == ATTEST_OK &&
	    (rc = write_crl(dir, "root_ca_crl.der", root_crl, err)) == ATTEST_OK &&
	    (rc = write_chain(dir, "pck_crl_issuer_chain.pem", p->ca, p->root, err)) == ATTEST_OK &&
	    (rc = write_chain(dir, "tcb_info_issuer_chain.pem", p->tcb, p->root, err)) == ATTEST_OK &&
	    (rc = write_chain(dir, "qe_identity_issuer_chain.pem", p->tcb, p->root, err)) == ATTEST_OK &&
	    (tcb_info == NULL ||
	     (rc = write_file(dir, "tcb_info.json", tcb_info, tcb_info_len, err)) == ATTEST_OK) &&
	    qe_identity != NULL)
		rc = write_file(dir, "qe_identity.json", qe_identity, qe_identity_len, err);
	X509_CRL_free(pck_crl);
	X509_CRL_free(root_crl);
	return rc;
}

int intel_devplat_write_pck_cert(const struct intel_devplat *p, const char *dir, const uint8_t *ppid,
				 size_t ppid_len, struct attest_err *err)
{
	X509 *c[1] = {p->pck};
	char *pem = NULL, name[96];
	size_t len = 0;
	int rc = intel_devplat_pem(c, 1, &pem, &len);

	if (rc == ATTEST_OK && collateral_file_pck_name(ppid, ppid_len, name, sizeof(name)) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_INVALID, "devplat.param", "PPID of %zu bytes", ppid_len);
	if (rc == ATTEST_OK)
		rc = write_file(dir, name, pem, len, err);
	free(pem);
	if (rc == ATTEST_OK)
		rc = write_chain(dir, "pck_cert_issuer_chain.pem", p->ca, p->root, err);
	return rc;
}

/* The demoted status of a level that is current today (intel.h, intel_devplat_tcb_info_demoting). */
static const char *demoted(const char *status)
{
	if (strcmp(status, "UpToDate") == 0 || strcmp(status, "SWHardeningNeeded") == 0)
		return "OutOfDate";
	if (strcmp(status, "ConfigurationNeeded") == 0 ||
	    strcmp(status, "ConfigurationAndSWHardeningNeeded") == 0)
		return "OutOfDateConfigurationNeeded";
	return status;
}

/* One above both values (capped at 255). */
static uint8_t above(uint8_t a, uint8_t b)
{
	uint8_t m = a > b ? a : b;

	return m == 255 ? 255 : (uint8_t)(m + 1);
}

int intel_devplat_tcb_info_demoting(const struct intel_devplat *p, const struct intel_devplat_tcb_info *base,
				    int component, int64_t eval_num, char **body, size_t *len,
				    struct attest_err *err)
{
	struct intel_devplat_tcb_info spec;
	struct intel_devplat_tcb_level *levels;
	size_t i;
	int rc;

	if (base == NULL || base->n_levels == 0 || component < -1 || component > 31 ||
	    (component >= 16 && !base->levels[0].has_tdx))
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.param",
				      "a demoting TCB Info needs base levels and a component of them");
	if ((levels = calloc(base->n_levels + 1, sizeof(*levels))) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "devplat.nomem", "out of memory");
	levels[0] = base->levels[0];
	if (component == -1)
		levels[0].pcesvn =
		    (uint16_t)((base->levels[0].pcesvn > p->o.pcesvn ? base->levels[0].pcesvn : p->o.pcesvn) +
			       1);
	else if (component < 16)
		levels[0].sgx[component] = above(base->levels[0].sgx[component], p->o.comp_svn[component]);
	else
		levels[0].tdx[component - 16] = above(base->levels[0].tdx[component - 16], 0);
	levels[0].status = "UpToDate";
	levels[0].advisories = NULL;
	levels[0].date = "2025-01-01T00:00:00Z";
	for (i = 0; i < base->n_levels; i++) {
		levels[i + 1] = base->levels[i];
		levels[i + 1].status = demoted(base->levels[i].status);
		if (levels[i + 1].status != base->levels[i].status)
			levels[i + 1].advisories = "INTEL-SA-EARLY";
	}
	spec = *base;
	spec.levels = levels;
	spec.n_levels = base->n_levels + 1;
	spec.eval_num = eval_num ? eval_num : (base->eval_num ? base->eval_num : 17) + 1;
	rc = intel_devplat_tcb_info(p, &spec, body, len, err);
	free(levels);
	return rc;
}

int intel_devplat_write_selected(const char *dir, bool tcb, const struct collateral_select *sel,
				 const char *body, size_t len, struct attest_err *err)
{
	char name[64], sfx[32];

	if (sel == NULL || (sel->eval_num == 0 && sel->update != COLLATERAL_UPDATE_EARLY))
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.param", "not a selected set");
	/* The file source's names for a selected set: "_early" or "_eval<N>" before ".json". */
	collateral_select_suffix(sel, '_', sfx, sizeof(sfx));
	snprintf(name, sizeof(name), "%s%s.json", tcb ? "tcb_info" : "qe_identity", sfx);
	return write_file(dir, name, body, len, err);
}
