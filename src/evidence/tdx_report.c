/*
 * TD report bodies and TD attributes (formats.md §1.4, §1.5).
 *
 * The body is a fixed layout: the caller hands exactly the body bytes (the
 * quote parser already split them off by size), and every field is read
 * through the cursor in layout order so a short body fails before a byte
 * is copied.
 */
#include "evidence/tdx.h"

#include "base/cur.h"

#include <string.h>

/* Reads the fields common to TDX 1.0 and 1.5, in layout order. */
static int td10_fields(struct cur *c, struct tdx_td_report *r)
{
	int rc = 0;

	rc |= cur_copy(c, r->tee_tcb_svn, sizeof(r->tee_tcb_svn));
	rc |= cur_copy(c, r->mrseam, sizeof(r->mrseam));
	rc |= cur_copy(c, r->mrsignerseam, sizeof(r->mrsignerseam));
	rc |= cur_copy(c, r->seam_attributes, sizeof(r->seam_attributes));
	rc |= cur_copy(c, r->td_attributes, sizeof(r->td_attributes));
	rc |= cur_copy(c, r->xfam, sizeof(r->xfam));
	rc |= cur_copy(c, r->mrtd, sizeof(r->mrtd));
	rc |= cur_copy(c, r->mrconfigid, sizeof(r->mrconfigid));
	rc |= cur_copy(c, r->mrowner, sizeof(r->mrowner));
	rc |= cur_copy(c, r->mrownerconfig, sizeof(r->mrownerconfig));
	for (int i = 0; i < TDX_RTMR_COUNT; i++)
		rc |= cur_copy(c, r->rtmr[i], sizeof(r->rtmr[i]));
	rc |= cur_copy(c, r->report_data, sizeof(r->report_data));
	return rc;
}

int tdx_td_report_parse(const uint8_t *p, size_t n, int body_type, struct tdx_td_report *out,
			struct attest_err *err)
{
	struct tdx_td_report r;
	struct cur c;
	size_t want;

	if (body_type == QUOTE_BODY_TD10)
		want = TD10_REPORT_BODY_SIZE;
	else if (body_type == QUOTE_BODY_TD15)
		want = TD15_REPORT_BODY_SIZE;
	else
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.body.type",
				      "TD report body type %d is neither 2 (TDX 1.0) nor 3 (TDX 1.5)",
				      body_type);
	if (p == NULL || n != want)
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.body.size",
				      "TD report body of type %d must be %zu bytes, got %zu", body_type, want,
				      n);

	memset(&r, 0, sizeof(r));
	r.body_type = body_type;
	cur_init(&c, p, n);
	if (td10_fields(&c, &r) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.body.size", "TD report body truncated");
	if (body_type == QUOTE_BODY_TD15 && (cur_copy(&c, r.tee_tcb_svn2, sizeof(r.tee_tcb_svn2)) != 0 ||
					     cur_copy(&c, r.mrservicetd, sizeof(r.mrservicetd)) != 0))
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.body.size", "TD 1.5 report body truncated");
	if (!cur_empty(&c))
		return attest_err_set(err, ATTEST_E_PARSE, "tdx.body.size",
				      "TD report body has %zu extra bytes", cur_left(&c));
	*out = r;
	return ATTEST_OK;
}

void tdx_td_attributes_decode(const uint8_t attr[8], struct tdx_td_attributes *out)
{
	uint64_t v = ld_u64le(attr);
	const uint64_t named = TDX_ATTR_DEBUG | TDX_ATTR_HGS_PLUS_PROF | TDX_ATTR_PERF_PROF |
			       TDX_ATTR_PMT_PROF | TDX_ATTR_ICSSD | TDX_ATTR_SERVTD_EXT | TDX_ATTR_LASS |
			       TDX_ATTR_SEPT_VE_DISABLE | TDX_ATTR_MIGRATABLE | TDX_ATTR_PKS | TDX_ATTR_KL |
			       TDX_ATTR_TPA | TDX_ATTR_PERFMON;

	memset(out, 0, sizeof(*out));
	out->raw = v;
	out->debug = (v & TDX_ATTR_DEBUG) != 0;
	/* TUD ("TD under debug", bits 3:0): any of them means the host can inspect the TD. */
	out->under_debug = (v & TDX_ATTR_TUD_MASK) != 0;
	out->sept_ve_disable = (v & TDX_ATTR_SEPT_VE_DISABLE) != 0;
	out->pks = (v & TDX_ATTR_PKS) != 0;
	out->key_locker = (v & TDX_ATTR_KL) != 0;
	out->perfmon = (v & TDX_ATTR_PERFMON) != 0;
	out->migratable = (v & TDX_ATTR_MIGRATABLE) != 0;
	out->unknown = v & ~named;
}
