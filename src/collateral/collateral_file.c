/*
 * The file source: collateral read from a folder in the layout of
 * shared/vectors/sgx/<vector>/ (collateral.h). Stateless apart from the
 * folder path, so safe for concurrent use.
 */
#include "collateral/amd_collateral.h"
#include "collateral/collateral.h"

#include "base/buf.h"
#include "base/codec.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest collateral file read (TCB Info with many levels is ~30 KB). */
#define FILE_SOURCE_MAX (1024u * 1024)

struct file_source {
	char *dir;
};

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads dir/<first existing name> into *out; ATTEST_E_NOT_FOUND if none exists. */
static int read_first(const struct file_source *fs, const char *const *names, size_t n, uint8_t **out,
		      size_t *len, struct attest_err *err)
{
	char path[4096];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fs->dir, names[i]);
		if (!exists(path))
			continue;
		rc = file_read_all(path, FILE_SOURCE_MAX, out, len);
		if (rc == ATTEST_E_NOMEM)
			return attest_err_set(err, rc, "collateral.too_large", "%s is over %u bytes", path,
					      FILE_SOURCE_MAX);
		if (rc != ATTEST_OK)
			return attest_err_set(err, ATTEST_E_IO, "collateral.io", "cannot read %s: %s", path,
					      strerror(errno));
		return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.not_found", "no %s in %s", names[n - 1],
			      fs->dir);
}

static int read_pair(const struct file_source *fs, const char *const *data_names, size_t n,
		     const char *const *chain_names, size_t m, struct collateral_blob *out,
		     struct attest_err *err)
{
	int rc = read_first(fs, data_names, n, &out->data, &out->len, err);

	if (rc == ATTEST_OK && chain_names != NULL)
		rc = read_first(fs, chain_names, m, &out->chain, &out->chain_len, err);
	if (rc != ATTEST_OK)
		collateral_blob_free(out);
	return rc;
}

static int fs_pck_crl(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
		      struct attest_err *err)
{
	const char *cn = ca == COLLATERAL_CA_PLATFORM ? "platform" : "processor";
	char der[64], pem[64], chain[64];
	const char *data[4], *ch[2];

	snprintf(der, sizeof(der), "pck_crl_%s.der", cn);
	snprintf(pem, sizeof(pem), "pck_crl_%s.pem", cn);
	snprintf(chain, sizeof(chain), "pck_crl_%s_issuer_chain.pem", cn);
	data[0] = der, data[1] = pem, data[2] = "pck_crl.pem", data[3] = "pck_crl.der";
	ch[0] = chain, ch[1] = "pck_crl_issuer_chain.pem";
	return read_pair(self, data, 4, ch, 2, out, err);
}

static int fs_root_ca_crl(void *self, struct collateral_blob *out, struct attest_err *err)
{
	static const char *const data[] = {"root_ca_crl.pem", "root_ca_crl.der"};

	return read_pair(self, data, 2, NULL, 0, out, err);
}

static int fs_tcb_info(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
		       struct collateral_blob *out, struct attest_err *err)
{
	char hex[13], specific[64], chain[80];
	const char *data[2], *ch[2];

	hex_encode_to(fmspc, 6, hex);
	snprintf(specific, sizeof(specific), "tcb_info_%s_%s.json", tee == COLLATERAL_TEE_TDX ? "tdx" : "sgx",
		 hex);
	snprintf(chain, sizeof(chain), "tcb_info_%s_%s_issuer_chain.pem",
		 tee == COLLATERAL_TEE_TDX ? "tdx" : "sgx", hex);
	data[0] = specific, data[1] = "tcb_info.json";
	ch[0] = chain, ch[1] = "tcb_info_issuer_chain.pem";
	return read_pair(self, data, 2, ch, 2, out, err);
}

static int fs_qe_identity(void *self, enum collateral_qe kind, struct collateral_blob *out,
			  struct attest_err *err)
{
	static const char *const kinds[] = {"qe", "td_qe", "qve", "qae"};
	char specific[64], chain[80];
	const char *data[2], *ch[3];

	snprintf(specific, sizeof(specific), "qe_identity_%s.json", kinds[kind & 3]);
	snprintf(chain, sizeof(chain), "qe_identity_%s_issuer_chain.pem", kinds[kind & 3]);
	data[0] = specific, data[1] = "qe_identity.json";
	/* Some published folders have no QE identity chain: it is the TCB Info's (same signer). */
	ch[0] = chain, ch[1] = "qe_identity_issuer_chain.pem", ch[2] = "tcb_info_issuer_chain.pem";
	return read_pair(self, data, 2, ch, 3, out, err);
}

int collateral_file_pck_name(const uint8_t *ppid, size_t ppid_len, char *out, size_t cap)
{
	uint8_t md[32];
	char hex[2 * 32 + 1]; /* a SHA-256, or a clear PPID (16 bytes) */

	if (ppid == NULL || ppid_len == 0 || ppid_len > 384 || cap < 4 + 64 + 5)
		return ATTEST_E_INVALID;
	/* An encrypted PPID (256/384 bytes) in hex is over NAME_MAX: its SHA-256 names the file. */
	if (ppid_len > COLLATERAL_CLEAR_PPID_SIZE) {
		if (sha256(ppid, ppid_len, md) != ATTEST_OK)
			return ATTEST_E_INTERNAL;
		hex_encode_to(md, 32, hex);
	} else {
		hex_encode_to(ppid, ppid_len, hex);
	}
	snprintf(out, cap, "pck_%s.pem", hex);
	return ATTEST_OK;
}

static int fs_pck_cert(void *self, const struct collateral_pck_query *q, struct collateral_blob *out,
		       struct attest_err *err)
{
	char name[96];
	const char *data[1], *ch[1] = {"pck_cert_issuer_chain.pem"};

	if (q == NULL || collateral_file_pck_name(q->ppid, q->ppid_len, name, sizeof(name)) != ATTEST_OK)
		return attest_err_set(err, ATTEST_E_INVALID, "collateral.not_found", "PPID of %zu bytes",
				      q ? q->ppid_len : 0);
	data[0] = name;
	return read_pair(self, data, 1, ch, 1, out, err);
}

/*
 * A selected set never falls back to the standard body (that would report
 * the standard set as the early one); its chain may (same TCB Signing key).
 */
static int fs_tcb_info_ex(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			  const struct collateral_select *sel, struct collateral_blob *out,
			  struct attest_err *err)
{
	const char *t = tee == COLLATERAL_TEE_TDX ? "tdx" : "sgx";
	char hex[13], sfx[24], specific[96], generic[64], sch[112], gch[80], stdch[80];
	const char *data[2], *ch[4];

	hex_encode_to(fmspc, 6, hex);
	collateral_select_suffix(sel, '_', sfx, sizeof(sfx));
	snprintf(specific, sizeof(specific), "tcb_info_%s_%s%s.json", t, hex, sfx);
	snprintf(generic, sizeof(generic), "tcb_info%s.json", sfx);
	snprintf(sch, sizeof(sch), "tcb_info_%s_%s%s_issuer_chain.pem", t, hex, sfx);
	snprintf(gch, sizeof(gch), "tcb_info%s_issuer_chain.pem", sfx);
	snprintf(stdch, sizeof(stdch), "tcb_info_%s_%s_issuer_chain.pem", t, hex);
	data[0] = specific, data[1] = generic;
	ch[0] = sch, ch[1] = gch, ch[2] = stdch, ch[3] = "tcb_info_issuer_chain.pem";
	return read_pair(self, data, 2, ch, 4, out, err);
}

static int fs_qe_identity_ex(void *self, enum collateral_qe kind, const struct collateral_select *sel,
			     struct collateral_blob *out, struct attest_err *err)
{
	static const char *const kinds[] = {"qe", "td_qe", "qve", "qae"};
	char sfx[24], specific[96], generic[64], sch[112], gch[80];
	const char *data[2], *ch[4];

	collateral_select_suffix(sel, '_', sfx, sizeof(sfx));
	snprintf(specific, sizeof(specific), "qe_identity_%s%s.json", kinds[kind & 3], sfx);
	snprintf(generic, sizeof(generic), "qe_identity%s.json", sfx);
	snprintf(sch, sizeof(sch), "qe_identity_%s%s_issuer_chain.pem", kinds[kind & 3], sfx);
	snprintf(gch, sizeof(gch), "qe_identity%s_issuer_chain.pem", sfx);
	data[0] = specific, data[1] = generic;
	ch[0] = sch, ch[1] = gch, ch[2] = "qe_identity_issuer_chain.pem", ch[3] = "tcb_info_issuer_chain.pem";
	return read_pair(self, data, 2, ch, 4, out, err);
}

/* AMD items: the KDS-shaped layout under the same folder (snp's amd_file.c). */
static int fs_amd_vcek(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		       struct collateral_blob *out, struct attest_err *err)
{
	return amd_file_vcek(((struct file_source *)self)->dir, product, chip_id, tcb, out, err);
}

static int fs_amd_cert_chain(void *self, const char *product, bool vlek, struct collateral_blob *out,
			     struct attest_err *err)
{
	return amd_file_cert_chain(((struct file_source *)self)->dir, product, vlek, out, err);
}

static int fs_amd_crl(void *self, const char *product, bool vlek, struct collateral_blob *out,
		      struct attest_err *err)
{
	return amd_file_crl(((struct file_source *)self)->dir, product, vlek, out, err);
}

static void fs_free(void *self)
{
	struct file_source *fs = self;

	if (fs != NULL)
		free(fs->dir);
	free(fs);
}

static const struct collateral_source_ops FILE_OPS = {
    .name = "file",
    .pck_crl = fs_pck_crl,
    .root_ca_crl = fs_root_ca_crl,
    .tcb_info = fs_tcb_info,
    .qe_identity = fs_qe_identity,
    .pck_cert = fs_pck_cert,
    .tcb_info_ex = fs_tcb_info_ex,
    .qe_identity_ex = fs_qe_identity_ex,
    .amd_vcek = fs_amd_vcek,
    .amd_cert_chain = fs_amd_cert_chain,
    .amd_crl = fs_amd_crl,
    .free = fs_free,
};

int collateral_file_source_new(const char *dir, struct collateral_source **out, struct attest_err *err)
{
	struct collateral_source *src = calloc(1, sizeof(*src));
	struct file_source *fs = calloc(1, sizeof(*fs));

	if (src == NULL || fs == NULL || (fs->dir = strdup(dir)) == NULL) {
		free(src);
		fs_free(fs);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	src->ops = &FILE_OPS;
	src->self = fs;
	*out = src;
	return ATTEST_OK;
}
