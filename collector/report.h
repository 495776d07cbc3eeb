/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custos report: the questions auditors ask of a period, each answered in a
 * section (who read what, outside working hours, unattributed, by people who
 * have left, failed attempts, top readers, gaps and losses), as terminal
 * tables or as one self-contained HTML page with a chart.
 */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

#include <stdint.h>
#include <stdio.h>

/* Bits of report_opts.days, as struct tm's tm_wday: Sunday is bit 0. */
#define REPORT_MON_FRI 0x3eu

struct report_opts {
	const char *db;
	int64_t since_ns;    /* INT64_MIN: from the first record; inclusive */
	int64_t until_ns;    /* INT64_MAX: to the last; exclusive */
	const char *person;  /* NULL: everyone; else only this staff id or service:NAME */
	const char *dataset; /* NULL: every dataset; else only this label */
	int hours_from;	     /* working hours, minutes after midnight: [from, to), */
	int hours_to;	     /* across midnight when from > to */
	unsigned days;	     /* working days, REPORT_MON_FRI by default */
	const char *tz;	     /* NULL: UTC; else a zone name report__check_tz accepted */
	int top;	     /* rows of the top readers */
	int rows;	     /* rows of every other list; the rest are counted */
	const char *html;    /* NULL: tables to out; else the HTML page to write there */
	const char *proven;  /* NULL, or what custos verify proved of the ledger, for the header */
};

/* "08:00-18:00" into minutes after midnight (24:00 ends a day).  0 or -EINVAL. */
int report__parse_hours(const char *s, int *from, int *to);

/* "mon-fri", "sat,sun", "mon-wed,fri" (a range may wrap: "fri-mon") into a
 * mask of REPORT_* days.  0 or -EINVAL. */
int report__parse_days(const char *s, unsigned *mask);

/* Whether tz names a zone of the system's database ("UTC", "Europe/Paris"):
 * 0 or -EINVAL.  A name glibc does not know would silently mean UTC. */
int report__check_tz(const char *tz);

/*
 * Write the report of db (a reader of store__open_reader, or the
 * connection custos verify proved: see verify_opts.keep; o->db is its name):
 * tables to out, or the HTML page to the file o->html (out is then unused;
 * the file is removed again when the report fails).  Returns 0, or -errno
 * after logging the reason once (-EIO: the database could not be read, or
 * the output written).
 */
struct store_reader;
int report__run(struct store_reader *r, const struct report_opts *o, FILE *out);

/* The options of a report nobody narrowed: all time, working hours 08:00 to
 * 18:00 Monday to Friday, the top 10, at most 50 rows a table. */
struct report_opts report__defaults(void);

#endif /* CUSTOS_REPORT_H */
