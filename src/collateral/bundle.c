/*
 * Collateral bundles: the JSON format, a folder writer and a recording
 * source over a bundle (bundle.h). Structure only: signatures are the
 * consumer's to verify.
 */
#include "collateral/bundle.h"
#include "collateral/amd_collateral.h"

#include "base/codec.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const KIND_NAMES[BUNDLE_KIND_COUNT] = {
    "pck_crl", "root_ca_crl", "tcb_info", "qe_identity", "pck_cert", "amd_vcek", "amd_cert_chain", "amd_crl",
};

const char *bundle_kind_name(enum bundle_kind kind)
{
	return (unsigned)kind < BUNDLE_KIND_COUNT ? KIND_NAMES[kind] : NULL;
}

int bundle_kind_parse(const char *name)
{
	for (int i = 0; name != NULL && i < BUNDLE_KIND_COUNT; i++)
		if (strcmp(KIND_NAMES[i], name) == 0)
			return i;
	return -1;
}

enum cached_kind bundle_cached_kind(enum bundle_kind kind)
{
	switch (kind) {
	case BUNDLE_PCK_CRL:
	case BUNDLE_ROOT_CA_CRL:
	case BUNDLE_AMD_CRL:
		return CACHED_CRL;
	case BUNDLE_TCB_INFO:
		return CACHED_TCB_INFO;
	case BUNDLE_QE_IDENTITY:
		return CACHED_QE_IDENTITY;
	default:
		return CACHED_CERT;
	}
}

/* ---- keys ------------------------------------------------------------------------- */

/* Exactly n characters of hex (upper or lower as asked) at s, then end or '/'. */
static const char *hex_run(const char *s, size_t n, bool upper)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';
		bool letter = upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f');

		if (!digit && !letter)
			return NULL;
	}
	return s + n;
}

/* s starts with prefix: the rest, or NULL. */
static const char *skip(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s != NULL && strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* s starts with "<Product>/": the rest, or NULL. */
static const char *skip_product(const char *s)
{
	for (int p = AMD_PRODUCT_MILAN; s != NULL && p < AMD_PRODUCT_COUNT; p++) {
		const char *rest = skip(s, amd_product_name((enum amd_product)p));

		if (rest != NULL && *rest == '/')
			return rest + 1;
	}
	return NULL;
}

static bool is_one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static bool pck_cert_key_ok(const char *key)
{
	const char *p = skip(key, "sgx/pckcert/"), *q;
	size_t n;

	if (p == NULL || (q = strchr(p, '/')) == NULL)
		return false;
	/* PPID: clear (16 bytes) or encrypted (256 / 384 bytes, RSA-3072 OAEP). */
	n = (size_t)(q - p);
	if ((n != 32 && n != 512 && n != 768) || hex_run(p, n, false) != q)
		return false;
	p = q + 1;
	return (p = hex_run(p, 32, false)) != NULL && *p++ == '/' && (p = hex_run(p, 4, false)) != NULL &&
	       *p++ == '/' && (p = hex_run(p, 4, false)) != NULL && *p == '\0';
}

/* The key without its selected-set suffix ("/early", "/eval<N>": collateral_select_split_key). */
static const char *strip_selector(const char *key, char base[CACHED_KEY_MAX])
{
	struct collateral_select sel;

	snprintf(base, CACHED_KEY_MAX, "%s", key);
	base[collateral_select_split_key(base, &sel)] = '\0';
	return base;
}

bool bundle_key_ok(enum bundle_kind kind, const char *key)
{
	static const char *const crl[] = {"pck_crl/processor", "pck_crl/platform"};
	static const char *const qe[] = {"sgx/qe/identity", "tdx/qe/identity", "sgx/qve/identity",
					 "sgx/qae/identity"};
	static const char *const sel[] = {"vcek", "vlek"};
	char base[CACHED_KEY_MAX];
	const char *p;

	if (key == NULL || strlen(key) >= CACHED_KEY_MAX)
		return false;
	switch (kind) {
	case BUNDLE_PCK_CRL:
		return is_one_of(key, crl, 2);
	case BUNDLE_ROOT_CA_CRL:
		return strcmp(key, "root_ca_crl") == 0;
	case BUNDLE_TCB_INFO:
		key = strip_selector(key, base);
		p = skip(key, "sgx/tcb/") ? skip(key, "sgx/tcb/") : skip(key, "tdx/tcb/");
		return p != NULL && (p = hex_run(p, 12, true)) != NULL && *p == '\0';
	case BUNDLE_QE_IDENTITY:
		return is_one_of(strip_selector(key, base), qe, 4);
	case BUNDLE_PCK_CERT:
		return pck_cert_key_ok(key);
	case BUNDLE_AMD_VCEK:
		p = skip(skip_product(skip(key, "amd/")), "vcek/");
		return p != NULL && (p = hex_run(p, 128, false)) != NULL && *p++ == '/' &&
		       (p = hex_run(p, 16, false)) != NULL && *p == '\0';
	case BUNDLE_AMD_CERT_CHAIN:
		return is_one_of(skip(skip_product(skip(key, "amd/")), "cert_chain/"), sel, 2);
	case BUNDLE_AMD_CRL:
		return is_one_of(skip(skip_product(skip(key, "amd/")), "crl/"), sel, 2);
	default:
		return false;
	}
}

int bundle_kind_of_key(const char *key)
{
	for (int k = 0; k < BUNDLE_KIND_COUNT; k++)
		if (bundle_key_ok((enum bundle_kind)k, key))
			return k;
	return -1;
}

bool bundle_key_amd_vcek_of(enum amd_product product, const uint8_t *hwid, size_t hwid_len,
			    const struct snp_tcb *tcb, char out[CACHED_KEY_MAX])
{
	uint8_t chip[64] = {0};

	if (amd_product_name(product) == NULL || hwid_len > 64)
		return false;
	memcpy(chip, hwid, hwid_len);
	cached_key_amd_vcek(amd_product_name(product), chip, snp_tcb_encode(product, tcb), out);
	return true;
}

/* ---- the set ----------------------------------------------------------------------- */

struct bundle *bundle_new(void)
{
	return calloc(1, sizeof(struct bundle));
}

static void item_clear(struct bundle_item *it)
{
	free(it->key);
	collateral_blob_free(&it->blob);
	memset(it, 0, sizeof(*it));
}

void bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		item_clear(&b->items[i]);
	free(b->items);
	free(b);
}

const struct bundle_item *bundle_find(const struct bundle *b, const char *key)
{
	for (size_t i = 0; b != NULL && key != NULL && i < b->n; i++)
		if (strcmp(b->items[i].key, key) == 0)
			return &b->items[i];
	return NULL;
}

const struct bundle_item *bundle_find_sha256(const struct bundle *b, const uint8_t sha256[32])
{
	for (size_t i = 0; b != NULL && i < b->n; i++)
		if (memcmp(b->items[i].sha256, sha256, 32) == 0)
			return &b->items[i];
	return NULL;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n + 1);

	if (q != NULL) {
		if (n > 0)
			memcpy(q, p, n);
		q[n] = 0; /* NUL-terminated like every collateral blob */
	}
	return q;
}

static int nomem(struct attest_err *err)
{
	return attest_err_set(err, ATTEST_E_NOMEM, "bundle.nomem", "out of memory");
}

int bundle_add(struct bundle *b, enum bundle_kind kind, const char *key, const struct collateral_blob *blob,
	       struct attest_err *err)
{
	struct bundle_item it = {0}, *slot = (struct bundle_item *)bundle_find(b, key);

	if (!bundle_key_ok(kind, key))
		return attest_err_set(err, ATTEST_E_INVALID, "bundle.key", "\"%s\" is not a key of a %s item",
				      key ? key : "(null)",
				      bundle_kind_name(kind) ? bundle_kind_name(kind) : "?");
	if (blob == NULL || blob->data == NULL || blob->len == 0 || blob->len > BUNDLE_MAX_ITEM_BYTES ||
	    blob->chain_len > BUNDLE_MAX_ITEM_BYTES)
		return attest_err_set(err, ATTEST_E_INVALID, "bundle.limit",
				      "%s: an item holds 1 to %u bytes of data and of chain", key,
				      BUNDLE_MAX_ITEM_BYTES);
	if (slot == NULL && b->n >= BUNDLE_MAX_ITEMS)
		return attest_err_set(err, ATTEST_E_INVALID, "bundle.limit",
				      "a bundle holds at most %u items", BUNDLE_MAX_ITEMS);
	it.kind = kind;
	it.key = strdup(key);
	it.blob.data = dup_bytes(blob->data, blob->len);
	it.blob.len = blob->len;
	if (blob->chain != NULL && blob->chain_len > 0) {
		it.blob.chain = dup_bytes(blob->chain, blob->chain_len);
		it.blob.chain_len = blob->chain_len;
	}
	if (it.key == NULL || it.blob.data == NULL || (blob->chain_len > 0 && it.blob.chain == NULL) ||
	    sha256(it.blob.data, it.blob.len, it.sha256) != 0) {
		item_clear(&it);
		return nomem(err);
	}
	if (slot != NULL) {
		item_clear(slot);
		*slot = it; /* transferred */
		return ATTEST_OK;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct bundle_item *items = realloc(b->items, cap * sizeof(*items));

		if (items == NULL) {
			item_clear(&it);
			return nomem(err);
		}
		b->items = items;
		b->cap = cap;
	}
	b->items[b->n++] = it; /* transferred */
	return ATTEST_OK;
}

/* ---- JSON -------------------------------------------------------------------------- */

static int cmp_items(const void *a, const void *b)
{
	return strcmp((*(const struct bundle_item *const *)a)->key,
		      (*(const struct bundle_item *const *)b)->key);
}

static json_t *item_to_json(const struct bundle_item *it)
{
	char hex[65];
	char *data = b64std_encode(it->blob.data, it->blob.len);
	char *chain = it->blob.chain ? b64std_encode(it->blob.chain, it->blob.chain_len) : NULL;
	json_t *o = json_object();
	int rc = -1;

	hex_encode_to(it->sha256, 32, hex);
	if (o != NULL && data != NULL && (it->blob.chain == NULL || chain != NULL))
		rc = json_object_set_new(o, "kind", json_string(bundle_kind_name(it->kind))) |
		     json_object_set_new(o, "key", json_string(it->key)) |
		     json_object_set_new(o, "sha256", json_string(hex)) |
		     json_object_set_new(o, "data", json_string(data)) |
		     (chain ? json_object_set_new(o, "issuer_chain", json_string(chain)) : 0);
	free(data);
	free(chain);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *bundle_to_json(const struct bundle *b)
{
	const struct bundle_item **order = calloc(b->n ? b->n : 1, sizeof(*order));
	json_t *doc = json_object(), *items = json_array();
	char created[40];
	bool ok = order != NULL && doc != NULL && items != NULL;

	/* The caller says when (library code reads no clock); 0 = no "created" member. */
	time_format_rfc3339(b->created, created, sizeof(created));
	for (size_t i = 0; ok && i < b->n; i++)
		order[i] = &b->items[i];
	if (ok)
		qsort(order, b->n, sizeof(*order), cmp_items);
	for (size_t i = 0; ok && i < b->n; i++)
		ok = json_array_append_new(items, item_to_json(order[i])) == 0;
	ok = ok && json_object_set_new(doc, "format", json_string(BUNDLE_FORMAT)) == 0 &&
	     json_object_set_new(doc, "version", json_integer(BUNDLE_VERSION)) == 0 &&
	     (b->created == 0 || json_object_set_new(doc, "created", json_string(created)) == 0) &&
	     json_object_set(doc, "items", items) == 0;
	free(order);
	json_decref(items);
	if (!ok) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int item_err(struct attest_err *err, const char *name, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int item_err(struct attest_err *err, const char *name, size_t i, const char *fmt, ...)
{
	char msg[ATTEST_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attest_err_set(err, ATTEST_E_PARSE, name, "%s", msg);
	attest_err_where(err, "items[%zu]", i);
	return ATTEST_E_PARSE;
}

/* Decodes one base64 member (absent: *out NULL unless required). */
static int b64_member(const json_t *o, const char *name, bool required, uint8_t **out, size_t *len, size_t i,
		      struct attest_err *err)
{
	const json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);

	*out = NULL;
	*len = 0;
	if (v == NULL && !required)
		return ATTEST_OK;
	if (s == NULL)
		return item_err(err, "bundle.item", i, "member \"%s\" must be a base64 string", name);
	if (strlen(s) > 4 * (BUNDLE_MAX_ITEM_BYTES / 3) + 4)
		return item_err(err, "bundle.limit", i, "member \"%s\" is over the item limit", name);
	if (b64_decode(s, strlen(s), out, len) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		return item_err(err, "bundle.base64", i, "member \"%s\" is not base64 of a non-empty value",
				name);
	}
	return ATTEST_OK;
}

static int item_from_json(const json_t *o, size_t i, struct bundle *b, struct attest_err *err)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *digest = json_string_value(json_object_get(o, "sha256"));
	struct collateral_blob blob = {0};
	uint8_t want[32];
	int k = bundle_kind_parse(kind), rc;

	if (!json_is_object(o) || kind == NULL || key == NULL || digest == NULL)
		return item_err(err, "bundle.item", i, "%s",
				"an item is an object with kind, key, sha256 and data");
	if (k < 0)
		return item_err(err, "bundle.kind", i, "unknown kind \"%s\"", kind);
	if (!bundle_key_ok((enum bundle_kind)k, key))
		return item_err(err, "bundle.key", i, "\"%s\" is not a well-formed key of its kind", key);
	if (bundle_find(b, key) != NULL)
		return item_err(err, "bundle.duplicate", i, "a second item for key \"%s\"", key);
	if (strlen(digest) != 64 || hex_decode_to(digest, 64, want, 32) != 0)
		return item_err(err, "bundle.item", i, "sha256 \"%.80s\" is not 64 hex characters", digest);
	if ((rc = b64_member(o, "data", true, &blob.data, &blob.len, i, err)) != ATTEST_OK ||
	    (rc = b64_member(o, "issuer_chain", false, &blob.chain, &blob.chain_len, i, err)) != ATTEST_OK) {
		collateral_blob_free(&blob);
		return rc;
	}
	if ((rc = bundle_add(b, (enum bundle_kind)k, key, &blob, err)) == ATTEST_OK &&
	    !crypto_memeq(b->items[b->n - 1].sha256, want, 32)) {
		rc = item_err(err, "bundle.digest", i,
			      "the data of \"%s\" does not have the sha256 the item states", key);
	} else if (rc != ATTEST_OK) {
		attest_err_where(err, "items[%zu]", i);
	}
	collateral_blob_free(&blob);
	return rc;
}

int bundle_from_json(const json_t *doc, struct bundle **out, struct attest_err *err)
{
	const char *format = json_string_value(json_object_get(doc, "format"));
	const char *created = json_string_value(json_object_get(doc, "created"));
	const json_t *items = json_object_get(doc, "items");
	json_int_t version = json_integer_value(json_object_get(doc, "version"));
	struct bundle *b;
	int rc = ATTEST_OK;

	if (!json_is_object(doc) || format == NULL || strcmp(format, BUNDLE_FORMAT) != 0 ||
	    !json_is_array(items))
		return attest_err_set(
		    err, ATTEST_E_PARSE, "bundle.json",
		    "not a collateral bundle: an object with \"format\": \"%s\" and \"items\" "
		    "is expected",
		    BUNDLE_FORMAT);
	if (!json_is_integer(json_object_get(doc, "version")) || version != BUNDLE_VERSION)
		return attest_err_set(err, ATTEST_E_UNSUPPORTED, "bundle.version",
				      "bundle version %lld; this attestd reads version %d",
				      (long long)version, BUNDLE_VERSION);
	if (json_array_size(items) > BUNDLE_MAX_ITEMS)
		return attest_err_set(err, ATTEST_E_PARSE, "bundle.limit", "%zu items; at most %u",
				      json_array_size(items), BUNDLE_MAX_ITEMS);
	if ((b = bundle_new()) == NULL)
		return nomem(err);
	/* 1970..9999: what a bundle can have been created at, and what formats back the same. */
	if (created != NULL &&
	    (time_parse_rfc3339(created, &b->created) != 0 || b->created < 0 || b->created > 253402300799))
		rc = attest_err_set(err, ATTEST_E_PARSE, "bundle.json",
				    "\"created\" is not an RFC 3339 time from 1970 to 9999");
	for (size_t i = 0; rc == ATTEST_OK && i < json_array_size(items); i++)
		rc = item_from_json(json_array_get(items, i), i, b, err);
	if (rc != ATTEST_OK) {
		bundle_free(b);
		return rc;
	}
	*out = b;
	return ATTEST_OK;
}

int bundle_parse(const char *text, size_t len, struct bundle **out, struct attest_err *err)
{
	json_error_t jerr;
	json_t *doc;
	int rc;

	if (text == NULL || len > BUNDLE_MAX_DOC)
		return attest_err_set(err, ATTEST_E_PARSE, "bundle.limit", "a bundle is at most %u bytes",
				      BUNDLE_MAX_DOC);
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "bundle.json", "not JSON: %s (line %d column %d)",
				      jerr.text, jerr.line, jerr.column);
	rc = bundle_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}

/* ---- a file-source folder ------------------------------------------------------------- */

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Writes p to dir/name through a temporary file and rename (readers never see half a file). */
/* Writes all of p to fd; false on any short write that cannot be continued. */
static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/*
 * Writes p to dir/name through a fresh temporary file (mkstemp: created
 * exclusively, so a name planted in a shared folder, a symbolic link
 * included, is never followed), synced, then renamed over the name:
 * readers see the old file or the whole new one.
 */
static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n, struct attest_err *err)
{
	char path[4096], tmp[4200], parent[4096];
	char *slash;
	bool ok;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return attest_err_set(err, ATTEST_E_IO, "bundle.io", "path too long under %s", dir);
	snprintf(parent, sizeof(parent), "%s", path);
	if ((slash = strrchr(parent, '/')) != NULL) {
		*slash = '\0';
		if (mkdirs(parent) != 0)
			return attest_err_set(err, ATTEST_E_IO, "bundle.io", "cannot create %s: %s", parent,
					      strerror(errno));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return attest_err_set(err, ATTEST_E_IO, "bundle.io", "cannot create a file beside %s: %s",
				      path, strerror(errno));
	ok = fchmod(fd, 0644) == 0 && write_all(fd, p, n) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return attest_err_set(err, ATTEST_E_IO, "bundle.io", "cannot write %s: %s", path,
				      strerror(e));
	}
	return ATTEST_OK;
}

static bool is_pem(const struct collateral_blob *b)
{
	return b->len >= 10 && memcmp(b->data, "-----BEGIN", 10) == 0;
}

static void lower_into(const char *in, char *out, size_t n)
{
	size_t i = 0;

	for (; in[i] && i + 1 < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	out[i] = '\0';
}

/* The file names of one item in the file source's layout: data, and chain ("" = none). */
static void item_names(const struct bundle_item *it, char *data, char *chain, size_t n)
{
	const char *k = it->key, *ext = is_pem(&it->blob) ? "pem" : "der";
	char low[64], product[8] = "", sel[5] = "";

	chain[0] = '\0';
	switch (it->kind) {
	case BUNDLE_PCK_CRL: /* pck_crl/<ca> */
		snprintf(data, n, "pck_crl_%s.%s", k + 8, ext);
		snprintf(chain, n, "pck_crl_%s_issuer_chain.pem", k + 8);
		break;
	case BUNDLE_ROOT_CA_CRL:
		snprintf(data, n, "root_ca_crl.%s", ext);
		break;
	case BUNDLE_TCB_INFO: /* <tee>/tcb/<FMSPC>[/early|/eval<N>]: a selected set under its own name */
		lower_into(k + 8, low, sizeof(low));
		for (char *c = low; *c; c++)
			*c = *c == '/' ? '_' : *c;
		snprintf(data, n, "tcb_info_%.3s_%s.json", k, low);
		snprintf(chain, n, "tcb_info_%.3s_%s_issuer_chain.pem", k, low);
		break;
	case BUNDLE_QE_IDENTITY: {
		const char *id = strncmp(k, "tdx/qe/identity", 15) == 0	   ? "td_qe"
				 : strncmp(k, "sgx/qve/identity", 16) == 0 ? "qve"
				 : strncmp(k, "sgx/qae/identity", 16) == 0 ? "qae"
									   : "qe";
		const char *set = strchr(k + 4, '/') ? strchr(strchr(k + 4, '/') + 1, '/') : NULL;

		snprintf(low, sizeof(low), "%s%s", set ? "_" : "", set ? set + 1 : "");
		snprintf(data, n, "qe_identity_%s%s.json", id, low);
		snprintf(chain, n, "qe_identity_%s%s_issuer_chain.pem", id, low);
		break;
	}
	case BUNDLE_PCK_CERT: { /* sgx/pckcert/<ppid>/...: named by PPID as the file source looks it up */
		uint8_t ppid[384];
		size_t hexlen = strcspn(k + 12, "/");

		if (hex_decode_to(k + 12, hexlen, ppid, hexlen / 2) != 0 ||
		    collateral_file_pck_name(ppid, hexlen / 2, data, n) != ATTEST_OK)
			snprintf(data, n, "unknown");
		snprintf(chain, n, "pck_cert_issuer_chain.pem");
		break;
	}
	case BUNDLE_AMD_VCEK: /* amd/<P>/vcek/<hwid 128>/<tcb 16>; KDS names Turin by CHIP_ID[0:8] */
		sscanf(k, "amd/%7[A-Za-z]/", product);
		snprintf(data, n, "vcek/v1/%s/%.*s/%s.der", product,
			 amd_product_of(product) == AMD_PRODUCT_TURIN ? 16 : 128, k + 4 + strlen(product) + 6,
			 k + strlen(k) - 16);
		break;
	case BUNDLE_AMD_CERT_CHAIN:
	case BUNDLE_AMD_CRL:
		sscanf(k, "amd/%7[A-Za-z]/", product);
		snprintf(sel, sizeof(sel), "%s", k + strlen(k) - 4);
		snprintf(data, n, "%s/v1/%s/%s", sel, product,
			 it->kind == BUNDLE_AMD_CRL ? "crl" : "cert_chain");
		break;
	default:
		snprintf(data, n, "unknown");
	}
}

int bundle_write_dir(const struct bundle *b, const char *dir, struct attest_err *err)
{
	char data[512], chain[512], root[4096];
	int rc = ATTEST_OK;

	snprintf(root, sizeof(root), "%s", dir);
	if (mkdirs(root) != 0)
		return attest_err_set(err, ATTEST_E_IO, "bundle.io", "cannot create %s: %s", dir,
				      strerror(errno));
	/* The file source names PCK certificates by PPID alone: two of one PPID would overwrite each other.
	 */
	for (size_t i = 0; i < b->n; i++)
		for (size_t j = i + 1; b->items[i].kind == BUNDLE_PCK_CERT && j < b->n; j++) {
			size_t n = strcspn(b->items[i].key + 12, "/");

			if (b->items[j].kind == BUNDLE_PCK_CERT &&
			    strncmp(b->items[i].key, b->items[j].key, 12 + n + 1) == 0)
				return attest_err_set(
				    err, ATTEST_E_INVALID, "bundle.duplicate",
				    "%s and %s share a PPID, which a collateral folder cannot hold "
				    "apart (import them into attestd instead)",
				    b->items[i].key, b->items[j].key);
		}
	for (size_t i = 0; rc == ATTEST_OK && i < b->n; i++) {
		const struct bundle_item *it = &b->items[i];

		/* Keys were checked on entry: no name below can leave dir. */
		item_names(it, data, chain, sizeof(data));
		rc = write_file(dir, data, it->blob.data, it->blob.len, err);
		if (rc == ATTEST_OK && chain[0] && it->blob.chain != NULL)
			rc = write_file(dir, chain, it->blob.chain, it->blob.chain_len, err);
	}
	return rc;
}

/* ---- a source over a bundle ----------------------------------------------------------- */

struct bundle_src {
	const struct bundle *b;
	pthread_mutex_t mu;
	bool *used; /* one per item */
};

static int serve(void *self, const char *key, struct collateral_blob *out, struct attest_err *err)
{
	struct bundle_src *s = self;
	const struct bundle_item *it = bundle_find(s->b, key);
	struct collateral_blob c = {0};

	if (it == NULL)
		return attest_err_set(err, ATTEST_E_NOT_FOUND, "collateral.not_found", "the bundle has no %s",
				      key);
	c.data = dup_bytes(it->blob.data, it->blob.len);
	c.len = it->blob.len;
	if (it->blob.chain != NULL) {
		c.chain = dup_bytes(it->blob.chain, it->blob.chain_len);
		c.chain_len = it->blob.chain_len;
	}
	if (c.data == NULL || (it->blob.chain != NULL && c.chain == NULL)) {
		collateral_blob_free(&c);
		return attest_err_set(err, ATTEST_E_NOMEM, "collateral.nomem", "out of memory");
	}
	pthread_mutex_lock(&s->mu);
	s->used[it - s->b->items] = true;
	pthread_mutex_unlock(&s->mu);
	*out = c;
	return ATTEST_OK;
}

static int bs_pck_crl(void *self, enum collateral_pck_ca ca, struct collateral_blob *out,
		      struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_pck_crl(ca, key);
	return serve(self, key, out, err);
}

static int bs_root_ca_crl(void *self, struct collateral_blob *out, struct attest_err *err)
{
	return serve(self, "root_ca_crl", out, err);
}

static int bs_tcb_info(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
		       struct collateral_blob *out, struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_tcb_info(tee, fmspc, key);
	return serve(self, key, out, err);
}

static int bs_qe_identity(void *self, enum collateral_qe kind, struct collateral_blob *out,
			  struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_qe_identity(kind, key);
	return serve(self, key, out, err);
}

/* A selected set's key: the standard key plus "/early" or "/eval<N>" (as cached.c keys them). */
static void select_key(const struct collateral_select *sel, char key[CACHED_KEY_MAX])
{
	size_t n = strlen(key);

	collateral_select_suffix(sel, '/', key + n, CACHED_KEY_MAX - n);
}

static int bs_tcb_info_ex(void *self, enum collateral_tee tee, const uint8_t fmspc[6],
			  const struct collateral_select *sel, struct collateral_blob *out,
			  struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_tcb_info(tee, fmspc, key);
	select_key(sel, key);
	return serve(self, key, out, err);
}

static int bs_qe_identity_ex(void *self, enum collateral_qe kind, const struct collateral_select *sel,
			     struct collateral_blob *out, struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_qe_identity(kind, key);
	select_key(sel, key);
	return serve(self, key, out, err);
}

static int bs_pck_cert(void *self, const struct collateral_pck_query *q, struct collateral_blob *out,
		       struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_pck_cert(q, key);
	return serve(self, key, out, err);
}

static int bs_amd_vcek(void *self, const char *product, const uint8_t chip_id[64], uint64_t tcb,
		       struct collateral_blob *out, struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_amd_vcek(product, chip_id, tcb, key);
	return serve(self, key, out, err);
}

static int bs_amd_chain(void *self, const char *product, bool vlek, struct collateral_blob *out,
			struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_amd(product, false, vlek, key);
	return serve(self, key, out, err);
}

static int bs_amd_crl(void *self, const char *product, bool vlek, struct collateral_blob *out,
		      struct attest_err *err)
{
	char key[CACHED_KEY_MAX];

	cached_key_amd(product, true, vlek, key);
	return serve(self, key, out, err);
}

static void bs_free(void *self)
{
	struct bundle_src *s = self;

	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->used);
	free(s);
}

static const struct collateral_source_ops BUNDLE_OPS = {
    .name = "bundle",
    .pck_crl = bs_pck_crl,
    .root_ca_crl = bs_root_ca_crl,
    .tcb_info = bs_tcb_info,
    .qe_identity = bs_qe_identity,
    .pck_cert = bs_pck_cert,
    .amd_vcek = bs_amd_vcek,
    .amd_cert_chain = bs_amd_chain,
    .amd_crl = bs_amd_crl,
    .tcb_info_ex = bs_tcb_info_ex,
    .qe_identity_ex = bs_qe_identity_ex,
    .free = bs_free,
};

int bundle_source_new(const struct bundle *b, struct collateral_source **out, struct attest_err *err)
{
	struct collateral_source *src = calloc(1, sizeof(*src));
	struct bundle_src *s = calloc(1, sizeof(*s));

	if (src == NULL || s == NULL || (s->used = calloc(b->n ? b->n : 1, sizeof(bool))) == NULL ||
	    pthread_mutex_init(&s->mu, NULL) != 0) {
		if (s != NULL)
			free(s->used);
		free(s);
		free(src);
		return nomem(err);
	}
	s->b = b;
	src->ops = &BUNDLE_OPS;
	src->self = s;
	*out = src;
	return ATTEST_OK;
}

int bundle_source_used(const struct collateral_source *src, struct bundle **out, struct attest_err *err)
{
	struct bundle_src *s;
	struct bundle *u;
	int rc = ATTEST_OK;

	if (src == NULL || src->ops != &BUNDLE_OPS)
		return attest_err_set(err, ATTEST_E_INVALID, "bundle.source", "not a bundle source");
	s = src->self;
	if ((u = bundle_new()) == NULL)
		return nomem(err);
	u->created = s->b->created;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; rc == ATTEST_OK && i < s->b->n; i++)
		if (s->used[i])
			rc =
			    bundle_add(u, s->b->items[i].kind, s->b->items[i].key, &s->b->items[i].blob, err);
	pthread_mutex_unlock(&s->mu);
	if (rc != ATTEST_OK) {
		bundle_free(u);
		return rc;
	}
	*out = u;
	return ATTEST_OK;
}

/* ---- receipts -------------------------------------------------------------------------- */

void receipt_clear(struct receipt *r)
{
	if (r == NULL)
		return;
	free(r->type);
	free(r->time);
	free(r->issuer);
	json_decref(r->request);
	free(r->policy);
	free(r->token);
	free(r->trust_roots);
	json_decref(r->jwks);
	bundle_free(r->collateral);
	memset(r, 0, sizeof(*r));
}

/* A string member (required or not), or null / absent when optional; a copy in *out. */
static int str_member(const json_t *doc, const char *name, bool required, char **out, struct attest_err *err)
{
	const json_t *v = json_object_get(doc, name);

	*out = NULL;
	if ((v == NULL || json_is_null(v)) && !required)
		return ATTEST_OK;
	if (!json_is_string(v))
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json", "member \"%s\" must be a string%s",
				      name, required ? "" : " or null");
	if ((*out = strdup(json_string_value(v))) == NULL)
		return nomem(err);
	return ATTEST_OK;
}

int receipt_from_json(const json_t *doc, struct receipt *out, struct attest_err *err)
{
	const char *format = json_string_value(json_object_get(doc, "format"));
	const json_t *request = json_object_get(doc, "request"), *jwks = json_object_get(doc, "jwks");
	struct receipt r = {0};
	int rc;

	if (!json_is_object(doc) || format == NULL || strcmp(format, RECEIPT_FORMAT) != 0)
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json",
				      "not a receipt: an object with \"format\": \"%s\" is expected",
				      RECEIPT_FORMAT);
	if (!json_is_integer(json_object_get(doc, "version")) ||
	    json_integer_value(json_object_get(doc, "version")) != RECEIPT_VERSION)
		return attest_err_set(
		    err, ATTEST_E_UNSUPPORTED, "receipt.version", "receipt version %lld; version %d is read",
		    (long long)json_integer_value(json_object_get(doc, "version")), RECEIPT_VERSION);
	if (!json_is_object(request))
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json",
				      "member \"request\" must be an object");
	if (jwks != NULL && !json_is_null(jwks) && !json_is_object(jwks))
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json",
				      "member \"jwks\" must be an object");
	if ((rc = str_member(doc, "type", true, &r.type, err)) == ATTEST_OK &&
	    (rc = str_member(doc, "token", true, &r.token, err)) == ATTEST_OK &&
	    (rc = str_member(doc, "time", false, &r.time, err)) == ATTEST_OK &&
	    (rc = str_member(doc, "issuer", false, &r.issuer, err)) == ATTEST_OK &&
	    (rc = str_member(doc, "policy", false, &r.policy, err)) == ATTEST_OK &&
	    (rc = str_member(doc, "trust_roots", false, &r.trust_roots, err)) == ATTEST_OK)
		rc = bundle_from_json(json_object_get(doc, "collateral"), &r.collateral, err);
	if (rc != ATTEST_OK) {
		receipt_clear(&r);
		return rc;
	}
	r.request = json_incref((json_t *)request);
	r.jwks = json_is_object(jwks) ? json_incref((json_t *)jwks) : NULL;
	*out = r; /* transferred */
	return ATTEST_OK;
}

int receipt_parse(const char *text, size_t len, struct receipt *out, struct attest_err *err)
{
	json_error_t jerr;
	json_t *doc;
	int rc;

	if (text == NULL || len > BUNDLE_MAX_DOC)
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json", "a receipt is at most %u bytes",
				      BUNDLE_MAX_DOC);
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return attest_err_set(err, ATTEST_E_PARSE, "receipt.json", "not JSON: %s (line %d column %d)",
				      jerr.text, jerr.line, jerr.column);
	rc = receipt_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}

json_t *receipt_to_json(const struct receipt *r)
{
	json_t *o;

	if (r->type == NULL || r->time == NULL || r->issuer == NULL || r->request == NULL ||
	    r->token == NULL || r->collateral == NULL)
		return NULL;
	o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:O,s:s?,s:s,s:o?}", "format", RECEIPT_FORMAT, "version",
		      RECEIPT_VERSION, "type", r->type, "time", r->time, "issuer", r->issuer, "request",
		      r->request, "policy", r->policy, "token", r->token, "collateral",
		      bundle_to_json(r->collateral));
	if (o != NULL && json_object_get(o, "collateral") == NULL) {
		json_decref(o);
		return NULL;
	}
	if (o != NULL && r->trust_roots != NULL)
		json_object_set_new(o, "trust_roots", json_string(r->trust_roots));
	if (o != NULL && r->jwks != NULL)
		json_object_set(o, "jwks", r->jwks);
	return o;
}
