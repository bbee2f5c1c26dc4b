/*
 * Sweep suite, TPM, TCG event logs and VBS (issue 13; STYLE.md habit 9):
 * - the real GCP Shielded VM quote: every bit and every cut of the
 *   TPMS_ATTEST, of its TPMT_SIGNATURE and of the AK public area (the AK is
 *   trusted by the hash of its key: an altered area names another key, or
 *   the same key, which counts as same content, see quote_same), and
 *   of the PCR values sent beside it (the quote's pcrDigest covers them);
 * - the real Azure vTPM quote (azure-cvm): every bit and cut of the quote
 *   and of the signature, every bit of its PCR values;
 * - the real GCP event log, replayed against the quoted PCRs: every bit.
 *   The TCG log authenticates digests only: a flip in the data of an event
 *   whose digest covers something else (an image, a blob), in an
 *   EV_NO_ACTION payload or in a record header no digest covers is
 *   accepted by the replay by design; it counts as same content only when
 *   the boot-state claims derived from the log are unchanged; so does a
 *   cut after a whole event that drops only OS-PCR (8+) events (log_same);
 * - a synthetic VBS report (devplat): every cut, every bit after its
 *   unsigned 24-byte header.
 * Counts go to the suite's table and JSON report (tests/common/sweep.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "sweep.h"
#include "test_tpm_lib.h"

#include "devplat/tpm_dev.h"
#include "evidence/tcg_log.h"
#include "evidence/tpm.h"
#include "evidence/vbs.h"

#include <openssl/evp.h>

#define T_NOW 1704067200 /* 2024-01-01, for certificate windows */

enum tpm_part { PART_QUOTE, PART_SIG, PART_AK, PART_PCRS };

struct quote_sweep {
	uint8_t *quote, *sig, *ak;
	size_t quote_len, sig_len, ak_len;
	EVP_PKEY *key; /* NULL: from the AK public area */
	uint8_t key_hash[32];
	struct tpm_pcr_values pcrs;
	enum tpm_bank bank;
	const uint8_t *nonce;
	size_t nonce_len;
	enum tpm_part part;
};

static int quote_verify(void *arg, const uint8_t *p, size_t n)
{
	struct quote_sweep *s = arg;
	struct tpm_aik_trust t = {
	    .now = T_NOW, .registered = (const uint8_t(*)[32])s->key_hash, .n_registered = 1};
	struct tpm_quote_in in = {.attest = s->quote,
				  .attest_len = s->quote_len,
				  .sig = s->sig,
				  .sig_len = s->sig_len,
				  .aik = s->key,
				  .nonce = s->nonce,
				  .nonce_len = s->nonce_len,
				  .required_pcr_mask = 0xFFFFFF,
				  .required_bank = s->bank,
				  .pcrs = &s->pcrs};
	struct tpm_quote_out out;
	EVP_PKEY *k = NULL;
	TPMT_PUBLIC pub;
	int rc;

	struct tpm_pcr_values pcrs;

	if (s->part == PART_PCRS) {
		/* p: the present values of the bank, packed in index order */
		size_t dl = tpm_bank_size(s->bank), at = 0;

		pcrs = s->pcrs;
		for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
			if (s->pcrs.present[s->bank] & (1u << i)) {
				if (at + dl > n)
					return 0;
				memcpy(pcrs.v[s->bank][i], p + at, dl);
				at += dl;
			}
		in.pcrs = &pcrs;
	}
	if (s->part == PART_QUOTE)
		in.attest = p, in.attest_len = n;
	else if (s->part == PART_SIG)
		in.sig = p, in.sig_len = n;
	if (s->ak != NULL) {
		/* the AK from its public area, as tpm_verify takes it */
		if (tpm_public_parse(s->part == PART_AK ? p : s->ak, s->part == PART_AK ? n : s->ak_len, &pub,
				     NULL) != 0 ||
		    (pub.objectAttributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)) !=
			(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT) ||
		    tpm_public_to_pkey(&pub, &k, NULL) != 0)
			return 0;
		in.aik = k;
	}
	rc = tpm_quote_verify(&in, &t, &out, NULL);
	EVP_PKEY_free(k);
	return rc == 0;
}

/*
 * An AK area still parsing to the same key (SPKI hash) and still a
 * restricted signing key (the two checks tpm_verify makes of aik_public,
 * Part 1 §25.2.2) names the same registered AK: nameAlg, the other
 * attribute bits and authPolicy play no part in that trust decision.
 */
static bool quote_same(void *arg, const uint8_t *p, size_t n, size_t at, bool cut)
{
	struct quote_sweep *s = arg;
	TPMT_PUBLIC pub;
	EVP_PKEY *k = NULL;
	uint8_t h[32];
	bool same;

	(void)at;
	(void)cut;
	if (s->part != PART_AK || tpm_public_parse(p, n, &pub, NULL) != 0 ||
	    tpm_public_to_pkey(&pub, &k, NULL) != 0)
		return false;
	same = tpm_pkey_spki_sha256(k, h) == 0 && memcmp(h, s->key_hash, 32) == 0;
	EVP_PKEY_free(k);
	return same;
}

static void sweep_quote(struct quote_sweep *s, const char *vector)
{
	static const char *const names[] = {"TPMS_ATTEST (quote)", "TPMT_SIGNATURE", "AK TPMT_PUBLIC"};
	uint8_t *bufs[] = {s->quote, s->sig, s->ak};
	size_t lens[] = {s->quote_len, s->sig_len, s->ak_len};

	s->part = PART_QUOTE;
	if (!quote_verify(s, s->quote, s->quote_len))
		fail_msg("%s: the unaltered quote does not verify", vector);
	for (int i = 0; i < 3; i++) {
		struct sweep_target t = {.vector = vector,
					 .part = names[i],
					 .buf = bufs[i],
					 .len = lens[i],
					 .mode = SWEEP_BITS,
					 .cuts = true,
					 .verify = quote_verify,
					 .same = quote_same,
					 .arg = s};

		if (bufs[i] == NULL)
			continue;
		s->part = (enum tpm_part)i;
		sweep_run(&t);
	}
	/* the PCR values the quote's pcrDigest covers (sent beside the quote) */
	{
		uint8_t packed[TPM_PCR_COUNT * TPM_PCR_MAX_DIGEST];
		size_t dl = tpm_bank_size(s->bank), n = 0;
		struct sweep_target t = {.vector = vector,
					 .part = "PCR values",
					 .buf = packed,
					 .mode = SWEEP_BITS,
					 .verify = quote_verify,
					 .arg = s};

		for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
			if (s->pcrs.present[s->bank] & (1u << i)) {
				memcpy(packed + n, s->pcrs.v[s->bank][i], dl);
				n += dl;
			}
		t.len = n;
		s->part = PART_PCRS;
		assert_true(quote_verify(s, packed, n));
		sweep_run(&t);
	}
}

static void every_mutation_of_the_real_gcp_quote_is_refused(void **state)
{
	struct quote_sweep s;
	TPMT_PUBLIC pub;
	EVP_PKEY *k = NULL;

	REQUIRE_VECTORS(dir);
	memset(&s, 0, sizeof(s));
	s.quote = test_read_vector(dir, GCP_DIR "quote.tpms_attest.bin", &s.quote_len);
	s.sig = test_read_vector(dir, GCP_DIR "quote.tpmt_signature.bin", &s.sig_len);
	s.ak = test_read_vector(dir, GCP_DIR "ak_public.tpmt_public.bin", &s.ak_len);
	assert_non_null(s.quote);
	assert_non_null(s.sig);
	assert_non_null(s.ak);
	assert_int_equal(tpm_public_parse(s.ak, s.ak_len, &pub, NULL), 0);
	assert_int_equal(tpm_public_to_pkey(&pub, &k, NULL), 0);
	assert_int_equal(tpm_pkey_spki_sha256(k, s.key_hash), 0);
	EVP_PKEY_free(k);
	assert_int_equal(tpm_test_load_gcp_pcrs(dir, &s.pcrs), 0);
	s.bank = TPM_BANK_SHA1;
	sweep_quote(&s, "tpm/gcp-windows-shielded-vm-quote");
	free(s.quote);
	free(s.sig);
	free(s.ak);
}

static void every_mutation_of_the_real_azure_vtpm_quote_is_refused(void **state)
{
	struct quote_sweep s;
	uint8_t *raw, sig[300];
	size_t rl = 0;

	REQUIRE_VECTORS(dir);
	memset(&s, 0, sizeof(s));
	s.key = tpm_test_load_pem_pubkey(dir, AZ_DIR "akpub.pem");
	assert_non_null(s.key);
	s.quote = test_read_vector(dir, AZ_DIR "vtpm-quote.tpms_attest.bin", &s.quote_len);
	raw = test_read_vector(dir, AZ_DIR "vtpm-quote.rsassa-sig.bin", &rl);
	assert_non_null(s.quote);
	assert_non_null(raw);
	s.sig_len = tpm_test_wrap_rsassa(raw, rl, TPM2_ALG_SHA256, sig);
	s.sig = sig;
	assert_int_equal(tpm_test_load_azure_pcrs(dir, &s.pcrs), 0);
	assert_int_equal(tpm_pkey_spki_sha256(s.key, s.key_hash), 0);
	s.bank = TPM_BANK_SHA256;
	s.nonce = (const uint8_t *)"challenge";
	s.nonce_len = 9;
	sweep_quote(&s, "azure-cvm");
	EVP_PKEY_free(s.key);
	free(s.quote);
	free(raw);
}

/* ---- the GCP event log against the quoted PCRs ----------------------------------- */

struct log_sweep {
	const uint8_t *orig;
	size_t n;
	struct tpm_pcr_values pcrs;
	struct tcg_log *orig_log;
};

static int log_verify(void *arg, const uint8_t *p, size_t n)
{
	struct log_sweep *s = arg;
	struct tcg_log *log = NULL;
	int ok = tcg_log_parse(p, n, &log, NULL) == 0 && tcg_log_verify(log, &s->pcrs, NULL) == 0;

	tcg_log_free(log);
	return ok;
}

static bool boot_claims_equal(const struct tcg_log *a, const struct tcg_log *b)
{
	struct tcg_boot_state sa, sb;
	struct claim_set *ca = claim_set_new(), *cb = claim_set_new();
	json_t *ja, *jb;
	bool eq;

	tcg_boot_state(a, &sa, NULL);
	tcg_boot_state(b, &sb, NULL);
	tcg_boot_state_claims(&sa, ca);
	tcg_boot_state_claims(&sb, cb);
	ja = claim_set_to_json(ca);
	jb = claim_set_to_json(cb);
	eq = json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	claim_set_free(ca);
	claim_set_free(cb);
	return eq;
}

/* Accepted by the replay: only where no digest covers the byte, and with the same boot-state claims. */
static bool log_same(void *arg, const uint8_t *p, size_t n, size_t at, bool cut)
{
	struct log_sweep *s = arg;
	struct tcg_log *log = NULL;
	const struct tcg_event *ev = NULL;
	bool checked = true, same;

	if (tcg_log_parse(p, n, &log, NULL) != 0)
		return false;
	if (cut) {
		/*
		 * A cut after a whole event leaves a prefix of unaltered events; it
		 * replays when the dropped events were the only ones of their OS PCRs
		 * (those are then unlogged; docs/SECURITY.md). Nothing altered is
		 * vouched for, as long as the boot-state claims stay the same.
		 */
		const struct tcg_event *last = log->n_events ? &log->events[log->n_events - 1] : NULL;

		same = last != NULL && last->data + last->data_len == p + n &&
		       boot_claims_equal(s->orig_log, log);
		/*
		 * Only events of the OS PCRs (8 and up) or no-action events may have
		 * been dropped: a cut that drops a firmware PCR's (0-7) event must be
		 * refused (tcg.replay.incomplete), so it never counts as same content.
		 */
		for (size_t i = log->n_events; same && i < s->orig_log->n_events; i++)
			if (s->orig_log->events[i].type != EV_NO_ACTION && s->orig_log->events[i].pcr < 8)
				same = false;
		tcg_log_free(log);
		return same;
	}
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *e = &log->events[i];
		size_t start = (size_t)(e->data - p);

		if (at >= start && at < start + e->data_len)
			ev = e;
	}
	if (ev != NULL && ev->type != EV_NO_ACTION)
		tcg_event_binding_ok(ev, TPM_BANK_SHA1, &checked);
	same = (ev == NULL || ev->type == EV_NO_ACTION || !checked) && boot_claims_equal(s->orig_log, log);
	tcg_log_free(log);
	return same;
}

static void every_bit_of_the_real_gcp_event_log_is_refused_or_changes_nothing(void **state)
{
	struct log_sweep s;
	uint8_t *p;
	size_t n = 0;

	REQUIRE_VECTORS(dir);
	memset(&s, 0, sizeof(s));
	p = test_read_vector(dir, GCP_DIR "binary_bios_measurements.bin", &n);
	assert_non_null(p);
	s.orig = malloc(n);
	memcpy((uint8_t *)s.orig, p, n);
	s.n = n;
	assert_int_equal(tpm_test_load_gcp_pcrs(dir, &s.pcrs), 0);
	assert_int_equal(tcg_log_parse(s.orig, n, &s.orig_log, NULL), 0);
	assert_true(log_verify(&s, p, n));
	{
		struct sweep_target t = {.vector = "tpm/gcp-windows-shielded-vm-quote",
					 .part = "event log (replayed)",
					 .buf = p,
					 .len = n,
					 .mode = SWEEP_BITS,
					 .cuts = true,
					 .verify = log_verify,
					 .same = log_same,
					 .arg = &s};

		sweep_run(&t);
	}
	tcg_log_free(s.orig_log);
	free((uint8_t *)s.orig);
	free(p);
}

/* ---- VBS (synthetic) -------------------------------------------------------------- */

struct vbs_sweep {
	EVP_PKEY *key;
};

static int vbs_verify(void *arg, const uint8_t *p, size_t n)
{
	struct vbs_sweep *s = arg;
	struct vbs_report r;

	return vbs_report_parse(p, n, &r, NULL) == 0 && vbs_report_verify_signature(&r, s->key, NULL) == 0;
}

static void every_cut_and_signed_bit_of_a_synthetic_vbs_report_is_refused(void **state)
{
	static const char report_signed[] = "{\"rp_id\":\"https://rp\",\"challenge\":\"abc\"}";
	struct devplat_vbs_identity id;
	struct vbs_sweep s;
	struct buf rep;
	uint8_t h[64];

	memset(&id, 0, sizeof(id));
	memset(id.unique_id, 0x55, 32);
	memset(id.author_id, 0xA1, 32);
	id.enclave_svn = 9;
	id.module_name = "vbsenclave.dll";
	s.key = EVP_RSA_gen(2048);
	EVP_Digest(report_signed, strlen(report_signed), h, NULL, EVP_sha512(), NULL);
	buf_init(&rep, 1 << 16);
	assert_int_equal(devplat_vbs_report(s.key, h, &id, &rep, NULL), 0);
	assert_true(vbs_verify(&s, rep.p, rep.len));
	{
		/* the first 24 bytes (header: sizes, version) are not signed; the sizes are checked by the
		 * parser */
		struct sweep_target t = {.vector = "synthetic/vbs",
					 .part = "VBS report",
					 .buf = rep.p,
					 .len = rep.len,
					 .from = 24,
					 .mode = SWEEP_BITS,
					 .cuts = true,
					 .verify = vbs_verify,
					 .arg = &s};

		sweep_run(&t);
	}
	buf_free(&rep);
	EVP_PKEY_free(s.key);
}

static void no_mutation_was_accepted(void **state)
{
	assert_int_equal(sweep_finish("tpm"), 0);
}

int main(void)
{
	/* libtss2-mu logs malformed input to stderr; the sweep feeds it plenty. */
	setenv("TSS2_LOG", "all+NONE", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_mutation_of_the_real_gcp_quote_is_refused),
	    cmocka_unit_test(every_mutation_of_the_real_azure_vtpm_quote_is_refused),
	    cmocka_unit_test(every_bit_of_the_real_gcp_event_log_is_refused_or_changes_nothing),
	    cmocka_unit_test(every_cut_and_signed_bit_of_a_synthetic_vbs_report_is_refused),
	    cmocka_unit_test(no_mutation_was_accepted), /* prints the table, writes the report */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
