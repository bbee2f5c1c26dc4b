/*
 * Open Enclave envelopes (formats.md §4): the legacy OE report
 * (oe_report_header_t + SGX quote) that MAA's /attest/OpenEnclave takes,
 * OE evidence (oe_attestation_header_t with a format UUID, then the quote
 * and a custom-claims buffer whose SHA-256 is REPORTDATA[0:32]), and a bare
 * quote. The quote itself goes through the SGX verification.
 */
#include "evidence/sgx.h"
#include "evidence/sgx_internal.h"

#include "base/codec.h"
#include "base/cur.h"
#include "crypto/crypto.h"
#include "evidence/quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UUIDs as stored (formats.md §4.2). */
const uint8_t OE_FORMAT_UUID_SGX_ECDSA[16] = {0xa3, 0xa2, 0x1e, 0x87, 0x1b, 0x4d, 0x40, 0x14,
					      0xb7, 0x0a, 0xa1, 0x25, 0xd2, 0xfb, 0xcd, 0x8c};
const uint8_t OE_FORMAT_UUID_LEGACY_REPORT_REMOTE[16] = {0xc8, 0x30, 0x34, 0x54, 0xd9, 0x23, 0x4c, 0x2c,
							 0xa6, 0x91, 0xdf, 0x7d, 0xef, 0x46, 0x0a, 0x76};
const uint8_t OE_FORMAT_UUID_RAW_SGX_QUOTE_ECDSA[16] = {0x19, 0x23, 0xd9, 0x1e, 0x12, 0xd2, 0x4c, 0x72,
							0xb2, 0x20, 0x25, 0xcd, 0x8d, 0xac, 0xe8, 0x71};

/* Custom claims buffers larger than this are refused (OE caps far lower in practice). */
#define OE_CUSTOM_CLAIMS_MAX_COUNT 256

enum oe_kind { OE_BARE_QUOTE, OE_LEGACY_REPORT, OE_EVIDENCE_ECDSA };

struct oe_parsed {
	enum oe_kind kind;
	const uint8_t *quote;
	size_t quote_len;
	const uint8_t *claims; /* OE_EVIDENCE_ECDSA: the custom claims buffer (may be empty) */
	size_t claims_len;
};

/* §4.1: u32 version 1, u32 type, u64 size == bytes that follow. */
static int parse_legacy_report(const uint8_t *p, size_t n, struct oe_parsed *o, struct attest_err *err)
{
	struct cur c;
	uint32_t version, type;
	uint64_t size;

	cur_init(&c, p, n);
	if (cur_u32le(&c, &version) != 0 || cur_u32le(&c, &type) != 0 || cur_u64le(&c, &size) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "oe.report.truncated",
				      "OE report shorter than its 16-byte header");
	if (version != OE_REPORT_HEADER_VERSION)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "oe.report.version",
				      "OE report header version %u is not 1", version);
	if (type != OE_REPORT_TYPE_SGX_REMOTE)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "oe.report.type",
				      "OE report type %u is not an SGX remote report (2)", type);
	if (size != cur_left(&c))
		return attest_err_set(err, ATTEST_E_PARSE, "oe.report.size",
				      "OE report header declares %llu bytes of report but %zu follow",
				      (unsigned long long)size, cur_left(&c));
	o->kind = OE_LEGACY_REPORT;
	o->quote = c.p;
	o->quote_len = c.n;
	return ATTEST_OK;
}

/* §4.2: SGX_ECDSA evidence data = quote ‖ custom claims; the quote's own length splits them. */
static int split_ecdsa_evidence(const uint8_t *p, size_t n, struct oe_parsed *o, struct attest_err *err)
{
	struct quote q;
	int rc;

	if ((rc = quote_parse(p, n, QUOTE_TEE_SGX, &q, "sgx", err)) != ATTEST_OK)
		return rc;
	o->kind = OE_EVIDENCE_ECDSA;
	o->quote = p;
	o->quote_len = q.len;
	o->claims = p + q.len;
	o->claims_len = n - q.len;
	return ATTEST_OK;
}

/* §4.2: u32 version 3, 16-byte UUID, 4 bytes padding, u64 data_size, data. */
static int parse_attestation_header(const uint8_t *p, size_t n, struct oe_parsed *o, struct attest_err *err)
{
	struct cur c;
	uint32_t version;
	const uint8_t *uuid;
	uint64_t size;

	cur_init(&c, p, n);
	if (cur_u32le(&c, &version) != 0 || cur_take(&c, 16, &uuid) != 0 || cur_skip(&c, 4) != 0 ||
	    cur_u64le(&c, &size) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "oe.evidence.truncated",
				      "OE evidence shorter than its 32-byte attestation header");
	if (size != cur_left(&c))
		return attest_err_set(err, ATTEST_E_PARSE, "oe.evidence.size",
				      "OE attestation header declares %llu bytes but %zu follow",
				      (unsigned long long)size, cur_left(&c));
	if (memcmp(uuid, OE_FORMAT_UUID_SGX_ECDSA, 16) == 0)
		return split_ecdsa_evidence(c.p, c.n, o, err);
	if (memcmp(uuid, OE_FORMAT_UUID_LEGACY_REPORT_REMOTE, 16) == 0)
		return parse_legacy_report(c.p, c.n, o, err);
	if (memcmp(uuid, OE_FORMAT_UUID_RAW_SGX_QUOTE_ECDSA, 16) == 0) {
		o->kind = OE_BARE_QUOTE;
		o->quote = c.p;
		o->quote_len = c.n;
		return ATTEST_OK;
	}
	{
		char hex[33];

		hex_encode_to(uuid, 16, hex);
		return attest_err_set(
		    err, ATTEST_E_UNSUPPORTED, "oe.evidence.format",
		    "OE evidence format %s is not supported (SGX ECDSA, legacy remote report, raw quote)",
		    hex);
	}
}

static int oe_parse(const uint8_t *p, size_t n, struct oe_parsed *o, struct attest_err *err)
{
	uint32_t first;

	memset(o, 0, sizeof(*o));
	if (n < 8)
		return attest_err_set(err, ATTEST_E_PARSE, "oe.report.truncated",
				      "OE evidence of %zu bytes is too short", n);
	first = ld_u32le(p);
	/* A quote starts with u16 version 3..5 then u16 key type 2: as a u32, 0x0002000v. */
	if (first == OE_REPORT_HEADER_VERSION)
		return parse_legacy_report(p, n, o, err);
	if (first == OE_ATTESTATION_HEADER_VERSION)
		return parse_attestation_header(p, n, o, err);
	o->kind = OE_BARE_QUOTE;
	o->quote = p;
	o->quote_len = n;
	return ATTEST_OK;
}

/* §4.3: u64 version 1, u64 count, then (u64 name_size, u64 value_size, name NUL-terminated, value). */
static int custom_claims_parse(const uint8_t *p, size_t n, json_t **out, struct attest_err *err)
{
	struct cur c;
	uint64_t version, count, i;
	json_t *o;

	*out = NULL;
	if (n == 0)
		return ATTEST_OK;
	cur_init(&c, p, n);
	if (cur_u64le(&c, &version) != 0 || cur_u64le(&c, &count) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.truncated",
				      "custom claims header truncated");
	if (version != OE_CUSTOM_CLAIMS_VERSION)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "oe.custom_claims.version",
				      "custom claims version %llu is not 1", (unsigned long long)version);
	if (count > OE_CUSTOM_CLAIMS_MAX_COUNT)
		return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.count",
				      "%llu custom claims is over the limit", (unsigned long long)count);
	if ((o = json_object()) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "oe.custom_claims", "out of memory");
	for (i = 0; i < count; i++) {
		uint64_t nlen, vlen;
		const uint8_t *name, *value;
		char *b64;

		if (cur_u64le(&c, &nlen) != 0 || cur_u64le(&c, &vlen) != 0 || nlen > cur_left(&c) ||
		    cur_take(&c, (size_t)nlen, &name) != 0 || vlen > cur_left(&c) ||
		    cur_take(&c, (size_t)vlen, &value) != 0) {
			json_decref(o);
			return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.truncated",
					      "custom claim %llu runs past the buffer",
					      (unsigned long long)i);
		}
		if (nlen == 0 || name[nlen - 1] != '\0' || memchr(name, 0, (size_t)nlen - 1) != NULL) {
			json_decref(o);
			return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.name",
					      "custom claim %llu name is not one NUL-terminated string",
					      (unsigned long long)i);
		}
		b64 = b64url_encode(value, (size_t)vlen);
		if (b64 == NULL || json_object_set_new(o, (const char *)name, json_string(b64)) != 0) {
			free(b64);
			json_decref(o);
			return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.name",
					      "custom claim %llu name is not valid UTF-8",
					      (unsigned long long)i);
		}
		free(b64);
	}
	if (!cur_empty(&c)) {
		json_decref(o);
		return attest_err_set(err, ATTEST_E_PARSE, "oe.custom_claims.trailing",
				      "%zu bytes after the last custom claim", cur_left(&c));
	}
	*out = o;
	return ATTEST_OK;
}

int oe_verify(const struct evidence_ctx *ctx, const struct evidence_input *in, struct claim_set *out,
	      struct attest_err *err)
{
	struct oe_parsed o;
	json_t *claims = NULL;
	int rc;

	if (in == NULL || in->evidence == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "oe.invalid", "no OE report given");
	if ((rc = oe_parse(in->evidence, in->evidence_len, &o, err)) != ATTEST_OK)
		return rc;
	if (o.kind == OE_EVIDENCE_ECDSA) {
		struct quote q;
		uint8_t md[32];

		/* Structure first: the claims buffer and the quote, then the binding (after the signatures).
		 */
		if ((rc = custom_claims_parse(o.claims, o.claims_len, &claims, err)) != ATTEST_OK)
			return rc;
		if ((rc = quote_parse(o.quote, o.quote_len, QUOTE_TEE_SGX, &q, "sgx", err)) != ATTEST_OK)
			goto out;
		/* An absent or empty buffer hashes as SHA-256("") (formats.md §4.2). */
		sha256(o.claims_len ? o.claims : (const uint8_t *)"", o.claims_len, md);
		if (!crypto_memeq(md, q.sgx.reportdata, 32)) {
			rc = attest_err_set(
			    err, ATTEST_E_VERIFY, "oe.custom_claims.mismatch",
			    "SHA-256 of the custom claims buffer (%zu bytes) is not REPORTDATA[0:32]",
			    o.claims_len);
			goto out;
		}
	}
	rc = sgx_verify_quote(ctx, o.quote, o.quote_len, in, in->evidence, in->evidence_len, out, err);
	if (rc == ATTEST_OK && claims != NULL) {
		rc = claim_set_add(out, "x-ms-oe-custom-claims", claims);
		claims = NULL; /* transferred */
	}
out:
	json_decref(claims);
	return rc;
}
