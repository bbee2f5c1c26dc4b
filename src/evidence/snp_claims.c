/*
 * Claims of a verified SEV-SNP report (maa-interface.md §2.5; the full list
 * with types is docs/claims-snp.md). MAA's own names first, with MAA's
 * types (hex strings, numbers, booleans; note the mixed case of familyId
 * and imageId); then the raw and decoded fields MAA does not publish, under
 * the same x-ms-sevsnpvm- prefix, so policies can check minimum TCBs.
 */
#include "evidence/snp.h"

#include "base/codec.h"
#include "base/jsonx.h"

#include <stdio.h>
#include <string.h>

#define P "x-ms-sevsnpvm-"

struct claim_hex {
	const char *name;
	size_t off; /* offsetof in struct snp_report */
	size_t len;
};

static const struct claim_hex HEX_CLAIMS[] = {
    {P "authorkeydigest", offsetof(struct snp_report, author_key_digest), 48},
    {P "idkeydigest", offsetof(struct snp_report, id_key_digest), 48},
    {P "familyId", offsetof(struct snp_report, family_id), 16},
    {P "imageId", offsetof(struct snp_report, image_id), 16},
    {P "launchmeasurement", offsetof(struct snp_report, measurement), 48},
    {P "hostdata", offsetof(struct snp_report, host_data), 32},
    {P "reportdata", offsetof(struct snp_report, report_data), 64},
    {P "reportid", offsetof(struct snp_report, report_id), 32},
    {P "reportid-ma", offsetof(struct snp_report, report_id_ma), 32},
    {P "chipid", offsetof(struct snp_report, chip_id), 64},
};

/* A TCB as MAA's four SVN claims (reported TCB) or as <which>-<part>-svn. */
static int add_tcb(struct claim_set *out, const char *which, const struct snp_tcb *t, bool turin)
{
	char name[96];
	int rc = 0;

	if (which[0] != '\0') {
		snprintf(name, sizeof(name), P "%stcb", which);
		rc |= claim_set_add_hex(out, name, t->raw, 8);
	}
	snprintf(name, sizeof(name), P "%sbootloader-svn", which);
	rc |= claim_set_add_int(out, name, t->bootloader);
	snprintf(name, sizeof(name), P "%stee-svn", which);
	rc |= claim_set_add_int(out, name, t->tee);
	snprintf(name, sizeof(name), P "%ssnpfw-svn", which);
	rc |= claim_set_add_int(out, name, t->snp);
	snprintf(name, sizeof(name), P "%smicrocode-svn", which);
	rc |= claim_set_add_int(out, name, t->microcode);
	if (turin) {
		snprintf(name, sizeof(name), P "%sfmc-svn", which);
		rc |= claim_set_add_int(out, name, t->fmc);
	}
	return rc;
}

static uint8_t min4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t m = a < b ? a : b;

	m = m < c ? m : c;
	return m < d ? m : d;
}

/* The component-wise minimum of the four TCBs: the least the guest has run on. */
static int add_min_tcb(struct claim_set *out, const struct snp_result *r, bool turin)
{
	struct snp_tcb m;

	memset(&m, 0, sizeof(m));
	m.bootloader = min4(r->current.bootloader, r->reported.bootloader, r->committed.bootloader,
			    r->launch.bootloader);
	m.tee = min4(r->current.tee, r->reported.tee, r->committed.tee, r->launch.tee);
	m.snp = min4(r->current.snp, r->reported.snp, r->committed.snp, r->launch.snp);
	m.microcode =
	    min4(r->current.microcode, r->reported.microcode, r->committed.microcode, r->launch.microcode);
	m.fmc = min4(r->current.fmc, r->reported.fmc, r->committed.fmc, r->launch.fmc);
	if (turin) {
		m.raw[0] = m.fmc, m.raw[1] = m.bootloader, m.raw[2] = m.tee, m.raw[3] = m.snp;
	} else {
		m.raw[0] = m.bootloader, m.raw[1] = m.tee, m.raw[6] = m.snp;
	}
	m.raw[7] = m.microcode;
	return add_tcb(out, "min-", &m, turin);
}

static int add_policy(struct claim_set *out, uint64_t pol)
{
	int rc = 0;

	rc |= claim_set_add_bool(out, P "is-debuggable", (pol & SNP_POLICY_DEBUG) != 0);
	rc |= claim_set_add_bool(out, P "migration-allowed", (pol & SNP_POLICY_MIGRATE_MA) != 0);
	rc |= claim_set_add_bool(out, P "smt-allowed", (pol & SNP_POLICY_SMT) != 0);
	rc |= claim_set_add_int(out, P "policy", (int64_t)pol);
	rc |= claim_set_add_int(out, P "abi-major", SNP_POLICY_ABI_MAJOR(pol));
	rc |= claim_set_add_int(out, P "abi-minor", SNP_POLICY_ABI_MINOR(pol));
	rc |= claim_set_add_bool(out, P "single-socket", (pol & SNP_POLICY_SINGLE_SOCKET) != 0);
	rc |= claim_set_add_bool(out, P "cxl-allowed", (pol & SNP_POLICY_CXL_ALLOW) != 0);
	rc |= claim_set_add_bool(out, P "mem-aes-256-xts", (pol & SNP_POLICY_MEM_AES_256_XTS) != 0);
	rc |= claim_set_add_bool(out, P "rapl-disabled", (pol & SNP_POLICY_RAPL_DIS) != 0);
	rc |= claim_set_add_bool(out, P "ciphertext-hiding", (pol & SNP_POLICY_CIPHERTEXT_HIDING) != 0);
	rc |= claim_set_add_bool(out, P "page-swap-disabled", (pol & SNP_POLICY_PAGE_SWAP_DISABLE) != 0);
	return rc;
}

static int add_platform(struct claim_set *out, uint64_t pi)
{
	int rc = 0;

	rc |= claim_set_add_int(out, P "platform-info", (int64_t)pi);
	rc |= claim_set_add_bool(out, P "platform-smt-enabled", (pi & SNP_PLATFORM_SMT_EN) != 0);
	rc |= claim_set_add_bool(out, P "platform-tsme-enabled", (pi & SNP_PLATFORM_TSME_EN) != 0);
	rc |= claim_set_add_bool(out, P "platform-ecc-enabled", (pi & SNP_PLATFORM_ECC_EN) != 0);
	rc |= claim_set_add_bool(out, P "platform-rapl-disabled", (pi & SNP_PLATFORM_RAPL_DIS) != 0);
	rc |= claim_set_add_bool(out, P "platform-ciphertext-hiding-enabled",
				 (pi & SNP_PLATFORM_CIPHERTEXT_HIDING_EN) != 0);
	rc |= claim_set_add_bool(out, P "platform-alias-check-complete",
				 (pi & SNP_PLATFORM_ALIAS_CHECK_COMPLETE) != 0);
	rc |= claim_set_add_bool(out, P "platform-tio-enabled", (pi & SNP_PLATFORM_TIO_EN) != 0);
	return rc;
}

static int add_versions(struct claim_set *out, const struct snp_report *r, const struct snp_result *res)
{
	char v[32];
	int rc = 0;

	rc |= claim_set_add_int(out, P "report-version", r->version);
	rc |= claim_set_add_str(out, P "signing-key", res->vlek ? "vlek" : "vcek");
	rc |= claim_set_add_str(out, P "product", amd_product_name(res->product));
	if (res->product_name[0])
		rc |= claim_set_add_str(out, P "product-name", res->product_name);
	snprintf(v, sizeof(v), "%u.%u.%u", r->current_major, r->current_minor, r->current_build);
	rc |= claim_set_add_str(out, P "current-firmware", v);
	snprintf(v, sizeof(v), "%u.%u.%u", r->committed_major, r->committed_minor, r->committed_build);
	rc |= claim_set_add_str(out, P "committed-firmware", v);
	rc |= claim_set_add_bool(out, P "author-key-enabled", r->author_key_en);
	if (r->has_cpuid) {
		rc |= claim_set_add_int(out, P "cpuid-family", r->cpuid_fam_id);
		rc |= claim_set_add_int(out, P "cpuid-model", r->cpuid_mod_id);
		rc |= claim_set_add_int(out, P "cpuid-stepping", r->cpuid_step);
	}
	if (r->has_mit_vectors) {
		rc |= claim_set_add_int(out, P "launch-mit-vector", (int64_t)r->launch_mit_vector);
		rc |= claim_set_add_int(out, P "current-mit-vector", (int64_t)r->current_mit_vector);
	}
	rc |= claim_set_add_bool(out, P "crl-checked", res->crl_checked);
	return rc;
}

/*
 * x-attestd-snp-collateral: the hashes of the AMD collateral items the
 * verification looked up (a VCEK, a chain, a CRL from the collateral
 * source), as x-ms-sgx-collateral pins Intel's; absent when the evidence
 * brought everything. A receipt finds its collateral by these.
 */
static int add_collateral_pins(struct claim_set *out, const struct snp_result *res)
{
	char hex[65];
	json_t *o;

	if (!res->has_vcek_hash && !res->has_chain_hash && !res->has_crl_hash)
		return 0;
	if ((o = json_object()) == NULL)
		return -1;
	if (res->has_vcek_hash) {
		hex_encode_to(res->vcek_hash, 32, hex);
		json_object_set_new(o, "vcekhash", json_string(hex));
	}
	if (res->has_chain_hash) {
		hex_encode_to(res->chain_hash, 32, hex);
		json_object_set_new(o, "certchainhash", json_string(hex));
	}
	if (res->has_crl_hash) {
		hex_encode_to(res->crl_hash, 32, hex);
		json_object_set_new(o, "crlhash", json_string(hex));
	}
	return claim_set_add(out, "x-attestd-snp-collateral", o);
}

int snp_claims_add(const struct snp_result *res, struct claim_set *out, struct attest_err *err)
{
	const struct snp_report *r = &res->report;
	bool turin = res->product == AMD_PRODUCT_TURIN;
	int rc = 0;

	rc |= claim_set_add_str(out, "x-ms-attestation-type", "sevsnpvm");
	for (size_t i = 0; i < sizeof(HEX_CLAIMS) / sizeof(HEX_CLAIMS[0]); i++)
		rc |= claim_set_add_hex(out, HEX_CLAIMS[i].name, (const uint8_t *)r + HEX_CLAIMS[i].off,
					HEX_CLAIMS[i].len);
	rc |= claim_set_add_int(out, P "guestsvn", r->guest_svn);
	rc |= claim_set_add_int(out, P "vmpl", r->vmpl);
	rc |= add_policy(out, r->policy);
	/* MAA's four SVN claims come from REPORTED_TCB: the TCB the VCEK certifies. */
	rc |= add_tcb(out, "", &res->reported, turin);
	rc |= add_tcb(out, "reported-", &res->reported, turin);
	rc |= add_tcb(out, "current-", &res->current, turin);
	rc |= add_tcb(out, "committed-", &res->committed, turin);
	rc |= add_tcb(out, "launch-", &res->launch, turin);
	rc |= add_min_tcb(out, res, turin);
	rc |= add_platform(out, r->platform_info);
	rc |= add_versions(out, r, res);
	rc |= add_collateral_pins(out, res);
	if (rc != 0)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory adding claims");
	return ATTEST_OK;
}

static int parse_json(const uint8_t *p, size_t n, const char *code, const char *doc, json_t **out,
		      struct attest_err *err)
{
	int rc = jsonx_parse((const char *)p, n, out, code, doc, err);

	if (rc == ATTEST_OK && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return attest_err_set(err, ATTEST_E_PARSE, code, "%s is JSON but not an object", doc);
	}
	return rc;
}

int snp_claims_add_data(const struct evidence_input *in, struct claim_set *out, struct attest_err *err)
{
	json_t *rt = NULL, *it = NULL;
	int rc = ATTEST_OK;

	/* §1.3.1: JSON data becomes x-ms-runtime / x-ms-inittime; Binary adds nothing. */
	if (in->runtime_data != NULL && in->runtime_data_type == EVIDENCE_DATA_JSON &&
	    (rc = parse_json(in->runtime_data, in->runtime_data_len, "snp.runtime.json", "runtime data", &rt,
			     err)) != ATTEST_OK)
		return rc;
	if (in->init_data != NULL && in->init_data_type == EVIDENCE_DATA_JSON &&
	    (rc = parse_json(in->init_data, in->init_data_len, "snp.inittime.json", "init-time data", &it,
			     err)) != ATTEST_OK) {
		json_decref(rt);
		return rc;
	}
	/* claim_set_add takes each value, whether it succeeds or not. */
	if (rt != NULL && claim_set_add(out, "x-ms-runtime", rt) != 0)
		rc = ATTEST_E_NOMEM;
	if (it != NULL && claim_set_add(out, "x-ms-inittime", it) != 0)
		rc = ATTEST_E_NOMEM;
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, "snp.nomem", "out of memory adding claims");
	return ATTEST_OK;
}
