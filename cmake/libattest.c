/* libattest is assembled from the module archives; this file only gives the
 * shared library a translation unit of its own. */
#include "attest/version.h"

const char *attest_version(void) { return ATTEST_VERSION; }
