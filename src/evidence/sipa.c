/*
 * Windows System Integrity Platform Attestation (SIPA) records inside
 * EV_EVENT_TAG events of the Windows boot configuration log (formats.md
 * §7.7; ids as published in Microsoft's WBCL documentation and mirrored by
 * go-attestation's win_events.go).
 */
#include "evidence/tcg_log.h"

#include "base/codec.h"
#include "base/cur.h"

#include <stdlib.h>
#include <string.h>

/* A container's type has 0x00010000 in the category nibble. */
#define SIPA_CONTAINER_MASK 0x000F0000u
#define SIPA_CONTAINER 0x00010000u
#define SIPA_MAX_DEPTH 8

static const struct {
	uint32_t type;
	const char *name;
} SIPA_NAMES[] = {
	{0x40010001u, "TrustBoundary"},
	{0x40010002u, "ElamAggregation"},
	{0x40010003u, "LoadedModuleAggregation"},
	{0xC0010004u, "TrustpointAggregation"},
	{0x40010005u, "KsrAggregation"},
	{0x40010006u, "KsrSignedMeasurementAggregation"},
	{0x00020001u, "Information"},
	{0x00020002u, "BootCounter"},
	{0x00020003u, "TransferControl"},
	{0x00020004u, "ApplicationReturn"},
	{0x00020005u, "BitlockerUnlock"},
	{0x00020006u, "EventCounter"},
	{0x00020007u, "CounterId"},
	{0x00020008u, "MorBitNotCancelable"},
	{0x00020009u, "ApplicationSVN"},
	{0x0002000Au, "SVNChainStatus"},
	{0x0002000Bu, "MorBitAPIStatus"},
	{0x00040001u, "BootDebugging"},
	{0x00040002u, "BootRevocationList"},
	{0x00050001u, "OsKernelDebug"},
	{0x00050002u, "CodeIntegrity"},
	{0x00050003u, "TestSigning"},
	{0x00050004u, "DataExecutionPrevention"},
	{0x00050005u, "SafeMode"},
	{0x00050006u, "WinPE"},
	{0x00050007u, "PhysicalAddressExtension"},
	{0x00050008u, "OSDevice"},
	{0x00050009u, "SystemRoot"},
	{0x0005000Au, "HypervisorLaunchType"},
	{0x0005000Bu, "HypervisorPath"},
	{0x0005000Cu, "HypervisorIOMMUPolicy"},
	{0x0005000Du, "HypervisorDebug"},
	{0x0005000Eu, "DriverLoadPolicy"},
	{0x0005000Fu, "SIPolicy"},
	{0x00050010u, "HypervisorMMIONXPolicy"},
	{0x00050011u, "HypervisorMSRFilterPolicy"},
	{0x00050012u, "VSMLaunchType"},
	{0x00050013u, "OSRevocationList"},
	{0x00050021u, "FlightSigning"},
	{0x00050022u, "PagefileEncryptionEnabled"},
	{0x00050024u, "HibernationDisabled"},
	{0x00050025u, "DumpsDisabled"},
	{0x00050026u, "DumpEncryption"},
	{0x00060001u, "NoAuthority"},
	{0x00060002u, "AuthorityPubKey"},
	{0x00070001u, "FilePath"},
	{0x00070002u, "ImageSize"},
	{0x00070003u, "HashAlgorithmID"},
	{0x00070004u, "AuthenticodeHash"},
	{0x00070005u, "AuthorityIssuer"},
	{0x00070006u, "AuthoritySerial"},
	{0x00070007u, "ImageBase"},
	{0x00070008u, "AuthorityPublisher"},
	{0x00070009u, "AuthoritySHA1Thumbprint"},
	{0x0007000Au, "ImageValidated"},
	{0x0007000Bu, "ModuleSVN"},
	{0x00090001u, "ELAMKeyname"},
	{0x00090002u, "ELAMConfiguration"},
	{0x00090003u, "ELAMPolicy"},
	{0x00090004u, "ELAMMeasured"},
	{0x000A0001u, "VbsVSMRequired"},
	{0x000A0002u, "VbsSecurebootRequired"},
	{0x000A0003u, "VbsIOMMURequired"},
	{0x000A0004u, "VbsNXRequired"},
	{0x000A0005u, "VbsMSRFilteringRequired"},
	{0x000A0006u, "VbsMandatoryEnforcement"},
	{0x000A0007u, "VbsHVCIPolicy"},
	{0x000A0008u, "VbsMicrosoftBootChainRequired"},
	{0x000B0001u, "KsrSignature"},
};

const char *sipa_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(SIPA_NAMES) / sizeof(SIPA_NAMES[0]); i++)
		if (SIPA_NAMES[i].type == type)
			return SIPA_NAMES[i].name;
	return NULL;
}

static int sipa_truncated(struct attest_err *err, size_t off)
{
	attest_err_set(err, ATTEST_E_PARSE, "tcg.sipa.truncated",
		       "a SIPA record at byte %zu of the tagged event exceeds its container", off);
	return ATTEST_E_PARSE;
}

/*
 * Each record is taken whole, header and body, in one cursor take: the
 * header is read first where the cursor has at least its 8 bytes left, and
 * the take then checks that the body fits. A WBCL holds about a thousand
 * records, and this walk was the largest cost of its verification after
 * the cryptography. A container's body becomes a cursor of its own that
 * keeps counting offsets from the tagged event's start.
 */
static int walk(struct cur *c, int depth, sipa_leaf_fn fn, void *arg, struct attest_err *err)
{
	while (!cur_empty(c)) {
		size_t off = c->off;
		const uint8_t *rec;
		uint32_t type, size;
		struct cur sub;
		int rc;

		if (cur_left(c) < 8)
			return sipa_truncated(err, off);
		type = ld_u32le(c->p); /* within the 8 bytes just checked */
		size = ld_u32le(c->p + 4);
		if (cur_take(c, 8 + (size_t)size, &rec))
			return sipa_truncated(err, off);
		if ((type & SIPA_CONTAINER_MASK) != SIPA_CONTAINER) {
			rc = fn(arg, type, rec + 8, size);
		} else if (depth >= SIPA_MAX_DEPTH) {
			return attest_err_set(err, ATTEST_E_PARSE, "tcg.sipa.depth",
					      "SIPA containers nest deeper than %d", SIPA_MAX_DEPTH);
		} else {
			cur_init(&sub, rec + 8, size);
			sub.off = off + 8;
			rc = walk(&sub, depth + 1, fn, arg, err);
		}
		if (rc != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

int sipa_walk(const uint8_t *p, size_t n, sipa_leaf_fn fn, void *arg, struct attest_err *err)
{
	struct cur c;

	cur_init(&c, p, n);
	return walk(&c, 0, fn, arg, err);
}

size_t sipa_utf8_of_unit(unsigned ch, char out[3])
{
	if (ch >= 0xD800 && ch <= 0xDFFF)
		ch = '?'; /* surrogates: not needed for claims */
	if (ch < 0x80) {
		out[0] = (char)ch;
		return 1;
	}
	if (ch < 0x800) {
		out[0] = (char)(0xC0 | ch >> 6);
		out[1] = (char)(0x80 | (ch & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | ch >> 12);
	out[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
	out[2] = (char)(0x80 | (ch & 0x3F));
	return 3;
}

/* UTF-16LE (BMP only, as Windows paths are) to UTF-8, stopping at NUL. */
static char *utf16le_to_utf8(const uint8_t *p, size_t n)
{
	char *s = malloc(n / 2 * 3 + 1);
	size_t o = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned ch = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

		if (ch == 0)
			break;
		o += sipa_utf8_of_unit(ch, s + o);
	}
	s[o] = '\0';
	return s;
}

bool sipa_type_is_utf16(uint32_t type)
{
	return type == 0x00050009u || type == 0x00070001u || type == 0x0005000Bu || type == 0x00070005u ||
	       type == 0x00070008u || type == 0x00050008u;
}

json_t *sipa_leaf_json(uint32_t type, const uint8_t *data, uint32_t len)
{
	const char *name = sipa_type_name(type);
	json_t *o = json_object();
	json_t *v = NULL;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "Type", json_integer(type));
	if (name)
		json_object_set_new(o, "Name", json_string(name));
	if (sipa_type_is_utf16(type)) {
		char *s = utf16le_to_utf8(data, len);

		v = s ? json_string(s) : NULL;
		free(s);
	} else if (len == 1 || len == 4 || len == 8) {
		uint64_t x = 0;

		for (uint32_t i = 0; i < len; i++)
			x |= (uint64_t)data[i] << (8 * i);
		v = json_integer((json_int_t)x);
	}
	if (v == NULL) {
		char *h = hex_encode(data, len);

		v = h ? json_string(h) : json_null();
		free(h);
	}
	json_object_set_new(o, "Value", v);
	return o;
}
