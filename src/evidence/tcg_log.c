/*
 * TCG event logs: parse (legacy SHA-1 and crypto-agile), replay per bank,
 * verify against quoted PCRs. See tcg_log.h; layouts in formats.md §7.4,
 * replay rules in §7.6.
 */
#include "evidence/tcg_log.h"

#include "base/cur.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* TCG_EfiSpecIdEvent.signature of a crypto-agile log (PFP §10.4.5.1). */
static const uint8_t SPEC_ID_03[16] = "Spec ID Event03";
/* EV_NO_ACTION StartupLocality event (PFP §10.4.5.3). */
static const uint8_t STARTUP_LOCALITY[16] = "StartupLocality";

#define TCG_LEGACY_DIGEST      20
#define WINDOWS_TRUSTPOINT_PCR 0xFFFFFFFFu

static const struct {
	uint32_t type;
	const char *name;
} EVENT_NAMES[] = {
    {EV_PREBOOT_CERT, "EV_PREBOOT_CERT"},
    {EV_POST_CODE, "EV_POST_CODE"},
    {0x00000002u, "EV_UNUSED"},
    {EV_NO_ACTION, "EV_NO_ACTION"},
    {EV_SEPARATOR, "EV_SEPARATOR"},
    {EV_ACTION, "EV_ACTION"},
    {EV_EVENT_TAG, "EV_EVENT_TAG"},
    {EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS"},
    {EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION"},
    {EV_CPU_MICROCODE, "EV_CPU_MICROCODE"},
    {EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS"},
    {EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES"},
    {EV_COMPACT_HASH, "EV_COMPACT_HASH"},
    {EV_IPL, "EV_IPL"},
    {EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA"},
    {EV_NONHOST_CODE, "EV_NONHOST_CODE"},
    {EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG"},
    {EV_NONHOST_INFO, "EV_NONHOST_INFO"},
    {EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT"},
    {EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT"},
    {EV_EFI_ACTION, "EV_EFI_ACTION"},
    {EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES"},
    {EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2"},
    {EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2"},
    {EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT"},
    {EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY"},
    {EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {EV_EFI_SPDM_FIRMWARE_CONFIG, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
};

const char *tcg_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(EVENT_NAMES) / sizeof(EVENT_NAMES[0]); i++)
		if (EVENT_NAMES[i].type == type)
			return EVENT_NAMES[i].name;
	return NULL;
}

void tcg_log_free(struct tcg_log *log)
{
	if (log == NULL)
		return;
	free(log->events);
	free(log);
}

static int truncated(struct attest_err *err, size_t seq, size_t off, const char *what)
{
	attest_err_set(err, ATTEST_E_PARSE, "tcg.log.truncated",
		       "event log record #%zu (at byte %zu) is cut short in its %s", seq, off, what);
	attest_err_where(err, "event log+0x%zx", off);
	return ATTEST_E_PARSE;
}

/* Room for one more event at log->events[log->n_events] (each record is parsed in its place). */
static int reserve_event(struct tcg_log *log, size_t *cap, struct attest_err *err)
{
	if (log->n_events == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct tcg_event *p;

		if (ncap > TCG_LOG_MAX_EVENTS)
			ncap = TCG_LOG_MAX_EVENTS;
		if (log->n_events >= ncap)
			return attest_err_set(err, ATTEST_E_PARSE, "tcg.log.too_many",
					      "event log has more than %d events", TCG_LOG_MAX_EVENTS);
		p = realloc(log->events, ncap * sizeof(*p));
		if (p == NULL)
			return attest_err_set(err, ATTEST_E_NOMEM, "tcg.log.nomem", "out of memory");
		log->events = p;
		*cap = ncap;
	}
	return ATTEST_OK;
}

/* TCG_PCR_EVENT: PCRIndex, EventType, SHA-1 digest, EventSize, Event. */
static int parse_legacy(struct cur *c, size_t seq, struct tcg_event *ev, struct attest_err *err)
{
	size_t off = c->off;
	uint32_t size;
	const uint8_t *d;

	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint32_t)seq;
	ev->offset = off;
	/* PCRIndex, EventType, digest, EventSize (32 bytes known to be left), then the record in one take. */
	if (cur_left(c) < 8 + TCG_LEGACY_DIGEST + 4) {
		if (cur_left(c) < 8)
			return truncated(err, seq, off, "header");
		return truncated(err, seq, off,
				 cur_left(c) < 8 + TCG_LEGACY_DIGEST ? "SHA-1 digest" : "EventSize");
	}
	size = ld_u32le(c->p + 8 + TCG_LEGACY_DIGEST);
	if (cur_take(c, 8 + TCG_LEGACY_DIGEST + 4 + (size_t)size, &d))
		return truncated(err, seq, off, "event data");
	ev->pcr = ld_u32le(d);
	ev->type = ld_u32le(d + 4);
	ev->digest[TPM_BANK_SHA1] = d + 8;
	ev->digests = 1u << TPM_BANK_SHA1;
	ev->data = d + 8 + TCG_LEGACY_DIGEST + 4;
	ev->data_len = size;
	return ATTEST_OK;
}

static int spec_alg_size(const struct tcg_log *log, uint16_t alg)
{
	for (size_t i = 0; i < log->n_algs; i++)
		if (log->alg_id[i] == alg)
			return log->alg_size[i];
	return -1;
}

/* TCG_PCR_EVENT2: PCRIndex, EventType, TPML_DIGEST_VALUES, EventSize, Event. */
static int parse_agile(struct cur *c, const struct tcg_log *log, size_t seq, struct tcg_event *ev,
		       struct attest_err *err)
{
	size_t off = c->off;
	uint32_t count, size;
	const uint8_t *d;

	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint32_t)seq;
	ev->offset = off;
	/* PCRIndex, EventType, TPML_DIGEST_VALUES.count in one take. */
	if (cur_take(c, 12, &d))
		return truncated(err, seq, off, "header");
	ev->pcr = ld_u32le(d);
	ev->type = ld_u32le(d + 4);
	count = ld_u32le(d + 8);
	if (count > log->n_algs) {
		attest_err_set(err, ATTEST_E_PARSE, "tcg.log.alg",
			       "event #%zu carries %u digests, the Spec ID event declares %zu algorithms",
			       seq, count, log->n_algs);
		attest_err_where(err, "event log+0x%zx", off);
		return ATTEST_E_PARSE;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		int size_of, bank;

		/* The algorithm read where its 2 bytes are known to be left; then alg and digest in one take.
		 */
		if (cur_left(c) < 2)
			return truncated(err, seq, off, "digest list");
		alg = ld_u16le(c->p);
		/* Digest sizes come only from the Spec ID event (PFP §10.2.2). */
		size_of = spec_alg_size(log, alg);
		if (size_of < 0) {
			attest_err_set(err, ATTEST_E_PARSE, "tcg.log.alg",
				       "event #%zu has a digest of algorithm 0x%04x that the Spec ID event "
				       "does not declare",
				       seq, alg);
			attest_err_where(err, "event log+0x%zx", c->off + 2);
			return ATTEST_E_PARSE;
		}
		if (cur_take(c, 2 + (size_t)size_of, &d))
			return truncated(err, seq, off, "digest");
		bank = tpm_bank_from_alg(alg);
		if (bank >= 0) {
			ev->digest[bank] = d + 2;
			ev->digests |= 1u << bank;
		}
	}
	/* EventSize read where its 4 bytes are known to be left; then size and data in one take. */
	if (cur_left(c) < 4)
		return truncated(err, seq, off, "EventSize");
	size = ld_u32le(c->p);
	if (cur_take(c, 4 + (size_t)size, &d))
		return truncated(err, seq, off, "event data");
	ev->data = d + 4;
	ev->data_len = size;
	return ATTEST_OK;
}

static int specid_error(struct attest_err *err, const char *what)
{
	attest_err_set(err, ATTEST_E_PARSE, "tcg.log.specid", "the Spec ID event is malformed: %s", what);
	attest_err_where(err, "event log record #0");
	return ATTEST_E_PARSE;
}

/* TCG_EfiSpecIDEvent (PFP §10.4.5.1), in the data of the first record. */
static int parse_specid(struct tcg_log *log, const struct tcg_event *hdr, struct attest_err *err)
{
	struct cur c;
	uint32_t nalg;
	uint8_t vlen;

	cur_init(&c, hdr->data, hdr->data_len);
	if (cur_skip(&c, 16) || cur_u32le(&c, &log->platform_class) || cur_u8(&c, &log->spec_minor) ||
	    cur_u8(&c, &log->spec_major) || cur_u8(&c, &log->spec_errata) || cur_u8(&c, &log->uintn_size) ||
	    cur_u32le(&c, &nalg))
		return specid_error(err, "header cut short");
	if (nalg == 0 || nalg > TCG_LOG_MAX_ALGS)
		return specid_error(err, "numberOfAlgorithms is 0 or more than 8");
	for (uint32_t i = 0; i < nalg; i++) {
		uint16_t id, size;
		int bank;

		if (cur_u16le(&c, &id) || cur_u16le(&c, &size))
			return specid_error(err, "algorithm list cut short");
		bank = tpm_bank_from_alg(id);
		if (size == 0 || size > 128 || (bank >= 0 && size != tpm_bank_size(bank)))
			return specid_error(err, "an algorithm's digestSize is wrong for it");
		for (size_t j = 0; j < log->n_algs; j++)
			if (log->alg_id[j] == id)
				return specid_error(err, "an algorithm is declared twice");
		log->alg_id[log->n_algs] = id;
		log->alg_size[log->n_algs++] = size;
		if (bank >= 0)
			log->banks |= 1u << bank;
	}
	if (cur_u8(&c, &vlen) || cur_skip(&c, vlen))
		return specid_error(err, "vendorInfo cut short");
	if (!cur_empty(&c))
		return specid_error(err, "bytes after vendorInfo");
	return ATTEST_OK;
}

static bool is_specid(const struct tcg_event *ev)
{
	return ev->pcr == 0 && ev->type == EV_NO_ACTION && ev->data_len >= 16 &&
	       memcmp(ev->data, SPEC_ID_03, 16) == 0;
}

static void note_event(struct tcg_log *log, const struct tcg_event *ev)
{
	if (ev->type == EV_NO_ACTION) {
		if (ev->pcr == 0 && ev->data_len == 17 && memcmp(ev->data, STARTUP_LOCALITY, 16) == 0) {
			log->has_locality = true;
			log->startup_locality = ev->data[16];
		}
		return;
	}
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		if (ev->digests & (1u << b))
			log->extended[b] |= 1u << ev->pcr;
}

/*
 * Windows appends a trustpoint record (SIPA TrustpointAggregation: the
 * quote, the AIK id) to its logs as a legacy TCG_PCR_EVENT with PCRIndex
 * 0xFFFFFFFF and EV_NO_ACTION, even after crypto-agile records (seen in
 * option_rom_eventlog.bin). It is never extended.
 */
static bool windows_trustpoint_next(const struct cur *c)
{
	return c->n >= 8 && ld_u32le(c->p) == WINDOWS_TRUSTPOINT_PCR && ld_u32le(c->p + 4) == EV_NO_ACTION;
}

static int parse_records(struct cur *c, struct tcg_log *log, size_t *cap, struct attest_err *err)
{
	while (!cur_empty(c)) {
		struct tcg_event *ev;
		int rc = reserve_event(log, cap, err);

		if (rc != ATTEST_OK)
			return rc;
		ev = &log->events[log->n_events];
		rc = (log->crypto_agile && !windows_trustpoint_next(c))
			 ? parse_agile(c, log, log->n_events, ev, err)
			 : parse_legacy(c, log->n_events, ev, err);
		if (rc != ATTEST_OK)
			return rc;
		if (ev->pcr == WINDOWS_TRUSTPOINT_PCR && ev->type == EV_NO_ACTION) {
			ev->digests = 0; /* never extended */
			memset(ev->digest, 0, sizeof(ev->digest));
		} else if (ev->pcr >= TPM_PCR_COUNT) {
			attest_err_set(err, ATTEST_E_PARSE, "tcg.log.pcr",
				       "event #%u extends PCR %u; PCRs are 0-23", ev->seq, ev->pcr);
			attest_err_where(err, "event log+0x%zx", ev->offset);
			return ATTEST_E_PARSE;
		}
		note_event(log, ev);
		log->n_events++;
	}
	return ATTEST_OK;
}

int tcg_log_parse(const uint8_t *p, size_t n, struct tcg_log **out, struct attest_err *err)
{
	struct tcg_log *log;
	struct tcg_event hdr;
	struct cur c;
	size_t cap = 0;
	int rc;

	if (p == NULL || n == 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tcg.log.empty", "the event log is empty");
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tcg.log.nomem", "out of memory");
	cur_init(&c, p, n);
	/* The first record is always in the legacy layout (PFP §10.2.1). */
	if ((rc = parse_legacy(&c, 0, &hdr, err)) != ATTEST_OK)
		goto out;
	if (is_specid(&hdr)) {
		log->crypto_agile = true;
		if ((rc = parse_specid(log, &hdr, err)) != ATTEST_OK)
			goto out;
		hdr.digests = 0; /* its 20 zero bytes are no digest of any bank */
		hdr.digest[TPM_BANK_SHA1] = NULL;
	} else {
		log->banks = 1u << TPM_BANK_SHA1;
		/* A StartupLocality event is only defined after the Spec ID event
		 * (PFP §10.4.5.3): a log that starts with one lost its header. */
		if (hdr.type == EV_NO_ACTION && hdr.data_len >= 16 &&
		    memcmp(hdr.data, STARTUP_LOCALITY, 16) == 0) {
			rc = attest_err_set(
			    err, ATTEST_E_PARSE, "tcg.log.truncated",
			    "the log starts with a StartupLocality event: its Spec ID header is missing");
			attest_err_where(err, "event log record #0");
			goto out;
		}
		if (hdr.pcr >= TPM_PCR_COUNT) {
			rc = attest_err_set(err, ATTEST_E_PARSE, "tcg.log.pcr",
					    "event #0 extends PCR %u; PCRs are 0-23", hdr.pcr);
			goto out;
		}
		note_event(log, &hdr);
	}
	if ((rc = reserve_event(log, &cap, err)) != ATTEST_OK)
		goto out;
	log->events[log->n_events++] = hdr;
	if ((rc = parse_records(&c, log, &cap, err)) != ATTEST_OK)
		goto out;
	*out = log;
	log = NULL; /* transferred */
out:
	tcg_log_free(log);
	return rc;
}

/* ---- replay ----------------------------------------------------------- */

static void reset_values(const struct tcg_log *log, enum tpm_bank bank,
			 uint8_t out[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST])
{
	size_t len = tpm_bank_size(bank);

	/* PC Client PTP: PCR 17-22 reset to all ones (DRTM), the rest to zero. */
	for (int i = 0; i < TPM_PCR_COUNT; i++)
		memset(out[i], (i >= 17 && i <= 22) ? 0xff : 0x00, len);
	if (log->has_locality)
		out[0][len - 1] = log->startup_locality;
}

/*
 * Replay with an explicitly fetched digest (OpenSSL 3: no provider lookup
 * per extend) and the caller's context, reused for every extend.
 */
static int replay_md(const struct tcg_log *log, enum tpm_bank bank, const EVP_MD *alg, EVP_MD_CTX *md,
		     uint32_t pcrs, uint8_t out[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST], struct attest_err *err)
{
	size_t len = tpm_bank_size(bank);
	int rc = ATTEST_OK;

	if (!(log->banks & (1u << bank)))
		return attest_err_set(err, ATTEST_E_VERIFY, "tcg.replay.bank",
				      "the event log has no %s digests", tpm_bank_name(bank));
	reset_values(log, bank, out);
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];

		/* Only the PCRs asked for (a PCR no quote covers is compared with nothing). */
		if (ev->type == EV_NO_ACTION || !(ev->digests & (1u << bank)) || !(pcrs & (1u << ev->pcr)))
			continue;
		/* PCR_new = H(PCR_old || digest) (Part 1 §17.2, TPM2_PCR_Extend). */
		if (EVP_DigestInit_ex(md, alg, NULL) != 1 || EVP_DigestUpdate(md, out[ev->pcr], len) != 1 ||
		    EVP_DigestUpdate(md, ev->digest[bank], len) != 1 ||
		    EVP_DigestFinal_ex(md, out[ev->pcr], NULL) != 1) {
			rc = attest_err_set(err, ATTEST_E_INTERNAL, "tcg.replay.digest", "digest failed");
			break;
		}
	}
	return rc;
}

int tcg_log_replay(const struct tcg_log *log, enum tpm_bank bank,
		   uint8_t out[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST], struct attest_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc;

	if (md == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tcg.replay.nomem", "out of memory");
	rc = replay_md(log, bank, tpm_bank_md(bank), md, (1u << TPM_PCR_COUNT) - 1, out, err);
	EVP_MD_CTX_free(md);
	return rc;
}

/* ---- event data binding -------------------------------------------------- */

/* H(p) == the event's digest in bank; through ctx (reused) when given, else one-shot. */
static bool digest_is(const struct tcg_event *ev, enum tpm_bank bank, const EVP_MD *md, EVP_MD_CTX *ctx,
		      const uint8_t *p, size_t n)
{
	uint8_t h[TPM_PCR_MAX_DIGEST];
	unsigned int hlen = 0;
	bool ok = ctx != NULL ? EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
				    EVP_DigestFinal_ex(ctx, h, &hlen) == 1
			      : EVP_Digest(p, n, h, &hlen, md, NULL) == 1;

	return ok && hlen == tpm_bank_size(bank) && memcmp(h, ev->digest[bank], hlen) == 0;
}

/* VariableData of a UEFI_VARIABLE_DATA (UEFI spec; PFP §10.4.7). */
static bool uefi_variable_data(const uint8_t *p, size_t n, const uint8_t **vd, size_t *vlen)
{
	struct cur c;
	uint64_t name_len, data_len;

	cur_init(&c, p, n);
	if (cur_skip(&c, 16) || cur_u64le(&c, &name_len) || cur_u64le(&c, &data_len) ||
	    name_len > SIZE_MAX / 2 || cur_skip(&c, (size_t)name_len * 2) || data_len > cur_left(&c))
		return false;
	*vd = c.p;
	*vlen = (size_t)data_len;
	return true;
}

/*
 * The type's binding rule (PFP §10.4.1). *checked: a rule applied; *whole:
 * the event's data as a whole is what was hashed, so its content may be
 * read (an EV_EFI_VARIABLE_BOOT bound by its VariableData alone leaves its
 * GUID, lengths and name unbound: content readers must not take it).
 */
static bool binding_ok(const struct tcg_event *ev, enum tpm_bank bank, const EVP_MD *md, EVP_MD_CTX *ctx,
		       bool *checked, bool *whole)
{
	const uint8_t *vd;
	size_t vlen;

	*checked = *whole = false;
	if (!(ev->digests & (1u << bank)))
		return true;
	switch (ev->type) {
	case EV_SEPARATOR:
	case EV_ACTION:
	case EV_EVENT_TAG:
	case EV_S_CRTM_VERSION:
	case EV_COMPACT_HASH:
	case EV_OMIT_BOOT_DEVICE_EVENTS:
	case EV_EFI_ACTION:
	case EV_EFI_GPT_EVENT:
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
		*checked = true;
		return *whole = digest_is(ev, bank, md, ctx, ev->data, ev->data_len);
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
		/* OVMF/GCP hash VariableData only, others the whole struct (formats.md §7.5). */
		*checked = true;
		if ((*whole = digest_is(ev, bank, md, ctx, ev->data, ev->data_len)))
			return true;
		return uefi_variable_data(ev->data, ev->data_len, &vd, &vlen) &&
		       digest_is(ev, bank, md, ctx, vd, vlen);
	default:
		/* Digest of a PE image, a firmware volume, a table: replay alone speaks for it. */
		return true;
	}
}

bool tcg_event_binding_ok(const struct tcg_event *ev, enum tpm_bank bank, bool *checked)
{
	bool whole;

	return binding_ok(ev, bank, tpm_bank_md(bank), NULL, checked, &whole);
}

bool tcg_event_bound_content(const struct tcg_log *log, const struct tcg_event *ev, const uint8_t **p,
			     size_t *n)
{
	if (tcg_event_data_bound(log, ev)) {
		*p = ev->data;
		*n = ev->data_len;
		return true;
	}
	/* Verified under a VariableData-only binding (binding_ok): those bytes were measured. */
	if (ev->verified && (ev->type == EV_EFI_VARIABLE_BOOT || ev->type == EV_EFI_VARIABLE_BOOT2))
		return uefi_variable_data(ev->data, ev->data_len, p, n);
	return false;
}

bool tcg_event_data_bound(const struct tcg_log *log, const struct tcg_event *ev)
{
	enum tpm_bank b = (enum tpm_bank)ev->bound_bank;

	(void)log;
	if (!ev->verified || ev->bound)
		return ev->bound;
	/* A type without a binding rule: does its data hash to its digest anyway? */
	return digest_is(ev, b, tpm_bank_md(b), NULL, ev->data, ev->data_len);
}

/* ---- verification against the quote -------------------------------------- */

/* The event that best explains a mismatch on (bank, pcr): the first whose
 * data does not hash to its digest, else the first event on that PCR. */
static const struct tcg_event *explain_mismatch(const struct tcg_log *log, enum tpm_bank bank, unsigned pcr)
{
	const struct tcg_event *first = NULL;

	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		bool checked;

		if (ev->pcr != pcr || ev->type == EV_NO_ACTION || !(ev->digests & (1u << bank)))
			continue;
		if (first == NULL)
			first = ev;
		if (!tcg_event_binding_ok(ev, bank, &checked))
			return ev;
	}
	return first;
}

static int mismatch(const struct tcg_log *log, enum tpm_bank bank, unsigned pcr, struct attest_err *err)
{
	const struct tcg_event *ev = explain_mismatch(log, bank, pcr);
	const char *tn = ev ? tcg_event_type_name(ev->type) : NULL;

	attest_err_set(err, ATTEST_E_VERIFY, "tcg.replay.mismatch",
		       "%s PCR %u: the event log does not replay to the quoted value; first mismatching "
		       "event #%u (%s, 0x%08x)",
		       tpm_bank_name(bank), pcr, ev ? ev->seq : 0, tn ? tn : "unknown type",
		       ev ? ev->type : 0);
	if (ev)
		attest_err_where(err, "event log record #%u at byte %zu", ev->seq, ev->offset);
	return ATTEST_E_VERIFY;
}

static int check_bindings(struct tcg_log *log, uint32_t common, const EVP_MD *const mds[TPM_BANK_COUNT],
			  EVP_MD_CTX *ctx, struct attest_err *err)
{
	for (size_t i = 0; i < log->n_events; i++) {
		struct tcg_event *ev = &log->events[i];
		bool any = false;

		ev->verified = ev->bound = false;
		if (ev->type == EV_NO_ACTION)
			continue;
		for (int b = 0; b < TPM_BANK_COUNT; b++) {
			bool checked, whole;

			if (!(common & (1u << b)) || !(log->verified[b] & (1u << ev->pcr)) ||
			    !(ev->digests & (1u << b)))
				continue;
			if (!binding_ok(ev, (enum tpm_bank)b, mds[b], ctx, &checked, &whole)) {
				const char *tn = tcg_event_type_name(ev->type);

				attest_err_set(
				    err, ATTEST_E_VERIFY, "tcg.event.digest",
				    "event #%u (%s) on PCR %u: its data does not hash to its %s digest",
				    ev->seq, tn ? tn : "?", ev->pcr, tpm_bank_name(b));
				attest_err_where(err, "event log record #%u at byte %zu", ev->seq,
						 ev->offset);
				return ATTEST_E_VERIFY;
			}
			/* Other types: tcg_event_data_bound hashes the data when a claim reads it. */
			if (!any) {
				ev->bound = checked && whole;
				ev->bound_bank = (uint8_t)b;
			}
			any = true;
		}
		ev->verified = any;
	}
	return ATTEST_OK;
}

/*
 * Quoted PCRs the log never extends must still be at their reset value
 * (what the replay left them at): a log cut after a whole event, or with a
 * PCR's events removed, would otherwise verify by omission. PCR 0-7 are the
 * firmware's, always fully logged (PFP §3.3.4): such a PCR is refused,
 * tcg.replay.incomplete. PCR 8-23 may be extended outside this log (Linux
 * IMA uses PCR 10): they are only marked unlogged, and claims that read an
 * absence there are not made (tcg_log_pcr_complete).
 */
static int unlogged_pcrs(struct tcg_log *log, enum tpm_bank b, const struct tpm_pcr_values *quoted,
			 uint8_t values[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST], struct attest_err *err)
{
	uint32_t idle = quoted->present[b] & ~log->extended[b];

	log->unlogged[b] = 0;
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		if (!(idle & (1u << pcr)) ||
		    memcmp(values[pcr], quoted->v[b][pcr], tpm_bank_size(b)) == 0)
			continue;
		if (pcr <= 7)
			return attest_err_set(
			    err, ATTEST_E_VERIFY, "tcg.replay.incomplete",
			    "the quoted %s PCR %u is not at its reset value but the event log "
			    "extends nothing into it (a cut or incomplete log)",
			    tpm_bank_name(b), pcr);
		log->unlogged[b] |= 1u << pcr;
	}
	return ATTEST_OK;
}

bool tcg_log_pcr_complete(const struct tcg_log *log, unsigned pcr)
{
	for (int b = 0; b < TPM_BANK_COUNT && pcr < TPM_PCR_COUNT; b++)
		if ((log->quoted[b] & (1u << pcr)) && !(log->unlogged[b] & (1u << pcr)))
			return true;
	return false;
}

int tcg_log_verify(struct tcg_log *log, const struct tpm_pcr_values *quoted, struct attest_err *err)
{
	uint8_t values[TPM_PCR_COUNT][TPM_PCR_MAX_DIGEST];
	const EVP_MD *mds[TPM_BANK_COUNT] = {0}; /* fetched once per process (tpm_bank_md) */
	EVP_MD_CTX *ctx = NULL;			 /* one context for every extend and every binding hash */
	uint32_t common = 0;
	int rc = ATTEST_OK;

	for (int b = 0; b < TPM_BANK_COUNT; b++) {
		log->verified[b] = log->quoted[b] = log->unlogged[b] = 0;
		if ((log->banks & (1u << b)) && quoted->present[b])
			common |= 1u << b;
	}
	if (common == 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "tcg.replay.no_common_bank",
				      "the event log and the quoted PCRs share no hash bank");
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		if ((common & (1u << b)) && (mds[b] = tpm_bank_md((enum tpm_bank)b)) == NULL)
			rc =
			    attest_err_set(err, ATTEST_E_INTERNAL, "tcg.replay.digest", "digest unavailable");
	if (rc == ATTEST_OK && (ctx = EVP_MD_CTX_new()) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "tcg.replay.nomem", "out of memory");
	for (int b = 0; b < TPM_BANK_COUNT && rc == ATTEST_OK; b++) {
		uint32_t todo;

		if (!(common & (1u << b)))
			continue;
		rc = replay_md(log, (enum tpm_bank)b, mds[b], ctx, quoted->present[b], values, err);
		if (rc != ATTEST_OK)
			break;
		todo = log->extended[b] & quoted->present[b];
		log->quoted[b] = quoted->present[b];
		/* Replayed and quoted values are public: a plain compare (no secret to time). */
		for (unsigned pcr = 0; pcr < TPM_PCR_COUNT && rc == ATTEST_OK; pcr++) {
			if (!(todo & (1u << pcr)))
				continue;
			if (memcmp(values[pcr], quoted->v[b][pcr], tpm_bank_size(b)) != 0)
				rc = mismatch(log, (enum tpm_bank)b, pcr, err);
			else
				log->verified[b] |= 1u << pcr;
		}
		if (rc == ATTEST_OK)
			rc = unlogged_pcrs(log, (enum tpm_bank)b, quoted, values, err);
	}
	if (rc == ATTEST_OK)
		rc = check_bindings(log, common, mds, ctx, err);
	EVP_MD_CTX_free(ctx);
	return rc;
}
