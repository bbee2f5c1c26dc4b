/*
 * The AMD SEV-SNP PKI: see amd_certs.h. Layouts and names from formats.md
 * §5.6 (VCEK/VLEK extensions) and §5.7 (ARK/ASK/ASVK); AMD VCEK/KDS
 * specification, pub. 57230.
 */
#include "evidence/amd_certs.h"

#include "base/cur.h"
#include "crypto/crypto.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>

/* DER of the OID arc 1.3.6.1.4.1.3704.1 (AMD SEV extensions), without tag/length. */
static const uint8_t AMD_ARC[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0x9C, 0x78, 0x01};

/* Sub-arcs after AMD_ARC. */
enum { ARC_STRUCT_VERSION = 1, ARC_PRODUCT_NAME = 2, ARC_SPL = 3, ARC_HWID = 4, ARC_CSP_ID = 5 };

int amd_cert_load(const uint8_t *p, size_t len, X509 **out, const char *code, struct attest_err *err)
{
	static const char pem_tag[] = "-----BEGIN";
	STACK_OF(X509) *sk = NULL;
	int rc;

	if (len >= sizeof(pem_tag) - 1 && memchr(p, '-', len < 64 ? len : 64) != NULL &&
	    memmem(p, len < 64 ? len : 64, pem_tag, sizeof(pem_tag) - 1) != NULL) {
		if ((rc = x509_stack_from_pem(p, len, &sk, code, err)) != ATTEST_OK)
			return rc;
		if (sk_X509_num(sk) != 1) {
			sk_X509_pop_free(sk, X509_free);
			return attest_err_set(err, ATTEST_E_PARSE, code, "expected one PEM certificate");
		}
		*out = sk_X509_shift(sk);
		sk_X509_free(sk);
		return ATTEST_OK;
	}
	return x509_from_der(p, len, out, code, err);
}

int amd_builtin_cert(enum amd_product product, enum amd_cert_role role, X509 **out, struct attest_err *err)
{
	const char *pem = amd_builtin_pem(product, role);

	if (pem == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "snp.chain.builtin",
				      "no built-in certificate for this product");
	return amd_cert_load((const uint8_t *)pem, strlen(pem), out, "snp.chain.builtin", err);
}

void amd_cert_cn(X509 *cert, char *buf, size_t len)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int n = name ? X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len) : -1;

	if (n < 0 && len > 0)
		buf[0] = '\0';
}

/* ---- Extensions ---------------------------------------------------------- */

/* Reads one DER TLV of the given tag from c (short or long length form). */
static int der_tlv(struct cur *c, uint8_t tag, const uint8_t **val, size_t *vlen)
{
	uint8_t t, l0, lb;
	size_t n = 0;

	if (cur_u8(c, &t) || t != tag || cur_u8(c, &l0))
		return -1;
	if (l0 < 0x80) {
		n = l0;
	} else {
		unsigned k = l0 & 0x7F;

		if (k == 0 || k > 2)
			return -1; /* extension values are small */
		for (unsigned i = 0; i < k; i++) {
			if (cur_u8(c, &lb))
				return -1;
			n = n << 8 | lb;
		}
	}
	if (cur_take(c, n, val))
		return -1;
	*vlen = n;
	return 0;
}

/* A non-negative DER INTEGER of at most 8 value bytes, minimally encoded. */
static int der_uint(const uint8_t *p, size_t n, int64_t *out)
{
	struct cur c;
	const uint8_t *v;
	size_t vlen;
	uint64_t x = 0;

	cur_init(&c, p, n);
	if (der_tlv(&c, 0x02, &v, &vlen) || !cur_empty(&c) || vlen == 0 || vlen > 8 || (v[0] & 0x80))
		return -1;
	if (vlen > 1 && v[0] == 0 && !(v[1] & 0x80))
		return -1;
	for (size_t i = 0; i < vlen; i++)
		x = x << 8 | v[i];
	if (x > INT64_MAX)
		return -1;
	*out = (int64_t)x;
	return 0;
}

/* A DER IA5String of printable ASCII into buf (NUL-terminated). */
static int der_ia5(const uint8_t *p, size_t n, char *buf, size_t buflen)
{
	struct cur c;
	const uint8_t *v;
	size_t vlen;

	cur_init(&c, p, n);
	if (der_tlv(&c, 0x16, &v, &vlen) || !cur_empty(&c) || vlen == 0 || vlen >= buflen)
		return -1;
	for (size_t i = 0; i < vlen; i++)
		if (v[i] < 0x20 || v[i] > 0x7E)
			return -1;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return 0;
}

static int ext_err(struct attest_err *err, const char *what)
{
	return attest_err_set(err, ATTEST_E_PARSE, "snp.vcek.extension",
			      "the VCEK/VLEK extension %s is malformed", what);
}

/* One AMD extension: sub-arcs (after AMD_ARC) a1[.a2] with DER value v. */
static int ext_one(struct amd_cert_ext *e, const uint8_t *arc, size_t arclen, const uint8_t *v, size_t vlen,
		   struct attest_err *err)
{
	if (arclen == 1 && arc[0] == ARC_STRUCT_VERSION) {
		if (e->has_struct_version || der_uint(v, vlen, &e->struct_version))
			return ext_err(err, "structVersion (.1)");
		e->has_struct_version = true;
	} else if (arclen == 1 && arc[0] == ARC_PRODUCT_NAME) {
		if (e->has_product_name || der_ia5(v, vlen, e->product_name, sizeof(e->product_name)))
			return ext_err(err, "productName (.2)");
		e->has_product_name = true;
	} else if (arclen == 2 && arc[0] == ARC_SPL && arc[1] >= 1 && arc[1] <= AMD_SPL_MAX) {
		if (e->has_spl[arc[1]] || der_uint(v, vlen, &e->spl[arc[1]]) || e->spl[arc[1]] > 255)
			return ext_err(err, "SPL (.3.x)");
		e->has_spl[arc[1]] = true;
	} else if (arclen == 1 && arc[0] == ARC_HWID) {
		/* Raw bytes, no inner DER (§5.6); 64 bytes, or 8 on Turin. */
		if (e->has_hwid || (vlen != 64 && vlen != 8))
			return ext_err(err, "hwID (.4)");
		memcpy(e->hwid, v, vlen);
		e->hwid_len = vlen;
		e->has_hwid = true;
	} else if (arclen == 1 && arc[0] == ARC_CSP_ID) {
		if (e->has_csp_id || der_ia5(v, vlen, e->csp_id, sizeof(e->csp_id)))
			return ext_err(err, "csp_id (.5)");
		e->has_csp_id = true;
	}
	/* Other arcs under AMD's are ignored: later KDS versions may add some. */
	return ATTEST_OK;
}

int amd_cert_ext_parse(X509 *cert, struct amd_cert_ext *out, struct attest_err *err)
{
	struct amd_cert_ext e;
	int n = X509_get_ext_count(cert);
	int rc;

	memset(&e, 0, sizeof(e));
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *x = X509_get_ext(cert, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(x);
		const ASN1_OCTET_STRING *val = X509_EXTENSION_get_data(x);
		const uint8_t *oid = OBJ_get0_data(obj);
		size_t oidlen = OBJ_length(obj);

		if (oid == NULL || oidlen <= sizeof(AMD_ARC) || memcmp(oid, AMD_ARC, sizeof(AMD_ARC)) != 0)
			continue;
		if ((rc = ext_one(&e, oid + sizeof(AMD_ARC), oidlen - sizeof(AMD_ARC),
				  ASN1_STRING_get0_data(val), (size_t)ASN1_STRING_length(val), err)) !=
		    ATTEST_OK)
			return rc;
	}
	*out = e;
	return ATTEST_OK;
}

void amd_cert_ext_tcb(const struct amd_cert_ext *e, struct snp_tcb *out)
{
	memset(out, 0, sizeof(*out));
	out->fmc = (uint8_t)e->spl[AMD_SPL_FMC];
	out->bootloader = (uint8_t)e->spl[AMD_SPL_BL];
	out->tee = (uint8_t)e->spl[AMD_SPL_TEE];
	out->snp = (uint8_t)e->spl[AMD_SPL_SNP];
	out->microcode = (uint8_t)e->spl[AMD_SPL_UCODE];
}

/* ---- Chain ---------------------------------------------------------------- */

int amd_chain_classify(STACK_OF(X509) * certs, struct amd_chain *out, struct attest_err *err)
{
	struct amd_chain ch;
	char cn[64];

	memset(&ch, 0, sizeof(ch));
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		X509 **slot;

		amd_cert_cn(x, cn, sizeof(cn));
		if (strcmp(cn, "SEV-VCEK") == 0 || strcmp(cn, "SEV-VLEK") == 0)
			slot = &ch.leaf;
		else if (strncmp(cn, "SEV-", 4) == 0)
			slot = &ch.ask;
		else if (strncmp(cn, "ARK-", 4) == 0)
			slot = &ch.ark;
		else
			return attest_err_set(
			    err, ATTEST_E_PARSE, "snp.chain.unknown",
			    "certificate %d (CN \"%s\") is not an AMD ARK, ASK, VCEK or VLEK", i, cn);
		if (*slot != NULL)
			return attest_err_set(err, ATTEST_E_PARSE, "snp.chain.duplicate",
					      "certificate %d (CN \"%s\") repeats a role", i, cn);
		*slot = x;
	}
	*out = ch;
	return ATTEST_OK;
}

/* RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48 (§5.7). */
static bool sig_is_pss384(X509 *x)
{
	const X509_ALGOR *alg = NULL;
	RSA_PSS_PARAMS *pss = NULL;
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype;
	bool ok = false;

	X509_get0_signature(NULL, &alg, x);
	if (alg == NULL)
		return false;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE)
		return false;
	pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
	if (pss == NULL)
		return false;
	if (pss->hashAlgorithm != NULL && OBJ_obj2nid(pss->hashAlgorithm->algorithm) == NID_sha384 &&
	    pss->saltLength != NULL && ASN1_INTEGER_get(pss->saltLength) == 48)
		ok = true;
	RSA_PSS_PARAMS_free(pss);
	return ok;
}

static int check_names(enum amd_product product, bool vlek, const struct amd_chain *ch, X509 *ask,
		       struct attest_err *err)
{
	const char *pname = amd_product_name(product);
	char cn[64], want[64];

	amd_cert_cn(ch->leaf, cn, sizeof(cn));
	if (strcmp(cn, vlek ? "SEV-VLEK" : "SEV-VCEK") != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.kind",
				      "the report is signed by a %s but the leaf certificate is \"%s\"",
				      vlek ? "VLEK" : "VCEK", cn);
	amd_cert_cn(ask, cn, sizeof(cn));
	snprintf(want, sizeof(want), vlek ? "SEV-VLEK-%s" : "SEV-%s", pname);
	if (strcmp(cn, want) != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.product",
				      "the intermediate is \"%s\", a %s report needs \"%s\"", cn, pname,
				      want);
	if (ch->ark != NULL) {
		amd_cert_cn(ch->ark, cn, sizeof(cn));
		snprintf(want, sizeof(want), "ARK-%s", pname);
		if (strcmp(cn, want) != 0)
			return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.product",
					      "the root is \"%s\", a %s report needs \"%s\"", cn, pname,
					      want);
	}
	return ATTEST_OK;
}

static bool key_is(X509 *x, int type, int min_bits)
{
	EVP_PKEY *k = X509_get0_pubkey(x);

	return k != NULL && EVP_PKEY_get_base_id(k) == type && EVP_PKEY_get_bits(k) >= min_bits;
}

static int check_algorithms(X509 *leaf, X509 *ask, X509 *ark, struct attest_err *err)
{
	EVP_PKEY *lk = X509_get0_pubkey(leaf);
	char group[32] = "";
	size_t glen = 0;

	if (lk == NULL || EVP_PKEY_get_base_id(lk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(lk, "group", group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "secp384r1") != 0)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.key",
				      "the VCEK/VLEK key is not EC P-384");
	if (!sig_is_pss384(leaf))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.algorithm",
				      "the VCEK/VLEK is not signed with RSASSA-PSS SHA-384 (salt 48)");
	if (!key_is(ask, EVP_PKEY_RSA, 4096) && !key_is(ask, EVP_PKEY_RSA_PSS, 4096))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.key",
				      "the ASK/ASVK key is not RSA-4096");
	if (!sig_is_pss384(ask))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.algorithm",
				      "the ASK/ASVK is not signed with RSASSA-PSS SHA-384 (salt 48)");
	if (ark != NULL && ((!key_is(ark, EVP_PKEY_RSA, 4096) && !key_is(ark, EVP_PKEY_RSA_PSS, 4096)) ||
			    !sig_is_pss384(ark)))
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.algorithm",
				      "the ARK is not RSA-4096 self-signed with RSASSA-PSS SHA-384");
	return ATTEST_OK;
}

/*
 * Among several anchors of the same name (attestd --dev trusts AMD's
 * ARK-Milan and a synthetic one), keeps those whose key signed the ASK:
 * OpenSSL picks an issuer by name alone and would stop at the first.
 * One anchor (production) costs nothing here.
 */
static void keep_issuers_of(STACK_OF(X509) * sk, X509 *ask)
{
	int n = sk_X509_num(sk), kept = 0;

	if (n < 2)
		return;
	for (int i = 0; i < n; i++)
		kept += X509_verify(ask, X509_get0_pubkey(sk_X509_value(sk, i))) == 1;
	ERR_clear_error();
	if (kept == 0)
		return; /* the chain check names the failure */
	for (int i = n - 1; i >= 0; i--) {
		X509 *a = sk_X509_value(sk, i);

		if (X509_verify(ask, X509_get0_pubkey(a)) != 1) {
			sk_X509_delete(sk, i);
			X509_free(a);
		}
	}
	ERR_clear_error();
}

/* The anchors for product: ARK-<P> among the configured ones, or the built-in. */
static int product_anchors(const struct evidence_ctx *ctx, enum amd_product product, STACK_OF(X509) * *out,
			   struct attest_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	STACK_OF(X509) *conf = ctx->anchors ? ctx->anchors->amd_arks : NULL;
	char cn[64], want[64];
	X509 *x = NULL;
	int rc;

	if (sk == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	snprintf(want, sizeof(want), "ARK-%s", amd_product_name(product));
	if (conf == NULL) {
		if ((rc = amd_builtin_cert(product, AMD_ROLE_ARK, &x, err)) != ATTEST_OK)
			goto fail;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			rc = attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
			goto fail;
		}
	} else {
		for (int i = 0; i < sk_X509_num(conf); i++) {
			x = sk_X509_value(conf, i);
			amd_cert_cn(x, cn, sizeof(cn));
			if (strcmp(cn, want) == 0 && (!X509_up_ref(x) || !sk_X509_push(sk, x))) {
				rc = attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
				goto fail;
			}
		}
	}
	if (sk_X509_num(sk) == 0) {
		rc = attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.untrusted_root",
				    "no trusted %s is configured", want);
		goto fail;
	}
	*out = sk;
	return ATTEST_OK;
fail:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Narrows [*from, *until) to x's validity window. */
static void window_narrow(X509 *x, int64_t *from, int64_t *until)
{
	int64_t nb = x509_time_unix(X509_get0_notBefore(x), 0), na = x509_time_unix(X509_get0_notAfter(x), 0);

	if (nb > *from)
		*from = nb;
	if (na < *until)
		*until = na;
}

/*
 * A supplied ARK is never trusted by itself: it must be self-signed,
 * RSA-PSS, and carry the key and name of an anchor. The anchor is what the
 * chain ends in.
 */
static int check_supplied_ark(X509 *ark, STACK_OF(X509) * anchors, struct attest_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(ark);

	if (k == NULL || X509_verify(ark, k) != 1) {
		ERR_clear_error();
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.signature",
				      "the supplied ARK's self-signature does not verify");
	}
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		X509 *a = sk_X509_value(anchors, i);

		if (X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(ark)) == 0 &&
		    EVP_PKEY_eq(X509_get0_pubkey(a), k) == 1)
			return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.untrusted_root",
			      "the supplied ARK is not a trusted AMD root");
}

/* The CRL (§5.7: signed by the ARK) must verify and not list the ASK. */
static int check_crl(X509_CRL *crl, X509 *anchor, X509 *ask, int64_t now, int64_t *until,
		     struct attest_err *err)
{
	X509_REVOKED *rev = NULL;
	int64_t next;
	int rc;

	if ((rc = x509_crl_verify(crl, anchor, now, "snp", err)) != ATTEST_OK)
		return rc;
	if (X509_CRL_get0_by_cert(crl, &rev, ask) == 1)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.revoked",
				      "AMD's CRL revokes the ASK/ASVK");
	next = x509_time_unix(X509_CRL_get0_nextUpdate(crl), 0);
	if (next < *until)
		*until = next;
	return ATTEST_OK;
}

/* The configured anchor that verified the ASK (for the CRL's signature). */
static X509 *anchor_of(STACK_OF(X509) * chain)
{
	int n = chain ? sk_X509_num(chain) : 0;

	return n > 0 ? sk_X509_value(chain, n - 1) : NULL;
}

static int resolve_product(enum amd_product product, const struct amd_cert_ext *ext, enum amd_product *out,
			   struct attest_err *err)
{
	enum amd_product leaf_p = AMD_PRODUCT_UNKNOWN;

	if (ext->has_product_name)
		leaf_p = amd_product_from_name(ext->product_name, strlen(ext->product_name));
	if (product != AMD_PRODUCT_UNKNOWN && leaf_p != AMD_PRODUCT_UNKNOWN && leaf_p != product)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.vcek.product",
				      "the report comes from a %s CPU but the VCEK/VLEK is for \"%s\"",
				      amd_product_name(product), ext->product_name);
	if (product == AMD_PRODUCT_UNKNOWN)
		product = leaf_p;
	if (product == AMD_PRODUCT_UNKNOWN)
		return attest_err_set(err, ATTEST_E_VERIFY, "snp.report.product",
				      "neither the report nor the VCEK/VLEK names a known product line");
	*out = product;
	return ATTEST_OK;
}

struct chain_work {
	X509 *ask;
	STACK_OF(X509) * anchors;
	STACK_OF(X509) * untrusted;
	STACK_OF(X509) * verified;
};

static void chain_work_free(struct chain_work *w)
{
	X509_free(w->ask);
	sk_X509_pop_free(w->anchors, X509_free);
	sk_X509_free(w->untrusted);
	sk_X509_pop_free(w->verified, X509_free);
}

static int chain_path(const struct evidence_ctx *ctx, const struct amd_chain *ch, struct chain_work *w,
		      struct attest_err *err)
{
	struct x509_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.time = ctx->now;
	o.anchors = w->anchors;
	o.max_depth = 2;
	w->untrusted = sk_X509_new_null();
	if (w->untrusted == NULL || !sk_X509_push(w->untrusted, w->ask))
		return attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
	return x509_chain_verify(ch->leaf, w->untrusted, &o, &w->verified, "snp.chain", err);
}

int amd_chain_verify(const struct evidence_ctx *ctx, enum amd_product product, bool vlek,
		     const struct amd_chain *ch, struct amd_chain_result *res, struct attest_err *err)
{
	struct amd_chain_result r;
	struct chain_work w;
	X509 *anchor;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&w, 0, sizeof(w));
	if (ch->leaf == NULL)
		return attest_err_set(err, ATTEST_E_COLLATERAL, "snp.vcek.missing",
				      "no VCEK or VLEK certificate");
	if ((rc = amd_cert_ext_parse(ch->leaf, &r.ext, err)) != ATTEST_OK ||
	    (rc = resolve_product(product, &r.ext, &r.product, err)) != ATTEST_OK)
		return rc;
	if (ch->ask != NULL && X509_up_ref(ch->ask))
		w.ask = ch->ask;
	else if ((rc = amd_builtin_cert(r.product, vlek ? AMD_ROLE_ASVK : AMD_ROLE_ASK, &w.ask, err)) !=
		 ATTEST_OK)
		return rc;
	if ((rc = check_names(r.product, vlek, ch, w.ask, err)) != ATTEST_OK ||
	    (rc = check_algorithms(ch->leaf, w.ask, ch->ark, err)) != ATTEST_OK ||
	    (rc = product_anchors(ctx, r.product, &w.anchors, err)) != ATTEST_OK)
		goto out;
	keep_issuers_of(w.anchors, w.ask);
	if ((ch->ark != NULL && (rc = check_supplied_ark(ch->ark, w.anchors, err)) != ATTEST_OK) ||
	    (rc = chain_path(ctx, ch, &w, err)) != ATTEST_OK)
		goto out;
	/* Exactly leaf <- ASK/ASVK <- ARK: a leaf the ARK signed directly is not an AMD chain. */
	if (sk_X509_num(w.verified) != 3 || X509_cmp(sk_X509_value(w.verified, 1), w.ask) != 0) {
		rc = attest_err_set(err, ATTEST_E_VERIFY, "snp.chain.path",
				    "the VCEK/VLEK is not issued by the %s", vlek ? "ASVK" : "ASK");
		goto out;
	}
	anchor = anchor_of(w.verified);
	r.valid_from = INT64_MIN;
	r.valid_until = INT64_MAX;
	for (int i = 0; i < sk_X509_num(w.verified); i++)
		window_narrow(sk_X509_value(w.verified, i), &r.valid_from, &r.valid_until);
	if (ch->crl != NULL) {
		if ((rc = check_crl(ch->crl, anchor, w.ask, ctx->now, &r.valid_until, err)) != ATTEST_OK)
			goto out;
		r.crl_checked = true;
	}
	r.vlek = vlek;
	r.leaf_key = X509_get_pubkey(ch->leaf);
	if (r.leaf_key == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "snp.nomem", "out of memory");
		goto out;
	}
	*res = r;
	rc = ATTEST_OK;
out:
	chain_work_free(&w);
	return rc;
}
