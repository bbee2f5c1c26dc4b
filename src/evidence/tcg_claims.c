/*
 * Claims from a verified TCG event log: the `events` and `pcrs` JSON texts
 * of MAA's TPM claim set (maa-interface.md §2.4) and the boot-state
 * booleans derived from UEFI variables and Windows SIPA records.
 */
#include "evidence/tcg_log.h"

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

static void guid_str(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", ld_u32le(g),
		 ld_u16le(g + 4), ld_u16le(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = hex_encode(p, n);
	json_t *v = h ? json_string(h) : json_null();

	free(h);
	return v;
}

/* ASCII-ish text of an action string (NULs and controls dropped). */
static json_t *ascii_json(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	size_t o = 0;
	json_t *v;

	if (s == NULL)
		return json_null();
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f)
			s[o++] = (char)p[i];
	s[o] = '\0';
	v = json_string(s);
	free(s);
	return v ? v : json_null();
}

static json_t *utf16_json(const uint8_t *p, size_t n)
{
	char *s = malloc(n / 2 + 1);
	size_t o = 0;
	json_t *v;

	if (s == NULL)
		return json_null();
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

		if (ch == 0)
			break;
		s[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	s[o] = '\0';
	v = json_string(s);
	free(s);
	return v ? v : json_null();
}

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
	    cur_take(&c, (size_t)nl * 2, &v->name) || dl > cur_left(&c) ||
	    cur_take(&c, (size_t)dl, &v->data))
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

static json_t *uefi_var_json(const struct uefi_var *v)
{
	char g[37];
	json_t *o = json_object();

	guid_str(v->guid, g);
	json_object_set_new(o, "VariableName", json_string(g));
	json_object_set_new(o, "UnicodeName", utf16_json(v->name, v->name_chars * 2));
	json_object_set_new(o, "VariableDataLength", json_integer((json_int_t)v->data_len));
	if (v->data_len == 1)
		json_object_set_new(o, "VariableData", json_integer(v->data[0]));
	else
		json_object_set_new(o, "VariableData",
				    hex_json(v->data, v->data_len > TCG_JSON_MAX_DATA ? TCG_JSON_MAX_DATA
										  : v->data_len));
	return o;
}

static int sipa_collect(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	json_array_append_new((json_t *)arg, sipa_leaf_json(type, data, len));
	return ATTEST_OK;
}

/* UEFI_IMAGE_LOAD_EVENT (PFP §10.4.4). */
static json_t *image_load_json(const uint8_t *p, size_t n)
{
	struct cur c;
	uint64_t loc, len, link, dpl;
	json_t *o;

	cur_init(&c, p, n);
	if (cur_u64le(&c, &loc) || cur_u64le(&c, &len) || cur_u64le(&c, &link) || cur_u64le(&c, &dpl))
		return NULL;
	o = json_object();
	json_object_set_new(o, "ImageLocationInMemory", json_integer((json_int_t)loc));
	json_object_set_new(o, "ImageLengthInMemory", json_integer((json_int_t)len));
	json_object_set_new(o, "ImageLinkTimeAddress", json_integer((json_int_t)link));
	json_object_set_new(o, "LengthOfDevicePath", json_integer((json_int_t)dpl));
	return o;
}

static json_t *processed_data(const struct tcg_event *ev)
{
	struct uefi_var v;
	json_t *o = NULL;

	switch (ev->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		if (uefi_var_parse(ev->data, ev->data_len, &v))
			o = uefi_var_json(&v);
		break;
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_IPL:
		o = json_object();
		json_object_set_new(o, "String", ascii_json(ev->data, ev->data_len));
		break;
	case EV_S_CRTM_VERSION:
		o = json_object();
		json_object_set_new(o, "Version", utf16_json(ev->data, ev->data_len));
		break;
	case EV_EVENT_TAG: {
		json_t *arr = json_array();

		if (sipa_walk(ev->data, ev->data_len, sipa_collect, arr, NULL) == ATTEST_OK) {
			o = json_object();
			json_object_set_new(o, "SipaEvents", arr);
		} else {
			json_decref(arr);
		}
		break;
	}
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		o = image_load_json(ev->data, ev->data_len);
		break;
	default:
		break;
	}
	if (o == NULL) {
		o = json_object();
		json_object_set_new(o, "DataLength", json_integer(ev->data_len));
		json_object_set_new(o, "Data", hex_json(ev->data, ev->data_len > TCG_JSON_MAX_DATA
									  ? TCG_JSON_MAX_DATA
									  : ev->data_len));
	}
	return o;
}

static json_t *event_json(const struct tcg_event *ev)
{
	const char *tn = tcg_event_type_name(ev->type);
	json_t *o = json_object(), *d = json_object();
	char unknown[24];

	snprintf(unknown, sizeof(unknown), "0x%08x", ev->type);
	json_object_set_new(o, "EventSeq", json_integer(ev->seq));
	json_object_set_new(o, "PcrIndex", json_integer(ev->pcr));
	json_object_set_new(o, "EventType", json_integer(ev->type));
	json_object_set_new(o, "EventTypeString", json_string(tn ? tn : unknown));
	for (int b = 0; b < TPM_BANK_COUNT; b++)
		if (ev->digests & (1u << b))
			json_object_set_new(d, tpm_bank_name(b), hex_json(ev->digest[b], tpm_bank_size(b)));
	json_object_set_new(o, "Digests", d);
	json_object_set_new(o, "ProcessedData", processed_data(ev));
	return o;
}

char *tcg_events_json(const struct tcg_log *log, bool only_verified)
{
	json_t *root = json_object(), *arr = json_array();
	char *s;

	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];

		if (only_verified && !ev->verified)
			continue;
		json_array_append_new(arr, event_json(ev));
	}
	json_object_set_new(root, "Events", arr);
	s = jsonx_dump(root);
	json_decref(root);
	return s;
}

char *tcg_pcrs_json(const struct tpm_pcr_values *pcrs)
{
	json_t *root = json_object(), *arr = json_array();
	char *s;

	for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
		json_t *o, *d = NULL;

		for (int b = 0; b < TPM_BANK_COUNT; b++) {
			if (!(pcrs->present[b] & (1u << i)))
				continue;
			if (d == NULL)
				d = json_object();
			json_object_set_new(d, tpm_bank_name(b), hex_json(pcrs->v[b][i], tpm_bank_size(b)));
		}
		if (d == NULL)
			continue;
		o = json_object();
		json_object_set_new(o, "Index", json_integer(i));
		json_object_set_new(o, "Digests", d);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "PCRs", arr);
	s = jsonx_dump(root);
	json_decref(root);
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

static int sipa_state(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct tcg_boot_state *st = arg;
	bool on = leaf_uint(data, len) != 0;

	st->sipa_records++;
	switch (type) {
	case 0x00040001u: /* BootDebugging */
		st->boot_debugging |= on;
		break;
	case 0x00050001u: /* OsKernelDebug */
		st->kernel_debug |= on;
		break;
	case 0x00050002u: /* CodeIntegrity: every instance must be on */
		st->code_integrity = (st->code_integrity != 0 && on) ? 1 : 0;
		break;
	case 0x00050003u: /* TestSigning */
		st->test_signing |= on;
		break;
	case 0x00050005u: /* SafeMode */
		st->safe_mode |= on;
		break;
	case 0x00050006u: /* WinPE */
		st->winpe |= on;
		break;
	case 0x00050012u: /* VSMLaunchType */
	case 0x000A0001u: /* VBS VSM required */
		st->vbs |= on;
		break;
	case 0x000A0003u: /* VBS IOMMU required */
		st->iommu |= on;
		break;
	default:
		break;
	}
	return ATTEST_OK;
}

int tcg_boot_state(const struct tcg_log *log, struct tcg_boot_state *st, struct attest_err *err)
{
	memset(st, 0, sizeof(*st));
	st->secure_boot = -1;
	st->code_integrity = -1;
	for (size_t i = 0; i < log->n_events; i++) {
		const struct tcg_event *ev = &log->events[i];
		struct uefi_var v;
		int rc;

		bool bound;

		if (!ev->verified || ev->type == EV_NO_ACTION)
			continue;
		/*
		 * The event type is not covered by any digest (only the digest is
		 * extended), so an altered type must not hide an event: data that
		 * hashes to its digest is read by content and PCR, whatever the type.
		 */
		bound = tcg_event_data_bound(log, ev);
		/* SecureBoot is measured into PCR 7 as EV_EFI_VARIABLE_DRIVER_CONFIG (PFP §3.3.4.8). */
		if (ev->pcr == 7 && (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || bound) &&
		    uefi_var_parse(ev->data, ev->data_len, &v) &&
		    memcmp(v.guid, EFI_GLOBAL_VARIABLE, 16) == 0 && uefi_name_is(&v, "SecureBoot"))
			st->secure_boot = (v.data_len == 1 && v.data[0] == 1) ? 1 : 0;
		if (ev->type == EV_EVENT_TAG) {
			st->windows = true;
			if ((rc = sipa_walk(ev->data, ev->data_len, sipa_state, st, err)) != ATTEST_OK) {
				attest_err_where(err, "event log record #%u", ev->seq);
				return rc;
			}
		} else if (ev->pcr >= 12 && ev->pcr <= 14 && ev->type != EV_SEPARATOR && bound) {
			/* Windows boot configuration PCRs: SIPA content under another type */
			struct tcg_boot_state probe = *st;

			if (sipa_walk(ev->data, ev->data_len, sipa_state, &probe, NULL) == ATTEST_OK) {
				*st = probe;
				st->windows = true;
			}
		}
	}
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
