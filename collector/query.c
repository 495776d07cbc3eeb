// SPDX-License-Identifier: BSD-2-Clause
/*
 * custos query: one fixed, parameterised SELECT over the store's flat rows, printed
 * as an aligned table, JSON Lines or CSV.
 *
 * The database may come from a host under investigation, so it is opened
 * read-only with SQLite's defensive settings (docs/reliability.md) and every
 * filter value reaches SQL only as a bound parameter.  Paths are raw bytes
 * chosen by whoever named the file: JSON keeps them exactly (path_b64 when
 * they are not UTF-8) and the table escapes them so that a crafted name cannot
 * forge a row or drive the terminal.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "custos/abi.h"
#include "jsonrec.h"
#include "log.h"
#include "query.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The CSV's columns, a choice of the custos form's fields (jsonrec.h). */
static const enum jsonrec_field csv_fields[] = {
	JF_SEQ,	    JF_TIME,   JF_ACTION, JF_RESULT,	  JF_PATH,	 JF_DATASET,
	JF_BYTES,   JF_READS,  JF_PID,	  JF_TID,	  JF_PPID,	 JF_COMM,
	JF_UID,	    JF_EUID,   JF_GID,	  JF_LOGINUID,	  JF_SESSIONID,	 JF_DEV,
	JF_INO,	    JF_DETAIL, JF_PERSON, JF_ATTRIBUTION, JF_TEAM,	 JF_ROLE,
	JF_LINEAGE, JF_EXE,    JF_ABI,	  JF_SESSION,	  JF_DISCOVERED, JF_TARGET,
};

/* Where the rows go, and in what form. */
struct printer {
	enum query_format fmt;
	struct bytes host;
	FILE *out;
};

static int print_json(const struct jsonrec_view *v, FILE *out)
{
	json_t *obj = jsonrec__object(v);

	if (!obj)
		return -ENOMEM;
	/* A failed write shows up in ferror(out), which the caller checks after each row. */
	if (!json_dumpf(obj, out, JSON_COMPACT))
		fputc('\n', out);
	json_decref(obj);
	return 0;
}

/* One CSV field, quoted (RFC 4180 §2.6-7) only when it holds a comma, quote, CR or LF. */
static void csv_bytes(FILE *out, const uint8_t *p, size_t n)
{
	if (!memchr(p, ',', n) && !memchr(p, '"', n) && !memchr(p, '\r', n) &&
	    !memchr(p, '\n', n)) {
		fwrite(p, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			fputc('"', out);
		fputc(p[i], out);
	}
	fputc('"', out);
}

static void print_csv_header(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(csv_fields); i++)
		fprintf(out, "%s%s", i ? "," : "", jsonrec__key(csv_fields[i]));
	fputc('\n', out);
}

/* Null is an empty field, a boolean 0 or 1; lines end in LF, as other Unix tools' CSV does. */
static void print_csv(const struct jsonrec_view *v, FILE *out)
{
	char tbuf[TIME_STR_LEN], abi[RECORD_ABI_NAMES_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(csv_fields); i++) {
		struct jsonrec_value x = jsonrec__value(v, csv_fields[i]);

		if (i)
			fputc(',', out);
		switch (x.kind) {
		case JV_NULL:
			break;
		case JV_TIME:
			util__format_time(x.i, tbuf);
			fputs(tbuf, out);
			break;
		case JV_TEXT:
			csv_bytes(out, x.b.p, x.b.len);
			break;
		case JV_ABI:
			/* "x86_64,i386" is quoted; 0 (none known) is empty, as in JSON. */
			record__abi_names((uint32_t)x.i, abi);
			csv_bytes(out, (const uint8_t *)abi, strlen(abi));
			break;
		default:
			fprintf(out, "%" PRId64, x.i);
			break;
		}
	}
	fputc('\n', out);
}

#define TABLE_FMT "%-20s %-6s %6s %7s %10s %-16s %-16s %12s %s%s%s%s%s%s%s%s\n"

static void print_table_header(FILE *out)
{
	fprintf(out, TABLE_FMT, "TIME", "ACTION", "RESULT", "PID", "UID", "PERSON", "COMM", "BYTES",
		"PATH", "", "", "", "", "", "", "");
}

/* " [i386]": the ABI of an access, when it is not only the native one (an
 * i386 or x32 call is worth a look; x86_64 on every line is noise). */
static void table_abi(struct jsonrec_value x, char *buf, size_t cap)
{
	char names[RECORD_ABI_NAMES_MAX];

	buf[0] = '\0';
	if (x.kind == JV_NULL || !((uint32_t)x.i & ~(uint32_t)CUSTOS_ABI_X86_64))
		return;
	record__abi_names((uint32_t)x.i, names);
	snprintf(buf, cap, " [%s]", names);
}

/* An integer for the table; "-" for null, and for an id's unset (u32)-1 when id. */
static const char *table_int(struct jsonrec_value x, bool id, char *buf, size_t len)
{
	if (x.kind == JV_NULL || (id && x.i == UINT32_MAX))
		return "-";
	snprintf(buf, len, "%" PRId64, x.i);
	return buf;
}

/* A text field for a terminal (util__display), "" for null: a new string the caller frees. */
static char *table_text(const struct jsonrec_view *v, enum jsonrec_field f)
{
	struct jsonrec_value x = jsonrec__value(v, f);

	return util__display(x.b.p, x.kind == JV_NULL ? 0 : x.b.len);
}

/* What the table says after a path about its name. */
static const char *path_note(const struct jsonrec_view *v)
{
	if (jsonrec__value(v, JF_TRUNCATED).i)
		return jsonrec__value(v, JF_DELETED).i ? " (truncated, deleted)" : " (truncated)";
	if (jsonrec__value(v, JF_DELETED).i)
		return " (deleted)";
	if (jsonrec__value(v, JF_FS_RELATIVE).i)
		return " (on its file system; no host mount shows it)";
	return "";
}

static int print_table(const struct jsonrec_view *v, FILE *out)
{
	char tbuf[TIME_STR_LEN], res[24], pid[24], uid[24], bytes[24],
		abi[RECORD_ABI_NAMES_MAX + 3];
	bool has_path = jsonrec__value(v, JF_PATH).kind != JV_NULL;
	bool has_target = jsonrec__value(v, JF_TARGET).kind != JV_NULL;
	char *action = NULL, *comm = NULL, *last = NULL, *person = NULL, *lineage = NULL;
	char *new_name = NULL;
	int err = 0;

	util__format_time(jsonrec__value(v, JF_TIME).i, tbuf);
	/* "YYYY-MM-DDTHH:MM:SS" is always 19 bytes for the years an int64 of ns can hold. */
	memcpy(tbuf + 19, "Z", 2);

	action = table_text(v, JF_ACTION);
	comm = table_text(v, JF_COMM);
	/* Lifecycle rows have no path; their detail says what happened instead. */
	last = table_text(v, has_path ? JF_PATH : JF_DETAIL);
	person = table_text(v, JF_PERSON);
	lineage = table_text(v, JF_LINEAGE);
	new_name = table_text(v, JF_TARGET);
	if (!action || !comm || !last || !person || !lineage || !new_name) {
		err = -ENOMEM;
		goto cleanup;
	}
	table_abi(jsonrec__value(v, JF_ABI), abi, sizeof(abi));

	/* The person, then (after the path, as it can be long) how the process got there.
	 * A link or rename shows the protected name, then the new one. */
	fprintf(out, TABLE_FMT, tbuf, action,
		table_int(jsonrec__value(v, JF_RESULT), false, res, sizeof(res)),
		table_int(jsonrec__value(v, JF_PID), false, pid, sizeof(pid)),
		table_int(jsonrec__value(v, JF_UID), true, uid, sizeof(uid)),
		*person ? person : "-", *comm ? comm : "-",
		table_int(jsonrec__value(v, JF_BYTES), false, bytes, sizeof(bytes)), last,
		has_path ? path_note(v) : "", has_target ? " -> " : "", new_name,
		jsonrec__value(v, JF_DISCOVERED).i ? " (discovered)" : "", abi,
		*lineage ? "  via " : "", lineage);
cleanup:
	free(new_name);
	free(action);
	free(comm);
	free(last);
	free(person);
	free(lineage);
	return err;
}

/* store_select_fn: one row in the printer's format. */
static int print_record(void *ctx, const struct record *r)
{
	struct printer *p = ctx;
	struct jsonrec_view v;
	int err = jsonrec__view(&v, r, p->host);

	if (!err && p->fmt == QUERY_JSON)
		err = print_json(&v, p->out);
	else if (!err && p->fmt == QUERY_CSV)
		print_csv(&v, p->out);
	else if (!err)
		err = print_table(&v, p->out);
	jsonrec__view_free(&v);
	if (err) {
		log_warnx("failed to format record %" PRIu64 ": out of memory", r->seq);
		return err;
	}
	/* Stop at the first failed write rather than query on into a closed pipe. */
	if (ferror(p->out)) {
		log_warn("failed to write output");
		return -EIO;
	}
	return 0;
}

/* Every record, in seq order, unlimited: the filter custos starts from before its options. */
void query__filter_init(struct query_filter *f)
{
	*f = (struct query_filter){
		.uid = -1,
		.loginuid = -1,
		.since_ns = INT64_MIN,
		.until_ns = INT64_MAX,
		.result = QUERY_RESULT_ANY,
		.sort = QUERY_SORT_TIME,
	};
}

/* Whether s is a comma-separated list of actions, none of them empty.  An
 * anchor is not one: nothing writes it, and the help does not offer it. */
static bool valid_actions(const char *s)
{
	const char *end;
	int id;

	for (;;) {
		end = strchrnul(s, ',');
		id = record__action_find(s, end - s);
		if (id < 0 || id == RECORD_ACTION_OF_TYPE(REC_ANCHOR))
			return false;
		if (!*end)
			return true;
		s = end + 1;
	}
}

static int parse_result(const char *s, struct query_filter *f)
{
	if (!strcmp(s, "ok"))
		f->result = QUERY_RESULT_OK;
	else if (!strcmp(s, "failed"))
		f->result = QUERY_RESULT_FAILED;
	else if (!strcmp(s, "denied"))
		f->result = QUERY_RESULT_DENIED;
	else if (!util__parse_int(s, INT32_MIN, INT32_MAX, &f->result_value))
		f->result = QUERY_RESULT_EQ;
	else
		return -EINVAL;
	return 0;
}

static int parse_sort(const char *s, struct query_filter *f)
{
	static const char *const keys[] = {
		[QUERY_SORT_TIME] = "time", [QUERY_SORT_BYTES] = "bytes",
		[QUERY_SORT_PATH] = "path", [QUERY_SORT_PERSON] = "person",
		[QUERY_SORT_PID] = "pid",
	};
	int desc = *s == '-';

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!strcmp(s + desc, keys[i])) {
			f->sort = (enum query_sort)i;
			f->sort_desc = desc;
			return 0;
		}
	}
	return -EINVAL;
}

/* Set a filter option whose value is a name, kept as given: 0, -EINVAL
 * with *why, -ENOENT when opt is not one of them. */
static int set_name(struct query_filter *f, const char *opt, const char *arg, const char **why)
{
	/* An empty name is almost always an unset shell variable, not "everything". */
	static const struct {
		const char *opt;
		size_t off;
		const char *empty;
	} names[] = {
		{ "path", offsetof(struct query_filter, path_prefix), "--path must not be empty" },
		{ "glob", offsetof(struct query_filter, glob), "--glob must not be empty" },
		{ "dataset", offsetof(struct query_filter, dataset),
		  "--dataset must not be empty" },
		{ "exe", offsetof(struct query_filter, exe), "--exe must not be empty" },
		{ "comm", offsetof(struct query_filter, comm), "--comm must not be empty" },
		{ "host", offsetof(struct query_filter, host), "--host must not be empty" },
		{ "person", offsetof(struct query_filter, person), "--person must not be empty" },
		{ "team", offsetof(struct query_filter, team), "--team must not be empty" },
		{ "role", offsetof(struct query_filter, role), "--role must not be empty" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(opt, names[i].opt))
			continue;
		if (!*arg)
			*why = names[i].empty;
		else if (!strcmp(opt, "glob") && !store__glob_valid(arg))
			*why = "invalid --glob, a [ has no closing ]";
		/* The ledger has only absolute programs; "bin/" would quietly match none. */
		else if (!strcmp(opt, "exe") && *arg != '/')
			*why = "invalid --exe, want an absolute path, or a directory ending in /";
		else if (!strcmp(opt, "comm") && strlen(arg) >= CUSTOS_COMM_LEN)
			*why = "invalid --comm, the kernel keeps at most 15 bytes of a name";
		else
			*why = NULL;
		if (*why)
			return -EINVAL;
		*(const char **)((char *)f + names[i].off) = arg;
		return 0;
	}
	return -ENOENT;
}

/*
 * Set the filter option opt from arg; see query.h.  The messages name the
 * option as the command line spells it, as custos prints them as they are.
 */
int query__set(struct query_filter *f, const char *opt, const char *arg, int64_t now_ns,
	       const char **why)
{
	int err = set_name(f, opt, arg, why);

	if (err != -ENOENT)
		return err;
	if (!strcmp(opt, "uid") || !strcmp(opt, "loginuid")) {
		if (!util__parse_int(arg, 0, UINT32_MAX, *opt == 'u' ? &f->uid : &f->loginuid))
			return 0;
		*why = *opt == 'u' ? "invalid --uid, want a number"
				   : "invalid --loginuid, want a number";
	} else if (!strcmp(opt, "action")) {
		if (valid_actions(arg)) {
			f->action = arg;
			return 0;
		}
		*why = "invalid --action, want one or more actions, such as open or open,read";
	} else if (!strcmp(opt, "result")) {
		if (!parse_result(arg, f))
			return 0;
		*why = "invalid --result, want ok, failed, denied or a number such as -13";
	} else if (!strcmp(opt, "since") || !strcmp(opt, "until")) {
		if (!util__parse_time(arg, now_ns, *opt == 's' ? &f->since_ns : &f->until_ns))
			return 0;
		*why = *opt == 's' ? "invalid --since time" : "invalid --until time";
	} else if (!strcmp(opt, "abi")) {
		uint32_t bit = record__abi_bit(arg);

		if (bit) {
			f->abi = bit;
			return 0;
		}
		*why = "invalid --abi, want x86_64, i386 or x32";
	} else if (!strcmp(opt, "session")) {
		uint64_t id;

		/* Ids are u64: the whole range, as a person copies one from a record. */
		if (util__parse_decimal(arg, strlen(arg), &id) && id) {
			f->session = id;
			return 0;
		}
		*why = "invalid --session, want a session id, 1 or more";
	} else if (!strcmp(opt, "sort")) {
		if (!parse_sort(arg, f))
			return 0;
		*why = "invalid --sort, want time, bytes, path, person or pid, or -KEY for "
		       "descending";
	} else if (!strcmp(opt, "limit")) {
		if (!util__parse_int(arg, 1, INT64_MAX, &f->limit))
			return 0;
		*why = "invalid --limit, want a number of rows, 1 or more";
	} else {
		return -ENOENT;
	}
	return -EINVAL;
}

int query__run(struct store_reader *db, const char *db_path, const struct query_filter *f,
	       enum query_format fmt, bool header, FILE *out)
{
	struct printer p = { .fmt = fmt, .out = out };
	uint8_t *host_copy = NULL;
	int err;

	err = store__host(db, &p.host, &host_copy);
	if (err)
		goto cleanup;
	if (header && fmt == QUERY_TABLE)
		print_table_header(out);
	else if (header && fmt == QUERY_CSV)
		print_csv_header(out);
	err = store__select(db, f, print_record, &p);
	if (err)
		goto cleanup;
	if (fflush(out) || ferror(out)) {
		log_warn("failed to write output");
		err = -EIO;
	}
cleanup:
	free(host_copy);
	return err;
}
