/*
 * The TPM context master key at rest (pipeline_tpm_key_load,
 * src/server/pipeline_routes.c): sealed under the KEK in the store's meta
 * row tpm_context_master, created by the first node and shared by every
 * node on the store (a context one node seals, another opens); the
 * plaintext row of earlier versions (tpm_service_key) retired and never
 * used; a row sealed under another KEK, a malformed row and a missing KEK
 * refused, each with its code (pipeline.tpm.key.kek, .nokek, .malformed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/codec.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "evidence/tpm_protocol.h"
#include "server/pipeline_routes.h"
#include "server/server.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* attestd's clock lives beside its main (see test_policy_views.c); never called here. */
int64_t srv_now(const struct srv *srv);
__attribute__((weak)) int64_t srv_now(const struct srv *srv)
{
	(void)srv;
	return time_now();
}

#define T_NOW	      1767225600
#define MASTER_ROW    "tpm_context_master"
#define V0_ROW	      "tpm_service_key"
#define MASTER_SEALED (4 + AEAD_IV_LEN + TPM_PROTO_KEY_LEN + AEAD_TAG_LEN)

struct fixture {
	char dir[64], uri[96];
	struct store *st[2];	     /* two nodes' handles on one store */
	struct pipeline_ctx *ctx[2]; /* and their pipelines */
	uint8_t kek[AEAD_KEY_LEN];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct attest_err err = {0};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-tpmkey-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->uri, sizeof(f->uri), "sqlite:%s/state.db", f->dir);
	for (int i = 0; i < 2; i++) {
		if (store_open(f->uri, NULL, &f->st[i], &err) != ATTEST_OK)
			fail_msg("cannot open %s: %s", f->uri, err.msg);
		assert_int_equal(pipeline_ctx_new(0, &f->ctx[i], NULL), ATTEST_OK);
	}
	memset(f->kek, 0x6b, sizeof(f->kek));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	for (int i = 0; i < 2; i++) {
		pipeline_ctx_free(f->ctx[i]);
		store_close(f->st[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static void load(struct fixture *f, int node, const uint8_t *kek)
{
	struct attest_err err = {0};

	if (pipeline_tpm_key_load(f->ctx[node], f->st[node], kek, "test-kek.bin", &err) != ATTEST_OK)
		fail_msg("node %d: %s: %s", node, err.name, err.msg);
}

/* 0 when a context node a seals opens on node b; otherwise the error's code. */
static int context_travels(struct fixture *f, int a, int b)
{
	uint8_t id[TPM_PROTO_ID_LEN] = {1}, ch[TPM_PROTO_CHALLENGE_LEN] = {2};
	struct tpm_context c;
	char *ctx = NULL;
	int rc;

	assert_int_equal(tpm_context_seal(f->ctx[a]->tpm_key, TPM_CONTEXT_NO_PROVIDER, id, T_NOW, T_NOW + 60,
					  ch, sizeof(ch), &ctx, NULL),
			 0);
	rc = tpm_context_open(f->ctx[b]->tpm_key, TPM_CONTEXT_NO_PROVIDER, ctx, strlen(ctx), T_NOW, &c, NULL);
	free(ctx);
	return rc;
}

/* The master in the row, unsealed here with the KEK as the format says (magic, IV, text, tag; the label as
 * AAD). */
static void row_master(struct fixture *f, uint8_t master[TPM_PROTO_KEY_LEN])
{
	static const char aad[] = "attestd tpm context master v1";
	uint8_t sealed[MASTER_SEALED];
	char *hex = NULL;

	assert_int_equal(store_meta_get(f->st[0], MASTER_ROW, &hex, NULL), ATTEST_OK);
	assert_int_equal(strlen(hex), 2 * MASTER_SEALED);
	assert_int_equal(hex_decode_to(hex, strlen(hex), sealed, sizeof(sealed)), 0);
	assert_memory_equal(sealed, "TKM1", 4);
	assert_int_equal(aead_open(f->kek, sealed + 4, (const uint8_t *)aad, strlen(aad),
				   sealed + 4 + AEAD_IV_LEN, TPM_PROTO_KEY_LEN, master,
				   sealed + 4 + AEAD_IV_LEN + TPM_PROTO_KEY_LEN),
			 0);
	free(hex);
}

static void first_start_seals_a_master_every_node_shares(void **state)
{
	struct fixture *f = *state;
	uint8_t master[TPM_PROTO_KEY_LEN], id[TPM_PROTO_ID_LEN] = {3}, ch[4] = {4};
	char hex[2 * TPM_PROTO_KEY_LEN + 1], *row = NULL, *ctx = NULL;
	struct tpm_context_keys *direct;
	struct tpm_context c;

	load(f, 0, f->kek); /* creates */
	load(f, 1, f->kek); /* reads */
	assert_int_equal(context_travels(f, 0, 1), 0);
	assert_int_equal(context_travels(f, 1, 0), 0);
	/* the row holds the master sealed, not in clear, and no plaintext row was written */
	row_master(f, master);
	hex_encode_to(master, sizeof(master), hex);
	assert_int_equal(store_meta_get(f->st[0], MASTER_ROW, &row, NULL), ATTEST_OK);
	assert_null(strstr(row, hex));
	free(row);
	assert_int_equal(store_meta_get(f->st[0], V0_ROW, &row, NULL), ATTEST_E_NOT_FOUND);
	/* and it is the key the nodes use */
	direct = tpm_context_keys_new(master);
	assert_non_null(direct);
	assert_int_equal(tpm_context_seal(direct, TPM_CONTEXT_NO_PROVIDER, id, T_NOW, T_NOW + 60, ch,
					  sizeof(ch), &ctx, NULL),
			 0);
	assert_int_equal(
	    tpm_context_open(f->ctx[1]->tpm_key, TPM_CONTEXT_NO_PROVIDER, ctx, strlen(ctx), T_NOW, &c, NULL),
	    0);
	free(ctx);
	tpm_context_keys_free(direct);
	/* a restart (loading again) keeps it */
	load(f, 0, f->kek);
	assert_int_equal(context_travels(f, 1, 0), 0);
}

/*
 * A store of an earlier version holds the key in plain hex: it is
 * overwritten with a note and never used; the nodes share a fresh master.
 */
static void plaintext_row_of_earlier_versions_is_retired(void **state)
{
	struct fixture *f = *state;
	static const char old_hex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	uint8_t old[TPM_PROTO_KEY_LEN], master[TPM_PROTO_KEY_LEN], id[TPM_PROTO_ID_LEN] = {5}, ch[4] = {6};
	struct tpm_context_keys *exposed;
	struct attest_err err = {0};
	struct tpm_context c;
	char *row = NULL, *ctx = NULL;

	assert_int_equal(store_meta_put(f->st[0], V0_ROW, old_hex, true, NULL, NULL), ATTEST_OK);
	load(f, 0, f->kek);
	load(f, 1, f->kek);
	assert_int_equal(store_meta_get(f->st[1], V0_ROW, &row, NULL), ATTEST_OK);
	assert_null(strstr(row, old_hex));
	assert_non_null(strstr(row, "retired"));
	free(row);
	assert_int_equal(context_travels(f, 0, 1), 0);
	row_master(f, master);
	assert_int_equal(hex_decode_to(old_hex, strlen(old_hex), old, sizeof(old)), 0);
	assert_memory_not_equal(master, old, sizeof(old));
	/* whoever read the old row cannot make a context the nodes take */
	exposed = tpm_context_keys_new(old);
	assert_non_null(exposed);
	assert_int_equal(tpm_context_seal(exposed, TPM_CONTEXT_NO_PROVIDER, id, T_NOW, T_NOW + 60, ch,
					  sizeof(ch), &ctx, NULL),
			 0);
	assert_int_equal(
	    tpm_context_open(f->ctx[0]->tpm_key, TPM_CONTEXT_NO_PROVIDER, ctx, strlen(ctx), T_NOW, &c, &err),
	    ATTEST_E_VERIFY);
	assert_string_equal(err.name, "tpm.context.auth");
	free(ctx);
	tpm_context_keys_free(exposed);
}

static void row_sealed_under_another_kek_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t other[AEAD_KEY_LEN];
	struct attest_err err = {0};

	load(f, 0, f->kek);
	memcpy(other, f->kek, sizeof(other));
	other[7] ^= 0x20;
	assert_int_equal(pipeline_tpm_key_load(f->ctx[1], f->st[1], other, "other-kek.bin", &err),
			 ATTEST_E_VERIFY);
	assert_string_equal(err.name, "pipeline.tpm.key.kek");
	assert_non_null(strstr(err.msg, "other-kek.bin"));
	assert_null(f->ctx[1]->tpm_key); /* no silent new master */
	/* and the row is still the first node's */
	load(f, 1, f->kek);
	assert_int_equal(context_travels(f, 0, 1), 0);
}

static void malformed_row_and_missing_kek_are_refused(void **state)
{
	struct fixture *f = *state;
	struct attest_err err = {0};
	char *row = NULL;

	assert_int_equal(pipeline_tpm_key_load(f->ctx[0], f->st[0], NULL, "kek.bin", &err), ATTEST_E_INVALID);
	assert_string_equal(err.name, "pipeline.tpm.key.nokek");
	assert_int_equal(store_meta_get(f->st[0], MASTER_ROW, &row, NULL), ATTEST_E_NOT_FOUND);
	assert_int_equal(store_meta_put(f->st[0], MASTER_ROW, "544b4d31zz", true, NULL, NULL), ATTEST_OK);
	attest_err_clear(&err);
	assert_int_equal(pipeline_tpm_key_load(f->ctx[0], f->st[0], f->kek, "kek.bin", &err), ATTEST_E_PARSE);
	assert_string_equal(err.name, "pipeline.tpm.key.malformed");
	assert_null(f->ctx[0]->tpm_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(first_start_seals_a_master_every_node_shares, setup, teardown),
	    cmocka_unit_test_setup_teardown(plaintext_row_of_earlier_versions_is_retired, setup, teardown),
	    cmocka_unit_test_setup_teardown(row_sealed_under_another_kek_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_row_and_missing_kek_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
