/* The --dev TLS certificate (devcert.h). */
#include "server/devcert.h"

#include "base/buf.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEVCERT_DAYS 825 /* the longest validity browsers accept for a leaf */

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* A self-signed certificate that is its own trust anchor (NODE_EXTRA_CA_CERTS, curl --cacert). */
static X509 *make_cert(EVP_PKEY *key, int64_t now)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int ok;

	if (cert == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive (RFC 5280 §4.1.2.2) */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL && X509_set_version(cert, 2) &&
	     X509_time_adj_ex(X509_getm_notBefore(cert), 0, -3600, (time_t *)&now) != NULL &&
	     X509_time_adj_ex(X509_getm_notAfter(cert), DEVCERT_DAYS, 0, (time_t *)&now) != NULL &&
	     X509_set_pubkey(cert, key);
	BN_free(bn);
	if (!ok)
		goto fail;
	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"attestd development", -1, -1,
					0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(cert, name))
		goto fail;
	if (add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") ||
	    add_ext(cert, NID_subject_key_identifier, "hash") ||
	    add_ext(cert, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost"))
		goto fail;
	if (X509_sign(cert, key, EVP_sha256()) <= 0)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

static char *bio_text(BIO *bio)
{
	char *data = NULL, *out;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

static int write_file(const char *path, const char *text, mode_t mode, struct attest_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t n = strlen(text), off = 0;

	if (fd < 0)
		return attest_err_set(err, ATTEST_E_IO, "devcert.io", "cannot create %s: %s", path, strerror(errno));
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w <= 0) {
			close(fd);
			return attest_err_set(err, ATTEST_E_IO, "devcert.io", "cannot write %s", path);
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return attest_err_set(err, ATTEST_E_IO, "devcert.io", "cannot write %s", path);
	return ATTEST_OK;
}

static int generate(const char *cert_path, const char *key_path, int64_t now, struct attest_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? make_cert(key, now) : NULL;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char *kt = NULL, *ct = NULL;
	int rc = ATTEST_OK;

	if (cert == NULL || kb == NULL || cb == NULL || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, cert) || (kt = bio_text(kb)) == NULL || (ct = bio_text(cb)) == NULL) {
		rc = attest_err_set(err, ATTEST_E_INTERNAL, "devcert.generate", "cannot generate the development certificate");
		goto out;
	}
	rc = write_file(key_path, kt, 0600, err);
	if (rc == ATTEST_OK)
		rc = write_file(cert_path, ct, 0644, err);
	if (rc != ATTEST_OK)
		unlink(key_path);
out:
	if (kt != NULL)
		mem_free_secret(kt, strlen(kt));
	free(ct);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int devcert_load_or_create(const char *dir, int64_t now, char **cert_pem, char **key_pem, bool *created,
			   struct attest_err *err)
{
	char cert_path[2048], key_path[2048];
	uint8_t *c = NULL, *k = NULL;
	size_t cl = 0, kl = 0;
	int rc = store_make_private_dir(dir, err);

	if (rc != ATTEST_OK)
		return rc;
	snprintf(cert_path, sizeof(cert_path), "%s/dev-cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/dev-key.pem", dir);
	*created = false;
	if (access(cert_path, F_OK) != 0 || access(key_path, F_OK) != 0) {
		unlink(cert_path);
		unlink(key_path);
		rc = generate(cert_path, key_path, now, err);
		if (rc != ATTEST_OK)
			return rc;
		*created = true;
	}
	if (file_read_all(cert_path, 64 * 1024, &c, &cl) != 0 || file_read_all(key_path, 64 * 1024, &k, &kl) != 0) {
		free(c);
		return attest_err_set(err, ATTEST_E_IO, "devcert.io", "cannot read %s or %s", cert_path, key_path);
	}
	*cert_pem = (char *)c;
	*key_pem = (char *)k;
	return ATTEST_OK;
}
