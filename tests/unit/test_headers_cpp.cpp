// SPDX-License-Identifier: MIT
/*
 * test_headers.c compiled as C++: the same includes after <syslog.h> and the
 * same calls, so every public header is checked in both languages at once.
 */
#include "test_headers.c"
