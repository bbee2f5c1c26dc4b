/*
 * Azure guest attestation (maa-interface.md §1.3.6, §2.6): the real Azure
 * CVM artifacts of ../shared/vectors/azure-cvm checked as EXPECTED.md says
 * (the vTPM quote verifies with its AK; the SNP HCL report is refused with
 * the VCEK of another chip), and a synthetic confidential VM end to end
 * (synthetic SNP report binding a synthetic AIK, software quote and TCG
 * log, TPM2_Certify of an ephemeral key), its sealed token, and the
 * refusals issue 8 lists.
 */
#include "base/buf.h"
#include "base/codec.h"
#include "claims/claims.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "devplat/azure_guest_dev.h"
#include "devplat/snp_plat.h"
#include "devplat/tpm_ca.h"
#include "devplat/tpm_dev.h"
#include "evidence/azure_cvm.h"
#include "evidence/azure_guest.h"
#include "evidence/tcg_log.h"
#include "sweep.h"
#include "testutil.h"
#include "server/pipeline.h"
#include "token/request.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define NOW  1700000000
#define MASK (((1u << 8) - 1) | 0x7800u) /* PCR 0-7, 11-14 */

static uint8_t *read_vec(const char *dir, const char *rel, size_t *n)
{
	uint8_t *p = test_read_vector(dir, rel, n);

	assert_non_null(p);
	return p;
}

/* ---- real vectors ------------------------------------------------------------- */

static EVP_PKEY *real_ak(const char *dir)
{
	size_t n = 0;
	uint8_t *pem = read_vec(dir, "azure-cvm/akpub.pem", &n);
	BIO *b = BIO_new_mem_buf(pem, (int)n);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);

	BIO_free(b);
	free(pem);
	assert_non_null(k);
	return k;
}

/* The raw RSASSA signature as the TPMT_SIGNATURE a vTPM returns (Part 2 §11.3). */
static uint8_t *rsassa_tpmt(const uint8_t *sig, size_t n, size_t *len)
{
	uint8_t *t = malloc(n + 6);

	t[0] = 0x00, t[1] = 0x14, t[2] = 0x00, t[3] = 0x0B;
	t[4] = (uint8_t)(n >> 8), t[5] = (uint8_t)n;
	memcpy(t + 6, sig, n);
	*len = n + 6;
	return t;
}

static void real_pcrs(const char *dir, struct tpm_pcr_values *pcrs)
{
	size_t n = 0;
	uint8_t *txt = read_vec(dir, "azure-cvm/vtpm-pcrs-sha256.json", &n);
	json_t *j = json_loadb((const char *)txt, n, 0, NULL);

	memset(pcrs, 0, sizeof(*pcrs));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		char k[4];
		uint8_t d[32];
		const json_t *v;

		snprintf(k, sizeof(k), "%u", i);
		v = json_object_get(j, k);
		assert_true(json_is_string(v));
		assert_int_equal(hex_decode_to(json_string_value(v), json_string_length(v), d, 32), 0);
		assert_int_equal(tpm_pcr_set(pcrs, TPM_BANK_SHA256, i, d, 32, NULL), 0);
	}
	json_decref(j);
	free(txt);
}

static void real_vtpm_quote_verifies_with_its_ak_and_nonce(void **state)
{
	struct tpm_pcr_values pcrs;
	struct tpm_quote_in q = {0};
	struct tpm_quote_out o;
	struct tpm_aik_trust t = {.now = NOW};
	struct attest_err err;
	uint8_t h[32], *att, *raw, *sig;
	size_t an = 0, rn = 0, sn = 0;
	EVP_PKEY *ak;

	(void)state;
	REQUIRE_VECTORS(dir);
	ak = real_ak(dir);
	real_pcrs(dir, &pcrs);
	att = read_vec(dir, "azure-cvm/vtpm-quote.tpms_attest.bin", &an);
	raw = read_vec(dir, "azure-cvm/vtpm-quote.rsassa-sig.bin", &rn);
	sig = rsassa_tpmt(raw, rn, &sn);
	assert_int_equal(tpm_pkey_spki_sha256(ak, h), 0);
	t.registered = (const uint8_t(*)[32])h;
	t.n_registered = 1;
	q.attest = att, q.attest_len = an, q.sig = sig, q.sig_len = sn, q.aik = ak;
	q.nonce = (const uint8_t *)"challenge", q.nonce_len = 9;
	q.required_pcr_mask = 0xFFFFFF, q.required_bank = TPM_BANK_SHA256, q.pcrs = &pcrs;
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&q, &t, &o, &err), ATTEST_OK);
	/* Another nonce, or one altered PCR value, is refused. */
	q.nonce = (const uint8_t *)"challengf";
	attest_err_clear(&err);
	assert_int_equal(tpm_quote_verify(&q, &t, &o, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.nonce");
	q.nonce = (const uint8_t *)"challenge";
	pcrs.v[TPM_BANK_SHA256][7][0] ^= 1;
	attest_err_clear(&err); /* an error record keeps its first error */
	assert_int_equal(tpm_quote_verify(&q, &t, &o, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.quote.pcr_digest");
	free(att);
	free(raw);
	free(sig);
	EVP_PKEY_free(ak);
}

/*
 * An AzureGuest request built from the real SNP CVM pieces: the SNP report
 * of hcl-report-snp.bin with certs.pem and its runtime data. EXPECTED.md:
 * the VCEK is of another chip, so the request is refused at the isolation
 * evidence, before the AIK (akpub.pem, another VM's) could be trusted.
 */
static void real_snp_isolation_is_refused_with_the_vcek_of_another_chip(void **state)
{
	struct evidence_ctx ctx = {.now = NOW};
	struct evidence_input in = {0};
	struct devplat_azg_request rq = {0};
	struct claim_set *cs;
	struct hcl_report h;
	struct tpm_pcr_values pcrs;
	struct attest_err err;
	size_t n = 0, m = 0, apl = 0;
	uint8_t *hcl, *pem, *ap = NULL;
	char *b64r, *b64c, *proof, *text = NULL;
	EVP_PKEY *ak;

	(void)state;
	REQUIRE_VECTORS(dir);
	cs = claim_set_new();
	hcl = read_vec(dir, "azure-cvm/hcl-report-snp.bin", &n);
	pem = read_vec(dir, "azure-cvm/certs.pem", &m);
	assert_int_equal(hcl_report_parse(hcl, n, &h, NULL), 0);
	b64r = b64url_encode(h.hw_report, SNP_REPORT_SIZE);
	b64c = b64url_encode(pem, m);
	assert_true(asprintf(&proof, "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", b64r, b64c) > 0);
	ak = real_ak(dir);
	real_pcrs(dir, &pcrs);
	assert_int_equal(devplat_azg_tpm_public(ak, true, &ap, &apl, NULL), 0);
	rq.os_type = "Linux";
	rq.log.p = (const uint8_t *)"x", rq.log.n = 1;
	rq.aik_pub.p = ap, rq.aik_pub.n = apl;
	rq.quote = rq.quote_sig = rq.enc_pub = rq.certify = rq.certify_sig = rq.log;
	rq.pcr_set = 0xFFFFFF, rq.pcrs = &pcrs;
	rq.isolation_type = "SevSnp";
	rq.proof.p = (const uint8_t *)proof, rq.proof.n = strlen(proof);
	rq.runtime.p = h.var_data, rq.runtime.n = h.var_len;
	assert_int_equal(devplat_azg_request_json(&rq, &text, NULL), 0);
	in.evidence = (const uint8_t *)text, in.evidence_len = strlen(text);
	attest_err_clear(&err);
	assert_int_equal(azure_guest_verify(&ctx, &in, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "snp.vcek.chip_id");
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
	EVP_PKEY_free(ak);
	free(ap);
	free(text);
	free(proof);
	free(b64r);
	free(b64c);
	free(hcl);
	free(pem);
}

/*
 * Real firmware logs (go-attestation test data: GCP Shielded VMs, a Secure
 * Boot certificate log, an option-ROM log): replayed onto themselves, their
 * PCR 7 Secure Boot variables are well-formed signature lists and every db
 * authority is in the measured db (checked independently with Python:
 * vectors' PK/KEK/db/dbx list sizes agree), so the verifier rules nothing
 * out and claims no "validated" verdict.
 */
static void real_secure_boot_variables_are_sound(void **state)
{
	static const char *const logs[] = {
	    "tpm/event-logs/sb_cert_eventlog.bin",			      /* with a db authority */
	    "tpm/event-logs/option_rom_eventlog.bin",			      /* two db authorities */
	    "tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", /* SHA-1 log */
	    "tpm/event-logs/ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin",
	};
	REQUIRE_VECTORS(dir);
	(void)state;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		size_t n = 0;
		uint8_t *p = read_vec(dir, logs[i], &n);
		struct tcg_log *log = NULL;
		struct tpm_pcr_values pcrs;
		struct tcg_boot_state st;
		struct attest_err err;
		uint8_t v[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];

		memset(&pcrs, 0, sizeof(pcrs));
		assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
		for (int b = 0; b < TPM_BANK_COUNT; b++) {
			if (!(log->banks & (1u << b)))
				continue;
			assert_int_equal(tcg_log_replay(log, (enum tpm_bank)b, v, NULL), 0);
			for (unsigned k = 0; k < TPM_PCR_COUNT; k++)
				if (log->extended[b] & (1u << k))
					tpm_pcr_set(&pcrs, (enum tpm_bank)b, k, v[k], tpm_bank_size(b), NULL);
		}
		attest_err_clear(&err);
		if (tcg_log_verify(log, &pcrs, &err) != 0)
			fail_msg("%s: %s %s", logs[i], err.name, err.msg);
		assert_int_equal(tcg_boot_state(log, &st, NULL), 0);
		assert_true(st.pcr7_verified);
		assert_true(st.sb_pk.measured && st.sb_pk.sound);
		assert_true(st.sb_kek.measured && st.sb_kek.sound);
		assert_true(st.sb_db.measured && st.sb_db.sound);
		assert_true(st.sb_dbx.measured && st.sb_dbx.sound);
		tcg_log_free(log);
		free(p);
	}
}

/*
 * A real Windows boot configuration log (the GCP Windows Shielded VM of
 * go-attestation: WBCL SIPA events on PCR 12-14), verified against the PCR
 * values read with its quote. Its records, listed independently with
 * Python: BootDebugging 0, OsKernelDebug 0, TestSigning 0, FlightSigning 0,
 * CodeIntegrity 1, an ElamAggregation (ELAMKeyname, ELAMMeasured: Windows
 * Defender's ELAM driver), no HypervisorDebug and no VbsHVCIPolicy record.
 */
/* The PCR values read with the GCP Windows Shielded VM's quote (SHA-1 bank). */
static void gcp_pcrs(const char *dir, struct tpm_pcr_values *pcrs)
{
	size_t pn = 0, i;
	uint8_t *pj = read_vec(dir, "tpm/gcp-windows-shielded-vm-quote/pcrs.json", &pn);
	json_t *a = json_loadb((const char *)pj, pn, 0, NULL), *e;

	memset(pcrs, 0, sizeof(*pcrs));
	assert_true(json_is_array(a));
	json_array_foreach(a, i, e)
	{
		const char *h = json_string_value(json_object_get(e, "digest_hex"));
		uint8_t d[20];

		assert_int_equal(json_integer_value(json_object_get(e, "digest_alg")), 3); /* SHA-1 */
		assert_int_equal(hex_decode_to(h, strlen(h), d, 20), 0);
		assert_int_equal(tpm_pcr_set(pcrs, TPM_BANK_SHA1,
					     (unsigned)json_integer_value(json_object_get(e, "index")), d, 20,
					     NULL),
				 0);
	}
	json_decref(a);
	free(pj);
}

static void real_windows_log_gives_the_boot_configuration_facts(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t n = 0;
	uint8_t *p = read_vec(dir, "tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", &n);
	struct tcg_log *log = NULL;
	struct tpm_pcr_values pcrs;
	struct tcg_boot_state st;
	struct attest_err err;

	(void)state;
	gcp_pcrs(dir, &pcrs);
	assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
	attest_err_clear(&err);
	if (tcg_log_verify(log, &pcrs, &err) != 0)
		fail_msg("%s %s", err.name, err.msg);
	assert_int_equal(tcg_boot_state(log, &st, NULL), 0);
	assert_true(st.windows);
	assert_false(st.boot_debugging || st.kernel_debug || st.hypervisor_debug);
	assert_false(st.test_signing || st.flight_signing);
	assert_int_equal(st.code_integrity, 1);
	assert_true(st.elam);
	assert_false(st.hvci_seen);
	assert_int_equal(st.secure_boot, 1);
	tcg_log_free(log);
	free(p);
}

/* Verifies bytes as the GCP log against its real PCRs; the boot state when it verifies. */
static int gcp_log_state(const uint8_t *p, size_t n, const struct tpm_pcr_values *pcrs,
			 struct tcg_boot_state *st, struct attest_err *err)
{
	struct tcg_log *log = NULL;
	int rc;

	assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
	attest_err_clear(err);
	rc = tcg_log_verify(log, pcrs, err);
	if (rc == ATTEST_OK)
		assert_int_equal(tcg_boot_state(log, st, NULL), 0);
	tcg_log_free(log);
	return rc;
}

/*
 * The GCP Windows log cut after a whole event, or with PCR 13's events
 * taken out, against its real quoted PCRs: a firmware PCR (0-7) left
 * unaccounted is refused; an OS PCR is not, but then the Windows claims,
 * which read absences, are not made (robust's sweep finding).
 */
static void cut_or_thinned_log_proves_no_absence(void **state)
{
	REQUIRE_VECTORS(dir);
	static const size_t firmware_cuts[] = {34, 12834, 13350}; /* PCR 7, 5, 4 events lost */
	static const size_t pcr13[][2] = {{13808, 14394}, {19135, 41978}, {43252, 43288}};
	size_t n = 0, m = 0;
	uint8_t *p = read_vec(dir, "tpm/gcp-windows-shielded-vm-quote/binary_bios_measurements.bin", &n),
		*thin;
	struct tpm_pcr_values pcrs;
	struct tcg_boot_state st;
	struct attest_err err;

	(void)state;
	gcp_pcrs(dir, &pcrs);
	for (size_t i = 0; i < sizeof(firmware_cuts) / sizeof(firmware_cuts[0]); i++) {
		assert_int_equal(gcp_log_state(p, firmware_cuts[i], &pcrs, &st, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "tcg.replay.incomplete");
	}
	/* Cut before PCR 11-14: verifies, and no Windows facts are read. */
	assert_int_equal(gcp_log_state(p, 13556, &pcrs, &st, &err), ATTEST_OK);
	assert_false(st.windows);
	/* Every PCR 13 event taken out: PCR 12's SIPA alone cannot say what PCR 13 held. */
	thin = malloc(n);
	assert_non_null(thin);
	for (size_t off = 0, k = 0; off < n;) {
		size_t end = k < 3 ? pcr13[k][0] : n;

		memcpy(thin + m, p + off, end - off);
		m += end - off;
		off = k < 3 ? pcr13[k][1] : n;
		k++;
	}
	assert_int_equal(gcp_log_state(thin, m, &pcrs, &st, &err), ATTEST_OK);
	assert_false(st.windows);
	/* The whole log: the Windows facts are there. */
	assert_int_equal(gcp_log_state(p, n, &pcrs, &st, &err), ATTEST_OK);
	assert_true(st.windows);
	free(thin);
	free(p);
}

/* ---- synthetic confidential VM ---------------------------------------------------- */

struct vm {
	struct snp_plat *plat;
	struct snp_plat_leaf leaf;
	STACK_OF(X509) * arks;
	struct evidence_anchors anchors;
	struct evidence_ctx ctx;
	EVP_PKEY *ak, *enc, *other;
	char *runtime, *proof;
	struct devplat_tcg_log log;
	struct tpm_pcr_values pcrs;
	uint8_t *aik_pub, *quote, *qsig, *enc_pub, *cert, *csig;
	size_t aik_pub_len, quote_len, qsig_len, enc_pub_len, cert_len, csig_len;
	struct devplat_azg_request rq;
	char *text;
};

/* A signed SNP report whose REPORT_DATA binds runtime, made at vmpl with extra policy bits. */
static char *snp_proof_at(struct vm *v, const char *runtime, uint32_t vmpl, uint64_t policy_bits)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	uint8_t chip[64];
	struct devplat_azg_snp spec = {.chip_id = chip, .tcb = tcb, .vmpl = vmpl, .policy_bits = policy_bits};
	char *out;

	memset(chip, 0x5A, sizeof(chip));
	out = devplat_azg_snp_proof(v->plat, &v->leaf, &spec, runtime);
	assert_non_null(out);
	return out;
}

/* The same as the HCL at VMPL 0 makes it. */
static char *snp_proof(struct vm *v, const char *runtime)
{
	return snp_proof_at(v, runtime, 0, 0);
}

static void vm_request(struct vm *v)
{
	free(v->text);
	v->text = NULL;
	assert_int_equal(devplat_azg_request_json(&v->rq, &v->text, NULL), 0);
}

static int vm_setup(void **state)
{
	static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 0x73};
	struct snp_plat_opts o = {.product = AMD_PRODUCT_MILAN,
				  .not_before = 1600000000,
				  .not_after = 2000000000,
				  .key_dir = getenv("ATTEST_BINARY_DIR")};
	struct devplat_boot boot = {.secure_boot = true};
	struct vm *v = calloc(1, sizeof(*v));
	uint8_t chip[64];
	struct snp_plat_leaf_spec spec = {.chip_id = chip, .tcb = tcb};
	struct tpm_pcr_values all;

	memset(chip, 0x5A, sizeof(chip));
	assert_int_equal(snp_plat_new(&o, &v->plat, NULL), 0);
	assert_int_equal(snp_plat_issue(v->plat, &spec, &v->leaf, NULL), 0);
	v->arks = sk_X509_new_null();
	sk_X509_push(v->arks, snp_plat_ark(v->plat));
	v->anchors.amd_arks = v->arks;
	v->ctx.now = NOW;
	v->ctx.anchors = &v->anchors;
	/* Every request goes through the key cache, as in the server (its sweep too). */
	v->ctx.tpm_keys = tpm_aik_cache_new(16);
	assert_non_null(v->ctx.tpm_keys);
	v->ak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	v->enc = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	v->other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	v->runtime = snp_plat_hcl_runtime_json(v->ak);
	v->proof = snp_proof(v, v->runtime);
	/* The vTPM: a measured boot, its PCRs quoted by the AIK. */
	assert_int_equal(devplat_tcg_log_init(&v->log), 0);
	assert_int_equal(devplat_tcg_log_boot(&v->log, &boot), 0);
	devplat_tcg_log_pcrs(&v->log, &all);
	memset(&v->pcrs, 0, sizeof(v->pcrs));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (MASK & (1u << i))
			tpm_pcr_set(&v->pcrs, TPM_BANK_SHA256, i, all.v[TPM_BANK_SHA256][i], 32, NULL);
	assert_int_equal(devplat_azg_tpm_public(v->ak, true, &v->aik_pub, &v->aik_pub_len, NULL), 0);
	assert_int_equal(devplat_tpm_quote(v->ak, &v->pcrs, TPM_BANK_SHA256, MASK, NULL, 0, &v->quote,
					   &v->quote_len, &v->qsig, &v->qsig_len, NULL),
			 0);
	assert_int_equal(devplat_azg_tpm_public(v->enc, false, &v->enc_pub, &v->enc_pub_len, NULL), 0);
	assert_int_equal(devplat_azg_certify(v->ak, v->enc_pub, v->enc_pub_len, &v->cert, &v->cert_len,
					     &v->csig, &v->csig_len, NULL),
			 0);
	v->rq.os_type = "Windows";
	v->rq.log.p = v->log.log.p, v->rq.log.n = v->log.log.len;
	v->rq.aik_pub.p = v->aik_pub, v->rq.aik_pub.n = v->aik_pub_len;
	v->rq.quote.p = v->quote, v->rq.quote.n = v->quote_len;
	v->rq.quote_sig.p = v->qsig, v->rq.quote_sig.n = v->qsig_len;
	v->rq.enc_pub.p = v->enc_pub, v->rq.enc_pub.n = v->enc_pub_len;
	v->rq.certify.p = v->cert, v->rq.certify.n = v->cert_len;
	v->rq.certify_sig.p = v->csig, v->rq.certify_sig.n = v->csig_len;
	v->rq.pcr_set = MASK;
	v->rq.pcrs = &v->pcrs;
	v->rq.isolation_type = "SevSnp";
	v->rq.proof.p = (const uint8_t *)v->proof, v->rq.proof.n = strlen(v->proof);
	v->rq.runtime.p = (const uint8_t *)v->runtime, v->rq.runtime.n = strlen(v->runtime);
	vm_request(v);
	*state = v;
	return 0;
}

static int vm_teardown(void **state)
{
	struct vm *v = *state;

	snp_plat_leaf_free(&v->leaf);
	snp_plat_free(v->plat);
	sk_X509_free(v->arks);
	tpm_aik_cache_free(v->ctx.tpm_keys);
	EVP_PKEY_free(v->ak), EVP_PKEY_free(v->enc), EVP_PKEY_free(v->other);
	free(v->runtime), free(v->proof), free(v->text);
	devplat_tcg_log_free(&v->log);
	free(v->aik_pub), free(v->quote), free(v->qsig), free(v->enc_pub), free(v->cert), free(v->csig);
	free(v);
	return 0;
}

static int verify(struct vm *v, struct claim_set *cs, struct attest_err *err)
{
	struct evidence_input in = {0};

	in.evidence = (const uint8_t *)v->text;
	in.evidence_len = strlen(v->text);
	attest_err_clear(err);
	return azure_guest_verify(&v->ctx, &in, cs, err);
}

static void refused(struct vm *v, const char *name)
{
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	assert_int_not_equal(verify(v, cs, &err), ATTEST_OK);
	assert_string_equal(err.name, name);
	assert_int_equal(claim_set_count(cs), 0);
	claim_set_free(cs);
}

static void snp_cvm_verifies_with_the_claims_of_the_reference(void **state)
{
	struct vm *v = *state;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	const json_t *tee, *rt, *k;

	assert_int_equal(verify(v, cs, &err), ATTEST_OK);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-attestation-type")), "azurevm");
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-azurevm-attestation-protocol-ver")),
			    "2.0");
	assert_int_equal(json_array_size(claim_set_get(cs, "x-ms-azurevm-attested-pcrs")), 12);
	assert_true(json_is_true(claim_set_get(cs, "secureboot")));
	assert_true(json_is_true(claim_set_get(cs, "x-ms-azurevm-is-windows")));
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-azurevm-ostype")), "Windows");
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-azurevm-osversion-major")), 10);
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-azurevm-vmid")),
			    "00000000-0000-4000-8000-000000000001");
	tee = claim_set_get(cs, "x-ms-isolation-tee");
	assert_string_equal(json_string_value(json_object_get(tee, "x-ms-attestation-type")), "sevsnpvm");
	assert_non_null(json_object_get(tee, "x-ms-sevsnpvm-launchmeasurement"));
	assert_non_null(json_object_get(json_object_get(tee, "x-ms-runtime"), "keys"));
	rt = claim_set_get(cs, "x-ms-runtime");
	k = json_array_get(json_object_get(rt, "keys"), 0);
	assert_string_equal(json_string_value(json_object_get(k, "kid")), AZURE_GUEST_ENC_KID);
	claim_set_free(cs);
}

static void sealed_token_is_read_only_with_the_tpm_held_key(void **state)
{
	struct vm *v = *state;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	char *sealed = NULL, *jwt = NULL, *text = NULL;
	uint8_t *raw = NULL;
	size_t rl = 0;
	json_t *env;

	assert_int_equal(verify(v, cs, &err), ATTEST_OK);
	assert_int_equal(azure_guest_seal_for_claims(cs, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", &sealed, &err), 0);
	assert_null(strstr(sealed, "eyJhbGciOiJSUzI1NiJ9"));
	assert_int_equal(azure_guest_unseal(v->enc, sealed, strlen(sealed), &jwt, &err), ATTEST_OK);
	assert_string_equal(jwt, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
	free(jwt);
	/* Another key cannot unwrap the inner key. */
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal(v->other, sealed, strlen(sealed), &jwt, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "azureguest.sealed.key");
	/* A tampered envelope (one ciphertext byte) does not authenticate. */
	assert_int_equal(b64_decode(sealed, strlen(sealed), &raw, &rl), 0);
	env = json_loadb((const char *)raw, rl, 0, NULL);
	/* The envelope is the four members in MAA's order, written as jansson writes them. */
	assert_non_null(env);
	assert_int_equal(json_object_size(env), 4);
	text = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_int_equal(strlen(text), rl);
	assert_memory_equal(text, raw, rl);
	assert_non_null(strstr(text, "{\"EncryptedInnerKey\":\""));
	free(text);
	{
		const char *j = json_string_value(json_object_get(env, "Jwt"));
		char *t = strdup(j);

		t[3] = t[3] == 'A' ? 'B' : 'A';
		json_object_set_new(env, "Jwt", json_string(t));
		free(t);
	}
	text = json_dumps(env, JSON_COMPACT);
	free(sealed);
	sealed = b64url_encode((const uint8_t *)text, strlen(text));
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal(v->enc, sealed, strlen(sealed), &jwt, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "azureguest.sealed.tag");
	json_decref(env);
	free(text);
	free(raw);
	free(sealed);
	claim_set_free(cs);
}

static void request_body_in_both_spellings_decodes_to_the_same_evidence(void **state)
{
	struct vm *v = *state;
	const char *names[] = {"AttestationInfo", "attestationInfo"};

	for (int i = 0; i < 2; i++) {
		char *b = b64url_encode((const uint8_t *)v->text, strlen(v->text)), *body;
		struct attest_request *req = NULL;

		assert_true(asprintf(&body, "{\"%s\":\"%s\"}", names[i], b) > 0);
		assert_int_equal(attest_request_decode(MAA_TYPE_AZURE_GUEST, body, strlen(body), &req, NULL),
				 0);
		assert_int_equal(req->evidence_len, strlen(v->text));
		assert_memory_equal(req->evidence, v->text, req->evidence_len);
		attest_request_free(req);
		free(body);
		free(b);
	}
}

static void aik_not_bound_in_the_snp_report_is_refused(void **state)
{
	struct vm *v = *state;
	char *rt = snp_plat_hcl_runtime_json(v->other), *proof = snp_proof(v, rt);

	v->rq.proof.p = (const uint8_t *)proof, v->rq.proof.n = strlen(proof);
	v->rq.runtime.p = (const uint8_t *)rt, v->rq.runtime.n = strlen(rt);
	vm_request(v);
	refused(v, "hcl.ak_mismatch");
	/* The runtime data of the AIK with a report binding other data: the binding fails. */
	v->rq.runtime.p = (const uint8_t *)v->runtime, v->rq.runtime.n = strlen(v->runtime);
	vm_request(v);
	refused(v, "snp.binding.runtime");
	v->rq.proof.p = (const uint8_t *)v->proof, v->rq.proof.n = strlen(v->proof);
	vm_request(v);
	free(rt);
	free(proof);
}

static void trusted_launch_claiming_isolation_is_refused(void **state)
{
	struct vm *v = *state;

	v->rq.isolation_type = "TrustedLaunch";
	vm_request(v);
	refused(v, "azureguest.isolation.unexpected");
	/* And the converse: SevSnp without its evidence, or an unknown isolation type. */
	v->rq.isolation_type = "SevSnp";
	v->rq.proof.p = NULL;
	vm_request(v);
	refused(v, "azureguest.isolation.missing");
	v->rq.proof.p = (const uint8_t *)v->proof;
	v->rq.isolation_type = "VBS";
	vm_request(v);
	refused(v, "azureguest.isolation.type");
	v->rq.isolation_type = "SevSnp";
	vm_request(v);
}

static void trusted_launch_needs_an_aik_certificate_to_a_tpm_root(void **state)
{
	struct vm *v = *state;
	struct devplat_tpm_ca *ca = NULL;
	X509 *cert = NULL;
	uint8_t *der = NULL;
	int dl;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	v->rq.isolation_type = NULL;
	vm_request(v);
	refused(v, "azureguest.aik.unregistered");
	assert_int_equal(devplat_tpm_ca_new("Test vTPM AIK CA", 1600000000, 2000000000, &ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(ca, v->ak, "aik", 1600000000, 2000000000, &cert, NULL), 0);
	dl = i2d_X509(cert, &der);
	v->rq.aik_cert.p = der, v->rq.aik_cert.n = (size_t)dl;
	vm_request(v);
	refused(v, "azureguest.aik.unregistered");
	v->anchors.tpm_roots = sk_X509_new_null();
	sk_X509_push(v->anchors.tpm_roots, ca->cert);
	assert_int_equal(verify(v, cs, &err), ATTEST_OK);
	assert_null(claim_set_get(cs, "x-ms-isolation-tee"));
	sk_X509_free(v->anchors.tpm_roots);
	v->anchors.tpm_roots = NULL;
	v->rq.aik_cert.p = NULL;
	v->rq.isolation_type = "SevSnp";
	vm_request(v);
	claim_set_free(cs);
	OPENSSL_free(der);
	X509_free(cert);
	devplat_tpm_ca_free(ca);
}

/* Provider-registered AIKs (as for the Tpm type): SHA-256 of the SPKI. */
static int verify_registered(struct vm *v, const uint8_t (*keys)[32], size_t n, struct claim_set *cs,
			     struct attest_err *err)
{
	struct azure_guest_opts o = {.registered_aiks = keys, .n_registered_aiks = n};
	struct evidence_input in = {0};

	in.evidence = (const uint8_t *)v->text;
	in.evidence_len = strlen(v->text);
	attest_err_clear(err);
	return azure_guest_verify_with(&v->ctx, &o, &in, cs, err);
}

/*
 * AikCert is decoded only where it speaks (an AIK neither bound nor
 * registered): a SEQUENCE that is no certificate passes beside a bound or
 * registered AIK and is refused where the certificate is needed; what is
 * not one DER SEQUENCE is refused always.
 */
static void aik_certificate_is_read_only_where_it_speaks(void **state)
{
	static const uint8_t not_a_cert[] = {0x30, 0x03, 0x02, 0x01, 0x00}, not_der[] = {0x04, 0x01, 0x00};
	struct vm *v = *state;
	uint8_t reg[1][32];
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	assert_int_equal(tpm_pkey_spki_sha256(v->ak, reg[0]), 0);
	/* A CVM: the isolation evidence binds the AIK. */
	v->rq.aik_cert.p = not_a_cert, v->rq.aik_cert.n = sizeof(not_a_cert);
	vm_request(v);
	assert_int_equal(verify(v, cs, &err), ATTEST_OK);
	v->rq.aik_cert.p = not_der, v->rq.aik_cert.n = sizeof(not_der);
	vm_request(v);
	refused(v, "azureguest.aik.cert");
	/* Trusted Launch: registered, the certificate is not read; unregistered, it must be one. */
	v->rq.isolation_type = NULL;
	v->rq.aik_cert.p = not_a_cert, v->rq.aik_cert.n = sizeof(not_a_cert);
	vm_request(v);
	claim_set_free(cs);
	cs = claim_set_new();
	assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 1, cs, &err), ATTEST_OK);
	refused(v, "azureguest.aik.cert");
	v->rq.aik_cert.p = NULL;
	v->rq.isolation_type = "SevSnp";
	vm_request(v);
	claim_set_free(cs);
}

static void trusted_launch_with_a_registered_aik_needs_no_certificate(void **state)
{
	struct vm *v = *state;
	struct devplat_tpm_ca *ca = NULL;
	X509 *cert = NULL;
	uint8_t reg[2][32], *der = NULL;
	int dl;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	assert_int_equal(tpm_pkey_spki_sha256(v->other, reg[0]), 0);
	assert_int_equal(tpm_pkey_spki_sha256(v->ak, reg[1]), 0);
	v->rq.isolation_type = NULL;
	vm_request(v);
	/* Registered (second of two): accepted without any AikCert, and without isolation claims. */
	assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 2, cs, &err), ATTEST_OK);
	assert_null(claim_set_get(cs, "x-ms-isolation-tee"));
	assert_string_equal(json_string_value(claim_set_get(cs, "x-ms-attestation-type")), "azurevm");
	/* The same registration as the provider's (ctx->tenant): what attestd's pipeline passes. */
	{
		struct evidence_tenant t = {.registered_aiks = (const uint8_t(*)[32])reg,
					    .n_registered_aiks = 2};

		claim_set_free(cs);
		cs = claim_set_new();
		v->ctx.tenant = &t;
		assert_int_equal(verify(v, cs, &err), ATTEST_OK);
		t.n_registered_aiks = 1;
		claim_set_free(cs);
		cs = claim_set_new();
		assert_int_equal(verify(v, cs, &err), ATTEST_E_VERIFY);
		assert_string_equal(err.name, "azureguest.aik.unregistered");
		v->ctx.tenant = NULL;
	}
	/* Only another key registered: refused with its own name. */
	claim_set_free(cs);
	cs = claim_set_new();
	assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 1, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "azureguest.aik.unregistered");
	assert_non_null(strstr(err.msg, "tpm.aik.cert_required"));
	assert_int_equal(claim_set_count(cs), 0);
	/* Registration is enough even beside a certificate that chains nowhere; without it the chain error is
	 * named. */
	assert_int_equal(devplat_tpm_ca_new("Unknown AIK CA", 1600000000, 2000000000, &ca, NULL), 0);
	assert_int_equal(devplat_tpm_ca_issue(ca, v->ak, "aik", 1600000000, 2000000000, &cert, NULL), 0);
	dl = i2d_X509(cert, &der);
	v->rq.aik_cert.p = der, v->rq.aik_cert.n = (size_t)dl;
	vm_request(v);
	assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 2, cs, &err), ATTEST_OK);
	claim_set_free(cs);
	cs = claim_set_new();
	assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 1, cs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "azureguest.aik.unregistered");
	assert_non_null(strstr(err.msg, "tpm.aik.cert.untrusted_root"));
	/* A registration does not stand in for the isolation binding of a CVM's AIK. */
	v->rq.aik_cert.p = NULL;
	v->rq.isolation_type = "SevSnp";
	{
		char *rt = snp_plat_hcl_runtime_json(v->other), *proof = snp_proof(v, rt);

		v->rq.proof.p = (const uint8_t *)proof, v->rq.proof.n = strlen(proof);
		v->rq.runtime.p = (const uint8_t *)rt, v->rq.runtime.n = strlen(rt);
		vm_request(v);
		assert_int_equal(verify_registered(v, (const uint8_t(*)[32])reg, 2, cs, &err),
				 ATTEST_E_VERIFY);
		assert_string_equal(err.name, "hcl.ak_mismatch");
		v->rq.proof.p = (const uint8_t *)v->proof, v->rq.proof.n = strlen(v->proof);
		v->rq.runtime.p = (const uint8_t *)v->runtime, v->rq.runtime.n = strlen(v->runtime);
		free(rt);
		free(proof);
	}
	vm_request(v);
	claim_set_free(cs);
	OPENSSL_free(der);
	X509_free(cert);
	devplat_tpm_ca_free(ca);
}

/* ---- claims read from the verified log (§2.6) -------------------------------------- */

/* EFI_IMAGE_SECURITY_DATABASE_GUID (db, dbx) and EFI_CERT_X509_GUID, as stored. */
static const uint8_t SECDB_GUID[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
				       0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
static const uint8_t X509_GUID[16] = {0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
				      0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72};

struct boot_spec {
	bool hyp_debug, flight, elam, code_integrity_off;
	int n_hvci;
	uint64_t hvci[2];
	bool db_malformed, no_dbx, authority, authority_foreign;
};

static void put_u32(struct buf *b, uint32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	assert_int_equal(buf_append(b, le, 4), 0);
}

/* One EFI_SIGNATURE_LIST holding one entry (owner GUID + data); malformed: its sizes disagree. */
static void esl_put(struct buf *b, const uint8_t *entry, uint32_t n, bool malformed)
{
	assert_int_equal(buf_append(b, X509_GUID, 16), 0);
	put_u32(b, 28 + n + (malformed ? 1 : 0));
	put_u32(b, 0);
	put_u32(b, n);
	assert_int_equal(buf_append(b, entry, n), 0);
}

/* A PCR 7 variable event (db and dbx under the image security database GUID). */
static void sb_var(struct devplat_tcg_log *l, const char *name, uint32_t type, const void *data, size_t n)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(devplat_uefi_global_var(&b, name, data, n), 0);
	if (strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0)
		memcpy(b.p, SECDB_GUID, 16);
	assert_int_equal(devplat_tcg_log_add(l, 7, type, b.p, b.len), 0);
	buf_free(&b);
}

/* A Windows-like boot: PCR 7 Secure Boot policy, separators, a SIPA trust boundary in PCR 12. */
static void custom_boot(struct devplat_tcg_log *l, const struct boot_spec *s)
{
	static const uint8_t sep[4] = {0};
	uint8_t one = 1, zero = 0, hyp = s->hyp_debug, fl = s->flight, ci = !s->code_integrity_off;
	uint8_t ours[48], theirs[48];
	struct buf inner, outer, elam, esl, esl2;

	memset(ours, 0x11, sizeof(ours));
	memset(theirs, 0x22, sizeof(theirs));
	buf_init(&inner, 4096), buf_init(&outer, 4096), buf_init(&elam, 256);
	buf_init(&esl, 256), buf_init(&esl2, 256);
	esl_put(&esl, ours, sizeof(ours), false);
	esl_put(&esl2, theirs, sizeof(theirs), false);
	assert_int_equal(devplat_tcg_log_init(l), 0);
	sb_var(l, "SecureBoot", EV_EFI_VARIABLE_DRIVER_CONFIG, &one, 1);
	sb_var(l, "PK", EV_EFI_VARIABLE_DRIVER_CONFIG, esl.p, esl.len);
	sb_var(l, "KEK", EV_EFI_VARIABLE_DRIVER_CONFIG, esl.p, esl.len);
	if (s->db_malformed) {
		struct buf bad;

		buf_init(&bad, 256);
		esl_put(&bad, ours, sizeof(ours), true);
		sb_var(l, "db", EV_EFI_VARIABLE_DRIVER_CONFIG, bad.p, bad.len);
		buf_free(&bad);
	} else {
		sb_var(l, "db", EV_EFI_VARIABLE_DRIVER_CONFIG, esl.p, esl.len);
	}
	if (!s->no_dbx)
		sb_var(l, "dbx", EV_EFI_VARIABLE_DRIVER_CONFIG, esl2.p, esl2.len);
	for (uint32_t pcr = 0; pcr <= 7; pcr++)
		assert_int_equal(devplat_tcg_log_add(l, pcr, EV_SEPARATOR, sep, 4), 0);
	/* The db entry that verified the boot loader (PFP §3.3.4.8). */
	if (s->authority)
		sb_var(l, "db", EV_EFI_VARIABLE_AUTHORITY, s->authority_foreign ? theirs : ours, 48);
	assert_int_equal(devplat_sipa(&inner, 0x00040001u, &zero, 1) ||	    /* BootDebugging */
			     devplat_sipa(&inner, 0x00050001u, &zero, 1) || /* OsKernelDebug */
			     devplat_sipa(&inner, 0x0005000Du, &hyp, 1) ||  /* HypervisorDebug */
			     devplat_sipa(&inner, 0x00050002u, &ci, 1) ||   /* CodeIntegrity */
			     devplat_sipa(&inner, 0x00050003u, &zero, 1) || /* TestSigning */
			     devplat_sipa(&inner, 0x00050021u, &fl, 1),	    /* FlightSigning */
			 0);
	for (int i = 0; i < s->n_hvci; i++)
		assert_int_equal(devplat_sipa(&inner, 0x000A0007u, &s->hvci[i], 8), 0); /* VbsHVCIPolicy */
	if (s->elam) {
		assert_int_equal(devplat_sipa(&elam, 0x00090001u, "e\0l\0a\0m\0\0\0", 10),
				 0); /* ELAMKeyname */
		assert_int_equal(devplat_sipa(&inner, 0x40010002u, elam.p, (uint32_t)elam.len),
				 0); /* ElamAggregation */
	}
	assert_int_equal(devplat_sipa(&outer, 0x40010001u, inner.p, (uint32_t)inner.len),
			 0); /* TrustBoundary */
	assert_int_equal(devplat_tcg_log_add(l, 12, EV_EVENT_TAG, outer.p, outer.len), 0);
	assert_int_equal(devplat_tcg_log_add(l, 13, EV_SEPARATOR, "WBCL", 4), 0);
	assert_int_equal(devplat_tcg_log_add(l, 14, EV_SEPARATOR, "WBCL", 4), 0);
	buf_free(&inner), buf_free(&outer), buf_free(&elam), buf_free(&esl), buf_free(&esl2);
}

/* The VM's quote over `mask` of this log's PCRs, and the request around it. */
static void vm_use_log(struct vm *v, const struct devplat_tcg_log *l, uint32_t mask)
{
	struct tpm_pcr_values all;

	devplat_tcg_log_pcrs(l, &all);
	memset(&v->pcrs, 0, sizeof(v->pcrs));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (mask & (1u << i))
			tpm_pcr_set(&v->pcrs, TPM_BANK_SHA256, i, all.v[TPM_BANK_SHA256][i], 32, NULL);
	free(v->quote), free(v->qsig);
	assert_int_equal(devplat_tpm_quote(v->ak, &v->pcrs, TPM_BANK_SHA256, mask, NULL, 0, &v->quote,
					   &v->quote_len, &v->qsig, &v->qsig_len, NULL),
			 0);
	v->rq.log.p = l->log.p, v->rq.log.n = l->log.len;
	v->rq.quote.p = v->quote, v->rq.quote.n = v->quote_len;
	v->rq.quote_sig.p = v->qsig, v->rq.quote_sig.n = v->qsig_len;
	v->rq.pcr_set = mask;
	vm_request(v);
}

/* The claims of the VM booted as spec says, quoted over mask (caller frees). */
static struct claim_set *claims_of_boot(struct vm *v, const struct boot_spec *spec, uint32_t mask)
{
	struct devplat_tcg_log l;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;

	custom_boot(&l, spec);
	vm_use_log(v, &l, mask);
	if (verify(v, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	vm_use_log(v, &v->log, MASK);
	devplat_tcg_log_free(&l);
	return cs;
}

static bool claim_bool(const struct claim_set *cs, const char *type)
{
	const json_t *c = claim_set_get(cs, type);

	if (!json_is_boolean(c))
		fail_msg("%s is not a boolean claim", type);
	return json_is_true(c);
}

static void windows_boot_claims_are_read_from_verified_sipa_events(void **state)
{
	struct vm *v = *state;
	struct boot_spec clean = {0},
			 risky = {
			     .hyp_debug = true, .flight = true, .elam = true, .n_hvci = 2, .hvci = {3, 1}};
	struct boot_spec no_ci = {.code_integrity_off = true};
	struct claim_set *cs = claims_of_boot(v, &clean, MASK);

	/* A clean Windows boot: what MAA's sample token shows. */
	assert_false(claim_bool(cs, "x-ms-azurevm-bootdebug-enabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-kerneldebug-enabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-hypervisordebug-enabled"));
	assert_true(claim_bool(cs, "x-ms-azurevm-debuggersdisabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-testsigning-enabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-flightsigning-enabled"));
	assert_true(claim_bool(cs, "x-ms-azurevm-signingdisabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-elam-enabled"));
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-azurevm-hvci-policy")), 0);
	claim_set_free(cs);
	/* Hypervisor debugging, flight signing, an ELAM driver, HVCI policy bits in every record. */
	cs = claims_of_boot(v, &risky, MASK);
	assert_true(claim_bool(cs, "x-ms-azurevm-hypervisordebug-enabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-debuggersdisabled"));
	assert_true(claim_bool(cs, "x-ms-azurevm-flightsigning-enabled"));
	assert_false(claim_bool(cs, "x-ms-azurevm-signingdisabled"));
	assert_true(claim_bool(cs, "x-ms-azurevm-elam-enabled"));
	assert_int_equal(json_integer_value(claim_set_get(cs, "x-ms-azurevm-hvci-policy")), 1);
	claim_set_free(cs);
	/* Code integrity turned off is unsigned code allowed. */
	cs = claims_of_boot(v, &no_ci, MASK);
	assert_false(claim_bool(cs, "x-ms-azurevm-signingdisabled"));
	claim_set_free(cs);
	/* SIPA events on PCRs the quote does not cover say nothing: no Windows claims at all. */
	cs = claims_of_boot(v, &risky, 0xFFu);
	assert_null(claim_set_get(cs, "x-ms-azurevm-hypervisordebug-enabled"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-debuggersdisabled"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-signingdisabled"));
	assert_true(claim_bool(cs, "secureboot"));
	claim_set_free(cs);
}

static void secure_boot_variables_can_only_rule_validation_out(void **state)
{
	struct vm *v = *state;
	struct boot_spec sound = {.authority = true}, bad_db = {.db_malformed = true},
			 no_dbx = {.no_dbx = true};
	struct boot_spec foreign = {.authority = true, .authority_foreign = true};
	struct claim_set *cs = claims_of_boot(v, &sound, MASK);

	/* Sound variables: only Azure's reference could say "validated"; nothing is claimed. */
	assert_null(claim_set_get(cs, "x-ms-azurevm-dbvalidated"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-dbxvalidated"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-default-securebootkeysvalidated"));
	claim_set_free(cs);
	cs = claims_of_boot(v, &bad_db, MASK);
	assert_false(claim_bool(cs, "x-ms-azurevm-dbvalidated"));
	assert_false(claim_bool(cs, "x-ms-azurevm-default-securebootkeysvalidated"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-dbxvalidated"));
	claim_set_free(cs);
	cs = claims_of_boot(v, &no_dbx, MASK);
	assert_false(claim_bool(cs, "x-ms-azurevm-dbxvalidated"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-dbvalidated"));
	claim_set_free(cs);
	/* An image verified by an authority that is not in the measured db. */
	cs = claims_of_boot(v, &foreign, MASK);
	assert_false(claim_bool(cs, "x-ms-azurevm-dbvalidated"));
	claim_set_free(cs);
	/* PCR 7 outside the quote: the log decides nothing about the variables. */
	cs = claims_of_boot(v, &bad_db, 0x7800u | 0x7Fu);
	assert_null(claim_set_get(cs, "x-ms-azurevm-dbvalidated"));
	assert_null(claim_set_get(cs, "x-ms-azurevm-default-securebootkeysvalidated"));
	claim_set_free(cs);
	/* The synthetic boot of the other tests measures db under the wrong GUID: not validated. */
	cs = claim_set_new();
	{
		struct attest_err err;

		assert_int_equal(verify(v, cs, &err), ATTEST_OK);
	}
	assert_false(claim_bool(cs, "x-ms-azurevm-dbvalidated"));
	claim_set_free(cs);
}

/* Verification with the given published CVM measurements; the nested compliance status or NULL. */
static const char *compliance_with(struct vm *v, const uint8_t (*m)[48], size_t n, struct claim_set *cs)
{
	struct azure_guest_opts o = {.cvm_measurements = m, .n_cvm_measurements = n};
	struct evidence_input in = {0};
	struct attest_err err;

	in.evidence = (const uint8_t *)v->text;
	in.evidence_len = strlen(v->text);
	attest_err_clear(&err);
	if (azure_guest_verify_with(&v->ctx, &o, &in, cs, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	return json_string_value(
	    json_object_get(claim_set_get(cs, "x-ms-isolation-tee"), "x-ms-compliance-status"));
}

static void compliance_status_needs_a_published_launch_measurement(void **state)
{
	struct vm *v = *state;
	struct claim_set *cs = claim_set_new();
	uint8_t m[2][48];
	const json_t *lm;
	char *proof;

	/* The measurement of this VM's report, and another one. */
	assert_null(compliance_with(v, NULL, 0, cs));
	lm = json_object_get(claim_set_get(cs, "x-ms-isolation-tee"), "x-ms-sevsnpvm-launchmeasurement");
	assert_int_equal(hex_decode_to(json_string_value(lm), json_string_length(lm), m[1], 48), 0);
	memset(m[0], 0xEE, 48);
	claim_set_free(cs);
	cs = claim_set_new();
	assert_string_equal(compliance_with(v, (const uint8_t(*)[48])m, 2, cs), "azure-compliant-cvm");
	claim_set_free(cs);
	cs = claim_set_new();
	assert_null(compliance_with(v, (const uint8_t(*)[48])m, 1, cs));
	claim_set_free(cs);
	/* A debuggable VM, or a report not made by the HCL at VMPL 0, is not compliant. */
	proof = snp_proof_at(v, v->runtime, 0, SNP_POLICY_DEBUG);
	v->rq.proof.p = (const uint8_t *)proof, v->rq.proof.n = strlen(proof);
	vm_request(v);
	cs = claim_set_new();
	assert_null(compliance_with(v, (const uint8_t(*)[48])m, 2, cs));
	claim_set_free(cs);
	free(proof);
	proof = snp_proof_at(v, v->runtime, 1, 0);
	v->rq.proof.p = (const uint8_t *)proof, v->rq.proof.n = strlen(proof);
	vm_request(v);
	cs = claim_set_new();
	assert_null(compliance_with(v, (const uint8_t(*)[48])m, 2, cs));
	claim_set_free(cs);
	free(proof);
	v->rq.proof.p = (const uint8_t *)v->proof, v->rq.proof.n = strlen(v->proof);
	vm_request(v);
}

static void a_shared_vcek_chain_cache_verifies_the_chain_once(void **state)
{
	struct vm *v = *state;
	struct snp_opts so = {.cache = snp_chain_cache_new(4)};
	struct azure_guest_opts o = {.snp = &so};
	struct evidence_input in = {0};
	struct attest_err err;
	uint64_t hits = 0, misses = 0;

	in.evidence = (const uint8_t *)v->text;
	in.evidence_len = strlen(v->text);
	for (int i = 0; i < 3; i++) {
		struct claim_set *cs = claim_set_new();

		assert_int_equal(azure_guest_verify_with(&v->ctx, &o, &in, cs, &err), ATTEST_OK);
		assert_non_null(claim_set_get(cs, "x-ms-isolation-tee"));
		claim_set_free(cs);
	}
	snp_chain_cache_stats(so.cache, &hits, &misses);
	assert_int_equal(misses, 1);
	assert_int_equal(hits, 2);
	snp_chain_cache_free(so.cache);
}

static void log_that_does_not_replay_is_refused(void **state)
{
	struct vm *v = *state;
	struct devplat_tcg_log l2;
	struct devplat_boot boot = {.secure_boot = false};

	assert_int_equal(devplat_tcg_log_init(&l2), 0);
	assert_int_equal(devplat_tcg_log_boot(&l2, &boot), 0);
	v->rq.log.p = l2.log.p, v->rq.log.n = l2.log.len;
	vm_request(v);
	refused(v, "tcg.replay.mismatch");
	v->rq.log.p = v->log.log.p, v->rq.log.n = v->log.log.len;
	vm_request(v);
	devplat_tcg_log_free(&l2);
}

static void certify_over_another_key_is_refused(void **state)
{
	struct vm *v = *state;
	uint8_t *pub = NULL;
	size_t pl = 0;

	assert_int_equal(devplat_azg_tpm_public(v->other, false, &pub, &pl, NULL), 0);
	v->rq.enc_pub.p = pub, v->rq.enc_pub.n = pl;
	vm_request(v);
	refused(v, "tpm.certify.name");
	/* A signing key certified by the AIK is no encryption key. */
	v->rq.enc_pub.p = v->aik_pub, v->rq.enc_pub.n = v->aik_pub_len;
	vm_request(v);
	refused(v, "azureguest.enckey.attributes");
	v->rq.enc_pub.p = v->enc_pub, v->rq.enc_pub.n = v->enc_pub_len;
	vm_request(v);
	free(pub);
}

static void quote_of_other_pcr_values_is_refused(void **state)
{
	struct vm *v = *state;

	v->pcrs.v[TPM_BANK_SHA256][7][0] ^= 1;
	vm_request(v);
	refused(v, "tpm.quote.pcr_digest");
	v->pcrs.v[TPM_BANK_SHA256][7][0] ^= 1;
	v->rq.pcr_set = MASK | (1u << 15); /* PcrSet names a PCR the quote does not select */
	vm_request(v);
	refused(v, "tpm.quote.pcr_mask");
	v->rq.pcr_set = MASK;
	vm_request(v);
}

/* ---- the attest pipeline (POST /attest/AzureGuest) --------------------------------- */

/* The service's token signature (RS256, as MAA signs). */
static int rs256_sign(void *arg, const char *jku, const json_t *claims, char **jwt, struct attest_err *err)
{
	(void)jku;
	return jwt_sign(arg, claims, jwt, err);
}

static void pipeline_answers_a_token_sealed_to_the_vm(void **state)
{
	struct vm *v = *state;
	struct pipeline_ctx *pc = NULL;
	struct pipeline_attest pa = {0};
	struct pipeline_outcome out;
	char *b = b64url_encode((const uint8_t *)v->text, strlen(v->text)), *body, *jwt = NULL;
	const char *dot1, *dot2;
	uint8_t *payload = NULL;
	size_t pl = 0;
	json_t *claims;
	struct attest_err err;

	EVP_PKEY *svc = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct jws_signer *signer = NULL;
	struct jws *jws = NULL;

	assert_int_equal(jws_signer_new(svc, JWS_ALG_RS256, NULL, &signer, NULL), 0);
	assert_int_equal(pipeline_ctx_new(0, &pc, NULL), 0);
	/* The test ARK alone: it carries the real ARK-Milan's name (snp_plat.h). */
	sk_X509_pop_free(pc->anchors.amd_arks, X509_free);
	pc->anchors.amd_arks = sk_X509_new_null();
	X509_up_ref(snp_plat_ark(v->plat));
	sk_X509_push(pc->anchors.amd_arks, snp_plat_ark(v->plat));
	assert_true(asprintf(&body, "{\"AttestationInfo\":\"%s\"}", b) > 0);
	pa.type = MAA_TYPE_AZURE_GUEST;
	pa.body = body, pa.body_len = strlen(body);
	pa.issuer = "https://attestd.test";
	pa.now = NOW;
	pa.sign = rs256_sign;
	pa.sign_arg = signer;
	if (pipeline_attest_run(pc, &pa, &out) != ATTEST_OK)
		fail_msg("%d %s: %s: %s", out.status, out.stage, out.err.name, out.err.msg);
	assert_int_equal(out.status, 200);
	/* Not a JWT: the envelope, which only the ephemeral key's holder opens. */
	assert_null(strchr(out.token, '.'));
	attest_err_clear(&err);
	assert_int_equal(azure_guest_unseal(v->other, out.token, strlen(out.token), &jwt, &err),
			 ATTEST_E_VERIFY);
	assert_int_equal(azure_guest_unseal(v->enc, out.token, strlen(out.token), &jwt, NULL), ATTEST_OK);
	/* What the VM reads is the service's signed JWT. */
	assert_int_equal(jws_parse(jwt, strlen(jwt), &jws, NULL), 0);
	assert_int_equal(jws_verify(jws, svc, 0, NULL), ATTEST_OK);
	jws_free(jws);
	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	assert_non_null(dot2);
	assert_int_equal(b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload, &pl), 0);
	claims = json_loadb((const char *)payload, pl, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(claims, "x-ms-attestation-type")), "azurevm");
	assert_string_equal(json_string_value(json_object_get(json_object_get(claims, "x-ms-isolation-tee"),
							      "x-ms-attestation-type")),
			    "sevsnpvm");
	json_decref(claims);
	free(payload);
	free(jwt);
	pipeline_outcome_clear(&out);
	/* A refusal is a 400 with the verifier's error name. */
	v->rq.isolation_type = "TrustedLaunch";
	vm_request(v);
	free(b);
	free(body);
	b = b64url_encode((const uint8_t *)v->text, strlen(v->text));
	assert_true(asprintf(&body, "{\"attestationInfo\":\"%s\"}", b) > 0);
	pa.body = body, pa.body_len = strlen(body);
	assert_int_not_equal(pipeline_attest_run(pc, &pa, &out), ATTEST_OK);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.err.name, "azureguest.isolation.unexpected");
	pipeline_outcome_clear(&out);
	v->rq.isolation_type = "SevSnp";
	vm_request(v);
	free(b);
	free(body);
	pipeline_ctx_free(pc);
	jws_signer_free(signer);
	EVP_PKEY_free(svc);
}

/* Flips every ATTEST_SWEEP_STRIDE-th bit of buf (the TPM-signed bytes): nothing altered may verify. */
/* A sweep target: one member of the request, pointed at the mutated bytes for each try. */
struct sweep_part {
	struct vm *v;
	struct devplat_azg_bytes *member;
};

static int sweep_verify(void *arg, const uint8_t *p, size_t n)
{
	struct sweep_part *sp = arg;
	struct devplat_azg_bytes keep = *sp->member;
	struct claim_set *cs = claim_set_new();
	struct attest_err err;
	int accepted;

	sp->member->p = p, sp->member->n = n;
	vm_request(sp->v);
	accepted = verify(sp->v, cs, &err) == ATTEST_OK;
	*sp->member = keep;
	claim_set_free(cs);
	return accepted;
}

/* Every bit flip and every cut of the quote, the certification and EncKeyPub (tests/common/sweep.h). */
static void altered_quote_or_certification_never_verifies(void **state)
{
	struct vm *v = *state;
	struct {
		const char *part;
		uint8_t *buf;
		size_t len;
		struct devplat_azg_bytes *member;
	} parts[] = {
	    {"PcrQuote", v->quote, v->quote_len, &v->rq.quote},
	    {"EncKeyCertifyInfo", v->cert, v->cert_len, &v->rq.certify},
	    {"EncKeyPub", v->enc_pub, v->enc_pub_len, &v->rq.enc_pub},
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct sweep_part sp = {.v = v, .member = parts[i].member};
		struct sweep_target t = {.vector = "synthetic/azure-guest-sevsnp",
					 .part = parts[i].part,
					 .buf = parts[i].buf,
					 .len = parts[i].len,
					 .mode = SWEEP_BITS,
					 .cuts = true,
					 .verify = sweep_verify,
					 .arg = &sp};

		assert_int_equal(sweep_run(&t), 0);
	}
	vm_request(v);
}

/* Whether the key cache holds the key of a public area. */
static bool key_cached(struct tpm_aik_cache *c, const uint8_t *area, size_t n)
{
	uint8_t id[32], spki[32];
	EVP_PKEY *k;

	assert_int_equal(tpm_public_area_id(area, n, id), 0);
	k = tpm_key_cache_get(c, id, spki);
	EVP_PKEY_free(k);
	return k != NULL;
}

/*
 * A VM's AIK and ephemeral key are kept only once its evidence verified,
 * and its next request, verified with the kept keys, gets the same claims;
 * altered evidence is still refused with the keys kept.
 */
static void a_verified_vms_keys_are_kept_for_its_next_request(void **state)
{
	struct vm *v = *state;
	struct tpm_aik_cache *keep = v->ctx.tpm_keys;
	struct claim_set *first = claim_set_new(), *second = claim_set_new();
	struct attest_err err;

	v->ctx.tpm_keys = tpm_aik_cache_new(4);
	v->quote[v->quote_len - 1] ^= 1; /* the extraData's last byte: the signature no longer holds */
	vm_request(v);
	assert_int_not_equal(verify(v, first, &err), ATTEST_OK);
	assert_false(key_cached(v->ctx.tpm_keys, v->aik_pub, v->aik_pub_len));
	assert_false(key_cached(v->ctx.tpm_keys, v->enc_pub, v->enc_pub_len));
	v->quote[v->quote_len - 1] ^= 1;
	vm_request(v);
	if (verify(v, first, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_true(key_cached(v->ctx.tpm_keys, v->aik_pub, v->aik_pub_len));
	assert_true(key_cached(v->ctx.tpm_keys, v->enc_pub, v->enc_pub_len));
	if (verify(v, second, &err) != ATTEST_OK)
		fail_msg("%s: %s", err.name, err.msg);
	assert_int_equal(claim_set_count(first), claim_set_count(second));
	for (size_t i = 0; i < claim_set_count(first); i++) {
		const struct claim *a = claim_set_at(first, i), *b = claim_set_at(second, i);

		assert_string_equal(a->type, b->type);
		assert_true(json_equal(a->value, b->value));
	}
	v->csig[v->csig_len - 1] ^= 1; /* the certification's signature, the AIK kept */
	vm_request(v);
	refused(v, "tpm.certify.signature");
	v->csig[v->csig_len - 1] ^= 1;
	vm_request(v);
	claim_set_free(first);
	claim_set_free(second);
	tpm_aik_cache_free(v->ctx.tpm_keys);
	v->ctx.tpm_keys = keep;
}

/* The suite's rows (test_sweep_report's table). */
static void sweep_report_has_no_accepted_mutation(void **state)
{
	(void)state;
	assert_int_equal(sweep_finish("azure_guest"), 0);
}

static void malformed_attestation_info_is_refused_by_name(void **state)
{
	static const struct {
		const char *json, *name;
	} cases[] = {
	    {"[]", "azureguest.json"},
	    {"{", "azureguest.json"},
	    {"{}", "azureguest.member"},
	    {"{\"AttestationProtocolVersion\":\"1.0\"}", "azureguest.protocol_version"},
	    {"{\"AttestationProtocolVersion\":\"2.0\",\"OSType\":\"!!\"}", "azureguest.base64"},
	};
	struct evidence_ctx ctx = {.now = NOW};
	struct attest_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evidence_input in = {.evidence = (const uint8_t *)cases[i].json,
					    .evidence_len = strlen(cases[i].json)};
		struct claim_set *cs = claim_set_new();

		attest_err_clear(&err);
		assert_int_not_equal(azure_guest_verify(&ctx, &in, cs, &err), ATTEST_OK);
		assert_string_equal(err.name, cases[i].name);
		claim_set_free(cs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_vtpm_quote_verifies_with_its_ak_and_nonce),
	    cmocka_unit_test(real_snp_isolation_is_refused_with_the_vcek_of_another_chip),
	    cmocka_unit_test(real_secure_boot_variables_are_sound),
	    cmocka_unit_test(real_windows_log_gives_the_boot_configuration_facts),
	    cmocka_unit_test(cut_or_thinned_log_proves_no_absence),
	    cmocka_unit_test(malformed_attestation_info_is_refused_by_name),
	};
	const struct CMUnitTest vm_tests[] = {
	    cmocka_unit_test(snp_cvm_verifies_with_the_claims_of_the_reference),
	    cmocka_unit_test(a_verified_vms_keys_are_kept_for_its_next_request),
	    cmocka_unit_test(sealed_token_is_read_only_with_the_tpm_held_key),
	    cmocka_unit_test(request_body_in_both_spellings_decodes_to_the_same_evidence),
	    cmocka_unit_test(pipeline_answers_a_token_sealed_to_the_vm),
	    cmocka_unit_test(aik_not_bound_in_the_snp_report_is_refused),
	    cmocka_unit_test(trusted_launch_claiming_isolation_is_refused),
	    cmocka_unit_test(trusted_launch_needs_an_aik_certificate_to_a_tpm_root),
	    cmocka_unit_test(aik_certificate_is_read_only_where_it_speaks),
	    cmocka_unit_test(trusted_launch_with_a_registered_aik_needs_no_certificate),
	    cmocka_unit_test(windows_boot_claims_are_read_from_verified_sipa_events),
	    cmocka_unit_test(secure_boot_variables_can_only_rule_validation_out),
	    cmocka_unit_test(compliance_status_needs_a_published_launch_measurement),
	    cmocka_unit_test(a_shared_vcek_chain_cache_verifies_the_chain_once),
	    cmocka_unit_test(log_that_does_not_replay_is_refused),
	    cmocka_unit_test(certify_over_another_key_is_refused),
	    cmocka_unit_test(quote_of_other_pcr_values_is_refused),
	    cmocka_unit_test(altered_quote_or_certification_never_verifies),
	    cmocka_unit_test(sweep_report_has_no_accepted_mutation),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	return r + cmocka_run_group_tests(vm_tests, vm_setup, vm_teardown);
}
