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
#include <sqlite3.h>
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

/* Columns of the SELECT, in its order; the list is built from col_name. */
enum col {
	COL_SEQ,
	COL_T_NS,
	COL_ACTION,
	COL_RESULT,
	COL_FLAGS,
	COL_PATH,
	COL_PATH_FLAGS,
	COL_DEV,
	COL_INO,
	COL_MNT_ID,
	COL_DATASET,
	COL_BYTES,
	COL_READS,
	COL_FIRST_NS,
	COL_LAST_NS,
	COL_PID,
	COL_TID,
	COL_PPID,
	COL_COMM,
	COL_EXE,
	COL_UID,
	COL_EUID,
	COL_FSUID,
	COL_GID,
	COL_EGID,
	COL_LOGINUID,
	COL_SESSIONID,
	COL_CPU,
	COL_BPF_SEQ,
	COL_DETAIL,
	COL_PERSON,
	COL_ATTRIBUTION,
	COL_TEAM,
	COL_ROLE,
	COL_LEFT,
	COL_DIRECTORY,
	COL_LINEAGE,
	COL_ARGS,
	COL_SID,
	COL_TTY,
	COL_CONTAINER,
	COL_CGROUP,
	COL_READ_PATHS,
	COL_PARTIAL,
	COL_MIN_OFFSET,
	COL_MAX_OFFSET,
	COL_RULE,
	COL_SEVERITY,
	COL_CAUSE,
	COL_ABI,
	COL_DISCOVERED,
	COL_SESSION,
	COL_TARGET,
	COL_MAX,
};

static const char *const col_name[COL_MAX] = {
	[COL_SEQ] = "seq",
	[COL_T_NS] = "t_ns",
	[COL_ACTION] = "action",
	[COL_RESULT] = "result",
	[COL_FLAGS] = "flags",
	[COL_PATH] = "path",
	[COL_PATH_FLAGS] = "path_flags",
	[COL_DEV] = "dev",
	[COL_INO] = "ino",
	[COL_MNT_ID] = "mnt_id",
	[COL_DATASET] = "dataset",
	[COL_BYTES] = "bytes",
	[COL_READS] = "reads",
	[COL_FIRST_NS] = "first_ns",
	[COL_LAST_NS] = "last_ns",
	[COL_PID] = "pid",
	[COL_TID] = "tid",
	[COL_PPID] = "ppid",
	[COL_COMM] = "comm",
	[COL_EXE] = "exe",
	[COL_UID] = "uid",
	[COL_EUID] = "euid",
	[COL_FSUID] = "fsuid",
	[COL_GID] = "gid",
	[COL_EGID] = "egid",
	[COL_LOGINUID] = "loginuid",
	[COL_SESSIONID] = "sessionid",
	[COL_CPU] = "cpu",
	[COL_BPF_SEQ] = "bpf_seq",
	[COL_DETAIL] = "detail",
	[COL_PERSON] = "person",
	[COL_ATTRIBUTION] = "attribution",
	[COL_TEAM] = "team",
	[COL_ROLE] = "role",
	[COL_LEFT] = "left_staff",
	[COL_DIRECTORY] = "directory",
	[COL_LINEAGE] = "lineage",
	[COL_ARGS] = "args",
	[COL_SID] = "sid",
	[COL_TTY] = "tty",
	[COL_CONTAINER] = "container",
	[COL_CGROUP] = "cgroup_id",
	[COL_READ_PATHS] = "read_paths",
	[COL_PARTIAL] = "partial",
	[COL_MIN_OFFSET] = "min_offset",
	[COL_MAX_OFFSET] = "max_offset",
	[COL_RULE] = "rule",
	[COL_SEVERITY] = "severity",
	[COL_CAUSE] = "cause_seq",
	[COL_ABI] = "abi",
	[COL_DISCOVERED] = "discovered",
	[COL_SESSION] = "session",
	[COL_TARGET] = "target",
};

/* Bound parameters of the WHERE clause, numbered as ?N in where_sql. */
enum param {
	P_PREFIX = 1, /* the prefix without trailing '/': matches the path itself */
	P_LO,	      /* prefix + "/": first path below it */
	P_HI,	      /* prefix + "0" ('/' + 1): first path past the subtree */
	P_UID,
	P_ACTION, /* "a,b,c": the list, matched whole between its commas */
	P_SINCE,
	P_UNTIL,
	P_PERSON,
	P_TEAM,
	P_ROLE,
	P_UNATTRIBUTED,
	P_GLOB,
	P_DATASET,
	P_LOGINUID,
	P_RESULT,  /* enum query_result, when not ANY */
	P_RESULT1, /* the values QUERY_RESULT_DENIED and _EQ take */
	P_RESULT2,
	P_EXE,	  /* an exact program */
	P_EXE_LO, /* a directory of programs, as P_LO and P_HI */
	P_EXE_HI,
	P_COMM,
	P_HOST,	       /* the host asked for */
	P_LEDGER_HOST, /* the ledger's host (K_HOST); NULL when it names none */
	P_ABI,	       /* an enum custos_abi bit */
	P_SESSION,     /* a session id, as its int64 bit pattern */
	P_LIMIT,       /* -1: no limit */
};
_Static_assert(P_LIMIT == 26, "where_sql numbers its parameters as enum param does");

/*
 * Paths are compared as blobs (memcmp order), so the subtree of P is exactly
 * [P "/", P "0"): a range an index on path can serve, and one that keeps
 * "/a/bc" out of "/a/b".  GLOB never matches a blob, so the path is cast to
 * text; a NUL byte would end that text early and let "/a" match "/a\0b",
 * so such a path (no kernel makes one) never matches a pattern.
 */
static const char where_sql[] =
	" FROM (%s) WHERE"
	" (?1 IS NULL OR path = ?1 OR (path >= ?2 AND path < ?3))"
	" AND (?4 IS NULL OR uid = ?4 OR euid = ?4)"
	" AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || action || ',') > 0)"
	" AND (?6 IS NULL OR t_ns >= ?6)"
	" AND (?7 IS NULL OR t_ns < ?7)"
	" AND (?8 IS NULL OR person = ?8)"
	" AND (?9 IS NULL OR team = ?9)"
	" AND (?10 IS NULL OR role = ?10)"
	" AND (?11 IS NULL OR attribution = CAST('unattributed' AS BLOB))"
	" AND (?12 IS NULL OR (CAST(path AS TEXT) GLOB ?12 AND instr(path, x'00') = 0))"
	" AND (?13 IS NULL OR dataset = ?13)"
	" AND (?14 IS NULL OR loginuid = ?14)"
	" AND (?15 IS NULL OR CASE ?15 WHEN 1 THEN result >= 0 WHEN 2 THEN result < 0"
	" ELSE result IN (?16, ?17) END)"
	" AND (?18 IS NULL OR exe = ?18)"
	" AND (?19 IS NULL OR (exe >= ?19 AND exe < ?20))"
	" AND (?21 IS NULL OR comm = ?21)"
	" AND (?22 IS NULL OR ?22 = ?23)"
	" AND (?24 IS NULL OR (abi & ?24) != 0)"
	" AND (?25 IS NULL OR session = ?25)"
	" ORDER BY %s LIMIT ?26";

/*
 * ORDER BY for each enum query_sort, ascending then descending.  Rows
 * without the key (a start has no bytes) come last either way.
 */
static const char *const order_sql[][2] = {
	[QUERY_SORT_TIME] = { "seq", "seq DESC" },
	[QUERY_SORT_BYTES] = { "bytes NULLS LAST, seq", "bytes DESC NULLS LAST, seq" },
	[QUERY_SORT_PATH] = { "path NULLS LAST, seq", "path DESC NULLS LAST, seq" },
	[QUERY_SORT_PERSON] = { "person NULLS LAST, seq", "person DESC NULLS LAST, seq" },
	[QUERY_SORT_PID] = { "pid NULLS LAST, seq", "pid DESC NULLS LAST, seq" },
};

/* How one output field is made from the row. */
enum kind {
	K_INT,	     /* integer column, or null */
	K_TIME,	     /* ns column as RFC 3339, or null */
	K_TEXT,	     /* bytes column: JSON lossy UTF-8, CSV raw bytes */
	K_B64,	     /* bytes column in base64 when K_TEXT could not keep them exactly */
	K_TRUNCATED, /* the CUSTOS_PATH_* bits of path_flags, each as a boolean */
	K_DELETED,
	K_UNRESOLVED,
	K_FSREL,
	K_HOST,	      /* the host name from the state table */
	K_NULL,	      /* not known yet */
	K_BOOL,	      /* integer column as a boolean */
	K_ARGS,	      /* NUL-separated arguments as an array of strings */
	K_HEX,	      /* bytes column in lowercase hex */
	K_READ_PATHS, /* enum custos_read_path bits as an array of syscall names */
	K_ABI,	      /* enum custos_abi bits as names joined with ",", or null for 0 */
};

static const unsigned int path_flag[] = {
	[K_TRUNCATED] = CUSTOS_PATH_TRUNCATED,
	[K_DELETED] = CUSTOS_PATH_DELETED,
	[K_UNRESOLVED] = CUSTOS_PATH_UNRESOLVED,
	[K_FSREL] = CUSTOS_PATH_FSREL,
};

struct field {
	const char *name;
	enum col col;
	enum kind kind;
};

static const struct field json_fields[] = {
	{ "seq", COL_SEQ, K_INT },
	{ "time", COL_T_NS, K_TIME },
	{ "host", COL_SEQ, K_HOST },
	{ "action", COL_ACTION, K_TEXT },
	{ "result", COL_RESULT, K_INT },
	{ "flags", COL_FLAGS, K_INT },
	{ "path", COL_PATH, K_TEXT },
	{ "path_b64", COL_PATH, K_B64 },
	{ "target", COL_TARGET, K_TEXT },
	{ "target_b64", COL_TARGET, K_B64 },
	{ "truncated", COL_PATH_FLAGS, K_TRUNCATED },
	{ "deleted", COL_PATH_FLAGS, K_DELETED },
	{ "unresolved", COL_PATH_FLAGS, K_UNRESOLVED },
	{ "fs_relative", COL_PATH_FLAGS, K_FSREL },
	{ "dev", COL_DEV, K_INT },
	{ "ino", COL_INO, K_INT },
	{ "mnt_id", COL_MNT_ID, K_INT },
	{ "dataset", COL_DATASET, K_TEXT },
	{ "bytes", COL_BYTES, K_INT },
	{ "reads", COL_READS, K_INT },
	{ "first_time", COL_FIRST_NS, K_TIME },
	{ "last_time", COL_LAST_NS, K_TIME },
	{ "pid", COL_PID, K_INT },
	{ "tid", COL_TID, K_INT },
	{ "ppid", COL_PPID, K_INT },
	{ "comm", COL_COMM, K_TEXT },
	{ "exe", COL_EXE, K_TEXT },
	{ "uid", COL_UID, K_INT },
	{ "euid", COL_EUID, K_INT },
	{ "fsuid", COL_FSUID, K_INT },
	{ "gid", COL_GID, K_INT },
	{ "egid", COL_EGID, K_INT },
	{ "loginuid", COL_LOGINUID, K_INT },
	{ "sessionid", COL_SESSIONID, K_INT },
	{ "cpu", COL_CPU, K_INT },
	{ "bpf_seq", COL_BPF_SEQ, K_INT },
	{ "detail", COL_DETAIL, K_TEXT },
	{ "person", COL_PERSON, K_TEXT },
	{ "attribution", COL_ATTRIBUTION, K_TEXT },
	{ "team", COL_TEAM, K_TEXT },
	{ "role", COL_ROLE, K_TEXT },
	{ "left", COL_LEFT, K_BOOL },
	{ "directory", COL_DIRECTORY, K_HEX },
	{ "lineage", COL_LINEAGE, K_TEXT },
	{ "args", COL_ARGS, K_ARGS },
	{ "sid", COL_SID, K_INT },
	{ "tty", COL_TTY, K_INT },
	{ "container", COL_CONTAINER, K_TEXT },
	{ "cgroup_id", COL_CGROUP, K_INT },
	{ "read_paths", COL_READ_PATHS, K_READ_PATHS },
	{ "partial", COL_PARTIAL, K_BOOL },
	{ "min_offset", COL_MIN_OFFSET, K_INT },
	{ "max_offset", COL_MAX_OFFSET, K_INT },
	{ "abi", COL_ABI, K_ABI },
	{ "session", COL_SESSION, K_INT },
	{ "discovered", COL_DISCOVERED, K_BOOL },
	{ "rule", COL_RULE, K_TEXT },
	{ "severity", COL_SEVERITY, K_TEXT },
	{ "cause_seq", COL_CAUSE, K_INT },
};

static const struct field csv_fields[] = {
	{ "seq", COL_SEQ, K_INT },
	{ "time", COL_T_NS, K_TIME },
	{ "action", COL_ACTION, K_TEXT },
	{ "result", COL_RESULT, K_INT },
	{ "path", COL_PATH, K_TEXT },
	{ "dataset", COL_DATASET, K_TEXT },
	{ "bytes", COL_BYTES, K_INT },
	{ "reads", COL_READS, K_INT },
	{ "pid", COL_PID, K_INT },
	{ "tid", COL_TID, K_INT },
	{ "ppid", COL_PPID, K_INT },
	{ "comm", COL_COMM, K_TEXT },
	{ "uid", COL_UID, K_INT },
	{ "euid", COL_EUID, K_INT },
	{ "gid", COL_GID, K_INT },
	{ "loginuid", COL_LOGINUID, K_INT },
	{ "sessionid", COL_SESSIONID, K_INT },
	{ "dev", COL_DEV, K_INT },
	{ "ino", COL_INO, K_INT },
	{ "detail", COL_DETAIL, K_TEXT },
	{ "person", COL_PERSON, K_TEXT },
	{ "attribution", COL_ATTRIBUTION, K_TEXT },
	{ "team", COL_TEAM, K_TEXT },
	{ "role", COL_ROLE, K_TEXT },
	{ "lineage", COL_LINEAGE, K_TEXT },
	{ "exe", COL_EXE, K_TEXT },
	{ "abi", COL_ABI, K_ABI },
	{ "session", COL_SESSION, K_INT },
	{ "discovered", COL_DISCOVERED, K_BOOL },
	{ "target", COL_TARGET, K_TEXT },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes of a column or of the host; p is never NULL unless null is set. */
struct span {
	const uint8_t *p;
	size_t n;
	bool null;
};

static struct span col_bytes(sqlite3_stmt *st, enum col c)
{
	struct span s = { NULL, 0, true };

	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		return s;
	/* blob first, then bytes: the documented order.  A TEXT value comes back as its bytes. */
	s.p = sqlite3_column_blob(st, c);
	s.n = sqlite3_column_bytes(st, c);
	s.null = false;
	if (!s.p)
		s.p = (const uint8_t *)""; /* a zero-length blob */
	return s;
}

/* The encoders are jsonrec's, so that exports and queries agree byte for byte. */
static json_t *json_text(struct span s)
{
	return jsonrec__text(s.p, s.n);
}

static json_t *json_field(sqlite3_stmt *st, const struct field *fd, struct span host)
{
	char tbuf[TIME_STR_LEN];
	struct span s;

	if (fd->kind == K_HOST)
		return host.null ? json_null() : json_text(host);
	if (fd->kind == K_NULL || sqlite3_column_type(st, fd->col) == SQLITE_NULL)
		return json_null();

	switch (fd->kind) {
	case K_INT:
		return json_integer(sqlite3_column_int64(st, fd->col));
	case K_TIME:
		util__format_time(sqlite3_column_int64(st, fd->col), tbuf);
		return json_string(tbuf);
	case K_TEXT:
		return json_text(col_bytes(st, fd->col));
	case K_B64:
		s = col_bytes(st, fd->col);
		return jsonrec__b64(s.p, s.n);
	case K_TRUNCATED:
	case K_DELETED:
	case K_UNRESOLVED:
	case K_FSREL:
		return json_boolean(sqlite3_column_int64(st, fd->col) & path_flag[fd->kind]);
	case K_BOOL:
		return json_boolean(sqlite3_column_int64(st, fd->col) != 0);
	case K_ARGS:
		s = col_bytes(st, fd->col);
		return jsonrec__args(s.p, s.n);
	case K_READ_PATHS:
		return jsonrec__read_paths((uint64_t)sqlite3_column_int64(st, fd->col));
	case K_ABI:
		return jsonrec__abi((uint32_t)sqlite3_column_int64(st, fd->col));
	case K_HEX:
		s = col_bytes(st, fd->col);
		return jsonrec__hex(s.p, s.n);
	default:
		return json_null();
	}
}

static int print_json(sqlite3_stmt *st, struct span host, FILE *out)
{
	json_t *obj;
	int err = 0;

	obj = json_object();
	if (!obj)
		goto nomem;
	for (size_t i = 0; i < ARRAY_SIZE(json_fields); i++) {
		/* json_object_set_new fails on a NULL value and releases the value on failure. */
		if (json_object_set_new(obj, json_fields[i].name,
					json_field(st, &json_fields[i], host)))
			goto nomem;
	}
	/* A failed write shows up in ferror(out), which the caller checks after each row. */
	if (!json_dumpf(obj, out, JSON_COMPACT))
		fputc('\n', out);
	else if (!ferror(out))
		goto nomem;
	goto cleanup;

nomem:
	log_warnx("failed to format record %lld: out of memory",
		  (long long)sqlite3_column_int64(st, COL_SEQ));
	err = -ENOMEM;
cleanup:
	json_decref(obj);
	return err;
}

/* One CSV field, quoted (RFC 4180 §2.6-7) only when it holds a comma, quote, CR or LF. */
static void csv_bytes(FILE *out, struct span s)
{
	if (!memchr(s.p, ',', s.n) && !memchr(s.p, '"', s.n) && !memchr(s.p, '\r', s.n) &&
	    !memchr(s.p, '\n', s.n)) {
		fwrite(s.p, 1, s.n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '"')
			fputc('"', out);
		fputc(s.p[i], out);
	}
	fputc('"', out);
}

static void print_csv_header(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(csv_fields); i++)
		fprintf(out, "%s%s", i ? "," : "", csv_fields[i].name);
	fputc('\n', out);
}

/* NULL is an empty field; lines end in LF, as other Unix tools' CSV does. */
static void print_csv(sqlite3_stmt *st, FILE *out)
{
	char tbuf[TIME_STR_LEN], abi[RECORD_ABI_NAMES_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(csv_fields); i++) {
		const struct field *fd = &csv_fields[i];

		if (i)
			fputc(',', out);
		if (sqlite3_column_type(st, fd->col) == SQLITE_NULL)
			continue;
		switch (fd->kind) {
		case K_TIME:
			util__format_time(sqlite3_column_int64(st, fd->col), tbuf);
			fputs(tbuf, out);
			break;
		case K_TEXT:
			csv_bytes(out, col_bytes(st, fd->col));
			break;
		case K_ABI:
			/* "x86_64,i386" is quoted; 0 (none known) is empty, as in JSON. */
			record__abi_names((uint32_t)sqlite3_column_int64(st, fd->col), abi);
			csv_bytes(out, (struct span){ (const uint8_t *)abi, strlen(abi), false });
			break;
		default:
			fprintf(out, "%lld", (long long)sqlite3_column_int64(st, fd->col));
			break;
		}
	}
	fputc('\n', out);
}

/*
 * Whether a code point would act on the terminal or reorder the text around
 * it rather than show: C1 controls and the bidirectional formatting marks.
 */
/* The bytes for a terminal (util__display), in a new string the caller frees. */
static char *escape(struct span s)
{
	return util__display(s.p, s.n);
}

#define TABLE_FMT "%-20s %-6s %6s %7s %10s %-16s %-16s %12s %s%s%s%s%s%s%s%s\n"

static void print_table_header(FILE *out)
{
	fprintf(out, TABLE_FMT, "TIME", "ACTION", "RESULT", "PID", "UID", "PERSON", "COMM", "BYTES",
		"PATH", "", "", "", "", "", "", "");
}

/* " [i386]": the ABI of an access, when it is not only the native one (an
 * i386 or x32 call is worth a look; x86_64 on every line is noise). */
static void table_abi(sqlite3_stmt *st, char *buf, size_t cap)
{
	uint32_t abi = (uint32_t)sqlite3_column_int64(st, COL_ABI);
	char names[RECORD_ABI_NAMES_MAX];

	buf[0] = '\0';
	if (!(abi & ~(uint32_t)CUSTOS_ABI_X86_64))
		return;
	record__abi_names(abi, names);
	snprintf(buf, cap, " [%s]", names);
}

/* An integer column for the table; "-" for NULL and for the unset id (u32)-1. */
static const char *table_int(sqlite3_stmt *st, enum col c, char *buf, size_t len)
{
	int64_t v;

	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		return "-";
	v = sqlite3_column_int64(st, c);
	if (v == UINT32_MAX && (c == COL_UID || c == COL_LOGINUID))
		return "-";
	snprintf(buf, len, "%" PRId64, v);
	return buf;
}

static int print_table(sqlite3_stmt *st, FILE *out)
{
	char tbuf[TIME_STR_LEN], res[24], pid[24], uid[24], bytes[24],
		abi[RECORD_ABI_NAMES_MAX + 3];
	struct span path = col_bytes(st, COL_PATH), detail = col_bytes(st, COL_DETAIL);
	struct span target = col_bytes(st, COL_TARGET);
	char *action = NULL, *comm = NULL, *last = NULL, *person = NULL, *lineage = NULL;
	char *new_name = NULL;
	const char *suffix = "";
	int64_t pflags = sqlite3_column_int64(st, COL_PATH_FLAGS);
	int err = 0;

	util__format_time(sqlite3_column_int64(st, COL_T_NS), tbuf);
	/* "YYYY-MM-DDTHH:MM:SS" is always 19 bytes for the years an int64 of ns can hold. */
	memcpy(tbuf + 19, "Z", 2);

	action = escape(col_bytes(st, COL_ACTION));
	comm = escape(col_bytes(st, COL_COMM));
	/* Lifecycle rows have no path; their detail says what happened instead. */
	last = escape(path.null ? detail : path);
	person = escape(col_bytes(st, COL_PERSON));
	lineage = escape(col_bytes(st, COL_LINEAGE));
	new_name = escape(target);
	if (!action || !comm || !last || !person || !lineage || !new_name) {
		log_warnx("failed to format record %lld: out of memory",
			  (long long)sqlite3_column_int64(st, COL_SEQ));
		err = -ENOMEM;
		goto cleanup;
	}
	if (!path.null && (pflags & CUSTOS_PATH_TRUNCATED))
		suffix = pflags & CUSTOS_PATH_DELETED ? " (truncated, deleted)" : " (truncated)";
	else if (!path.null && (pflags & CUSTOS_PATH_DELETED))
		suffix = " (deleted)";
	else if (!path.null && (pflags & CUSTOS_PATH_FSREL))
		suffix = " (on its file system; no host mount shows it)";
	table_abi(st, abi, sizeof(abi));

	/* The person, then (after the path, as it can be long) how the process got there.
	 * A link or rename shows the protected name, then the new one. */
	fprintf(out, TABLE_FMT, tbuf, action, table_int(st, COL_RESULT, res, sizeof(res)),
		table_int(st, COL_PID, pid, sizeof(pid)), table_int(st, COL_UID, uid, sizeof(uid)),
		*person ? person : "-", *comm ? comm : "-",
		table_int(st, COL_BYTES, bytes, sizeof(bytes)), last, suffix,
		target.null ? "" : " -> ", new_name,
		sqlite3_column_int64(st, COL_DISCOVERED) ? " (discovered)" : "", abi,
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

/* The host named by the last START record; *host is left null when there is none. */
static int read_host(sqlite3 *db, const char *path, struct span *host, uint8_t **copy)
{
	sqlite3_stmt *st = NULL;
	struct record r = { .type = REC_START };
	int rc, err = 0;

	host->null = true;
	if (sqlite3_prepare_v2(db,
			       "SELECT body FROM record WHERE type = 7 ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL)) {
		log_warnx("failed to read host from database %s: %s", path, sqlite3_errmsg(db));
		err = -EIO;
		goto cleanup;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		goto cleanup;
	if (rc != SQLITE_ROW) {
		log_warnx("failed to read host from database %s: %s", path, sqlite3_errmsg(db));
		err = -EIO;
		goto cleanup;
	}
	/* A START that does not decode names no host; custos verify reports it. */
	if (record__decode_body(&r, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0)))
		goto cleanup;
	*copy = malloc(r.start.host.len + 1);
	if (!*copy) {
		log_warnx("failed to read host from database %s: out of memory", path);
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(*copy, r.start.host.p, r.start.host.len);
	host->p = *copy;
	host->n = r.start.host.len;
	host->null = false;
cleanup:
	sqlite3_finalize(st);
	return err;
}

/* The bytes of s followed by one byte c, in a new buffer the caller frees. */
static uint8_t *with_byte(const char *s, size_t n, char c)
{
	uint8_t *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = c;
	}
	return p;
}

/*
 * Check a shell pattern's classes, and write the pattern in SQLite's GLOB
 * form to out (strlen(pat) + 1 bytes) unless out is NULL.  The two differ
 * only in negation: the shell's "[!a]" is SQLite's "[^a]", where '!' would
 * be one more member.  Returns false when a '[' has no closing ']', which
 * SQLite would take as a pattern that matches nothing.
 */
static bool glob_convert(const char *pat, char *out)
{
	size_t i = 0;

	if (out)
		strcpy(out, pat);
	while (pat[i]) {
		if (pat[i++] != '[')
			continue;
		/* A class: '!' or '^' first negates, then a ']' first is a member. */
		if (pat[i] == '!' || pat[i] == '^') {
			if (out)
				out[i] = '^';
			i++;
		}
		if (pat[i] == ']')
			i++;
		while (pat[i] && pat[i] != ']')
			i++;
		if (!pat[i])
			return false;
		i++;
	}
	return true;
}

/* Bind len bytes at p as a blob, for the columns that hold raw bytes; NULL leaves ?n unbound. */
static int bind_bytes(sqlite3_stmt *st, int n, const void *p, size_t len)
{
	/* A TEXT value never equals a BLOB in SQLite. */
	return p ? sqlite3_bind_blob(st, n, p, (int)len, SQLITE_TRANSIENT) : SQLITE_OK;
}

/* A directory prefix as the blob range [P "/", P "0"), bound to ?lo and ?lo + 1. */
static int bind_subtree(sqlite3_stmt *st, int lo_param, const char *prefix, size_t n)
{
	uint8_t *lo = with_byte(prefix, n, '/'), *hi = with_byte(prefix, n, '/' + 1);
	int rc = SQLITE_NOMEM;

	if (lo && hi) {
		rc = bind_bytes(st, lo_param, lo, n + 1);
		if (!rc)
			rc = bind_bytes(st, lo_param + 1, hi, n + 1);
	}
	free(lo);
	free(hi);
	return rc;
}

/* The length of s without its trailing '/'s: "/a/b/" means "/a/b" and "/" the empty prefix. */
static size_t strip_slashes(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

static int bind_str(sqlite3_stmt *st, int n, const char *s)
{
	return s ? bind_bytes(st, n, s, strlen(s)) : SQLITE_OK;
}

static int bind_filter(sqlite3_stmt *st, const struct query_filter *f, struct span host)
{
	char *glob = NULL;
	int rc = SQLITE_OK, err = 0;
	size_t n;

	if (f->path_prefix) {
		n = strip_slashes(f->path_prefix);
		rc = bind_bytes(st, P_PREFIX, f->path_prefix, n);
		if (!rc)
			rc = bind_subtree(st, P_LO, f->path_prefix, n);
	}
	if (!rc && f->glob) {
		glob = malloc(strlen(f->glob) + 1);
		if (!glob) {
			err = -ENOMEM;
			goto cleanup;
		}
		/* query__set refused an open class; a caller that did not gets no rows. */
		glob_convert(f->glob, glob);
		rc = sqlite3_bind_text(st, P_GLOB, glob, -1, SQLITE_TRANSIENT);
	}
	/* dataset is the one text column (the entry view casts it). */
	if (!rc && f->dataset)
		rc = sqlite3_bind_text(st, P_DATASET, f->dataset, -1, SQLITE_TRANSIENT);
	if (!rc && f->uid >= 0)
		rc = sqlite3_bind_int64(st, P_UID, f->uid);
	if (!rc && f->loginuid >= 0)
		rc = sqlite3_bind_int64(st, P_LOGINUID, f->loginuid);
	if (!rc && f->action)
		rc = sqlite3_bind_text(st, P_ACTION, f->action, -1, SQLITE_TRANSIENT);
	if (!rc && f->result != QUERY_RESULT_ANY)
		rc = sqlite3_bind_int(st, P_RESULT, f->result);
	if (!rc && f->result == QUERY_RESULT_DENIED) {
		rc = sqlite3_bind_int(st, P_RESULT1, -EACCES);
		if (!rc)
			rc = sqlite3_bind_int(st, P_RESULT2, -EPERM);
	} else if (!rc && f->result == QUERY_RESULT_EQ) {
		rc = sqlite3_bind_int64(st, P_RESULT1, f->result_value);
		if (!rc)
			rc = sqlite3_bind_int64(st, P_RESULT2, f->result_value);
	}
	if (!rc && f->exe) {
		n = strlen(f->exe);
		if (n > 0 && f->exe[n - 1] == '/')
			rc = bind_subtree(st, P_EXE_LO, f->exe, strip_slashes(f->exe));
		else
			rc = bind_bytes(st, P_EXE, f->exe, n);
	}
	if (!rc)
		rc = bind_str(st, P_COMM, f->comm);
	if (!rc && f->abi)
		rc = sqlite3_bind_int64(st, P_ABI, f->abi);
	if (!rc && f->session)
		rc = sqlite3_bind_int64(st, P_SESSION, (int64_t)f->session);
	if (!rc && f->since_ns != INT64_MIN)
		rc = sqlite3_bind_int64(st, P_SINCE, f->since_ns);
	if (!rc && f->until_ns != INT64_MAX)
		rc = sqlite3_bind_int64(st, P_UNTIL, f->until_ns);
	/* The who columns are raw bytes, so the names are bound as blobs. */
	if (!rc)
		rc = bind_str(st, P_PERSON, f->person);
	if (!rc)
		rc = bind_str(st, P_TEAM, f->team);
	if (!rc)
		rc = bind_str(st, P_ROLE, f->role);
	if (!rc && f->unattributed)
		rc = sqlite3_bind_int(st, P_UNATTRIBUTED, 1);
	/* The host is the ledger's, not a row's: it lets every row through or none. */
	if (!rc && f->host) {
		rc = bind_str(st, P_HOST, f->host);
		if (!rc && !host.null)
			rc = bind_bytes(st, P_LEDGER_HOST, host.p, host.n);
	}
	if (!rc)
		rc = sqlite3_bind_int64(st, P_LIMIT, f->limit > 0 ? f->limit : -1);
	if (rc)
		err = rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
cleanup:
	free(glob);
	return err;
}

static int prepare_query(sqlite3 *db, const char *path, const struct query_filter *f,
			 struct span host, sqlite3_stmt **out)
{
	char sql[8192];
	size_t len = 0;
	sqlite3_stmt *st = NULL;
	int err = 0;

	if ((unsigned int)f->sort >= ARRAY_SIZE(order_sql)) {
		log_warnx("failed to build query: unknown sort order %d", (int)f->sort);
		err = -EINVAL;
		goto cleanup;
	}
	len += snprintf(sql + len, sizeof(sql) - len, "SELECT");
	for (int c = 0; c < COL_MAX && len < sizeof(sql); c++)
		len += snprintf(sql + len, sizeof(sql) - len, "%s %s", c ? "," : "", col_name[c]);
	/* The flat rows come from the store's own view of a record; the order is one of ours. */
	if (len < sizeof(sql))
		len += snprintf(sql + len, sizeof(sql) - len, where_sql, store_entry_sql,
				order_sql[f->sort][f->sort_desc ? 1 : 0]);
	if (len >= sizeof(sql)) {
		/* Only a programming error gets here: nothing in sql comes from the user. */
		log_warnx("failed to build query: statement too long");
		err = -E2BIG;
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL)) {
		log_warnx("failed to query database %s: %s", path, sqlite3_errmsg(db));
		err = -EIO;
		goto cleanup;
	}
	err = bind_filter(st, f, host);
	if (err) {
		log_warnx("failed to bind query filter: %s", strerror(-err));
		goto cleanup;
	}
	*out = st;
	st = NULL;
cleanup:
	sqlite3_finalize(st);
	return err;
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

/*
 * Set the filter option opt from arg; see query.h.  The messages name the
 * option as the command line spells it, as custos prints them as they are.
 */
int query__set(struct query_filter *f, const char *opt, const char *arg, int64_t now_ns,
	       const char **why)
{
	/* Options whose value is a name, kept as given; an empty one is almost always an
	 * unset shell variable, not "everything". */
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
		if (!*arg) {
			*why = names[i].empty;
			return -EINVAL;
		}
		if (!strcmp(opt, "glob") && !glob_convert(arg, NULL)) {
			*why = "invalid --glob, a [ has no closing ]";
			return -EINVAL;
		}
		/* The ledger has only absolute programs; "bin/" would quietly match none. */
		if (!strcmp(opt, "exe") && *arg != '/') {
			*why = "invalid --exe, want an absolute path, or a directory ending in /";
			return -EINVAL;
		}
		if (!strcmp(opt, "comm") && strlen(arg) >= CUSTOS_COMM_LEN) {
			*why = "invalid --comm, the kernel keeps at most 15 bytes of a name";
			return -EINVAL;
		}
		*(const char **)((char *)f + names[i].off) = arg;
		return 0;
	}

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

/*
 * Run the query on the database at db_path and print every matching row to
 * out in the format fmt, ordered by seq.  Returns 0; -EIO when the database
 * cannot be read or out cannot be written; -ENOENT and other -errno when it
 * cannot be opened; -ENOMEM.  The reason has been logged once.
 */
int query__run(sqlite3 *db, const char *db_path, const struct query_filter *f,
	       enum query_format fmt, FILE *out)
{
	struct span host = { NULL, 0, true };
	uint8_t *host_copy = NULL;
	sqlite3_stmt *st = NULL;
	int rc, err;

	err = read_host(db, db_path, &host, &host_copy);
	if (err)
		goto cleanup;
	err = prepare_query(db, db_path, f, host, &st);
	if (err)
		goto cleanup;

	if (fmt == QUERY_TABLE)
		print_table_header(out);
	else if (fmt == QUERY_CSV)
		print_csv_header(out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fmt == QUERY_JSON)
			err = print_json(st, host, out);
		else if (fmt == QUERY_CSV)
			print_csv(st, out);
		else
			err = print_table(st, out);
		if (err)
			goto cleanup;
		/* Stop at the first failed write rather than query on into a closed pipe. */
		if (ferror(out))
			goto write_error;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("failed to read database %s: %s", db_path, sqlite3_errmsg(db));
		err = -EIO;
		goto cleanup;
	}
	if (fflush(out) || ferror(out))
		goto write_error;
	goto cleanup;

write_error:
	log_warn("failed to write output");
	err = -EIO;
cleanup:
	sqlite3_finalize(st);
	free(host_copy);
	return err;
}
