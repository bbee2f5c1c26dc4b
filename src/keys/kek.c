/*
 * The key-encryption key file (keys.h): 32 random bytes, created with mode
 * 0600 and O_EXCL when missing; refused when group or others may read it
 * (as OpenSSH refuses private key files with loose permissions).
 */
#include "keys/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void kek_clear(struct kek *kek)
{
	if (kek != NULL)
		OPENSSL_cleanse(kek->k, sizeof(kek->k));
}

static int kek_create(const char *path, struct kek *out, struct attest_err *err)
{
	size_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST
			   ? ATTEST_E_CONFLICT
			   : attest_err_set(err, ATTEST_E_IO, "keys.kek.io",
					    "cannot create the KEK file %s: %s", path, strerror(errno));
	if (RAND_priv_bytes(out->k, sizeof(out->k)) != 1) {
		close(fd);
		unlink(path);
		return attest_err_set(err, ATTEST_E_INTERNAL, "keys.kek.io", "no randomness for the KEK");
	}
	while (done < sizeof(out->k)) {
		ssize_t w = write(fd, out->k + done, sizeof(out->k) - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(path);
			kek_clear(out);
			return attest_err_set(err, ATTEST_E_IO, "keys.kek.io", "cannot write the KEK file %s",
					      path);
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		kek_clear(out);
		return attest_err_set(err, ATTEST_E_IO, "keys.kek.io", "cannot sync the KEK file %s", path);
	}
	return ATTEST_OK;
}

static int kek_read(int fd, const char *path, struct kek *out, struct attest_err *err)
{
	struct stat st;
	size_t done = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return attest_err_set(err, ATTEST_E_IO, "keys.kek.io", "KEK %s is not a regular file", path);
	if ((st.st_mode & 077) != 0)
		return attest_err_set(
		    err, ATTEST_E_DENIED, "keys.kek.permissions",
		    "KEK file %s is accessible by group or others (mode %03o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
	if (st.st_size != (off_t)sizeof(out->k))
		return attest_err_set(err, ATTEST_E_PARSE, "keys.kek.size",
				      "KEK file %s must hold exactly %zu bytes", path, sizeof(out->k));
	while (done < sizeof(out->k)) {
		ssize_t r = read(fd, out->k + done, sizeof(out->k) - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			kek_clear(out);
			return attest_err_set(err, ATTEST_E_IO, "keys.kek.io", "cannot read the KEK file %s",
					      path);
		}
		done += (size_t)r;
	}
	return ATTEST_OK;
}

int kek_load_or_create(const char *path, struct kek *out, bool *created, struct attest_err *err)
{
	int attempt, fd, rc;

	if (path == NULL || out == NULL)
		return attest_err_set(err, ATTEST_E_INVALID, "keys.kek.io",
				      "kek_load_or_create: bad argument");
	if (created != NULL)
		*created = false;
	/*
	 * The keys this process unseals with the KEK are created or loaded after
	 * it: set up the secure heap now (default size, unless the caller set it
	 * up first) so their private parts land there. Without one (an OpenSSL
	 * built without secure memory) the keys stay on the normal heap: the
	 * caller may refuse that through keys_secure_heap_init itself (before).
	 */
	(void)keys_secure_heap_init(NULL, NULL);
	/* Two rounds: another process may create the file between our open and our create. */
	for (attempt = 0; attempt < 2; attempt++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			rc = kek_read(fd, path, out, err);
			close(fd);
			return rc;
		}
		if (errno != ENOENT)
			return attest_err_set(err, ATTEST_E_IO, "keys.kek.io",
					      "cannot open the KEK file %s: %s", path, strerror(errno));
		rc = kek_create(path, out, err);
		if (rc == ATTEST_OK && created != NULL)
			*created = true;
		if (rc != ATTEST_E_CONFLICT)
			return rc;
	}
	return attest_err_set(err, ATTEST_E_IO, "keys.kek.io", "KEK file %s keeps changing", path);
}
