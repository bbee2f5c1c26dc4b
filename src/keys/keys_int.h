#ifndef ATTEST_KEYS_KEYS_INT_H
#define ATTEST_KEYS_KEYS_INT_H

/* Shared between the files of src/keys only. */

#include "keys/keys.h"

/* Sets when a key stops being published (keyring rotation). */
void signing_key_set_retire_at(struct signing_key *k, int64_t t);

#endif
