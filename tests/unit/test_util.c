// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of collector/util.c: numbers and times. */
#include <errno.h>
#include <stdint.h>

#include "opts.h"
#include "test.h"
#include "util.h"

#define NS 1000000000LL
/* 2026-11-27T06:10:21Z, checked with date -u -d @1795759821. */
#define T0  1795759821LL
#define NOW (T0 * NS + 123)

/* Parse s with NOW as the present; false if it is refused. */
static bool parse(const char *s, int64_t *ns)
{
	return util__parse_time(s, NOW, ns) == 0;
}

TEST(parse_int_accepts_in_range)
{
	int64_t v = 0;

	ASSERT_EQ(util__parse_int("0", 0, 10, &v), 0);
	ASSERT_EQ(v, 0);
	ASSERT_EQ(util__parse_int("4294967295", 0, UINT32_MAX, &v), 0);
	ASSERT_EQ(v, 4294967295LL);
	ASSERT_EQ(util__parse_int("-5", -10, 10, &v), 0);
	ASSERT_EQ(v, -5);
	return true;
}

TEST(parse_int_rejects_garbage_and_range)
{
	int64_t v = 42;

	ASSERT_EQ(util__parse_int("", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("5x", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int(" 5", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("+5", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("-", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("11", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("-1", 0, 10, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("4294967296", 0, UINT32_MAX, &v), -EINVAL);
	ASSERT_EQ(util__parse_int("99999999999999999999", INT64_MIN, INT64_MAX, &v), -EINVAL);
	ASSERT_EQ(v, 42);
	return true;
}

TEST(parse_rfc3339)
{
	int64_t ns;

	ASSERT_TRUE(parse("2026-11-27T06:10:21Z", &ns));
	ASSERT_EQ(ns, T0 * NS);
	ASSERT_TRUE(parse("2026-11-27t06:10:21z", &ns));
	ASSERT_EQ(ns, T0 * NS);
	ASSERT_TRUE(parse("2026-11-27T06:10:21.123456789Z", &ns));
	ASSERT_EQ(ns, T0 * NS + 123456789);
	ASSERT_TRUE(parse("2026-11-27T06:10:21.5Z", &ns));
	ASSERT_EQ(ns, T0 * NS + 500000000);
	ASSERT_TRUE(parse("2026-11-27T06:10:21.000000001Z", &ns));
	ASSERT_EQ(ns, T0 * NS + 1);
	return true;
}

TEST(parse_rfc3339_offsets)
{
	int64_t ns;

	ASSERT_TRUE(parse("2026-11-27T08:10:21+02:00", &ns));
	ASSERT_EQ(ns, T0 * NS);
	ASSERT_TRUE(parse("2026-11-27T00:40:21.25-05:30", &ns));
	ASSERT_EQ(ns, T0 * NS + 250000000);
	ASSERT_TRUE(parse("2026-11-27T06:10:21+00:00", &ns));
	ASSERT_EQ(ns, T0 * NS);
	/* An offset can move the time across midnight and a year end. */
	ASSERT_TRUE(parse("2027-01-01T01:00:00+02:00", &ns));
	ASSERT_EQ(ns, 1798758000LL * NS);
	return true;
}

TEST(parse_dates_and_minutes)
{
	int64_t ns;

	ASSERT_TRUE(parse("2026-11-27", &ns));
	ASSERT_EQ(ns, (T0 - (6 * 3600 + 10 * 60 + 21)) * NS);
	ASSERT_TRUE(parse("2026-11-27 06:10", &ns));
	ASSERT_EQ(ns, (T0 - 21) * NS);
	ASSERT_TRUE(parse("2026-11-27 06:10:21", &ns));
	ASSERT_EQ(ns, T0 * NS);
	ASSERT_TRUE(parse("2026-11-27T06:10Z", &ns));
	ASSERT_EQ(ns, (T0 - 21) * NS);
	ASSERT_TRUE(parse("1970-01-01", &ns));
	ASSERT_EQ(ns, 0);
	ASSERT_TRUE(parse("2024-02-29", &ns));
	ASSERT_TRUE(parse("2000-02-29", &ns));
	ASSERT_TRUE(parse("1969-12-31T23:59:59Z", &ns));
	ASSERT_EQ(ns, -NS);
	return true;
}

TEST(parse_relative_and_epoch)
{
	int64_t ns;

	ASSERT_TRUE(parse("now", &ns));
	ASSERT_EQ(ns, NOW);
	ASSERT_TRUE(parse("90s", &ns));
	ASSERT_EQ(ns, NOW - 90 * NS);
	ASSERT_TRUE(parse("15m", &ns));
	ASSERT_EQ(ns, NOW - 15 * 60 * NS);
	ASSERT_TRUE(parse("2h", &ns));
	ASSERT_EQ(ns, NOW - 2 * 3600 * NS);
	ASSERT_TRUE(parse("3d", &ns));
	ASSERT_EQ(ns, NOW - 3 * 86400 * NS);
	ASSERT_TRUE(parse("1w", &ns));
	ASSERT_EQ(ns, NOW - 7 * 86400 * NS);
	ASSERT_TRUE(parse("0s", &ns));
	ASSERT_EQ(ns, NOW);
	ASSERT_TRUE(parse("@1795759821", &ns));
	ASSERT_EQ(ns, T0 * NS);
	ASSERT_TRUE(parse("@0", &ns));
	ASSERT_EQ(ns, 0);
	ASSERT_TRUE(parse("@1795759821.5", &ns));
	ASSERT_EQ(ns, T0 * NS + 500000000);
	ASSERT_TRUE(parse("@-1.5", &ns));
	ASSERT_EQ(ns, -1500000000LL);
	return true;
}

TEST(parse_rejects_garbage)
{
	static const char *const bad[] = {
		"",
		"5x",
		"5",
		"x",
		"s",
		"-5s",
		"5 s",
		"5ss",
		"Now",
		"now ",
		"@",
		"@x",
		"@5x",
		"@1.",
		"@1.1234567890",
		"2026-13-01",
		"2026-00-10",
		"2026-11-00",
		"2026-11-31",
		"2025-02-29",
		"1900-02-29",
		"2026-11-27T25:00:00Z",
		"2026-11-27T24:00:00Z",
		"2026-11-27T06:60:00Z",
		"2026-11-27T06:10:60Z",
		"2026-11-27T06:10:21+24:00",
		"2026-11-27T06:10:21+02:60",
		"2026-11-27T06:10:21+0200",
		"2026-11-27T06:10:21+02",
		"2026-11-27T06:10:21.Z",
		"2026-11-27T06:10:21.1234567891Z",
		"2026-11-27T06:10:21Zx",
		"2026-11-27T06:10:21 ",
		"2026-11-27T6:10:21Z",
		"2026-11-27T",
		"2026-11-27x",
		"2026-11-7",
		"26-11-27",
		"2026/11/27",
		" 2026-11-27",
		/* Outside the years an int64 of ns can hold. */
		"2300-01-01",
		"1600-01-01",
		"@99999999999",
		"99999999999999w",
	};
	int64_t ns = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (util__parse_time(bad[i], NOW, &ns) != -EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			return false;
		}
	}
	ASSERT_EQ(ns, 7);
	return true;
}

TEST(format_time)
{
	char buf[TIME_STR_LEN];

	util__format_time(T0 * NS, buf);
	ASSERT_STREQ(buf, "2026-11-27T06:10:21.000000000Z");
	util__format_time(T0 * NS + 123, buf);
	ASSERT_STREQ(buf, "2026-11-27T06:10:21.000000123Z");
	util__format_time(0, buf);
	ASSERT_STREQ(buf, "1970-01-01T00:00:00.000000000Z");
	/* Before the epoch the fraction still counts up from the whole second. */
	util__format_time(-1, buf);
	ASSERT_STREQ(buf, "1969-12-31T23:59:59.999999999Z");
	util__format_time(INT64_MAX, buf);
	ASSERT_STREQ(buf, "2262-04-11T23:47:16.854775807Z");
	util__format_time(INT64_MIN, buf);
	ASSERT_STREQ(buf, "1677-09-21T00:12:43.145224192Z");
	return true;
}

TEST(format_parse_round_trip)
{
	static const int64_t values[] = {
		0, 1, -1, T0 * NS, T0 * NS + 999999999, 951782400LL * NS + 42, INT64_MAX, INT64_MIN,
	};
	char buf[TIME_STR_LEN];
	int64_t ns;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		util__format_time(values[i], buf);
		ASSERT_TRUE(parse(buf, &ns));
		ASSERT_EQ(ns, values[i]);
	}
	return true;
}

TEST(clocks_advance)
{
	int64_t r = util__realtime_ns(), b = util__boottime_ns();

	/* After 2020 and after boot; the boot clock never goes back (the wall clock may be
	 * stepped). */
	ASSERT_TRUE(r > 1577836800LL * NS);
	ASSERT_TRUE(b > 0);
	ASSERT_TRUE(util__boottime_ns() >= b);
	return true;
}

static bool folds_to(const char *in, const char *want)
{
	char buf[256];
	size_t n = strlen(in);

	memcpy(buf, in, n);
	n = util__path_fold(buf, n);
	buf[n] = '\0';
	if (strcmp(buf, want)) {
		fprintf(stderr, "  fold(%s) = %s, want %s\n", in, buf, want);
		return false;
	}
	return true;
}

TEST(path_fold)
{
	ASSERT_TRUE(folds_to("/srv/data/x", "/srv/data/x"));
	ASSERT_TRUE(folds_to("/srv//data/./x/", "/srv/data/x"));
	ASSERT_TRUE(folds_to("/srv/data/sub/../x", "/srv/data/x"));
	ASSERT_TRUE(folds_to("/srv/data/../../../etc/passwd", "/etc/passwd"));
	ASSERT_TRUE(folds_to("/..", "/"));
	ASSERT_TRUE(folds_to("/", "/"));
	ASSERT_TRUE(folds_to("a/./b/../c", "a/c"));
	/* A name that only looks like ".." is a name. */
	ASSERT_TRUE(folds_to("/srv/..x/...", "/srv/..x/..."));
	return true;
}

/* A table past OPTS_MAX is refused whole: no option is silently dropped. */
TEST(options_table_past_its_limit_is_refused)
{
	static struct opt many[OPTS_MAX + 2];
	struct opts_cmd cmd = { .name = "custos test", .opts = many, .usage_status = 64 };
	char name[OPTS_MAX + 1][8], arg0[] = "custos", arg1[] = "--o0";
	char *argv[] = { arg0, arg1, NULL };
	struct opts_parser p;
	int status = 0;

	for (int i = 0; i <= OPTS_MAX; i++) {
		snprintf(name[i], sizeof(name[i]), "o%d", i);
		many[i] = (struct opt){ .name = name[i], .key = 256 + i, .help = "x" };
	}
	opts__init(&p, &cmd, 2, argv);
	ASSERT_EQ(opts__next(&p, &status), -1);
	ASSERT_EQ(status, 64);
	/* At the limit, every option is parsed. */
	many[OPTS_MAX].name = NULL;
	opts__init(&p, &cmd, 2, argv);
	ASSERT_EQ(opts__next(&p, &status), 256);
	return true;
}

/* Lowercase, two digits a byte, every nibble, NUL-terminated. */
TEST(hex)
{
	static const uint8_t p[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
	char out[2 * sizeof(p) + 1];

	memset(out, 'x', sizeof(out));
	util__hex(out, p, sizeof(p));
	ASSERT_STREQ(out, "000fa5ff10");
	util__hex(out, p, 0);
	ASSERT_STREQ(out, "");
	return true;
}

RUN_TESTS(T(hex), T(path_fold), T(options_table_past_its_limit_is_refused),
	  T(parse_int_accepts_in_range), T(parse_int_rejects_garbage_and_range), T(parse_rfc3339),
	  T(parse_rfc3339_offsets), T(parse_dates_and_minutes), T(parse_relative_and_epoch),
	  T(parse_rejects_garbage), T(format_time), T(format_parse_round_trip), T(clocks_advance))
