#ifndef ATTEST_SERVER_DEVCERT_H
#define ATTEST_SERVER_DEVCERT_H

/*
 * The development TLS certificate of `attestd --dev`: a self-signed P-256
 * certificate for 127.0.0.1, ::1 and localhost, made on first start and
 * kept in <data>/tls/ (dev-cert.pem 0644 so clients can trust it,
 * dev-key.pem 0600). Never used outside --dev.
 */

#include "attest/error.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Loads <dir>/dev-cert.pem and dev-key.pem, creating them (and dir, 0700)
 * when absent. *cert_pem / *key_pem are NUL-terminated PEM (caller frees;
 * the key with mem_free_secret). *created says whether they were made now.
 * Errors: devcert.io, devcert.generate.
 */
int devcert_load_or_create(const char *dir, int64_t now, char **cert_pem, char **key_pem, bool *created,
			   struct attest_err *err);

#endif
