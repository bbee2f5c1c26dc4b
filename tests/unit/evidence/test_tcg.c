/*
 * TCG event logs (src/evidence/tcg_log.c, tcg_claims.c, sipa.c) on the
 * real logs of shared/vectors: every log parses, the truncated one fails
 * with a parse error, the Windows GCP log replays to the quoted PCRs and
 * yields its boot-state claims; tampering is detected and named. The
 * bit-flip sweep of the GCP log is in the sweep suite (test_sweep_tpm.c).
 * The `events` and `pcrs` claim texts, written by hand for speed, are held
 * byte for byte to what jansson dumps for the same tree (tcg_text_ref.h)
 * on every real log, every event type and decoding branch, SIPA leaves,
 * long strings, every piece at every offset, and the TCG_JSON_MAX cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "test_tpm_lib.h"
#include "tcg_text_ref.h"

#include "base/buf.h"
#include "crypto/crypto.h"
#include "devplat/tpm_dev.h"
#include "evidence/tcg_log.h"

#include <stdlib.h>
#include <string.h>

static const char *const LOGS[] = {
    "tpm/event-logs/coreos_36_shielded_vm_no_secure_boot_eventlog.bin",
    "tpm/event-logs/ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin",
    "tpm/event-logs/crypto_agile_eventlog.bin",
    "tpm/event-logs/ebs_event_missing_eventlog.bin",
    "tpm/event-logs/option_rom_eventlog.bin",
    "tpm/event-logs/sb_cert_eventlog.bin",
    GCP_DIR "binary_bios_measurements.bin",
};

static void every_real_event_log_parses_to_its_last_byte(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < sizeof(LOGS) / sizeof(LOGS[0]); i++) {
		size_t n = 0;
		uint8_t *p = test_read_vector(dir, LOGS[i], &n);
		struct tcg_log *log = NULL;
		struct attest_err err;

		assert_non_null(p);
		attest_err_clear(&err);
		if (tcg_log_parse(p, n, &log, &err) != 0)
			fail_msg("%s: %s: %s", LOGS[i], err.name, err.msg);
		assert_true(log->n_events > 10);
		/* the last record ends exactly at the end of the file */
		assert_true(log->events[log->n_events - 1].data + log->events[log->n_events - 1].data_len ==
			    p + n);
		tcg_log_free(log);
		free(p);
	}
}

static void events_claim_of_every_real_log_is_valid_json_with_every_event(void **state)
{
	REQUIRE_VECTORS(dir);

	for (size_t i = 0; i < sizeof(LOGS) / sizeof(LOGS[0]); i++) {
		size_t n = 0;
		uint8_t *p = test_read_vector(dir, LOGS[i], &n);
		struct tcg_log *log = NULL;
		char *text;
		json_t *doc;
		json_error_t je;

		assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
		text = tcg_events_json(log, false);
		assert_non_null(text);
		doc = json_loads(text, 0, &je);
		if (doc == NULL)
			fail_msg("%s: events JSON invalid at %d: %s", LOGS[i], je.position, je.text);
		assert_int_equal(json_array_size(json_object_get(doc, "Events")), log->n_events);
		json_decref(doc);
		free(text);
		tcg_log_free(log);
		free(p);
	}
}

static void crypto_agile_log_declares_its_banks_in_the_spec_id_event(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t n = 0;
	uint8_t *p =
	    test_read_vector(dir, "tpm/event-logs/coreos_36_shielded_vm_no_secure_boot_eventlog.bin", &n);
	struct tcg_log *log = NULL;
	uint8_t pcrs[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];

	assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
	assert_true(log->crypto_agile);
	assert_int_equal(log->uintn_size, 2);
	assert_int_equal(log->spec_major, 2);
	assert_true(log->banks & (1u << TPM_BANK_SHA1));
	assert_true(log->banks & (1u << TPM_BANK_SHA256));
	/* every event carries a digest of every declared bank */
	for (size_t i = 1; i < log->n_events; i++)
		assert_int_equal(log->events[i].digests & log->banks, log->banks);
	/* replay per bank works for each */
	assert_int_equal(tcg_log_replay(log, TPM_BANK_SHA1, pcrs, NULL), 0);
	assert_int_equal(tcg_log_replay(log, TPM_BANK_SHA256, pcrs, NULL), 0);
	tcg_log_free(log);
	free(p);
}

static void truncated_log_fails_with_a_parse_error(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t n = 0;
	uint8_t *p = test_read_vector(dir, "tpm/event-logs/short_no_action_eventlog.bin", &n);
	struct tcg_log *log = NULL;
	struct attest_err err;

	assert_int_equal(n, 49);
	attest_err_clear(&err);
	assert_int_equal(tcg_log_parse(p, n, &log, &err), ATTEST_E_PARSE);
	assert_null(log);
	assert_true(strncmp(err.name, "tcg.log.", 8) == 0);
	free(p);
}

static void every_cut_of_a_real_log_fails_cleanly_or_parses_a_prefix(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t n = 0, stride = tpm_test_sweep_stride();
	uint8_t *p = test_read_vector(dir, "tpm/event-logs/crypto_agile_eventlog.bin", &n);

	for (size_t cut = 0; cut < n; cut += stride) {
		struct tcg_log *log = NULL;
		/* exact copy so ASan sees reads past the cut */
		uint8_t *q = malloc(cut ? cut : 1);
		int rc;

		memcpy(q, p, cut);
		rc = tcg_log_parse(q, cut, &log, NULL);
		assert_true(rc == 0 || rc == ATTEST_E_PARSE);
		if (rc == 0)
			assert_true(log->n_events >= 1);
		tcg_log_free(log);
		free(q);
	}
	free(p);
}

struct gcp_log {
	uint8_t *p;
	size_t n;
	struct tcg_log *log;
	struct tpm_pcr_values pcrs;
};

static void gcp_log_load(struct gcp_log *g)
{
	const char *dir = test_vectors_dir();

	g->p = test_read_vector(dir, GCP_DIR "binary_bios_measurements.bin", &g->n);
	assert_non_null(g->p);
	assert_int_equal(tpm_test_load_gcp_pcrs(dir, &g->pcrs), 0);
	assert_int_equal(tcg_log_parse(g->p, g->n, &g->log, NULL), 0);
}

static void gcp_log_free(struct gcp_log *g)
{
	tcg_log_free(g->log);
	free(g->p);
}

static void gcp_windows_log_replays_to_all_eight_quoted_pcrs(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;
	struct attest_err err;
	unsigned count = 0;

	gcp_log_load(&g);
	assert_false(g.log->crypto_agile);
	assert_int_equal(g.log->n_events, 21);
	attest_err_clear(&err);
	if (tcg_log_verify(g.log, &g.pcrs, &err) != 0)
		fail_msg("%s: %s", err.name, err.msg);
	for (unsigned i = 0; i < 24; i++)
		count += (g.log->verified[TPM_BANK_SHA1] >> i) & 1;
	assert_int_equal(count, 8);
	assert_int_equal(g.log->verified[TPM_BANK_SHA1], g.log->extended[TPM_BANK_SHA1]);
	gcp_log_free(&g);
}

static void gcp_windows_log_gives_boot_state_claims(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;
	struct tcg_boot_state st;
	struct claim_set *cs = claim_set_new();
	char *events, *pcrs;
	json_t *doc;

	gcp_log_load(&g);
	assert_int_equal(tcg_log_verify(g.log, &g.pcrs, NULL), 0);
	assert_int_equal(tcg_boot_state(g.log, &st, NULL), 0);
	/* formats.md §7: BootDebugging/OsKernelDebug/TestSigning off, CodeIntegrity on */
	assert_true(st.windows);
	assert_true(st.sipa_records > 10);
	assert_false(st.boot_debugging);
	assert_false(st.kernel_debug);
	assert_false(st.test_signing);
	assert_int_equal(st.code_integrity, 1);
	assert_int_equal(tcg_boot_state_claims(&st, cs), 0);
	assert_true(json_is_true(claim_set_get(cs, "bootDebuggingDisabled")));
	assert_true(json_is_true(claim_set_get(cs, "notSafeMode")));
	assert_true(json_is_true(claim_set_get(cs, "notWinPE")));
	assert_true(json_is_true(claim_set_get(cs, "codeIntegrityEnabled")));

	events = tcg_events_json(g.log, true);
	doc = json_loads(events, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "Events")), 21);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(doc, "Events"), 0), "EventTypeString")),
			    tcg_event_type_name(g.log->events[0].type));
	json_decref(doc);
	pcrs = tcg_pcrs_json(&g.pcrs);
	doc = json_loads(pcrs, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "PCRs")), 24);
	json_decref(doc);
	free(events);
	free(pcrs);
	claim_set_free(cs);
	gcp_log_free(&g);
}

static void tampered_digest_names_the_first_mismatching_event(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;
	struct attest_err err;
	struct tcg_event *victim = NULL;
	char want[32];

	gcp_log_load(&g);
	/* the digest of the 5th event that extends something */
	for (size_t i = 0, k = 0; i < g.log->n_events; i++)
		if (g.log->events[i].type != EV_NO_ACTION && ++k == 5)
			victim = &g.log->events[i];
	assert_non_null(victim);
	/* the parsed digest points into the test's own copy of the log */
	((uint8_t *)(uintptr_t)victim->digest[TPM_BANK_SHA1])[3] ^= 0x10;
	attest_err_clear(&err);
	assert_int_equal(tcg_log_verify(g.log, &g.pcrs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tcg.replay.mismatch");
	snprintf(want, sizeof(want), "PCR %u", victim->pcr);
	assert_non_null(strstr(err.msg, want));
	gcp_log_free(&g);
}

static void tampered_event_data_is_detected_though_the_digest_replays(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;
	struct attest_err err;
	uint8_t *copy;
	size_t victim = SIZE_MAX;
	char want[32];

	gcp_log_load(&g);
	/* an EV_EVENT_TAG (SIPA) event: its digest is H(data) */
	for (size_t i = 0; i < g.log->n_events && victim == SIZE_MAX; i++)
		if (g.log->events[i].type == EV_EVENT_TAG)
			victim = i;
	assert_true(victim != SIZE_MAX);
	copy = malloc(g.n);
	memcpy(copy, g.p, g.n);
	copy[g.log->events[victim].data - g.p + 8] ^= 0x01;
	tcg_log_free(g.log);
	assert_int_equal(tcg_log_parse(copy, g.n, &g.log, NULL), 0);
	attest_err_clear(&err);
	assert_int_equal(tcg_log_verify(g.log, &g.pcrs, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tcg.event.digest");
	snprintf(want, sizeof(want), "event #%zu", victim);
	assert_non_null(strstr(err.msg, want));
	free(copy);
	gcp_log_free(&g);
}

static void log_and_quote_without_a_common_bank_are_refused(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;
	struct tpm_pcr_values only256;
	struct attest_err err;

	gcp_log_load(&g);
	memset(&only256, 0, sizeof(only256));
	only256.present[TPM_BANK_SHA256] = 0xFFFFFF;
	attest_err_clear(&err);
	assert_int_equal(tcg_log_verify(g.log, &only256, &err), ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tcg.replay.no_common_bank");
	gcp_log_free(&g);
}

static void spec_id_event_with_undeclared_algorithm_is_refused(void **state)
{
	/* header: legacy record with a Spec ID Event03 declaring SHA-256 only */
	uint8_t log[200];
	size_t o = 0;
	struct tcg_log *l = NULL;
	struct attest_err err;
	static const uint8_t specid[] = {
	    'S',  'p',	'e', 'c',  ' ', 'I', 'D', ' ', 'E', 'v',
	    'e',  'n',	't', '0',  '3', 0,   0,	  0,   0,   0, /* platformClass */
	    0,	  2,	0,   2,				       /* minor, major, errata, uintnSize */
	    1,	  0,	0,   0,				       /* numberOfAlgorithms */
	    0x0b, 0x00, 32,  0x00,			       /* SHA256, 32 */
	    0,						       /* vendorInfoSize */
	};

	memset(log, 0, sizeof(log));
	o = 4;		       /* PCR 0 */
	log[o] = EV_NO_ACTION; /* type */
	o += 4 + 20;	       /* zero digest */
	log[o] = sizeof(specid);
	o += 4;
	memcpy(log + o, specid, sizeof(specid));
	o += sizeof(specid);
	assert_int_equal(tcg_log_parse(log, o, &l, NULL), 0);
	assert_true(l->crypto_agile);
	tcg_log_free(l);
	l = NULL;
	/* a TCG_PCR_EVENT2 with one SHA-1 digest */
	log[o] = 7; /* PCR 7 */
	log[o + 4] = EV_SEPARATOR;
	log[o + 8] = 1;	    /* count */
	log[o + 12] = 0x04; /* SHA1 */
	o += 14 + 20 + 4;
	attest_err_clear(&err);
	assert_int_equal(tcg_log_parse(log, o, &l, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tcg.log.alg");
}

static void sipa_record_larger_than_its_container_is_refused(void **state)
{
	/* a container (0x40010001) of 8 bytes holding a leaf that claims 16 */
	static const uint8_t rec[] = {0x01, 0x00, 0x01, 0x40, 8,  0, 0, 0,
				      0x01, 0x00, 0x04, 0x00, 16, 0, 0, 0};
	struct attest_err err;

	attest_err_clear(&err);
	assert_int_equal(sipa_walk(rec, sizeof(rec), NULL, NULL, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tcg.sipa.truncated");
	assert_string_equal(sipa_type_name(0x00040001u), "BootDebugging");
}

static void events_claim_names_efi_variables_by_guid_and_decodes_sipa(void **state)
{
	REQUIRE_VECTORS(dir);
	size_t n = 0;
	uint8_t *p = test_read_vector(dir, GCP_DIR "binary_bios_measurements.bin", &n);
	struct tcg_log *log = NULL;
	char *text;

	assert_non_null(p);
	assert_int_equal(tcg_log_parse(p, n, &log, NULL), ATTEST_OK);
	text = tcg_events_json(log, false);
	assert_non_null(text);
	/* EFI_GLOBAL_VARIABLE as 8-4-4-4-12 text (its first three fields stored little-endian) */
	assert_non_null(strstr(text, "\"VariableName\":\"8be4df61-93ca-11d2-aa0d-00e098032b8c\""));
	assert_non_null(strstr(text, "\"SipaEvents\":[{\"Type\":"));
	assert_non_null(strstr(text, "{\"EventSeq\":1,\"PcrIndex\":"));
	free(text);
	tcg_log_free(log);
	free(p);
}

/* Appends one legacy TCG_PCR_EVENT (PCR 8, EV_POST_CODE) with `size` data bytes at p; returns its length. */
static size_t legacy_event(uint8_t *p, uint32_t size)
{
	memset(p, 0, 32 + size);
	p[0] = 8;		 /* PCRIndex */
	p[4] = EV_POST_CODE;	 /* EventType */
	memset(p + 8, 0xab, 20); /* SHA-1 digest */
	p[28] = (uint8_t)size;	 /* EventSize, little-endian */
	p[29] = (uint8_t)(size >> 8);
	memset(p + 32, 0x5a, size);
	return 32 + size;
}

static void events_text_past_its_cap_is_refused_whole(void **state)
{
	/* 20000 events of 520 bytes: each is about 1.2 KB of text, 24 MB in all, past the 16 MB cap */
	size_t n = 0, per = 32 + 520;
	uint8_t *log = malloc(TCG_LOG_MAX_EVENTS * per);
	struct tcg_log *l = NULL;
	char *text;

	(void)state;
	assert_non_null(log);
	for (int i = 0; i < TCG_LOG_MAX_EVENTS; i++)
		n += legacy_event(log + n, 520);
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	assert_int_equal(l->n_events, TCG_LOG_MAX_EVENTS);
	assert_null(tcg_events_json(l, false));
	/* a tenth of it fits, and is one well-formed JSON document */
	l->n_events = TCG_LOG_MAX_EVENTS / 10;
	text = tcg_events_json(l, false);
	assert_non_null(text);
	{
		json_t *doc = json_loads(text, 0, NULL);

		assert_non_null(doc);
		assert_int_equal(json_array_size(json_object_get(doc, "Events")), TCG_LOG_MAX_EVENTS / 10);
		json_decref(doc);
	}
	l->n_events = TCG_LOG_MAX_EVENTS;
	free(text);
	tcg_log_free(l);
	free(log);
}

/* The SecureBoot variable event of a synthetic log (PCR 7), or NULL. */
static struct tcg_event *secure_boot_event(struct tcg_log *l)
{
	for (size_t i = 0; i < l->n_events; i++) {
		struct tcg_event *ev = &l->events[i];

		if (ev->pcr == 7 && ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG && ev->data_len > 32 + 20 &&
		    memcmp(ev->data + 32, "S\0e\0c\0u\0r\0e\0B\0o\0o\0t\0", 20) == 0)
			return ev;
	}
	return NULL;
}

/*
 * The event type is covered by no digest: a SecureBoot variable relabelled
 * as a type without a binding rule is still read (its data hashes to its
 * digest, checked on demand); relabelled and with altered data it is not.
 */
static void relabelled_secure_boot_event_is_read_only_while_its_data_is_bound(void **state)
{
	struct devplat_tcg_log dl;
	struct devplat_boot boot = {.secure_boot = true};
	struct tpm_pcr_values pcrs;
	struct tcg_boot_state st;
	struct tcg_log *l = NULL;
	struct tcg_event *ev;

	(void)state;
	assert_int_equal(devplat_tcg_log_init(&dl), 0);
	assert_int_equal(devplat_tcg_log_boot(&dl, &boot), 0);
	devplat_tcg_log_pcrs(&dl, &pcrs);
	assert_int_equal(tcg_log_parse(dl.log.p, dl.log.len, &l, NULL), ATTEST_OK);
	ev = secure_boot_event(l);
	assert_non_null(ev);
	ev->type = EV_EFI_BOOT_SERVICES_APPLICATION;
	assert_int_equal(tcg_log_verify(l, &pcrs, NULL), ATTEST_OK);
	assert_false(ev->bound); /* no binding rule for that type: hashed on demand */
	assert_true(tcg_event_data_bound(l, ev));
	assert_int_equal(tcg_boot_state(l, &st, NULL), ATTEST_OK);
	assert_int_equal(st.secure_boot, 1);
	/* the variable's value flipped in the log bytes: the replay still holds, the data is not bound */
	((uint8_t *)(uintptr_t)ev->data)[ev->data_len - 1] ^= 1;
	assert_int_equal(tcg_log_verify(l, &pcrs, NULL), ATTEST_OK);
	assert_false(tcg_event_data_bound(l, ev));
	assert_int_equal(tcg_boot_state(l, &st, NULL), ATTEST_OK);
	assert_int_equal(st.secure_boot, -1);
	tcg_log_free(l);
	devplat_tcg_log_free(&dl);
}

static int count_leaf(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	(void)type, (void)data;
	*(uint32_t *)arg += len;
	return ATTEST_OK;
}

/* Appends a SIPA record header (type, size) at p + *n. */
static void sipa_hdr(uint8_t *p, size_t *n, uint32_t type, uint32_t size)
{
	for (int i = 0; i < 4; i++) {
		p[*n + (size_t)i] = (uint8_t)(type >> (8 * i));
		p[*n + 4 + (size_t)i] = (uint8_t)(size >> (8 * i));
	}
	*n += 8;
}

static void sipa_walk_visits_nested_leaves_and_bounds_depth(void **state)
{
	uint8_t rec[256] = {0};
	size_t n = 0;
	uint32_t total = 0;
	struct attest_err err;

	(void)state;
	/* container { leaf(1 byte), container { leaf(4 bytes) }, leaf(2 bytes) } */
	sipa_hdr(rec, &n, 0x40010001u, 8 + 1 + 8 + 8 + 4 + 8 + 2);
	sipa_hdr(rec, &n, 0x00040001u, 1), n += 1;
	sipa_hdr(rec, &n, 0x40010002u, 8 + 4);
	sipa_hdr(rec, &n, 0x00050002u, 4), n += 4;
	sipa_hdr(rec, &n, 0x00050003u, 2), n += 2;
	assert_int_equal(sipa_walk(rec, n, count_leaf, &total, NULL), ATTEST_OK);
	assert_int_equal(total, 1 + 4 + 2);
	/* the inner leaf claims one byte more than its container holds */
	rec[8 + 9 + 8 + 4] = 5;
	attest_err_clear(&err);
	assert_int_equal(sipa_walk(rec, n, count_leaf, &total, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tcg.sipa.truncated");
	assert_non_null(strstr(err.msg, "at byte 25 "));
	/* nine nested containers */
	n = 0;
	for (int d = 0; d < 9; d++)
		sipa_hdr(rec, &n, 0x40010001u, (uint32_t)(8 * (8 - d)));
	attest_err_clear(&err);
	assert_int_equal(sipa_walk(rec, n, count_leaf, &total, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tcg.sipa.depth");
	/* a header cut short */
	attest_err_clear(&err);
	assert_int_equal(sipa_walk(rec, 5, count_leaf, &total, &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "tcg.sipa.truncated");
}

/* A legacy TCG_PCR_EVENT whose SHA-1 digest is that of `measured` (NULL: of its data). */
static size_t put_event(uint8_t *p, uint32_t pcr, uint32_t type, const uint8_t *data, uint32_t len,
			const uint8_t *measured, uint32_t mlen)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(pcr >> (8 * i));
		p[4 + i] = (uint8_t)(type >> (8 * i));
		p[28 + i] = (uint8_t)(len >> (8 * i));
	}
	assert_int_equal(hash_digest(HASH_SHA1, measured ? measured : data, measured ? mlen : len, p + 8), 0);
	memcpy(p + 32, data, len);
	return 32 + len;
}

/* BootDebugging = 1 as one SIPA leaf: what the boot manager measured into PCR 12. */
static const uint8_t BOOT_DEBUGGING_ON[] = {0x01, 0x00, 0x04, 0x00, 1, 0, 0, 0, 1};

/*
 * Boot state of a two-event Windows log: PCR 12 carries `tag` as event
 * type `type` around the measured SIPA bytes (wrapped in a
 * UEFI_VARIABLE_DATA when wrap), PCR 13 a separator; quoted as replayed.
 */
static void windows_state(uint32_t type, bool wrap, struct tcg_boot_state *st, bool *bound)
{
	uint8_t log[512], data[128], sep[4] = {0};
	size_t n = 0, dl = 0;
	struct tpm_pcr_values pcrs;
	struct tcg_log *l = NULL;

	if (wrap) { /* VariableName GUID, NameLength 0, DataLength, then the measured bytes */
		memset(data, 0xee, 16);
		memset(data + 16, 0, 16);
		data[24] = sizeof(BOOT_DEBUGGING_ON);
		dl = 32;
	}
	memcpy(data + dl, BOOT_DEBUGGING_ON, sizeof(BOOT_DEBUGGING_ON));
	dl += sizeof(BOOT_DEBUGGING_ON);
	n += put_event(log + n, 12, type, data, (uint32_t)dl, BOOT_DEBUGGING_ON, sizeof(BOOT_DEBUGGING_ON));
	n += put_event(log + n, 13, EV_SEPARATOR, sep, 4, NULL, 0);
	memset(&pcrs, 0, sizeof(pcrs));
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	{
		uint8_t v[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];

		assert_int_equal(tcg_log_replay(l, TPM_BANK_SHA1, v, NULL), ATTEST_OK);
		for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
			tpm_pcr_set(&pcrs, TPM_BANK_SHA1, i, v[i], 20, NULL);
	}
	assert_int_equal(tcg_log_verify(l, &pcrs, NULL), ATTEST_OK);
	*bound = l->events[0].bound;
	assert_int_equal(tcg_boot_state(l, st, NULL), ATTEST_OK);
	tcg_log_free(l);
}

/* The event type is covered by no digest: relabelling a measured SIPA tag must not hide its records. */
static void relabelled_sipa_tag_still_speaks_for_its_measured_bytes(void **state)
{
	struct tcg_boot_state st;
	bool bound;

	(void)state;
	windows_state(EV_EVENT_TAG, false, &st, &bound);
	assert_true(st.windows);
	assert_true(st.boot_debugging);
	/* as an EV_SEPARATOR (its binding rule holds: H(data) is the digest) */
	windows_state(EV_SEPARATOR, false, &st, &bound);
	assert_true(st.windows);
	assert_true(st.boot_debugging);
	/* as an EFI boot variable around the measured bytes: verified by its VariableData, not bound
	 * as a whole (its GUID and lengths were never measured), read by the measured part alone */
	windows_state(EV_EFI_VARIABLE_BOOT, true, &st, &bound);
	assert_false(bound);
	assert_true(st.windows);
	assert_true(st.boot_debugging);
	assert_int_equal(st.sipa_records, 1);
}

/* One SIPA leaf whose hex crosses the 16 MB cap by less than one chunk: the text is refused, not cut. */
static void sipa_leaf_text_crossing_the_cap_is_refused_whole(void **state)
{
	const uint32_t leaf = 8388497; /* 2 * leaf hex digits end just past TCG_JSON_MAX */
	size_t n = 32 + 8 + (size_t)leaf;
	uint8_t *log = calloc(1, n);
	struct tcg_log *l = NULL;

	(void)state;
	assert_non_null(log);
	log[0] = 13;	       /* PCRIndex */
	log[4] = EV_EVENT_TAG; /* EventType */
	for (int i = 0; i < 4; i++) {
		log[28 + i] = (uint8_t)((8 + leaf) >> (8 * i)); /* EventSize */
		log[36 + i] = (uint8_t)(leaf >> (8 * i));	/* the leaf's size */
	}
	log[32] = 0x01, log[34] = 0x02; /* leaf type 0x00020001 */
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	assert_null(tcg_events_json(l, false));
	tcg_log_free(l);
	free(log);
}

/* VSMLaunchType = 1 as one SIPA leaf. */
static const uint8_t VSM_LAUNCHED[] = {0x12, 0x00, 0x05, 0x00, 4, 0, 0, 0, 1, 0, 0, 0};

/* vbsEnabled of a log: PCR 12 and 13 tags, then separators; `after` appends a VSMLaunchType record on PCR 13
 * after its separator (`sep_type`: the separator's unauthenticated type). */
static bool vbs_of(bool before, bool after, uint32_t sep_type)
{
	uint8_t log[1024], sep[4] = {0};
	size_t n = 0;
	struct tpm_pcr_values pcrs;
	struct tcg_log *l = NULL;
	struct tcg_boot_state st;
	uint8_t v[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];
	static const uint8_t DEBUG_OFF[] = {0x01, 0x00, 0x04, 0x00, 1, 0, 0, 0, 0};

	n += put_event(log + n, 12, EV_EVENT_TAG, DEBUG_OFF, sizeof(DEBUG_OFF), NULL, 0);
	if (before)
		n += put_event(log + n, 13, EV_EVENT_TAG, VSM_LAUNCHED, sizeof(VSM_LAUNCHED), NULL, 0);
	n += put_event(log + n, 12, EV_SEPARATOR, sep, 4, NULL, 0);
	n += put_event(log + n, 13, sep_type, sep, 4, NULL, 0);
	if (after)
		n += put_event(log + n, 13, EV_EVENT_TAG, VSM_LAUNCHED, sizeof(VSM_LAUNCHED), NULL, 0);
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	assert_int_equal(tcg_log_replay(l, TPM_BANK_SHA1, v, NULL), ATTEST_OK);
	memset(&pcrs, 0, sizeof(pcrs));
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		tpm_pcr_set(&pcrs, TPM_BANK_SHA1, i, v[i], 20, NULL);
	assert_int_equal(tcg_log_verify(l, &pcrs, NULL), ATTEST_OK);
	assert_int_equal(tcg_boot_state(l, &st, NULL), ATTEST_OK);
	assert_true(st.windows);
	tcg_log_free(l);
	return st.vbs;
}

static void sipa_records_extended_after_the_boot_separator_are_not_boot_state(void **state)
{
	(void)state;
	assert_true(vbs_of(true, false, EV_SEPARATOR));
	assert_false(vbs_of(false, false, EV_SEPARATOR));
	/* appended once the OS ran, with a genuine quote over it */
	assert_false(vbs_of(false, true, EV_SEPARATOR));
	/* the separator known by its measured content, whatever its label */
	assert_false(vbs_of(false, true, EV_ACTION));
}

/* The text under test equals the jansson reference (tcg_text_ref.h) byte for byte; says where they part. */
static void assert_text_is_reference(const char *what, const char *got, const char *want)
{
	size_t i = 0;

	assert_non_null(want);
	if (got == NULL)
		fail_msg("%s: no text (reference is %zu bytes)", what, strlen(want));
	while (got[i] != '\0' && got[i] == want[i])
		i++;
	if (got[i] != want[i])
		fail_msg(
		    "%s: differs from jansson's text at byte %zu of %zu: ...%.60s... against ...%.60s...",
		    what, i, strlen(want), got + (i > 20 ? i - 20 : 0), want + (i > 20 ? i - 20 : 0));
}

static void events_text_matches_reference(const char *what, const struct tcg_log *log)
{
	for (int v = 0; v < 2; v++) {
		char *got = tcg_events_json(log, v == 1), *want = tcg_ref_events_text(log, v == 1);

		assert_text_is_reference(what, got, want);
		free(got);
		free(want);
	}
}

static void events_text_of_every_real_log_is_what_jansson_dumps(void **state)
{
	REQUIRE_VECTORS(dir);
	struct gcp_log g;

	for (size_t i = 0; i < sizeof(LOGS) / sizeof(LOGS[0]); i++) {
		size_t n = 0;
		uint8_t *p = test_read_vector(dir, LOGS[i], &n);
		struct tcg_log *log = NULL;

		assert_int_equal(tcg_log_parse(p, n, &log, NULL), 0);
		events_text_matches_reference(LOGS[i], log);
		tcg_log_free(log);
		free(p);
	}
	/* verified against its quote: the filter keeps what replayed */
	gcp_log_load(&g);
	assert_int_equal(tcg_log_verify(g.log, &g.pcrs, NULL), 0);
	events_text_matches_reference("GCP log, verified", g.log);
	gcp_log_free(&g);
}

/* A UEFI_VARIABLE_DATA with an arbitrary GUID, a UTF-16 name of `nchars` units and `dlen` data bytes. */
static size_t uefi_var(uint8_t *p, const uint16_t *name, uint64_t nchars, uint64_t nfield,
		       const uint8_t *data, uint64_t dlen, uint64_t dfield)
{
	static const uint8_t guid[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0xfe};
	size_t o = 32;

	memcpy(p, guid, 16);
	for (int i = 0; i < 8; i++) {
		p[16 + i] = (uint8_t)(nfield >> (8 * i));
		p[24 + i] = (uint8_t)(dfield >> (8 * i));
	}
	for (uint64_t i = 0; i < nchars; i++, o += 2)
		p[o] = (uint8_t)name[i], p[o + 1] = (uint8_t)(name[i] >> 8);
	memcpy(p + o, data, (size_t)dlen);
	return o + (size_t)dlen;
}

/*
 * Event data that exercises every decoding branch of the events text:
 * empty, one byte, every byte value, the 512-byte hex cut and past it,
 * UEFI variables (escapes, non-ASCII, a NUL inside the name, one-byte and
 * long data, malformed), UEFI_IMAGE_LOAD_EVENTs (u64s past INT64_MAX, one
 * byte short), SIPA (every leaf kind, a malformed one), odd UTF-16.
 */
#define PAYLOADS 14
static size_t payload(int k, uint8_t *p)
{
	static const uint16_t name[] = {'a',  '"',    '\\', '\n', 0x01, 0x1f, 0x7f,
					0xe9, 0x4e2d, '/',  'z',  0,	'x'};
	uint8_t all[256], *q;
	struct buf b;
	size_t n;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	switch (k) {
	case 0:
		return 0;
	case 1:
		p[0] = '"';
		return 1;
	case 2: /* every byte value, as ASCII, UTF-16 and hex */
		memcpy(p, all, 256);
		memcpy(p + 256, all, 256);
		return 512;
	case 3: /* just past the 512-byte cut */
		memset(p, 0xa5, 513);
		return 513;
	case 4:
		return uefi_var(p, name, 13, 13, all + 1, 1, 1);
	case 5:
		return uefi_var(p, name, 13, 13, all, 256, 256);
	case 6: /* 700 bytes of variable data: cut at 512 */
		memset(p + 4096, 0x3c, 700);
		return uefi_var(p, name, 3, 3, p + 4096, 700, 700);
	case 7: /* NameLength past 4096; DataLength past the data */
		n = uefi_var(p, name, 13, 5000, all, 8, 8);
		memcpy(p + n, p, n);
		uefi_var(p + n, name, 13, 13, all, 8, 9);
		return 2 * n;
	case 8: /* UEFI_IMAGE_LOAD_EVENT: INT64_MAX, past it, 0, UINT64_MAX, then a device path */
		memset(p, 0xff, 40);
		p[7] = 0x7f;
		memset(p + 16, 0, 8);
		p[8] = 0;
		return 40;
	case 9:
		memset(p, 0x11, 31);
		return 31;
	case 10: /* SIPA: a container of a UTF-16 path, a u8, a u32, a u64 and odd hex, then a bare u8 */
		buf_init(&b, 4096);
		q = p + 2048;
		n = uefi_var(q, name, 13, 13, all, 0, 0);
		{
			struct buf in;

			buf_init(&in, 4096);
			assert_int_equal(devplat_sipa(&in, 0x00050009u, q + 32, 26), 0);
			assert_int_equal(devplat_sipa(&in, 0x00040001u, all + 1, 1), 0);
			assert_int_equal(devplat_sipa(&in, 0x00050002u, all + 250, 4), 0);
			assert_int_equal(devplat_sipa(&in, 0x000A0007u, all + 248, 8), 0);
			assert_int_equal(devplat_sipa(&in, 0x0005FFFFu, all + 30, 3), 0);
			assert_int_equal(devplat_sipa(&b, 0x40010001u, in.p, (uint32_t)in.len), 0);
			buf_free(&in);
		}
		assert_int_equal(devplat_sipa(&b, 0x00050005u, all, 1), 0);
		n = b.len;
		memcpy(p, b.p, n);
		buf_free(&b);
		return n;
	case 11: /* SIPA that claims more than it has */
		memcpy(p, "\x01\x00\x04\x00\x10\x00\x00\x00\x01", 9);
		return 9;
	case 12: /* odd UTF-16: a quote and a backslash, then half a unit */
		memcpy(p, "\"\0\\\0A\0B", 7);
		return 7;
	default: { /* text with every escape JSON has, in a printable run */
		static const char text[] = "say \"hi\" \\ back\tslash\r\n/end\x7f\x80";

		memcpy(p, text, sizeof(text) - 1);
		return sizeof(text) - 1;
	}
	}
}

static const uint32_t ALL_TYPES[] = {
    EV_PREBOOT_CERT,
    EV_POST_CODE,
    0x00000002u,
    EV_NO_ACTION,
    EV_SEPARATOR,
    EV_ACTION,
    EV_EVENT_TAG,
    EV_S_CRTM_CONTENTS,
    EV_S_CRTM_VERSION,
    EV_CPU_MICROCODE,
    EV_PLATFORM_CONFIG_FLAGS,
    EV_TABLE_OF_DEVICES,
    EV_COMPACT_HASH,
    EV_IPL,
    EV_IPL_PARTITION_DATA,
    EV_NONHOST_CODE,
    EV_NONHOST_CONFIG,
    EV_NONHOST_INFO,
    EV_OMIT_BOOT_DEVICE_EVENTS,
    EV_EFI_EVENT_BASE,
    EV_EFI_VARIABLE_DRIVER_CONFIG,
    EV_EFI_VARIABLE_BOOT,
    EV_EFI_BOOT_SERVICES_APPLICATION,
    EV_EFI_BOOT_SERVICES_DRIVER,
    EV_EFI_RUNTIME_SERVICES_DRIVER,
    EV_EFI_GPT_EVENT,
    EV_EFI_ACTION,
    EV_EFI_PLATFORM_FIRMWARE_BLOB,
    EV_EFI_HANDOFF_TABLES,
    EV_EFI_PLATFORM_FIRMWARE_BLOB2,
    EV_EFI_HANDOFF_TABLES2,
    EV_EFI_VARIABLE_BOOT2,
    EV_EFI_HCRTM_EVENT,
    EV_EFI_VARIABLE_AUTHORITY,
    EV_EFI_SPDM_FIRMWARE_BLOB,
    EV_EFI_SPDM_FIRMWARE_CONFIG,
    0x7fffffffu,
    0x800000E3u,
    0xFFFFFFFFu,
};

/*
 * Event types ALL_TYPES[first, end) with every payload of payload(): 14
 * events a type, PCRs 0-23 in turn; every third event left unverified for
 * the filter. Parsed from a crypto-agile log (SHA-1 and SHA-256 digests);
 * the builder holds 512 events, so the types take two logs.
 */
static void every_type_log(struct devplat_tcg_log *dl, size_t first, size_t end, struct tcg_log **out)
{
	uint8_t *p = malloc(8192);
	size_t k = 0;

	assert_int_equal(devplat_tcg_log_init(dl), 0);
	for (size_t t = first; t < end; t++)
		for (int j = 0; j < PAYLOADS; j++, k++) {
			size_t n = payload(j, p);

			assert_int_equal(devplat_tcg_log_add(dl, (uint32_t)(k % 24), ALL_TYPES[t], p, n), 0);
		}
	free(p);
	assert_int_equal(tcg_log_parse(dl->log.p, dl->log.len, out, NULL), ATTEST_OK);
	for (size_t i = 0; i < (*out)->n_events; i++)
		(*out)->events[i].verified = i % 3 != 0;
}

static void events_text_of_every_type_payload_and_escape_is_what_jansson_dumps(void **state)
{
	const size_t types = sizeof(ALL_TYPES) / sizeof(ALL_TYPES[0]);
	struct devplat_tcg_log dl;
	struct tcg_log *l = NULL;
	char *text[2];

	(void)state;
	for (int half = 0; half < 2; half++) {
		every_type_log(&dl, half ? types / 2 : 0, half ? types : types / 2, &l);
		assert_true(l->n_events > 250);
		events_text_matches_reference("every type and payload", l);
		text[half] = tcg_events_json(l, false);
		assert_non_null(text[half]);
		tcg_log_free(l);
		devplat_tcg_log_free(&dl);
	}
	/* the branches were reached: a cut variable, u64s past INT64_MAX, a SIPA leaf, a UTF-16 escape */
	assert_non_null(strstr(text[1], "\"VariableDataLength\":700,\"VariableData\":\"3c3c"));
	assert_non_null(
	    strstr(text[1], "\"ImageLengthInMemory\":\"0xffffffffffffff00\",\"ImageLinkTimeAddress\":0,"
			    "\"LengthOfDevicePath\":\"0xffffffffffffffff\"}"));
	assert_non_null(strstr(text[1], "\"ImageLocationInMemory\":9223372036854775807,"));
	assert_non_null(strstr(text[0], "{\"SipaEvents\":[{\"Type\":327689,"));
	assert_non_null(strstr(text[0], "\"Value\":\"a\\\"\\\\\\n\\u0001\\u001F"));
	assert_non_null(strstr(text[1], "\"UnicodeName\":\"a\\\"\\\\?\?\?\?\?\?/z\""));
	assert_non_null(strstr(text[1], "\"EventTypeString\":\"0xffffffff\""));
	assert_non_null(strstr(text[0], "{\"Version\":\"\\\"\\\\A\"}"));
	free(text[0]);
	free(text[1]);
}

static void pcrs_text_is_what_jansson_dumps(void **state)
{
	struct tpm_pcr_values pcrs;
	char *got, *want;

	(void)state;
	memset(&pcrs, 0, sizeof(pcrs));
	for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
		for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
			for (size_t j = 0; j < TPM_PCR_MAX_DIGEST; j++)
				pcrs.v[bk][i][j] = (uint8_t)(bk * 97 + i * 31 + j * 7);
	/* none, then every bank a different sparse set, then all of them */
	for (int round = 0; round < 3; round++) {
		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			pcrs.present[bk] = round == 0 ? 0 : round == 1 ? 0x00A5A5A5u >> bk : 0xFFFFFFu;
		got = tcg_pcrs_json(&pcrs);
		want = tcg_ref_pcrs_text(&pcrs);
		assert_text_is_reference("pcrs", got, want);
		free(got);
		free(want);
	}
}

/* Every byte value, at every length 0-80 and every start 0-15, through the vector and the portable hex. */
static void text_hex_paths_agree_with_printf_on_every_byte(void **state)
{
	uint8_t in[256 + 96];
	char want[2 * sizeof(in) + 1], got[2][2 * sizeof(in) + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 167 + 13); /* 167 is odd: the first 256 are every byte value once */
	for (size_t i = 0; i < sizeof(in); i++)
		snprintf(want + 2 * i, 3, "%02x", in[i]);
	for (int v = 0; v < 2; v++) {
		memset(got[v], '#', sizeof(got[v]));
		tcg_text_hex(got[v], in, sizeof(in), v == 1);
		assert_memory_equal(got[v], want, 2 * sizeof(in));
		assert_int_equal(got[v][2 * sizeof(in)], '#'); /* nothing past its 2n characters */
	}
	for (size_t start = 0; start < 16; start++)
		for (size_t n = 0; n <= 80; n++)
			for (int v = 0; v < 2; v++) {
				memset(got[v], '#', sizeof(got[v]));
				tcg_text_hex(got[v], in + start, n, v == 1);
				assert_memory_equal(got[v], want + 2 * start, 2 * n);
				assert_int_equal(got[v][2 * n], '#');
			}
}

/*
 * A log whose events text is exactly TCG_JSON_MAX bytes is kept, one byte
 * longer is refused: an EV_ACTION string (its length sets the parity) and
 * one SIPA leaf whose hex (uncut) makes up the rest.
 */
static char *cap_text(uint32_t leaf, uint32_t chars, size_t *len)
{
	size_t n = (32 + chars) + (32 + 8 + (size_t)leaf);
	uint8_t *log = calloc(1, n), *e;
	struct tcg_log *l = NULL;
	char *text;

	assert_non_null(log);
	log[0] = 4, log[4] = EV_ACTION, log[28] = (uint8_t)chars;
	memset(log + 32, 'a', chars);
	e = log + 32 + chars;
	e[0] = 13, e[4] = EV_EVENT_TAG;
	for (int i = 0; i < 4; i++) {
		e[28 + i] = (uint8_t)((8 + leaf) >> (8 * i)); /* EventSize */
		e[36 + i] = (uint8_t)(leaf >> (8 * i));	      /* the leaf's size */
	}
	e[32] = 0x01, e[34] = 0x02; /* leaf type 0x00020001: no name, shown as hex */
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	text = tcg_events_json(l, false);
	*len = text != NULL ? strlen(text) : 0;
	tcg_log_free(l);
	free(log);
	return text;
}

static void events_text_of_exactly_the_cap_is_kept_and_one_byte_more_refused(void **state)
{
	size_t len, base;
	uint32_t chars, leaf;
	char *text = cap_text(16, 1, &base);

	(void)state;
	assert_non_null(text);
	free(text);
	base -= 2 * 16; /* the text without the leaf's hex, with a 1-character string */
	chars = (TCG_JSON_MAX - base) % 2 == 0 ? 1 : 2;
	leaf = (uint32_t)((TCG_JSON_MAX - base - (chars - 1)) / 2);
	text = cap_text(leaf, chars, &len);
	assert_non_null(text);
	assert_int_equal(len, TCG_JSON_MAX);
	assert_memory_equal(text + len - 7, "\"}]}}]}", 7); /* whole, to its last bracket */
	free(text);
	assert_null(cap_text(leaf, chars + 1, &len));
	assert_null(cap_text(leaf + 1, chars, &len));
}

/*
 * Strings longer than the writer's 4096-byte pieces: printable ASCII with
 * quotes at the piece boundaries, UTF-16 ended by a NUL in its third piece
 * and one without a NUL, a UEFI variable name of 4096 characters.
 */
static void long_texts_across_the_writers_pieces_are_what_jansson_dumps(void **state)
{
	static const size_t sizes[] = {4095, 4096, 4097, 8191, 8192, 12289};
	struct devplat_tcg_log dl;
	struct tcg_log *l = NULL;
	uint8_t *p = malloc(3 * 4096 + 64);
	uint16_t *name = malloc(4096 * sizeof(*name));

	(void)state;
	assert_non_null(p);
	assert_non_null(name);
	assert_int_equal(devplat_tcg_log_init(&dl), 0);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];

		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(i % 7 == 0    ? '"'
					 : i % 11 == 0 ? '\\'
					 : i % 13 == 0 ? 0x05
						       : 'a' + i % 26);
		p[4095] = '"';
		p[n > 0 ? n - 1 : 0] = '\\'; /* gcc -O2 cannot see that n is never 0 */
		assert_int_equal(devplat_tcg_log_add(&dl, 1, EV_ACTION, p, n), 0);
		assert_int_equal(devplat_tcg_log_add(&dl, 2, EV_S_CRTM_VERSION, p, n), 0);
		if (n > 8200) {
			p[8200] = 0, p[8201] = 0; /* a NUL unit in the third piece */
			assert_int_equal(devplat_tcg_log_add(&dl, 3, EV_S_CRTM_VERSION, p, n), 0);
		}
	}
	for (size_t i = 0; i < 4096; i++)
		name[i] = (uint16_t)(i % 5 == 0 ? '"' : i % 9 == 0 ? 0x263a : 'A' + i % 26);
	{
		uint8_t *v = malloc(32 + 2 * 4096 + 3);

		assert_int_equal(
		    devplat_tcg_log_add(&dl, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, v,
					uefi_var(v, name, 4096, 4096, (const uint8_t *)"xyz", 3, 3)),
		    0);
		free(v);
	}
	assert_int_equal(tcg_log_parse(dl.log.p, dl.log.len, &l, NULL), ATTEST_OK);
	events_text_matches_reference("long texts", l);
	tcg_log_free(l);
	devplat_tcg_log_free(&dl);
	free(name);
	free(p);
}

/*
 * The longest numbers the text has, at every offset: a printable EV_ACTION
 * string of 0-1400 bytes shifts six image-load events (all four u64 fields
 * 0xFF.., 175 bytes of text each) and a 700-byte default event through
 * every position and growth point of the writer's buffer. review5 found
 * image_load_write reserving 160 bytes for 175 (a heap overflow where the
 * room was tight); a piece that outgrows its reserved bound now refuses
 * the text wherever it lands (jw_done, JW_GUARD), so the comparison with
 * the reference catches a bound counted short without needing the piece
 * to meet the end of the allocation.
 */
static void every_piece_at_every_room_is_written_within_its_bound(void **state)
{
	static uint8_t log[32 + 1400 + 6 * (32 + 32) + 32 + 700];
	uint8_t img[32], data[1400];

	(void)state;
	memset(img, 0xff, sizeof(img));
	memset(data, 'a', sizeof(data));
	for (uint32_t pad = 0; pad <= 1400; pad++) {
		size_t n = put_event(log, 4, EV_ACTION, data, pad, NULL, 0);
		struct tcg_log *l = NULL;

		for (int k = 0; k < 6; k++)
			n += put_event(log + n, 4, EV_EFI_BOOT_SERVICES_APPLICATION, img, sizeof(img), NULL,
				       0);
		n += put_event(log + n, 5, EV_POST_CODE, data, 700, NULL, 0);
		assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
		{
			char *got = tcg_events_json(l, false), *want = tcg_ref_events_text(l, false);

			assert_text_is_reference("image loads after a padding string", got, want);
			free(got);
			free(want);
		}
		tcg_log_free(l);
	}
}

/*
 * SIPA leaves through the events text, against json_dumps of sipa_leaf_json
 * (tcg_text_ref.h): every named type (1-byte value), a UTF-16 path with a
 * quote, a backslash, controls (short and \u00XX), DEL, non-ASCII, a
 * surrogate, a NUL and text past it; an empty and an odd path; u8, u32, an
 * 8-byte value with its top bit set (negative, as json_int_t), odd hex,
 * an unnamed type, a UTF-16 type of 4 bytes (text, not an integer), and a
 * path longer than the writer's 4096-byte pieces.
 */
static void sipa_leaves_in_the_events_text_are_what_jansson_dumps(void **state)
{
	static const uint8_t path[] = {'a',  0, '"',  0,    '\\', 0,	'\n', 0, 0x01, 0, 0x1f, 0, 0x7f, 0,
				       0xe9, 0, 0x2d, 0x4e, 0x00, 0xd8, '/',  0, 'z',  0, 0,	0, 'x',	 0};
	static const uint8_t u8[] = {1}, u32[] = {0x78, 0x56, 0x34, 0x12}, four[] = {'a', 0, 'b', 0};
	static const uint8_t u64[] = {1, 2, 3, 4, 5, 6, 7, 0x80}, odd[] = {0xde, 0xad, 0xbe};
	uint8_t *log = malloc(64 * 1024), *big = malloc(10000);
	struct buf b;
	size_t n = 0, named = 0;
	struct tcg_log *l = NULL;
	char *text;

	(void)state;
	buf_init(&b, 1u << 20);
	for (uint32_t cat = 0; cat <= 0x10; cat++)
		for (uint32_t id = 0; id <= 0x40; id++)
			if (sipa_type_name(cat << 16 | id) != NULL &&
			    (cat << 16 & 0x000F0000u) != 0x00010000u) {
				assert_int_equal(devplat_sipa(&b, cat << 16 | id, u8, 1), 0);
				named++;
			}
	assert_true(named > 30);
	assert_int_equal(devplat_sipa(&b, 0x00050009u, path, sizeof(path)), 0);
	assert_int_equal(devplat_sipa(&b, 0x00050009u, path, 0), 0);
	assert_int_equal(devplat_sipa(&b, 0x00050009u, path, 5), 0);
	assert_int_equal(devplat_sipa(&b, 0x00050009u, four, 4), 0);
	assert_int_equal(devplat_sipa(&b, 0x00040001u, u8, 1), 0);
	assert_int_equal(devplat_sipa(&b, 0x00050002u, u32, 4), 0);
	assert_int_equal(devplat_sipa(&b, 0x000A0007u, u64, 8), 0);
	assert_int_equal(devplat_sipa(&b, 0x0005FFFFu, odd, 3), 0);
	for (size_t i = 0; i < 10000; i += 2)
		big[i] = (uint8_t)(i % 3 == 0 ? '"' : 'a' + i % 26),
		big[i + 1] = (uint8_t)(i % 7 == 0 ? 0x4e : 0);
	assert_int_equal(devplat_sipa(&b, 0x00050009u, big, 10000), 0);
	/* long plain runs (eight units at a time) broken at every offset by non-ASCII, a control, '\\', DEL
	 */
	for (size_t i = 0; i < 10000; i += 2) {
		unsigned u = i % 74 == 0    ? 0x4e2d
			     : i % 106 == 0 ? 0x08
			     : i % 94 == 0  ? '\\'
			     : i % 118 == 0 ? 0x7f
			     : i % 142 == 0 ? 0xff
					    : 'A' + (unsigned)(i % 52) / 2;

		big[i] = (uint8_t)u, big[i + 1] = (uint8_t)(u >> 8);
	}
	assert_int_equal(devplat_sipa(&b, 0x00070001u, big, 10000), 0);
	big[9000] = 0, big[9001] = 0;
	assert_int_equal(devplat_sipa(&b, 0x00070001u, big + 2, 9998), 0);
	assert_int_equal(devplat_sipa(&b, 0x0005FFFEu, big, 9999), 0);
	n += put_event(log + n, 12, EV_EVENT_TAG, b.p, (uint32_t)b.len, NULL, 0);
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	events_text_matches_reference("SIPA leaves", l);
	text = tcg_events_json(l, false);
	assert_non_null(
	    strstr(text, "{\"Type\":327689,\"Name\":\"SystemRoot\",\"Value\":\"a\\\"\\\\\\n\\u0001\\u001F"));
	assert_non_null(strstr(text, "\"Value\":-9221395093405892095}"));
	free(text);
	tcg_log_free(l);
	buf_free(&b);
	free(big);
	free(log);
}

/*
 * An EV_EVENT_TAG whose first SIPA leaf alone passes TCG_JSON_MAX but whose
 * records then turn out malformed is no SIPA: its partial text is taken
 * back and the event shown as DataLength and Data, so the text is kept
 * (what was written past the cap does not stick), as jansson has it.
 */
static void sipa_attempt_past_the_cap_then_taken_back_keeps_the_text(void **state)
{
	const uint32_t leaf = 8400000; /* 16.8 MB of hex */
	size_t n = 32 + 8 + (size_t)leaf + 5;
	uint8_t *log = calloc(1, n);
	struct tcg_log *l = NULL;

	(void)state;
	assert_non_null(log);
	log[0] = 13, log[4] = EV_EVENT_TAG;
	for (int i = 0; i < 4; i++) {
		log[28 + i] = (uint8_t)((8 + leaf + 5) >> (8 * i)); /* EventSize */
		log[36 + i] = (uint8_t)(leaf >> (8 * i));	     /* the leaf's size */
	}
	log[32] = 0x01, log[34] = 0x02; /* leaf type 0x00020001, shown as hex; then a 5-byte record header, cut */
	assert_int_equal(tcg_log_parse(log, n, &l, NULL), ATTEST_OK);
	events_text_matches_reference("SIPA taken back past the cap", l);
	tcg_log_free(l);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_real_event_log_parses_to_its_last_byte),
	    cmocka_unit_test(events_claim_of_every_real_log_is_valid_json_with_every_event),
	    cmocka_unit_test(crypto_agile_log_declares_its_banks_in_the_spec_id_event),
	    cmocka_unit_test(truncated_log_fails_with_a_parse_error),
	    cmocka_unit_test(every_cut_of_a_real_log_fails_cleanly_or_parses_a_prefix),
	    cmocka_unit_test(gcp_windows_log_replays_to_all_eight_quoted_pcrs),
	    cmocka_unit_test(gcp_windows_log_gives_boot_state_claims),
	    cmocka_unit_test(tampered_digest_names_the_first_mismatching_event),
	    cmocka_unit_test(tampered_event_data_is_detected_though_the_digest_replays),
	    cmocka_unit_test(log_and_quote_without_a_common_bank_are_refused),
	    cmocka_unit_test(spec_id_event_with_undeclared_algorithm_is_refused),
	    cmocka_unit_test(sipa_record_larger_than_its_container_is_refused),
	    cmocka_unit_test(sipa_walk_visits_nested_leaves_and_bounds_depth),
	    cmocka_unit_test(sipa_leaves_in_the_events_text_are_what_jansson_dumps),
	    cmocka_unit_test(relabelled_secure_boot_event_is_read_only_while_its_data_is_bound),
	    cmocka_unit_test(relabelled_sipa_tag_still_speaks_for_its_measured_bytes),
	    cmocka_unit_test(sipa_records_extended_after_the_boot_separator_are_not_boot_state),
	    cmocka_unit_test(events_text_past_its_cap_is_refused_whole),
	    cmocka_unit_test(sipa_leaf_text_crossing_the_cap_is_refused_whole),
	    cmocka_unit_test(events_claim_names_efi_variables_by_guid_and_decodes_sipa),
	    cmocka_unit_test(events_text_of_every_real_log_is_what_jansson_dumps),
	    cmocka_unit_test(events_text_of_every_type_payload_and_escape_is_what_jansson_dumps),
	    cmocka_unit_test(pcrs_text_is_what_jansson_dumps),
	    cmocka_unit_test(long_texts_across_the_writers_pieces_are_what_jansson_dumps),
	    cmocka_unit_test(every_piece_at_every_room_is_written_within_its_bound),
	    cmocka_unit_test(sipa_attempt_past_the_cap_then_taken_back_keeps_the_text),
	    cmocka_unit_test(text_hex_paths_agree_with_printf_on_every_byte),
	    cmocka_unit_test(events_text_of_exactly_the_cap_is_kept_and_one_byte_more_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
