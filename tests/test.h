/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal unit-test harness.  Each TEST(name) is a function returning
 * bool; ASSERT_* print the failing expression and return false.  main()
 * comes from RUN_TESTS(...) and prints one "PASS: name" or "FAIL: name" line
 * per test, which tests/run.sh counts; the exit status is 1 if any failed.
 */
#ifndef CUSTOS_TEST_H
#define CUSTOS_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TEST(name) static bool name(void)

#define ASSERT_TRUE(c)                                                                             \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "  %s:%d: assertion failed: %s\n", __FILE__, __LINE__,     \
				#c);                                                               \
			return false;                                                              \
		}                                                                                  \
	} while (0)

#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__,   \
				#a, #b, _a, _b);                                                   \
			return false;                                                              \
		}                                                                                  \
	} while (0)

#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b)) {                                                \
			fprintf(stderr, "  %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__,         \
				__LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");         \
			return false;                                                              \
		}                                                                                  \
	} while (0)

struct test_case {
	const char *name;
	bool (*fn)(void);
};

#define T(fn)                                                                                      \
	{                                                                                          \
#fn, fn                                                                            \
	}

#define RUN_TESTS(...)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct test_case cases[] = { __VA_ARGS__ };                           \
		int failed = 0;                                                                    \
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {                    \
			bool ok = cases[i].fn();                                                   \
			printf("%s: %s\n", ok ? "PASS" : "FAIL", cases[i].name);                   \
			fflush(stdout);                                                            \
			failed += !ok;                                                             \
		}                                                                                  \
		return failed ? 1 : 0;                                                             \
	}

#endif /* CUSTOS_TEST_H */
