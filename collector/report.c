// SPDX-License-Identifier: BSD-2-Clause
/*
 * custos report.  Every section is one SELECT over the rows of the
 * `accesses` and `gaps_losses` views (views.c), narrowed to the period, the
 * person and the dataset asked for; its rows become a table of display
 * strings, and that one table is printed either for a terminal or as HTML.
 *
 * The database may come from a host under investigation and its paths are
 * bytes chosen by whoever named the files: every value is escaped once into
 * printable UTF-8 (display), and HTML escapes that again, so a name can
 * neither forge a row, drive the terminal, nor inject markup.  The page
 * loads nothing: its style is inline, its chart inline SVG, and its content
 * security policy forbids any fetch.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "store.h"
#include "util.h"
#include "views.h"

#define NS_PER_SEC 1000000000LL
#define MAX_COLS   14

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* Parse "H:MM" or "HH:MM" at *s, advancing it; 24:00 only when end. */
static int parse_clock(const char **s, bool end, int *min)
{
	const char *p = *s;
	int h = 0, m, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 2) {
		h = h * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || *p++ != ':' || p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9')
		return -EINVAL;
	m = (p[0] - '0') * 10 + (p[1] - '0');
	if (h > 24 || (h == 24 && (m || !end)))
		return -EINVAL;
	*min = h * 60 + m;
	*s = p + 2;
	return 0;
}

struct report_opts report__defaults(void)
{
	return (struct report_opts){
		.since_ns = INT64_MIN,
		.until_ns = INT64_MAX,
		.hours_from = 8 * 60,
		.hours_to = 18 * 60,
		.days = REPORT_MON_FRI,
		.top = 10,
		.rows = 50,
	};
}

int report__parse_hours(const char *s, int *from, int *to)
{
	int a, b;

	if (parse_clock(&s, false, &a) || *s++ != '-' || parse_clock(&s, true, &b) || *s ||
	    a == b % (24 * 60))
		return -EINVAL;
	*from = a;
	*to = b;
	return 0;
}

static int day_index(const char *s, size_t n)
{
	for (int d = 0; d < 7; d++)
		if (n == 3 && !strncasecmp(s, day_names[d], 3))
			return d;
	return -1;
}

int report__parse_days(const char *s, unsigned *mask)
{
	unsigned m = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *dash = memchr(s, '-', n);
		int a, b;

		if (dash) {
			a = day_index(s, dash - s);
			b = day_index(dash + 1, n - (dash + 1 - s));
		} else {
			a = b = day_index(s, n);
		}
		if (a < 0 || b < 0)
			return -EINVAL;
		for (int d = a;; d = (d + 1) % 7) {
			m |= 1u << d;
			if (d == b)
				break;
		}
		s += n;
		if (*s == ',' && !*++s)
			return -EINVAL;
	}
	*mask = m;
	return 0;
}

int report__check_tz(const char *tz)
{
	char path[512];
	struct stat sb;

	if (!strcmp(tz, "UTC"))
		return 0;
	/* Only names inside the zone database: no absolute paths, no way out of it. */
	if (!*tz || *tz == '/' || *tz == ':' || strstr(tz, "..") ||
	    strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
		    strlen(tz))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz) >= (int)sizeof(path) ||
	    stat(path, &sb) || !S_ISREG(sb.st_mode))
		return -EINVAL;
	return 0;
}

/* The broken-down time of ns in the report's zone. */
static void local_tm(const struct report_opts *o, int64_t ns, struct tm *tm)
{
	time_t t = (time_t)(ns / NS_PER_SEC - (ns % NS_PER_SEC < 0));

	if (o->tz)
		localtime_r(&t, tm);
	else
		gmtime_r(&t, tm);
}

static bool outside_hours(const struct report_opts *o, int64_t ns)
{
	struct tm tm;
	int min, from = o->hours_from, to = o->hours_to;
	bool in_hours;

	local_tm(o, ns, &tm);
	min = tm.tm_hour * 60 + tm.tm_min;
	in_hours = from < to ? min >= from && min < to : min >= from || min < to;
	/* A shift across midnight belongs to the day it started. */
	if (from > to && min < to)
		tm.tm_wday = (tm.tm_wday + 6) % 7;
	return !(in_hours && (o->days & (1u << tm.tm_wday)));
}

/* report_outside(time_ns): 1 outside the working hours and days. */
static void sql_outside(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct report_opts *o = sqlite3_user_data(ctx);

	sqlite3_result_int(ctx, outside_hours(o, sqlite3_value_int64(argv[0])));
}

/* report_local(time_ns): "Sat 23:14", the weekday and time in the report's zone. */
static void sql_local(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char *const names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	const struct report_opts *o = sqlite3_user_data(ctx);
	char buf[32];
	struct tm tm;

	local_tm(o, sqlite3_value_int64(argv[0]), &tm);
	snprintf(buf, sizeof(buf), "%s %02d:%02d", names[tm.tm_wday], tm.tm_hour, tm.tm_min);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* report_errno(result): "EACCES" for -13; the number when it has no name. */
static void sql_errno(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t r = sqlite3_value_int64(argv[0]);
	const char *name = r < 0 && r > -4096 ? strerrorname_np((int)-r) : NULL;
	char buf[24];

	if (!name) {
		snprintf(buf, sizeof(buf), "%" PRId64, r);
		name = buf;
	}
	sqlite3_result_text(ctx, name, -1, SQLITE_TRANSIENT);
}

static int register_functions(sqlite3 *db, const struct report_opts *o)
{
	static const struct {
		const char *name;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{ "report_outside", sql_outside },
		{ "report_local", sql_local },
		{ "report_errno", sql_errno },
	};

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (sqlite3_create_function(db, fns[i].name, 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
					    (void *)o, fns[i].fn, NULL, NULL) != SQLITE_OK) {
			log_warnx("failed to register SQL functions: %s", sqlite3_errmsg(db));
			return -EIO;
		}
	return 0;
}

/* A new formatted string the caller frees, or NULL (asprintf leaves its
 * pointer undefined on failure). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Code points that act on a terminal or reorder text: C1 controls and bidi marks. */
/* Display width of UTF-8 text: one column per code point, which holds for
 * the paths and names of a ledger but not for wide CJK characters. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* A table of display strings: the one data path of both outputs. */
struct table {
	int ncols;
	const char *const *head;
	const char *align; /* 'l' or 'r' per column */
	char **cell;	   /* nrows x ncols */
	size_t nrows, total;
};

static void table_free(struct table *t)
{
	for (size_t i = 0; t->cell && i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = t->total = 0;
}

/* The display string of column c of the current row; NULL when out of memory. */
static char *cell_text(sqlite3_stmt *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		return strdup("-");
	case SQLITE_INTEGER:
		return strf("%lld", (long long)sqlite3_column_int64(st, c));
	case SQLITE_FLOAT:
		return strf("%.3f", sqlite3_column_double(st, c));
	default:
		return util__display(sqlite3_column_blob(st, c), sqlite3_column_bytes(st, c));
	}
}

/* Step st to the end, keeping the first cap rows in t and counting every row. */
static int table_fill(sqlite3 *db, sqlite3_stmt *st, struct table *t, size_t cap)
{
	int rc;

	if (sqlite3_column_count(st) != t->ncols) {
		log_warnx("failed to build report: a section has %d columns, not %d",
			  sqlite3_column_count(st), t->ncols);
		return -EINVAL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **row;

		if (t->total++ >= cap)
			continue;
		row = realloc(t->cell, (t->nrows + 1) * t->ncols * sizeof(*row));
		if (!row)
			goto nomem;
		t->cell = row;
		row += t->nrows * t->ncols;
		for (int c = 0; c < t->ncols; c++)
			row[c] = NULL;
		t->nrows++;
		for (int c = 0; c < t->ncols; c++)
			if (!(row[c] = cell_text(st, c)))
				goto nomem;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("failed to read database: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
nomem:
	log_warnx("failed to build report: out of memory");
	return -ENOMEM;
}

/* Text with &, <, >, " and ' as character references. */
static void html_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

struct out {
	FILE *f;
	bool html;
	size_t cap; /* rows shown of a list */
};

static void out_section(struct out *o, const char *id, const char *title, const char *about)
{
	if (o->html) {
		fprintf(o->f, "<section id=\"%s\">\n<h2>", id);
		html_put(o->f, title);
		fputs("</h2>\n", o->f);
		if (about) {
			fputs("<p>", o->f);
			html_put(o->f, about);
			fputs("</p>\n", o->f);
		}
		return;
	}
	fprintf(o->f, "\n== %s ==\n", title);
	if (about)
		fprintf(o->f, "%s\n", about);
}

static void out_end(struct out *o)
{
	if (o->html)
		fputs("</section>\n", o->f);
}

static void table_text(FILE *f, const struct table *t)
{
	size_t w[MAX_COLS] = { 0 }, n;

	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++)
			if ((n = width(t->cell[r * t->ncols + c])) > w[c])
				w[c] = n;
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cell[(r - 1) * t->ncols + c] : t->head[c];
			size_t pad = w[c] - width(s);
			bool last = c == t->ncols - 1;

			if (t->align[c] == 'r')
				fprintf(f, "%*s%s", (int)pad, "", s);
			else
				fprintf(f, "%s%*s", s, last ? 0 : (int)pad, "");
			fputs(last ? "\n" : "  ", f);
		}
	}
}

static void table_html(FILE *f, const struct table *t)
{
	fputs("<table>\n<thead><tr>", f);
	for (int c = 0; c < t->ncols; c++) {
		fputs("<th>", f);
		html_put(f, t->head[c]);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs("<tr>", f);
		for (int c = 0; c < t->ncols; c++) {
			fputs(t->align[c] == 'r' ? "<td class=\"n\">" : "<td>", f);
			html_put(f, t->cell[r * t->ncols + c]);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

/* A table, or "none"; and how many rows were left out. */
static void out_table(struct out *o, const struct table *t, const char *more)
{
	char note[160] = "";

	if (t->total > t->nrows)
		snprintf(note, sizeof(note), "%zu more not shown (%s)", t->total - t->nrows, more);
	if (o->html) {
		if (t->nrows)
			table_html(o->f, t);
		else
			fputs("<p class=\"none\">none</p>\n", o->f);
		if (*note)
			fprintf(o->f, "<p class=\"more\">%s</p>\n", note);
		return;
	}
	if (t->nrows)
		table_text(o->f, t);
	else
		fputs("none\n", o->f);
	if (*note)
		fprintf(o->f, "%s\n", note);
}

/* A one-row table shown as label: value lines. */
static void out_pairs(struct out *o, const struct table *t)
{
	if (!t->nrows)
		return;
	if (o->html) {
		fputs("<table class=\"pairs\">\n", o->f);
		for (int c = 0; c < t->ncols; c++) {
			fputs("<tr><th>", o->f);
			html_put(o->f, t->head[c]);
			fputs("</th><td class=\"n\">", o->f);
			html_put(o->f, t->cell[c]);
			fputs("</td></tr>\n", o->f);
		}
		fputs("</table>\n", o->f);
		return;
	}
	for (int c = 0; c < t->ncols; c++) {
		size_t w = width(t->head[c]);

		fprintf(o->f, "%s:%*s%s\n", t->head[c], (int)(w < 24 ? 24 - w : 1), "", t->cell[c]);
	}
}

/*
 * The rows every section reads.  a: the access records of the period, person
 * and dataset; e: those that count once per event: opens, mmaps, and each
 * read session once, in the record the accesses view counts its bytes in
 * (its final record, else its latest progress report: the others repeat
 * totals, and single read calls are part of a session); g: the
 * gaps that overlap the period and the losses in it; al: the alerts of the
 * period, person and dataset.
 * ?1 since, ?2 until, ?3 person, ?4 dataset, ?5 --top.
 */
static const char rows_sql[] =
	"WITH a AS (SELECT * FROM (%s) WHERE time_ns >= ?1 AND time_ns < ?2"
	" AND (?3 IS NULL OR person = ?3) AND (?4 IS NULL OR dataset = ?4)),"
	" e AS (SELECT * FROM a WHERE action IN ('open', 'mmap')"
	" OR (action = 'read' AND counted)),"
	" g AS (SELECT * FROM (%s) WHERE (kind = 'gap' AND gap_to_ns >= ?1 AND gap_from_ns < ?2)"
	" OR (kind = 'loss' AND time_ns >= ?1 AND time_ns < ?2)),"
	" al AS (SELECT * FROM (%s) WHERE time_ns >= ?1 AND time_ns < ?2"
	" AND (?3 IS NULL OR person = ?3) AND (?4 IS NULL OR dataset = ?4)) %s";

/* The SQL is laid out by hand, one clause a line: a formatter would break
 * the strings in the middle of words. */
/* clang-format off */
#define TS(x) "strftime('%Y-%m-%dT%H:%M:%SZ', (" x ") / 1000000000, 'unixepoch')"
#define SUM(x) "coalesce(sum(" x "), 0)"
/* Who: the person or service, else the uid no one was found for. */
#define WHO "coalesce(person, 'uid ' || uid)"
#define AGG \
	SUM("action IN ('open', 'mmap') AND result >= 0") ", " \
	SUM("action = 'read'") ", " \
	SUM("CASE WHEN action = 'read' THEN bytes END") ", " \
	SUM("action IN ('open', 'mmap') AND result < 0") ", " \
	TS("min(time_ns)") ", " TS("max(time_ns)")
#define AGG_HEAD "OPENS", "READS", "BYTES", "FAILED", "FIRST", "LAST"
#define AGG_ALIGN "rrrrll"

enum need { ALWAYS, PERSON, DATASET, HTML };

struct section {
	const char *id;
	enum need need;
	const char *title; /* may hold one %s: the person or dataset */
	const char *about; /* may hold one %s: the working hours */
	const char *sql;
	const char *head[MAX_COLS];
	const char *align;
	bool pairs;	  /* one row, shown as label: value */
	bool capped;	  /* at most --rows rows */
	const char *more; /* where the rest are */
};

/*
 * The sections, in order.  Alerts come right after the summary: what fired
 * in the period, before the lists that explain it.
 */
static const struct section sections[] = {
	{ .id = "summary", .need = ALWAYS, .title = "Summary",
	  .sql = "SELECT count(*),"
		 " " SUM("action = 'open' AND result >= 0") ","
		 " " SUM("action = 'mmap' AND result >= 0") ","
		 " " SUM("action = 'read'") ","
		 " " SUM("CASE WHEN action = 'read' THEN bytes END") ","
		 " " SUM("action IN ('open', 'mmap') AND result < 0") ","
		 " count(DISTINCT person),"
		 " " SUM("attribution = 'unattributed'") ","
		 " " SUM("left = 1") ","
		 " (SELECT count(*) FROM g WHERE kind = 'gap'),"
		 " (SELECT count(*) FROM g WHERE kind = 'loss'),"
		 " (SELECT count(*) FROM al),"
		 " " TS("min(time_ns)") ", " TS("max(time_ns)") " FROM e",
	  .head = { "accesses", "opens", "mmaps", "read sessions", "bytes read",
		    "failed attempts", "people and services", "unattributed accesses",
		    "accesses by leavers", "gaps", "losses", "alerts", "first access",
		    "last access" },
	  .align = "rrrrrrrrrrrrll", .pairs = true },
	{ .id = "alerts", .need = ALWAYS, .title = "Alerts",
	  .about = "Flagged by the alert rules in force, oldest first; CAUSE is the seq of"
		   " the record that made the rule fire.",
	  .sql = "SELECT " TS("time_ns") ", severity, rule, coalesce(person, '-'),"
		 " coalesce(dataset, '-'), count, bytes, cause_seq, coalesce(path, '-')"
		 " FROM al ORDER BY seq",
	  .head = { "TIME", "SEVERITY", "RULE", "WHO", "DATASET", "COUNT", "BYTES", "CAUSE",
		    "PATH" },
	  .align = "lllllrrrl", .capped = true,
	  .more = "custos query --action alert lists them" },
	{ .id = "chart", .need = HTML, .title = "Accesses over time" },
	{ .id = "person-datasets", .need = PERSON, .title = "What %s accessed, by dataset",
	  .sql = "SELECT dataset, " AGG " FROM e GROUP BY dataset ORDER BY dataset",
	  .head = { "DATASET", AGG_HEAD }, .align = "l" AGG_ALIGN },
	{ .id = "person-files", .need = PERSON, .title = "What %s accessed, by file",
	  .about = "Most bytes first; failed attempts count as accesses here.",
	  .sql = "SELECT dataset, " AGG ", path FROM e GROUP BY path, dataset"
		 " ORDER BY 4 DESC, path",
	  .head = { "DATASET", AGG_HEAD, "PATH" }, .align = "l" AGG_ALIGN "l",
	  .capped = true, .more = "custos query --person lists them" },
	{ .id = "dataset-people", .need = DATASET, .title = "Who accessed dataset %s",
	  .about = "Most bytes first, with the programs that made the accesses.",
	  .sql = "SELECT " WHO ", max(team), " AGG ", group_concat(DISTINCT exe) FROM e"
		 " GROUP BY " WHO " ORDER BY 5 DESC, 1",
	  .head = { "WHO", "TEAM", AGG_HEAD, "PROGRAMS" }, .align = "ll" AGG_ALIGN "l",
	  .capped = true, .more = "custos query --path lists them" },
	{ .id = "top-readers", .need = ALWAYS, .title = "Top readers by bytes",
	  .about = "Bytes read, per person (or uid, when no one was found); a read session counts"
		   " once, by its final record or, when it has none, its latest progress report.",
	  .sql = "SELECT " WHO ", max(team), sum(bytes), count(*), count(DISTINCT path),"
		 " group_concat(DISTINCT dataset) FROM e WHERE action = 'read' AND bytes > 0"
		 " GROUP BY " WHO " ORDER BY 3 DESC, 1 LIMIT ?5",
	  .head = { "WHO", "TEAM", "BYTES", "SESSIONS", "FILES", "DATASETS" },
	  .align = "llrrrl" },
	{ .id = "outside-hours", .need = ALWAYS, .title = "Outside working hours",
	  .about = "Accesses outside %s, oldest first.",
	  .sql = "SELECT " TS("time_ns") ", report_local(time_ns), " WHO ", action,"
		 " CASE WHEN result < 0 THEN report_errno(result) ELSE 'ok' END, bytes, path"
		 " FROM e WHERE report_outside(time_ns) ORDER BY time_ns, seq",
	  .head = { "TIME", "LOCAL", "WHO", "ACTION", "RESULT", "BYTES", "PATH" },
	  .align = "llllrrl", .capped = true,
	  .more = "custos query --since/--until lists them" },
	{ .id = "unattributed", .need = ALWAYS, .title = "Unattributed accesses",
	  .about = "No person or service account was found for the login uid or the uid.",
	  .sql = "SELECT uid, CASE loginuid WHEN 4294967295 THEN '-' ELSE loginuid END,"
		 " comm, dataset, " AGG ", path FROM e WHERE attribution = 'unattributed'"
		 " GROUP BY uid, loginuid, comm, dataset, path ORDER BY min(time_ns), path",
	  .head = { "UID", "LOGINUID", "COMM", "DATASET", AGG_HEAD, "PATH" },
	  .align = "rrll" AGG_ALIGN "l", .capped = true,
	  .more = "custos query --unattributed lists them" },
	{ .id = "left", .need = ALWAYS, .title = "Accesses by people who have left",
	  .about = "The staff directory in force at the time of the access gave their status"
		   " as left.",
	  .sql = "SELECT person, max(team), dataset, " AGG ", path FROM e WHERE left = 1"
		 " GROUP BY person, dataset, path ORDER BY min(time_ns), path",
	  .head = { "PERSON", "TEAM", "DATASET", AGG_HEAD, "PATH" },
	  .align = "lll" AGG_ALIGN "l", .capped = true,
	  .more = "custos query --person lists them" },
	{ .id = "failed", .need = ALWAYS, .title = "Failed attempts",
	  .about = "Opens and mmaps the kernel refused.",
	  .sql = "SELECT " WHO ", report_errno(result), dataset, count(*),"
		 " " TS("min(time_ns)") ", " TS("max(time_ns)") ", path FROM e WHERE result < 0"
		 " GROUP BY " WHO ", result, dataset, path ORDER BY min(time_ns), path",
	  .head = { "WHO", "ERROR", "DATASET", "ATTEMPTS", "FIRST", "LAST", "PATH" },
	  .align = "lllrlll", .capped = true,
	  .more = "custos query --action open lists them" },
	{ .id = "gaps-losses", .need = ALWAYS, .title = "Gaps and losses",
	  .about = "Downtime found at a restart (gap) and events the kernel could not hand"
		   " over (loss): accesses in these may be missing.  custos verify checks the"
		   " whole chain.",
	  .sql = "SELECT " TS("time_ns") ", kind, CASE kind"
		 " WHEN 'gap' THEN printf('%s: from %s to %s (%.3f s)', reason,"
		 " " TS("gap_from_ns") ", " TS("gap_to_ns") ", seconds)"
		 " ELSE printf('%s: %d lost on cpu %d (%d so far)', reason, count, cpu, total)"
		 " END FROM g ORDER BY seq",
	  .head = { "TIME", "KIND", "WHAT" }, .align = "lll" },
};
/* clang-format on */

/* "08:00-18:00 mon,tue,wed,thu,fri (UTC)" */
static void hours_text(const struct report_opts *o, char *buf, size_t cap)
{
	size_t n = snprintf(buf, cap, "%02d:%02d-%02d:%02d", o->hours_from / 60, o->hours_from % 60,
			    o->hours_to / 60, o->hours_to % 60);

	for (int i = 1, first = 1; i <= 7 && n < cap; i++) {
		int d = i % 7; /* Monday first */

		if (o->days & (1u << d)) {
			n += snprintf(buf + n, cap - n, "%s%s", first ? " " : ",", day_names[d]);
			first = 0;
		}
	}
	if (n < cap)
		snprintf(buf + n, cap - n, " (%s)", o->tz ? o->tz : "UTC");
}

static int bind_all(sqlite3_stmt *st, const struct report_opts *o)
{
	int n = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;

	if (n >= 1)
		rc = sqlite3_bind_int64(st, 1, o->since_ns);
	if (!rc && n >= 2)
		rc = sqlite3_bind_int64(st, 2, o->until_ns);
	if (!rc && n >= 3 && o->person)
		rc = sqlite3_bind_text(st, 3, o->person, -1, SQLITE_STATIC);
	if (!rc && n >= 4 && o->dataset)
		rc = sqlite3_bind_text(st, 4, o->dataset, -1, SQLITE_STATIC);
	if (!rc && n >= 5)
		rc = sqlite3_bind_int(st, 5, o->top);
	return rc ? -EIO : 0;
}

/* Prepare one section's SELECT over the shared rows; logs why it failed. */
static int prepare(sqlite3 *db, const struct report_opts *o, const char *sql, sqlite3_stmt **st)
{
	char *full = sqlite3_mprintf(rows_sql, views_accesses_sql, views_gaps_losses_sql,
				     views_alerts_sql, sql);
	int err = 0;

	*st = NULL;
	if (!full) {
		log_warnx("failed to build report: out of memory");
		return -ENOMEM;
	}
	if (sqlite3_prepare_v2(db, full, -1, st, NULL) != SQLITE_OK || bind_all(*st, o)) {
		log_warnx("failed to query database %s: %s", o->db, sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_free(full);
	return err;
}

#define CHART_BARS 60
#define CHART_W	   720
#define CHART_H	   160

/*
 * Accesses (counted as in e) per slice of the period, as inline SVG bars:
 * successful ones, with failed attempts stacked on top in another colour.
 */
/* The bars of accesses (ok) and failed attempts (bad) from lo to hi, as SVG. */
static void draw_chart(struct out *out, const int64_t *ok, const int64_t *bad, int64_t max,
		       int64_t lo, int64_t hi)
{
	char from[TIME_STR_LEN], to[TIME_STR_LEN];
	double bw = (double)CHART_W / CHART_BARS;

	util__format_time(lo, from);
	util__format_time(hi, to);
	fprintf(out->f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\"><title>accesses over time</title>\n"
		"<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
		CHART_W, CHART_H + 40, CHART_W, CHART_H + 40, CHART_H, CHART_W, CHART_H);
	for (int b = 0; b < CHART_BARS; b++) {
		double h_ok = (double)ok[b] * CHART_H / (double)max;
		double h_bad = (double)bad[b] * CHART_H / (double)max;
		char t0[TIME_STR_LEN];

		if (!ok[b] && !bad[b])
			continue;
		util__format_time(lo + (int64_t)((double)(hi - lo) * b / CHART_BARS), t0);
		fprintf(out->f,
			"<g><title>from %s: %" PRId64 " accesses, %" PRId64 " failed</title>"
			"<rect class=\"ok\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
			"<rect class=\"bad\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
			"</g>\n",
			t0, ok[b], bad[b], b * bw, CHART_H - h_ok, bw - 1, h_ok, b * bw,
			CHART_H - h_ok - h_bad, bw - 1, h_bad);
	}
	fprintf(out->f,
		"<text x=\"0\" y=\"%d\">%s</text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
		"<text x=\"0\" y=\"12\">max %" PRId64 " per bar</text>\n</svg>\n"
		"<p class=\"legend\"><span class=\"ok\">&#9632;</span> accesses"
		" <span class=\"bad\">&#9632;</span> failed attempts; %d bars over the "
		"period</p>\n",
		CHART_H + 16, from, CHART_W, CHART_H + 32, to, max, CHART_BARS);
}

static int chart(sqlite3 *db, const struct report_opts *o, struct out *out)
{
	int64_t ok[CHART_BARS] = { 0 }, bad[CHART_BARS] = { 0 }, lo = o->since_ns, hi = o->until_ns,
		max = 0;
	sqlite3_stmt *st = NULL;
	int rc, err;

	err = prepare(db, o, "SELECT min(time_ns), max(time_ns) FROM e", &st);
	if (err)
		return err;
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("failed to read database %s: %s", o->db, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -EIO;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_finalize(st);
		fputs("<p class=\"none\">no accesses in the period</p>\n", out->f);
		return 0;
	}
	/* An open end of the period is where the accesses end. */
	if (lo == INT64_MIN)
		lo = sqlite3_column_int64(st, 0);
	if (hi == INT64_MAX)
		hi = sqlite3_column_int64(st, 1) + 1;
	sqlite3_finalize(st);
	err = prepare(db, o, "SELECT time_ns, result < 0 FROM e", &st);
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);
		/* In floating point: (t - lo) * CHART_BARS can overflow int64 over years. */
		int b = (int)((double)(t - lo) / (double)(hi - lo) * CHART_BARS);

		b = b < 0 ? 0 : b >= CHART_BARS ? CHART_BARS - 1 : b;
		if (sqlite3_column_int(st, 1))
			bad[b]++;
		else
			ok[b]++;
		if (ok[b] + bad[b] > max)
			max = ok[b] + bad[b];
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to read database %s: %s", o->db, sqlite3_errmsg(db));
		return -EIO;
	}
	draw_chart(out, ok, bad, max, lo, hi);
	return 0;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
	" style-src 'unsafe-inline'\">\n"
	"<title>custos report</title>\n<style>\n"
	"body{font-family:sans-serif;margin:2em;color:#222}\n"
	"table{border-collapse:collapse;margin:.5em 0}\n"
	"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;"
	"font-family:monospace;white-space:pre}\n"
	"th{background:#eee}td.n{text-align:right}\n"
	"svg .ok,span.ok{fill:#4a7ab5;color:#4a7ab5}svg .bad,span.bad{fill:#c0392b;color:#c0392b}\n"
	"svg .axis{stroke:#888}svg text{font:11px sans-serif;fill:#444}\n"
	"p.none,p.more{color:#666;font-style:italic}\n"
	"</style>\n</head>\n<body>\n";

/* The header lines: the ledger, the period and the filters. */
static int header(sqlite3 *db, const struct report_opts *o, struct out *out)
{
	char since[TIME_STR_LEN] = "the first record", until[TIME_STR_LEN] = "the last record";
	char hours[128], *db_name = util__display((const uint8_t *)o->db, strlen(o->db));
	char *lines[6] = { NULL };
	int n = 5, err = 0;

	(void)db;
	if (o->since_ns != INT64_MIN)
		util__format_time(o->since_ns, since);
	if (o->until_ns != INT64_MAX)
		util__format_time(o->until_ns, until);
	hours_text(o, hours, sizeof(hours));
	lines[0] = db_name ? strf("ledger: %s", db_name) : NULL;
	lines[1] = strf("period: from %s to %s (UTC)", since, until);
	lines[2] = strf("working hours: %s", hours);
	lines[3] = strf("only person: %s", o->person ? o->person : "everyone");
	lines[4] = strf("only dataset: %s", o->dataset ? o->dataset : "every dataset");
	if (o->proven)
		lines[n++] = strf("verified: %s", o->proven);
	if (!lines[0] || !lines[1] || !lines[2] || !lines[3] || !lines[4] ||
	    (o->proven && !lines[5])) {
		log_warnx("failed to build report: out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	if (out->html) {
		fputs(html_head, out->f);
		fputs("<h1>custos access report</h1>\n<ul id=\"scope\">\n", out->f);
	} else {
		fputs("custos access report\n", out->f);
	}
	for (int i = 0; i < n; i++) {
		/* The person and dataset are the auditor's own arguments: escaped too. */
		char *s = util__display((const uint8_t *)lines[i], strlen(lines[i]));

		if (!s) {
			log_warnx("failed to build report: out of memory");
			err = -ENOMEM;
			goto cleanup;
		}
		if (out->html) {
			fputs("<li>", out->f);
			html_put(out->f, s);
			fputs("</li>\n", out->f);
		} else {
			fprintf(out->f, "%s\n", s);
		}
		free(s);
	}
	if (out->html)
		fputs("</ul>\n", out->f);
cleanup:
	for (int i = 0; i < 6; i++)
		free(lines[i]);
	free(db_name);
	return err;
}

static int run_section(sqlite3 *db, const struct report_opts *o, const struct section *s,
		       struct out *out)
{
	struct table t = { .head = s->head, .align = s->align };
	const char *subject = s->need == PERSON ? o->person : s->need == DATASET ? o->dataset : "";
	char *title = NULL, *about = NULL, *safe = NULL, hours[128];
	sqlite3_stmt *st = NULL;
	int err = 0;

	while (t.ncols < MAX_COLS && s->head[t.ncols])
		t.ncols++;
	/* The subject is text the auditor typed; it is escaped like any other. */
	subject = subject ? subject : "";
	safe = util__display((const uint8_t *)subject, strlen(subject));
	hours_text(o, hours, sizeof(hours));
	title = safe ? strf(s->title, safe) : NULL;
	about = s->about ? strf(s->about, hours) : NULL;
	if (!title || (s->about && !about)) {
		log_warnx("failed to build report: out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	out_section(out, s->id, title, about);
	if (s->need == HTML) {
		err = chart(db, o, out);
		goto end;
	}
	err = prepare(db, o, s->sql, &st);
	if (err)
		goto cleanup;
	err = table_fill(db, st, &t, s->capped ? out->cap : SIZE_MAX);
	if (err)
		goto cleanup;
	if (s->pairs)
		out_pairs(out, &t);
	else
		out_table(out, &t, s->more ? s->more : "");
end:
	out_end(out);
cleanup:
	sqlite3_finalize(st);
	table_free(&t);
	free(safe);
	free(title);
	free(about);
	return err;
}

int report__run(struct store_reader *r, const struct report_opts *o, FILE *out_file)
{
	/* The report is SQL over the views: SQLite's own. */
	sqlite3 *db = store__sqlite(r);
	struct out out = { .f = out_file, .html = o->html != NULL, .cap = (size_t)o->rows };
	bool created = false;
	int err;

	if (o->tz) {
		/* The zone of every local time below; custos is single-threaded. */
		if (setenv("TZ", o->tz, 1)) {
			log_warn("failed to set the time zone %s", o->tz);
			return -errno;
		}
		tzset();
	}
	err = register_functions(db, o);
	if (err)
		goto cleanup;
	if (o->html) {
		out.f = fopen(o->html, "w");
		if (!out.f) {
			err = -errno;
			log_warn("failed to create %s", o->html);
			goto cleanup;
		}
		created = true;
	}
	/* One read transaction: every section sees the same records (the
	 * caller's, the one verify proved, when it holds one already). */
	if (sqlite3_get_autocommit(db) &&
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("failed to read database %s: %s", o->db, sqlite3_errmsg(db));
		err = -EIO;
		goto cleanup;
	}
	err = header(db, o, &out);
	for (size_t i = 0; !err && i < sizeof(sections) / sizeof(sections[0]); i++) {
		const struct section *s = &sections[i];

		if ((s->need == PERSON && !o->person) || (s->need == DATASET && !o->dataset) ||
		    (s->need == HTML && !out.html))
			continue;
		err = run_section(db, o, s, &out);
	}
	if (err)
		goto cleanup;
	if (out.html)
		fputs("</body>\n</html>\n", out.f);
	if (fflush(out.f) || ferror(out.f)) {
		log_warn("failed to write %s", o->html ? o->html : "the report");
		err = -EIO;
	}
cleanup:
	if (created) {
		if (fclose(out.f) && !err) {
			log_warn("failed to write %s", o->html);
			err = -EIO;
		}
		if (err)
			unlink(o->html);
	}
	return err;
}
