/*
 * Early TCB warnings and SGX TCB baselines (issue 12; intel.h,
 * docs/claims-sgx.md, docs/claims-tdx.md, docs/tcb-baselines.md) on the
 * synthetic Intel platform: an early TCB Info that demotes the platform
 * adds the x-attestd-early-tcb-* claims naming the component behind, one
 * that does not adds nothing, one that does not verify is a warning and
 * never a refusal; a provider's baseline is honoured by evaluation against
 * its numbered set where the source serves it, by the number of the
 * standard set otherwise. The real vectors keep their verdicts under every
 * documented baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devplat_fixture.h"
#include "testutil.h"

#include "sgx_vectors.h"
#include "tdx_vectors.h"

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "devplat/intel.h"
#include "devplat/tdx.h"
#include "evidence/sgx.h"
#include "evidence/tdx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1750377600LL /* 2025-06-20 */
#define DAY 86400LL

#define COMPS  DEVPLAT_FIXTURE_COMPS
#define PCESVN DEVPLAT_FIXTURE_PCESVN

struct world {
	struct devplat_fixture f;
	bool tdx;
};

/* The SGX levels of the standard set: the platform exactly at the newest (UpToDate). */
static void sgx_levels(struct intel_devplat_tcb_level l[2], const char *status)
{
	memset(l, 0, 2 * sizeof(*l));
	memcpy(l[0].sgx, COMPS, 16);
	l[0].pcesvn = PCESVN;
	l[0].status = status;
	memcpy(l[1].sgx, COMPS, 16);
	l[1].sgx[0] = 1;
	l[1].pcesvn = 5;
	l[1].status = "OutOfDate";
	l[1].advisories = "INTEL-SA-00001";
}

static void sgx_spec(struct intel_devplat_tcb_info *ti, const struct intel_devplat_tcb_level *l, int64_t eval)
{
	memset(ti, 0, sizeof(*ti));
	ti->version = 3;
	ti->id = "SGX";
	ti->levels = l;
	ti->n_levels = 2;
	ti->eval_num = eval;
}

static void world_up(struct world *w, bool tdx)
{
	struct intel_devplat_opts o;

	memset(w, 0, sizeof(*w));
	w->tdx = tdx;
	devplat_fixture_opts(&o, NOW);
	if (tdx) {
		o.ca = PCK_CA_PLATFORM;
		memcpy(o.fmspc, "\x90\xc0\x6f\x00\x00\x00", 6);
	}
	assert_int_equal(devplat_fixture_up(&w->f, &o, NOW, "early", 32), ATTEST_OK);
}

static void world_down(struct world *w)
{
	devplat_fixture_down(&w->f);
}

/* Writes the standard set: TCB Info `ti` and the default (TD) QE identity, CRLs and chains. */
static void world_standard(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	struct intel_devplat_qe_identity qi;

	if (w->tdx)
		tdx_devplat_td_qe_identity_default(&qi);
	else
		intel_devplat_qe_identity_default(&qi);
	assert_int_equal(devplat_fixture_write_standard(&w->f, ti, &qi, 0, 0), ATTEST_OK);
}

/* Writes the default QE identity as the numbered set `eval` (saying `says`). */
static void world_qe_numbered(struct world *w, uint32_t eval, int64_t says)
{
	struct collateral_select sel = {COLLATERAL_UPDATE_STANDARD, eval};
	struct intel_devplat_qe_identity qi;
	char *b = NULL;
	size_t n = 0;

	intel_devplat_qe_identity_default(&qi);
	qi.eval_num = says;
	assert_int_equal(intel_devplat_qe_identity(w->f.p, &qi, &b, &n, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_selected(w->f.dir, false, &sel, b, n, NULL), ATTEST_OK);
	free(b);
}

/* Writes a selected TCB Info body. */
static void world_selected(struct world *w, uint32_t eval_num, char *body, size_t len)
{
	struct collateral_select sel = {eval_num ? COLLATERAL_UPDATE_STANDARD : COLLATERAL_UPDATE_EARLY,
					eval_num};

	assert_non_null(body);
	assert_int_equal(intel_devplat_write_selected(w->f.dir, true, &sel, body, len, NULL), ATTEST_OK);
	free(body);
}

/* The early set that raises `component` of the standard set `base`. */
static void world_early_demoting(struct world *w, const struct intel_devplat_tcb_info *base, int component)
{
	char *b = NULL;
	size_t l = 0;

	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, base, component, 0, &b, &l, NULL),
			 ATTEST_OK);
	world_selected(w, 0, b, l);
}

/* Verifies the platform's default SGX quote. */
static int sgx_attest(struct world *w, struct claim_set *cs, struct attest_err *err)
{
	struct evidence_input in = {0};
	uint8_t *q = NULL;
	size_t len = 0;
	int rc;

	assert_int_equal(devplat_fixture_sgx_quote(w->f.p, 3, &q, &len), ATTEST_OK);
	in.evidence = q;
	in.evidence_len = len;
	attest_err_clear(err);
	rc = sgx_verify(&w->f.ctx, &in, cs, err);
	free(q);
	return rc;
}

static const char *str_claim(const struct claim_set *cs, const char *name)
{
	return json_string_value(claim_set_get(cs, name));
}

static void expect_no_early_claims(const struct claim_set *cs)
{
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-status"));
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-evaluationdatanumber"));
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-behind"));
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-advisory-ids"));
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-warning"));
}

/* The one entry of x-attestd-early-tcb-behind: component, index (-1: none), svn, required. */
static void expect_behind(const struct claim_set *cs, const char *component, int index, int svn, int required)
{
	const json_t *b = claim_set_get(cs, "x-attestd-early-tcb-behind"), *it;

	assert_true(json_is_array(b));
	assert_int_equal(json_array_size(b), 1);
	it = json_array_get(b, 0);
	assert_string_equal(json_string_value(json_object_get(it, "component")), component);
	if (index >= 0)
		assert_int_equal(json_integer_value(json_object_get(it, "index")), index);
	else
		assert_null(json_object_get(it, "index"));
	assert_int_equal(json_integer_value(json_object_get(it, "svn")), svn);
	assert_int_equal(json_integer_value(json_object_get(it, "required")), required);
}

/* ---- early TCB, SGX ------------------------------------------------------------ */

static void an_early_set_that_demotes_the_platform_names_the_component_behind(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	world_early_demoting(&w, &ti, 2);
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	/* The standard verdict is unchanged ... */
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	/* ... and the early set says what is coming. */
	assert_string_equal(str_claim(cs, "x-attestd-early-tcb-status"), "OutOfDate");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-attestd-early-tcb-evaluationdatanumber")),
			 18);
	expect_behind(cs, "sgx", 2, COMPS[2], COMPS[2] + 1);
	assert_string_equal(
	    json_string_value(json_array_get(claim_set_get(cs, "x-attestd-early-tcb-advisory-ids"), 0)),
	    "INTEL-SA-EARLY");
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-warning"));
	claim_set_free(cs);
	world_down(&w);
}

static void an_early_set_that_raises_the_pcesvn_names_it(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "SWHardeningNeeded");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	world_early_demoting(&w, &ti, -1);
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "SWHardeningNeeded");
	assert_string_equal(str_claim(cs, "x-attestd-early-tcb-status"), "OutOfDate");
	expect_behind(cs, "pcesvn", -1, PCESVN, PCESVN + 1);
	claim_set_free(cs);
	world_down(&w);
}

static void an_early_set_that_does_not_demote_adds_no_claims(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti, early;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;
	char *b = NULL;
	size_t n = 0;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	early = ti;
	early.eval_num = 18; /* a newer set in which this platform stays current */
	assert_int_equal(intel_devplat_tcb_info(w.f.p, &early, &b, &n, NULL), ATTEST_OK);
	world_selected(&w, 0, b, n);
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	expect_no_early_claims(cs);
	claim_set_free(cs);
	world_down(&w);
}

static void without_an_early_set_there_are_no_early_claims(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	expect_no_early_claims(cs);
	claim_set_free(cs);
	world_down(&w);
}

/* Verifies with an early set prepared by `spoil`; expects the standard verdict and the warning `name`. */
static void expect_warning(void (*spoil)(struct world *, const struct intel_devplat_tcb_info *),
			   const char *name)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;
	const char *warning;

	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	spoil(&w, &ti);
	if (sgx_attest(&w, cs, &err) != ATTEST_OK)
		fail_msg("an early set refused the verdict: %s: %s", err.name, err.msg);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	assert_null(claim_set_get(cs, "x-attestd-early-tcb-status"));
	warning = str_claim(cs, "x-attestd-early-tcb-warning");
	assert_non_null(warning);
	/* The code only: messages can name the upstream. */
	if (strcmp(warning, name) != 0)
		fail_msg("warning \"%s\" is not %s", warning, name);
	claim_set_free(cs);
	world_down(&w);
}

static void spoil_signature(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	char *b = NULL, *sig;
	size_t n = 0;

	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, ti, 2, 0, &b, &n, NULL), ATTEST_OK);
	sig = strstr(b, "\"signature\":\"");
	assert_non_null(sig);
	sig += strlen("\"signature\":\"");
	*sig = *sig == '0' ? '1' : '0'; /* another value whatever the case of the hex */
	world_selected(w, 0, b, n);
}

static void spoil_expired(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	struct intel_devplat_tcb_info old = *ti;
	char *b = NULL;
	size_t n = 0;

	old.issue_date = NOW - 40 * DAY;
	old.next_update = NOW - 10 * DAY;
	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, &old, 2, 0, &b, &n, NULL), ATTEST_OK);
	world_selected(w, 0, b, n);
}

static void spoil_fmspc(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	static const uint8_t other[6] = {0x00, 0x60, 0x6a, 0x00, 0x00, 0x00};
	struct intel_devplat_tcb_info f = *ti;
	char *b = NULL;
	size_t n = 0;

	f.fmspc = other;
	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, &f, 2, 0, &b, &n, NULL), ATTEST_OK);
	world_selected(w, 0, b, n);
}

static void spoil_older(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	char *b = NULL;
	size_t n = 0;

	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, ti, 2, 16, &b, &n, NULL), ATTEST_OK);
	world_selected(w, 0, b, n);
}

static void tdx_spec(struct intel_devplat_tcb_info *ti, struct intel_devplat_module *mod);

/* A well-formed TDX TCB Info for this FMSPC is still not an SGX platform's. */
static void spoil_tdx_id(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	struct intel_devplat_tcb_info t;
	struct intel_devplat_module mod;
	char *b = NULL;
	size_t n = 0;

	(void)ti;
	tdx_spec(&t, &mod);
	t.fmspc = NULL;
	assert_int_equal(intel_devplat_tcb_info_demoting(w->f.p, &t, 2, 0, &b, &n, NULL), ATTEST_OK);
	world_selected(w, 0, b, n);
}

static void spoil_foreign_signer(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	struct intel_devplat_opts o;
	struct intel_devplat *other = NULL;
	char *b = NULL;
	size_t n = 0;

	intel_devplat_opts_default(&o, NOW);
	memcpy(o.comp_svn, COMPS, 16);
	o.pcesvn = PCESVN;
	assert_int_equal(intel_devplat_new(&o, &other, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_tcb_info_demoting(other, ti, 2, 0, &b, &n, NULL), ATTEST_OK);
	intel_devplat_free(other);
	world_selected(w, 0, b, n);
}

static void spoil_garbage(struct world *w, const struct intel_devplat_tcb_info *ti)
{
	(void)ti;
	world_selected(w, 0, strdup("{\"tcbInfo\":"), strlen("{\"tcbInfo\":"));
}

static void an_early_set_that_does_not_verify_is_a_warning_never_a_refusal(void **state)
{
	(void)state;
	expect_warning(spoil_signature, "sgx.tcbinfo.signature");
	expect_warning(spoil_expired, "sgx.tcbinfo.expired");
	expect_warning(spoil_fmspc, "sgx.tcbinfo.fmspc");
	expect_warning(spoil_older, "sgx.tcbinfo.early_older");
	expect_warning(spoil_tdx_id, "sgx.tcbinfo.id");
	expect_warning(spoil_garbage, "sgx.tcbinfo.parse");
}

static void an_early_set_signed_by_a_foreign_key_is_a_warning(void **state)
{
	(void)state;
	/* The foreign set's signature does not verify under this folder's TCB Signing chain. */
	expect_warning(spoil_foreign_signer, "sgx.tcbinfo.signature");
}

/* A warm second verification reuses the verified early set and says the same. */
static void the_early_verdict_is_the_same_from_the_cache(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct attest_err err;
	struct world w;
	uint64_t h1, m1, h2, m2;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	world_early_demoting(&w, &ti, 4);
	for (int i = 0; i < 2; i++) {
		struct claim_set *cs = claim_set_new();

		assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
		assert_string_equal(str_claim(cs, "x-attestd-early-tcb-status"), "OutOfDate");
		expect_behind(cs, "sgx", 4, COMPS[4], COMPS[4] + 1);
		claim_set_free(cs);
		if (i == 0)
			collateral_cache_stats(w.f.cache, &h1, &m1);
	}
	collateral_cache_stats(w.f.cache, &h2, &m2);
	assert_int_equal(m2, m1); /* nothing verified again */
	world_down(&w);
}

/* ---- early TCB, TDX ------------------------------------------------------------ */

static const struct intel_devplat_module_level MODULE_LEVELS[] = {
    {4, "UpToDate", NULL},
    {2, "OutOfDate", "INTEL-SA-00077"},
};

static const struct intel_devplat_tcb_level TDX_LEVELS[] = {
    {{5, 5, 2, 4, 1, 128, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0}, PCESVN, true, {4, 1, 3}, "UpToDate", NULL, NULL},
    {{1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 5, true, {0}, "OutOfDate", "INTEL-SA-00004", NULL},
};

static void tdx_spec(struct intel_devplat_tcb_info *ti, struct intel_devplat_module *mod)
{
	memset(mod, 0, sizeof(*mod));
	mod->id = "TDX_01";
	mod->levels = MODULE_LEVELS;
	mod->n_levels = 2;
	tdx_devplat_tcb_info_default(ti, TDX_LEVELS, 2, mod, 1);
}

/* A v5 TDX 1.5 quote with TEE_TCB_SVN (module isvsvn, module major 1, 3). */
static int tdx_attest(struct world *w, uint8_t module_svn, struct claim_set *cs, struct attest_err *err)
{
	struct tdx_devplat_td td;
	struct evidence_input in = {0};
	uint8_t *q = NULL;
	size_t qlen = 0;
	int rc;

	tdx_devplat_td_default(&td);
	td.body_type = QUOTE_BODY_TD15;
	td.tee_tcb_svn[0] = module_svn;
	td.tee_tcb_svn[1] = 1;
	td.tee_tcb_svn[2] = 3;
	memcpy(td.tee_tcb_svn2, td.tee_tcb_svn, 16);
	assert_int_equal(tdx_devplat_make_quote(w->f.p, 5, &td, NULL, 0, &q, &qlen, NULL), ATTEST_OK);
	in.evidence = q;
	in.evidence_len = qlen;
	attest_err_clear(err);
	rc = tdx_verify(&w->f.ctx, &in, cs, err);
	free(q);
	return rc;
}

static void a_td_behind_on_a_tdx_component_of_the_early_set_is_told(void **state)
{
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_module mod;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, true);
	tdx_spec(&ti, &mod);
	world_standard(&w, &ti);
	world_early_demoting(&w, &ti, 16 + 2); /* TEE_TCB_SVN[2] 3 -> 4 */
	if (tdx_attest(&w, 4, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(str_claim(cs, "attester_tcb_status"), "UpToDate");
	assert_string_equal(str_claim(cs, "x-attestd-early-tcb-status"), "OutOfDate");
	expect_behind(cs, "tdx", 2, 3, 4);
	claim_set_free(cs);
	world_down(&w);
}

static void a_td_on_an_old_module_is_told_which_module_svn_the_early_set_wants(void **state)
{
	static const struct intel_devplat_module_level early_module[] = {
	    {6, "UpToDate", NULL},
	    {4, "OutOfDate", "INTEL-SA-EARLY"},
	};
	struct intel_devplat_tcb_info ti, early;
	struct intel_devplat_module mod, emod;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;
	char *b = NULL;
	size_t n = 0;

	(void)state;
	world_up(&w, true);
	tdx_spec(&ti, &mod);
	world_standard(&w, &ti);
	early = ti;
	emod = mod;
	emod.levels = early_module;
	early.modules = &emod;
	early.eval_num = 18;
	assert_int_equal(intel_devplat_tcb_info(w.f.p, &early, &b, &n, NULL), ATTEST_OK);
	world_selected(&w, 0, b, n);
	if (tdx_attest(&w, 4, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(str_claim(cs, "attester_tcb_status"), "UpToDate");
	assert_string_equal(str_claim(cs, "x-attestd-early-tcb-status"), "OutOfDate");
	expect_behind(cs, "tdx_module", 0, 4, 6);
	claim_set_free(cs);
	world_down(&w);
}

static void a_td_is_not_subject_to_the_sgx_baseline(void **state)
{
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_module mod;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, true);
	tdx_spec(&ti, &mod);
	world_standard(&w, &ti);
	w.f.ctx.sgx_tcb_baseline = 99;
	if (tdx_attest(&w, 4, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(str_claim(cs, "attester_tcb_status"), "UpToDate");
	expect_no_early_claims(cs);
	claim_set_free(cs);
	world_down(&w);
}

/* ---- SGX TCB baselines --------------------------------------------------------- */

/*
 * Standard set 17 (status std) and, when num > 0, numbered set `num`: its
 * TCB Info (status at_num, saying num_says, 0: num) and, when with_qe, its
 * QE identity (saying the same).
 */
static void world_sgx_sets(struct world *w, const char *std, uint32_t num, const char *at_num,
			   int64_t num_says, bool with_qe)
{
	struct intel_devplat_tcb_level l[2], ln[2];
	struct intel_devplat_tcb_info ti, tn;
	char *b = NULL;
	size_t n = 0;

	sgx_levels(l, std);
	sgx_spec(&ti, l, 17);
	world_standard(w, &ti);
	if (num == 0)
		return;
	sgx_levels(ln, at_num);
	sgx_spec(&tn, ln, num_says ? num_says : num);
	assert_int_equal(intel_devplat_tcb_info(w->f.p, &tn, &b, &n, NULL), ATTEST_OK);
	world_selected(w, num, b, n);
	if (with_qe)
		world_qe_numbered(w, num, num_says ? num_says : num);
}

/* Standard set 17 (status std), numbered set `num` (status at_num; 0: none written). */
static int baseline_run(uint32_t baseline, const char *std, uint32_t num, const char *at_num,
			int64_t num_says, struct claim_set *cs, struct attest_err *err)
{
	struct world w;
	int rc;

	world_up(&w, false);
	world_sgx_sets(&w, std, num, at_num, num_says, true);
	w.f.ctx.sgx_tcb_baseline = baseline;
	rc = sgx_attest(&w, cs, err);
	world_down(&w);
	return rc;
}

static void a_served_baseline_set_refuses_a_platform_out_of_date_under_it(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	assert_int_equal(baseline_run(15, "UpToDate", 15, "OutOfDate", 0, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.tcb.below_baseline");
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
}

static void a_served_baseline_set_is_what_the_verdict_is_evaluated_against(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	/* OutOfDate under the newest set 17, ConfigurationNeeded under the provider's baseline 15. */
	assert_int_equal(baseline_run(15, "OutOfDate", 15, "ConfigurationNeeded", 0, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "ConfigurationNeeded");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 15);
	claim_set_free(cs);
}

/* A PCCS that ignores tcbEvaluationDataNumber answers with another set: not set N, not used. */
static void a_set_served_for_a_number_that_says_another_is_not_used(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	assert_int_equal(baseline_run(15, "SWHardeningNeeded", 15, "OutOfDate", 16, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "SWHardeningNeeded");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	claim_set_free(cs);
	/* ... and the standard set must then be as new as the baseline itself. */
	cs = claim_set_new();
	assert_int_equal(baseline_run(18, "UpToDate", 18, "UpToDate", 17, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.tcb.baseline_collateral");
	claim_set_free(cs);
}

/* Absence is judged by the source's return code, not by an error record the caller left filled. */
static void a_filled_error_record_does_not_turn_an_absent_set_into_a_refusal(void **state)
{
	struct intel_devplat_tcb_level l[2];
	struct intel_devplat_tcb_info ti;
	struct evidence_input in = {0};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;
	uint8_t *q = NULL;
	size_t len = 0;

	(void)state;
	world_up(&w, false);
	sgx_levels(l, "UpToDate");
	sgx_spec(&ti, l, 17);
	world_standard(&w, &ti);
	w.f.ctx.sgx_tcb_baseline = 15; /* set 15 is not served */
	assert_int_equal(devplat_fixture_sgx_quote(w.f.p, 3, &q, &len), ATTEST_OK);
	in.evidence = q;
	in.evidence_len = len;
	attest_err_clear(&err);
	attest_err_set(&err, ATTEST_E_IO, "caller.stale", "left over from an earlier call");
	assert_int_equal(sgx_verify(&w.f.ctx, &in, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	free(q);
	claim_set_free(cs);
	world_down(&w);
}

/* Set N is used whole or not at all: its TCB Info without its QE identity is not used. */
static void half_a_numbered_set_is_not_used(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, false);
	world_sgx_sets(&w, "UpToDate", 15, "OutOfDate", 0, false);
	w.f.ctx.sgx_tcb_baseline = 15;
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	claim_set_free(cs);
	/* The QE identity of set 15 alone is not used either. */
	world_down(&w);
	world_up(&w, false);
	world_sgx_sets(&w, "UpToDate", 0, NULL, 0, false);
	world_qe_numbered(&w, 15, 15);
	w.f.ctx.sgx_tcb_baseline = 15;
	cs = claim_set_new();
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	claim_set_free(cs);
	world_down(&w);
}

/* Azure's default baseline is a floor on the standard set: no numbered set is asked for. */
static void a_floor_baseline_asks_for_no_numbered_set(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	struct world w;

	(void)state;
	world_up(&w, false);
	world_sgx_sets(&w, "UpToDate", 10, "OutOfDate", 0, true);
	w.f.ctx.sgx_tcb_baseline = 10;
	w.f.ctx.sgx_tcb_baseline_floor = true;
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "UpToDate");
	claim_set_free(cs);
	/* The same baseline chosen explicitly is evaluated against set 10, where the platform is behind. */
	cs = claim_set_new();
	w.f.ctx.sgx_tcb_baseline_floor = false;
	assert_int_equal(sgx_attest(&w, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.tcb.below_baseline");
	claim_set_free(cs);
	world_down(&w);
}

static void without_the_numbered_set_the_standard_set_must_be_as_new_as_the_baseline(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	assert_int_equal(baseline_run(18, "UpToDate", 0, NULL, 0, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.tcb.baseline_collateral");
	claim_set_free(cs);
	cs = claim_set_new();
	/* Newer than the baseline: the standard verdict stands, OutOfDate included. */
	assert_int_equal(baseline_run(10, "OutOfDate", 0, NULL, 0, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "OutOfDate");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	claim_set_free(cs);
}

static void a_standard_set_that_is_the_baseline_refuses_out_of_date(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	assert_int_equal(baseline_run(17, "OutOfDate", 0, NULL, 0, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.tcb.below_baseline");
	claim_set_free(cs);
	cs = claim_set_new();
	assert_int_equal(baseline_run(17, "SWHardeningNeeded", 0, NULL, 0, cs, &err), ATTEST_OK);
	claim_set_free(cs);
}

static void no_baseline_leaves_the_verdict_alone(void **state)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	(void)state;
	/* A numbered set lying around is not used without a baseline. */
	assert_int_equal(baseline_run(0, "OutOfDate", 15, "UpToDate", 0, cs, &err), ATTEST_OK);
	assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), "OutOfDate");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-tcb-evaluation-data-number")), 17);
	claim_set_free(cs);
}

/* ---- real vectors ---------------------------------------------------------------- */

/* Verifies vector v (its quote as SgxEnclave) under baseline; claims into cs. */
static int real_verify(const char *dir, const struct sgx_vector *v, uint32_t baseline, struct claim_set *cs,
		       struct attest_err *err)
{
	struct test_intel_ctx t;
	struct evidence_input in = {0};
	size_t qlen = 0;
	uint8_t *q = test_read_vector(dir, v->quote, &qlen);
	int rc;

	assert_non_null(q);
	assert_int_equal(test_intel_ctx_init(&t, dir, v->collateral, v->now), 0);
	t.ctx.sgx_tcb_baseline = baseline;
	in.evidence = q;
	in.evidence_len = qlen;
	attest_err_clear(err);
	rc = sgx_verify(&t.ctx, &in, cs, err);
	test_intel_ctx_free(&t);
	free(q);
	return rc;
}

/*
 * EXPECTED.md's verdict of every real SGX and OE quote stands under no
 * baseline, under Azure's default 10, and under the vector's own evaluation
 * data number unless the quote is OutOfDate there (then below it); a
 * baseline newer than the vector's collateral cannot be proven.
 */
static void every_real_sgx_vector_keeps_its_verdict_under_the_baselines_its_collateral_proves(void **state)
{
	REQUIRE_VECTORS(dir);

	(void)state;
	for (size_t i = 0; i < N_SGX_VECTORS; i++) {
		const struct sgx_vector *v = &SGX_VECTORS[i];
		const uint32_t ok[] = {0, 10, (uint32_t)v->eval_num};
		bool out_of_date = strcmp(v->status, "OutOfDate") == 0;
		struct claim_set *cs;
		struct attest_err err;

		for (size_t k = 0; k < 3; k++) {
			cs = claim_set_new();
			if (k == 2 && out_of_date) {
				assert_int_equal(real_verify(dir, v, ok[k], cs, &err), ATTEST_E_VERIFY);
				assert_string_equal(err.name, "sgx.tcb.below_baseline");
			} else {
				if (real_verify(dir, v, ok[k], cs, &err) != ATTEST_OK)
					fail_msg("%s under baseline %u: %s: %s", v->quote, ok[k], err.name,
						 err.msg);
				assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), v->status);
				assert_int_equal(json_integer_value(claim_set_get(
						     cs, "x-ms-sgx-tcb-evaluation-data-number")),
						 v->eval_num);
				expect_no_early_claims(cs);
			}
			claim_set_free(cs);
		}
		cs = claim_set_new();
		assert_int_not_equal(real_verify(dir, v, (uint32_t)v->eval_num + 1, cs, &err), ATTEST_OK);
		assert_string_equal(err.name, "sgx.tcb.baseline_collateral");
		claim_set_free(cs);
	}
}

/*
 * A folder of symlinks to every file of the vector folder src, plus
 * tcb_info_early.json -> early (a file below the vectors folder).
 */
static void link_folder(const char *vectors, const char *src, const char *early, char *tmp, size_t cap)
{
	char from[2048], to[2048];
	struct dirent *e;
	DIR *d;

	snprintf(tmp, cap, "/tmp/attest-early-real-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(from, sizeof(from), "%s/%s", vectors, src);
	assert_non_null(d = opendir(from));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s/%s", vectors, src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", tmp, e->d_name);
		assert_int_equal(symlink(from, to), 0);
	}
	closedir(d);
	snprintf(from, sizeof(from), "%s/%s", vectors, early);
	snprintf(to, sizeof(to), "%s/tcb_info_early.json", tmp);
	assert_int_equal(symlink(from, to), 0);
}

/* Real Intel-signed early sets: the same set adds nothing; one not yet valid is a warning. */
static void real_early_sets_never_change_a_real_verdict(void **state)
{
	REQUIRE_VECTORS(dir);
	const struct sgx_vector *v = &SGX_VECTORS[0]; /* 2023-11, set 16 */
	struct evidence_input in = {0};
	struct claim_set *cs;
	struct attest_err err;
	char tmp[64];
	size_t qlen = 0;
	uint8_t *q;

	(void)state;
	/* SGX: set 17 of 2025 offered as early in 2023 is not valid yet. */
	link_folder(dir, v->collateral, "sgx/phala-sgx-v3-00a067110000-2025-06/tcb_info.json", tmp,
		    sizeof(tmp));
	{
		struct test_intel_ctx t;

		q = test_read_vector(dir, v->quote, &qlen);
		assert_int_equal(test_intel_ctx_init(&t, "", tmp, v->now), 0);
		cs = claim_set_new();
		in.evidence = q;
		in.evidence_len = qlen;
		attest_err_clear(&err);
		if (sgx_verify(&t.ctx, &in, cs, &err) != ATTEST_OK)
			fail_msg("%s: %s", err.name, err.msg);
		assert_string_equal(str_claim(cs, "x-ms-sgx-tcb-status"), v->status);
		assert_null(claim_set_get(cs, "x-attestd-early-tcb-status"));
		assert_string_equal(str_claim(cs, "x-attestd-early-tcb-warning"),
				    "sgx.tcbinfo.not_yet_valid");
		claim_set_free(cs);
		test_intel_ctx_free(&t);
		free(q);
	}
	devplat_fixture_rmdir(tmp);
	/* TDX: every vector with a verdict, its own TCB Info offered as early: the same status, no claims. */
	for (size_t i = 0; i < TDX_VECTOR_COUNT; i++) {
		const struct tdx_vector *tv = &TDX_VECTORS[i];
		struct tdx_loaded l;
		struct evidence_ctx ctx = {0};
		char rel[512];

		if (tv->status == NULL)
			continue;
		snprintf(rel, sizeof(rel), "%s/tcb_info.json", tv->dir);
		link_folder(dir, tv->dir, rel, tmp, sizeof(tmp));
		assert_int_equal(tdx_vector_load(dir, tv, 16, &l), 0);
		collateral_source_free(l.src);
		free(l.src);
		assert_int_equal(collateral_file_source_new(tmp, &l.src, NULL), ATTEST_OK);
		l.src->cache = l.cache;
		tdx_vector_ctx(&l, tv, &ctx);
		in.evidence = l.quote;
		in.evidence_len = l.len;
		cs = claim_set_new();
		attest_err_clear(&err);
		if (tdx_verify(&ctx, &in, cs, &err) != ATTEST_OK)
			fail_msg("%s: %s: %s", tv->dir, err.name, err.msg);
		assert_string_equal(str_claim(cs, "attester_tcb_status"), tv->status);
		expect_no_early_claims(cs);
		claim_set_free(cs);
		tdx_vector_unload(&l);
		devplat_fixture_rmdir(tmp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_early_set_that_demotes_the_platform_names_the_component_behind),
	    cmocka_unit_test(an_early_set_that_raises_the_pcesvn_names_it),
	    cmocka_unit_test(an_early_set_that_does_not_demote_adds_no_claims),
	    cmocka_unit_test(without_an_early_set_there_are_no_early_claims),
	    cmocka_unit_test(an_early_set_that_does_not_verify_is_a_warning_never_a_refusal),
	    cmocka_unit_test(an_early_set_signed_by_a_foreign_key_is_a_warning),
	    cmocka_unit_test(the_early_verdict_is_the_same_from_the_cache),
	    cmocka_unit_test(a_td_behind_on_a_tdx_component_of_the_early_set_is_told),
	    cmocka_unit_test(a_td_on_an_old_module_is_told_which_module_svn_the_early_set_wants),
	    cmocka_unit_test(a_td_is_not_subject_to_the_sgx_baseline),
	    cmocka_unit_test(a_served_baseline_set_refuses_a_platform_out_of_date_under_it),
	    cmocka_unit_test(a_served_baseline_set_is_what_the_verdict_is_evaluated_against),
	    cmocka_unit_test(a_set_served_for_a_number_that_says_another_is_not_used),
	    cmocka_unit_test(a_floor_baseline_asks_for_no_numbered_set),
	    cmocka_unit_test(half_a_numbered_set_is_not_used),
	    cmocka_unit_test(a_filled_error_record_does_not_turn_an_absent_set_into_a_refusal),
	    cmocka_unit_test(without_the_numbered_set_the_standard_set_must_be_as_new_as_the_baseline),
	    cmocka_unit_test(a_standard_set_that_is_the_baseline_refuses_out_of_date),
	    cmocka_unit_test(no_baseline_leaves_the_verdict_alone),
	    cmocka_unit_test(
		every_real_sgx_vector_keeps_its_verdict_under_the_baselines_its_collateral_proves),
	    cmocka_unit_test(real_early_sets_never_change_a_real_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
