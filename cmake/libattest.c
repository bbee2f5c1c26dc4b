/*
 * libattest is assembled from the module archives (cmake/libattest.cmake);
 * this file only gives the shared library a translation unit of its own.
 */
#include "attest/attest.h"

typedef int attest_libattest_unit;
