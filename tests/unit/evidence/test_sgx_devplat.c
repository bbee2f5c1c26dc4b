/*
 * SGX verification driven by the synthetic Intel platform (devplat/intel.h):
 * every TCB status and its QE convergence, revocation, collateral currency,
 * QE identity mismatches, debug enclaves, data binding, quote versions and
 * certification data types, OE envelopes with custom claims.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devplat_fixture.h"
#include "testutil.h"

#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "devplat/intel.h"
#include "devplat/intel_internal.h"
#include "evidence/sgx.h"

#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1750377600LL /* 2025-06-20 */
#define DAY 86400LL

#define PLATFORM_COMPS DEVPLAT_FIXTURE_COMPS

static void plat_new_opts(struct devplat_fixture *t, const struct intel_devplat_opts *o)
{
	assert_int_equal(devplat_fixture_up(t, o, NOW, "sgx", 16), ATTEST_OK);
}

static void plat_new(struct devplat_fixture *t)
{
	plat_new_opts(t, NULL);
}

/* Writes TCB Info (levels; v3 SGX unless version given) and the QE identity (NULL = default). */
static void plat_collateral(struct devplat_fixture *t, int version,
			    const struct intel_devplat_tcb_level *levels, size_t n,
			    const struct intel_devplat_qe_identity *qe, int64_t tcb_issue, int64_t tcb_next,
			    int64_t crl_this, int64_t crl_next)
{
	struct intel_devplat_tcb_info ti = {0};

	ti.version = version;
	ti.id = "SGX";
	ti.levels = levels;
	ti.n_levels = n;
	ti.issue_date = tcb_issue;
	ti.next_update = tcb_next;
	assert_int_equal(devplat_fixture_write_standard(t, &ti, qe, crl_this, crl_next), ATTEST_OK);
}

/* One level at exactly the platform's SVNs with this status, above it an unreached UpToDate level. */
static void plat_status(struct devplat_fixture *t, const char *status, const char *advisories)
{
	struct intel_devplat_tcb_level l[2];

	memset(l, 0, sizeof(l));
	memcpy(l[0].sgx, PLATFORM_COMPS, 16);
	l[0].sgx[0] = 9;
	l[0].pcesvn = 11;
	l[0].status = "UpToDate";
	memcpy(l[1].sgx, PLATFORM_COMPS, 16);
	l[1].pcesvn = 11;
	l[1].status = status;
	l[1].advisories = advisories;
	plat_collateral(t, 3, l, 2, NULL, 0, 0, 0, 0);
}

/* A quote of enclave e (NULL = default) with version v; qe (NULL = Intel QE at svn 8). */
static uint8_t *plat_quote(struct devplat_fixture *t, int version, const struct intel_devplat_enclave *e,
			   const struct intel_devplat_enclave *qe, uint16_t cert_type, size_t *len)
{
	struct intel_devplat_enclave def;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE], *q = NULL;

	if (e == NULL) {
		intel_devplat_enclave_default(&def);
		e = &def;
	}
	intel_devplat_report_body(e, body);
	intel_devplat_quote_default(&s);
	s.version = version;
	s.body = body;
	s.body_len = sizeof(body);
	if (qe != NULL)
		s.qe = *qe;
	if (cert_type)
		s.cert_type = cert_type;
	assert_int_equal(intel_devplat_make_quote(t->p, &s, &q, len, NULL), ATTEST_OK);
	return q;
}

static int plat_verify(struct devplat_fixture *t, const uint8_t *q, size_t len, struct claim_set *cs,
		       struct attest_err *err)
{
	struct evidence_input in = {0};

	in.evidence = q;
	in.evidence_len = len;
	attest_err_clear(err);
	return sgx_verify(&t->ctx, &in, cs, err);
}

/* Verifies the default v3 quote; returns rc, fills status (or error name). */
static int verify_default(struct devplat_fixture *t, char *out, size_t outlen)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q = plat_quote(t, 3, NULL, NULL, 0, &len);
	int rc = plat_verify(t, q, len, cs, &err);

	if (rc == ATTEST_OK)
		snprintf(out, outlen, "%s", json_string_value(claim_set_get(cs, "x-ms-sgx-tcb-status")));
	else
		snprintf(out, outlen, "%s", err.name);
	if (rc == ATTEST_E_PARSE)
		fprintf(stderr, "unexpected parse error: %s: %s (%s)\n", err.name, err.msg, err.where);
	claim_set_free(cs);
	free(q);
	return rc;
}

static void every_platform_status_is_reported_as_the_matching_level_says(void **state)
{
	static const char *const statuses[] = {"UpToDate",
					       "SWHardeningNeeded",
					       "ConfigurationNeeded",
					       "ConfigurationAndSWHardeningNeeded",
					       "OutOfDate",
					       "OutOfDateConfigurationNeeded"};
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct devplat_fixture t;
		char got[128];

		plat_new(&t);
		plat_status(&t, statuses[i], NULL);
		assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
		assert_string_equal(got, statuses[i]);
		devplat_fixture_down(&t);
	}
}

static void a_revoked_tcb_level_is_refused_after_the_signatures_verified(void **state)
{
	struct devplat_fixture t;
	char got[128];

	plat_new(&t);
	plat_status(&t, "Revoked", "INTEL-SA-00001");
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_VERIFY);
	assert_string_equal(got, "sgx.tcb.revoked");
	devplat_fixture_down(&t);
}

static void a_platform_below_every_level_is_refused_as_tcb_level_not_supported(void **state)
{
	struct intel_devplat_tcb_level l = {0};
	struct devplat_fixture t;
	char got[128];

	plat_new(&t);
	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 12; /* above the PCK's PCESVN 11 */
	l.status = "OutOfDate";
	plat_collateral(&t, 3, &l, 1, NULL, 0, 0, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_VERIFY);
	assert_string_equal(got, "sgx.tcb.not_supported");
	devplat_fixture_down(&t);
}

/* QE identity levels: 8 UpToDate, 6 OutOfDate, 2 Revoked (intel_devplat_qe_identity_default). */
static void check_qe_convergence(const char *platform, uint16_t qe_svn, int want_rc, const char *want)
{
	struct intel_devplat_enclave qe;
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q;
	int rc;

	plat_new(&t);
	plat_status(&t, platform, NULL);
	intel_devplat_qe_default(&qe);
	qe.isvsvn = qe_svn;
	q = plat_quote(&t, 3, NULL, &qe, 0, &len);
	rc = plat_verify(&t, q, len, cs, &err);
	if (rc != want_rc)
		fail_msg("%s / QE svn %u: %s: %s", platform, qe_svn, err.name, err.msg);
	if (rc == ATTEST_OK)
		assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sgx-tcb-status")), want);
	else
		assert_string_equal(err.name, want);
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void an_out_of_date_qe_converges_the_status_as_qvl_does(void **state)
{
	check_qe_convergence("UpToDate", 7, ATTEST_OK, "OutOfDate");
	check_qe_convergence("SWHardeningNeeded", 6, ATTEST_OK, "OutOfDate");
	check_qe_convergence("ConfigurationNeeded", 6, ATTEST_OK, "OutOfDateConfigurationNeeded");
	check_qe_convergence("ConfigurationAndSWHardeningNeeded", 6, ATTEST_OK,
			     "OutOfDateConfigurationNeeded");
	check_qe_convergence("OutOfDate", 6, ATTEST_OK, "OutOfDate");
	check_qe_convergence("UpToDate", 9, ATTEST_OK, "UpToDate");
}

static void a_revoked_or_unlisted_qe_is_refused(void **state)
{
	check_qe_convergence("UpToDate", 2, ATTEST_E_VERIFY, "sgx.tcb.revoked");
	check_qe_convergence("UpToDate", 1, ATTEST_E_VERIFY, "sgx.tcb.not_supported");
}

static void advisory_ids_are_the_union_of_the_platform_and_qe_levels(void **state)
{
	struct intel_devplat_enclave qe;
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	const json_t *adv;
	size_t len;
	uint8_t *q;

	plat_new(&t);
	plat_status(&t, "SWHardeningNeeded", "INTEL-SA-00334,INTEL-SA-00615");
	intel_devplat_qe_default(&qe);
	qe.isvsvn = 6; /* QE level OutOfDate with INTEL-SA-00615 */
	q = plat_quote(&t, 3, NULL, &qe, 0, &len);
	assert_int_equal(plat_verify(&t, q, len, cs, &err), ATTEST_OK);
	adv = claim_set_get(cs, "x-ms-sgx-advisory-ids");
	assert_int_equal(json_array_size(adv), 2);
	assert_string_equal(json_string_value(json_array_get(adv, 0)), "INTEL-SA-00334");
	assert_string_equal(json_string_value(json_array_get(adv, 1)), "INTEL-SA-00615");
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sgx-qe-tcb-status")), "OutOfDate");
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void levels_are_matched_highest_first_whatever_their_order(void **state)
{
	struct intel_devplat_tcb_level l[3];
	struct devplat_fixture t;
	char got[128];

	plat_new(&t);
	memset(l, 0, sizeof(l));
	memcpy(l[0].sgx, PLATFORM_COMPS, 16); /* lowest, listed first */
	l[0].sgx[0] = 1;
	l[0].pcesvn = 5;
	l[0].status = "OutOfDate";
	memcpy(l[1].sgx, PLATFORM_COMPS, 16); /* highest, not reached */
	l[1].sgx[6] = 7;
	l[1].pcesvn = 11;
	l[1].status = "UpToDate";
	memcpy(l[2].sgx, PLATFORM_COMPS, 16); /* the platform's own level */
	l[2].pcesvn = 11;
	l[2].status = "SWHardeningNeeded";
	plat_collateral(&t, 3, l, 3, NULL, 0, 0, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
	assert_string_equal(got, "SWHardeningNeeded");
	devplat_fixture_down(&t);
}

static void tcb_info_version_2_is_evaluated_like_version_3(void **state)
{
	struct intel_devplat_tcb_level l = {0};
	struct devplat_fixture t;
	char got[128];

	plat_new(&t);
	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11;
	l.status = "ConfigurationNeeded";
	plat_collateral(&t, 2, &l, 1, NULL, 0, 0, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
	assert_string_equal(got, "ConfigurationNeeded");
	devplat_fixture_down(&t);
}

static void a_revoked_pck_certificate_is_refused(void **state)
{
	struct intel_devplat_opts o;
	struct devplat_fixture t;
	char got[128];

	devplat_fixture_opts(&o, NOW);
	o.revoke_pck = true;
	plat_new_opts(&t, &o);
	plat_status(&t, "UpToDate", NULL);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_VERIFY);
	assert_string_equal(got, "sgx.pck.chain.revoked");
	devplat_fixture_down(&t);
}

static void a_revoked_pck_ca_is_refused(void **state)
{
	struct intel_devplat_opts o;
	struct devplat_fixture t;
	char got[128];

	devplat_fixture_opts(&o, NOW);
	o.revoke_pck_ca = true;
	plat_new_opts(&t, &o);
	plat_status(&t, "UpToDate", NULL);
	assert_int_not_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
	assert_string_equal(got, "sgx.pck.chain.revoked");
	devplat_fixture_down(&t);
}

static void expired_or_not_yet_valid_collateral_is_refused(void **state)
{
	struct intel_devplat_tcb_level l = {0};
	struct devplat_fixture t;
	char got[128];

	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11;
	l.status = "UpToDate";

	plat_new(&t);
	plat_collateral(&t, 3, &l, 1, NULL, NOW - 40 * DAY, NOW - 10 * DAY, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_COLLATERAL);
	assert_string_equal(got, "sgx.tcbinfo.expired");
	devplat_fixture_down(&t);

	plat_new(&t);
	plat_collateral(&t, 3, &l, 1, NULL, NOW + DAY, NOW + 30 * DAY, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_COLLATERAL);
	assert_string_equal(got, "sgx.tcbinfo.not_yet_valid");
	devplat_fixture_down(&t);

	plat_new(&t);
	{
		struct intel_devplat_qe_identity qe;

		intel_devplat_qe_identity_default(&qe);
		qe.issue_date = NOW - 40 * DAY;
		qe.next_update = NOW - DAY;
		plat_collateral(&t, 3, &l, 1, &qe, 0, 0, 0, 0);
	}
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_COLLATERAL);
	assert_string_equal(got, "sgx.qeid.expired");
	devplat_fixture_down(&t);

	plat_new(&t);
	plat_collateral(&t, 3, &l, 1, NULL, 0, 0, NOW - 40 * DAY, NOW - DAY);
	assert_int_not_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
	assert_non_null(strstr(got, "crl"));
	devplat_fixture_down(&t);
}

static void check_qe_identity_mismatch(void (*tweak)(struct intel_devplat_qe_identity *), const char *want)
{
	struct intel_devplat_tcb_level l = {0};
	struct intel_devplat_qe_identity qe;
	struct devplat_fixture t;
	char got[128];

	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11;
	l.status = "UpToDate";
	plat_new(&t);
	intel_devplat_qe_identity_default(&qe);
	tweak(&qe);
	plat_collateral(&t, 3, &l, 1, &qe, 0, 0, 0, 0);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_VERIFY);
	assert_string_equal(got, want);
	devplat_fixture_down(&t);
}

static void tweak_mrsigner(struct intel_devplat_qe_identity *q)
{
	q->mrsigner[5] ^= 1;
}
static void tweak_prodid(struct intel_devplat_qe_identity *q)
{
	q->isvprodid = 2;
}
static void tweak_attributes(struct intel_devplat_qe_identity *q)
{
	q->attributes[0] = 0x13;
}
static void tweak_miscselect(struct intel_devplat_qe_identity *q)
{
	q->miscselect = 1;
}

static void a_qe_that_is_not_the_identity_is_refused(void **state)
{
	check_qe_identity_mismatch(tweak_mrsigner, "sgx.qeid.mismatch.mrsigner");
	check_qe_identity_mismatch(tweak_prodid, "sgx.qeid.mismatch.isvprodid");
	check_qe_identity_mismatch(tweak_attributes, "sgx.qeid.mismatch.attributes");
	check_qe_identity_mismatch(tweak_miscselect, "sgx.qeid.mismatch.miscselect");
}

static void a_debug_enclave_is_reported_debuggable(void **state)
{
	struct intel_devplat_enclave e;
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	intel_devplat_enclave_default(&e);
	e.flags |= SGX_FLAGS_DEBUG;
	q = plat_quote(&t, 3, &e, NULL, 0, &len);
	assert_int_equal(plat_verify(&t, q, len, cs, &err), ATTEST_OK);
	assert_true(json_is_true(claim_set_get(cs, "x-ms-sgx-is-debuggable")));
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void runtime_and_init_time_data_bind_to_report_data_and_config_id(void **state)
{
	static const char rt[] = "{\"keys\":[]}", it[] = "{\"cfg\":1}";
	struct intel_devplat_enclave e;
	struct evidence_input in = {0};
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	intel_devplat_enclave_default(&e);
	e.flags |= SGX_FLAGS_KSS;
	sha256(rt, strlen(rt), e.reportdata);
	sha256(it, strlen(it), e.configid);
	e.configsvn = 3;
	q = plat_quote(&t, 3, &e, NULL, 0, &len);
	in.evidence = q, in.evidence_len = len;
	in.runtime_data = (const uint8_t *)rt, in.runtime_data_len = strlen(rt),
	in.runtime_data_type = EVIDENCE_DATA_JSON;
	in.init_data = (const uint8_t *)it, in.init_data_len = strlen(it),
	in.init_data_type = EVIDENCE_DATA_JSON;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
	assert_true(json_is_object(claim_set_get(cs, "x-ms-runtime")));
	assert_true(json_is_object(claim_set_get(cs, "x-ms-inittime")));
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-sgx-config-svn")), 3);
	assert_non_null(claim_set_get(cs, "x-ms-sgx-isv-family-id"));
	claim_set_free(cs);
	/* One byte more of runtime data: refused. */
	cs = claim_set_new();
	in.runtime_data_len--;
	attest_err_clear(&err);
	assert_int_equal(sgx_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "sgx.runtime_data.mismatch");
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void quote_versions_4_and_5_and_trailing_bytes_verify(void **state)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE], *q;
	struct devplat_fixture t;
	size_t len;
	int v;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	for (v = 3; v <= 5; v++) {
		struct claim_set *cs = claim_set_new();
		struct attest_err err;

		intel_devplat_quote_default(&s);
		s.version = v;
		s.body = body;
		s.body_len = sizeof(body);
		s.trailing = v == 4 ? 70 : 0;
		assert_int_equal(intel_devplat_make_quote(t.p, &s, &q, &len, NULL), ATTEST_OK);
		if (plat_verify(&t, q, len, cs, &err) != ATTEST_OK)
			fail_msg("v%d: %s: %s", v, err.name, err.msg);
		claim_set_free(cs);
		free(q);
	}
	devplat_fixture_down(&t);
}

static void a_platform_ca_pck_with_seven_extension_entries_verifies(void **state)
{
	struct intel_devplat_opts o;
	struct devplat_fixture t;
	char got[128];

	devplat_fixture_opts(&o, NOW);
	o.ca = PCK_CA_PLATFORM;
	plat_new_opts(&t, &o);
	plat_status(&t, "UpToDate", NULL);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_OK);
	devplat_fixture_down(&t);
}

static void a_ppid_certification_data_is_resolved_through_the_source(void **state)
{
	static const uint8_t ppid[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	q = plat_quote(&t, 3, NULL, NULL, QUOTE_CERT_PPID_CLEARTEXT, &len);
	/* Not there yet: the source has no PCK certificate for it. */
	assert_int_equal(plat_verify(&t, q, len, cs, &err), ATTEST_E_COLLATERAL);
	assert_string_equal(err.name, "sgx.collateral.pck_cert");
	assert_int_equal(intel_devplat_write_pck_cert(t.p, t.dir, ppid, 16, NULL), ATTEST_OK);
	if (plat_verify(&t, q, len, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

/* Types 2/3: an encrypted PPID's hex is over NAME_MAX, so the folder names the file by its SHA-256. */
static void an_encrypted_ppid_is_resolved_through_a_hashed_file_name(void **state)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	uint8_t body[SGX_REPORT_BODY_SIZE], ppid[384], *q = NULL;
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char name[96], path[256];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(ppid); i++)
		ppid[i] = (uint8_t)(i * 7 + 1);
	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	intel_devplat_quote_default(&s);
	s.version = 3;
	s.body = body;
	s.body_len = sizeof(body);
	s.cert_type = QUOTE_CERT_PPID_RSA3072_ENCRYPTED;
	s.ppid = ppid;
	s.ppid_len = sizeof(ppid);
	assert_int_equal(intel_devplat_make_quote(t.p, &s, &q, &len, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_pck_cert(t.p, t.dir, ppid, sizeof(ppid), NULL), ATTEST_OK);
	assert_int_equal(collateral_file_pck_name(ppid, sizeof(ppid), name, sizeof(name)), ATTEST_OK);
	assert_int_equal(strlen(name), strlen("pck_.pem") + 64);
	snprintf(path, sizeof(path), "%s/%s", t.dir, name);
	assert_int_equal(access(path, R_OK), 0);
	if (plat_verify(&t, q, len, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-sgx-tcb-status")), "UpToDate");
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void a_pck_leaf_certification_data_gets_its_ca_from_the_crl_issuer_chain(void **state)
{
	struct devplat_fixture t;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	size_t len;
	uint8_t *q;
	int i;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	q = plat_quote(&t, 4, NULL, NULL, QUOTE_CERT_PCK_CLEARTEXT, &len);
	for (i = 0; i < 2; i++) { /* cold, then from the cache */
		if (plat_verify(&t, q, len, cs, &err) != ATTEST_OK)
			fail_msg("%s: %s", err.name, err.msg);
	}
	claim_set_free(cs);
	free(q);
	devplat_fixture_down(&t);
}

static void collateral_for_another_fmspc_is_refused(void **state)
{
	static const uint8_t other[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	struct intel_devplat_tcb_level l = {0};
	struct intel_devplat_tcb_info ti = {0};
	struct intel_devplat_qe_identity qe;
	struct devplat_fixture t;
	char *tb, *qb, got[128];
	size_t tl, ql;

	plat_new(&t);
	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11;
	l.status = "UpToDate";
	ti.version = 3, ti.id = "SGX", ti.levels = &l, ti.n_levels = 1, ti.fmspc = other;
	intel_devplat_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_tcb_info(t.p, &ti, &tb, &tl, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_qe_identity(t.p, &qe, &qb, &ql, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_collateral(t.p, t.dir, tb, tl, qb, ql, 0, 0, NULL), ATTEST_OK);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_COLLATERAL);
	assert_string_equal(got, "sgx.tcbinfo.fmspc");
	free(tb);
	free(qb);
	devplat_fixture_down(&t);
}

static void a_tampered_tcb_info_is_refused(void **state)
{
	struct intel_devplat_tcb_level l = {0};
	struct intel_devplat_tcb_info ti = {0};
	struct intel_devplat_qe_identity qe;
	struct devplat_fixture t;
	char *tb, *qb, *at, got[128];
	size_t tl, ql;

	plat_new(&t);
	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11;
	l.status = "OutOfDate";
	ti.version = 3, ti.id = "SGX", ti.levels = &l, ti.n_levels = 1;
	intel_devplat_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_tcb_info(t.p, &ti, &tb, &tl, NULL), ATTEST_OK);
	/* Promote the level after signing: same length, different bytes. */
	at = strstr(tb, "\"OutOfDate\"");
	assert_non_null(at);
	memcpy(at, "\"UpToDate\" ", 11);
	assert_int_equal(intel_devplat_qe_identity(t.p, &qe, &qb, &ql, NULL), ATTEST_OK);
	assert_int_equal(intel_devplat_write_collateral(t.p, t.dir, tb, tl, qb, ql, 0, 0, NULL), ATTEST_OK);
	assert_int_equal(verify_default(&t, got, sizeof(got)), ATTEST_E_VERIFY);
	assert_string_equal(got, "sgx.tcbinfo.signature");
	free(tb);
	free(qb);
	devplat_fixture_down(&t);
}

static void oe_reports_and_evidence_with_custom_claims_verify(void **state)
{
	static const char *const names[] = {"nonce", "key"};
	static const uint8_t v0[] = {1, 2, 3}, v1[] = "pubkey";
	const uint8_t *values[] = {v0, v1};
	const size_t lens[] = {sizeof(v0), sizeof(v1)};
	struct intel_devplat_enclave e;
	struct evidence_input in = {0};
	struct devplat_fixture t;
	struct claim_set *cs;
	struct attest_err err;
	uint8_t *claims, *q, *ev, *rep;
	size_t clen, qlen, elen, rlen;
	const json_t *cc;

	plat_new(&t);
	plat_status(&t, "UpToDate", NULL);
	assert_int_equal(intel_devplat_oe_custom_claims(names, values, lens, 2, &claims, &clen), ATTEST_OK);
	intel_devplat_enclave_default(&e);
	sha256(claims, clen, e.reportdata);
	q = plat_quote(&t, 3, &e, NULL, 0, &qlen);
	assert_int_equal(intel_devplat_oe_evidence(q, qlen, claims, clen, true, &ev, &elen), ATTEST_OK);
	in.evidence = ev, in.evidence_len = elen;
	cs = claim_set_new();
	attest_err_clear(&err);
	if (oe_verify(&t.ctx, &in, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	cc = claim_set_get(cs, "x-ms-oe-custom-claims");
	assert_string_equal(json_string_value(json_object_get(cc, "nonce")), "AQID");
	claim_set_free(cs);
	/* A flipped claim byte no longer hashes to REPORTDATA. */
	ev[elen - 1] ^= 1;
	cs = claim_set_new();
	attest_err_clear(&err);
	assert_int_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "oe.custom_claims.mismatch");
	claim_set_free(cs);
	/* The legacy OE report of the same quote. */
	assert_int_equal(intel_devplat_oe_report(q, qlen, &rep, &rlen), ATTEST_OK);
	in.evidence = rep, in.evidence_len = rlen;
	cs = claim_set_new();
	attest_err_clear(&err);
	assert_int_equal(oe_verify(&t.ctx, &in, cs, &err), ATTEST_OK);
	claim_set_free(cs);
	free(rep);
	free(ev);
	free(q);
	free(claims);
	devplat_fixture_down(&t);
}

/* Writes prefix ‖ data as <ATTEST_SOURCE_DIR>/fuzz/<rel>/<name>. */
static void write_seed(const char *rel, const char *name, uint8_t prefix, const void *data, size_t len)
{
	const char *src = getenv("ATTEST_SOURCE_DIR");
	char path[4096];
	FILE *f;

	char *slash;

	snprintf(path, sizeof(path), "%s/fuzz/%s", src, rel);
	for (slash = strchr(path + strlen(src) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/fuzz/%s/%s", src, rel, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(&prefix, 1, 1, f), 1);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void platforms_sharing_a_key_dir_share_one_pki(void **state)
{
	static const char *const keys[] = {"root.key", "pck_ca.key", "pck.key", "tcb_signing.key",
					   "attestation.key"};
	struct intel_devplat_opts o;
	struct devplat_fixture a, b;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char kd[64], path[128];
	size_t len, i;
	uint8_t *q;

	snprintf(kd, sizeof(kd), "/tmp/attest-keys-XXXXXX");
	assert_non_null(mkdtemp(kd));
	devplat_fixture_opts(&o, NOW);
	o.key_dir = kd;
	plat_new_opts(&a, &o);
	plat_new_opts(&b, &o); /* a second "process": same keys, certificates re-issued */
	plat_status(&b, "UpToDate", NULL);
	q = plat_quote(&a, 3, NULL, NULL, 0, &len);
	/* A quote of platform a verifies against b's anchors and collateral. */
	if (plat_verify(&b, q, len, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	free(q);
	claim_set_free(cs);
	devplat_fixture_down(&a);
	devplat_fixture_down(&b);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", kd, keys[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		unlink(path);
	}
	rmdir(kd);
}

static void fuzz_seeds_are_written_when_asked(void **state)
{
	struct intel_devplat_enclave e;
	struct intel_devplat_quote s;
	struct intel_devplat_tcb_level l = {0};
	struct intel_devplat_tcb_info ti = {0};
	struct intel_devplat_qe_identity qe;
	struct intel_devplat_opts o;
	uint8_t body[SGX_REPORT_BODY_SIZE], *q, *w;
	struct buf ext;
	struct devplat_fixture t;
	char *json, name[32];
	size_t len, wlen;
	int v;

	if (getenv("ATTEST_WRITE_FUZZ_CORPUS") == NULL || getenv("ATTEST_SOURCE_DIR") == NULL)
		skip();
	plat_new(&t);
	intel_devplat_enclave_default(&e);
	intel_devplat_report_body(&e, body);
	for (v = 3; v <= 5; v++) {
		intel_devplat_quote_default(&s);
		s.version = v, s.body = body, s.body_len = sizeof(body);
		assert_int_equal(intel_devplat_make_quote(t.p, &s, &q, &len, NULL), ATTEST_OK);
		snprintf(name, sizeof(name), "synthetic-v%d", v);
		write_seed("evidence/corpus/fuzz_sgx_quote", name, 0, q, len);
		if (v == 3) {
			assert_int_equal(intel_devplat_oe_report(q, len, &w, &wlen), ATTEST_OK);
			write_seed("evidence/corpus/fuzz_sgx_quote", "synthetic-oe-report", 1, w, wlen);
			free(w);
			assert_int_equal(intel_devplat_oe_evidence(q, len, NULL, 0, true, &w, &wlen),
					 ATTEST_OK);
			write_seed("evidence/corpus/fuzz_sgx_quote", "synthetic-oe-evidence", 1, w, wlen);
			free(w);
		}
		free(q);
	}
	memcpy(l.sgx, PLATFORM_COMPS, 16);
	l.pcesvn = 11, l.status = "SWHardeningNeeded", l.advisories = "INTEL-SA-00615";
	for (v = 2; v <= 3; v++) {
		ti.version = v, ti.id = "SGX", ti.levels = &l, ti.n_levels = 1;
		assert_int_equal(intel_devplat_tcb_info(t.p, &ti, &json, &len, NULL), ATTEST_OK);
		snprintf(name, sizeof(name), "tcbinfo-v%d", v);
		write_seed("collateral/corpus/fuzz_collateral_json", name, 0, json, len);
		free(json);
	}
	intel_devplat_qe_identity_default(&qe);
	assert_int_equal(intel_devplat_qe_identity(t.p, &qe, &json, &len, NULL), ATTEST_OK);
	write_seed("collateral/corpus/fuzz_collateral_json", "qe-identity", 1, json, len);
	free(json);
	intel_devplat_opts_default(&o, NOW);
	for (v = 0; v <= 1; v++) {
		o.ca = v ? PCK_CA_PLATFORM : PCK_CA_PROCESSOR;
		buf_init(&ext, 1 << 16);
		assert_int_equal(intel_devplat_sgx_extension(&o, (const uint8_t *)"0123456789abcdef", &ext),
				 0);
		/* the target takes the DER as is: write it without a prefix byte */
		write_seed("evidence/corpus/fuzz_sgx_pck_ext", v ? "platform-ca" : "processor-ca", ext.p[0],
			   ext.p + 1, ext.len - 1);
		buf_free(&ext);
	}
	devplat_fixture_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_platform_status_is_reported_as_the_matching_level_says),
	    cmocka_unit_test(a_revoked_tcb_level_is_refused_after_the_signatures_verified),
	    cmocka_unit_test(a_platform_below_every_level_is_refused_as_tcb_level_not_supported),
	    cmocka_unit_test(an_out_of_date_qe_converges_the_status_as_qvl_does),
	    cmocka_unit_test(a_revoked_or_unlisted_qe_is_refused),
	    cmocka_unit_test(advisory_ids_are_the_union_of_the_platform_and_qe_levels),
	    cmocka_unit_test(levels_are_matched_highest_first_whatever_their_order),
	    cmocka_unit_test(tcb_info_version_2_is_evaluated_like_version_3),
	    cmocka_unit_test(a_revoked_pck_certificate_is_refused),
	    cmocka_unit_test(a_revoked_pck_ca_is_refused),
	    cmocka_unit_test(expired_or_not_yet_valid_collateral_is_refused),
	    cmocka_unit_test(a_qe_that_is_not_the_identity_is_refused),
	    cmocka_unit_test(a_debug_enclave_is_reported_debuggable),
	    cmocka_unit_test(runtime_and_init_time_data_bind_to_report_data_and_config_id),
	    cmocka_unit_test(quote_versions_4_and_5_and_trailing_bytes_verify),
	    cmocka_unit_test(a_platform_ca_pck_with_seven_extension_entries_verifies),
	    cmocka_unit_test(a_ppid_certification_data_is_resolved_through_the_source),
	    cmocka_unit_test(an_encrypted_ppid_is_resolved_through_a_hashed_file_name),
	    cmocka_unit_test(a_pck_leaf_certification_data_gets_its_ca_from_the_crl_issuer_chain),
	    cmocka_unit_test(collateral_for_another_fmspc_is_refused),
	    cmocka_unit_test(a_tampered_tcb_info_is_refused),
	    cmocka_unit_test(oe_reports_and_evidence_with_custom_claims_verify),
	    cmocka_unit_test(platforms_sharing_a_key_dir_share_one_pki),
	    cmocka_unit_test(fuzz_seeds_are_written_when_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
