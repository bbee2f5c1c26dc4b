/*
 * attestctl tpm pack: one TPM attestation (the JSON `attestctl verify Tpm`
 * and libattest read, docs/claims-tpm.md) from the files tpm2-tools and the
 * kernel write, so a quote taken on a machine can be checked offline:
 *
 *   tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q NONCE -m quote.msg -s quote.sig \
 *              -o quote.pcrs -g sha256
 *   attestctl tpm pack --quote quote.msg --signature quote.sig --pcrs quote.pcrs \
 *              --ak-public ak.pub --log /sys/kernel/security/tpm0/binary_bios_measurements
 *
 * Packing verifies nothing (verify does); it only checks that each file has
 * the shape its option names, so a mix-up is reported here, by file name.
 */
#include "cli/cli.h"

#include "base/codec.h"
#include "base/cur.h"
#include "crypto/jose.h"
#include "evidence/tpm.h"
#include "evidence/tpm_protocol.h"

#include <getopt.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

struct pack_opts {
	const char *quote, *signature, *ak_public, *ak_cert, *pcrs, *log, *out;
};

static int parse_pack_opts(const struct cli *cli, int argc, char **argv, struct pack_opts *o)
{
	static const struct option opts[] = {
	    {"quote", required_argument, NULL, 'q'},	 {"signature", required_argument, NULL, 's'},
	    {"ak-public", required_argument, NULL, 'a'}, {"ak-cert", required_argument, NULL, 'c'},
	    {"pcrs", required_argument, NULL, 'p'},	 {"log", required_argument, NULL, 'l'},
	    {"output", required_argument, NULL, 'o'},	 {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0; /* GNU getopt: 0 also resets its internal state for a new argv */
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			o->quote = optarg;
			break;
		case 's':
			o->signature = optarg;
			break;
		case 'a':
			o->ak_public = optarg;
			break;
		case 'c':
			o->ak_cert = optarg;
			break;
		case 'p':
			o->pcrs = optarg;
			break;
		case 'l':
			o->log = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (argc != optind || !o->quote || !o->signature || !o->ak_public || !o->pcrs) {
		cli_error(cli, "tpm pack needs --quote, --signature, --ak-public and --pcrs (see --help)");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* A file's bytes; NUL-terminated (cli_read_file), so text formats can be sniffed. */
struct file {
	const char *path;
	unsigned char *p;
	size_t n;
};

static int file_load(const struct cli *cli, const char *path, struct file *f)
{
	f->path = path;
	if (cli_read_file(path, &f->p, &f->n) != CLI_OK) {
		cli_error(cli, "cannot read %s", path);
		return CLI_LOCAL;
	}
	return CLI_OK;
}

static bool is_pem(const struct file *f)
{
	return f->n > 10 && strstr((const char *)f->p, "-----BEGIN ") != NULL;
}

static int set_b64(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = b64url_encode(p, n);
	int rc = s && json_object_set_new(o, key, json_string(s)) == 0 ? CLI_OK : CLI_LOCAL;

	free(s);
	return rc;
}

static int bad_file(const struct cli *cli, const struct file *f, const char *what,
		    const struct attest_err *err)
{
	cli_error(cli, "%s is not %s: %s", f->path, what, err->msg);
	return CLI_USAGE;
}

/* The AK as a TPM public area (tpm2_createak -u, tpm2_readpublic -o) or a PEM public key (-f pem). */
static int pack_ak(const struct cli *cli, const struct file *f, json_t *doc)
{
	struct attest_err err;
	TPMT_PUBLIC pub;
	json_t *jwk = NULL;
	EVP_PKEY *k;
	BIO *bio;

	attest_err_clear(&err);
	if (!is_pem(f)) {
		if (tpm_public_parse(f->p, f->n, &pub, &err) != ATTEST_OK)
			return bad_file(cli, f, "a TPM2B_PUBLIC / TPMT_PUBLIC (nor a PEM public key)", &err);
		return set_b64(doc, "aik_public", f->p, f->n);
	}
	bio = BIO_new_mem_buf(f->p, (int)f->n);
	k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (k == NULL || jwk_from_key(k, NULL, NULL, &jwk, &err) != ATTEST_OK) {
		EVP_PKEY_free(k);
		cli_error(cli, "%s: not a PEM public key the verifier can use%s%s", f->path,
			  err.msg[0] ? ": " : "", err.msg);
		return CLI_USAGE;
	}
	EVP_PKEY_free(k);
	json_object_set_new(doc, "aik_pub", jwk);
	return CLI_OK;
}

/* The AK certificate, PEM or DER, sent as DER. */
static int pack_cert(const struct cli *cli, const struct file *f, json_t *doc)
{
	BIO *bio = BIO_new_mem_buf(f->p, (int)f->n);
	const unsigned char *q = f->p;
	X509 *x = is_pem(f) ? (bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL)
			    : d2i_X509(NULL, &q, (long)f->n);
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1, rc;

	BIO_free(bio);
	X509_free(x);
	if (n <= 0) {
		cli_error(cli, "%s is not an X.509 certificate (PEM or DER)", f->path);
		return CLI_USAGE;
	}
	rc = set_b64(doc, "aik_cert", der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

/*
 * The two PCR files tpm2_quote -o writes:
 *  - "-F values": the selected PCRs' digests concatenated in the quote's
 *    selection order (banks in order, PCR indexes ascending);
 *  - the default "serialized": a native (x86-64, little-endian, padded) dump
 *    of TPML_PCR_SELECTION (132 bytes), uint32 n, then n TPML_DIGEST of 532
 *    bytes (uint32 count, 8 x {uint16 size, 64 bytes}) holding the same
 *    digests in the same order (platform-notes.md §2 gotcha 5). It is taken
 *    only when its selection is the quote's and its size is exact.
 * Either way the selection comes from the signed quote.
 */
#define SER_SEL_ENTRIES 16u  /* TPML_PCR_SELECTION: count u32, 16 x TPMS_PCR_SELECTION */
#define SER_SEL_ENTRY	8u   /* TPMS_PCR_SELECTION: hash u16, sizeofSelect u8, pcrSelect[4], pad */
#define SER_LIST	532u /* TPML_DIGEST: count u32, 8 x TPM2B_DIGEST */
#define SER_LIST_MAX	8u
#define SER_DIGEST	66u /* TPM2B_DIGEST: size u16, buffer[64] */

/* Where the digests come from: the rest of the file (values), or its TPML_DIGEST lists (serialized). */
struct digest_src {
	struct cur c;
	bool serialized;
	struct cur list;  /* serialized: the digest slots left in the current list */
	uint32_t in_list; /* ... and how many of them hold digests */
};

/* One TPMS_PCR_SELECTION of the dump equals the quote's q. */
static bool selection_entry_is(struct cur *c, const TPMS_PCR_SELECTION *q)
{
	struct cur e;
	uint16_t hash;
	uint8_t size;
	const uint8_t *bits;

	return cur_sub(c, SER_SEL_ENTRY, &e) == ATTEST_OK && cur_u16le(&e, &hash) == ATTEST_OK &&
	       cur_u8(&e, &size) == ATTEST_OK && cur_take(&e, 4, &bits) == ATTEST_OK && hash == q->hash &&
	       size == q->sizeofSelect && size <= 4 && memcmp(bits, q->pcrSelect, size) == 0;
}

/*
 * True when f is a serialized dump of exactly the quote's selection; src
 * then reads the digest lists after it (the size must be exact).
 */
static bool serialized_open(const struct file *f, const TPML_PCR_SELECTION *sel, struct digest_src *src)
{
	struct cur c;
	uint32_t count, lists;

	cur_init(&c, f->p, f->n);
	if (cur_u32le(&c, &count) != ATTEST_OK || count != sel->count || count > SER_SEL_ENTRIES)
		return false;
	for (uint32_t i = 0; i < count; i++)
		if (!selection_entry_is(&c, &sel->pcrSelections[i]))
			return false;
	if (cur_skip(&c, (SER_SEL_ENTRIES - count) * SER_SEL_ENTRY) != ATTEST_OK ||
	    cur_u32le(&c, &lists) != ATTEST_OK || lists > 64 || cur_left(&c) != (size_t)lists * SER_LIST)
		return false;
	src->c = c;
	src->serialized = true;
	return true;
}

/* The next digest of size bytes, or NULL when the file holds no more (or a slot has another size). */
static const uint8_t *next_digest(struct digest_src *s, size_t size)
{
	const uint8_t *d = NULL;
	struct cur slot;
	uint16_t n;

	if (!s->serialized)
		return cur_take(&s->c, size, &d) == ATTEST_OK ? d : NULL;
	while (s->in_list == 0) {
		if (cur_sub(&s->c, SER_LIST, &s->list) != ATTEST_OK ||
		    cur_u32le(&s->list, &s->in_list) != ATTEST_OK || s->in_list > SER_LIST_MAX)
			return NULL;
	}
	s->in_list--;
	if (cur_sub(&s->list, SER_DIGEST, &slot) != ATTEST_OK || cur_u16le(&slot, &n) != ATTEST_OK ||
	    n != size || cur_take(&slot, size, &d) != ATTEST_OK)
		return NULL;
	return d;
}

/* Everything of the file was used: no digest left over. */
static bool digests_used_up(const struct digest_src *s)
{
	return cur_empty(&s->c) && s->in_list == 0;
}

static int pcrs_from_file(const struct cli *cli, const struct file *f, const TPMS_ATTEST *a,
			  struct tpm_pcr_values *pcrs)
{
	const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
	struct digest_src src = {0};
	struct attest_err err;
	size_t need = 0;

	if (!serialized_open(f, sel, &src))
		cur_init(&src.c, f->p, f->n);
	attest_err_clear(&err);
	for (uint32_t i = 0; i < sel->count; i++) {
		int b = tpm_bank_from_alg(sel->pcrSelections[i].hash);
		size_t size = b < 0 ? 0 : tpm_bank_size((enum tpm_bank)b);

		if (b < 0) {
			cli_error(cli, "the quote selects PCRs of an unsupported bank (0x%04x)",
				  sel->pcrSelections[i].hash);
			return CLI_USAGE;
		}
		for (unsigned pcr = 0; pcr < 8u * sel->pcrSelections[i].sizeofSelect && pcr < TPM_PCR_COUNT;
		     pcr++) {
			const uint8_t *d;

			if (!(sel->pcrSelections[i].pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			need += size;
			if ((d = next_digest(&src, size)) == NULL) {
				cli_error(cli,
					  "%s holds %zu bytes: fewer than the digests of the PCRs the quote "
					  "selects",
					  f->path, f->n);
				return CLI_USAGE;
			}
			if (tpm_pcr_set(pcrs, (enum tpm_bank)b, pcr, d, size, &err) != ATTEST_OK)
				return bad_file(cli, f, "a list of PCR values", &err);
		}
	}
	if (!digests_used_up(&src)) {
		cli_error(cli,
			  "%s holds %zu bytes but the PCRs the quote selects take %zu (tpm2_quote -o, "
			  "default or -F values)",
			  f->path, f->n, need);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The JSON "pcrs" member as verify reads it: [{algorithm, values: [{index, digest}]}]. */
static int pcrs_from_json(const struct cli *cli, const struct file *f, json_t *doc)
{
	json_error_t jerr;
	json_t *v = json_loadb((const char *)f->p, f->n, JSON_REJECT_DUPLICATES, &jerr);

	if (!json_is_array(v)) {
		cli_error(cli, "%s: not a JSON array of PCR banks (%s)", f->path,
			  v ? "not an array" : jerr.text);
		json_decref(v);
		return CLI_USAGE;
	}
	json_object_set_new(doc, "pcrs", v);
	return CLI_OK;
}

static int pack_pcrs(const struct cli *cli, const struct file *pcrs_file, const struct file *quote,
		     json_t *doc)
{
	struct attest_err err;
	struct tpm_pcr_values pcrs;
	TPMS_ATTEST a;

	if (pcrs_file->n > 0 && pcrs_file->p[strspn((const char *)pcrs_file->p, " \t\r\n")] == '[')
		return pcrs_from_json(cli, pcrs_file, doc);
	attest_err_clear(&err);
	memset(&pcrs, 0, sizeof(pcrs));
	if (tpm_attest_parse(quote->p, quote->n, &a, &err) != ATTEST_OK)
		return bad_file(cli, quote, "a TPMS_ATTEST (tpm2_quote -m)", &err);
	if (a.type != TPM2_ST_ATTEST_QUOTE) {
		cli_error(cli, "%s is a TPMS_ATTEST of type 0x%04x, not a quote", quote->path, a.type);
		return CLI_USAGE;
	}
	if (pcrs_from_file(cli, pcrs_file, &a, &pcrs) != CLI_OK)
		return CLI_USAGE;
	return json_object_set_new(doc, "pcrs", tpm_pcrs_to_json(&pcrs)) == 0 ? CLI_OK : CLI_LOCAL;
}

static int pack(const struct cli *cli, const struct pack_opts *o, json_t *doc)
{
	struct file quote = {0}, sig = {0}, ak = {0}, cert = {0}, pcrs = {0}, log = {0};
	struct attest_err err;
	TPMT_SIGNATURE s;
	int rc;

	attest_err_clear(&err);
	if ((rc = file_load(cli, o->quote, &quote)) != CLI_OK ||
	    (rc = file_load(cli, o->signature, &sig)) != CLI_OK ||
	    (rc = file_load(cli, o->ak_public, &ak)) != CLI_OK ||
	    (rc = file_load(cli, o->pcrs, &pcrs)) != CLI_OK ||
	    (o->ak_cert && (rc = file_load(cli, o->ak_cert, &cert)) != CLI_OK) ||
	    (o->log && (rc = file_load(cli, o->log, &log)) != CLI_OK))
		goto out;
	if (tpm_signature_parse(sig.p, sig.n, &s, &err) != ATTEST_OK) {
		rc = bad_file(cli, &sig, "a TPMT_SIGNATURE (tpm2_quote -s)", &err);
		goto out;
	}
	if ((rc = pack_pcrs(cli, &pcrs, &quote, doc)) != CLI_OK || (rc = pack_ak(cli, &ak, doc)) != CLI_OK ||
	    (o->ak_cert && (rc = pack_cert(cli, &cert, doc)) != CLI_OK) ||
	    (rc = set_b64(doc, "quote", quote.p, quote.n)) != CLI_OK ||
	    (rc = set_b64(doc, "signature", sig.p, sig.n)) != CLI_OK)
		goto out;
	if (o->log) {
		char *b64 = b64url_encode(log.p, log.n);

		json_object_set_new(doc, "logs", json_pack("[{s:s, s:s?}]", "type", "TCG", "log", b64));
		free(b64);
	}
out:
	free(quote.p), free(sig.p), free(ak.p), free(cert.p), free(pcrs.p), free(log.p);
	return rc;
}

static int cmd_pack(struct cli *cli, int argc, char **argv)
{
	struct pack_opts o = {0};
	json_t *doc = json_object();
	char *text = NULL;
	int rc = parse_pack_opts(cli, argc, argv, &o);

	if (rc == CLI_OK)
		rc = pack(cli, &o, doc);
	if (rc == CLI_OK && (text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		rc = CLI_LOCAL;
	if (rc == CLI_OK) {
		FILE *f = o.out ? fopen(o.out, "w") : stdout;
		bool ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;

		if (f != NULL && o.out && fclose(f) != 0)
			ok = false;
		if (!ok) {
			cli_error(cli, "cannot write %s", o.out ? o.out : "stdout");
			rc = CLI_LOCAL;
		}
	}
	free(text);
	json_decref(doc);
	return rc;
}

static const struct cli_command VERBS[] = {
    {"pack", "one TPM attestation (JSON) from tpm2-tools files, for `attestctl verify Tpm`", cmd_pack,
     "Usage: attestctl tpm pack --quote FILE --signature FILE --ak-public FILE --pcrs FILE\n"
     "                          [--log FILE] [--ak-cert FILE] [-o FILE]\n\n"
     "Writes the attestation `attestctl verify Tpm FILE` checks offline (docs/claims-tpm.md):\n"
     "  --quote FILE      TPMS_ATTEST of a TPM2_Quote (tpm2_quote -m)\n"
     "  --signature FILE  its TPMT_SIGNATURE (tpm2_quote -s)\n"
     "  --ak-public FILE  the AK: TPM2B_PUBLIC / TPMT_PUBLIC (tpm2_createak -u, tpm2_readpublic -o)\n"
     "                    or a PEM public key (tpm2_readpublic -f pem)\n"
     "  --pcrs FILE       the quoted PCR values as tpm2_quote -o FILE writes them (its default\n"
     "                    format, or -F values), or the JSON \"pcrs\" array itself\n"
     "  --log FILE        the TCG event log (/sys/kernel/security/tpm0/binary_bios_measurements)\n"
     "  --ak-cert FILE    the AK's certificate (PEM or DER), checked against --trust-roots\n"
     "  -o, --output FILE write there instead of stdout\n\n"
     "Packing verifies nothing; `attestctl verify Tpm FILE --runtime-data NONCE` does\n"
     "(the nonce file holds the bytes given to tpm2_quote -q).\n"},
    {NULL, NULL, NULL, NULL},
};

const struct cli_noun cli_noun_tpm = {"tpm", "package TPM quotes from tpm2-tools for offline verification",
				      VERBS, NULL, NULL};
