/*
 * SEV-SNP ATTESTATION_REPORT parsing (formats.md §5.1; AMD SEV-SNP Firmware
 * ABI, "ATTESTATION_REPORT Structure"): every field read through the
 * cursor in layout order, each read checked against the offset the table
 * in snp.h names, then the structural rules (version, algorithm, reserved
 * bits) checked before anything trusts a field.
 */
#include "evidence/snp.h"

#include "base/cur.h"

#include <string.h>

const uint8_t SNP_GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const uint8_t SNP_GUID_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
				   0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
const uint8_t SNP_GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const uint8_t SNP_GUID_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
				  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

enum amd_product snp_report_product(const struct snp_report *r)
{
	uint8_t fam = r->cpuid_fam_id, mod = r->cpuid_mod_id;

	if (!r->has_cpuid)
		return AMD_PRODUCT_UNKNOWN;
	/* virtee/sev Generation::identify_cpu; formats.md §5.1 CPUID_MOD_ID. */
	if (fam == 0x19 && mod <= 0x0F)
		return AMD_PRODUCT_MILAN;
	if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF)))
		return AMD_PRODUCT_GENOA;
	if (fam == 0x1A && mod <= 0x11)
		return AMD_PRODUCT_TURIN;
	return AMD_PRODUCT_UNKNOWN;
}

/* Reads len bytes at the offset the layout table names (guards the table). */
static int take_at(struct cur *c, size_t off, void *dst, size_t len)
{
	if (c->off != off)
		return -1;
	return cur_copy(c, dst, len);
}

static int u32_at(struct cur *c, size_t off, uint32_t *v)
{
	return c->off == off ? cur_u32le(c, v) : -1;
}

static int u64_at(struct cur *c, size_t off, uint64_t *v)
{
	return c->off == off ? cur_u64le(c, v) : -1;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Header part: 0x000..0x04F. */
static int read_head(struct cur *c, struct snp_report *r, uint32_t *reserved0)
{
	if (u32_at(c, SNP_OFF_VERSION, &r->version) || u32_at(c, SNP_OFF_GUEST_SVN, &r->guest_svn) ||
	    u64_at(c, SNP_OFF_POLICY, &r->policy) || take_at(c, SNP_OFF_FAMILY_ID, r->family_id, 16) ||
	    take_at(c, SNP_OFF_IMAGE_ID, r->image_id, 16) || u32_at(c, SNP_OFF_VMPL, &r->vmpl) ||
	    u32_at(c, SNP_OFF_SIGNATURE_ALGO, &r->signature_algo) ||
	    take_at(c, SNP_OFF_CURRENT_TCB, r->current_tcb, 8) ||
	    u64_at(c, SNP_OFF_PLATFORM_INFO, &r->platform_info) ||
	    u32_at(c, SNP_OFF_SIGNER_INFO, &r->signer_info) || u32_at(c, SNP_OFF_RESERVED0, reserved0))
		return -1;
	return 0;
}

/* Identity part: 0x050..0x19F. */
static int read_ids(struct cur *c, struct snp_report *r, uint8_t reserved1[21])
{
	if (take_at(c, SNP_OFF_REPORT_DATA, r->report_data, 64) ||
	    take_at(c, SNP_OFF_MEASUREMENT, r->measurement, 48) ||
	    take_at(c, SNP_OFF_HOST_DATA, r->host_data, 32) ||
	    take_at(c, SNP_OFF_ID_KEY_DIGEST, r->id_key_digest, 48) ||
	    take_at(c, SNP_OFF_AUTHOR_KEY_DIGEST, r->author_key_digest, 48) ||
	    take_at(c, SNP_OFF_REPORT_ID, r->report_id, 32) ||
	    take_at(c, SNP_OFF_REPORT_ID_MA, r->report_id_ma, 32) ||
	    take_at(c, SNP_OFF_REPORTED_TCB, r->reported_tcb, 8) ||
	    take_at(c, SNP_OFF_CPUID_FAM_ID, &r->cpuid_fam_id, 1) ||
	    take_at(c, SNP_OFF_CPUID_MOD_ID, &r->cpuid_mod_id, 1) ||
	    take_at(c, SNP_OFF_CPUID_STEP, &r->cpuid_step, 1) || take_at(c, SNP_OFF_RESERVED1, reserved1, 21))
		return -1;
	return 0;
}

/* Platform part: 0x1A0..0x29F. */
static int read_platform(struct cur *c, struct snp_report *r, uint8_t rsv_ver[2], uint8_t reserved2[152])
{
	uint8_t cur_v[4], com_v[4];

	if (take_at(c, SNP_OFF_CHIP_ID, r->chip_id, 64) ||
	    take_at(c, SNP_OFF_COMMITTED_TCB, r->committed_tcb, 8) ||
	    take_at(c, SNP_OFF_CURRENT_VERSION, cur_v, 4) ||
	    take_at(c, SNP_OFF_COMMITTED_VERSION, com_v, 4) ||
	    take_at(c, SNP_OFF_LAUNCH_TCB, r->launch_tcb, 8) ||
	    u64_at(c, SNP_OFF_LAUNCH_MIT_VECTOR, &r->launch_mit_vector) ||
	    u64_at(c, SNP_OFF_CURRENT_MIT_VECTOR, &r->current_mit_vector) ||
	    take_at(c, SNP_OFF_RESERVED2, reserved2, 152))
		return -1;
	r->current_build = cur_v[0];
	r->current_minor = cur_v[1];
	r->current_major = cur_v[2];
	r->committed_build = com_v[0];
	r->committed_minor = com_v[1];
	r->committed_major = com_v[2];
	rsv_ver[0] = cur_v[3];
	rsv_ver[1] = com_v[3];
	return 0;
}

static int reserved_err(struct attest_err *err, const char *field, size_t off)
{
	attest_err_set(err, ATTEST_E_PARSE, "snp.report.reserved", "reserved field %s is not zero", field);
	attest_err_where(err, "report+0x%03zx", off);
	return ATTEST_E_PARSE;
}

/* The header rules: version, algorithm, VMPL, signer info, policy, platform info. */
static int check_head(const struct snp_report *r, uint32_t reserved0, struct attest_err *err)
{
	unsigned key = (r->signer_info >> SNP_SIGNER_SIGNING_KEY_SHIFT) & SNP_SIGNER_SIGNING_KEY_MASK;

	if (r->version < SNP_REPORT_VERSION_MIN || r->version > SNP_REPORT_VERSION_MAX)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "snp.report.version",
				      "report version %u is not one of %u..%u", r->version,
				      SNP_REPORT_VERSION_MIN, SNP_REPORT_VERSION_MAX);
	if (r->signature_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "snp.report.sig_algo",
				      "signature algorithm %u is not ECDSA P-384 with SHA-384 (1)",
				      r->signature_algo);
	if (r->vmpl > 3)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.vmpl", "VMPL %u is not 0..3", r->vmpl);
	if (r->signer_info & SNP_SIGNER_MBZ_MASK)
		return reserved_err(err, "signer info bits 31:5", SNP_OFF_SIGNER_INFO);
	if (reserved0 != 0)
		return reserved_err(err, "at 0x04C", SNP_OFF_RESERVED0);
	if (key == SNP_KEY_NONE || (r->signer_info & SNP_SIGNER_MASK_CHIP_KEY))
		/* MASK_CHIP_KEY: the firmware did not sign (signature zero). */
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.report.unsigned",
				      "the report is not signed (SIGNING_KEY %u, MASK_CHIP_KEY %u)", key,
				      (r->signer_info & SNP_SIGNER_MASK_CHIP_KEY) ? 1u : 0u);
	if (key != SNP_KEY_VCEK && key != SNP_KEY_VLEK)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.signing_key",
				      "SIGNING_KEY %u is reserved (0 VCEK, 1 VLEK)", key);
	if (!(r->policy & SNP_POLICY_RESERVED_ONE) || (r->policy & SNP_POLICY_MBZ_MASK))
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.policy",
				      "guest policy 0x%llx: bit 17 must be one and bits 63:26 zero",
				      (unsigned long long)r->policy);
	if (r->platform_info & SNP_PLATFORM_MBZ_MASK)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.platform_info",
				      "platform info 0x%llx has reserved bits set (6, 63:8)",
				      (unsigned long long)r->platform_info);
	return ATTEST_OK;
}

/* The reserved ranges, which move with the version (§5.1). */
static int check_reserved(const struct snp_report *r, const uint8_t reserved1[21], const uint8_t rsv_ver[2],
			  const uint8_t reserved2[152], const uint8_t *sig_tail, struct attest_err *err)
{
	if (!r->has_cpuid && (r->cpuid_fam_id | r->cpuid_mod_id | r->cpuid_step))
		return reserved_err(err, "CPUID bytes of a version 2 report", SNP_OFF_CPUID_FAM_ID);
	if (!all_zero(reserved1, 21))
		return reserved_err(err, "after CPUID_STEP", SNP_OFF_RESERVED1);
	if (rsv_ver[0])
		return reserved_err(err, "after CURRENT_MAJOR", SNP_OFF_CURRENT_VERSION + 3);
	if (rsv_ver[1])
		return reserved_err(err, "after COMMITTED_MAJOR", SNP_OFF_COMMITTED_VERSION + 3);
	if (!r->has_mit_vectors && (r->launch_mit_vector | r->current_mit_vector))
		return reserved_err(err, "MIT vectors of a report before version 5",
				    SNP_OFF_LAUNCH_MIT_VECTOR);
	if (!all_zero(reserved2, 152))
		return reserved_err(err, "after CURRENT_MIT_VECTOR", SNP_OFF_RESERVED2);
	if (!all_zero(sig_tail, SNP_REPORT_SIZE - SNP_OFF_SIG_RESERVED))
		return reserved_err(err, "signature bytes after S", SNP_OFF_SIG_RESERVED);
	/* r and s are 72-byte fields of which P-384 uses the low 48 (§5.2). */
	if (!all_zero(r->sig_r + 48, 24) || !all_zero(r->sig_s + 48, 24))
		return reserved_err(err, "high bytes of the signature's r or s", SNP_OFF_SIG_R + 48);
	return ATTEST_OK;
}

int snp_report_parse(const uint8_t *p, size_t n, struct snp_report *out, struct attest_err *err)
{
	struct snp_report r;
	struct cur c;
	uint32_t reserved0 = 0;
	uint8_t reserved1[21], rsv_ver[2], reserved2[152];
	const uint8_t *sig_tail = NULL;
	int rc;

	if (n < SNP_REPORT_SIZE)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.truncated",
				      "report is %zu bytes, an ATTESTATION_REPORT is %u", n, SNP_REPORT_SIZE);
	if (n > SNP_REPORT_SIZE)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.report.trailing",
				      "report is %zu bytes, %zu more than an ATTESTATION_REPORT", n,
				      n - SNP_REPORT_SIZE);
	memset(&r, 0, sizeof(r));
	cur_init(&c, p, n);
	if (read_head(&c, &r, &reserved0) || read_ids(&c, &r, reserved1) ||
	    read_platform(&c, &r, rsv_ver, reserved2) || take_at(&c, SNP_OFF_SIG_R, r.sig_r, 72) ||
	    take_at(&c, SNP_OFF_SIG_S, r.sig_s, 72) ||
	    cur_take(&c, SNP_REPORT_SIZE - SNP_OFF_SIG_RESERVED, &sig_tail) || !cur_empty(&c))
		return attest_err_set(err, ATTEST_E_INTERNAL, "snp.report.layout",
				      "the report layout table disagrees with the reader at 0x%zx", c.off);
	memcpy(r.signed_bytes, p, SNP_SIGNED_SIZE);
	r.author_key_en = (r.signer_info & SNP_SIGNER_AUTHOR_KEY_EN) != 0;
	r.mask_chip_key = (r.signer_info & SNP_SIGNER_MASK_CHIP_KEY) != 0;
	r.signing_key = (r.signer_info >> SNP_SIGNER_SIGNING_KEY_SHIFT) & SNP_SIGNER_SIGNING_KEY_MASK;
	r.has_cpuid = r.version >= 3;
	r.has_mit_vectors = r.version >= 5;
	if ((rc = check_head(&r, reserved0, err)) != ATTEST_OK ||
	    (rc = check_reserved(&r, reserved1, rsv_ver, reserved2, sig_tail, err)) != ATTEST_OK)
		return rc;
	*out = r;
	return ATTEST_OK;
}

/* ---- GHCB certificate table (§5.9) --------------------------------------- */

#define CERT_TABLE_ENTRY       24u
#define CERT_TABLE_MAX_ENTRIES 32u

/* GUIDs are written in RFC 4122 byte order by some tools and in the mixed-endian order of Windows/Linux
 * guid_t by others; accept both. */
static bool guid_eq(const uint8_t *g, const uint8_t want[16])
{
	uint8_t le[16];

	if (memcmp(g, want, 16) == 0)
		return true;
	le[0] = want[3], le[1] = want[2], le[2] = want[1], le[3] = want[0];
	le[4] = want[5], le[5] = want[4], le[6] = want[7], le[7] = want[6];
	memcpy(le + 8, want + 8, 8);
	return memcmp(g, le, 16) == 0;
}

static int table_entry(const uint8_t *table, size_t len, const uint8_t *guid, uint32_t off, uint32_t n,
		       struct snp_cert_table *t, size_t idx, struct attest_err *err)
{
	const uint8_t **slot = NULL;
	size_t *slot_len = NULL;

	if (guid_eq(guid, SNP_GUID_VCEK))
		slot = &t->vcek, slot_len = &t->vcek_len;
	else if (guid_eq(guid, SNP_GUID_VLEK))
		slot = &t->vlek, slot_len = &t->vlek_len;
	else if (guid_eq(guid, SNP_GUID_ASK))
		slot = &t->ask, slot_len = &t->ask_len;
	else if (guid_eq(guid, SNP_GUID_ARK))
		slot = &t->ark, slot_len = &t->ark_len;
	if (!range_ok(len, off, n) || n == 0) {
		attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.range",
			       "entry %zu (offset %u, length %u) is outside the %zu-byte table", idx, off, n,
			       len);
		attest_err_where(err, "certtable+0x%zx", idx * CERT_TABLE_ENTRY);
		return ATTEST_E_PARSE;
	}
	if (slot == NULL)
		return ATTEST_OK; /* other GUIDs (e.g. a CRL or an OVMF blob) are not ours */
	if (*slot != NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.duplicate",
				      "entry %zu repeats a certificate GUID", idx);
	*slot = table + off;
	*slot_len = n;
	return ATTEST_OK;
}

int snp_cert_table_parse(const uint8_t *table, size_t len, struct snp_cert_table *out, struct attest_err *err)
{
	struct snp_cert_table t;
	const uint8_t *guids[CERT_TABLE_MAX_ENTRIES];
	uint32_t offs[CERT_TABLE_MAX_ENTRIES], lens[CERT_TABLE_MAX_ENTRIES];
	size_t count = 0;
	struct cur c;
	int rc;

	memset(&t, 0, sizeof(t));
	cur_init(&c, table, len);
	for (;;) {
		const uint8_t *guid;
		uint32_t off, n;

		if (cur_take(&c, 16, &guid) || cur_u32le(&c, &off) || cur_u32le(&c, &n))
			return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.truncated",
					      "the table ends inside entry %zu (no all-zero terminator)",
					      count);
		if (all_zero(guid, 16) && off == 0 && n == 0)
			break;
		if (count == CERT_TABLE_MAX_ENTRIES)
			return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.entries",
					      "more than %u entries before the terminator",
					      CERT_TABLE_MAX_ENTRIES);
		guids[count] = guid, offs[count] = off, lens[count] = n;
		count++;
	}
	for (size_t i = 0; i < count; i++) {
		/* Certificates live after the entries and the terminator. */
		if (offs[i] < c.off)
			return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.range",
					      "entry %zu points into the entry array (offset %u)", i,
					      offs[i]);
		if ((rc = table_entry(table, len, guids[i], offs[i], lens[i], &t, i, err)) != ATTEST_OK)
			return rc;
	}
	if (t.vcek == NULL && t.vlek == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "snp.certtable.no_leaf",
				      "the certificate table holds neither a VCEK nor a VLEK");
	*out = t;
	return ATTEST_OK;
}
