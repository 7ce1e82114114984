/* libFuzzer targets: each defines LLVMFuzzerTestOneInput. Built with
 * clang -fsanitize=fuzzer by `make fuzz`; built with replay.c into a
 * check_fuzz_* program by `make test`, which runs every input kept under
 * tests/fuzz/corpus/<target>/ (crashes found become files there). */
#ifndef WP_FUZZ_H
#define WP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input; the caller frees it. */
char *fuzz_string(const uint8_t *data, size_t size);

/* An invariant of the code under test does not hold: abort, so the
 * fuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(#cond, __FILE__, __LINE__);                  \
	} while (0)
void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

#endif
