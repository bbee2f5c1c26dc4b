#ifndef ATTEST_VERSION_H
#define ATTEST_VERSION_H

/* The library's version string, e.g. "0.1.0". */
const char *attest_version(void);

#endif
