/*
 * Synthetic TD quotes on the synthetic Intel platform (devplat/intel.h).
 * The body layout is the one tdx_td_report_parse reads (formats.md §1.4);
 * writing it here from the same named offsets keeps the two honest.
 */
#include "devplat/tdx.h"

#include "evidence/tdx.h"

#include <string.h>

/* Intel's TD QE MRSIGNER (formats.md §3.4). */
static const uint8_t TD_QE_MRSIGNER[32] = {
    0xDC, 0x9E, 0x2A, 0x7C, 0x6F, 0x94, 0x8F, 0x17, 0x47, 0x4E, 0x34, 0xA7, 0xFC, 0x43, 0xED, 0x03,
    0x0F, 0x7C, 0x15, 0x63, 0xF1, 0xBA, 0xBD, 0xDF, 0x63, 0x40, 0xC8, 0x2E, 0x0E, 0x54, 0xA8, 0xC5,
};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void tdx_devplat_td_default(struct tdx_devplat_td *td)
{
	memset(td, 0, sizeof(*td));
	td->body_type = QUOTE_BODY_TD10;
	td->tee_tcb_svn[0] = 5;
	td->tee_tcb_svn[1] = 1;
	td->tee_tcb_svn[2] = 2;
	fill(td->mrseam, sizeof(td->mrseam), 0x11);
	td->td_attributes = TDX_ATTR_SEPT_VE_DISABLE;
	td->xfam = 0x61ae7;
	fill(td->mrtd, sizeof(td->mrtd), 0x21);
	for (int i = 0; i < 4; i++)
		fill(td->rtmr[i], sizeof(td->rtmr[i]), (uint8_t)(0x31 + i));
	memcpy(td->tee_tcb_svn2, td->tee_tcb_svn, sizeof(td->tee_tcb_svn2));
}

size_t tdx_devplat_td_body(const struct tdx_devplat_td *td, uint8_t out[648])
{
	memset(out, 0, TD15_REPORT_BODY_SIZE);
	memcpy(out + TD_RB_OFF_TEE_TCB_SVN, td->tee_tcb_svn, 16);
	memcpy(out + TD_RB_OFF_MRSEAM, td->mrseam, 48);
	memcpy(out + TD_RB_OFF_MRSIGNERSEAM, td->mrsignerseam, 48);
	memcpy(out + TD_RB_OFF_SEAMATTRIBUTES, td->seam_attributes, 8);
	put_u64le(out + TD_RB_OFF_TDATTRIBUTES, td->td_attributes);
	put_u64le(out + TD_RB_OFF_XFAM, td->xfam);
	memcpy(out + TD_RB_OFF_MRTD, td->mrtd, 48);
	memcpy(out + TD_RB_OFF_MRCONFIGID, td->mrconfigid, 48);
	memcpy(out + TD_RB_OFF_MROWNER, td->mrowner, 48);
	memcpy(out + TD_RB_OFF_MROWNERCONFIG, td->mrownerconfig, 48);
	for (int i = 0; i < 4; i++)
		memcpy(out + TD_RB_OFF_RTMR0 + 48 * i, td->rtmr[i], 48);
	memcpy(out + TD_RB_OFF_REPORTDATA, td->report_data, 64);
	if (td->body_type != QUOTE_BODY_TD15)
		return TD10_REPORT_BODY_SIZE;
	memcpy(out + TD_RB_OFF_TEE_TCB_SVN2, td->tee_tcb_svn2, 16);
	memcpy(out + TD_RB_OFF_MRSERVICETD, td->mrservicetd, 48);
	return TD15_REPORT_BODY_SIZE;
}

void tdx_devplat_td_qe_default(struct intel_devplat_enclave *e)
{
	intel_devplat_qe_default(e);
	memcpy(e->mrsigner, TD_QE_MRSIGNER, sizeof(e->mrsigner));
	e->isvprodid = 2;
	e->isvsvn = 4;
	e->flags = SGX_FLAGS_INIT | SGX_FLAGS_MODE64BIT | SGX_FLAGS_PROVISION_KEY;
}

void tdx_devplat_td_qe_identity_default(struct intel_devplat_qe_identity *q)
{
	static const struct intel_devplat_qe_level level = {4, "UpToDate", NULL};

	intel_devplat_qe_identity_default(q);
	q->id = "TD_QE";
	memcpy(q->mrsigner, TD_QE_MRSIGNER, sizeof(q->mrsigner));
	q->isvprodid = 2;
	q->levels = &level;
	q->n_levels = 1;
}

void tdx_devplat_tcb_info_default(struct intel_devplat_tcb_info *t,
				  const struct intel_devplat_tcb_level *levels, size_t n_levels,
				  const struct intel_devplat_module *modules, size_t n_modules)
{
	memset(t, 0, sizeof(*t));
	t->version = 3;
	t->id = "TDX";
	t->levels = levels;
	t->n_levels = n_levels;
	t->has_tdx_module = true; /* mrsigner and attributes zero: an Intel-signed module */
	t->modules = modules;
	t->n_modules = n_modules;
}

int tdx_devplat_make_quote(const struct intel_devplat *p, int version, const struct tdx_devplat_td *td,
			   const struct intel_devplat_enclave *qe, size_t trailing, uint8_t **out,
			   size_t *len, struct attest_err *err)
{
	struct intel_devplat_quote spec;
	uint8_t body[TD15_REPORT_BODY_SIZE];

	if (version != 4 && version != 5)
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.tdx.version", "TD quotes are v4 or v5");
	if (version == 4 && td->body_type != QUOTE_BODY_TD10)
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.tdx.body_type",
				      "a v4 TD quote carries a TDX 1.0 body");
	intel_devplat_quote_default(&spec);
	spec.version = version;
	spec.tee_type = QUOTE_TEE_TDX;
	spec.body_type = (enum quote_body_type)td->body_type;
	spec.body_len = tdx_devplat_td_body(td, body);
	spec.body = body;
	if (qe != NULL)
		spec.qe = *qe;
	else
		tdx_devplat_td_qe_default(&spec.qe);
	spec.trailing = trailing;
	return intel_devplat_make_quote(p, &spec, out, len, err);
}
