/*
 * The router on arbitrary request paths and methods (against attestd's own
 * and the pipeline's route patterns), and the MAA error body on arbitrary
 * messages. Input: method, '\n', path.
 */
#include "server/http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(struct http_request *req, struct http_response *resp, void *arg)
{
	(void)req, (void)resp, (void)arg;
}

static const char *const PATTERNS[][2] = {
	{"GET", "/certs"},
	{"GET", "/.well-known/openid-configuration"},
	{"POST", "/attest/{type}"},
	{"GET", "/policies/{type}"},
	{"PUT", "/policies/{type}"},
	{"POST", "/policies/{type}:reset"},
	{"GET", "/certificates"},
	{"POST", "/certificates:add"},
	{"POST", "/certificates:remove"},
	{"GET", "/management/providers/{name}"},
	{"PATCH", "/management/providers/{name}"},
	{"GET", "/management/audit:verify"},
	{"GET", "/a/{x}/b/{y}:z"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_router *r;
	struct http_route_hit hit;
	struct http_response resp;
	char *text = malloc(size + 1), *nl;

	if (text == NULL)
		return 0;
	if (r == NULL) {
		r = http_router_new();
		for (size_t i = 0; i < sizeof(PATTERNS) / sizeof(PATTERNS[0]); i++)
			http_router_add(r, PATTERNS[i][0], PATTERNS[i][1], 0, h, NULL, NULL);
	}
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl != NULL) {
		*nl = '\0';
		if (http_router_match(r, text, nl + 1, &hit) == HTTP_MATCH_OK) {
			for (size_t i = 0; i < hit.nparams; i++) {
				/* Every parameter lies inside the path. */
				if (hit.param_off[i] + hit.param_len[i] > strlen(nl + 1))
					abort();
			}
		}
	}
	memset(&resp, 0, sizeof(resp));
	http_resp_error(&resp, 400, "InvalidParameter", "%s", text);
	buf_free(&resp.body);
	free(text);
	return 0;
}
