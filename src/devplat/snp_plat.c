/* The synthetic SEV-SNP platform: see snp_plat.h. */
#include "devplat/snp_plat.h"

#include "base/buf.h"
#include "base/codec.h"
#include "collateral/amd_tcb.h"
#include "crypto/crypto.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct snp_plat {
	enum amd_product product;
	int64_t not_before, not_after;
	EVP_PKEY *ark_key, *ask_key, *asvk_key;
	X509 *ark, *ask, *asvk;
	long serial;
};

static int plat_err(struct attest_err *err, const char *what)
{
	ERR_clear_error();
	return attest_err_set(err, ATTEST_E_INTERNAL, "devplat.snp", "synthetic SNP platform: %s failed",
			      what);
}

static EVP_PKEY *rsa_generate(int bits)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *k = NULL;

	if (c == NULL || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) != 1 ||
	    EVP_PKEY_keygen(c, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

static EVP_PKEY *ec_generate(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* A CA key from key_dir/<name>-<bits>.pem, generated and stored when absent. */
static EVP_PKEY *ca_key(const char *dir, const char *name, int bits)
{
	char path[1024], tmp[1100];
	EVP_PKEY *k = NULL;
	FILE *f;
	int fd;

	if (dir == NULL)
		return rsa_generate(bits);
	snprintf(path, sizeof(path), "%s/snp-%s-%d.pem", dir, name, bits);
	if ((f = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (k != NULL && EVP_PKEY_get_bits(k) == bits)
			return k;
		EVP_PKEY_free(k);
	}
	if ((k = rsa_generate(bits)) == NULL)
		return NULL;
	/* Written to a private name and renamed: a parallel reader sees a whole file or none. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	f = NULL;
	(void)unlink(tmp); /* a stale one: the key is never written through an existing file or link */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600); /* owner only */
	if (fd >= 0 && (f = fdopen(fd, "w")) == NULL)
		close(fd);
	if (f != NULL) {
		bool ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;

		if (fclose(f) == 0 && ok)
			(void)rename(tmp, path);
		else
			(void)unlink(tmp);
	}
	return k;
}

static X509_NAME *amd_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	static const char *const fields[][2] = {{"OU", "Engineering"},
						{"C", "US"},
						{"L", "Santa Clara"},
						{"ST", "CA"},
						{"O", "Advanced Micro Devices"}};

	if (n == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		X509_NAME_add_entry_by_txt(n, fields[i][0], MBSTRING_ASC, (const unsigned char *)fields[i][1],
					   -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return n;
}

/* RSASSA-PSS, MGF1 with the same hash, salt = hash length (48 for SHA-384, §5.7). */
static int sign_pss(X509 *x, X509_CRL *crl, EVP_PKEY *key, const EVP_MD *md)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok = 0;

	if (mc != NULL && EVP_DigestSignInit(mc, &pc, md, NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, EVP_MD_get_size(md)) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) == 1)
		ok = x ? X509_sign_ctx(x, mc) > 0 : X509_CRL_sign_ctx(crl, mc) > 0;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

static int add_ext_nid(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (e == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A certificate with AMD's name layout; the caller adds extensions and signs. */
static X509 *cert_new(const char *cn, X509 *issuer, const char *issuer_cn, EVP_PKEY *pub, long serial,
		      int64_t nb, int64_t na)
{
	X509 *x = X509_new();
	X509_NAME *sn = amd_name(cn), *in = issuer ? NULL : amd_name(issuer_cn);
	int ok;

	ok = x && sn && (issuer || in) && X509_set_version(x, 2) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), serial) && X509_set_subject_name(x, sn) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : in) &&
	     ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) &&
	     ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) && X509_set_pubkey(x, pub);
	X509_NAME_free(sn);
	X509_NAME_free(in);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509 *ca_cert(const char *cn, X509 *issuer, EVP_PKEY *pub, EVP_PKEY *signer, long serial, int64_t nb,
		     int64_t na, bool root, const EVP_MD *md)
{
	X509 *x = cert_new(cn, issuer, cn, pub, serial, nb, na);

	if (x == NULL ||
	    add_ext_nid(x, issuer ? issuer : x, NID_basic_constraints,
			root ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") ||
	    add_ext_nid(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext_nid(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") ||
	    sign_pss(x, NULL, signer, md)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int snp_plat_new(const struct snp_plat_opts *o, struct snp_plat **out, struct attest_err *err)
{
	struct snp_plat *p = calloc(1, sizeof(*p));
	const char *name = amd_product_name(o->product);
	int bits = o->ca_bits ? o->ca_bits : 4096;
	const EVP_MD *md = o->ca_sha256 ? EVP_sha256() : EVP_sha384();
	char cn[64];
	char tag[32];

	if (p == NULL || name == NULL) {
		free(p);
		return attest_err_set(err, ATTEST_E_INVALID, "devplat.snp",
				      "unknown product or out of memory");
	}
	p->product = o->product;
	p->not_before = o->not_before;
	p->not_after = o->not_after;
	p->serial = 0x10000;
	snprintf(tag, sizeof(tag), "ark");
	p->ark_key = ca_key(o->key_dir, tag, bits);
	p->ask_key = ca_key(o->key_dir, "ask", bits);
	p->asvk_key = ca_key(o->key_dir, "asvk", bits);
	if (p->ark_key == NULL || p->ask_key == NULL || p->asvk_key == NULL)
		goto fail;
	snprintf(cn, sizeof(cn), "ARK-%s", name);
	p->ark =
	    ca_cert(cn, NULL, p->ark_key, p->ark_key, p->serial++, o->not_before, o->not_after, true, md);
	snprintf(cn, sizeof(cn), "SEV-%s", name);
	p->ask = p->ark ? ca_cert(cn, p->ark, p->ask_key, p->ark_key, p->serial++, o->not_before,
				  o->not_after, false, md)
			: NULL;
	snprintf(cn, sizeof(cn), "SEV-VLEK-%s", name);
	p->asvk = p->ark ? ca_cert(cn, p->ark, p->asvk_key, p->ark_key, p->serial++, o->not_before,
				   o->not_after, false, md)
			 : NULL;
	if (p->ark == NULL || p->ask == NULL || p->asvk == NULL)
		goto fail;
	*out = p;
	return ATTEST_OK;
fail:
	snp_plat_free(p);
	return plat_err(err, "building the CA");
}

void snp_plat_free(struct snp_plat *p)
{
	if (p == NULL)
		return;
	EVP_PKEY_free(p->ark_key);
	EVP_PKEY_free(p->ask_key);
	EVP_PKEY_free(p->asvk_key);
	X509_free(p->ark);
	X509_free(p->ask);
	X509_free(p->asvk);
	free(p);
}

X509 *snp_plat_ark(const struct snp_plat *p)
{
	return p->ark;
}
X509 *snp_plat_ask(const struct snp_plat *p)
{
	return p->ask;
}
X509 *snp_plat_asvk(const struct snp_plat *p)
{
	return p->asvk;
}
EVP_PKEY *snp_plat_ark_key(const struct snp_plat *p)
{
	return p->ark_key;
}
enum amd_product snp_plat_product(const struct snp_plat *p)
{
	return p->product;
}

void snp_plat_leaf_free(struct snp_plat_leaf *l)
{
	X509_free(l->cert);
	EVP_PKEY_free(l->key);
	l->cert = NULL;
	l->key = NULL;
}

/* One non-critical extension 1.3.6.1.4.1.3704.1.<arc> with the given DER value. */
static int add_amd_ext(X509 *x, const char *arc, const uint8_t *der, size_t len)
{
	char oid[64];
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = 0;

	snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3704.1.%s", arc);
	obj = OBJ_txt2obj(oid, 1);
	if (obj && os && ASN1_OCTET_STRING_set(os, der, (int)len) &&
	    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL)
		ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

static int add_amd_int(X509 *x, const char *arc, unsigned v)
{
	uint8_t der[4] = {0x02, 1, (uint8_t)v, 0};
	size_t n = 3;

	if (v >= 0x80) { /* a positive INTEGER needs a leading zero (formats.md §5.6) */
		der[1] = 2, der[2] = 0, der[3] = (uint8_t)v;
		n = 4;
	}
	return add_amd_ext(x, arc, der, n);
}

static int add_amd_str(X509 *x, const char *arc, const char *s)
{
	uint8_t der[130];
	size_t n = strlen(s);

	if (n > 127)
		return -1;
	der[0] = 0x16, der[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		der[2 + i] = (uint8_t)s[i];
	return add_amd_ext(x, arc, der, n + 2);
}

/* The SPLs of tcb with the product's layout (§5.5, §5.6). */
/* The VCEK's SPL extensions (KDS spec table 9) from a TCB_VERSION in its product's layout (amd_tcb.h). */
static int add_spls(X509 *x, enum amd_product product, const uint8_t tcb[8], bool omit_ucode)
{
	struct snp_tcb t;
	int rc = 0;

	if (!snp_tcb_fields(product, tcb, &t))
		return -1;
	rc |= add_amd_int(x, "3.1", t.bootloader);
	rc |= add_amd_int(x, "3.2", t.tee);
	rc |= add_amd_int(x, "3.3", t.snp);
	for (int i = 4; i <= 7; i++) {
		char arc[16];

		snprintf(arc, sizeof(arc), "3.%d", i);
		rc |= add_amd_int(x, arc, 0);
	}
	if (!omit_ucode)
		rc |= add_amd_int(x, "3.8", t.microcode);
	if (product == AMD_PRODUCT_TURIN)
		rc |= add_amd_int(x, "3.9", t.fmc);
	return rc;
}

static int leaf_exts(struct snp_plat *p, X509 *x, const struct snp_plat_leaf_spec *s)
{
	static const uint8_t zero[64];
	char pname[32];
	int rc = 0;

	snprintf(pname, sizeof(pname), "%s-B0", amd_product_name(p->product));
	rc |= add_amd_int(x, "1", 0);
	rc |= add_amd_str(x, "2", s->product_name ? s->product_name : pname);
	rc |= add_spls(x, p->product, s->tcb ? s->tcb : zero, s->omit_spl_ucode);
	if ((!s->vlek && !s->omit_hwid) || s->add_hwid)
		rc |= add_amd_ext(x, "4", s->chip_id ? s->chip_id : zero, s->hwid_len ? s->hwid_len : 64);
	if (s->vlek || s->add_csp_id)
		rc |= add_amd_str(x, "5", s->csp_id ? s->csp_id : "test-csp");
	return rc;
}

int snp_plat_issue(struct snp_plat *p, const struct snp_plat_leaf_spec *s, struct snp_plat_leaf *out,
		   struct attest_err *err)
{
	X509 *issuer = s->issue_by_ark ? p->ark : s->vlek ? p->asvk : p->ask;
	EVP_PKEY *signer = s->issue_by_ark ? p->ark_key : s->vlek ? p->asvk_key : p->ask_key;
	int64_t nb = s->not_before ? s->not_before : p->not_before;
	int64_t na = s->not_after ? s->not_after : p->not_after;
	struct snp_plat_leaf l = {NULL, NULL};

	l.key = ec_generate(s->p256 ? "P-256" : "P-384");
	/* AMD issues VCEKs with serial number 0 (formats.md §5.6). */
	if (l.key != NULL)
		l.cert = cert_new(s->vlek ? "SEV-VLEK" : "SEV-VCEK", issuer, NULL, l.key, 0, nb, na);
	if (l.cert == NULL || leaf_exts(p, l.cert, s) ||
	    sign_pss(l.cert, NULL, signer, s->sha256_pss ? EVP_sha256() : EVP_sha384())) {
		snp_plat_leaf_free(&l);
		return plat_err(err, "issuing a leaf");
	}
	*out = l;
	return ATTEST_OK;
}

void snp_plat_report_defaults(const struct snp_plat *p, const uint8_t chip_id[64], const uint8_t tcb[8],
			      bool vlek, struct snp_report *r)
{
	memset(r, 0, sizeof(*r));
	r->version = 5;
	r->policy = SNP_POLICY_SMT | SNP_POLICY_RESERVED_ONE;
	r->signature_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->signing_key = vlek ? SNP_KEY_VLEK : SNP_KEY_VCEK;
	r->signer_info = r->signing_key << SNP_SIGNER_SIGNING_KEY_SHIFT;
	r->platform_info = SNP_PLATFORM_SMT_EN | SNP_PLATFORM_ECC_EN;
	memcpy(r->current_tcb, tcb, 8);
	memcpy(r->reported_tcb, tcb, 8);
	memcpy(r->committed_tcb, tcb, 8);
	memcpy(r->launch_tcb, tcb, 8);
	memcpy(r->chip_id, chip_id, 64);
	r->has_cpuid = true;
	r->cpuid_fam_id = p->product == AMD_PRODUCT_TURIN ? 0x1A : 0x19;
	r->cpuid_mod_id = p->product == AMD_PRODUCT_GENOA   ? 0x11
			  : p->product == AMD_PRODUCT_TURIN ? 0x02
							    : 0x01;
	r->cpuid_step = 1;
	r->current_major = r->committed_major = 1;
	r->current_minor = r->committed_minor = 55;
	r->current_build = r->committed_build = 35;
	r->has_mit_vectors = true;
	r->launch_mit_vector = r->current_mit_vector = 0xB;
	memset(r->report_id_ma, 0xFF, 32);
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void snp_plat_report_encode(const struct snp_report *r, uint8_t o[SNP_REPORT_SIZE])
{
	memset(o, 0, SNP_REPORT_SIZE);
	st32(o + SNP_OFF_VERSION, r->version);
	st32(o + SNP_OFF_GUEST_SVN, r->guest_svn);
	st64(o + SNP_OFF_POLICY, r->policy);
	memcpy(o + SNP_OFF_FAMILY_ID, r->family_id, 16);
	memcpy(o + SNP_OFF_IMAGE_ID, r->image_id, 16);
	st32(o + SNP_OFF_VMPL, r->vmpl);
	st32(o + SNP_OFF_SIGNATURE_ALGO, r->signature_algo);
	memcpy(o + SNP_OFF_CURRENT_TCB, r->current_tcb, 8);
	st64(o + SNP_OFF_PLATFORM_INFO, r->platform_info);
	st32(o + SNP_OFF_SIGNER_INFO, r->signer_info);
	memcpy(o + SNP_OFF_REPORT_DATA, r->report_data, 64);
	memcpy(o + SNP_OFF_MEASUREMENT, r->measurement, 48);
	memcpy(o + SNP_OFF_HOST_DATA, r->host_data, 32);
	memcpy(o + SNP_OFF_ID_KEY_DIGEST, r->id_key_digest, 48);
	memcpy(o + SNP_OFF_AUTHOR_KEY_DIGEST, r->author_key_digest, 48);
	memcpy(o + SNP_OFF_REPORT_ID, r->report_id, 32);
	memcpy(o + SNP_OFF_REPORT_ID_MA, r->report_id_ma, 32);
	memcpy(o + SNP_OFF_REPORTED_TCB, r->reported_tcb, 8);
	o[SNP_OFF_CPUID_FAM_ID] = r->cpuid_fam_id;
	o[SNP_OFF_CPUID_MOD_ID] = r->cpuid_mod_id;
	o[SNP_OFF_CPUID_STEP] = r->cpuid_step;
	memcpy(o + SNP_OFF_CHIP_ID, r->chip_id, 64);
	memcpy(o + SNP_OFF_COMMITTED_TCB, r->committed_tcb, 8);
	o[SNP_OFF_CURRENT_VERSION] = r->current_build;
	o[SNP_OFF_CURRENT_VERSION + 1] = r->current_minor;
	o[SNP_OFF_CURRENT_VERSION + 2] = r->current_major;
	o[SNP_OFF_COMMITTED_VERSION] = r->committed_build;
	o[SNP_OFF_COMMITTED_VERSION + 1] = r->committed_minor;
	o[SNP_OFF_COMMITTED_VERSION + 2] = r->committed_major;
	memcpy(o + SNP_OFF_LAUNCH_TCB, r->launch_tcb, 8);
	st64(o + SNP_OFF_LAUNCH_MIT_VECTOR, r->launch_mit_vector);
	st64(o + SNP_OFF_CURRENT_MIT_VECTOR, r->current_mit_vector);
	memcpy(o + SNP_OFF_SIG_R, r->sig_r, SNP_SIG_COMPONENT_SIZE);
	memcpy(o + SNP_OFF_SIG_S, r->sig_s, SNP_SIG_COMPONENT_SIZE);
}

int snp_plat_report_sign(uint8_t report[SNP_REPORT_SIZE], EVP_PKEY *key, struct attest_err *err)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t dlen = sizeof(der);
	const uint8_t *q = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	int ok = 0;

	if (mc != NULL && EVP_DigestSignInit(mc, NULL, EVP_sha384(), NULL, key) == 1 &&
	    EVP_DigestSign(mc, der, &dlen, report, SNP_SIGNED_SIZE) == 1 &&
	    (sig = d2i_ECDSA_SIG(NULL, &q, (long)dlen)) != NULL) {
		ECDSA_SIG_get0(sig, &r, &s);
		/* §5.2: r and s little-endian, zero-padded to 72 bytes. */
		ok = BN_bn2lebinpad(r, report + SNP_OFF_SIG_R, SNP_SIG_COMPONENT_SIZE) > 0 &&
		     BN_bn2lebinpad(s, report + SNP_OFF_SIG_S, SNP_SIG_COMPONENT_SIZE) > 0;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(mc);
	return ok ? ATTEST_OK : plat_err(err, "signing the report");
}

int snp_plat_crl(struct snp_plat *p, bool vlek, bool revoke_ca, int64_t this_update, int64_t next_update,
		 X509_CRL **out, struct attest_err *err)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)this_update),
		  *t2 = ASN1_TIME_set(NULL, (time_t)next_update);
	X509_REVOKED *rev = NULL;
	int ok = crl && t1 && t2 && X509_CRL_set_version(crl, 1) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(p->ark)) &&
		 X509_CRL_set1_lastUpdate(crl, t1) && X509_CRL_set1_nextUpdate(crl, t2);

	if (ok && revoke_ca) {
		rev = X509_REVOKED_new();
		ok = rev &&
		     X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(vlek ? p->asvk : p->ask)) &&
		     X509_REVOKED_set_revocationDate(rev, t1) && X509_CRL_add0_revoked(crl, rev);
		if (!ok)
			X509_REVOKED_free(rev);
	}
	ok = ok && X509_CRL_sort(crl) && sign_pss(NULL, crl, p->ark_key, EVP_sha384()) == 0;
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	if (!ok) {
		X509_CRL_free(crl);
		return plat_err(err, "building the CRL");
	}
	*out = crl;
	return ATTEST_OK;
}

uint8_t *snp_plat_der(X509 *x, size_t *len)
{
	uint8_t *p = NULL, *copy;
	int n = i2d_X509(x, &p);

	if (n <= 0)
		return NULL;
	copy = malloc((size_t)n);
	if (copy != NULL)
		memcpy(copy, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return copy;
}

char *snp_plat_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

uint8_t *snp_plat_crl_der(X509_CRL *crl, size_t *len)
{
	uint8_t *p = NULL, *copy;
	int n = i2d_X509_CRL(crl, &p);

	if (n <= 0)
		return NULL;
	copy = malloc((size_t)n);
	if (copy != NULL)
		memcpy(copy, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return copy;
}

static void put32(uint8_t *p, uint32_t v)
{
	st32(p, v);
}

int snp_plat_hcl_report(struct snp_report *r, EVP_PKEY *key, const char *runtime_json, uint8_t **out,
			size_t *len, struct attest_err *err)
{
	size_t v = strlen(runtime_json), n = 0x4D4 + v;
	uint8_t *h = calloc(1, n);
	int rc;

	if (h == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "devplat.snp", "out of memory");
	memset(r->report_data, 0, 64);
	if (sha256(runtime_json, v, r->report_data) != 0) {
		free(h);
		return plat_err(err, "hashing the runtime data");
	}
	snp_plat_report_encode(r, h + 0x20);
	if ((rc = snp_plat_report_sign(h + 0x20, key, err)) != ATTEST_OK) {
		free(h);
		return rc;
	}
	put32(h + 0x000, 0x414C4348u); /* "HCLA" */
	put32(h + 0x004, 1);
	put32(h + 0x008, (uint32_t)n);
	put32(h + 0x00C, 2); /* IGVM_REQUEST_TYPE AkCert */
	put32(h + 0x4C0, (uint32_t)(20 + v));
	put32(h + 0x4C4, 1);
	put32(h + 0x4C8, 2); /* SNP */
	put32(h + 0x4CC, 1); /* SHA-256 */
	put32(h + 0x4D0, (uint32_t)v);
	memcpy(h + 0x4D4, runtime_json, v);
	*out = h;
	*len = n;
	return ATTEST_OK;
}

/* base64url of a BIGNUM's big-endian bytes (JWK n / e). */
static char *bn_b64url(const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	uint8_t *raw = malloc(n > 0 ? (size_t)n : 1);
	char *s = NULL;

	if (raw != NULL && BN_bn2bin(bn, raw) == n)
		s = b64url_encode(raw, (size_t)n);
	free(raw);
	return s;
}

char *snp_plat_hcl_runtime_json(EVP_PKEY *ak)
{
	BIGNUM *n = NULL, *e = NULL;
	char *ns = NULL, *es = NULL, *out = NULL;
	struct buf b;

	buf_init(&b, 64 * 1024);
	if (EVP_PKEY_get_bn_param(ak, "n", &n) == 1 && EVP_PKEY_get_bn_param(ak, "e", &e) == 1 &&
	    (ns = bn_b64url(n)) != NULL && (es = bn_b64url(e)) != NULL &&
	    buf_printf(&b,
		       "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\"%s\","
		       "\"n\":\"%s\"}],\"vm-configuration\":{\"console-enabled\":true,\"secure-boot\":true,"
		       "\"tpm-enabled\":true,\"tpm-persisted\":true,\"vmUniqueId\":"
		       "\"00000000-0000-4000-8000-000000000001\"}}",
		       es, ns) == 0)
		out = (char *)buf_steal(&b, NULL);
	buf_free(&b);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	return out;
}
