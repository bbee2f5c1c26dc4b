/*
 * The TDX step of the TCB status, through the shared entry point
 * tcb_evaluate() (tcb.h) with a TD's inputs, on hand-built parsed collateral: every branch of Intel QVL's
 * checkTcbLevel for TDX (level matching with and without a module major version, module identities, module
 * convergence, TD relaunch, QE convergence) and the module preconditions of 4.1.2.4.11.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "evidence/pck.h"
#include "evidence/tcb.h"
#include "evidence/tdx.h"

#include "testutil.h"

#include <stdlib.h>

#include <string.h>

static const char *ADV_A[] = {"INTEL-SA-00001", "INTEL-SA-00002"};
static const char *ADV_B[] = {"INTEL-SA-00002", "INTEL-SA-00003"};
static const char *ADV_M[] = {"INTEL-SA-00077"};
static const char *ADV_Q[] = {"INTEL-SA-00001", "INTEL-SA-00099"};

/* A world: a TDX TCB Info with four levels, a TDX_01 identity, a PCK and a TD. */
struct world {
	struct tcb_level levels[4];
	struct tdx_module_level mlevels[2];
	struct tdx_module_identity modules[1];
	struct tcb_info ti;
	struct pck_ext pck;
	struct tcb_tdx_input tdx;
	struct qe_tcb_level qe_level;
	enum tcb_status qe;
};

static void level(struct tcb_level *l, uint8_t sgx, uint16_t pcesvn, uint8_t t0, uint8_t t2,
		  enum tcb_status s, const char **adv, size_t nadv)
{
	memset(l, 0, sizeof(*l));
	memset(l->sgx, sgx, sizeof(l->sgx));
	l->pcesvn = pcesvn;
	l->has_tdx = true;
	l->tdx[0] = t0;
	l->tdx[2] = t2;
	l->status = s;
	l->adv.ids = adv;
	l->adv.n = nadv;
	l->tcb_date = 1700000000 + sgx;
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	/* Sorted highest first, as tcb_info_parse leaves them. */
	level(&w->levels[0], 5, 13, 5, 3, TCB_UP_TO_DATE, NULL, 0);
	level(&w->levels[1], 5, 13, 3, 2, TCB_SW_HARDENING_NEEDED, ADV_A, 2);
	level(&w->levels[2], 4, 11, 3, 2, TCB_CONFIGURATION_NEEDED, ADV_B, 2);
	level(&w->levels[3], 2, 5, 0, 0, TCB_OUT_OF_DATE, ADV_A, 1);
	w->mlevels[0].isvsvn = 4;
	w->mlevels[0].status = TCB_UP_TO_DATE;
	w->mlevels[1].isvsvn = 2;
	w->mlevels[1].status = TCB_OUT_OF_DATE;
	w->mlevels[1].adv.ids = ADV_M;
	w->mlevels[1].adv.n = 1;
	strcpy(w->modules[0].id, "TDX_01");
	w->modules[0].levels = w->mlevels;
	w->modules[0].n_levels = 2;
	w->ti.id = TCB_INFO_ID_TDX;
	w->ti.version = 3;
	w->ti.eval_num = 17;
	w->ti.has_tdx_module = true;
	w->ti.levels = w->levels;
	w->ti.n_levels = 4;
	w->ti.modules = w->modules;
	w->ti.n_modules = 1;
	memset(w->pck.comp_svn, 5, sizeof(w->pck.comp_svn));
	w->pck.pcesvn = 13;
	w->tdx.quote_version = 4;
	w->tdx.body_type = TCB_TD10;
	w->tdx.tee_tcb_svn[0] = 5;
	w->tdx.tee_tcb_svn[2] = 3;
	w->qe = TCB_UP_TO_DATE;
}

static int eval(struct world *w, struct tcb_verdict *v, struct attest_err *err)
{
	attest_err_clear(err);
	memset(v, 0, sizeof(*v));
	return tcb_evaluate(&w->ti, &w->pck, &w->tdx, w->qe, &w->qe_level, v, "tdx", err);
}

static enum tcb_status status_of(struct world *w)
{
	struct tcb_verdict v;
	struct attest_err err;
	enum tcb_status s;

	assert_int_equal(eval(w, &v, &err), ATTEST_OK);
	s = v.status;
	tcb_verdict_free(&v);
	return s;
}

static void current_platform_and_module_0_is_up_to_date(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_UP_TO_DATE);
	assert_ptr_equal(v.sgx_level, &w.levels[0]);
	assert_ptr_equal(v.tdx_level, &w.levels[0]);
	assert_int_equal(v.module, TCB_UP_TO_DATE); /* v4, major 0: no identity consulted */
	assert_null(v.module_level);
	assert_int_equal(v.adv.n, 0);
	tcb_verdict_free(&v);
}

static void tee_tcb_svn_below_the_top_level_selects_a_lower_one(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.tdx.tee_tcb_svn[0] = 4; /* < 5 of level 0; major 0: all 16 bytes compared */
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_SW_HARDENING_NEEDED);
	assert_ptr_equal(v.sgx_level, &w.levels[0]); /* the SGX level stays the first SGX match */
	assert_ptr_equal(v.tdx_level, &w.levels[1]);
	assert_int_equal(v.adv.n, 2);
	assert_string_equal(v.adv.ids[0], "INTEL-SA-00001");
	assert_int_equal(v.tcb_date, w.levels[1].tcb_date);
	tcb_verdict_free(&v);
}

static void pck_svns_select_the_sgx_level(void **state)
{
	struct world w;

	world_init(&w);
	w.pck.comp_svn[7] = 4; /* one component below level 0/1 */
	assert_int_equal(status_of(&w), TCB_CONFIGURATION_NEEDED);
	world_init(&w);
	w.pck.pcesvn = 12; /* PCESVN below 13 */
	assert_int_equal(status_of(&w), TCB_CONFIGURATION_NEEDED);
}

static void platform_below_every_level_is_not_supported(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	memset(w.pck.comp_svn, 1, 16);
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_NOT_SUPPORTED);
	assert_null(v.sgx_level);
	assert_null(v.tdx_level);
	tcb_verdict_free(&v);
}

static void tee_tcb_svn_below_every_matching_level_is_not_supported(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	memset(w.pck.comp_svn, 4, 16);
	w.pck.pcesvn = 11;
	w.tdx.tee_tcb_svn[0] = 3;
	w.tdx.tee_tcb_svn[2] = 1; /* < 2 of level 2; level 3 needs SGX 2 and TDX 0: matches */
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_OUT_OF_DATE);
	assert_ptr_equal(v.sgx_level, &w.levels[2]);
	assert_ptr_equal(v.tdx_level, &w.levels[3]);
	tcb_verdict_free(&v);

	world_init(&w);
	w.ti.n_levels = 3; /* without the catch-all level */
	w.tdx.tee_tcb_svn[2] = 1;
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_NOT_SUPPORTED);
	assert_ptr_equal(v.sgx_level, &w.levels[0]);
	assert_null(v.tdx_level);
	tcb_verdict_free(&v);
}

static void major_version_skips_module_bytes_and_uses_the_identity(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.tdx.tee_tcb_svn[0] = 4; /* would miss level 0 if byte 0 were compared */
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_UP_TO_DATE);
	assert_ptr_equal(v.tdx_level, &w.levels[0]);
	assert_ptr_equal(v.module_level, &w.mlevels[0]);
	tcb_verdict_free(&v);
}

static void out_of_date_module_makes_the_td_out_of_date(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.tdx.tee_tcb_svn[0] = 3;
	w.tdx.tee_tcb_svn[1] = 1;
	w.qe_level.adv.ids = ADV_Q;
	w.qe_level.adv.n = 2;
	assert_int_equal(eval(&w, &v, &err), ATTEST_OK);
	assert_int_equal(v.status, TCB_OUT_OF_DATE);
	assert_int_equal(v.module, TCB_OUT_OF_DATE);
	assert_int_equal(v.platform, TCB_OUT_OF_DATE);
	/* advisories: platform level (none), module, QE */
	assert_int_equal(v.adv.n, 3);
	assert_string_equal(v.adv.ids[0], "INTEL-SA-00077");
	assert_string_equal(v.adv.ids[1], "INTEL-SA-00001");
	assert_string_equal(v.adv.ids[2], "INTEL-SA-00099");
	tcb_verdict_free(&v);

	world_init(&w);
	memset(w.pck.comp_svn, 4, 16);
	w.pck.pcesvn = 11;
	w.tdx.tee_tcb_svn[0] = 3;
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
}

static void module_svn_below_its_identity_is_not_supported(void **state)
{
	struct world w;

	world_init(&w);
	w.tdx.tee_tcb_svn[0] = 1;
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_equal(status_of(&w), TCB_NOT_SUPPORTED);
}

/* QVL returns TCB_NOT_SUPPORTED for the module before any QE convergence. */
static void unsupported_module_stays_unsupported_whatever_the_qe(void **state)
{
	struct world w;

	world_init(&w);
	w.tdx.tee_tcb_svn[0] = 1;
	w.tdx.tee_tcb_svn[1] = 1;
	w.qe = TCB_REVOKED;
	assert_int_equal(status_of(&w), TCB_NOT_SUPPORTED);
}

static void module_level_with_a_platform_only_status_is_refused(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.mlevels[0].status = TCB_SW_HARDENING_NEEDED; /* not in QVL VALID_MODULE_TCB_STATUSES */
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_not_equal(eval(&w, &v, &err), ATTEST_OK);
}

static void revoked_module_revokes_the_td(void **state)
{
	struct world w;

	world_init(&w);
	w.mlevels[1].status = TCB_REVOKED;
	w.tdx.tee_tcb_svn[0] = 2;
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_equal(status_of(&w), TCB_REVOKED);
}

static void identity_id_is_matched_case_insensitively(void **state)
{
	struct world w;

	world_init(&w);
	strcpy(w.modules[0].id, "tdx_01");
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_equal(status_of(&w), TCB_UP_TO_DATE);
}

static void missing_identity_for_the_major_version_is_a_module_mismatch(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.tdx.tee_tcb_svn[1] = 3;
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.tcb.tdx_module");

	world_init(&w);
	w.ti.n_modules = 0;
	w.tdx.tee_tcb_svn[1] = 1;
	assert_int_not_equal(eval(&w, &v, &err), ATTEST_OK); /* QVL TCB_INFO_MISMATCH */
	assert_true(strncmp(err.name, "tdx.tcb", 7) == 0);
}

static void foreign_module_signer_or_seam_attributes_are_refused(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_init(&w);
	w.tdx.mrsignerseam[47] = 1;
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.tcb.tdx_module");

	world_init(&w);
	w.tdx.seamattributes[0] = 1;
	w.ti.tdx_module_attributes[0] = 1; /* equal but not zero: still refused (QVL) */
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.tcb.tdx_module");

	world_init(&w);
	w.tdx.tee_tcb_svn[1] = 1;
	w.modules[0].mrsigner[0] = 0xAA; /* with a major version, the identity's mrsigner counts */
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.tcb.tdx_module");

	world_init(&w);
	w.ti.has_tdx_module = false;
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_COLLATERAL);
	assert_true(strncmp(err.name, "tdx.tcb", 7) == 0);
}

static void qe_status_converges_last(void **state)
{
	struct world w;

	world_init(&w);
	w.qe = TCB_OUT_OF_DATE;
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE);
	world_init(&w);
	w.qe = TCB_OUT_OF_DATE;
	w.pck.comp_svn[0] = 4;
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	world_init(&w);
	w.qe = TCB_REVOKED;
	assert_int_equal(status_of(&w), TCB_REVOKED);
	world_init(&w);
	w.qe = TCB_NOT_SUPPORTED;
	assert_int_equal(status_of(&w), TCB_NOT_SUPPORTED);
}

/* A TDX 1.5 TD on an out-of-date module whose relaunch would get the newest one. */
static void world_relaunch(struct world *w)
{
	world_init(w);
	w->tdx.quote_version = 5;
	w->tdx.body_type = TCB_TD15;
	w->tdx.tee_tcb_svn[0] = 3;
	w->tdx.tee_tcb_svn[1] = 1;
	w->tdx.tee_tcb_svn2[0] = 4;
	w->tdx.tee_tcb_svn2[1] = 1;
	w->tdx.tee_tcb_svn2[2] = 3;
}

static void td15_on_an_old_module_is_advised_to_relaunch(void **state)
{
	struct world w;

	world_relaunch(&w);
	assert_int_equal(status_of(&w), TCB_TD_RELAUNCH_ADVISED);

	world_relaunch(&w);
	memset(w.pck.comp_svn, 4, 16);
	w.pck.pcesvn = 11;
	assert_int_equal(status_of(&w), TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);

	world_relaunch(&w);
	w.tdx.tee_tcb_svn2[0] = 3; /* a relaunch would not reach the newest module */
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE);

	world_relaunch(&w);
	w.tdx.tee_tcb_svn2[2] = 2; /* nor the newest late microcode */
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE);

	world_relaunch(&w);
	w.qe = TCB_OUT_OF_DATE; /* relaunch does not help an out-of-date QE */
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE);

	world_relaunch(&w);
	w.tdx.body_type = TCB_TD10; /* TDX 1.0 bodies carry no TEE_TCB_SVN2 */
	assert_int_equal(status_of(&w), TCB_OUT_OF_DATE);
}

static void relaunch_with_module_major_0_uses_the_top_level(void **state)
{
	struct world w;
	struct tcb_verdict v;
	struct attest_err err;

	world_relaunch(&w);
	w.tdx.tee_tcb_svn2[0] = 5; /* >= levels[0].tdx[0] */
	w.tdx.tee_tcb_svn2[1] = 0;
	assert_int_equal(status_of(&w), TCB_TD_RELAUNCH_ADVISED);

	world_relaunch(&w);
	w.tdx.tee_tcb_svn2[1] = 2; /* no identity TDX_02 */
	assert_int_equal(eval(&w, &v, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.tcb.tdx_module");
}

/* ---- which component is behind (tcb_behind_compute, early TCB warnings) ---- */

/* The platform exactly at the newest UpToDate level of Intel's TDX TCB Info, then lowered. */
static void behind_names_the_lowered_components_with_intels_descriptions(void **state)
{
	REQUIRE_VECTORS(dir);
	const char *rel = "tdx/google-tdx-v5-90c06f000000-2026-02/tcb_info.json";
	struct tcb_info *ti = NULL;
	struct tcb_tdx_input td;
	struct pck_ext pck;
	struct tcb_behind b;
	size_t len = 0;
	uint8_t *body = test_read_vector(dir, rel, &len);
	const struct tcb_level *top;

	(void)state;
	assert_non_null(body);
	assert_int_equal(tcb_info_parse(body, len, &ti, "t", NULL), ATTEST_OK);
	top = &ti->levels[0];
	assert_int_equal(top->status, TCB_UP_TO_DATE);
	memset(&pck, 0, sizeof(pck));
	memcpy(pck.comp_svn, top->sgx, 16);
	pck.pcesvn = top->pcesvn;
	memset(&td, 0, sizeof(td));
	td.quote_version = 4;
	memcpy(td.tee_tcb_svn, top->tdx, 16);
	td.tee_tcb_svn[1] = 0; /* module major 0: every TEE_TCB_SVN byte is a TDX component */
	tcb_behind_compute(ti, &pck, &td, &b);
	assert_ptr_equal(b.target, top);
	assert_int_equal(b.n, 0);

	pck.comp_svn[1]--;
	td.tee_tcb_svn[2]--;
	tcb_behind_compute(ti, &pck, &td, &b);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.items[0].kind, TCB_COMPONENT_SGX);
	assert_int_equal(b.items[0].index, 1);
	assert_string_equal(b.items[0].category, "OS/VMM");
	assert_string_equal(b.items[0].type, "SGX Late Microcode Update");
	assert_int_equal(b.items[0].need, top->sgx[1]);
	assert_int_equal(b.items[0].have, top->sgx[1] - 1);
	assert_int_equal(b.items[1].kind, TCB_COMPONENT_TDX);
	assert_int_equal(b.items[1].index, 2);
	assert_string_equal(b.items[1].type, "TDX Late Microcode Update");
	assert_string_equal(tcb_component_kind_str(b.items[1].kind), "tdx");

	/* Module major 1: bytes 0-1 are the module's, judged by TDX_01's newest UpToDate isvsvn. */
	pck.comp_svn[1]++;
	td.tee_tcb_svn[2]++;
	td.tee_tcb_svn[1] = 1;
	td.tee_tcb_svn[0] = 4;
	pck.pcesvn = (uint16_t)(top->pcesvn - 1);
	tcb_behind_compute(ti, &pck, &td, &b);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.items[0].kind, TCB_COMPONENT_PCE);
	assert_int_equal(b.items[0].index, -1);
	assert_null(b.items[0].category);
	assert_int_equal(b.items[1].kind, TCB_COMPONENT_TDX_MODULE);
	assert_int_equal(b.items[1].have, 4);
	assert_int_equal(b.items[1].need, tdx_tcb_module_identity(ti, 1)->levels[0].isvsvn);
	tcb_info_free(ti);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(current_platform_and_module_0_is_up_to_date),
	    cmocka_unit_test(tee_tcb_svn_below_the_top_level_selects_a_lower_one),
	    cmocka_unit_test(pck_svns_select_the_sgx_level),
	    cmocka_unit_test(platform_below_every_level_is_not_supported),
	    cmocka_unit_test(tee_tcb_svn_below_every_matching_level_is_not_supported),
	    cmocka_unit_test(major_version_skips_module_bytes_and_uses_the_identity),
	    cmocka_unit_test(out_of_date_module_makes_the_td_out_of_date),
	    cmocka_unit_test(module_svn_below_its_identity_is_not_supported),
	    cmocka_unit_test(unsupported_module_stays_unsupported_whatever_the_qe),
	    cmocka_unit_test(module_level_with_a_platform_only_status_is_refused),
	    cmocka_unit_test(revoked_module_revokes_the_td),
	    cmocka_unit_test(identity_id_is_matched_case_insensitively),
	    cmocka_unit_test(missing_identity_for_the_major_version_is_a_module_mismatch),
	    cmocka_unit_test(foreign_module_signer_or_seam_attributes_are_refused),
	    cmocka_unit_test(qe_status_converges_last),
	    cmocka_unit_test(td15_on_an_old_module_is_advised_to_relaunch),
	    cmocka_unit_test(relaunch_with_module_major_0_uses_the_top_level),
	    cmocka_unit_test(behind_names_the_lowered_components_with_intels_descriptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
