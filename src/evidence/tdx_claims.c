/*
 * TD report claims of Azure Attestation's TDX EAT profile
 * (maa-interface.md §2.7; Microsoft's sample token in
 * shared/vectors/maa-tokens/docs-examples/tdxvm.claims.json shows the
 * encodings: byte fields as lower-case hex of the report bytes in report
 * order, so XFAM 0x618e7 reads "e718060000000000"; tdx_seamsvn is
 * TEE_TCB_SVN[0], 3 for "0300060000...").
 */
#include "evidence/tdx.h"

#include <stdio.h>

/* EAT dbgstat (RFC 9711 §4.2.9): "enabled" when the host may debug the TD. */
static const char *dbgstat(const struct tdx_td_attributes *a)
{
	return a->under_debug ? "enabled" : "disabled";
}

static int add_hex_fields(struct claim_set *set, const struct tdx_td_report *td)
{
	int rc = 0;
	char name[32];

	rc |= claim_set_add_hex(set, "tdx_mrseam", td->mrseam, sizeof(td->mrseam));
	rc |= claim_set_add_hex(set, "tdx_mrsignerseam", td->mrsignerseam, sizeof(td->mrsignerseam));
	rc |= claim_set_add_hex(set, "tdx_mrtd", td->mrtd, sizeof(td->mrtd));
	for (int i = 0; i < TDX_RTMR_COUNT; i++) {
		snprintf(name, sizeof(name), "tdx_rtmr%u", (unsigned)i & 3u);
		rc |= claim_set_add_hex(set, name, td->rtmr[i], sizeof(td->rtmr[i]));
	}
	rc |= claim_set_add_hex(set, "tdx_mrconfigid", td->mrconfigid, sizeof(td->mrconfigid));
	rc |= claim_set_add_hex(set, "tdx_mrowner", td->mrowner, sizeof(td->mrowner));
	rc |= claim_set_add_hex(set, "tdx_mrownerconfig", td->mrownerconfig, sizeof(td->mrownerconfig));
	rc |= claim_set_add_hex(set, "tdx_report_data", td->report_data, sizeof(td->report_data));
	rc |= claim_set_add_hex(set, "tdx_seam_attributes", td->seam_attributes, sizeof(td->seam_attributes));
	rc |= claim_set_add_hex(set, "tdx_td_attributes", td->td_attributes, sizeof(td->td_attributes));
	rc |= claim_set_add_hex(set, "tdx_tee_tcb_svn", td->tee_tcb_svn, sizeof(td->tee_tcb_svn));
	rc |= claim_set_add_hex(set, "tdx_xfam", td->xfam, sizeof(td->xfam));
	if (td->body_type == QUOTE_BODY_TD15) {
		/* Not in Microsoft's profile (TDX 1.0 era); named in its style. */
		rc |= claim_set_add_hex(set, "tdx_tee_tcb_svn2", td->tee_tcb_svn2, sizeof(td->tee_tcb_svn2));
		rc |= claim_set_add_hex(set, "tdx_mrservicetd", td->mrservicetd, sizeof(td->mrservicetd));
	}
	return rc;
}

int tdx_claims_add_report(struct claim_set *set, const struct tdx_td_report *td, struct attest_err *err)
{
	struct tdx_td_attributes a;
	int rc = 0;

	tdx_td_attributes_decode(td->td_attributes, &a);
	rc |= claim_set_add_str(set, "eat_profile", TDX_EAT_PROFILE);
	rc |= claim_set_add_str(set, "dbgstat", dbgstat(&a));
	rc |= claim_set_add_str(set, "intuse", "generic");
	rc |= add_hex_fields(set, td);
	rc |= claim_set_add_int(set, "tdx_seamsvn", td->tee_tcb_svn[0]);
	rc |= claim_set_add_bool(set, "tdx_td_attributes_debug", a.debug);
	rc |= claim_set_add_bool(set, "tdx_td_attributes_key_locker", a.key_locker);
	rc |= claim_set_add_bool(set, "tdx_td_attributes_perfmon", a.perfmon);
	rc |= claim_set_add_bool(set, "tdx_td_attributes_protection_keys", a.pks);
	rc |= claim_set_add_bool(set, "tdx_td_attributes_septve_disable", a.sept_ve_disable);
	if (rc != 0)
		return attest_err_set(err, ATTEST_E_NOMEM, "tdx.claims.nomem",
				      "could not add the TD report claims");
	return ATTEST_OK;
}
