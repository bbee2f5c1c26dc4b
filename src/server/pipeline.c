/*
 * The attest pipeline: see pipeline.h. Each stage is one function; the
 * outcome records where a refusal happened and how the route answers it
 * (maa-interface.md §1.8: 400 for evidence and policy failures, never 5xx
 * for anything the caller sent).
 */
#include "server/pipeline.h"

#include "base/buf.h"
#include "collateral/collateral.h"
#include "crypto/crypto.h"
#include "evidence/anchors.h"
#include "evidence/azure_guest.h"
#include "evidence/pck.h"
#include "evidence/tpm.h"
#include "evidence/tpm_protocol.h"
#include "policy/policy.h"
#include "server/tcb_baselines.h"
#include "token/request.h"
#include "token/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_DEFAULT_PLANS	 256
#define PIPELINE_MAX_ANCHOR_FILE (1u * 1024 * 1024)
/*
 * TPM service contexts remembered against replay (each lives 5 minutes, its
 * id 60 s more: TPM_REPLAY_GRACE),
 * in one set per provider (tpm_protocol.h, tpm_replay_limits): a provider
 * holds at most 65,536 (182 verified requests a second over an id's 360 s, what
 * the whole node held before), 256 of them whatever the others do; the
 * ids beyond the providers' 256 share a pool of 262,144; 4,096 providers
 * at once. So a node holds at most 4096 * 256 + 262,144 = 1.31 M ids
 * (at most 128 bytes each: 160 MiB, and only if 4,096 providers each
 * redeemed ~1 context a second, more than a node verifies); one tenant
 * alone at most 65,536 (8 MiB); idle providers nothing.
 */
static const struct tpm_replay_limits PIPELINE_TPM_REPLAY = {
    .per_provider = 65536, .floor = 256, .shared = 262144, .providers = 4096};
/* Verified AIK certificate chains kept (evidence/tpm.h): a returning client skips the chain check. */
#define PIPELINE_TPM_AIK_CACHE 1024

int pipeline_ctx_new(size_t max_plans, struct pipeline_ctx **out, struct attest_err *err)
{
	struct pipeline_ctx *ctx = calloc(1, sizeof(*ctx));
	int rc;

	if (ctx == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
	ctx->plans = policy_cache_new(max_plans ? max_plans : PIPELINE_DEFAULT_PLANS, NULL);
	ctx->tpm_replay = tpm_replay_sets_new(&PIPELINE_TPM_REPLAY);
	ctx->tpm_aik_cache = tpm_aik_cache_new(PIPELINE_TPM_AIK_CACHE);
	if (ctx->plans == NULL || ctx->tpm_replay == NULL || ctx->tpm_aik_cache == NULL) {
		pipeline_ctx_free(ctx);
		return attest_err_set(err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
	}
	/* The vendors' roots, parsed once for the life of the context (not per attestation). */
	rc = evidence_anchors_builtin(&ctx->anchors, err);
	if (rc != ATTEST_OK) {
		pipeline_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return ATTEST_OK;
}

/* One Prometheus series without labels (HELP, TYPE, value) appended to out. */
static void metric_line(struct buf *out, const char *name, const char *type, const char *help,
			unsigned long long value)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
			 name, value);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)buf_append(out, line, (size_t)n);
}

void pipeline_tpm_metrics(struct pipeline_ctx *ctx, struct buf *out)
{
	struct tpm_replay_sets_stats r;
	struct tpm_context_keys_stats k = {0};

	tpm_replay_sets_stats(ctx->tpm_replay, &r);
	if (ctx->tpm_key != NULL)
		tpm_context_keys_stats(ctx->tpm_key, &k);
	metric_line(out, "attestd_tpm_replay_providers", "gauge",
		    "Providers holding redeemed TPM context ids.", r.providers);
	metric_line(out, "attestd_tpm_replay_ids", "gauge",
		    "TPM context ids held against replay, all providers.", r.ids);
	metric_line(out, "attestd_tpm_replay_shared_ids", "gauge",
		    "Of them, ids beyond the providers' own share (the shared pool).", r.shared_used);
	metric_line(out, "attestd_tpm_replay_shared_limit", "gauge",
		    "The shared pool's size (full: each provider keeps only its own share).",
		    PIPELINE_TPM_REPLAY.shared);
	metric_line(out, "attestd_tpm_context_epochs", "gauge", "TPM context epoch keys this node keeps.",
		    k.epochs_kept);
	metric_line(out, "attestd_tpm_context_epochs_started_total", "counter",
		    "Epochs this node started sealing TPM contexts under.", k.rotations);
	/* Derived beyond those started: opening misses (other nodes' or made-up epochs; one HKDF each). */
	metric_line(out, "attestd_tpm_context_epoch_keys_derived_total", "counter",
		    "Epoch keys derived: started, or to open another epoch's context.", k.derived);
}

void pipeline_ctx_free(struct pipeline_ctx *ctx)
{
	if (ctx == NULL)
		return;
	policy_cache_free(ctx->plans);
	tpm_replay_sets_free(ctx->tpm_replay);
	tpm_aik_cache_free(ctx->tpm_aik_cache);
	tpm_context_keys_free(ctx->tpm_key);
	evidence_anchors_clear(&ctx->anchors);
	if (ctx->collateral != NULL) {
		collateral_source_free(ctx->collateral);
		free(ctx->collateral);
	}
	if (ctx->collateral_cache != NULL)
		collateral_cache_free(ctx->collateral_cache);
	free(ctx);
}

int pipeline_ctx_set_tpm_key(struct pipeline_ctx *ctx, const uint8_t key[32], struct attest_err *err)
{
	struct tpm_context_keys *k = tpm_context_keys_new(key);

	if (k == NULL)
		return attest_err_set(err, ATTEST_E_INTERNAL, "pipeline.tpm.key",
				      "the TPM context keys could not be set up (HKDF, the random generator or "
				      "memory failed)");
	tpm_context_keys_free(ctx->tpm_key);
	ctx->tpm_key = k;
	return ATTEST_OK;
}

int pipeline_ctx_load_anchors(struct pipeline_ctx *ctx, const char *pem_file, struct attest_err *err)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	rc = file_read_all(pem_file, PIPELINE_MAX_ANCHOR_FILE, &pem, &len);
	if (rc != ATTEST_OK)
		return attest_err_set(err, rc, "pipeline.anchors", "cannot read trust anchors from %s",
				      pem_file);
	/* Marked before any root is added: a context that may trust extra roots always says so. */
	ctx->development = true;
	rc = evidence_anchors_add_pem(&ctx->anchors, pem, len, "pipeline.anchors", err);
	free(pem);
	if (rc != ATTEST_OK)
		attest_err_prefix(err, "trust anchors of %s: ", pem_file);
	return rc;
}

int pipeline_plan_get(const struct pipeline_ctx *ctx, enum maa_type type, const char *text, size_t len,
		      struct policy_plan **out, struct attest_err *err)
{
	if (text == NULL) {
		text = policy_default_text(maa_type_name(type));
		if (text == NULL)
			return attest_err_set(err, ATTEST_E_NOT_FOUND, "pipeline.policy.default",
					      "no default policy for %s", maa_type_name(type));
		len = strlen(text);
	}
	return policy_cache_get(ctx->plans, text, len, out, err);
}

void pipeline_outcome_clear(struct pipeline_outcome *out)
{
	free(out->token);
	free(out->body);
	memset(out, 0, sizeof(*out));
}

/* Records a refusal: status, MAA code, stage; the error record is already set. */
static int refuse(struct pipeline_outcome *out, int status, const char *code, const char *stage)
{
	out->status = status;
	snprintf(out->code, sizeof(out->code), "%s", code);
	snprintf(out->stage, sizeof(out->stage), "%s", stage);
	if (out->err.rc == ATTEST_OK)
		attest_err_set(&out->err, ATTEST_E_INTERNAL, "pipeline.internal", "the %s stage failed",
			       stage);
	return out->err.rc;
}

/* Per-attestation state passed between stages. */
struct run {
	const struct pipeline_ctx *ctx;
	const struct pipeline_attest *in;
	const struct token_catalogue *cat;
	struct attest_request *req;
	struct policy_plan *plan;
	struct claim_set *incoming;
	struct policy_result *result;
	json_t *claims;
};

/* Stage 1: the request body, and the plan (the draft's, or the provider's). */
static int stage_request(struct run *r, struct pipeline_outcome *out)
{
	int rc = attest_request_decode(r->in->type, r->in->body, r->in->body_len, &r->req, &out->err);

	if (rc != ATTEST_OK)
		return refuse(out, 400, "InvalidParameter", "request");
	if (r->req->draft_policy != NULL) {
		/* A draft is the caller's text: compiled fresh, never cached (it
		 * could evict the plans of real policies). */
		rc = policy_compile(r->req->draft_policy, strlen(r->req->draft_policy), NULL, &r->plan,
				    &out->err);
		if (rc != ATTEST_OK)
			return refuse(out, 400, "PolicyParsingError", "request");
		return ATTEST_OK;
	}
	rc = pipeline_plan_get(r->ctx, r->in->type, r->in->policy_text, r->in->policy_len, &r->plan,
			       &out->err);
	if (rc != ATTEST_OK) {
		/* Stored policies compiled when they were set: this is ours. */
		attest_err_prefix(&out->err, "the provider's %s policy: ", maa_type_name(r->in->type));
		return refuse(out, 500, "InternalError", "request");
	}
	return ATTEST_OK;
}

/*
 * SGX and Open Enclave: the provider's TCB baseline from the policy's
 * configuration rules (x-ms-sgx-tcbidentifier, maa-interface.md §3.5;
 * docs/tcb-baselines.md), the draft's when a draft policy came with the
 * request. 0 for other types.
 */
static int sgx_baseline(const struct run *r, struct evidence_ctx *ectx, struct attest_err *err)
{
	const struct tcb_baseline *b = NULL;
	struct claim_set *props = NULL;
	const char *id;
	int rc;

	if (r->in->type != MAA_TYPE_SGX_ENCLAVE && r->in->type != MAA_TYPE_OPEN_ENCLAVE)
		return ATTEST_OK;
	rc = policy_eval_config(r->plan, &props, err);
	if (rc == ATTEST_OK) {
		id = policy_prop_str(props, POLICY_PROP_SGX_TCBIDENTIFIER, POLICY_DEFAULT_SGX_TCBIDENTIFIER);
		rc = tcb_baseline_lookup(id, &b, err);
		/* Azure's default is a floor on the standard set; a chosen baseline is evaluated against its
		 * set. */
		if (rc == ATTEST_OK) {
			ectx->sgx_tcb_baseline = b->eval_num;
			ectx->sgx_tcb_baseline_floor = strcmp(id, POLICY_DEFAULT_SGX_TCBIDENTIFIER) == 0;
		}
	}
	claim_set_free(props);
	return rc;
}

/* Stage 2: the verifier, then the claims MAA derives from the request. */
static int stage_verify(struct run *r, struct pipeline_outcome *out)
{
	const struct pipeline_verifier *v = pipeline_verifier_find(r->in->type);
	struct evidence_ctx ectx = {0};
	struct evidence_input ein;
	int rc;

	if (v == NULL || v->verify == NULL) {
		attest_err_set(&out->err, ATTEST_E_UNSUPPORTED, "pipeline.type.unsupported",
			       "attestation type %s has no verifier in this build%s%s",
			       maa_type_name(r->in->type), v && v->why_missing ? ": " : "",
			       v && v->why_missing ? v->why_missing : "");
		return refuse(out, 501, "NotImplemented", "verify");
	}
	ectx.now = r->in->now;
	ectx.anchors = &r->ctx->anchors;
	ectx.collateral = r->ctx->collateral;
	ectx.flags = r->ctx->evidence_flags;
	ectx.tenant = r->in->tenant;
	ectx.tpm_keys = r->ctx->tpm_aik_cache;
	rc = sgx_baseline(r, &ectx, &out->err);
	if (rc != ATTEST_OK)
		return refuse(out, rc == ATTEST_E_NOMEM ? 500 : 400,
			      rc == ATTEST_E_NOMEM ? "InternalError" : "PolicyEvaluationError", "policy");
	attest_request_input(r->req, &ein);
	r->incoming = claim_set_new();
	if (r->incoming == NULL) {
		attest_err_set(&out->err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
		return refuse(out, 500, "InternalError", "verify");
	}
	rc = v->verify(&ectx, &ein, r->incoming, &out->err);
	if (rc != ATTEST_OK)
		return refuse(out, rc == ATTEST_E_NOMEM || rc == ATTEST_E_INTERNAL ? 500 : 400,
			      rc == ATTEST_E_NOMEM || rc == ATTEST_E_INTERNAL ? "InternalError"
									      : "InvalidParameter",
			      "verify");
	rc = token_add_request_claims(r->cat, r->req, r->incoming, &out->err);
	if (rc == ATTEST_OK && r->ctx->development)
		rc = claim_set_add_bool(r->incoming, PIPELINE_DEV_CLAIM, true);
	if (rc != ATTEST_OK)
		return refuse(out, 500, "InternalError", "verify");
	return ATTEST_OK;
}

/* Stage 3: the policy; a deny names the rule and the claim (explain mode). */
static int stage_policy(struct run *r, struct pipeline_outcome *out)
{
	char reason[ATTEST_ERR_MSG_MAX];
	int rc = policy_eval(r->plan, r->incoming, r->in->explain ? POLICY_EVAL_EXPLAIN : 0, &r->result,
			     &out->err);

	if (rc != ATTEST_OK) {
		attest_err_prefix(&out->err, "the policy could not be evaluated: ");
		return refuse(out, rc == ATTEST_E_NOMEM ? 500 : 400,
			      rc == ATTEST_E_NOMEM ? "InternalError" : "PolicyEvaluationError", "policy");
	}
	if (r->result->verdict != POLICY_PERMIT) {
		policy_result_reason(r->result, reason, sizeof(reason));
		attest_err_set(&out->err, ATTEST_E_POLICY,
			       r->result->verdict == POLICY_DENY ? "policy.deny" : "policy.no_permit",
			       "A Deny claim was issued, authorization failed: %s", reason);
		if (r->result->denial != NULL && r->result->denial->line > 0)
			attest_err_where(&out->err, "policy line %u column %u", r->result->denial->line,
					 r->result->denial->col);
		return refuse(out, 400, "PolicyEvaluationError", "policy");
	}
	return ATTEST_OK;
}

/* "<issuer>/certs" (malloc'd), or NULL when out of memory. */
static char *jku_of(const char *issuer)
{
	static const char certs[] = "/certs";
	size_t n = strlen(issuer);
	char *jku = malloc(n + sizeof(certs));

	if (jku != NULL) {
		memcpy(jku, issuer, n);
		memcpy(jku + n, certs, sizeof(certs));
	}
	return jku;
}

/* Stage 4: the token claim set, then the signature (none for a draft). */
static int stage_token(struct run *r, struct pipeline_outcome *out)
{
	struct token_attest_params p = {0};
	const char *draft = r->req ? r->req->draft_policy : NULL;
	char *jku = NULL;
	int rc;

	p.cat = r->cat;
	p.issuer = r->in->issuer;
	p.now = r->in->now;
	p.policy_hash = policy_plan_hash(r->plan);
	/* A draft was signed by no one: the stored policy's signer does not apply. */
	p.policy_signer = draft ? NULL : r->in->policy_signer;
	p.incoming = r->incoming;
	p.issued = r->result->outgoing;
	p.nonce = r->req ? r->req->nonce : NULL;
	rc = token_attest_claims(&p, &r->claims, &out->err);
	if (rc != ATTEST_OK)
		return refuse(out, 500, "InternalError", "token");
	if (draft != NULL) {
		out->token = token_encode_unsigned(r->claims);
		out->unsigned_token = true;
		if (out->token == NULL) {
			attest_err_set(&out->err, ATTEST_E_NOMEM, "pipeline.nomem",
				       "out of memory encoding the token");
			return refuse(out, 500, "InternalError", "token");
		}
		return ATTEST_OK;
	}
	if ((jku = jku_of(r->in->issuer)) == NULL) {
		attest_err_set(&out->err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
		return refuse(out, 500, "InternalError", "sign");
	}
	rc = r->in->sign(r->in->sign_arg, jku, r->claims, &out->token, &out->err);
	free(jku);
	if (rc != ATTEST_OK)
		return refuse(out, 500, "InternalError", "sign");
	return ATTEST_OK;
}

/* AzureGuest answers the sealed token (maa-interface.md §1.3.6): only the attested VM reads it. */
static int stage_seal(struct run *r, struct pipeline_outcome *out)
{
	char *sealed = NULL;

	if (azure_guest_seal_for_claims(r->incoming, out->token, &sealed, &out->err) != ATTEST_OK)
		return refuse(out, 500, "InternalError", "token");
	free(out->token);
	out->token = sealed; /* transferred */
	return ATTEST_OK;
}

/*
 * TPM, request leg: the policy's configuration rules give the TPM checks
 * their inputs (§3.5), then the protocol library verifies the request and
 * yields the incoming claims, the attested key (cnf) and rp_data.
 */
static int stage_tpm_verify(struct run *r, const struct tpm_proto_msg *m, struct pipeline_outcome *out)
{
	struct tpm_proto_cfg cfg;
	struct tpm_replay_scope scope = {.sets = r->ctx->tpm_replay, .provider = r->in->provider};
	struct tpm_proto_result res = {0};
	struct claim_set *props = NULL;
	int rc = pipeline_plan_get(r->ctx, MAA_TYPE_TPM, r->in->policy_text, r->in->policy_len, &r->plan,
				   &out->err);

	if (rc != ATTEST_OK)
		return refuse(out, 500, "InternalError", "request");
	if (policy_eval_config(r->plan, &props, &out->err) != ATTEST_OK)
		return refuse(out, 400, "PolicyEvaluationError", "policy");
	tpm_proto_cfg_defaults(&cfg);
	cfg.service_key = r->ctx->tpm_key;
	cfg.provider = r->in->provider;
	cfg.now = r->in->now;
	cfg.replay = tpm_replay_scope_check; /* the provider's own replay set */
	cfg.replay_peek = tpm_replay_scope_peek;
	cfg.replay_arg = &scope;
	cfg.require_valid_aik_cert = policy_prop_bool(props, POLICY_PROP_REQUIRE_VALID_AIK_CERT, true);
	cfg.required_pcr_mask =
	    (uint32_t)policy_prop_int(props, POLICY_PROP_REQUIRED_PCR_MASK, POLICY_DEFAULT_REQUIRED_PCR_MASK);
	cfg.aik_roots = r->ctx->anchors.tpm_roots;
	cfg.aik_cache = r->ctx->tpm_aik_cache;
	/* Explain mode shows every incoming claim; otherwise only what the policy reads is worth writing. */
	cfg.skip_text_claims = !r->in->explain && !policy_plan_reads(r->plan, "events") &&
			       !policy_plan_reads(r->plan, "bootEvents") && !policy_plan_reads(r->plan, "pcrs");
	if (r->in->tenant != NULL) {
		cfg.registered_aiks = r->in->tenant->registered_aiks;
		cfg.n_registered_aiks = r->in->tenant->n_registered_aiks;
	}
	claim_set_free(props);
	rc = tpm_proto_request(&cfg, m, &res, &out->err);
	/* The provider's replay set is full of live contexts: overloaded, not the caller wrong. */
	if (rc != ATTEST_OK && strcmp(out->err.name, "tpm.context.replay_store") == 0)
		return refuse(out, 503, "ServiceUnavailable", "verify");
	if (rc != ATTEST_OK)
		return refuse(out, rc == ATTEST_E_NOMEM || rc == ATTEST_E_INTERNAL ? 500 : 400,
			      rc == ATTEST_E_NOMEM || rc == ATTEST_E_INTERNAL ? "InternalError"
									      : "InvalidParameter",
			      "verify");
	r->incoming = res.claims;
	res.claims = NULL; /* transferred */
	rc = claim_set_add(r->incoming, "x-ms-attestation-type", json_string(r->cat->tee));
	if (rc == ATTEST_OK && r->ctx->development)
		rc = claim_set_add_bool(r->incoming, PIPELINE_DEV_CLAIM, true);
	if (rc == ATTEST_OK && res.cnf != NULL)
		rc = claim_set_add(r->incoming, "cnf", json_pack("{s:O}", "jwk", res.cnf));
	if (rc == ATTEST_OK && res.rp_data != NULL)
		rc = claim_set_add_str(r->incoming, "rp_data", res.rp_data);
	tpm_proto_result_free(&res);
	if (rc != ATTEST_OK) {
		attest_err_set(&out->err, ATTEST_E_NOMEM, "pipeline.nomem", "out of memory");
		return refuse(out, 500, "InternalError", "verify");
	}
	return ATTEST_OK;
}

/* The TPM protocol (§1.3.5): init answers a challenge; a request gets a token. */
static int run_tpm(struct run *r, struct pipeline_outcome *out)
{
	struct tpm_proto_msg m = {0};
	int rc;

	if (r->ctx->tpm_key == NULL) {
		attest_err_set(&out->err, ATTEST_E_INVALID, "pipeline.tpm.key",
			       "no TPM service key is configured");
		return refuse(out, 500, "InternalError", "request");
	}
	rc = tpm_proto_msg_parse(r->in->body, r->in->body_len, &m, &out->err);
	if (rc != ATTEST_OK)
		return refuse(out, rc == ATTEST_E_NOMEM ? 500 : 400,
			      rc == ATTEST_E_NOMEM ? "InternalError" : "InvalidParameter", "request");
	if (m.kind == TPM_PROTO_INIT) {
		struct tpm_proto_cfg cfg;

		tpm_proto_cfg_defaults(&cfg);
		cfg.service_key = r->ctx->tpm_key;
		cfg.provider = r->in->provider;
		cfg.now = r->in->now;
		rc = tpm_proto_init(&cfg, &m, &out->body, &out->err);
		if (rc != ATTEST_OK)
			rc = refuse(out, 500, "InternalError", "request");
		tpm_proto_msg_free(&m);
		return rc;
	}
	rc = stage_tpm_verify(r, &m, out);
	if (rc == ATTEST_OK)
		rc = stage_policy(r, out);
	if (rc == ATTEST_OK)
		rc = stage_token(r, out);
	if (rc == ATTEST_OK && tpm_proto_report_body(&m, out->token, &out->body, &out->err) != ATTEST_OK)
		rc = refuse(out, 500, "InternalError", "token");
	tpm_proto_msg_free(&m);
	return rc;
}

int pipeline_attest_run(const struct pipeline_ctx *ctx, const struct pipeline_attest *in,
			struct pipeline_outcome *out)
{
	struct run r = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	r.ctx = ctx;
	r.in = in;
	r.cat = token_catalogue_get(in->type);
	if (r.cat == NULL || in->issuer == NULL || (in->sign == NULL)) {
		attest_err_set(&out->err, ATTEST_E_INVALID, "pipeline.param", "bad pipeline parameters");
		return refuse(out, 500, "InternalError", "request");
	}
	if (in->type == MAA_TYPE_TPM) {
		rc = run_tpm(&r, out);
	} else {
		rc = stage_request(&r, out);
		if (rc == ATTEST_OK)
			rc = stage_verify(&r, out);
		if (rc == ATTEST_OK)
			rc = stage_policy(&r, out);
		if (rc == ATTEST_OK)
			rc = stage_token(&r, out);
		if (rc == ATTEST_OK && in->type == MAA_TYPE_AZURE_GUEST)
			rc = stage_seal(&r, out);
	}
	if (rc == ATTEST_OK) {
		out->status = 200;
		snprintf(out->stage, sizeof(out->stage), "done");
	}
	json_decref(r.claims);
	policy_result_free(r.result);
	claim_set_free(r.incoming);
	policy_plan_free(r.plan);
	attest_request_free(r.req);
	return rc;
}
