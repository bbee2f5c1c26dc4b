/*
 * VBS enclave reports: see vbs.h. Layout: formats.md §7.8 (winnt.h
 * VBS_ENCLAVE_REPORT_PKG_HEADER, VBS_ENCLAVE_REPORT, ENCLAVE_IDENTITY,
 * VBS_ENCLAVE_REPORT_VARDATA_HEADER, VBS_ENCLAVE_REPORT_MODULE); all LE.
 */
#include "evidence/vbs.h"

#include "base/cur.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <string.h>

#define VBS_VARDATA_INVALID 0
#define VBS_VARDATA_MODULE 1
#define VBS_VARDATA_HEADER_SIZE 8
#define VBS_MODULE_FIXED_SIZE (VBS_VARDATA_HEADER_SIZE + 32 + 32 + 16 + 16 + 4)

static int vbs_err(struct attest_err *err, int rc, const char *name, const char *msg, size_t off)
{
	attest_err_set(err, rc, name, "VBS report: %s", msg);
	attest_err_where(err, "vsm_report+0x%zx", off);
	return rc;
}

static void module_name(struct cur *c, char *out, size_t cap)
{
	size_t o = 0;
	uint16_t ch;

	while (cur_u16le(c, &ch) == 0 && ch != 0)
		if (o + 1 < cap)
			out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	out[o] = '\0';
}

/* VBS_ENCLAVE_REPORT_MODULE: header, UniqueId, AuthorId, FamilyId, ImageId, Svn, ModuleName. */
static int parse_module(struct cur *blk, struct vbs_report *r, struct attest_err *err)
{
	struct vbs_module *m;

	if (r->n_modules == VBS_MAX_MODULES)
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.vardata", "more than 64 module blocks",
			       blk->off);
	m = &r->modules[r->n_modules];
	if (cur_copy(blk, m->unique_id, 32) || cur_copy(blk, m->author_id, 32) ||
	    cur_copy(blk, m->family_id, 16) || cur_copy(blk, m->image_id, 16) || cur_u32le(blk, &m->svn))
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.vardata", "a module block is cut short",
			       blk->off);
	module_name(blk, m->name, sizeof(m->name));
	r->n_modules++;
	return ATTEST_OK;
}

static int parse_vardata(struct cur *c, struct vbs_report *r, struct attest_err *err)
{
	while (!cur_empty(c)) {
		size_t off = c->off;
		uint32_t type, size;
		struct cur blk;
		int rc;

		/* Each block's Size counts its own 8-byte header. */
		if (cur_u32le(c, &type) || cur_u32le(c, &size) || size < VBS_VARDATA_HEADER_SIZE ||
		    cur_sub(c, size - VBS_VARDATA_HEADER_SIZE, &blk))
			return vbs_err(err, ATTEST_E_PARSE, "vbs.report.vardata",
				       "a variable-data block does not fit in the statement", off);
		if (type == VBS_VARDATA_INVALID)
			return vbs_err(err, ATTEST_E_PARSE, "vbs.report.vardata",
				       "a variable-data block has type 0 (invalid)", off);
		if (type == VBS_VARDATA_MODULE && (rc = parse_module(&blk, r, err)) != ATTEST_OK)
			return rc;
	}
	return ATTEST_OK;
}

static int parse_identity(struct cur *c, struct vbs_report *r)
{
	return cur_copy(c, r->owner_id, 32) || cur_copy(c, r->unique_id, 32) ||
	       cur_copy(c, r->author_id, 32) || cur_copy(c, r->family_id, 16) ||
	       cur_copy(c, r->image_id, 16) || cur_u32le(c, &r->enclave_svn) ||
	       cur_u32le(c, &r->secure_kernel_svn) || cur_u32le(c, &r->platform_svn) ||
	       cur_u32le(c, &r->flags) || cur_u32le(c, &r->signing_level) || cur_u32le(c, &r->enclave_type);
}

int vbs_report_parse(const uint8_t *p, size_t n, struct vbs_report *out, struct attest_err *err)
{
	struct vbs_report r;
	struct cur c, st;
	uint32_t pkg_size, version, stmt_size, sig_size, reserved, report_size, report_version;
	int rc;

	memset(&r, 0, sizeof(r));
	cur_init(&c, p, n);
	if (cur_u32le(&c, &pkg_size) || cur_u32le(&c, &version) || cur_u32le(&c, &r.signature_scheme) ||
	    cur_u32le(&c, &stmt_size) || cur_u32le(&c, &sig_size) || cur_u32le(&c, &reserved))
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.truncated", "package header cut short", 0);
	/* Validate every size before reading what they describe (STYLE.md habit 3). */
	if ((uint64_t)pkg_size != (uint64_t)VBS_PKG_HEADER_SIZE + stmt_size + sig_size || pkg_size != n)
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.size",
			       "PackageSize, SignedStatementSize and SignatureSize disagree with the length", 0);
	if (version != VBS_REPORT_VERSION)
		return vbs_err(err, ATTEST_E_UNSUPPORTED, "vbs.report.version", "package version is not 1", 4);
	if (r.signature_scheme != VBS_SIGNATURE_SCHEME_SHA256_RSA_PSS_SHA256)
		return vbs_err(err, ATTEST_E_UNSUPPORTED, "vbs.report.scheme",
			       "signature scheme is not 1 (SHA-256 RSA-PSS SHA-256)", 8);
	if (cur_sub(&c, stmt_size, &st) || cur_take(&c, sig_size, &r.signature))
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.truncated", "package cut short", c.off);
	r.statement = st.p;
	r.statement_len = stmt_size;
	r.signature_len = sig_size;
	if (cur_u32le(&st, &report_size) || cur_u32le(&st, &report_version) ||
	    cur_copy(&st, r.enclave_data, 64) || parse_identity(&st, &r))
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.truncated",
			       "signed statement shorter than VBS_ENCLAVE_REPORT", st.off);
	if (report_size != stmt_size)
		return vbs_err(err, ATTEST_E_PARSE, "vbs.report.size",
			       "ReportSize differs from SignedStatementSize", VBS_PKG_HEADER_SIZE);
	if (report_version != VBS_REPORT_VERSION)
		return vbs_err(err, ATTEST_E_UNSUPPORTED, "vbs.report.version", "ReportVersion is not 1",
			       VBS_PKG_HEADER_SIZE + 4);
	if ((rc = parse_vardata(&st, &r, err)) != ATTEST_OK)
		return rc;
	*out = r;
	return ATTEST_OK;
}

int vbs_report_check_binding(const struct vbs_report *r, const uint8_t *report_signed, size_t len,
			     struct attest_err *err)
{
	uint8_t h[64];

	/* MAA: EnclaveData = SHA-512(UTF8(report_signed)) (virtualization-based-security-protocol). */
	if (EVP_Digest(report_signed, len, h, NULL, EVP_sha512(), NULL) != 1)
		return attest_err_set(err, ATTEST_E_INTERNAL, "vbs.report.binding", "digest failed");
	if (CRYPTO_memcmp(h, r->enclave_data, 64) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "vbs.report.binding",
				      "EnclaveData is not the SHA-512 of report_signed");
	return ATTEST_OK;
}

int vbs_report_verify_signature(const struct vbs_report *r, EVP_PKEY *key, struct attest_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = md != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
		 EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
		 EVP_DigestVerify(md, r->signature, r->signature_len, r->statement, r->statement_len) == 1;

	EVP_MD_CTX_free(md);
	if (!ok)
		return attest_err_set(err, ATTEST_E_VERIFY, "vbs.report.signature",
				      "the VBS report signature does not verify with the report key");
	return ATTEST_OK;
}

int vbs_report_claims(const struct vbs_report *r, bool signature_verified, struct claim_set *out)
{
	const struct vbs_module *m = r->n_modules ? &r->modules[0] : NULL;
	int rc = 0;

	rc |= claim_set_add_bool(out, "vbsReportPresent", true);
	rc |= claim_set_add_bool(out, "vbsReportSignatureVerified", signature_verified);
	rc |= claim_set_add_b64url(out, "enclaveAuthorId", m ? m->author_id : r->author_id, 32);
	rc |= claim_set_add_b64url(out, "enclaveImageId", m ? m->image_id : r->image_id, 16);
	rc |= claim_set_add_b64url(out, "enclaveFamilyId", m ? m->family_id : r->family_id, 16);
	rc |= claim_set_add_b64url(out, "enclaveOwnerId", r->owner_id, 32);
	rc |= claim_set_add_b64url(out, "enclaveUniqueId", r->unique_id, 32);
	rc |= claim_set_add_int(out, "enclaveSvn", m ? m->svn : r->enclave_svn);
	rc |= claim_set_add_int(out, "enclavePlatformSvn", r->platform_svn);
	rc |= claim_set_add_int(out, "enclaveSecureKernelSvn", r->secure_kernel_svn);
	rc |= claim_set_add_int(out, "enclaveFlags", r->flags);
	rc |= claim_set_add_bool(out, "enclaveDebuggable",
				 (r->flags & (VBS_FLAG_FULL_DEBUG_ENABLED | VBS_FLAG_DYNAMIC_DEBUG_ENABLED)) != 0);
	return rc ? ATTEST_E_NOMEM : ATTEST_OK;
}
