/*
 * Azure guest attestation of a TDX-isolated VM (maa-interface.md §1.3.6:
 * IsolationInfo Type "Tdx", Proof = the TD quote): a synthetic TD quote
 * (devplat/tdx.h, collateral in a file source) whose REPORTDATA binds the
 * HCL runtime data carrying the vTPM AIK, plus a software vTPM quote, TCG
 * log and TPM2_Certify. Verifies with the TDX claims nested in
 * x-ms-isolation-tee; refused when the TD quote binds other runtime data
 * or the runtime data names another AIK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "base/codec.h"
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "devplat/azure_guest_dev.h"
#include "devplat/intel.h"
#include "devplat/snp_plat.h"
#include "devplat/tdx.h"
#include "devplat/tpm_dev.h"
#include "evidence/azure_guest.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#define NOW 1750000000

static const struct intel_devplat_tcb_level LEVELS[] = {
    {{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 13, true, {5, 1, 2}, "UpToDate", NULL, NULL},
};
static const struct intel_devplat_module_level MODULE_LEVELS[] = {{4, "UpToDate", NULL}};

struct world {
	struct intel_devplat *p;
	char dir[64];
	struct collateral_source *src;
	STACK_OF(X509) * roots;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
	EVP_PKEY *ak, *enc, *other;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	uint8_t *aik_pub, *quote, *qsig, *enc_pub, *cert, *csig;
	size_t aik_pub_len, quote_len, qsig_len, enc_pub_len, cert_len, csig_len;
	const struct azure_guest_opts *opts; /* provider options of the next attest() */
	bool debug_td;			     /* the next TD is debuggable */
};

static void intel_up(struct world *w)
{
	struct intel_devplat_opts o;
	struct intel_devplat_tcb_info ti;
	struct intel_devplat_qe_identity qi;
	struct intel_devplat_module mod;
	struct attest_err err;
	char *tcb = NULL, *qe = NULL;
	size_t tcb_len, qe_len;

	intel_devplat_opts_default(&o, NOW);
	o.ca = PCK_CA_PLATFORM;
	memcpy(o.fmspc, "\x90\xc0\x6f\x00\x00\x00", 6);
	memset(o.comp_svn, 5, sizeof(o.comp_svn));
	o.pcesvn = 13;
	if (intel_devplat_new(&o, &w->p, &err) != 0)
		fail_msg("devplat: %s: %s", err.name, err.msg);
	memset(&mod, 0, sizeof(mod));
	mod.id = "TDX_01";
	mod.levels = MODULE_LEVELS;
	mod.n_levels = 1;
	tdx_devplat_tcb_info_default(&ti, LEVELS, 1, &mod, 1);
	tdx_devplat_td_qe_identity_default(&qi);
	assert_int_equal(intel_devplat_tcb_info(w->p, &ti, &tcb, &tcb_len, &err), 0);
	assert_int_equal(intel_devplat_qe_identity(w->p, &qi, &qe, &qe_len, &err), 0);
	strcpy(w->dir, "/tmp/attest-azg-tdx-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	if (intel_devplat_write_collateral(w->p, w->dir, tcb, tcb_len, qe, qe_len, 0, 0, &err) != 0)
		fail_msg("collateral: %s: %s", err.name, err.msg);
	free(tcb);
	free(qe);
	assert_int_equal(collateral_file_source_new(w->dir, &w->src, &err), 0);
	w->roots = intel_devplat_roots(w->p);
	w->anchors.intel_sgx_roots = w->roots;
	w->ctx.now = NOW;
	w->ctx.anchors = &w->anchors;
	w->ctx.collateral = w->src;
}

static void vtpm_up(struct world *w)
{
	struct devplat_boot boot = {.secure_boot = true};
	struct tpm_pcr_values all;

	w->ak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	w->enc = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	w->other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_int_equal(devplat_tcg_log_init(&w->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&w->log, &boot), 0);
	devplat_tcg_log_pcrs(&w->log, &all);
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		tpm_pcr_set(&w->pcrs, TPM_BANK_SHA256, i, all.v[TPM_BANK_SHA256][i], 32, NULL);
	assert_int_equal(devplat_azg_tpm_public(w->ak, true, &w->aik_pub, &w->aik_pub_len, NULL), 0);
	assert_int_equal(devplat_tpm_quote(w->ak, &w->pcrs, TPM_BANK_SHA256, 0xFFFFFF, NULL, 0, &w->quote,
					   &w->quote_len, &w->qsig, &w->qsig_len, NULL),
			 0);
	assert_int_equal(devplat_azg_tpm_public(w->enc, false, &w->enc_pub, &w->enc_pub_len, NULL), 0);
	assert_int_equal(devplat_azg_certify(w->ak, w->enc_pub, w->enc_pub_len, &w->cert, &w->cert_len,
					     &w->csig, &w->csig_len, NULL),
			 0);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	intel_up(w);
	vtpm_up(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
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
	EVP_PKEY_free(w->ak), EVP_PKEY_free(w->enc), EVP_PKEY_free(w->other);
	devplat_tcg_log_free(&w->log);
	free(w->aik_pub), free(w->quote), free(w->qsig), free(w->enc_pub), free(w->cert), free(w->csig);
	free(w);
	return 0;
}

/*
 * Verifies a request whose TD quote binds `bound` (REPORTDATA = SHA-256 of
 * it) and whose RunTimeData is `sent`; claims in set.
 */
static int attest(struct world *w, const char *bound, const char *sent, struct claim_set *set,
		  struct attest_err *err)
{
	struct tdx_devplat_td td;
	struct devplat_azg_request rq = {0};
	struct evidence_input in = {0};
	uint8_t *q = NULL;
	size_t qlen = 0;
	char *text = NULL;
	int rc;

	tdx_devplat_td_default(&td);
	if (w->debug_td)
		td.td_attributes |= 1; /* TDATTRIBUTES.DEBUG */
	memset(td.report_data, 0, sizeof(td.report_data));
	assert_int_equal(sha256(bound, strlen(bound), td.report_data), 0);
	if (tdx_devplat_make_quote(w->p, 4, &td, NULL, 0, &q, &qlen, err) != 0)
		fail_msg("make quote: %s: %s", err->name, err->msg);
	rq.os_type = "Linux";
	rq.log.p = w->log.log.p, rq.log.n = w->log.log.len;
	rq.aik_pub.p = w->aik_pub, rq.aik_pub.n = w->aik_pub_len;
	rq.quote.p = w->quote, rq.quote.n = w->quote_len;
	rq.quote_sig.p = w->qsig, rq.quote_sig.n = w->qsig_len;
	rq.enc_pub.p = w->enc_pub, rq.enc_pub.n = w->enc_pub_len;
	rq.certify.p = w->cert, rq.certify.n = w->cert_len;
	rq.certify_sig.p = w->csig, rq.certify_sig.n = w->csig_len;
	rq.pcr_set = 0xFFFFFF;
	rq.pcrs = &w->pcrs;
	rq.isolation_type = "Tdx";
	rq.proof.p = q, rq.proof.n = qlen;
	rq.runtime.p = (const uint8_t *)sent, rq.runtime.n = strlen(sent);
	assert_int_equal(devplat_azg_request_json(&rq, &text, NULL), 0);
	in.evidence = (const uint8_t *)text, in.evidence_len = strlen(text);
	attest_err_clear(err);
	rc = azure_guest_verify_with(&w->ctx, w->opts, &in, set, err);
	free(text);
	free(q);
	return rc;
}

static void tdx_cvm_verifies_with_the_td_claims_nested(void **state)
{
	struct world *w = *state;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char *rt = snp_plat_hcl_runtime_json(w->ak);
	const json_t *tee;

	if (attest(w, rt, rt, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-attestation-type")), "azurevm");
	tee = claim_set_get(cs, "x-ms-isolation-tee");
	assert_non_null(json_object_get(tee, "tdx_mrtd"));
	assert_non_null(json_object_get(json_object_get(tee, "x-ms-runtime"), "keys"));
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-azurevm-vmid")),
			    "00000000-0000-4000-8000-000000000001");
	claim_set_free(cs);
	free(rt);
}

static void td_quote_binding_other_runtime_data_is_refused(void **state)
{
	struct world *w = *state;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char *rt = snp_plat_hcl_runtime_json(w->ak), *rt2 = snp_plat_hcl_runtime_json(w->other);

	assert_int_not_equal(attest(w, rt2, rt, cs, &err), ATTEST_OK);
	assert_int_equal(strncmp(err.name, "tdx.", 4), 0);
	assert_int_equal(claim_set_count(cs), 0);
	/* Bound, but naming another AIK than the vTPM's. */
	assert_int_equal(attest(w, rt2, rt2, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "hcl.ak_mismatch");
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
	free(rt);
	free(rt2);
}

/* The nested compliance status with these published MRTDs (NULL when absent). */
static const char *tdx_compliance(struct world *w, const uint8_t (*m)[48], size_t n, bool debug)
{
	struct azure_guest_opts o = {.cvm_measurements = m, .n_cvm_measurements = n};
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char *rt = snp_plat_hcl_runtime_json(w->ak);
	const char *v;
	static char out[64];

	w->opts = &o, w->debug_td = debug;
	if (attest(w, rt, rt, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	w->opts = NULL, w->debug_td = false;
	v = json_string_value(
	    json_object_get(claim_set_get(cs, "x-ms-isolation-tee"), "x-ms-compliance-status"));
	snprintf(out, sizeof(out), "%s", v ? v : "");
	claim_set_free(cs);
	free(rt);
	return out[0] ? out : NULL;
}

static void tdx_compliance_status_needs_a_published_mrtd(void **state)
{
	struct world *w = *state;
	struct tdx_devplat_td td;
	uint8_t m[2][48];

	tdx_devplat_td_default(&td);
	memset(m[0], 0xEE, 48);
	memcpy(m[1], td.mrtd, 48);
	assert_null(tdx_compliance(w, NULL, 0, false));
	assert_string_equal(tdx_compliance(w, (const uint8_t(*)[48])m, 2, false), "azure-compliant-cvm");
	assert_null(tdx_compliance(w, (const uint8_t(*)[48])m, 1, false));
	assert_null(tdx_compliance(w, (const uint8_t(*)[48])m, 2, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tdx_cvm_verifies_with_the_td_claims_nested),
	    cmocka_unit_test(td_quote_binding_other_runtime_data_is_refused),
	    cmocka_unit_test(tdx_compliance_status_needs_a_published_mrtd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
