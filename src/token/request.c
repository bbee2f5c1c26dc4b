/* Attest request bodies: see request.h. Member shapes: maa-interface.md §1.3. */
#include "token/request.h"

#include "base/codec.h"
#include "base/jsonx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The evidence member of each type, its error-name stem, and its aliases. */
struct evidence_member {
	const char *names[3]; /* canonical first; NULL-terminated list of spellings */
	const char *stem;     /* "quote" -> request.quote.* */
};

static const struct evidence_member EVIDENCE_MEMBERS[MAA_TYPE_COUNT] = {
    [MAA_TYPE_SGX_ENCLAVE] = {{"quote", "Quote", NULL}, "quote"},
    [MAA_TYPE_OPEN_ENCLAVE] = {{"report", "Report", NULL}, "report"},
    [MAA_TYPE_SEV_SNP_VM] = {{"report", "Report", NULL}, "report"},
    [MAA_TYPE_TDX_VM] = {{"quote", "Quote", NULL}, "quote"},
    [MAA_TYPE_TPM] = {{"data", NULL, NULL}, "data"},
    [MAA_TYPE_AZURE_GUEST] = {{"AttestationInfo", "attestationInfo", NULL}, "attestation_info"},
};

/* Spellings of the optional members (§1.3.1; legacy enclaveHeldData, §1.3.2). */
static const char *const RUNTIME_NAMES[] = {"runtimeData", "RuntimeData", NULL};
static const char *const INIT_NAMES[] = {"initTimeData", "InitTimeData", NULL};
static const char *const EHD_NAMES[] = {"enclaveHeldData", "EnclaveHeldData", NULL};
static const char *const NONCE_NAMES[] = {"nonce", "Nonce", NULL};
static const char *const DRAFT_NAMES[] = {"draftPolicyForAttestation", "DraftPolicyForAttestation", NULL};

/*
 * Records request.<stem>.<problem> with a message, and where = the member.
 * Returns rc.
 */
static int __attribute__((format(printf, 6, 7)))
fail(struct attest_err *err, int rc, const char *stem, const char *problem, const char *member,
     const char *fmt, ...)
{
	char name[ATTEST_ERR_NAME_MAX], msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL || err->rc != ATTEST_OK)
		return rc;
	snprintf(name, sizeof(name), "request.%s.%s", stem, problem);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, rc, name, "%s", msg);
	attest_err_where(err, "request body member \"%s\"", member);
	return rc;
}

/*
 * Finds the one present spelling of a member. JSON null counts as absent.
 * *found is the member name used (for messages), NULL when absent.
 */
static int member_get(const json_t *obj, const char *const *names, const char *stem, json_t **out,
		      const char **found, struct attest_err *err)
{
	*out = NULL;
	*found = NULL;
	for (size_t i = 0; names[i] != NULL; i++) {
		json_t *v = json_object_get(obj, names[i]);

		if (v == NULL || json_is_null(v))
			continue;
		if (*out != NULL)
			return fail(err, ATTEST_E_PARSE, stem, "duplicate", names[i],
				    "the request gives member \"%s\" twice, under two spellings", names[i]);
		*out = v;
		*found = names[i];
	}
	return ATTEST_OK;
}

/* A string member's text, refusing embedded NULs and over-long values. */
static int member_text(const json_t *v, const char *member, const char *stem, size_t max, const char **out,
		       size_t *len, struct attest_err *err)
{
	if (!json_is_string(v))
		return fail(err, ATTEST_E_PARSE, stem, "type", member, "member \"%s\" must be a string",
			    member);
	*out = json_string_value(v);
	*len = json_string_length(v);
	if (memchr(*out, '\0', *len) != NULL)
		return fail(err, ATTEST_E_PARSE, stem, "nul", member,
			    "member \"%s\" contains a NUL character", member);
	if (*len > max) {
		return fail(err, ATTEST_E_NOMEM, stem, "too_large", member,
			    "member \"%s\" is %zu characters, over the limit of %zu", member, *len, max);
	}
	return ATTEST_OK;
}

/*
 * Decodes a base64 (either alphabet) string member into bytes of at most
 * max_bytes. An empty string gives zero bytes (allowed: the empty runtime
 * data of the OE plugin vectors); the caller refuses it where it must not be.
 */
static int member_bytes(const json_t *v, const char *member, const char *stem, size_t max_bytes,
			uint8_t **out, size_t *outlen, struct attest_err *err)
{
	const char *text = NULL;
	size_t len = 0;
	/* base64 of max_bytes is at most 4*ceil(max/3) characters. */
	size_t max_text = (max_bytes / 3 + 1) * 4;
	int rc = member_text(v, member, stem, max_text, &text, &len, err);

	if (rc != ATTEST_OK)
		return rc;
	rc = b64_decode(text, len, out, outlen);
	if (rc == ATTEST_E_NOMEM)
		return attest_err_set(err, rc, "request.nomem", "out of memory decoding \"%s\"", member);
	if (rc != ATTEST_OK)
		return fail(
		    err, ATTEST_E_PARSE, stem, "base64", member,
		    "member \"%s\" is not base64 or base64url text (one alphabet, optional '=' padding)",
		    member);
	if (*outlen > max_bytes) {
		free(*out);
		*out = NULL;
		return fail(err, ATTEST_E_NOMEM, stem, "too_large", member,
			    "member \"%s\" decodes to too many bytes", member);
	}
	return ATTEST_OK;
}

/* dataType: "Binary" or "JSON" (any case); missing means Binary (§1.3.1). */
static int data_type_parse(const json_t *obj, const char *member, const char *stem,
			   enum evidence_data_type *out, struct attest_err *err)
{
	json_t *dt = json_object_get(obj, "dataType");
	const char *s;

	if (dt == NULL || json_is_null(dt)) {
		*out = EVIDENCE_DATA_BINARY;
		return ATTEST_OK;
	}
	if (!json_is_string(dt))
		return fail(err, ATTEST_E_PARSE, stem, "data_type", member,
			    "member \"%s.dataType\" must be a string", member);
	s = json_string_value(dt);
	if (strcasecmp(s, "Binary") == 0 && strlen(s) == json_string_length(dt))
		*out = EVIDENCE_DATA_BINARY;
	else if (strcasecmp(s, "JSON") == 0 && strlen(s) == json_string_length(dt))
		*out = EVIDENCE_DATA_JSON;
	else
		return fail(err, ATTEST_E_PARSE, stem, "data_type", member,
			    "member \"%s.dataType\" must be \"Binary\" or \"JSON\"", member);
	return ATTEST_OK;
}

/* runtimeData / initTimeData: {"data": b64, "dataType": "Binary"|"JSON"}. */
static int data_decode(const json_t *v, const char *member, const char *stem, struct attest_request_data *d,
		       struct attest_err *err)
{
	char sub[96];
	json_t *data;
	int rc;

	if (!json_is_object(v))
		return fail(err, ATTEST_E_PARSE, stem, "type", member,
			    "member \"%s\" must be an object {\"data\": ..., \"dataType\": ...}", member);
	rc = data_type_parse(v, member, stem, &d->type, err);
	if (rc != ATTEST_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s.data", member);
	data = json_object_get(v, "data");
	if (data == NULL || json_is_null(data))
		return fail(err, ATTEST_E_PARSE, stem, "missing", sub, "member \"%s\" is missing", sub);
	rc = member_bytes(data, sub, stem, ATTEST_REQUEST_MAX_DATA, &d->bytes, &d->len, err);
	if (rc != ATTEST_OK)
		return rc;
	if (d->type == EVIDENCE_DATA_JSON) {
		struct attest_err jerr;

		attest_err_clear(&jerr);
		if (jsonx_parse((const char *)d->bytes, d->len, &d->json, "request.json", sub, &jerr) !=
		    ATTEST_OK)
			return fail(err, ATTEST_E_PARSE, stem, "json", sub,
				    "member \"%s\" has dataType JSON but its data is not valid UTF-8 JSON "
				    "(%s at %s)",
				    sub, jerr.msg, jerr.where);
	}
	return ATTEST_OK;
}

/* The evidence member: required, base64, not empty. */
static int evidence_decode(const json_t *doc, enum maa_type type, struct attest_request *req,
			   struct attest_err *err)
{
	const struct evidence_member *m = &EVIDENCE_MEMBERS[type];
	const char *found = NULL;
	json_t *v = NULL;
	int rc = member_get(doc, m->names, m->stem, &v, &found, err);

	if (rc != ATTEST_OK)
		return rc;
	if (v == NULL)
		return fail(err, ATTEST_E_PARSE, m->stem, "missing", m->names[0], "member \"%s\" is missing",
			    m->names[0]);
	rc = member_bytes(v, found, m->stem, ATTEST_REQUEST_MAX_EVIDENCE, &req->evidence, &req->evidence_len,
			  err);
	if (rc != ATTEST_OK)
		return rc;
	if (req->evidence_len == 0)
		return fail(err, ATTEST_E_PARSE, m->stem, "empty", found, "member \"%s\" is empty", found);
	return ATTEST_OK;
}

/* runtimeData, or the legacy enclaveHeldData (Binary runtime data, §1.3.2). */
static int runtime_decode(const json_t *doc, struct attest_request *req, struct attest_err *err)
{
	const char *found = NULL, *ehd_found = NULL;
	json_t *v = NULL, *ehd = NULL;
	int rc = member_get(doc, RUNTIME_NAMES, "runtime_data", &v, &found, err);

	if (rc == ATTEST_OK)
		rc = member_get(doc, EHD_NAMES, "runtime_data", &ehd, &ehd_found, err);
	if (rc != ATTEST_OK)
		return rc;
	if (v != NULL && ehd != NULL)
		return fail(err, ATTEST_E_PARSE, "runtime_data", "duplicate", ehd_found,
			    "the request gives both runtimeData and \"%s\"", ehd_found);
	if (v != NULL)
		return data_decode(v, found, "runtime_data", &req->runtime, err);
	if (ehd != NULL) {
		req->runtime.type = EVIDENCE_DATA_BINARY;
		return member_bytes(ehd, ehd_found, "runtime_data", ATTEST_REQUEST_MAX_DATA,
				    &req->runtime.bytes, &req->runtime.len, err);
	}
	return ATTEST_OK;
}

static int optional_data_decode(const json_t *doc, const char *const *names, const char *stem,
				struct attest_request_data *d, struct attest_err *err)
{
	const char *found = NULL;
	json_t *v = NULL;
	int rc = member_get(doc, names, stem, &v, &found, err);

	if (rc != ATTEST_OK || v == NULL)
		return rc;
	return data_decode(v, found, stem, d, err);
}

static int optional_text(const json_t *doc, const char *const *names, const char *stem, size_t max,
			 char **out, struct attest_err *err)
{
	const char *found = NULL, *text = NULL;
	size_t len = 0;
	json_t *v = NULL;
	int rc = member_get(doc, names, stem, &v, &found, err);

	if (rc != ATTEST_OK || v == NULL)
		return rc;
	rc = member_text(v, found, stem, max, &text, &len, err);
	if (rc != ATTEST_OK || text == NULL)
		return rc != ATTEST_OK ? rc : ATTEST_E_INTERNAL;
	*out = strndup(text, len);
	if (*out == NULL)
		return attest_err_set(err, ATTEST_E_NOMEM, "request.nomem", "out of memory copying \"%s\"",
				      found);
	return ATTEST_OK;
}

/* The members shared by the TEE types (all but Tpm and AzureGuest). */
static int common_members_decode(const json_t *doc, enum maa_type type, struct attest_request *req,
				 struct attest_err *err)
{
	int rc = runtime_decode(doc, req, err);

	if (rc == ATTEST_OK)
		rc = optional_data_decode(doc, INIT_NAMES, "init_time_data", &req->init, err);
	if (rc == ATTEST_OK)
		rc = optional_text(doc, NONCE_NAMES, "nonce", ATTEST_REQUEST_MAX_NONCE, &req->nonce, err);
	/* TdxVm's shape has no draft policy (§1.3.4); it is accepted there too,
	 * since evaluating a draft is harmless and clients generated from later
	 * specs may send it. */
	if (rc == ATTEST_OK)
		rc = optional_text(doc, DRAFT_NAMES, "draft_policy", ATTEST_REQUEST_MAX_DRAFT,
				   &req->draft_policy, err);
	if (rc == ATTEST_OK && req->draft_policy != NULL && req->draft_policy[0] == '\0') {
		free(req->draft_policy); /* "" is no draft: the stored policy applies */
		req->draft_policy = NULL;
	}
	return rc;
}

int attest_request_decode(enum maa_type type, const char *body, size_t len, struct attest_request **out,
			  struct attest_err *err)
{
	struct attest_request *req = NULL;
	json_t *doc = NULL;
	int rc;

	if ((unsigned)type >= MAA_TYPE_COUNT)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "request.type.unsupported",
				      "no request shape for attestation type %d", (int)type);
	if (len > ATTEST_REQUEST_MAX_BODY)
		return attest_err_set(err, ATTEST_E_NOMEM, "request.body.too_large",
				      "the request body is %zu bytes, over the %u-byte limit", len,
				      ATTEST_REQUEST_MAX_BODY);
	{
		struct attest_err jerr;

		attest_err_clear(&jerr);
		if (jsonx_parse(body, len, &doc, "request.body.json", "request body", &jerr) != ATTEST_OK) {
			attest_err_set(err, ATTEST_E_PARSE, "request.body.json", "%s", jerr.msg);
			attest_err_where(err, "%s", jerr.where);
			return ATTEST_E_PARSE;
		}
	}
	if (!json_is_object(doc)) {
		rc = attest_err_set(err, ATTEST_E_PARSE, "request.body.not_object",
				    "the request body must be a JSON object");
		goto out;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		rc = attest_err_set(err, ATTEST_E_NOMEM, "request.nomem", "out of memory");
		goto out;
	}
	req->type = type;
	rc = evidence_decode(doc, type, req, err);
	if (rc == ATTEST_OK && type != MAA_TYPE_TPM && type != MAA_TYPE_AZURE_GUEST)
		rc = common_members_decode(doc, type, req, err);
	if (rc == ATTEST_OK) {
		*out = req;
		req = NULL; /* transferred */
	}
out:
	attest_request_free(req);
	json_decref(doc);
	return rc;
}

static void data_free(struct attest_request_data *d)
{
	free(d->bytes);
	json_decref(d->json);
}

void attest_request_free(struct attest_request *req)
{
	if (req == NULL)
		return;
	free(req->evidence);
	data_free(&req->runtime);
	data_free(&req->init);
	free(req->nonce);
	free(req->draft_policy);
	free(req);
}

void attest_request_input(const struct attest_request *req, struct evidence_input *in)
{
	memset(in, 0, sizeof(*in));
	in->evidence = req->evidence;
	in->evidence_len = req->evidence_len;
	in->runtime_data = req->runtime.bytes;
	in->runtime_data_len = req->runtime.len;
	in->runtime_data_type = req->runtime.type;
	in->init_data = req->init.bytes;
	in->init_data_len = req->init.len;
	in->init_data_type = req->init.type;
	in->nonce = req->nonce;
}
