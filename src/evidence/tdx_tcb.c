/*
 * The TDX part of the TCB status (formats.md §3.5; Intel QVL
 * QuoteVerifier::verify 4.1.2.4.11 and checkTcbLevel 4.1.2.4.17,
 * TdxModuleCheck, TDRelaunchCheck).
 *
 * Inputs are views of already verified collateral (struct tdx_tcb_input);
 * nothing here parses or verifies a signature. The order of the checks is
 * QVL's, because the order decides which verdict a quote with several
 * problems gets.
 */
#include "evidence/tdx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum tdx_tcb_status s;
	const char *name;
} STATUS_NAMES[] = {
	{TDX_TCB_UP_TO_DATE, "UpToDate"},
	{TDX_TCB_SW_HARDENING_NEEDED, "SWHardeningNeeded"},
	{TDX_TCB_CONFIGURATION_NEEDED, "ConfigurationNeeded"},
	{TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, "ConfigurationAndSWHardeningNeeded"},
	{TDX_TCB_OUT_OF_DATE, "OutOfDate"},
	{TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, "OutOfDateConfigurationNeeded"},
	{TDX_TCB_REVOKED, "Revoked"},
	{TDX_TCB_TD_RELAUNCH_ADVISED, "TDRelaunchAdvised"},
	{TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, "TDRelaunchAdvisedConfigurationNeeded"},
	{TDX_TCB_NOT_SUPPORTED, "TcbLevelNotSupported"},
	{TDX_TCB_MODULE_MISMATCH, "TdxModuleMismatch"},
	{TDX_TCB_INFO_MISMATCH, "TcbInfoMismatch"},
	{TDX_TCB_UNRECOGNIZED, "UnrecognizedStatus"},
};

/* TCB Info level statuses (QVL VALID_TCB_INFO_STATUSES): the first seven. */
#define TCB_INFO_STATUS_COUNT 7

const char *tdx_tcb_status_str(enum tdx_tcb_status s)
{
	for (size_t i = 0; i < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]); i++)
		if (STATUS_NAMES[i].s == s)
			return STATUS_NAMES[i].name;
	return "UnrecognizedStatus";
}

enum tdx_tcb_status tdx_tcb_status_parse(const char *s)
{
	if (s == NULL)
		return TDX_TCB_UNRECOGNIZED;
	for (size_t i = 0; i < TCB_INFO_STATUS_COUNT; i++)
		if (strcmp(STATUS_NAMES[i].name, s) == 0)
			return STATUS_NAMES[i].s;
	return TDX_TCB_UNRECOGNIZED;
}

/* ---- ordering of TCB levels -------------------------------------------- */

/*
 * QVL keeps TCB levels in a std::set ordered by (SGX SVNs lexicographically,
 * PCESVN, TDX SVNs), highest first; two levels comparing equal are a
 * malformed TCB Info. Returns <0, 0, >0 like memcmp.
 */
static int level_cmp(const struct tdx_tcb_level *a, const struct tdx_tcb_level *b)
{
	int r = memcmp(a->sgx_svn, b->sgx_svn, sizeof(a->sgx_svn));

	if (r != 0)
		return r;
	if (a->pcesvn != b->pcesvn)
		return a->pcesvn < b->pcesvn ? -1 : 1;
	return memcmp(a->tdx_svn, b->tdx_svn, sizeof(a->tdx_svn));
}

static int level_ptr_cmp_desc(const void *pa, const void *pb)
{
	const struct tdx_tcb_level *a = *(const struct tdx_tcb_level *const *)pa;
	const struct tdx_tcb_level *b = *(const struct tdx_tcb_level *const *)pb;

	return -level_cmp(a, b);
}

static int module_level_cmp_desc(const void *pa, const void *pb)
{
	const struct tdx_module_level *a = *(const struct tdx_module_level *const *)pa;
	const struct tdx_module_level *b = *(const struct tdx_module_level *const *)pb;

	if (a->isvsvn != b->isvsvn)
		return a->isvsvn > b->isvsvn ? -1 : 1;
	/* Equal ISVSVNs keep document order (qsort is not stable: compare addresses). */
	return a < b ? -1 : (a > b);
}

/* ---- matching ------------------------------------------------------------ */

/* 4.1.2.4.17.1-2: every PCK component SVN and the PCESVN at least the level's. */
static bool sgx_matches(const struct tdx_tcb_input *in, const struct tdx_tcb_level *l)
{
	for (size_t i = 0; i < 16; i++)
		if (in->pck_sgx_svn[i] < l->sgx_svn[i])
			return false;
	return in->pck_pcesvn >= l->pcesvn;
}

/*
 * 4.1.2.4.17.3: TEE_TCB_SVN against tdxtcbcomponents. With a module major
 * version (byte 1 > 0) bytes 0 and 1 are judged by the module identity
 * instead, so they are skipped here.
 */
static bool tdx_matches(const uint8_t tee_tcb_svn[16], const struct tdx_tcb_level *l)
{
	size_t i = tee_tcb_svn[1] > 0 ? 2 : 0;

	for (; i < 16; i++)
		if (tee_tcb_svn[i] < l->tdx_svn[i])
			return false;
	return true;
}

/* "TDX_%02X" of the major version, compared with the identity id upper-cased. */
static const struct tdx_module_identity *find_identity(const struct tdx_tcb_input *in, uint8_t major)
{
	char want[8];

	snprintf(want, sizeof(want), "TDX_%02X", major);
	for (size_t i = 0; i < in->n_identities; i++) {
		const char *id = in->identities[i].id;
		size_t k = 0;

		if (id == NULL)
			continue;
		while (id[k] != '\0' && want[k] != '\0' && toupper((unsigned char)id[k]) == want[k])
			k++;
		if (id[k] == '\0' && want[k] == '\0')
			return &in->identities[i];
	}
	return NULL;
}

/*
 * 4.1.2.4.11: the TDX module that produced the report must be the one the
 * TCB Info describes: MRSIGNERSEAM equal to its mrsigner and SEAMATTRIBUTES
 * zero and equal to its attributes (QVL ignores attributesMask here).
 * Sets *ident to the identity of the module's major version, if any.
 */
static enum tdx_tcb_status check_module(const struct tdx_tcb_input *in,
					const struct tdx_module_identity **ident)
{
	const struct tdx_module_identity *m = in->tdx_module;
	const uint8_t *svn = in->td->tee_tcb_svn;

	*ident = NULL;
	if (in->quote_version > 3 && svn[1] > 0) {
		if (!in->has_identities)
			return TDX_TCB_INFO_MISMATCH;
		*ident = find_identity(in, svn[1]);
		if (*ident == NULL)
			return TDX_TCB_MODULE_MISMATCH;
		m = *ident;
	}
	if (m == NULL)
		return TDX_TCB_INFO_MISMATCH;
	if (memcmp(m->mrsigner, in->td->mrsignerseam, TDX_MR_SIZE) != 0)
		return TDX_TCB_MODULE_MISMATCH;
	for (size_t i = 0; i < 8; i++)
		if (in->td->seam_attributes[i] != 0 || in->td->seam_attributes[i] != m->attributes[i])
			return TDX_TCB_MODULE_MISMATCH;
	return TDX_TCB_UP_TO_DATE;
}

/* Module levels of ident, highest ISVSVN first, into sorted (n_levels slots). */
static void sort_module_levels(const struct tdx_module_identity *ident, const struct tdx_module_level **sorted)
{
	for (size_t i = 0; i < ident->n_levels; i++)
		sorted[i] = &ident->levels[i];
	qsort((void *)sorted, ident->n_levels, sizeof(*sorted), module_level_cmp_desc);
}

/*
 * 4.1.2.4.17.4.1 (QVL checkTdxModuleTcbStatus): with no major version the
 * module is UpToDate; otherwise the first level of its identity, highest
 * ISVSVN first, that TEE_TCB_SVN[0] reaches.
 */
static enum tdx_tcb_status module_status(const struct tdx_tcb_input *in, const struct tdx_module_identity *ident,
					 const struct tdx_module_level **level)
{
	const struct tdx_module_level *sorted[TDX_MAX_TCB_LEVELS];
	enum tdx_tcb_status s;

	*level = NULL;
	if (in->quote_version > 3 && in->td->tee_tcb_svn[1] == 0)
		return TDX_TCB_UP_TO_DATE;
	if (ident == NULL)
		return TDX_TCB_MODULE_MISMATCH;
	sort_module_levels(ident, sorted);
	for (size_t i = 0; i < ident->n_levels; i++) {
		if (in->td->tee_tcb_svn[0] >= sorted[i]->isvsvn) {
			*level = sorted[i];
			s = sorted[i]->status;
			/* QVL VALID_MODULE_TCB_STATUSES */
			if (s != TDX_TCB_UP_TO_DATE && s != TDX_TCB_OUT_OF_DATE && s != TDX_TCB_REVOKED)
				return TDX_TCB_UNRECOGNIZED;
			return s;
		}
	}
	return TDX_TCB_NOT_SUPPORTED;
}

static bool is_level_status(enum tdx_tcb_status s)
{
	return s <= TDX_TCB_REVOKED;
}

/* QVL convergeTcbStatusWithTdxModuleStatus. */
static enum tdx_tcb_status converge_module(enum tdx_tcb_status level, enum tdx_tcb_status module)
{
	if (module == TDX_TCB_OUT_OF_DATE) {
		if (level == TDX_TCB_UP_TO_DATE || level == TDX_TCB_SW_HARDENING_NEEDED)
			return TDX_TCB_OUT_OF_DATE;
		if (level == TDX_TCB_CONFIGURATION_NEEDED || level == TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (module == TDX_TCB_REVOKED)
		return TDX_TCB_REVOKED;
	return is_level_status(level) ? level : TDX_TCB_UNRECOGNIZED;
}

/* QVL convergeTcbStatusWithQeTcbStatus (formats.md §3.6). */
static enum tdx_tcb_status converge_qe(enum tdx_tcb_status level, enum tdx_qe_status qe)
{
	if (qe == TDX_QE_OUT_OF_DATE) {
		if (level == TDX_TCB_UP_TO_DATE || level == TDX_TCB_SW_HARDENING_NEEDED)
			return TDX_TCB_OUT_OF_DATE;
		if (level == TDX_TCB_CONFIGURATION_NEEDED || level == TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (qe == TDX_QE_REVOKED)
		return TDX_TCB_REVOKED;
	if (qe == TDX_QE_NOT_SUPPORTED)
		return TDX_TCB_NOT_SUPPORTED;
	if (is_level_status(level) || level == TDX_TCB_TD_RELAUNCH_ADVISED ||
	    level == TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED || level == TDX_TCB_NOT_SUPPORTED)
		return level;
	return TDX_TCB_UNRECOGNIZED;
}

static bool config_needed(enum tdx_tcb_status s)
{
	return s == TDX_TCB_CONFIGURATION_NEEDED || s == TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	       s == TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	       s == TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

static uint16_t highest_isvsvn(const struct tdx_module_identity *ident)
{
	uint16_t best = 0;

	for (size_t i = 0; i < ident->n_levels; i++)
		if (ident->levels[i].isvsvn > best)
			best = ident->levels[i].isvsvn;
	return best;
}

/*
 * 4.1.2.4.17.4.3 (QVL checkForRelaunch), TDX 1.5 bodies only: a TD whose
 * platform is current but which still runs on the module it was launched
 * on is told to relaunch when TEE_TCB_SVN2 (the module it would get now)
 * reaches the newest level. `latest` is the highest TCB level.
 */
static enum tdx_tcb_status check_relaunch(const struct tdx_tcb_input *in, const struct tdx_tcb_level *latest,
					  enum tdx_tcb_status sgx, enum tdx_tcb_status tdx,
					  enum tdx_tcb_status module)
{
	const uint8_t *svn2 = in->td->tee_tcb_svn2;
	bool reaches;

	if (in->qe_status != TDX_QE_UP_TO_DATE)
		return tdx;
	if (sgx != TDX_TCB_UP_TO_DATE && sgx != TDX_TCB_SW_HARDENING_NEEDED && sgx != TDX_TCB_CONFIGURATION_NEEDED &&
	    sgx != TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
		return tdx;
	if (tdx != TDX_TCB_OUT_OF_DATE && tdx != TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
		return tdx;
	if (module != TDX_TCB_OUT_OF_DATE)
		return tdx;
	if (latest == NULL)
		return TDX_TCB_NOT_SUPPORTED;
	if (svn2[1] == 0) {
		reaches = svn2[0] >= latest->tdx_svn[0] && svn2[2] >= latest->tdx_svn[2];
	} else {
		const struct tdx_module_identity *id2 = find_identity(in, svn2[1]);

		if (id2 == NULL)
			return TDX_TCB_MODULE_MISMATCH;
		if (id2->n_levels == 0)
			return TDX_TCB_NOT_SUPPORTED;
		reaches = svn2[0] >= highest_isvsvn(id2) && svn2[2] >= latest->tdx_svn[2];
	}
	if (!reaches)
		return tdx;
	return config_needed(sgx) || config_needed(tdx) ? TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
							 : TDX_TCB_TD_RELAUNCH_ADVISED;
}

/* Appends ids not yet in out (dcap-qvl's merge keeps first-seen order). */
static int add_advisories(struct tdx_tcb_result *out, const char *const *ids, size_t n, struct attest_err *err)
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < out->n_advisory_ids && !seen; k++)
			seen = strcmp(out->advisory_ids[k], ids[i]) == 0;
		if (seen)
			continue;
		if (out->n_advisory_ids == TDX_MAX_ADVISORY_IDS)
			return attest_err_set(err, ATTEST_E_NOMEM, "tdx.tcbinfo.too_many_advisories",
					      "more than %d advisory IDs", TDX_MAX_ADVISORY_IDS);
		out->advisory_ids[out->n_advisory_ids++] = ids[i];
	}
	return ATTEST_OK;
}

static int collect_advisories(const struct tdx_tcb_input *in, struct tdx_tcb_result *out, struct attest_err *err)
{
	int rc = ATTEST_OK;

	if (out->tdx_level != NULL)
		rc = add_advisories(out, out->tdx_level->advisory_ids, out->tdx_level->n_advisory_ids, err);
	if (rc == ATTEST_OK && out->module_level != NULL)
		rc = add_advisories(out, out->module_level->advisory_ids, out->module_level->n_advisory_ids, err);
	if (rc == ATTEST_OK)
		rc = add_advisories(out, in->qe_advisory_ids, in->n_qe_advisory_ids, err);
	return rc;
}

/* Sorts the levels highest first into sorted[]; refuses duplicates. */
static int sort_levels(const struct tdx_tcb_input *in, const struct tdx_tcb_level **sorted, struct attest_err *err)
{
	if (in->n_levels > TDX_MAX_TCB_LEVELS)
		return attest_err_set(err, ATTEST_E_NOMEM, "tdx.tcbinfo.too_many_levels",
				      "TCB Info has %zu TCB levels (at most %d)", in->n_levels, TDX_MAX_TCB_LEVELS);
	for (size_t i = 0; i < in->n_levels; i++)
		sorted[i] = &in->levels[i];
	qsort((void *)sorted, in->n_levels, sizeof(*sorted), level_ptr_cmp_desc);
	for (size_t i = 1; i < in->n_levels; i++)
		if (level_cmp(sorted[i - 1], sorted[i]) == 0)
			return attest_err_set(err, ATTEST_E_COLLATERAL, "tdx.tcbinfo.duplicate_level",
					      "TCB Info lists two TCB levels with the same SVNs");
	return ATTEST_OK;
}

/* 4.1.2.4.17: from the matched levels to the converged status. */
static enum tdx_tcb_status evaluate_levels(const struct tdx_tcb_input *in, const struct tdx_tcb_level **sorted,
					   const struct tdx_module_identity *ident, struct tdx_tcb_result *out)
{
	enum tdx_tcb_status tdx;

	for (size_t i = 0; i < in->n_levels && out->tdx_level == NULL; i++) {
		if (!sgx_matches(in, sorted[i]))
			continue;
		if (out->sgx_level == NULL)
			out->sgx_level = sorted[i];
		if (tdx_matches(in->td->tee_tcb_svn, sorted[i]))
			out->tdx_level = sorted[i];
	}
	if (out->sgx_level == NULL || out->tdx_level == NULL)
		return TDX_TCB_NOT_SUPPORTED;
	out->sgx_status = out->sgx_level->status;
	out->tdx_level_status = out->tdx_level->status;
	if (!is_level_status(out->sgx_status) || !is_level_status(out->tdx_level_status))
		return TDX_TCB_UNRECOGNIZED;

	out->module_status = module_status(in, ident, &out->module_level);
	if (out->module_status == TDX_TCB_NOT_SUPPORTED || out->module_status == TDX_TCB_MODULE_MISMATCH ||
	    out->module_status == TDX_TCB_UNRECOGNIZED)
		return out->module_status;
	out->module_identity = ident;

	tdx = converge_module(out->tdx_level_status, out->module_status);
	if (tdx == TDX_TCB_REVOKED)
		return tdx;
	if (in->td->body_type == TDX_BODY_TYPE_TD15)
		tdx = check_relaunch(in, in->n_levels > 0 ? sorted[0] : NULL, out->sgx_status, tdx,
				     out->module_status);
	return converge_qe(tdx, in->qe_status);
}

int tdx_tcb_evaluate(const struct tdx_tcb_input *in, struct tdx_tcb_result *out, struct attest_err *err)
{
	const struct tdx_tcb_level *sorted[TDX_MAX_TCB_LEVELS];
	const struct tdx_module_identity *ident;
	struct tdx_tcb_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.sgx_status = r.tdx_level_status = r.module_status = TDX_TCB_NOT_SUPPORTED;
	if (in == NULL || in->td == NULL || in->pck_sgx_svn == NULL || (in->n_levels > 0 && in->levels == NULL))
		return attest_err_set(err, ATTEST_E_INVALID, "tdx.tcb.argument", "incomplete TCB input");
	for (size_t i = 0; i < in->n_identities; i++)
		if (in->identities[i].n_levels > TDX_MAX_TCB_LEVELS)
			return attest_err_set(err, ATTEST_E_NOMEM, "tdx.tcbinfo.too_many_levels",
					      "TDX module identity has %zu levels (at most %d)",
					      in->identities[i].n_levels, TDX_MAX_TCB_LEVELS);
	rc = sort_levels(in, sorted, err);
	if (rc != ATTEST_OK)
		return rc;

	r.status = check_module(in, &ident);
	if (r.status == TDX_TCB_UP_TO_DATE)
		r.status = evaluate_levels(in, sorted, ident, &r);
	rc = collect_advisories(in, &r, err);
	if (rc != ATTEST_OK)
		return rc;
	*out = r;
	return ATTEST_OK;
}
