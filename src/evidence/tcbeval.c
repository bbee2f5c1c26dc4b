/*
 * Intel's TCB status algorithm (formats.md §3.5, §3.6; QVL checkTcbLevel,
 * TdxModuleCheck, TDRelaunchCheck, convergeTcbStatusWithQeTcbStatus).
 */
#include "evidence/pck.h"
#include "evidence/tcb_json.h"
#include "evidence/tdx.h"

#include "base/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tcb_status tcb_converge_with_qe(enum tcb_status platform, enum tcb_status qe)
{
	switch (qe) {
	case TCB_OUT_OF_DATE:
		if (platform == TCB_UP_TO_DATE || platform == TCB_SW_HARDENING_NEEDED)
			return TCB_OUT_OF_DATE;
		if (platform == TCB_CONFIGURATION_NEEDED ||
		    platform == TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
		return platform;
	case TCB_REVOKED:
		return TCB_REVOKED;
	case TCB_NOT_SUPPORTED:
		return TCB_NOT_SUPPORTED;
	default:
		return platform;
	}
}

static bool sgx_matches(const struct tcb_level *l, const struct pck_ext *pck)
{
	int i;

	for (i = 0; i < 16; i++)
		if (pck->comp_svn[i] < l->sgx[i])
			return false;
	return pck->pcesvn >= l->pcesvn;
}

/* Union of advisory IDs, first occurrence order, strings borrowed. */
static int add_advisories(struct tcb_advisories *u, const struct tcb_advisories *a)
{
	size_t i, k;
	const char **ids;

	if (a == NULL || a->n == 0)
		return ATTEST_OK;
	if ((ids = realloc(u->ids, (u->n + a->n) * sizeof(*ids))) == NULL)
		return ATTEST_E_NOMEM;
	u->ids = ids;
	for (i = 0; i < a->n; i++) {
		for (k = 0; k < u->n && strcmp(u->ids[k], a->ids[i]) != 0; k++)
			;
		if (k == u->n)
			u->ids[u->n++] = a->ids[i];
	}
	return ATTEST_OK;
}

void tcb_verdict_free(struct tcb_verdict *v)
{
	if (v == NULL)
		return;
	free(v->adv.ids);
	v->adv.ids = NULL;
	v->adv.n = 0;
}

static int preconditions(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *td,
			 const char *prefix, struct attest_err *err)
{
	char a[16], b[16];

	if (td != NULL && ti->id != TCB_INFO_ID_TDX)
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, "tcbinfo.id",
				"a TDX quote needs TCB Info v3 with id \"TDX\"");
	if (td == NULL && ti->id == TCB_INFO_ID_TDX)
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, "tcbinfo.id",
				"an SGX quote needs SGX TCB Info, not id \"TDX\"");
	if (memcmp(ti->fmspc, pck->fmspc, 6) != 0) {
		hex_encode_to(ti->fmspc, 6, a);
		hex_encode_to(pck->fmspc, 6, b);
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, "tcbinfo.fmspc",
				"TCB Info is for FMSPC %s, the PCK certificate's is %s", a, b);
	}
	if (memcmp(ti->pceid, pck->pceid, 2) != 0)
		return tcbj_err(err, ATTEST_E_COLLATERAL, prefix, "tcbinfo.pceid",
				"TCB Info PCE ID differs from the PCK certificate's");
	return ATTEST_OK;
}

int tcb_evaluate(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *td,
		 enum tcb_status qe_status, const struct qe_tcb_level *qe_level, struct tcb_verdict *out,
		 const char *prefix, struct attest_err *err)
{
	struct tcb_verdict v;
	size_t i;
	int rc;

	if ((rc = preconditions(ti, pck, td, prefix, err)) != ATTEST_OK)
		return rc;
	/* TDX steps (module check, TDX components, module status, relaunch) are tdx_tcb.c's. */
	if (td != NULL)
		return tdx_tcb_evaluate(ti, pck, td, qe_status, qe_level, out, prefix, err);
	memset(&v, 0, sizeof(v));
	v.qe = qe_status;
	v.module = TCB_UP_TO_DATE;
	/* §3.5 step 2: the first level (descending order) the PCK SVNs reach. */
	for (i = 0; i < ti->n_levels && v.sgx_level == NULL; i++)
		if (sgx_matches(&ti->levels[i], pck))
			v.sgx_level = &ti->levels[i];
	if (v.sgx_level == NULL) {
		v.status = v.platform = TCB_NOT_SUPPORTED;
		*out = v;
		return ATTEST_OK;
	}
	v.tcb_date = v.sgx_level->tcb_date;
	v.platform = v.sgx_level->status;
	v.status = tcb_converge_with_qe(v.platform, qe_status);
	if (add_advisories(&v.adv, &v.sgx_level->adv) != ATTEST_OK ||
	    (qe_level && add_advisories(&v.adv, &qe_level->adv) != ATTEST_OK)) {
		tcb_verdict_free(&v);
		return tcbj_err(err, ATTEST_E_NOMEM, prefix, "tcb.advisories", "out of memory");
	}
	*out = v;
	return ATTEST_OK;
}
