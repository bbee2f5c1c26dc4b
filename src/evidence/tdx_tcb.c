/*
 * The TDX step of the TCB status (formats.md §3.5; Intel QVL
 * QuoteVerifier::verify 4.1.2.4.11 and checkTcbLevel 4.1.2.4.17 with
 * TdxModuleCheck and TDRelaunchCheck), over the shared parsed collateral
 * of tcb.h. Nothing here parses or verifies a signature: tcb_evaluate()
 * hands over verified documents. The order of the checks is QVL's, because
 * the order decides which verdict a quote with several problems gets.
 */
#include "evidence/tdx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 4.1.2.4.17.1-2: every PCK component SVN and the PCESVN at least the level's. */
static bool sgx_matches(const struct pck_ext *pck, const struct tcb_level *l)
{
	for (size_t i = 0; i < PCK_TCB_COMPONENTS; i++)
		if (pck->comp_svn[i] < l->sgx[i])
			return false;
	return pck->pcesvn >= l->pcesvn;
}

/*
 * 4.1.2.4.17.3: TEE_TCB_SVN against tdxtcbcomponents. With a module major
 * version (byte 1 > 0) bytes 0 and 1 are judged by the module identity
 * instead (step 4), so they are skipped here.
 */
static bool tdx_matches(const uint8_t tee_tcb_svn[16], const struct tcb_level *l)
{
	size_t i = tee_tcb_svn[1] > 0 ? 2 : 0;

	if (!l->has_tdx)
		return false;
	for (; i < 16; i++)
		if (tee_tcb_svn[i] < l->tdx[i])
			return false;
	return true;
}

/* QVL findTdxModuleIdentity: "TDX_%02X" of the major version, id compared upper-cased. */
const struct tdx_module_identity *tdx_tcb_module_identity(const struct tcb_info *ti, uint8_t major)
{
	char want[8];

	snprintf(want, sizeof(want), "TDX_%02X", major);
	for (size_t i = 0; i < ti->n_modules; i++) {
		const char *id = ti->modules[i].id;
		size_t k = 0;

		while (k < sizeof(ti->modules[i].id) && id[k] != '\0' && want[k] != '\0' &&
		       toupper((unsigned char)id[k]) == want[k])
			k++;
		if (k < sizeof(ti->modules[i].id) && id[k] == '\0' && want[k] == '\0')
			return &ti->modules[i];
	}
	return NULL;
}

/*
 * 4.1.2.4.11: the TDX module that produced the report must be the one the
 * TCB Info describes. MRSIGNERSEAM equal to its mrsigner; SEAMATTRIBUTES
 * zero and equal to its attributes (QVL ignores attributesMask here).
 * *ident receives the identity of the module's major version, if any.
 */
static int check_module(const struct tcb_info *ti, const struct tcb_tdx_input *tdx,
			const struct tdx_module_identity **ident, const char *prefix, struct attest_err *err)
{
	const uint8_t *mrsigner = ti->tdx_module_mrsigner;
	const uint8_t *attributes = ti->tdx_module_attributes;
	char name[ATTEST_ERR_NAME_MAX];
	uint8_t major = tdx->tee_tcb_svn[1];

	*ident = NULL;
	if (tdx->quote_version > 3 && major > 0) {
		if (ti->n_modules == 0) {
			snprintf(name, sizeof(name), "%s.tcbinfo.tdx_module_identities", prefix);
			return attest_err_set(err, ATTEST_E_COLLATERAL, name,
					      "TDX module major version %u but the TCB Info has no "
					      "tdxModuleIdentities (TCB_INFO_MISMATCH)",
					      major);
		}
		*ident = tdx_tcb_module_identity(ti, major);
		if (*ident == NULL) {
			snprintf(name, sizeof(name), "%s.tcb.tdx_module", prefix);
			return attest_err_set(err, ATTEST_E_VERIFY, name,
					      "the TCB Info has no identity TDX_%02X for the TD's module",
					      major);
		}
		mrsigner = (*ident)->mrsigner;
		attributes = (*ident)->attributes;
	} else if (!ti->has_tdx_module) {
		snprintf(name, sizeof(name), "%s.tcbinfo.tdx_module", prefix);
		return attest_err_set(err, ATTEST_E_COLLATERAL, name, "TDX TCB Info without tdxModule");
	}
	snprintf(name, sizeof(name), "%s.tcb.tdx_module", prefix);
	if (memcmp(mrsigner, tdx->mrsignerseam, sizeof(tdx->mrsignerseam)) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, name,
				      "MRSIGNERSEAM differs from the TDX module mrsigner of the TCB Info");
	for (size_t i = 0; i < sizeof(tdx->seamattributes); i++)
		if (tdx->seamattributes[i] != 0 || tdx->seamattributes[i] != attributes[i])
			return attest_err_set(
			    err, ATTEST_E_VERIFY, name,
			    "SEAMATTRIBUTES are not zero and equal to the TDX module attributes");
	return ATTEST_OK;
}

/*
 * 4.1.2.4.17.4.1 (QVL checkTdxModuleTcbStatus): with no major version the
 * module is UpToDate; otherwise the first level of its identity (highest
 * ISVSVN first) that TEE_TCB_SVN[0] reaches, TCB_NOT_SUPPORTED when none.
 */
static int module_status(const struct tcb_tdx_input *tdx, const struct tdx_module_identity *ident,
			 struct tcb_verdict *v, const char *prefix, struct attest_err *err)
{
	char name[ATTEST_ERR_NAME_MAX];

	v->module_level = NULL;
	if (tdx->quote_version > 3 && tdx->tee_tcb_svn[1] == 0) {
		v->module = TCB_UP_TO_DATE;
		return ATTEST_OK;
	}
	v->module = TCB_NOT_SUPPORTED;
	for (size_t i = 0; ident != NULL && i < ident->n_levels; i++) {
		const struct tdx_module_level *l = &ident->levels[i];

		if (tdx->tee_tcb_svn[0] < l->isvsvn)
			continue;
		/* QVL VALID_MODULE_TCB_STATUSES */
		if (l->status != TCB_UP_TO_DATE && l->status != TCB_OUT_OF_DATE && l->status != TCB_REVOKED) {
			snprintf(name, sizeof(name), "%s.tcbinfo.tdx_module_status", prefix);
			return attest_err_set(
			    err, ATTEST_E_COLLATERAL, name,
			    "TDX module level status %s is not UpToDate, OutOfDate or Revoked",
			    tcb_status_str(l->status));
		}
		v->module_level = l;
		v->module = l->status;
		break;
	}
	return ATTEST_OK;
}

/* QVL convergeTcbStatusWithTdxModuleStatus. */
static enum tcb_status converge_module(enum tcb_status level, enum tcb_status module)
{
	if (module == TCB_OUT_OF_DATE) {
		if (level == TCB_UP_TO_DATE || level == TCB_SW_HARDENING_NEEDED)
			return TCB_OUT_OF_DATE;
		if (level == TCB_CONFIGURATION_NEEDED || level == TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (module == TCB_REVOKED)
		return TCB_REVOKED;
	return level;
}

static bool config_needed(enum tcb_status s)
{
	return s == TCB_CONFIGURATION_NEEDED || s == TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	       s == TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	       s == TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

static bool relaunch_applies(enum tcb_status qe, enum tcb_status sgx, enum tcb_status tdx,
			     enum tcb_status module)
{
	if (qe == TCB_OUT_OF_DATE || qe == TCB_REVOKED || qe == TCB_NOT_SUPPORTED)
		return false;
	if (sgx != TCB_UP_TO_DATE && sgx != TCB_SW_HARDENING_NEEDED && sgx != TCB_CONFIGURATION_NEEDED &&
	    sgx != TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
		return false;
	if (tdx != TCB_OUT_OF_DATE && tdx != TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
		return false;
	return module == TCB_OUT_OF_DATE;
}

/*
 * 4.1.2.4.17.4.3 (QVL checkForRelaunch), TDX 1.5 bodies only: the platform
 * is current but the TD still runs on the module it was launched on; when
 * TEE_TCB_SVN2 (what a relaunch would get) reaches the newest TCB level
 * (ti->levels[0]) the TD is told to relaunch.
 */
static int check_relaunch(const struct tcb_info *ti, const struct tcb_tdx_input *tdx, enum tcb_status qe,
			  enum tcb_status sgx, enum tcb_status module, enum tcb_status *status,
			  const char *prefix, struct attest_err *err)
{
	const uint8_t *svn2 = tdx->tee_tcb_svn2;
	const struct tcb_level *latest;
	char name[ATTEST_ERR_NAME_MAX];
	bool reaches;

	if (!relaunch_applies(qe, sgx, *status, module))
		return ATTEST_OK;
	if (ti->n_levels == 0) {
		*status = TCB_NOT_SUPPORTED;
		return ATTEST_OK;
	}
	latest = &ti->levels[0];
	if (svn2[1] == 0) {
		reaches = svn2[0] >= latest->tdx[0] && svn2[2] >= latest->tdx[2];
	} else {
		const struct tdx_module_identity *id2 = tdx_tcb_module_identity(ti, svn2[1]);

		if (id2 == NULL) {
			snprintf(name, sizeof(name), "%s.tcb.tdx_module", prefix);
			return attest_err_set(err, ATTEST_E_VERIFY, name,
					      "no identity TDX_%02X for TEE_TCB_SVN2's module", svn2[1]);
		}
		if (id2->n_levels == 0) {
			*status = TCB_NOT_SUPPORTED;
			return ATTEST_OK;
		}
		/* levels[0] is the highest ISVSVN (tcb.h keeps them sorted). */
		reaches = svn2[0] >= id2->levels[0].isvsvn && svn2[2] >= latest->tdx[2];
	}
	if (reaches)
		*status = config_needed(sgx) || config_needed(*status)
			      ? TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
			      : TCB_TD_RELAUNCH_ADVISED;
	return ATTEST_OK;
}

/* Appends the ids not yet in ids[0..*n) (dcap-qvl's merge keeps first-seen order). */
static void merge_ids(const char **ids, size_t *n, const struct tcb_advisories *add)
{
	for (size_t i = 0; add != NULL && i < add->n; i++) {
		bool seen = false;

		for (size_t k = 0; k < *n && !seen; k++)
			seen = strcmp(ids[k], add->ids[i]) == 0;
		if (!seen)
			ids[(*n)++] = add->ids[i];
	}
}

/* Advisory IDs: union of the TDX platform level, the module level and the QE level. */
static int collect_advisories(struct tcb_verdict *v, const struct qe_tcb_level *qe_level, const char *prefix,
			      struct attest_err *err)
{
	const struct tcb_advisories *parts[3] = {
	    v->tdx_level ? &v->tdx_level->adv : NULL,
	    v->module_level ? &v->module_level->adv : NULL,
	    qe_level ? &qe_level->adv : NULL,
	};
	char name[ATTEST_ERR_NAME_MAX];
	size_t cap = 0, n = 0;
	const char **ids;

	for (size_t i = 0; i < 3; i++)
		cap += parts[i] ? parts[i]->n : 0;
	v->adv.ids = NULL;
	v->adv.n = 0;
	if (cap == 0)
		return ATTEST_OK;
	ids = malloc(cap * sizeof(*ids));
	if (ids == NULL) {
		snprintf(name, sizeof(name), "%s.tcb.nomem", prefix);
		return attest_err_set(err, ATTEST_E_NOMEM, name, "out of memory for advisory IDs");
	}
	for (size_t i = 0; i < 3; i++)
		merge_ids(ids, &n, parts[i]);
	v->adv.ids = ids;
	v->adv.n = n;
	return ATTEST_OK;
}

/* 4.1.2.4.17.1-3: the SGX-matching and the TDX-matching levels. */
static void match_levels(const struct tcb_info *ti, const struct pck_ext *pck,
			 const struct tcb_tdx_input *tdx, struct tcb_verdict *v)
{
	for (size_t i = 0; i < ti->n_levels; i++) {
		const struct tcb_level *l = &ti->levels[i];

		if (!sgx_matches(pck, l))
			continue;
		if (v->sgx_level == NULL)
			v->sgx_level = l;
		if (tdx_matches(tdx->tee_tcb_svn, l)) {
			v->tdx_level = l;
			return;
		}
	}
}

/* 4.1.2.4.17.4: from the matched levels to the converged status. */
static int evaluate_levels(const struct tcb_info *ti, const struct tcb_tdx_input *tdx,
			   const struct tdx_module_identity *ident, enum tcb_status qe_status,
			   struct tcb_verdict *v, const char *prefix, struct attest_err *err)
{
	enum tcb_status status;
	int rc;

	if (v->sgx_level == NULL || v->tdx_level == NULL)
		return ATTEST_OK; /* TCB_NOT_SUPPORTED */
	v->tcb_date = v->tdx_level->tcb_date;
	rc = module_status(tdx, ident, v, prefix, err);
	if (rc != ATTEST_OK || v->module == TCB_NOT_SUPPORTED)
		return rc;
	status = converge_module(v->tdx_level->status, v->module);
	if (status != TCB_REVOKED && tdx->body_type == TCB_TD15) {
		rc =
		    check_relaunch(ti, tdx, qe_status, v->sgx_level->status, v->module, &status, prefix, err);
		if (rc != ATTEST_OK)
			return rc;
	}
	v->platform = status;
	v->status = status == TCB_REVOKED ? status : tcb_converge_with_qe(status, qe_status);
	return ATTEST_OK;
}

int tdx_tcb_evaluate(const struct tcb_info *ti, const struct pck_ext *pck, const struct tcb_tdx_input *tdx,
		     enum tcb_status qe_status, const struct qe_tcb_level *qe_level, struct tcb_verdict *out,
		     const char *prefix, struct attest_err *err)
{
	const struct tdx_module_identity *ident;
	struct tcb_verdict v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.status = v.platform = v.module = TCB_NOT_SUPPORTED;
	v.qe = qe_status;
	rc = check_module(ti, tdx, &ident, prefix, err);
	if (rc != ATTEST_OK)
		return rc;
	match_levels(ti, pck, tdx, &v);
	rc = evaluate_levels(ti, tdx, ident, qe_status, &v, prefix, err);
	if (rc == ATTEST_OK)
		rc = collect_advisories(&v, qe_level, prefix, err);
	if (rc != ATTEST_OK)
		return rc;
	*out = v;
	return ATTEST_OK;
}
