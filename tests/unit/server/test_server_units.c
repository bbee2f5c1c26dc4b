/*
 * attestd's transport-free parts: the router (http.h), responses in MAA's
 * error shape, the configuration (flags, key = value and JSON files), the
 * per-provider token buckets and the Prometheus rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void h_a(struct http_request *req, struct http_response *resp, void *arg)
{
	(void)req, (void)resp, (void)arg;
}

static void h_b(struct http_request *req, struct http_response *resp, void *arg)
{
	(void)req, (void)resp, (void)arg;
}

static struct http_router *router_with(void)
{
	struct http_router *r = http_router_new();
	struct attest_err err = {0};

	assert_non_null(r);
	assert_int_equal(http_router_add(r, "GET", "/certs", 0, h_a, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_add(r, "POST", "/attest/{type}", HTTP_ROUTE_API_VERSION, h_a, NULL, &err),
			 ATTEST_OK);
	assert_int_equal(http_router_add(r, "GET", "/policies/{type}", 0, h_a, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_add(r, "POST", "/policies/{type}:reset", 0, h_b, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_add(r, "POST", "/certificates:add", 0, h_b, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_add(r, "GET", "/management/providers/{name}", 0, h_a, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_add(r, "GET", "/management/providers/default", 0, h_b, NULL, &err), ATTEST_OK);
	return r;
}

static void router_matches_literals_and_parameters(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;
	const char *path = "/attest/SgxEnclave";

	(void)state;
	assert_int_equal(http_router_match(r, "GET", "/certs", &hit), HTTP_MATCH_OK);
	assert_ptr_equal(hit.fn, h_a);
	assert_int_equal(http_router_match(r, "POST", path, &hit), HTTP_MATCH_OK);
	assert_int_equal(hit.flags, HTTP_ROUTE_API_VERSION);
	assert_int_equal(hit.nparams, 1);
	assert_string_equal(hit.param_names[0], "type");
	assert_int_equal(hit.param_len[0], strlen("SgxEnclave"));
	assert_memory_equal(path + hit.param_off[0], "SgxEnclave", hit.param_len[0]);
	http_router_free(r);
}

static void router_parameter_with_literal_suffix_takes_the_prefix(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;
	const char *path = "/policies/Tpm:reset";

	(void)state;
	assert_int_equal(http_router_match(r, "POST", path, &hit), HTTP_MATCH_OK);
	assert_ptr_equal(hit.fn, h_b);
	assert_int_equal(hit.param_len[0], 3);
	assert_memory_equal(path + hit.param_off[0], "Tpm", 3);
	/* GET /policies/{type} must not swallow ":reset" into its parameter. */
	assert_int_equal(http_router_match(r, "GET", path, &hit), HTTP_MATCH_NO_METHOD);
	/* An empty parameter before the suffix is no match. */
	assert_int_equal(http_router_match(r, "POST", "/policies/:reset", &hit), HTTP_MATCH_NO_PATH);
	http_router_free(r);
}

static void router_prefers_a_literal_segment_over_a_parameter(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;

	(void)state;
	assert_int_equal(http_router_match(r, "GET", "/management/providers/default", &hit), HTTP_MATCH_OK);
	assert_ptr_equal(hit.fn, h_b);
	assert_int_equal(http_router_match(r, "GET", "/management/providers/other", &hit), HTTP_MATCH_OK);
	assert_ptr_equal(hit.fn, h_a);
	http_router_free(r);
}

static void router_ignores_one_trailing_slash_and_refuses_odd_paths(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;

	(void)state;
	assert_int_equal(http_router_match(r, "GET", "/certs/", &hit), HTTP_MATCH_OK);
	assert_int_equal(http_router_match(r, "GET", "/certs//", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "GET", "//certs", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "GET", "certs", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "GET", "", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "POST", "/attest/Sgx%2FEnclave", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "POST", "/attest/a/b", &hit), HTTP_MATCH_NO_PATH);
	assert_int_equal(http_router_match(r, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n", &hit), HTTP_MATCH_NO_PATH);
	http_router_free(r);
}

static void router_reports_allowed_methods_and_maps_head_to_get(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;

	(void)state;
	assert_int_equal(http_router_match(r, "DELETE", "/certs", &hit), HTTP_MATCH_NO_METHOD);
	assert_string_equal(hit.allow, "GET");
	assert_int_equal(http_router_match(r, "HEAD", "/certs", &hit), HTTP_MATCH_OK);
	http_router_free(r);
}

static void router_registration_replaces_the_same_route(void **state)
{
	struct http_router *r = router_with();
	struct http_route_hit hit;
	struct attest_err err = {0};

	(void)state;
	assert_int_equal(http_router_add(r, "GET", "/policies/{type}", HTTP_ROUTE_READER, h_b, NULL, &err), ATTEST_OK);
	assert_int_equal(http_router_match(r, "GET", "/policies/SgxEnclave", &hit), HTTP_MATCH_OK);
	assert_ptr_equal(hit.fn, h_b);
	assert_int_equal(hit.flags, HTTP_ROUTE_READER);
	http_router_free(r);
}

static void router_refuses_malformed_patterns(void **state)
{
	struct http_router *r = http_router_new();
	struct attest_err err = {0};

	(void)state;
	assert_int_equal(http_router_add(r, "GET", "certs", 0, h_a, NULL, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "http.route.pattern");
	attest_err_clear(&err);
	assert_int_equal(http_router_add(r, "GET", "/a/{x", 0, h_a, NULL, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(http_router_add(r, "GET", "/a/{}", 0, h_a, NULL, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(http_router_add(r, "GET", "/a//b", 0, h_a, NULL, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	assert_int_equal(http_router_add(r, "GET", "/a", 0, NULL, NULL, &err), ATTEST_E_INVALID);
	http_router_free(r);
}

static void error_response_has_maa_body_and_error_code_header(void **state)
{
	struct http_response resp;
	json_t *j;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(http_resp_error(&resp, 400, "InvalidParameter", "bad %s", "quote"), ATTEST_OK);
	assert_int_equal(resp.status, 400);
	assert_string_equal(resp.content_type, "application/json; charset=utf-8");
	j = json_loadb((const char *)resp.body.p, resp.body.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "InvalidParameter");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "bad quote");
	json_decref(j);
	assert_int_equal(resp.nheaders, 1);
	assert_string_equal(resp.headers[0].name, "x-ms-error-code");
	assert_string_equal(resp.headers[0].value, "InvalidParameter");
	assert_string_equal(resp.error_code, "InvalidParameter");
	buf_free(&resp.body);
}

static void error_from_record_names_code_and_place(void **state)
{
	struct http_response resp;
	struct attest_err err = {0};

	(void)state;
	memset(&resp, 0, sizeof(resp));
	attest_err_set(&err, ATTEST_E_PARSE, "sgx.quote.truncated", "quote ends early");
	attest_err_where(&err, "quote+0x30");
	http_resp_error_from(&resp, 400, "InvalidParameter", &err);
	assert_non_null(strstr((const char *)resp.body.p, "quote ends early (sgx.quote.truncated at quote+0x30)"));
	buf_free(&resp.body);
}

static void response_headers_are_bounded_and_replaced_by_name(void **state)
{
	struct http_response resp;
	char name[16];

	(void)state;
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(http_resp_header(&resp, "Retry-After", "1"), ATTEST_OK);
	assert_int_equal(http_resp_header(&resp, "retry-after", "2"), ATTEST_OK);
	assert_int_equal(resp.nheaders, 1);
	assert_string_equal(resp.headers[0].value, "2");
	{
		/* Replacing with a value that does not fit is refused, not truncated. */
		static char big[HTTP_HEADER_VALUE_MAX + 1];

		memset(big, 'a', HTTP_HEADER_VALUE_MAX);
		assert_int_equal(http_resp_header(&resp, "Retry-After", big), ATTEST_E_NOMEM);
		assert_string_equal(resp.headers[0].value, "2");
	}
	for (int i = 1; i < HTTP_MAX_RESP_HEADERS; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		assert_int_equal(http_resp_header(&resp, name, "v"), ATTEST_OK);
	}
	assert_int_equal(http_resp_header(&resp, "X-Too-Many", "v"), ATTEST_E_NOMEM);
}

/* ---- configuration ------------------------------------------------------------ */

static void config_defaults_match_the_readme(void **state)
{
	struct srv_config cfg;

	(void)state;
	srv_config_defaults(&cfg);
	assert_string_equal(cfg.listen, "127.0.0.1");
	assert_int_equal(cfg.port, 8443);
	assert_string_equal(cfg.data_dir, "./data");
	assert_string_equal(cfg.default_provider, "default");
	srv_config_finish(&cfg, 8443);
	assert_string_equal(cfg.public_url, "https://127.0.0.1:8443");
	assert_string_equal(cfg.store_uri, "sqlite:./data/attestd.db");
	assert_string_equal(cfg.kek_file, "./data/kek.bin");
	/* an IPv6 listen address is bracketed in the public URL (the token issuer) */
	srv_config_defaults(&cfg);
	snprintf(cfg.listen, sizeof(cfg.listen), "::1");
	srv_config_finish(&cfg, 8443);
	assert_string_equal(cfg.public_url, "https://[::1]:8443");
}

static void config_flags_take_both_forms_and_check_values(void **state)
{
	struct srv_config cfg;
	struct attest_err err = {0};
	bool exit_now = true;
	char *argv[] = {"attestd", "--dev", "--port=9000", "--data", "/tmp/x", "--test-fixed-time",
			"2022-01-28T12:00:00Z", "--rate-limit", "2.5", NULL};

	(void)state;
	srv_config_defaults(&cfg);
	assert_int_equal(srv_config_from_args(&cfg, 9, argv, &exit_now, &err), ATTEST_OK);
	assert_false(exit_now);
	assert_true(cfg.dev);
	assert_int_equal(cfg.port, 9000);
	assert_string_equal(cfg.data_dir, "/tmp/x");
	assert_int_equal(cfg.fixed_time, 1643371200);
	assert_true(cfg.rate_limit == 2.5);

	char *bad1[] = {"attestd", "--port", "70000", NULL};
	assert_int_equal(srv_config_from_args(&cfg, 3, bad1, &exit_now, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "config.value");
	attest_err_clear(&err);
	char *bad2[] = {"attestd", "--frobnicate", NULL};
	assert_int_equal(srv_config_from_args(&cfg, 2, bad2, &exit_now, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "config.flag");
	attest_err_clear(&err);
	char *bad3[] = {"attestd", "--port", NULL};
	assert_int_equal(srv_config_from_args(&cfg, 2, bad3, &exit_now, &err), ATTEST_E_INVALID);
	attest_err_clear(&err);
	char *bad4[] = {"attestd", "stray", NULL};
	assert_int_equal(srv_config_from_args(&cfg, 2, bad4, &exit_now, &err), ATTEST_E_INVALID);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/attestd-cfg-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void config_file_key_value_with_comments_and_quotes(void **state)
{
	struct srv_config cfg;
	struct attest_err err = {0};
	char *path = write_temp("# attestd\n\nlisten = 0.0.0.0\nport=8444 # inline\ndata = \"/var/lib/attestd\"\n"
				"log_level = debug\njson_logs = yes\n");

	(void)state;
	srv_config_defaults(&cfg);
	assert_int_equal(srv_config_load_file(&cfg, path, &err), ATTEST_OK);
	assert_string_equal(cfg.listen, "0.0.0.0");
	assert_int_equal(cfg.port, 8444);
	assert_string_equal(cfg.data_dir, "/var/lib/attestd");
	assert_int_equal(cfg.log_level, SRV_LOG_DEBUG);
	assert_true(cfg.json_logs);
	unlink(path);
	free(path);
}

static void config_file_json_and_its_errors(void **state)
{
	struct srv_config cfg;
	struct attest_err err = {0};
	char *ok = write_temp("{\"port\": 1234, \"dev\": true, \"rate_limit\": 0.5, \"workers\": 3}");
	char *bad = write_temp("{\"port\": [1]}");
	char *unknown = write_temp("port = 1\nnope = 2\n");
	char *noeq = write_temp("port 1\n");

	(void)state;
	srv_config_defaults(&cfg);
	assert_int_equal(srv_config_load_file(&cfg, ok, &err), ATTEST_OK);
	assert_int_equal(cfg.port, 1234);
	assert_true(cfg.dev);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(srv_config_load_file(&cfg, bad, &err), ATTEST_E_PARSE);
	attest_err_clear(&err);
	assert_int_equal(srv_config_load_file(&cfg, unknown, &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "config.unknown");
	assert_non_null(strstr(err.where, "line 2"));
	attest_err_clear(&err);
	assert_int_equal(srv_config_load_file(&cfg, noeq, &err), ATTEST_E_PARSE);
	attest_err_clear(&err);
	assert_int_equal(srv_config_load_file(&cfg, "/nonexistent/attestd.conf", &err), ATTEST_E_IO);
	assert_string_equal(err.name, "config.file");
	const char *files[] = {ok, bad, unknown, noeq};
	for (int i = 0; i < 4; i++) {
		unlink(files[i]);
		free((void *)files[i]);
	}
}

/* ---- rate limits and metrics ------------------------------------------------------ */

static void token_bucket_allows_the_burst_then_refills_at_the_rate(void **state)
{
	struct srv_ratelimit *rl = srv_ratelimit_new();
	uint64_t t = 1000000000ull;
	int retry = 0;

	(void)state;
	assert_true(srv_ratelimit_take(rl, "p", 2.0, 3, t, &retry));
	assert_true(srv_ratelimit_take(rl, "p", 2.0, 3, t, &retry));
	assert_true(srv_ratelimit_take(rl, "p", 2.0, 3, t, &retry));
	assert_false(srv_ratelimit_take(rl, "p", 2.0, 3, t, &retry));
	assert_int_equal(retry, 1);
	/* Another provider has its own bucket. */
	assert_true(srv_ratelimit_take(rl, "q", 2.0, 3, t, &retry));
	/* Half a second later one token is back (2 per second). */
	assert_true(srv_ratelimit_take(rl, "p", 2.0, 3, t + 500000000ull, &retry));
	assert_false(srv_ratelimit_take(rl, "p", 2.0, 3, t + 500000000ull, &retry));
	/* A slow rate asks for a longer wait. */
	assert_true(srv_ratelimit_take(rl, "slow", 0.1, 1, t, &retry));
	assert_false(srv_ratelimit_take(rl, "slow", 0.1, 1, t, &retry));
	assert_int_equal(retry, 10);
	/* Rate 0 = unlimited. */
	for (int i = 0; i < 100; i++)
		assert_true(srv_ratelimit_take(rl, "free", 0, 1, t, &retry));
	srv_ratelimit_free(rl);
}

static void metrics_render_counters_and_cumulative_histograms(void **state)
{
	struct srv_metrics *m = srv_metrics_new();
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 20);
	srv_metrics_observe(m, "p1", "SgxEnclave", 200, 0.0004);
	srv_metrics_observe(m, "p1", "SgxEnclave", 200, 0.003);
	srv_metrics_observe(m, "p1", "SgxEnclave", 400, 0.002);
	srv_metrics_observe(m, "q\"x", "", 429, 20.0);
	assert_int_equal(srv_metrics_render(m, &out, 1, 5), 0);
	const char *t = (const char *)out.p;
	assert_non_null(strstr(t, "attestd_requests_total{provider=\"p1\",type=\"SgxEnclave\",status=\"200\","
				  "result=\"success\"} 2\n"));
	assert_non_null(strstr(t, "status=\"400\",result=\"client_error\"} 1\n"));
	assert_non_null(strstr(t, "provider=\"q\\\"x\""));
	assert_non_null(strstr(t, "result=\"throttled\""));
	/* Cumulative buckets: 1 at 0.5 ms, 2 at 5 ms; +Inf = count. */
	assert_non_null(strstr(t, "status=\"200\",result=\"success\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(t, "status=\"200\",result=\"success\",le=\"0.005\"} 2\n"));
	assert_non_null(strstr(t, "status=\"429\",result=\"throttled\",le=\"10\"} 0\n"));
	assert_non_null(strstr(t, "status=\"429\",result=\"throttled\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(t, "attestd_requests_in_flight 1\n"));
	buf_free(&out);
	srv_metrics_free(m);
}

static void metrics_series_are_capped(void **state)
{
	struct srv_metrics *m = srv_metrics_new();
	struct buf out;
	char name[32];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		srv_metrics_observe(m, name, "", 200, 0.001);
	}
	buf_init(&out, 64u << 20);
	assert_int_equal(srv_metrics_render(m, &out, 0, 0), 0);
	assert_non_null(strstr((const char *)out.p, "attestd_metrics_series_dropped_total 1488\n"));
	buf_free(&out);
	srv_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(router_matches_literals_and_parameters),
		cmocka_unit_test(router_parameter_with_literal_suffix_takes_the_prefix),
		cmocka_unit_test(router_prefers_a_literal_segment_over_a_parameter),
		cmocka_unit_test(router_ignores_one_trailing_slash_and_refuses_odd_paths),
		cmocka_unit_test(router_reports_allowed_methods_and_maps_head_to_get),
		cmocka_unit_test(router_registration_replaces_the_same_route),
		cmocka_unit_test(router_refuses_malformed_patterns),
		cmocka_unit_test(error_response_has_maa_body_and_error_code_header),
		cmocka_unit_test(error_from_record_names_code_and_place),
		cmocka_unit_test(response_headers_are_bounded_and_replaced_by_name),
		cmocka_unit_test(config_defaults_match_the_readme),
		cmocka_unit_test(config_flags_take_both_forms_and_check_values),
		cmocka_unit_test(config_file_key_value_with_comments_and_quotes),
		cmocka_unit_test(config_file_json_and_its_errors),
		cmocka_unit_test(token_bucket_allows_the_burst_then_refills_at_the_rate),
		cmocka_unit_test(metrics_render_counters_and_cumulative_histograms),
		cmocka_unit_test(metrics_series_are_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
