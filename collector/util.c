// SPDX-License-Identifier: BSD-2-Clause
/*
 * Numbers and times as people type them.  Every parser here is strict: the
 * whole string must be consumed and every field must be in range, because a
 * silently misread --since bound would hide accesses from an auditor.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define NSEC_PER_SEC 1000000000LL

int util__read_file(const char *path, size_t max, char **buf, size_t *len)
{
	char *b = malloc(max + 1);
	FILE *f = NULL;
	size_t n = 0;
	int err = 0;

	if (!b)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		goto cleanup;
	}
	n = fread(b, 1, max + 1, f);
	if (ferror(f))
		err = -EIO;
	else if (n > max)
		err = -EFBIG;
cleanup:
	if (f)
		fclose(f);
	if (err) {
		free(b);
		return err;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

bool util__parse_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* EVP_DecodeBlock would take any of what this refuses: a signature or a
 * proof with two spellings is malleable. */
long util__b64_len(const char *s, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++) {
		if (b64_value(s[i]) < 0)
			return -1;
	}
	if (pad == 1 && (b64_value(s[n - 2]) & 0x03))
		return -1;
	if (pad == 2 && (b64_value(s[n - 3]) & 0x0f))
		return -1;
	return (long)(n / 4 * 3 - pad);
}

/* Parse all of s as a decimal in [min, max].  Returns 0, or -EINVAL leaving *out untouched. */
int util__parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *digits = s;
	long long v;
	char *end;

	/* strtoll would also take leading blanks and a '+'; a number here is [-]DIGITS. */
	if (*digits == '-')
		digits++;
	if (*digits < '0' || *digits > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Read exactly n decimal digits at *p and advance past them. */
static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* Read a run of 1..9 digits after a decimal point as nanoseconds. */
static bool take_fraction(const char **p, int64_t *out)
{
	int64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 9)
			return false;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (n == 0)
		return false;
	for (; n < 9; n++)
		v *= 10;
	*out = v;
	return true;
}

static bool is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* secs * 1e9 + frac, unless that leaves the int64 range (years 1677..2262). */
static int to_ns(int64_t secs, int64_t frac, int64_t *out)
{
	int64_t ns;

	/* Fold a positive fraction into a negative second so INT64_MIN's own second fits. */
	if (secs < 0 && frac > 0) {
		secs++;
		frac -= NSEC_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, NSEC_PER_SEC, &ns) ||
	    __builtin_add_overflow(ns, frac, &ns))
		return -EINVAL;
	*out = ns;
	return 0;
}

/*
 * "YYYY-MM-DD" optionally followed by 'T' or ' ', "HH:MM", ":SS", ".FRAC" and
 * a zone ("Z" or "+HH:MM").  Without a zone the time is UTC, as documented.
 */
static int parse_datetime(const char *p, int64_t *out)
{
	int year, mon, day, hour = 0, min = 0, sec = 0;
	int off_h = 0, off_m = 0, off_sign = 0;
	int64_t frac = 0, secs;
	struct tm tm = { 0 };
	time_t t;

	if (!take_digits(&p, 4, &year) || *p++ != '-' || !take_digits(&p, 2, &mon) || *p++ != '-' ||
	    !take_digits(&p, 2, &day))
		return -EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!take_digits(&p, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, &min))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!take_digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.') {
				p++;
				if (!take_fraction(&p, &frac))
					return -EINVAL;
			}
		}
		/* Leap second 60 is refused: nothing custos writes ever carries one. */
		if (hour > 23 || min > 59 || sec > 59)
			return -EINVAL;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			off_sign = *p++ == '-' ? -1 : 1;
			if (!take_digits(&p, 2, &off_h) || *p++ != ':' ||
			    !take_digits(&p, 2, &off_m) || off_h > 23 || off_m > 59)
				return -EINVAL;
		}
	}
	if (*p != '\0')
		return -EINVAL;

	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	errno = 0;
	t = timegm(&tm);
	if (t == (time_t)-1 && errno)
		return -EINVAL;
	secs = (int64_t)t - off_sign * (off_h * 3600 + off_m * 60);
	return to_ns(secs, frac, out);
}

/* "@SECONDS[.FRAC]" since the epoch. */
static int parse_epoch(const char *p, int64_t *out)
{
	bool neg = false;
	int64_t secs = 0, frac = 0;
	int n = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, n++) {
		if (__builtin_mul_overflow(secs, 10, &secs) ||
		    __builtin_add_overflow(secs, *p - '0', &secs))
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!take_fraction(&p, &frac))
			return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (neg) {
		secs = -secs;
		frac = -frac;
	}
	return to_ns(secs, frac, out);
}

/* "90s", "15m", "2h", "3d", "1w": that long before now_ns. */
static int parse_age(const char *p, int64_t now_ns, int64_t *out)
{
	int64_t n = 0, unit, age;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
			return -EINVAL;
	}
	switch (*p) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return -EINVAL;
	}
	if (p[1] != '\0')
		return -EINVAL;
	if (__builtin_mul_overflow(n, unit * NSEC_PER_SEC, &age) ||
	    __builtin_sub_overflow(now_ns, age, out))
		return -EINVAL;
	return 0;
}

/*
 * Parse a time in one of the forms listed in util.h into ns since the epoch.
 * Returns 0, or -EINVAL for any malformed, out-of-range or unrepresentable time.
 */
int util__parse_time(const char *s, int64_t now_ns, int64_t *out_ns)
{
	size_t len = strlen(s);

	if (!strcmp(s, "now")) {
		*out_ns = now_ns;
		return 0;
	}
	if (s[0] == '@')
		return parse_epoch(s + 1, out_ns);
	/* A date always has its '-' at index 4; an age never does. */
	if (len > 4 && s[4] == '-')
		return parse_datetime(s, out_ns);
	return parse_age(s, now_ns, out_ns);
}

/* Write ns as RFC 3339 UTC with nine fraction digits into buf (TIME_STR_LEN bytes, caller's). */
void util__format_time(int64_t ns, char *buf)
{
	/* Floor division, so times before 1970 keep a fraction in [0, 1e9). */
	int64_t secs = ns / NSEC_PER_SEC, frac = ns % NSEC_PER_SEC;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += NSEC_PER_SEC;
		secs--;
	}
	t = secs;
	if (!gmtime_r(&t, &tm)) {
		/* Unreachable for any int64 ns; still leave a string behind. */
		snprintf(buf, TIME_STR_LEN, "@%lld", (long long)secs);
		return;
	}
	/* At most 30 bytes for years 1677..2262, the whole int64 range; the check keeps gcc's
	 * truncation analysis, which cannot know that, quiet. */
	if (snprintf(buf, TIME_STR_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long long)frac) >= TIME_STR_LEN)
		buf[TIME_STR_LEN - 1] = '\0';
}

static int64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	/* Only an invalid clock id fails, and both ids used here exist since 2.6.39. */
	if (clock_gettime(clk, &ts))
		return 0;
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The wall clock, which records carry as their time. */
int64_t util__realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Time since boot including suspend, the clock the BPF side stamps events with. */
int64_t util__boottime_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

size_t util__utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t util__path_fold(char *p, size_t len)
{
	size_t in = 0, out = 0;
	int absolute = len && p[0] == '/';

	while (in < len) {
		size_t start, n;

		while (in < len && p[in] == '/')
			in++;
		start = in;
		while (in < len && p[in] != '/')
			in++;
		n = in - start;
		if (n == 0 || (n == 1 && p[start] == '.'))
			continue;
		if (n == 2 && p[start] == '.' && p[start + 1] == '.') {
			/* Back to the previous '/', if any. */
			while (out > 0 && p[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
			continue;
		}
		if (out || absolute)
			p[out++] = '/';
		memmove(p + out, p + start, n);
		out += n;
	}
	if (!out && absolute)
		p[out++] = '/';
	return out;
}

/* Controls and the marks that change how a line reads (C1, bidirectional
 * overrides) without showing. */
static bool is_invisible(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *util__display(const uint8_t *p, size_t n)
{
	size_t i = 0, o = 0;
	uint32_t cp;
	char *buf = malloc(n * 4 + 1);
	size_t len;

	if (!buf)
		return NULL;
	while (i < n) {
		len = util__utf8_seq(p + i, n - i, &cp);
		if (len && cp != '\\' && !is_invisible(cp)) {
			memcpy(buf + o, p + i, len);
			o += len;
			i += len;
			continue;
		}
		for (size_t k = 0; k < (len ? len : 1); k++)
			o += sprintf(buf + o, "\\x%02x", p[i + k]);
		i += len ? len : 1;
	}
	buf[o] = '\0';
	return buf;
}

void util__sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

void util__hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
