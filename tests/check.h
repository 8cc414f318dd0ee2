/*
 * check.h — the one assertion macro pair of Skiff's C tests.
 *
 *     CHECK(cond);                       on failure: "file:line: check failed: cond"
 *     CHECKF(cond, "got %d", x);         on failure: "file:line: check failed: got 5"
 *
 * By default a failed check prints to stderr and exits with status 1, which
 * fails the test.  Code that must not exit (a test service running inside a
 * node) defines CHECK_FAILED(file, line, text) before including this header;
 * the macro runs in the checking function, so it may `return`.
 */
#ifndef SKIFF_TEST_CHECK_H
#define SKIFF_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifndef CHECK_FAILED
#define CHECK_FAILED(file, line, text)                                                                       \
	do {                                                                                                 \
		fprintf(stderr, "%s:%d: check failed: %s\n", (file), (line), (text));                        \
		exit(1);                                                                                     \
	} while (0)
#endif

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond))                                                                                 \
			CHECK_FAILED(__FILE__, __LINE__, #cond);                                             \
	} while (0)

#define CHECKF(cond, ...)                                                                                    \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			char check_why_[256];                                                                \
			snprintf(check_why_, sizeof(check_why_), __VA_ARGS__);                               \
			CHECK_FAILED(__FILE__, __LINE__, check_why_);                                        \
		}                                                                                            \
	} while (0)

#endif
