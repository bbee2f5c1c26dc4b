/*
 * tdx_verify on synthetic TD quotes (devplat/tdx.h on the synthetic Intel
 * platform): v4 and v5 (TDX 1.0 and 1.5 bodies) driving every TDX status
 * (the seven TCB Info statuses, both TD relaunch statuses, TCB level not
 * supported), module identities, QE convergence, and the refusals: revoked
 * PCK, wrong TD QE, foreign TDX module, expired collateral, runtime data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "devplat/tdx.h"
#include "evidence/quote.h"
#include "evidence/tdx.h"

#include <dirent.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <string.h>
#include <unistd.h>

#define NOW 1750000000

/* TCB levels, highest first: one per status (formats.md §3.2). */
static const struct intel_devplat_tcb_level LEVELS[] = {
    {{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 13, true, {5, 0, 3}, "UpToDate", NULL, NULL},
    {{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
     13,
     true,
     {3, 0, 2},
     "SWHardeningNeeded",
     "INTEL-SA-00001",
     NULL},
    {{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
     11,
     true,
     {3, 0, 2},
     "ConfigurationNeeded",
     "INTEL-SA-00002",
     NULL},
    {{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
     10,
     true,
     {3, 0, 2},
     "ConfigurationAndSWHardeningNeeded",
     "INTEL-SA-00002,INTEL-SA-00003",
     NULL},
    {{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 9, true, {0}, "OutOfDate", "INTEL-SA-00004", NULL},
    {{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
     8,
     true,
     {0},
     "OutOfDateConfigurationNeeded",
     NULL,
     NULL},
    {{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 7, true, {0}, "Revoked", "INTEL-SA-00005", NULL},
};

static const struct intel_devplat_module_level MODULE_LEVELS[] = {
    {4, "UpToDate", NULL},
    {2, "OutOfDate", "INTEL-SA-00077"},
    {1, "Revoked", NULL},
};

/* A synthetic world: platform, collateral folder, file source, trust anchors. */
struct world {
	struct intel_devplat *p;
	char dir[64];
	struct collateral_source *src;
	STACK_OF(X509) * roots;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
};

struct world_spec {
	uint8_t comp; /* every PCK component SVN */
	uint16_t pcesvn;
	bool revoke_pck;
	const struct intel_devplat_qe_identity *qe_identity; /* NULL: TD QE default */
	int64_t crl_next;				     /* 0: default */
};

static void world_up(struct world *w, const struct world_spec *ws)
{
	struct intel_devplat_opts o;
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_qe_identity qi;
	struct intel_devplat_module mod;
	struct attest_err err;
	char *tcb = NULL, *qe = NULL;
	size_t tcb_len, qe_len;

	memset(w, 0, sizeof(*w));
	intel_devplat_opts_default(&o, NOW);
	o.ca = PCK_CA_PLATFORM;
	memcpy(o.fmspc, "\x90\xc0\x6f\x00\x00\x00", 6);
	memset(o.comp_svn, ws->comp, sizeof(o.comp_svn));
	o.pcesvn = ws->pcesvn;
	o.revoke_pck = ws->revoke_pck;
	if (intel_devplat_new(&o, &w->p, &err) != 0)
		fail_msg("devplat: %s: %s", err.name, err.msg);

	memset(&mod, 0, sizeof(mod));
	mod.id = "TDX_01";
	mod.levels = MODULE_LEVELS;
	mod.n_levels = sizeof(MODULE_LEVELS) / sizeof(MODULE_LEVELS[0]);
	tdx_devplat_tcb_info_default(&ti, LEVELS, sizeof(LEVELS) / sizeof(LEVELS[0]), &mod, 1);
	if (ws->qe_identity != NULL)
		qi = *ws->qe_identity;
	else
		tdx_devplat_td_qe_identity_default(&qi);
	assert_int_equal(intel_devplat_tcb_info(w->p, &ti, &tcb, &tcb_len, &err), 0);
	assert_int_equal(intel_devplat_qe_identity(w->p, &qi, &qe, &qe_len, &err), 0);
	strcpy(w->dir, "/tmp/attest-tdx-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	if (intel_devplat_write_collateral(w->p, w->dir, tcb, tcb_len, qe, qe_len, 0, ws->crl_next, &err) !=
	    0)
		fail_msg("collateral: %s: %s", err.name, err.msg);
	free(tcb);
	free(qe);
	assert_int_equal(collateral_file_source_new(w->dir, &w->src, &err), 0);
	w->roots = intel_devplat_roots(w->p);
	assert_non_null(w->roots);
	w->anchors.intel_sgx_roots = w->roots;
	w->ctx.now = NOW;
	w->ctx.anchors = &w->anchors;
	w->ctx.collateral = w->src;
}

static void world_down(struct world *w)
{
	DIR *d = opendir(w->dir);
	struct dirent *e;
	char path[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", w->dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(w->dir);
	collateral_source_free(w->src);
	free(w->src);
	sk_X509_pop_free(w->roots, X509_free);
	intel_devplat_free(w->p);
}

/* Makes a quote of the TD and verifies it; returns rc, claims in *set. */
static int attest(struct world *w, int version, const struct tdx_devplat_td *td, const uint8_t *rt,
		  size_t rtlen, struct claim_set *set, struct attest_err *err)
{
	struct evidence_input in;
	uint8_t *q = NULL;
	size_t qlen = 0;
	int rc;

	if (tdx_devplat_make_quote(w->p, version, td, NULL, 0, &q, &qlen, err) != 0)
		fail_msg("make quote: %s: %s", err->name, err->msg);
	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = qlen;
	in.runtime_data = rt;
	in.runtime_data_len = rtlen;
	in.runtime_data_type = rt ? EVIDENCE_DATA_JSON : EVIDENCE_DATA_NONE;
	attest_err_clear(err);
	rc = tdx_verify(&w->ctx, &in, set, err);
	free(q);
	return rc;
}

/* TD with TEE_TCB_SVN (a, b, c). */
static void td_svn(struct tdx_devplat_td *td, int body_type, uint8_t a, uint8_t b, uint8_t c)
{
	tdx_devplat_td_default(td);
	td->body_type = body_type;
	td->tee_tcb_svn[0] = a;
	td->tee_tcb_svn[1] = b;
	td->tee_tcb_svn[2] = c;
	memcpy(td->tee_tcb_svn2, td->tee_tcb_svn, 16);
}

/* Expects a verdict: status (NULL = refused with error `name`). */
static void expect(uint8_t comp, uint16_t pcesvn, int version, const struct tdx_devplat_td *td,
		   const char *status, const char *name)
{
	struct world w;
	struct world_spec ws = {comp, pcesvn, false, NULL, 0};
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	int rc;

	world_up(&w, &ws);
	rc = attest(&w, version, td, NULL, 0, set, &err);
	if (status != NULL) {
		if (rc != ATTEST_OK)
			fail_msg("expected %s, got %s: %s", status, err.name, err.msg);
		assert_string_equal(json_string_value(claim_set_get(set, "attester_tcb_status")), status);
	} else {
		assert_int_not_equal(rc, ATTEST_OK);
		assert_string_equal(err.name, name);
		assert_int_equal(claim_set_count(set), 0);
	}
	claim_set_free(set);
	world_down(&w);
}

static void every_tcb_info_status_is_reached(void **state)
{
	struct tdx_devplat_td td;

	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	expect(5, 13, 4, &td, "UpToDate", NULL);
	expect(4, 11, 4, &td, "ConfigurationNeeded", NULL);
	expect(4, 10, 4, &td, "ConfigurationAndSWHardeningNeeded", NULL);
	expect(3, 9, 4, &td, "OutOfDate", NULL);
	expect(3, 8, 4, &td, "OutOfDateConfigurationNeeded", NULL);
	expect(2, 7, 4, &td, NULL, "tdx.tcb.revoked");
	td_svn(&td, QUOTE_BODY_TD10, 4, 0, 3); /* TDX module SVN below level 0's */
	expect(5, 13, 4, &td, "SWHardeningNeeded", NULL);
}

static void platform_below_every_level_is_not_supported(void **state)
{
	struct tdx_devplat_td td;

	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	expect(1, 13, 4, &td, NULL, "tdx.tcb.not_supported");
	td_svn(&td, QUOTE_BODY_TD15, 3, 1, 1);	  /* late microcode SVN below every TDX level needing 2+ */
	expect(5, 13, 5, &td, "OutOfDate", NULL); /* the catch-all level 4 (TDX 0) */
}

static void v5_bodies_and_module_identities(void **state)
{
	struct tdx_devplat_td td;

	td_svn(&td, QUOTE_BODY_TD10, 4, 1, 3); /* module 1.x, SVN 4: identity UpToDate */
	expect(5, 13, 5, &td, "UpToDate", NULL);
	td_svn(&td, QUOTE_BODY_TD15, 4, 1, 3);
	expect(5, 13, 5, &td, "UpToDate", NULL);
	td_svn(&td, QUOTE_BODY_TD10, 3, 1, 3); /* module SVN 3: OutOfDate */
	expect(5, 13, 5, &td, "OutOfDate", NULL);
	expect(4, 11, 4, &td, "OutOfDateConfigurationNeeded", NULL);
	td_svn(&td, QUOTE_BODY_TD10, 1, 1, 3); /* module SVN 1: Revoked */
	expect(5, 13, 4, &td, NULL, "tdx.tcb.revoked");
	td_svn(&td, QUOTE_BODY_TD10, 0, 1, 3); /* below every module level */
	expect(5, 13, 4, &td, NULL, "tdx.tcb.not_supported");
	td_svn(&td, QUOTE_BODY_TD10, 4, 2, 3); /* no identity TDX_02 */
	expect(5, 13, 4, &td, NULL, "tdx.tcb.tdx_module");
}

static void td15_relaunch_statuses_are_reached(void **state)
{
	struct tdx_devplat_td td;

	td_svn(&td, QUOTE_BODY_TD15, 3, 1, 3);
	td.tee_tcb_svn2[0] = 4; /* a relaunch would get module SVN 4, the newest */
	expect(5, 13, 5, &td, "TDRelaunchAdvised", NULL);
	expect(4, 11, 5, &td, "TDRelaunchAdvisedConfigurationNeeded", NULL);
	td.tee_tcb_svn2[0] = 3;
	expect(5, 13, 5, &td, "OutOfDate", NULL);
}

static void foreign_tdx_module_is_refused(void **state)
{
	struct tdx_devplat_td td;

	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	td.mrsignerseam[0] = 1;
	expect(5, 13, 4, &td, NULL, "tdx.tcb.tdx_module");
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	td.seam_attributes[0] = 1;
	expect(5, 13, 4, &td, NULL, "tdx.tcb.tdx_module");
}

static void out_of_date_td_qe_converges(void **state)
{
	static const struct intel_devplat_qe_level qe_levels[] = {{5, "UpToDate", NULL},
								  {3, "OutOfDate", "INTEL-SA-00615"}};
	struct intel_devplat_qe_identity qi;
	struct world w;
	struct world_spec ws = {5, 13, false, &qi, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	const json_t *adv;

	tdx_devplat_td_qe_identity_default(&qi);
	qi.levels = qe_levels;
	qi.n_levels = 2;
	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(set, "attester_tcb_status")), "OutOfDate");
	assert_string_equal(json_string_value(claim_set_get(set, "tdx_qe_tcb_status")), "OutOfDate");
	adv = claim_set_get(set, "tdx_advisory_ids");
	assert_int_equal(json_array_size(adv), 1);
	assert_string_equal(json_string_value(json_array_get(adv, 0)), "INTEL-SA-00615");
	claim_set_free(set);
	world_down(&w);
}

static void wrong_td_qe_identity_is_refused(void **state)
{
	struct intel_devplat_qe_identity qi;
	struct world w;
	struct world_spec ws = {5, 13, false, &qi, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;

	tdx_devplat_td_qe_identity_default(&qi);
	qi.isvprodid = 1; /* the SGX QE's product id */
	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_true(strncmp(err.name, "tdx.qeid.", 9) == 0);
	claim_set_free(set);
	world_down(&w);

	tdx_devplat_td_qe_identity_default(&qi);
	qi.id = "QE"; /* an SGX QE identity for a TD quote */
	world_up(&w, &ws);
	set = claim_set_new();
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_true(strncmp(err.name, "tdx.qeid.", 9) == 0);
	claim_set_free(set);
	world_down(&w);
}

/* QVL 4.1.2.4.9: a TD quote needs TDX TCB Info (v3, id "TDX"). */
static void sgx_tcb_info_is_refused_for_a_td_quote(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_qe_identity qi;
	struct attest_err err;
	char *tcb = NULL, *qe = NULL;
	size_t tcb_len, qe_len;

	world_up(&w, &ws);
	tdx_devplat_tcb_info_default(&ti, LEVELS, 1, NULL, 0);
	ti.id = "SGX";
	ti.has_tdx_module = false;
	tdx_devplat_td_qe_identity_default(&qi);
	assert_int_equal(intel_devplat_tcb_info(w.p, &ti, &tcb, &tcb_len, &err), 0);
	assert_int_equal(intel_devplat_qe_identity(w.p, &qi, &qe, &qe_len, &err), 0);
	assert_int_equal(intel_devplat_write_collateral(w.p, w.dir, tcb, tcb_len, qe, qe_len, 0, 0, &err), 0);
	free(tcb);
	free(qe);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_string_equal(err.name, "tdx.tcbinfo.id");
	claim_set_free(set);
	world_down(&w);
}

static void revoked_pck_is_refused(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, true, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_string_equal(err.name, "tdx.pck.chain.revoked");
	w.ctx.flags = EVIDENCE_NO_REVOCATION; /* only with revocation explicitly off */
	assert_int_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_true(json_is_false(claim_set_get(set, "tdx_revocation_checked")));
	claim_set_free(set);
	world_down(&w);
}

static void expired_or_future_collateral_is_refused(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	w.ctx.now = NOW + 40 * 86400;
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	w.ctx.now = NOW - 2 * 86400;
	assert_int_not_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_int_equal(claim_set_count(set), 0);
	claim_set_free(set);
	world_down(&w);
}

static void runtime_data_binds_to_report_data(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	const char *rt = "{\"keys\":[{\"kid\":\"k1\",\"kty\":\"EC\"}]}";
	const json_t *runtime;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD15, 5, 0, 3);
	assert_int_equal(sha256(rt, strlen(rt), td.report_data), 0);
	assert_int_equal(attest(&w, 5, &td, (const uint8_t *)rt, strlen(rt), set, &err), ATTEST_OK);
	runtime = claim_set_get(set, "x-ms-runtime");
	assert_true(json_is_object(runtime));
	assert_non_null(json_object_get(runtime, "keys"));
	claim_set_free(set);
	set = claim_set_new();
	td.report_data[31] ^= 1;
	assert_int_equal(attest(&w, 5, &td, (const uint8_t *)rt, strlen(rt), set, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tdx.runtime_data.mismatch");
	claim_set_free(set);
	world_down(&w);
}

static void binary_runtime_data_binds_without_a_runtime_claim(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	struct evidence_input in;
	const uint8_t rt[] = {0x00, 0xff, 0x10, 0x20};
	uint8_t *q = NULL;
	size_t qlen = 0;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_equal(sha256(rt, sizeof(rt), td.report_data), 0);
	assert_int_equal(tdx_devplat_make_quote(w.p, 4, &td, NULL, 0, &q, &qlen, &err), 0);
	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = qlen;
	in.runtime_data = rt;
	in.runtime_data_len = sizeof(rt);
	in.runtime_data_type = EVIDENCE_DATA_BINARY;
	assert_int_equal(tdx_verify(&w.ctx, &in, set, &err), ATTEST_OK);
	assert_null(claim_set_get(set, "x-ms-runtime"));
	claim_set_free(set);
	set = claim_set_new();
	in.runtime_data_type = EVIDENCE_DATA_JSON; /* the same bytes are not JSON */
	assert_int_equal(tdx_verify(&w.ctx, &in, set, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tdx.runtime_data.json");
	assert_int_equal(claim_set_count(set), 0);
	free(q);
	claim_set_free(set);
	world_down(&w);
}

static void debug_td_verifies_and_says_so(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	td.td_attributes |= TDX_ATTR_DEBUG;
	assert_int_equal(attest(&w, 4, &td, NULL, 0, set, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(set, "dbgstat")), "enabled");
	assert_true(json_is_true(claim_set_get(set, "tdx_td_attributes_debug")));
	claim_set_free(set);
	world_down(&w);
}

static void trailing_bytes_after_the_signature_data_are_tolerated(void **state)
{
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct claim_set *set = claim_set_new();
	struct attest_err err;
	struct evidence_input in;
	uint8_t *q = NULL;
	size_t qlen = 0;

	world_up(&w, &ws);
	td_svn(&td, QUOTE_BODY_TD10, 5, 0, 3);
	assert_int_equal(tdx_devplat_make_quote(w.p, 4, &td, NULL, 70, &q, &qlen, &err), 0);
	memset(&in, 0, sizeof(in));
	in.evidence = q;
	in.evidence_len = qlen;
	assert_int_equal(tdx_verify(&w.ctx, &in, set, &err), ATTEST_OK);
	free(q);
	claim_set_free(set);
	world_down(&w);
}

static void v4_quote_with_a_td15_body_cannot_be_made(void **state)
{
	struct tdx_devplat_td td;
	struct attest_err err;
	uint8_t *q = NULL;
	size_t qlen = 0;

	td_svn(&td, QUOTE_BODY_TD15, 5, 0, 3);
	attest_err_clear(&err);
	assert_int_not_equal(tdx_devplat_make_quote(NULL, 4, &td, NULL, 0, &q, &qlen, &err), 0);
	assert_null(q);
}

/*
 * With ATTEST_WRITE_FUZZ_CORPUS=1 (and ATTEST_SOURCE_DIR, set by ctest),
 * writes synthetic TD quotes as seeds of fuzz_tdx_quote (mode byte 0 first,
 * see fuzz/evidence/fuzz_tdx_quote.c); otherwise only checks that they parse.
 */
static void synthetic_quotes_seed_the_fuzzer(void **state)
{
	const char *write = getenv("ATTEST_WRITE_FUZZ_CORPUS");
	const char *src = getenv("ATTEST_SOURCE_DIR");
	struct world w;
	struct world_spec ws = {5, 13, false, NULL, 0};
	struct tdx_devplat_td td;
	struct attest_err err;
	static const struct {
		int version, body_type;
		size_t trailing;
	} kinds[] = {{4, QUOTE_BODY_TD10, 0},
		     {5, QUOTE_BODY_TD10, 0},
		     {5, QUOTE_BODY_TD15, 0},
		     {4, QUOTE_BODY_TD10, 39}};

	world_up(&w, &ws);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint8_t *q = NULL;
		size_t qlen = 0;
		struct quote pq;

		td_svn(&td, kinds[i].body_type, 5, (uint8_t)(i & 1), 3);
		assert_int_equal(tdx_devplat_make_quote(w.p, kinds[i].version, &td, NULL, kinds[i].trailing,
							&q, &qlen, &err),
				 0);
		assert_int_equal(quote_parse(q, qlen, QUOTE_TEE_TDX, &pq, "tdx", &err), ATTEST_OK);
		assert_int_equal(pq.trailing, kinds[i].trailing);
		if (write != NULL && src != NULL && strcmp(write, "1") == 0) {
			char path[1024];
			FILE *f;
			const uint8_t mode = 0;

			snprintf(path, sizeof(path),
				 "%.900s/fuzz/evidence/corpus/fuzz_tdx_quote/synthetic-v%d-type%d%s", src,
				 kinds[i].version, kinds[i].body_type, kinds[i].trailing ? "-trailing" : "");
			f = fopen(path, "wb");
			assert_non_null(f);
			assert_int_equal(fwrite(&mode, 1, 1, f), 1);
			assert_int_equal(fwrite(q, 1, qlen, f), qlen);
			fclose(f);
		}
		free(q);
	}
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_tcb_info_status_is_reached),
	    cmocka_unit_test(platform_below_every_level_is_not_supported),
	    cmocka_unit_test(v5_bodies_and_module_identities),
	    cmocka_unit_test(td15_relaunch_statuses_are_reached),
	    cmocka_unit_test(foreign_tdx_module_is_refused),
	    cmocka_unit_test(out_of_date_td_qe_converges),
	    cmocka_unit_test(wrong_td_qe_identity_is_refused),
	    cmocka_unit_test(sgx_tcb_info_is_refused_for_a_td_quote),
	    cmocka_unit_test(revoked_pck_is_refused),
	    cmocka_unit_test(expired_or_future_collateral_is_refused),
	    cmocka_unit_test(runtime_data_binds_to_report_data),
	    cmocka_unit_test(binary_runtime_data_binds_without_a_runtime_claim),
	    cmocka_unit_test(debug_td_verifies_and_says_so),
	    cmocka_unit_test(trailing_bytes_after_the_signature_data_are_tolerated),
	    cmocka_unit_test(v4_quote_with_a_td15_body_cannot_be_made),
	    cmocka_unit_test(synthetic_quotes_seed_the_fuzzer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
