#ifndef ATTEST_TOKEN_REQUEST_H
#define ATTEST_TOKEN_REQUEST_H

/*
 * Decoding of attest request bodies (maa-interface.md §1.3) into what a
 * verifier takes. The body is untrusted JSON; every member is checked for
 * presence, type, encoding and size before anything is decoded, and each
 * failure has its own error name (request.<member>.<problem>) and a message
 * naming the member, so a 400 says exactly what was wrong.
 *
 * Shapes (member names as the swagger spells them, plus the aliases older
 * clients use):
 *   SgxEnclave   {quote, runtimeData?, initTimeData?, draftPolicyForAttestation?, nonce?}
 *                (legacy: Quote, enclaveHeldData / EnclaveHeldData = Binary runtime data)
 *   OpenEnclave  {report, ...same}
 *   SevSnpVm     {report, ...same}: report = b64url of the JSON {SnpReport, VcekCertChain,
 *                Endorsements?}; the evidence handed on is that decoded JSON text
 *   TdxVm        {quote, runtimeData?, initTimeData?, nonce?}
 *   AzureGuest   {AttestationInfo | attestationInfo}: b64url of a JSON text
 *   Tpm          {data}: b64url of one protocol message (JSON text)
 * Binary members are base64 in either alphabet, padded or not (§1.1).
 * JSON null for an optional member means absent.
 */

#include "attest/error.h"
#include "evidence/evidence.h"
#include "token/catalogue.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Size limits (decoded bytes / characters). Real SGX bodies are ~6.5 KB. */
#define ATTEST_REQUEST_MAX_BODY	    (4u * 1024 * 1024)
#define ATTEST_REQUEST_MAX_EVIDENCE (1u * 1024 * 1024)
#define ATTEST_REQUEST_MAX_DATA	    (256u * 1024)
#define ATTEST_REQUEST_MAX_NONCE    2048u
#define ATTEST_REQUEST_MAX_DRAFT    (256u * 1024)

/* One of runtimeData / initTimeData. */
struct attest_request_data {
	uint8_t *bytes; /* decoded data, NULL when absent */
	size_t len;
	enum evidence_data_type type; /* EVIDENCE_DATA_NONE when absent */
	json_t *json;		      /* the parsed JSON when type is JSON */
};

struct attest_request {
	enum maa_type type;
	uint8_t *evidence; /* quote / report / message bytes */
	size_t evidence_len;
	struct attest_request_data runtime;
	struct attest_request_data init;
	char *nonce;	    /* NULL when absent */
	char *draft_policy; /* policy text, NULL when absent or empty */
};

/*
 * Decodes `body` (len bytes, not NUL-terminated) as an attest request of
 * `type`. On success *out is a new request owned by the caller
 * (attest_request_free). Errors (rc ATTEST_E_PARSE unless said):
 *   request.body.too_large (ATTEST_E_NOMEM), request.body.json, request.body.not_object,
 *   request.<member>.missing, .type, .base64, .empty, .too_large,
 *   .duplicate (two spellings of one member), .data_type (unknown dataType),
 *   .json (dataType JSON but the data is not JSON), .nul (a NUL in text),
 *   request.type.unsupported (ATTEST_E_UNSUPPORTED: no request shape for the type).
 */
int attest_request_decode(enum maa_type type, const char *body, size_t len, struct attest_request **out,
			  struct attest_err *err);
void attest_request_free(struct attest_request *req);

/*
 * Fills the verifier's view of the request. Pointers borrow from req, which
 * must outlive `in`.
 */
void attest_request_input(const struct attest_request *req, struct evidence_input *in);

#endif
