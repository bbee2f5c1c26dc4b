/* attestctl's HTTP client: libcurl, TLS verified against --cacert or the system store. */
#include "cli/cli.h"

#include "base/buf.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_RESPONSE (32u * 1024 * 1024)

void cli_response_free(struct cli_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;

	if (buf_append(b, p, size * nmemb) != ATTEST_OK)
		return 0; /* makes curl fail the transfer: the response is too large */
	return size * nmemb;
}

/* The URL of path on the server; the API version is added to MAA paths. */
static char *make_url(const struct cli *cli, const char *path)
{
	struct buf b;
	size_t n = strlen(cli->url);

	if (strncmp(path, "https://", 8) == 0 || strncmp(path, "http://", 7) == 0)
		return strdup(path); /* an absolute URL (a JWKS, an issuer) */
	buf_init(&b, 16384);
	if (buf_append(&b, cli->url, n > 0 && cli->url[n - 1] == '/' ? n - 1 : n) != ATTEST_OK ||
	    buf_append_str(&b, path) != ATTEST_OK) {
		buf_free(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, NULL);
}

int cli_http(const struct cli *cli, const char *method, const char *path, const char *body,
	     struct cli_response *out)
{
	struct curl_slist *hdrs = NULL;
	char auth[8192], errbuf[CURL_ERROR_SIZE] = "";
	struct buf resp;
	char *url = make_url(cli, path);
	CURL *h = curl_easy_init();
	CURLcode cc;
	int rc = CLI_SERVER;

	buf_init(&resp, CLI_MAX_RESPONSE);
	if (h == NULL || url == NULL) {
		rc = CLI_LOCAL;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cli->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, cli->cacert);
	if (body) {
		/* MAA's policy bodies are bare JWS text; everything else is JSON. */
		bool json = body[0] == '{' || body[0] == '"' || body[0] == '[';

		hdrs = curl_slist_append(hdrs, json ? "Content-Type: application/json" : "Content-Type: text/plain");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (cli->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cli->token);
		hdrs = curl_slist_append(hdrs, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		cli_error(cli, "%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->body = (char *)buf_steal(&resp, &out->len);
	rc = out->body ? CLI_OK : CLI_LOCAL;
out:
	buf_free(&resp);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	free(url);
	return rc;
}

int cli_http_fail(const struct cli *cli, const char *what, const struct cli_response *r)
{
	json_t *doc = json_loads(r->body ? r->body : "", 0, NULL);
	json_t *e = json_object_get(doc, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (code || msg)
		cli_error(cli, "%s: HTTP %ld %s: %s", what, r->status, code ? code : "", msg ? msg : "");
	else
		cli_error(cli, "%s: HTTP %ld: %.200s", what, r->status, r->body ? r->body : "");
	json_decref(doc);
	return r->status == 400 || r->status == 401 || r->status == 403 ? CLI_REFUSED : CLI_SERVER;
}
