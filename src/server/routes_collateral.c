/*
 * Collateral import and export (issue 12; docs/receipts-and-bundles.md):
 *
 *   POST /management/collateral[?force=1][&dry_run=1] a collateral bundle (collateral/bundle.h);
 *                                      dry_run: verify only, store nothing
 *   GET  /management/collateral[?key=K | ?after=K] the durable cache (a page of it, "next"
 *                                      naming where the next page starts) or one item, as a bundle
 *
 * Administrator role, like the rest of /management. An import verifies
 * EVERY item before it stores ANY (a bundle is all or nothing, so no
 * half-fed cache): the signature chain to the Intel SGX Root CA or the AMD
 * ARK of the product (the server's anchors: built-in, plus development
 * anchors when configured), the validity of every certificate and the
 * item's own dates at the server's time, and that the key names what the
 * item is (a TCB Info for another FMSPC, a CRL of the other CA, a VCEK of
 * another chip or TCB is refused), and that no item is older than the one
 * stored under its key (no rollback past a TCB Recovery; ?force=1 allows
 * it, audited like any import). Then all items are written to the store's
 * collateral table under the caching source's keys (cached.h) with the
 * audit row "collateral.import" in ONE transaction (all or nothing), and
 * installed in the running caching source when there is one (so an offline
 * attestd serves them at once).
 * Intel's certificates and CRLs are read and verified by the strict DER
 * reader and chain verifier the quote verifiers use (crypto/x509_der.h
 * through evidence/pck.h), so what an import lets into the cache is what a
 * quote verification accepts from it. Verifiers still verify every item on
 * use: this check keeps garbage out of the cache and tells the operator
 * which item is wrong, and where (the part, the certificate).
 */
#include "base/codec.h"
#include "base/timeutil.h"
#include "collateral/bundle.h"
#include "collateral/cached.h"
#include "crypto/crypto.h"
#include "crypto/x509_der.h"
#include "evidence/amd_certs.h"
#include "evidence/pck.h"
#include "evidence/snp.h"
#include "evidence/tcb.h"
#include "server/http.h"
#include "server/pipeline_routes.h"
#include "server/routes.h"
#include "server/server.h"
#include "store/store.h"

#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLL_ROUTE     (HTTP_ROUTE_SERVICE | HTTP_ROUTE_ADMIN)
#define COLL_AUDIT_MAX 64 /* keys named in one audit record (the count is always there) */
/* One export page: base64 of this much stays well below HTTP_RESP_BODY_MAX. */
#define COLL_PAGE_ITEMS 512
#define COLL_PAGE_BYTES (4u * 1024 * 1024)

/* What an import checks against. */
struct vctx {
	struct evidence_ctx ectx;
	struct evidence_anchors anchors; /* the pipeline's (borrowed) or the built-in ones (owned) */
	bool own;
	/* The Intel roots as DER views (owned): Intel items are read and verified by the strict DER
	 * reader the quote verifiers use (crypto/x509_der.h, evidence/pck.h), so one verifier decides
	 * what an import lets into the cache and what a quote accepts from it. */
	struct intel_der_anchors *intel;
	int64_t grace; /* stale-while-revalidate of TCB Info / identities (cached.h) */
};

static int vctx_init(struct srv *srv, int64_t now, struct vctx *v, struct attest_err *err)
{
	const struct pipeline_routes *pr = srv->pipeline;
	int rc = ATTEST_OK;

	memset(v, 0, sizeof(*v));
	v->grace = srv->cfg->collateral_grace;
	if (pr != NULL && pr->ctx != NULL && pr->ctx->anchors.intel_sgx_roots != NULL) {
		v->anchors = pr->ctx->anchors;
	} else {
		v->own = true;
		rc = intel_sgx_default_roots(&v->anchors.intel_sgx_roots, err);
	}
	if (rc == ATTEST_OK)
		rc = intel_der_anchors_new(v->anchors.intel_sgx_roots, &v->intel, err);
	v->ectx.now = now;
	v->ectx.anchors = &v->anchors;
	return rc;
}

static void vctx_clear(struct vctx *v)
{
	intel_der_anchors_free(v->intel);
	if (v->own)
		sk_X509_pop_free(v->anchors.intel_sgx_roots, X509_free);
}

static int refuse(struct attest_err *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(struct attest_err *err, const char *name, const char *fmt, ...)
{
	char msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return attest_err_set(err, ATTEST_E_VERIFY, name, "%s", msg);
}

/*
 * The item's issuer chain read by the strict DER reader (every certificate
 * in Intel's profile); *chain is filled (caller frees) even on failure.
 * Errors: collateral.import.chain (none), collateral.import.chain.parse
 * (PEM, count), collateral.import.chain.der.<rule> (x509_der.h), the
 * message naming the certificate.
 */
static int issuer_chain(const struct vctx *v, const struct bundle_item *it, struct intel_der_chain *chain,
			struct attest_err *err)
{
	int rc;

	if (it->blob.chain == NULL || it->blob.chain_len == 0)
		return refuse(err, "collateral.import.chain", "%s has no issuer chain", it->key);
	rc = intel_pem_chain_der(it->blob.chain, it->blob.chain_len, v->intel, chain,
				 "collateral.import.chain", err);
	if (rc != ATTEST_OK)
		attest_err_prefix(err, "issuer chain: ");
	return rc;
}

/*
 * An Intel issuer chain (the signer, then at most the root) verified to the
 * Intel roots as the quote verifiers verify it (intel_der_signer_verify),
 * the signer holding the key usage `usage`; the signer is chain->cert[0].
 * Revocation by the Root CA CRL is checked on use, with the CRL of that time.
 */
static int intel_signer(const struct vctx *v, const struct bundle_item *it, unsigned usage,
			struct intel_der_chain *chain, struct attest_err *err)
{
	int rc = issuer_chain(v, it, chain, err);

	if (rc == ATTEST_OK &&
	    (rc = intel_der_signer_verify(chain, v->intel, NULL, true, v->ectx.now, usage, NULL,
					  "collateral.import.chain", err)) != ATTEST_OK)
		attest_err_prefix(err, "issuer chain: ");
	return rc;
}

/* The item's own dates: a CRL not past nextUpdate, TCB Info / identities within the grace. */
static int check_dates(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	enum cached_kind k = bundle_cached_kind(it->kind);
	int64_t iss, nu, now = v->ectx.now;
	int rc = cached_item_dates(k, &it->blob, now, 0, &iss, &nu, err);

	if (rc != ATTEST_OK || k == CACHED_CERT)
		return rc;
	if (iss > now + 300)
		return refuse(err, "collateral.import.not_yet_valid", "%s is issued in the future", it->key);
	if (now >= nu + (k == CACHED_CRL ? 0 : v->grace))
		return refuse(err, "collateral.import.expired", "%s is past its nextUpdate", it->key);
	return ATTEST_OK;
}

/*
 * Whether the item's key names what its body is: the base key, optionally
 * with "/early" (not visible in the body) or "/eval<N>" (N must be the
 * body's tcbEvaluationDataNumber).
 */
static bool key_names(const char *item_key, const char *base, int64_t eval_num)
{
	size_t n = strlen(base);
	struct collateral_select sel;

	if (strncmp(item_key, base, n) != 0 || !collateral_select_parse_suffix(item_key + n, '/', &sel))
		return false;
	return sel.eval_num == 0 || (int64_t)sel.eval_num == eval_num;
}

/* A TCB Info or QE identity is signed by Intel's TCB Signing certificate, as the quote verifiers require. */
static int tcb_signer(const struct vctx *v, const struct bundle_item *it, struct intel_der_chain *chain,
		      EVP_PKEY **key, struct attest_err *err)
{
	char cn[128];
	int rc = intel_signer(v, it, X509_DER_KU_DIGITAL_SIGNATURE, chain, err);

	if (rc != ATTEST_OK)
		return rc;
	x509_der_name_cn(chain->cert[0]->subject, cn, sizeof(cn));
	if (strstr(cn, "SGX TCB Signing") == NULL)
		return refuse(err, "collateral.import.chain.subject",
			      "%s is signed by \"%s\", not the Intel SGX TCB Signing certificate", it->key,
			      cn);
	*key = chain->cert[0]->key; /* borrowed from the chain */
	return ATTEST_OK;
}

static int verify_tcb_or_qe(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	struct intel_der_chain chain = {0};
	struct tcb_info *ti = NULL;
	struct qe_identity *qi = NULL;
	EVP_PKEY *signer = NULL;
	char key[CACHED_KEY_MAX] = "";
	int rc = tcb_signer(v, it, &chain, &signer, err);

	if (rc == ATTEST_OK && it->kind == BUNDLE_TCB_INFO &&
	    (rc = tcb_info_parse(it->blob.data, it->blob.len, &ti, "collateral.import", err)) == ATTEST_OK &&
	    (rc = tcb_info_verify_signature(ti, signer, "collateral.import", err)) == ATTEST_OK)
		cached_key_tcb_info(ti->id == TCB_INFO_ID_TDX ? COLLATERAL_TEE_TDX : COLLATERAL_TEE_SGX,
				    ti->fmspc, key);
	if (rc == ATTEST_OK && it->kind == BUNDLE_QE_IDENTITY &&
	    (rc = qe_identity_parse(it->blob.data, it->blob.len, &qi, "collateral.import", err)) ==
		ATTEST_OK &&
	    (rc = qe_identity_verify_signature(qi, signer, "collateral.import", err)) == ATTEST_OK)
		cached_key_qe_identity((enum collateral_qe)qi->id, key);
	if (rc == ATTEST_OK && !key_names(it->key, key, ti ? ti->eval_num : qi ? qi->eval_num : -1))
		rc = attest_err_set(err, ATTEST_E_VERIFY, "collateral.import.key",
				    "the item under %s is the one of %s (evaluation data number %lld)",
				    it->key, key,
				    (long long)(ti   ? ti->eval_num
						: qi ? qi->eval_num
						     : -1));
	tcb_info_free(ti);
	qe_identity_free(qi);
	intel_der_chain_free(&chain);
	return rc;
}

/* A CRL signed by one certificate of `issuers` and current. */
static int crl_by_any(X509_CRL *crl, STACK_OF(X509) * issuers, int64_t now, struct attest_err *err)
{
	int rc = refuse(err, "collateral.import.crl_issuer", "%s", "no trusted issuer signed this CRL");

	for (int i = 0; rc != ATTEST_OK && i < sk_X509_num(issuers); i++) {
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
				  X509_get_subject_name(sk_X509_value(issuers, i))) != 0)
			continue;
		attest_err_clear(err);
		rc = x509_crl_verify(crl, sk_X509_value(issuers, i), now, "collateral.import", err);
	}
	return rc;
}

/*
 * The Root CA CRL: issued by one of the Intel roots, the one named by its
 * issuer and its AKI (RFC 5280 6.3.3 (b)): a development root may bear the
 * Intel root's name, and that one's verdict is the one to tell.
 */
static int root_crl_by_any(const struct x509_der_crl *crl, const struct intel_der_anchors *a, int64_t now,
			   struct attest_err *err)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct x509_der_cert *x = a->certs[i];

		if (x->subject.n == crl->issuer.n &&
		    memcmp(x->subject.p, crl->issuer.p, crl->issuer.n) == 0 && x->ski.n == crl->aki.n &&
		    memcmp(x->ski.p, crl->aki.p, crl->aki.n) == 0)
			return intel_der_crl_verify(crl, x, now, "collateral.import", err);
	}
	return refuse(err, "collateral.import.crl_issuer", "%s",
		      "no trusted Intel root issued this CRL (issuer name and authority key identifier)");
}

/*
 * A PCK CRL or the Root CA CRL, read by the DER reader the quote verifiers
 * read it with (a CRL outside Intel's profile would refuse every quote
 * once cached) and verified by its issuer.
 */
static int verify_intel_crl(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	struct intel_der_chain chain = {0};
	struct x509_der_crl *crl = NULL;
	char cn[128] = "";
	int rc = intel_crl_der(it->blob.data, it->blob.len, &crl, "collateral.import.crl", err);

	if (rc == ATTEST_OK && it->kind == BUNDLE_ROOT_CA_CRL) {
		rc = root_crl_by_any(crl, v->intel, v->ectx.now, err);
	} else if (rc == ATTEST_OK &&
		   (rc = intel_signer(v, it, X509_DER_KU_CRL_SIGN, &chain, err)) == ATTEST_OK &&
		   (rc = intel_der_crl_verify(crl, chain.cert[0], v->ectx.now, "collateral.import", err)) ==
		       ATTEST_OK) {
		/* The PCK CA that signed it (§2.2 names): the key must say the same CA. */
		x509_der_name_cn(crl->issuer, cn, sizeof(cn));
		if (strstr(cn, strcmp(it->key, "pck_crl/platform") == 0 ? "Platform CA" : "Processor CA") ==
		    NULL)
			rc = attest_err_set(err, ATTEST_E_VERIFY, "collateral.import.key",
					    "%s holds a CRL issued by \"%s\"", it->key, cn);
	}
	x509_der_crl_free(crl);
	intel_der_chain_free(&chain);
	return rc;
}

/*
 * A PCK certificate filed under sgx/pckcert/<ppid>/<cpusvn>/<pcesvn>/<pceid>
 * is one PCS would answer for that query: the same PCEID, and a TCB no
 * higher than the one asked for, component by component (PCS returns the
 * best certificate at or below the raw TCB).
 */
static bool pck_fits_key(const struct pck_ext *ext, const char *key)
{
	const char *p = key + strlen("sgx/pckcert/"), *q;
	uint8_t cpusvn[16], pceid[2], svn[2];

	if ((q = strchr(p, '/')) == NULL || hex_decode_to(q + 1, 32, cpusvn, 16) != 0 ||
	    hex_decode_to(q + 34, 4, svn, 2) != 0 || hex_decode_to(q + 39, 4, pceid, 2) != 0)
		return false;
	if (memcmp(pceid, ext->pceid, 2) != 0 || ext->pcesvn > (uint16_t)(svn[0] << 8 | svn[1]))
		return false;
	for (int i = 0; i < 16; i++)
		if (ext->cpusvn[i] > cpusvn[i])
			return false;
	return true;
}

/*
 * The PCK certificate (one PEM) and its issuer chain, moved into *pck leaf
 * first as quotes carry it (the two left empty). Errors:
 * collateral.import.pck(.parse, .der.<rule>), the issuer chain's
 * (issuer_chain), collateral.import.pck.chain.parse (too many certificates).
 */
static int pck_chain_of_item(const struct vctx *v, const struct bundle_item *it, struct intel_der_chain *leaf,
			     struct intel_der_chain *chain, struct intel_der_chain *pck,
			     struct attest_err *err)
{
	int rc =
	    intel_pem_chain_der(it->blob.data, it->blob.len, v->intel, leaf, "collateral.import.pck", err);

	if (rc != ATTEST_OK) {
		attest_err_prefix(err, "the PCK certificate: ");
		return rc;
	}
	if (leaf->n != 1)
		return refuse(err, "collateral.import.pck", "%s must hold one certificate (it holds %zu)",
			      it->key, leaf->n);
	if ((rc = issuer_chain(v, it, chain, err)) != ATTEST_OK)
		return rc;
	if (chain->n + 1 > INTEL_CHAIN_MAX)
		return refuse(
		    err, "collateral.import.pck.chain.parse",
		    "%s: the issuer chain holds %zu certificates; a PCK's is its CA and at most the root",
		    it->key, chain->n);
	*pck = *leaf;
	for (size_t i = 0; i < chain->n; i++, pck->n++) {
		pck->cert[pck->n] = chain->cert[i];
		pck->owned[pck->n] = chain->owned[i];
	}
	memset(leaf, 0, sizeof(*leaf)); /* transferred */
	memset(chain, 0, sizeof(*chain));
	return ATTEST_OK;
}

static int verify_pck_cert(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	struct intel_der_chain leaf = {0}, chain = {0}, pck = {0};
	struct pck_ext ext;
	int rc = pck_chain_of_item(v, it, &leaf, &chain, &pck, err);

	/* Revocation is checked on use, with the PCK CRL of that time. */
	if (rc == ATTEST_OK)
		rc = pck_der_chain_verify(&pck, v->intel, NULL, NULL, v->ectx.now, true, &ext, NULL,
					  "collateral.import", err);
	if (rc == ATTEST_OK && !pck_fits_key(&ext, it->key))
		rc = attest_err_set(
		    err, ATTEST_E_VERIFY, "collateral.import.key",
		    "the PCK certificate under %s is not one PCS answers for that platform and TCB "
		    "(another PCEID, or a TCB above the one asked for)",
		    it->key);
	intel_der_chain_free(&leaf);
	intel_der_chain_free(&chain);
	intel_der_chain_free(&pck);
	return rc;
}

/* amd/<Product>/...: the product named by the key. */
static enum amd_product key_product(const char *key)
{
	const char *p = key + 4, *slash = strchr(p, '/');

	return slash ? amd_product_from_name(p, (size_t)(slash - p)) : AMD_PRODUCT_UNKNOWN;
}

static int verify_vcek(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	struct amd_chain ch = {0};
	struct amd_chain_result res = {0};
	struct snp_tcb tcb;
	enum amd_product p = key_product(it->key);
	char key[CACHED_KEY_MAX] = "";
	int rc = amd_cert_load(it->blob.data, it->blob.len, &ch.leaf, "collateral.import.vcek", err);

	if (rc == ATTEST_OK)
		rc = amd_chain_verify(&v->ectx, p, false, &ch, &res, err);
	if (rc == ATTEST_OK) {
		amd_cert_ext_tcb(&res.ext, &tcb);
		if (!res.ext.has_hwid ||
		    !bundle_key_amd_vcek_of(p, res.ext.hwid, res.ext.hwid_len, &tcb, key) ||
		    strcmp(key, it->key) != 0)
			rc = attest_err_set(err, ATTEST_E_VERIFY, "collateral.import.key",
					    "the VCEK under %s certifies another chip or TCB (%s)", it->key,
					    key);
	}
	EVP_PKEY_free(res.leaf_key);
	X509_free(ch.leaf);
	return rc;
}

/*
 * The ASK to one of the ARKs, tried one at a time: a development ARK may
 * share AMD's subject name (ARK-Milan), and path building given both
 * would try only one of them.
 */
static int ask_to_any_ark(X509 *ask, STACK_OF(X509) * carried, const struct x509_verify_opts *o,
			  struct attest_err *err)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	struct x509_verify_opts each = *o;
	int rc = refuse(err, "collateral.import.chain.untrusted_root", "%s", "no ARK is trusted");

	for (int i = 0; one != NULL && rc != ATTEST_OK && i < sk_X509_num(o->anchors); i++) {
		sk_X509_zero(one);
		if (!sk_X509_push(one, sk_X509_value(o->anchors, i)))
			break;
		each.anchors = one;
		attest_err_clear(err);
		rc = x509_chain_verify(ask, carried, &each, NULL, "collateral.import.chain", err);
	}
	sk_X509_free(one); /* borrowed certificates */
	return rc;
}

static int verify_amd_chain(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	struct x509_verify_opts o = {.time = v->ectx.now, .anchors = v->anchors.amd_arks};
	STACK_OF(X509) *sk = NULL, *builtin = NULL;
	struct amd_chain ch = {0};
	enum amd_product p = key_product(it->key);
	bool vlek = strstr(it->key, "/vlek") != NULL;
	char cn[64] = "", want[32];
	X509 *ark = NULL;
	int rc = x509_stack_from_pem(it->blob.data, it->blob.len, &sk, "collateral.import.chain", err);

	if (rc == ATTEST_OK)
		rc = amd_chain_classify(sk, &ch, err);
	if (rc == ATTEST_OK && ch.ask == NULL)
		rc = refuse(err, "collateral.import.chain", "%s holds no ASK/ASVK", it->key);
	if (rc == ATTEST_OK && o.anchors == NULL) { /* no pipeline: the built-in ARK */
		if ((rc = amd_builtin_cert(p, AMD_ROLE_ARK, &ark, err)) == ATTEST_OK &&
		    ((builtin = sk_X509_new_null()) == NULL || !sk_X509_push(builtin, ark)))
			rc = attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
		else if (rc == ATTEST_OK)
			ark = NULL;
		o.anchors = builtin;
	}
	if (rc == ATTEST_OK)
		rc = ask_to_any_ark(ch.ask, sk, &o, err);
	if (rc == ATTEST_OK) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(ch.ask), NID_commonName, cn, sizeof(cn));
		snprintf(want, sizeof(want), "SEV-%s%s", vlek ? "VLEK-" : "", amd_product_name(p));
		if (strcmp(cn, want) != 0)
			rc = attest_err_set(err, ATTEST_E_VERIFY, "collateral.import.key",
					    "%s holds the chain of %s, not %s", it->key, cn, want);
	}
	X509_free(ark);
	sk_X509_pop_free(builtin, X509_free);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int verify_amd_crl(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	STACK_OF(X509) *arks = v->anchors.amd_arks, *builtin = NULL;
	X509_CRL *crl = NULL;
	X509 *ark = NULL;
	int rc = x509_crl_load(it->blob.data, it->blob.len, &crl, "collateral.import.crl", err);

	if (rc == ATTEST_OK && arks == NULL) {
		if ((rc = amd_builtin_cert(key_product(it->key), AMD_ROLE_ARK, &ark, err)) == ATTEST_OK &&
		    ((builtin = sk_X509_new_null()) == NULL || !sk_X509_push(builtin, ark)))
			rc = attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
		else if (rc == ATTEST_OK)
			ark = NULL;
		arks = builtin;
	}
	if (rc == ATTEST_OK)
		rc = crl_by_any(crl, arks, v->ectx.now, err);
	if (rc == ATTEST_OK) { /* the ARK of the key's product signed it (the anchors hold every product's) */
		char cn[64] = "", want[32];

		X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, cn, sizeof(cn));
		snprintf(want, sizeof(want), "ARK-%s", amd_product_name(key_product(it->key)));
		if (strcmp(cn, want) != 0)
			rc = attest_err_set(err, ATTEST_E_VERIFY, "collateral.import.key",
					    "%s holds a CRL issued by %s, not %s", it->key, cn, want);
	}
	X509_free(ark);
	sk_X509_pop_free(builtin, X509_free);
	X509_CRL_free(crl);
	return rc;
}

/* Verifies one item (see the top of the file). */
static int verify_item(const struct vctx *v, const struct bundle_item *it, struct attest_err *err)
{
	int rc;

	switch (it->kind) {
	case BUNDLE_TCB_INFO:
	case BUNDLE_QE_IDENTITY:
		rc = verify_tcb_or_qe(v, it, err);
		break;
	case BUNDLE_PCK_CRL:
	case BUNDLE_ROOT_CA_CRL:
		rc = verify_intel_crl(v, it, err);
		break;
	case BUNDLE_PCK_CERT:
		rc = verify_pck_cert(v, it, err);
		break;
	case BUNDLE_AMD_VCEK:
		rc = verify_vcek(v, it, err);
		break;
	case BUNDLE_AMD_CERT_CHAIN:
		rc = verify_amd_chain(v, it, err);
		break;
	case BUNDLE_AMD_CRL:
		rc = verify_amd_crl(v, it, err);
		break;
	default:
		rc = attest_err_set(err, ATTEST_E_INVALID, "bundle.kind", "unknown kind");
	}
	return rc == ATTEST_OK ? check_dates(v, it, err) : rc;
}

static json_t *result_json(const struct bundle_item *it, const char *status, const struct attest_err *e)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:s}", "key", it->key, "kind", bundle_kind_name(it->kind), "status", status);

	if (e != NULL) {
		json_object_set_new(o, "error", json_string(e->name));
		json_object_set_new(o, "message", json_string(e->msg));
		if (e->where[0])
			json_object_set_new(o, "where", json_string(e->where));
	}
	return o;
}

/*
 * No rollback: an item older than the one stored under its key (an earlier
 * issue date: a TCB Info from before a TCB Recovery, a superseded CRL) is
 * refused unless forced, though it verifies. Certificates carry no issue
 * date of their own here and are not compared.
 */
static int check_not_older(struct srv *srv, int64_t now, const struct bundle_item *it, struct attest_err *err)
{
	struct store_collateral c = {0};
	enum cached_kind k = bundle_cached_kind(it->kind);
	int64_t iss, nu;
	int rc;

	if (k == CACHED_CERT || cached_item_dates(k, &it->blob, now, 0, &iss, &nu, err) != ATTEST_OK)
		return err != NULL && err->rc != ATTEST_OK ? err->rc : ATTEST_OK;
	rc = store_collateral_get(srv->store, it->key, &c, NULL);
	if (rc == ATTEST_OK && iss < c.issue_date) {
		char have[40], got[40];

		time_format_rfc3339(c.issue_date, have, sizeof(have));
		time_format_rfc3339(iss, got, sizeof(got));
		rc = attest_err_set(
		    err, ATTEST_E_CONFLICT, "collateral.import.older",
		    "%s issued %s is older than the stored one (issued %s); import with force to "
		    "roll back",
		    it->key, got, have);
	} else {
		rc = ATTEST_OK; /* nothing stored (or unreadable: the import replaces it) */
	}
	store_collateral_clear(&c);
	return rc;
}

/* Verifies every item: true when all did; *results gets one row per item. */
static bool verify_all(struct srv *srv, int64_t now, bool force, const struct bundle *b, json_t *results,
		       struct attest_err *err)
{
	struct vctx v;
	bool all = true;

	if (vctx_init(srv, now, &v, err) != ATTEST_OK) {
		vctx_clear(&v);
		return false;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct attest_err e;

		attest_err_clear(&e);
		if (verify_item(&v, &b->items[i], &e) == ATTEST_OK &&
		    (force || check_not_older(srv, now, &b->items[i], &e) == ATTEST_OK)) {
			json_array_append_new(results, result_json(&b->items[i], "verified", NULL));
		} else {
			all = false;
			json_array_append_new(results, result_json(&b->items[i], "refused", &e));
		}
	}
	vctx_clear(&v);
	return all;
}

static bool all_verified(const json_t *results)
{
	size_t i;
	json_t *it;

	json_array_foreach(results, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "status")), "verified") != 0)
			return false;
	}
	return true;
}

/*
 * Stores every verified item and the audit row in one store transaction
 * (all or nothing), then installs the items in the running caching source,
 * if attestd has one, so an offline node serves them at once (in memory:
 * they are stored already).
 */
static int store_all(struct srv *srv, int64_t now, const struct bundle *b, const struct store_audit *audit,
		     struct attest_err *err)
{
	const struct pipeline_routes *pr = srv->pipeline;
	struct store_collateral *rows = calloc(b->n ? b->n : 1, sizeof(*rows));
	int rc = rows ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");

	for (size_t i = 0; i < b->n && rc == ATTEST_OK; i++) {
		const struct bundle_item *it = &b->items[i];

		rc = cached_item_dates(bundle_cached_kind(it->kind), &it->blob, now, 86400,
				       &rows[i].issue_date, &rows[i].next_update, err);
		if (rc == ATTEST_OK)
			rc = cached_encode(&it->blob, &rows[i].bytes, &rows[i].len, err);
		rows[i].key = it->key; /* borrowed */
	}
	if (rc == ATTEST_OK)
		rc = store_collateral_put_many(srv->store, rows, b->n, audit, err);
	for (size_t i = 0; rows != NULL && i < b->n; i++)
		free(rows[i].bytes);
	free(rows);
	/* A source other than the caching one (a plain --collateral-dir) has no table to install into. */
	for (size_t i = 0;
	     rc == ATTEST_OK && i < b->n && pr != NULL && pr->ctx != NULL && pr->ctx->collateral != NULL &&
	     strcmp(pr->ctx->collateral->ops->name, "cached") == 0;
	     i++)
		rc = cached_source_install(pr->ctx->collateral, b->items[i].key,
					   bundle_cached_kind(b->items[i].kind), &b->items[i].blob, err);
	return rc;
}

static char *audit_detail(const struct bundle *b, bool force)
{
	json_t *keys = json_array(), *o;
	char *text;

	for (size_t i = 0; i < b->n && i < COLL_AUDIT_MAX; i++) {
		char hex[65];

		hex_encode_to(b->items[i].sha256, 32, hex);
		json_array_append_new(keys, json_pack("{s:s,s:s}", "key", b->items[i].key, "sha256", hex));
	}
	o = json_pack("{s:I,s:b,s:o}", "count", (json_int_t)b->n, "force", force, "items", keys);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static void import_collateral(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *f;
	bool force;
	struct attest_err err = {0};
	struct bundle *b = NULL;
	json_t *results = json_array(), *body;
	char *detail = NULL;
	int rc;

	(void)arg;
	if (bundle_parse((const char *)req->body, req->body_len, &b, &err) != ATTEST_OK) {
		http_resp_error_from(resp, 400, "InvalidParameter", &err);
		goto out;
	}
	force = (f = http_req_query(req, "force")) != NULL && strcmp(f, "1") == 0;
	if (!verify_all(req->srv, req->now, force, b, results, &err) && err.rc != ATTEST_OK) {
		/* Not the bundle's fault: the anchors could not be set up. */
		http_resp_error_from(resp, 500, "InternalError", &err);
		goto out;
	}
	if (json_array_size(results) != b->n || !all_verified(results)) {
		body = json_pack("{s:{s:s,s:s},s:O}", "error", "code", "InvalidParameter", "message",
				 "items of the bundle were refused; nothing was imported", "items", results);
		http_resp_json(resp, 400, body);
		json_decref(body);
		goto out;
	}
	/* ?dry_run=1: verified, nothing stored (a client sending a large bundle in parts checks them all
	 * first). */
	if ((f = http_req_query(req, "dry_run")) != NULL && strcmp(f, "1") == 0) {
		body =
		    json_pack("{s:I,s:b,s:O}", "verified", (json_int_t)b->n, "dry_run", 1, "items", results);
		http_resp_json(resp, 200, body);
		json_decref(body);
		goto out;
	}
	detail = audit_detail(b, force);
	{
		struct store_audit a = {.actor = req->auth.subject,
					.action = "collateral.import",
					.provider = "",
					.detail = detail,
					.time = req->now};
		rc = store_all(req->srv, req->now, b, &a, &err);
	}
	if (rc != ATTEST_OK) {
		http_resp_error_from(resp, strcmp(err.name, "store.unavailable") == 0 ? 503 : 500,
				     strcmp(err.name, "store.unavailable") == 0 ? "ServiceUnavailable"
										: "InternalError",
				     &err);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(results); i++)
		json_object_set_new(json_array_get(results, i), "status", json_string("imported"));
	body = json_pack("{s:I,s:O}", "imported", (json_int_t)b->n, "items", results);
	http_resp_json(resp, 200, body);
	json_decref(body);
out:
	free(detail);
	json_decref(results);
	bundle_free(b);
}

/* Adds a stored row (cached_encode()d) to b; rows of unknown keys are skipped. */
static int add_row(struct bundle *b, const struct store_collateral *c, struct attest_err *err)
{
	struct collateral_blob blob = {0};
	int kind = bundle_kind_of_key(c->key), rc;

	if (kind < 0)
		return ATTEST_OK;
	rc = cached_decode(c->bytes, c->len, &blob, err);
	if (rc == ATTEST_OK)
		rc = bundle_add(b, (enum bundle_kind)kind, c->key, &blob, err);
	collateral_blob_free(&blob);
	return rc;
}

/* ?max=N: items per page, 1..COLL_PAGE_ITEMS (default and anything else: COLL_PAGE_ITEMS). */
static size_t page_max(const struct http_request *req)
{
	const char *s = http_req_query(req, "max");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v >= 1 && v <= COLL_PAGE_ITEMS ? (size_t)v : COLL_PAGE_ITEMS;
}

/*
 * One page from the rows the store read after the previous page's last key
 * (store_collateral_page, at most `asked` of them, one more than max): at
 * most `max` items and about COLL_PAGE_BYTES of data, so an answer stays
 * far below the response cap whatever the cache holds; *next is the last
 * key taken when rows remain (borrowed from rows): rows left unread here,
 * or a full read (rows of unknown keys are skipped, so all `asked` rows may
 * fit and the store still hold more).
 */
static int add_page(struct bundle *b, const struct store_collateral *rows, size_t n, size_t asked, size_t max,
		    const char **next, struct attest_err *err)
{
	size_t bytes = 0, i;
	int rc = ATTEST_OK;

	*next = NULL;
	for (i = 0; i < n && rc == ATTEST_OK; i++) {
		if (i > 0 && (b->n >= max || bytes >= COLL_PAGE_BYTES))
			break;
		bytes += rows[i].len;
		rc = add_row(b, &rows[i], err);
	}
	if (rc == ATTEST_OK && i > 0 && (i < n || n == asked))
		*next = rows[i - 1].key;
	return rc;
}

/*
 * ?key=K: that item (404 when absent); otherwise the durable cache, a page
 * at a time (?after=<the previous page's "next">).
 */
static void export_collateral(struct http_request *req, struct http_response *resp, void *arg)
{
	const char *key = http_req_query(req, "key");
	struct store_collateral c = {0}, *list = NULL;
	struct attest_err err = {0};
	struct bundle *b = bundle_new();
	const char *next = NULL;
	json_t *doc = NULL;
	size_t n = 0;
	int rc = b ? ATTEST_OK : attest_err_set(&err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");

	(void)arg;
	if (rc == ATTEST_OK && key != NULL && bundle_kind_of_key(key) < 0) {
		http_resp_error(
		    resp, 400, "InvalidParameter",
		    "\"%.200s\" is not the key of a collateral item (docs/receipts-and-bundles.md)", key);
		bundle_free(b);
		return;
	}
	if (rc == ATTEST_OK && key != NULL) {
		if ((rc = store_collateral_get(req->srv->store, key, &c, &err)) == ATTEST_OK)
			rc = add_row(b, &c, &err);
	} else if (rc == ATTEST_OK &&
		   (rc = store_collateral_page(req->srv->store, http_req_query(req, "after"),
					       page_max(req) + 1, &list, &n, &err)) == ATTEST_OK) {
		rc = add_page(b, list, n, page_max(req) + 1, page_max(req), &next, &err);
	}
	if (rc == ATTEST_OK) {
		b->created = req->now;
		if ((doc = bundle_to_json(b)) == NULL ||
		    (next != NULL && json_object_set_new(doc, "next", json_string(next)) != 0))
			rc = attest_err_set(&err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	if (rc != ATTEST_OK)
		http_resp_error_from(resp, rc == ATTEST_E_NOT_FOUND ? 404 : 500,
				     rc == ATTEST_E_NOT_FOUND ? "NotFound" : "InternalError", &err);
	else
		http_resp_json(resp, 200, doc);
	json_decref(doc);
	bundle_free(b);
	store_collateral_list_free(list, n);
	store_collateral_clear(&c);
}

int routes_collateral_register(struct http_router *r, struct srv *srv, struct attest_err *err)
{
	int rc =
	    http_router_add(r, "POST", "/management/collateral", COLL_ROUTE, import_collateral, NULL, err);

	(void)srv;
	if (rc == ATTEST_OK)
		rc = http_router_add(r, "GET", "/management/collateral", COLL_ROUTE, export_collateral, NULL,
				     err);
	return rc;
}
