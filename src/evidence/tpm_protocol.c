/*
 * MAA TPM/VBS protocol: messages and small parsers the request path
 * needs. The request itself is verified in tpm_protocol_request.c, the
 * sealed service context is tpm_context.c, the replay sets tpm_replay.c.
 * See tpm_protocol.h.
 */
#include "evidence/tpm_protocol.h"

#include "base/codec.h"
#include "base/cur.h"
#include "base/jsonx.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------- */

void tpm_proto_cfg_defaults(struct tpm_proto_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl = TPM_PROTO_DEFAULT_TTL;
	/* MAA defaults (maa-interface.md §3.5). */
	cfg->require_valid_aik_cert = true;
	cfg->required_pcr_mask = 0xFFFFFF;
}

/* ---- messages ------------------------------------------------------------ */

void tpm_proto_msg_free(struct tpm_proto_msg *m)
{
	if (m == NULL)
		return;
	jsonx_doc_free(&m->doc);
	free(m->text);
	m->text = NULL;
	m->msg = NULL;
}

static int classify(struct tpm_proto_msg *m, struct attest_err *err)
{
	const struct jsonx_node *type = jsonx_member(&m->doc, m->msg, "type");
	const struct jsonx_node *req = jsonx_member(&m->doc, m->msg, "request");
	size_t n = 0;
	const char *s;

	if (type != NULL) {
		s = jsonx_str(&m->doc, type, &n);
		if (s == NULL || n != 7 || memcmp(s, "aikcert", 7) != 0)
			return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.type",
					      "init message type must be \"aikcert\"");
		m->kind = TPM_PROTO_INIT;
		return ATTEST_OK;
	}
	if (req != NULL && req->kind == JSONX_STRING) {
		m->kind = TPM_PROTO_REQUEST;
		return ATTEST_OK;
	}
	return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.message",
			      "the message is neither an init ({\"type\"}) nor a request ({\"request\"})");
}

/* {"data": b64url(message)}: the message decoded and indexed in place of the envelope. */
static int open_envelope(struct tpm_proto_msg *m, const struct jsonx_node *data, struct attest_err *err)
{
	size_t n = 0, rawlen = 0;
	const char *s = jsonx_str(&m->doc, data, &n);

	m->enveloped = true;
	if (b64_decode(s, n, &m->text, &rawlen) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.body", "\"data\" is not base64url");
	jsonx_doc_free(&m->doc);
	return jsonx_index((const char *)m->text, rawlen, &m->doc, "tpm.proto.body", "TPM message", err);
}

int tpm_proto_msg_parse(const char *body, size_t len, struct tpm_proto_msg *out, struct attest_err *err)
{
	struct tpm_proto_msg m = {0};
	const struct jsonx_node *data, *payload;
	int rc;

	if (len > TPM_PROTO_MAX_BODY)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.body", "request body too large");
	if ((rc = jsonx_index(body, len, &m.doc, "tpm.proto.body", "TPM request", err)) != ATTEST_OK)
		return rc;
	data = jsonx_member(&m.doc, m.doc.nodes, "data");
	if (data != NULL && data->kind == JSONX_STRING && (rc = open_envelope(&m, data, err)) != ATTEST_OK) {
		tpm_proto_msg_free(&m);
		return rc;
	}
	m.msg = m.doc.nodes;
	payload = jsonx_member(&m.doc, m.msg, "payload");
	if (payload != NULL && payload->kind == JSONX_OBJECT) {
		m.wrapped = true;
		m.msg = payload;
	}
	if (m.msg->kind != JSONX_OBJECT) {
		tpm_proto_msg_free(&m);
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.proto.body", "the message is not a JSON object");
	}
	if ((rc = classify(&m, err)) != ATTEST_OK) {
		tpm_proto_msg_free(&m);
		return rc;
	}
	*out = m;
	return ATTEST_OK;
}

/* Dresses a response message (stolen) in the form of the request. */
static int respond(const struct tpm_proto_msg *m, json_t *msg, char **body, struct attest_err *err)
{
	json_t *top = msg;
	char *text;

	if (m->wrapped) {
		top = json_object();
		json_object_set_new(top, "payload", msg);
	}
	if (m->enveloped) {
		char *inner = jsonx_dump(top);
		char *b64 = inner ? b64url_encode((const uint8_t *)inner, strlen(inner)) : NULL;

		free(inner);
		json_decref(top);
		top = json_object();
		json_object_set_new(top, "data", b64 ? json_string(b64) : json_null());
		free(b64);
	}
	text = jsonx_dump(top);
	json_decref(top);
	if (text == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "tpm.proto.response", "out of memory");
	*body = text;
	return ATTEST_OK;
}

int tpm_proto_init(const struct tpm_proto_cfg *cfg, const struct tpm_proto_msg *m, char **body,
		   struct attest_err *err)
{
	uint8_t challenge[TPM_PROTO_CHALLENGE_LEN], id[TPM_PROTO_ID_LEN];
	uint32_t ttl = cfg->ttl ? cfg->ttl : TPM_PROTO_DEFAULT_TTL;
	char *ctx = NULL, *ch;
	json_t *msg;
	int rc;

	if (cfg->service_key == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.config", "no service key configured");
	if (m->kind != TPM_PROTO_INIT)
		return attest_err_set(err, ATTEST_E_INVALID, "tpm.proto.message", "not an init message");
	if (RAND_bytes(challenge, sizeof(challenge)) != 1 || RAND_bytes(id, sizeof(id)) != 1)
		return attest_err_set(err, ATTEST_E_INTERNAL, "tpm.proto.random", "no randomness");
	if ((rc = tpm_context_seal(cfg->service_key, cfg->provider ? cfg->provider : TPM_CONTEXT_NO_PROVIDER,
				   id, cfg->now, cfg->now + ttl, challenge, sizeof(challenge), &ctx, err)) !=
	    ATTEST_OK)
		return rc;
	ch = b64url_encode(challenge, sizeof(challenge));
	msg = json_object();
	json_object_set_new(msg, "challenge", ch ? json_string(ch) : json_null());
	json_object_set_new(msg, "service_context", json_string(ctx));
	free(ch);
	free(ctx);
	return respond(m, msg, body, err);
}

int tpm_proto_report_body(const struct tpm_proto_msg *m, const char *jwt, char **body,
			  struct attest_err *err)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "report", json_string(jwt));
	return respond(m, msg, body, err);
}

/* ---- PCP platform attestation blob ---------------------------------------- */

#define PCP_MAGIC 0x53444150u   /* 'SDAP' as a little-endian u32: bytes "PADS" */
#define PCP_HEADER_V1 28
#define PCP_HEADER_V2 32

int tpm_pcp_blob_parse(const uint8_t *p, size_t n, struct tpm_pcp_blob *out, struct attest_err *err)
{
	struct tpm_pcp_blob b;
	struct cur c;
	uint32_t magic, hsize, cpcr, cquote, csig, clog, alg = TPM2_ALG_SHA1;

	memset(&b, 0, sizeof(b));
	cur_init(&c, p, n);
	if (cur_u32le(&c, &magic) || cur_u32le(&c, &b.platform) || cur_u32le(&c, &hsize) ||
	    cur_u32le(&c, &cpcr) || cur_u32le(&c, &cquote) || cur_u32le(&c, &csig) || cur_u32le(&c, &clog))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.truncated", "platform claim header cut short");
	if (magic != PCP_MAGIC)
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.magic",
				      "platform claim magic 0x%08x is not PCP_PLATFORM_ATTESTATION_MAGIC", magic);
	if (hsize < PCP_HEADER_V1 || hsize > n || (hsize >= PCP_HEADER_V2 && cur_u32le(&c, &alg)))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.size", "HeaderSize %u is impossible", hsize);
	cur_init(&c, p, n);
	if (cur_skip(&c, hsize) || cur_take(&c, cpcr, &b.pcrs) || cur_take(&c, cquote, &b.quote) ||
	    cur_take(&c, csig, &b.sig) || cur_take(&c, clog, &b.log))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.truncated",
				      "platform claim parts exceed its %zu bytes", n);
	if (!cur_empty(&c))
		return attest_err_set(err, ATTEST_E_PARSE, "tpm.pcp.trailing",
				      "%zu bytes after the platform claim's parts", cur_left(&c));
	b.pcrs_len = cpcr;
	b.quote_len = cquote;
	b.sig_len = csig;
	b.log_len = clog;
	b.pcr_alg = (uint16_t)alg;
	*out = b;
	return ATTEST_OK;
}
