/*
 * libattest's public interface (include/attest/attest.h): thin, JSON-text
 * wrappers over the evidence verifiers, the policy engine and JOSE, so the
 * public ABI exposes no internal structure.
 */
#include "attest/attest.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "claims/claims.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "evidence/anchors.h"
#include "evidence/azure_cvm.h"
#include "evidence/evidence.h"
#include "evidence/sgx.h"
#include "evidence/snp.h"
#include "evidence/tdx.h"
#include "evidence/tpm_protocol.h"
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *attest_version(void) { return ATTEST_VERSION; }

void attest_free(void *p) { free(p); }

struct attest_verifier {
	struct evidence_anchors anchors;      /* NULL stacks: the built-in roots */
	struct collateral_source *collateral; /* NULL: none */
	struct collateral_cache *cache;
	int64_t now;
	unsigned flags;
};

typedef int (*verify_fn)(const struct evidence_ctx *, const struct evidence_input *, struct claim_set *,
			 struct attest_err *);

static verify_fn verifier_of(const char *type)
{
	static const struct {
		const char *type;
		verify_fn fn;
	} table[] = {
		{"SgxEnclave", sgx_verify},        {"OpenEnclave", oe_verify}, {"TdxVm", tdx_verify},
		{"SevSnpVm", sevsnpvm_verify}, {"SevSnp", snp_verify},    {"Tpm", tpm_verify},
	};
	for (size_t i = 0; type != NULL && i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(table[i].type, type) == 0)
			return table[i].fn;
	return NULL;
}

/* The vendors' built-in roots plus the certificates of a PEM file, each in its vendor's slot. */
static int load_roots(const char *path, struct evidence_anchors *a, struct attest_err *err)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc = evidence_anchors_builtin(a, err);

	if (rc == ATTEST_OK && file_read_all(path, 1024 * 1024, &pem, &len) != ATTEST_OK)
		rc = attest_err_set(err, ATTEST_E_IO, "attest.roots", "cannot read extra roots from %s", path);
	if (rc == ATTEST_OK)
		rc = evidence_anchors_add_pem(a, pem, len, "attest.roots", err);
	free(pem);
	if (rc != ATTEST_OK)
		evidence_anchors_clear(a);
	return rc;
}

int attest_verifier_new(const struct attest_verifier_opts *opts, struct attest_verifier **out,
			struct attest_err *err)
{
	struct attest_verifier *v = calloc(1, sizeof(*v));
	const char *roots;
	int rc;

	if (v == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	v->now = opts ? opts->now : 0;
	v->flags = opts ? opts->flags : 0;
	roots = opts ? opts->extra_roots_pem : NULL;
	if (roots != NULL && (rc = load_roots(roots, &v->anchors, err)) != ATTEST_OK) {
		free(v);
		return rc;
	}
	if (opts && opts->collateral_dir) {
		rc = collateral_file_source_new(opts->collateral_dir, &v->collateral, err);
		if (rc != ATTEST_OK) {
			attest_verifier_free(v);
			return rc;
		}
		/* Verified chains and collateral are reused across calls on this handle. */
		v->cache = collateral_cache_new(256);
		v->collateral->cache = v->cache;
	}
	*out = v;
	return ATTEST_OK;
}

void attest_verifier_free(struct attest_verifier *v)
{
	if (v == NULL)
		return;
	if (v->collateral) {
		collateral_source_free(v->collateral);
		free(v->collateral);
	}
	collateral_cache_free(v->cache);
	evidence_anchors_clear(&v->anchors);
	free(v);
}

/* Serialises a claim set as the public JSON text. */
static int claims_text(const struct claim_set *set, char **out, struct attest_err *err)
{
	json_t *doc = claim_set_to_json(set);

	*out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	return *out ? ATTEST_OK : attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
}

int attest_verify_evidence(struct attest_verifier *v, const char *type, const uint8_t *evidence, size_t len,
			   const uint8_t *runtime_data, size_t runtime_len, char **claims_json,
			   struct attest_err *err)
{
	verify_fn fn = verifier_of(type);
	struct evidence_ctx ctx = {0};
	struct evidence_input in = {0};
	struct claim_set *set;
	int rc;

	if (fn == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "attest.type",
				      "unknown attestation type \"%s\" (SgxEnclave, OpenEnclave, TdxVm, SevSnpVm, SevSnp, Tpm)",
				      type ? type : "(null)");
	if (v == NULL || evidence == NULL || claims_json == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "attest.argument", "verifier, evidence and output are required");
	ctx.now = v->now ? v->now : time_now();
	ctx.collateral = v->collateral;
	ctx.anchors = &v->anchors;
	ctx.flags = (v->flags & ATTEST_VERIFY_NO_REVOCATION ? EVIDENCE_NO_REVOCATION : 0) |
		    (v->flags & ATTEST_VERIFY_NO_COLLATERAL ? EVIDENCE_NO_COLLATERAL : 0);
	in.evidence = evidence;
	in.evidence_len = len;
	in.runtime_data = runtime_data;
	in.runtime_data_len = runtime_len;
	in.runtime_data_type = runtime_data ? EVIDENCE_DATA_BINARY : EVIDENCE_DATA_NONE;
	if ((set = claim_set_new()) == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	rc = fn(&ctx, &in, set, err);
	if (rc == ATTEST_OK)
		rc = claims_text(set, claims_json, err);
	claim_set_free(set);
	return rc;
}

/* Claims from the public JSON form ({type: value}). */
static int claims_parse(const char *text, struct claim_set **out, struct attest_err *err)
{
	json_error_t jerr;
	json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	int rc;

	if (!json_is_object(doc)) {
		json_decref(doc);
		return attest_err_set(err, ATTEST_E_PARSE, "attest.claims", "claims must be a JSON object: %s",
				      text ? jerr.text : "none given");
	}
	rc = claim_set_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}

int attest_policy_evaluate(const char *policy, size_t policy_len, const char *claims_json, int *permitted,
			   char **issued_json, char **reason, struct attest_err *err)
{
	struct policy_plan *plan = NULL;
	struct policy_result *res = NULL;
	struct claim_set *incoming = NULL;
	char line[1024];
	int rc;

	if (policy == NULL || permitted == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "attest.argument", "policy and permitted are required");
	if ((rc = policy_compile(policy, policy_len, NULL, &plan, err)) != ATTEST_OK)
		return rc;
	if ((rc = claims_parse(claims_json, &incoming, err)) == ATTEST_OK)
		rc = policy_eval(plan, incoming, 0, &res, err);
	if (rc == ATTEST_OK && issued_json)
		rc = claims_text(res->outgoing, issued_json, err);
	if (rc == ATTEST_OK && reason) {
		policy_result_reason(res, line, sizeof(line));
		if ((*reason = strdup(line)) == NULL) {
			rc = attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
			if (issued_json) {
				free(*issued_json);
				*issued_json = NULL;
			}
		}
	}
	if (rc == ATTEST_OK)
		*permitted = res->verdict == POLICY_PERMIT;
	policy_result_free(res);
	claim_set_free(incoming);
	policy_plan_free(plan);
	return rc;
}

/* Issuer and nonce, after signature and time. */
static int token_expect(const json_t *claims, const char *name, const char *want, struct attest_err *err)
{
	const char *got = json_string_value(json_object_get(claims, name));

	if (want == NULL || (got != NULL && strcmp(got, want) == 0))
		return ATTEST_OK;
	return attest_err_set(err, ATTEST_E_VERIFY, strcmp(name, "iss") == 0 ? "token.issuer" : "token.nonce",
			      "%s is \"%s\", expected \"%s\"", name, got ? got : "(absent)", want);
}

int attest_token_verify(const char *token, const char *jwks_json, const struct attest_token_opts *opts,
			char **claims_json, struct attest_err *err)
{
	struct attest_token_opts o = opts ? *opts : (struct attest_token_opts){0};
	json_t *jwks = NULL, *claims = NULL;
	struct jws *jws = NULL;
	json_error_t jerr;
	int rc;

	if (token == NULL || jwks_json == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "attest.argument", "token and JWKS are required");
	if ((jwks = json_loads(jwks_json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "attest.jwks", "the JWKS is not JSON: %s", jerr.text);
	if (o.skew < 0)
		o.skew = 60;
	rc = jws_parse(token, strlen(token), &jws, err);
	if (rc == ATTEST_OK)
		rc = jws_verify_jwks(jws, jwks, 0, err); /* never "none" */
	if (rc == ATTEST_OK)
		rc = jwt_claims(jws, &claims, err);
	if (rc == ATTEST_OK)
		rc = jwt_check_time(claims, o.now ? o.now : time_now(), o.skew, JWT_REQUIRE_EXP, err);
	if (rc == ATTEST_OK)
		rc = token_expect(claims, "iss", o.issuer, err);
	if (rc == ATTEST_OK)
		rc = token_expect(claims, "nonce", o.nonce, err);
	if (rc == ATTEST_OK && claims_json &&
	    (*claims_json = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		rc = attest_err_set(err, ATTEST_E_NOMEM, "attest.nomem", "out of memory");
	json_decref(claims);
	json_decref(jwks);
	jws_free(jws);
	return rc;
}
