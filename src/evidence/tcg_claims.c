/*
 * Claims from a verified TCG event log: the `events` and `pcrs` JSON texts
 * of MAA's TPM claim set (maa-interface.md §2.4) and the boot-state
 * booleans derived from UEFI variables and Windows SIPA records.
 */
#include "evidence/tcg_log.h"

#include "base/buf.h"
#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"

#include <stdlib.h>
#include <string.h>

/* Hex of event data beyond this many bytes is cut (DataLength says how long it was). */
#define TCG_JSON_MAX_DATA 512

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, as stored (mixed-endian). */
static const uint8_t EFI_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
						0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

/* EFI_IMAGE_SECURITY_DATABASE_GUID d719b2cb-3d3a-4596-a3bc-dad00e67656f (db, dbx; UEFI 2.10 §32.6.1). */
static const uint8_t EFI_IMAGE_SECURITY_DATABASE[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
							0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};

struct uefi_var {
	const uint8_t *guid;
	const uint8_t *name; /* UTF-16LE */
	size_t name_chars;
	const uint8_t *data;
	size_t data_len;
};

/* UEFI_VARIABLE_DATA (PFP §10.4.7); false when it does not fit exactly. */
static bool uefi_var_parse(const uint8_t *p, size_t n, struct uefi_var *v)
{
	struct cur c;
	uint64_t nl, dl;

	cur_init(&c, p, n);
	if (cur_take(&c, 16, &v->guid) || cur_u64le(&c, &nl) || cur_u64le(&c, &dl) || nl > 4096 ||
	    cur_take(&c, (size_t)nl * 2, &v->name) || dl > cur_left(&c) || cur_take(&c, (size_t)dl, &v->data))
		return false;
	v->name_chars = (size_t)nl;
	v->data_len = (size_t)dl;
	return true;
}

static bool uefi_name_is(const struct uefi_var *v, const char *ascii)
{
	size_t n = strlen(ascii);

	if (v->name_chars != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v->name[2 * i] != (uint8_t)ascii[i] || v->name[2 * i + 1] != 0)
			return false;
	return true;
}

/*
 * The `events` and `pcrs` claim texts are written directly into a capped
 * buffer: building them as jansson trees cost several times the log's own
 * replay (bench_tpm). Strings pass through jw_str, which escapes what JSON
 * requires (RFC 8259 §7); event data only ever reaches the text as hex,
 * integers or printable ASCII.
 */
#define TCG_JSON_MAX (16u * 1024 * 1024)

/* Bytes a JSON string cannot carry as they are (RFC 8259 §7). */
static bool jw_needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

/*
 * Writers append whole runs: per-byte appends (a bounds check and a call
 * each) cost more than the replay of the log they describe (bench_tpm).
 */
static void jw_str(struct buf *b, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	buf_append_u8(b, '"');
	while (*s) {
		size_t run = 0;

		while (s[run] && !jw_needs_escape((unsigned char)s[run]))
			run++;
		buf_append(b, s, run);
		s += run;
		if (*s == '"' || *s == '\\') {
			char esc[2] = {'\\', *s};

			buf_append(b, esc, 2);
			s++;
		} else if (*s) {
			char esc[6] = {'\\', 'u', '0', '0', digits[(unsigned char)*s >> 4],
				       digits[*s & 15]};

			buf_append(b, esc, sizeof(esc));
			s++;
		}
	}
	buf_append_u8(b, '"');
}

/* A decimal number (no printf: it dominated the events text). */
static void jw_uint(struct buf *b, uint64_t v)
{
	char t[20];
	size_t i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_append(b, t + i, sizeof(t) - i);
}

/* "key": (keys are this file's ASCII literals: nothing to escape) */
static void jw_key(struct buf *b, const char *key, bool *first)
{
	if (!*first)
		buf_append_u8(b, ',');
	*first = false;
	buf_append_u8(b, '"');
	buf_append_str(b, key);
	buf_append(b, "\":", 2);
}

/* Hex as a JSON string, staged 256 bytes at a time. */
static void jw_hex(struct buf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char chunk[2 * 256];

	buf_append_u8(b, '"');
	while (n > 0) {
		size_t k = n < 256 ? n : 256;

		for (size_t i = 0; i < k; i++) {
			chunk[2 * i] = digits[p[i] >> 4];
			chunk[2 * i + 1] = digits[p[i] & 15];
		}
		buf_append(b, chunk, 2 * k);
		p += k;
		n -= k;
	}
	buf_append_u8(b, '"');
}

/* Printable ASCII of a byte string (NULs and controls dropped). */
static void jw_ascii(struct buf *b, const uint8_t *p, size_t n)
{
	buf_append_u8(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f)
			continue;
		if (p[i] == '"' || p[i] == '\\')
			buf_append_u8(b, '\\');
		buf_append_u8(b, p[i]);
	}
	buf_append_u8(b, '"');
}

/* UTF-16LE text up to its NUL, non-ASCII shown as '?'. */
static void jw_utf16(struct buf *b, const uint8_t *p, size_t n)
{
	buf_append_u8(b, '"');
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

		if (ch == 0)
			break;
		if (ch == '"' || ch == '\\')
			buf_append_u8(b, '\\');
		buf_append_u8(b, (ch >= 0x20 && ch < 0x7f) ? (uint8_t)ch : '?');
	}
	buf_append_u8(b, '"');
}

/* 8-4-4-4-12 text of a GUID as stored (first three fields little-endian); no printf on this path. */
static void guid_str(const uint8_t g[16], char out[37])
{
	static const char digits[] = "0123456789abcdef";
	static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[g[order[i]] >> 4];
		out[o++] = digits[g[order[i]] & 15];
	}
	out[o] = '\0';
}

/* A u64 as a JSON number when a signed 64-bit reader can hold it, else as a hex string. */
static void jw_u64(struct buf *b, uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		jw_uint(b, v);
	else
		buf_printf(b, "\"0x%016llx\"", (unsigned long long)v);
}

static size_t capped(size_t n)
{
	return n > TCG_JSON_MAX_DATA ? TCG_JSON_MAX_DATA : n;
}

static void uefi_var_write(struct buf *b, const struct uefi_var *v)
{
	char g[37];
	bool first = true;

	guid_str(v->guid, g);
	buf_append_u8(b, '{');
	jw_key(b, "VariableName", &first);
	jw_str(b, g);
	jw_key(b, "UnicodeName", &first);
	jw_utf16(b, v->name, v->name_chars * 2);
	jw_key(b, "VariableDataLength", &first);
	jw_u64(b, v->data_len);
	jw_key(b, "VariableData", &first);
	if (v->data_len == 1)
		jw_uint(b, v->data[0]);
	else
		jw_hex(b, v->data, capped(v->data_len));
	buf_append_u8(b, '}');
}

static int sipa_write(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct buf *b = arg;

	if (b->len > 0 && b->p[b->len - 1] != '[')
		buf_append_u8(b, ',');
	/* A buffer at its cap fails the whole text later (tcg_events_json): nothing to do here. */
	(void)sipa_leaf_write(b, type, data, len);
	return ATTEST_OK;
}

/* UEFI_IMAGE_LOAD_EVENT (PFP §10.4.4). */
static bool image_load_write(struct buf *b, const uint8_t *p, size_t n)
{
	struct cur c;
	uint64_t loc, len, link, dpl;

	cur_init(&c, p, n);
	if (cur_u64le(&c, &loc) || cur_u64le(&c, &len) || cur_u64le(&c, &link) || cur_u64le(&c, &dpl))
		return false;
	buf_append_str(b, "{\"ImageLocationInMemory\":");
	jw_u64(b, loc);
	buf_append_str(b, ",\"ImageLengthInMemory\":");
	jw_u64(b, len);
	buf_append_str(b, ",\"ImageLinkTimeAddress\":");
	jw_u64(b, link);
	buf_append_str(b, ",\"LengthOfDevicePath\":");
	jw_u64(b, dpl);
	buf_append_u8(b, '}');
	return true;
}

static void processed_data_write(struct buf *b, const struct tcg_event *ev)
{
	struct uefi_var v;
	size_t mark = b->len;

	switch (ev->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		if (uefi_var_parse(ev->data, ev->data_len, &v)) {
			uefi_var_write(b, &v);
			return;
		}
		break;
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_IPL:
		buf_append_str(b, "{\"String\":");
		jw_ascii(b, ev->data, ev->data_len);
		buf_append_u8(b, '}');
		return;
	case EV_S_CRTM_VERSION:
		buf_append_str(b, "{\"Version\":");
		jw_utf16(b, ev->data, ev->data_len);
		buf_append_u8(b, '}');
		return;
	case EV_EVENT_TAG:
		buf_append_str(b, "{\"SipaEvents\":[");
		if (sipa_walk(ev->data, ev->data_len, sipa_write, b, NULL) == ATTEST_OK) {
			buf_append_str(b, "]}");
			return;
		}
		b->len = mark; /* not SIPA after all: fall back to the raw data */
		break;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (image_load_write(b, ev->data, ev->data_len))
			return;
		break;
	default:
		break;
	}
	buf_append_str(b, "{\"DataLength\":");
	jw_uint(b, ev->data_len);
	buf_append_str(b, ",\"Data\":");
	jw_hex(b, ev->data, capped(ev->data_len));
	buf_append_u8(b, '}');
}

static void event_write(struct buf *b, const struct tcg_event *ev)
{
	const char *tn = tcg_event_type_name(ev->type);
	bool first = true;

	buf_append_str(b, "{\"EventSeq\":");
	jw_uint(b, ev->seq);
	buf_append_str(b, ",\"PcrIndex\":");
	jw_uint(b, ev->pcr);
	buf_append_str(b, ",\"EventType\":");
	jw_uint(b, ev->type);
	buf_append_str(b, ",\"EventTypeString\":");
	if (tn)
		jw_str(b, tn);
	else
		buf_printf(b, "\"0x%08x\"", ev->type);
	buf_append_str(b, ",\"Digests\":{");
	for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
		if (!(ev->digests & (1u << bk)))
			continue;
		jw_key(b, tpm_bank_name(bk), &first);
		jw_hex(b, ev->digest[bk], tpm_bank_size(bk));
	}
	buf_append_str(b, "},\"ProcessedData\":");
	processed_data_write(b, ev);
	buf_append_u8(b, '}');
}

char *tcg_events_json(const struct tcg_log *log, bool only_verified)
{
	struct buf b;
	bool first = true;
	char *s;

	buf_init(&b, TCG_JSON_MAX);
	buf_append_str(&b, "{\"Events\":[");
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (only_verified && !ev->verified)
			continue;
		if (!first)
			buf_append_u8(&b, ',');
		first = false;
		event_write(&b, ev);
	}
	/* A buffer that hit its cap is refused as a whole rather than cut. */
	if (buf_append_str(&b, "]}") != 0) {
		buf_free(&b);
		return NULL;
	}
	s = (char *)buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

char *tcg_pcrs_json(const struct tpm_pcr_values *pcrs)
{
	struct buf b;
	bool first_pcr = true;
	char *s;

	buf_init(&b, TCG_JSON_MAX);
	buf_append_str(&b, "{\"PCRs\":[");
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		bool first = true, any = false;

		for (int bk = 0; bk < TPM_BANK_COUNT; bk++)
			any |= (pcrs->present[bk] & (1u << i)) != 0;
		if (!any)
			continue;
		if (!first_pcr)
			buf_append_u8(&b, ',');
		first_pcr = false;
		buf_append_str(&b, "{\"Index\":");
		jw_uint(&b, i);
		buf_append_str(&b, ",\"Digests\":{");
		for (int bk = 0; bk < TPM_BANK_COUNT; bk++) {
			if (!(pcrs->present[bk] & (1u << i)))
				continue;
			jw_key(&b, tpm_bank_name(bk), &first);
			jw_hex(&b, pcrs->v[bk][i], tpm_bank_size(bk));
		}
		buf_append_str(&b, "}}");
	}
	if (buf_append_str(&b, "]}") != 0) {
		buf_free(&b);
		return NULL;
	}
	s = (char *)buf_steal(&b, NULL);
	buf_free(&b);
	return s;
}

/* ---- boot state ---------------------------------------------------------- */

static uint64_t leaf_uint(const uint8_t *p, uint32_t n)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < n && i < 8; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/*
 * One SIPA leaf into the boot state. A Windows log holds ~800 leaves, most
 * of types read here for nothing: the value is decoded only for the types
 * that count (this callback was the largest non-cryptographic cost of a
 * WBCL's verification).
 */
static int sipa_state(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct tcg_boot_state *st = arg;

	st->sipa_records++;
	switch (type) {
	case 0x00040001u: /* BootDebugging */
		st->boot_debugging |= leaf_uint(data, len) != 0;
		break;
	case 0x00050001u: /* OsKernelDebug */
		st->kernel_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050002u: /* CodeIntegrity: every instance must be on */
		st->code_integrity = (st->code_integrity != 0 && leaf_uint(data, len) != 0) ? 1 : 0;
		break;
	case 0x00050003u: /* TestSigning */
		st->test_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x00050005u: /* SafeMode */
		st->safe_mode |= leaf_uint(data, len) != 0;
		break;
	case 0x00050006u: /* WinPE */
		st->winpe |= leaf_uint(data, len) != 0;
		break;
	case 0x00050012u: /* VSMLaunchType */
	case 0x000A0001u: /* VBS VSM required */
		st->vbs |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0003u: /* VBS IOMMU required */
		st->iommu |= leaf_uint(data, len) != 0;
		break;
	case 0x0005000Du: /* HypervisorDebug */
		st->hypervisor_debug |= leaf_uint(data, len) != 0;
		break;
	case 0x00050021u: /* FlightSigning */
		st->flight_signing |= leaf_uint(data, len) != 0;
		break;
	case 0x000A0007u: /* VbsHVCIPolicy: a bit counts only when every instance sets it */
		st->hvci_policy =
		    st->hvci_seen ? (st->hvci_policy & leaf_uint(data, len)) : leaf_uint(data, len);
		st->hvci_seen = true;
		break;
	default:
		/* ELAMKeyname, ELAMConfiguration, ELAMPolicy, ELAMMeasured (0x0009xxxx): the
		 * boot manager measures them for the ELAM driver it loads (WBCL). */
		if ((type & 0xFFFF0000u) == 0x00090000u)
			st->elam = true;
		break;
	}
	return ATTEST_OK;
}

/* ---- Secure Boot policy variables (PCR 7) ---------------------------------- */

#define EFI_SIGNATURE_LIST_HEADER 28 /* SignatureType, ListSize, HeaderSize, SignatureSize */
#define EFI_SIGNATURE_OWNER	  16 /* EFI_SIGNATURE_DATA.SignatureOwner */

/*
 * A variable's data as EFI_SIGNATURE_LISTs (UEFI 2.10 §32.4.1): each list's
 * sizes agree (SignatureListSize = header + SignatureHeaderSize + a whole
 * number of SignatureSize entries, each larger than its owner GUID), the
 * lists fill the data exactly, and there is at least one signature. When
 * want is given, *found says whether one entry (owner GUID and data) is
 * exactly want.
 */
static bool esl_sound(const uint8_t *p, size_t n, const uint8_t *want, size_t want_len, bool *found)
{
	struct cur c;
	size_t sigs = 0;

	cur_init(&c, p, n);
	while (!cur_empty(&c)) {
		const uint8_t *type;
		uint32_t list, hdr, size;
		struct cur body;

		if (cur_take(&c, 16, &type) || cur_u32le(&c, &list) || cur_u32le(&c, &hdr) ||
		    cur_u32le(&c, &size) || list < EFI_SIGNATURE_LIST_HEADER ||
		    cur_sub(&c, list - EFI_SIGNATURE_LIST_HEADER, &body) || cur_skip(&body, hdr) ||
		    size <= EFI_SIGNATURE_OWNER || cur_left(&body) % size != 0)
			return false;
		while (!cur_empty(&body)) {
			const uint8_t *e;

			if (cur_take(&body, size, &e))
				return false;
			if (want != NULL && want_len == size && memcmp(e, want, size) == 0)
				*found = true;
			sigs++;
		}
	}
	return sigs > 0;
}

static struct tcg_sb_var *sb_var_of(struct tcg_boot_state *st, const struct uefi_var *v)
{
	if (memcmp(v->guid, EFI_GLOBAL_VARIABLE, 16) == 0)
		return uefi_name_is(v, "PK") ? &st->sb_pk : uefi_name_is(v, "KEK") ? &st->sb_kek : NULL;
	if (memcmp(v->guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0)
		return uefi_name_is(v, "db") ? &st->sb_db : uefi_name_is(v, "dbx") ? &st->sb_dbx : NULL;
	return NULL;
}

/* One verified PCR 7 event: a Secure Boot policy variable, or an authority that must come from db. */
static void sb_event(struct tcg_boot_state *st, const struct tcg_event *ev, bool bound)
{
	struct uefi_var v;
	struct tcg_sb_var *sv;
	bool found = false;

	if (!uefi_var_parse(ev->data, ev->data_len, &v))
		return;
	if (ev->type == EV_EFI_VARIABLE_AUTHORITY) {
		/* PFP §3.3.4.8: the db entry that verified an image; it must be in the measured db. */
		if (memcmp(v.guid, EFI_IMAGE_SECURITY_DATABASE, 16) == 0 && uefi_name_is(&v, "db") &&
		    (!st->sb_db.measured ||
		     !esl_sound(st->sb_db.data, st->sb_db.len, v.data, v.data_len, &found) || !found))
			st->sb_db.sound = false;
		return;
	}
	if (ev->type != EV_EFI_VARIABLE_DRIVER_CONFIG || (sv = sb_var_of(st, &v)) == NULL)
		return;
	/* A variable measured twice is sound only when every instance is. */
	sv->sound = (!sv->measured || sv->sound) && bound && esl_sound(v.data, v.data_len, NULL, 0, &found);
	sv->measured = true;
	sv->data = v.data;
	sv->len = v.data_len;
}

int tcg_boot_state(const struct tcg_log *log, struct tcg_boot_state *st, struct attest_err *err)
{
	memset(st, 0, sizeof(*st));
	st->secure_boot = -1;
	st->code_integrity = -1;
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		st->pcr7_verified |= (log->verified[b] & (1u << 7)) != 0;
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		struct uefi_var v;
		int rc;

		if (!ev->verified || ev->type == EV_NO_ACTION)
			continue;
		/*
		 * The event type is not covered by any digest (only the digest is
		 * extended), so an altered type must not hide an event: data that
		 * hashes to its digest is read by content and PCR, whatever the type.
		 * tcg_event_data_bound hashes it last, only where that is asked.
		 */
		/* SecureBoot is measured into PCR 7 as EV_EFI_VARIABLE_DRIVER_CONFIG (PFP §3.3.4.8). */
		if (ev->pcr == 7 && uefi_var_parse(ev->data, ev->data_len, &v) &&
		    memcmp(v.guid, EFI_GLOBAL_VARIABLE, 16) == 0 && uefi_name_is(&v, "SecureBoot") &&
		    (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || tcg_event_data_bound(log, ev)))
			st->secure_boot = (v.data_len == 1 && v.data[0] == 1) ? 1 : 0;
		if (ev->pcr == 7) /* sb_event reads the binding of policy variables only (a binding rule type) */
			sb_event(st, ev, ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG && tcg_event_data_bound(log, ev));
		if (ev->type == EV_EVENT_TAG) {
			st->windows = true;
			if ((rc = sipa_walk(ev->data, ev->data_len, sipa_state, st, err)) != ATTEST_OK) {
				attest_err_where(err, "event log record #%u", ev->seq);
				return rc;
			}
		} else if (ev->pcr >= 12 && ev->pcr <= 14 && ev->type != EV_SEPARATOR &&
			   tcg_event_data_bound(log, ev)) {
			/* Windows boot configuration PCRs: SIPA content under another type */
			struct tcg_boot_state probe = *st;

			if (sipa_walk(ev->data, ev->data_len, sipa_state, &probe, NULL) == ATTEST_OK) {
				*st = probe;
				st->windows = true;
			}
		}
	}
	/*
	 * The Windows claims read absences ("no BootDebugging record is on"):
	 * they hold only when the boot configuration PCRs (12: boot manager
	 * settings, 13: OS loader settings; WBCL) are quoted and the log
	 * accounts for all of them. A log with their events removed says nothing.
	 */
	if (st->windows && !(tcg_log_pcr_complete(log, 12) && tcg_log_pcr_complete(log, 13)))
		st->windows = false;
	return ATTEST_OK;
}

int tcg_boot_state_claims(const struct tcg_boot_state *st, struct claim_set *out)
{
	int rc = ATTEST_OK;

	if (st->secure_boot >= 0)
		rc |= claim_set_add_bool(out, "secureBootEnabled", st->secure_boot == 1);
	if (!st->windows)
		return rc;
	rc |= claim_set_add_bool(out, "bootDebuggingDisabled", !st->boot_debugging);
	rc |= claim_set_add_bool(out, "osKernelDebuggingDisabled", !st->kernel_debug);
	rc |= claim_set_add_bool(out, "notSafeMode", !st->safe_mode);
	rc |= claim_set_add_bool(out, "notWinPE", !st->winpe);
	rc |= claim_set_add_bool(out, "testSigningDisabled", !st->test_signing);
	if (st->code_integrity >= 0)
		rc |= claim_set_add_bool(out, "codeIntegrityEnabled", st->code_integrity == 1);
	rc |= claim_set_add_bool(out, "vbsEnabled", st->vbs);
	rc |= claim_set_add_bool(out, "iommuEnabled", st->iommu);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}
