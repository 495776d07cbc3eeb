// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of collector/query.c against a small database written with the
 * store module: filters select the right records, and every format keeps
 * hostile path bytes (newline, invalid UTF-8, NUL, escapes) honest.
 */
#include <errno.h>
#include <jansson.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "custos/abi.h"
#include "query.h"
#include "record.h"
#include "store.h"
#include "records.h"
#include "test.h"
#include "util.h"

#define NS 1000000000LL
/* 2026-11-27T06:00:00Z */
#define T_BASE (1795759200LL * NS)
#define AT(s)  (T_BASE + (s)*NS)

/* A filter that lets every record through. */
static struct query_filter any(void)
{
	struct query_filter f;

	query__filter_init(&f);
	return f;
}

static const char *const json_keys[] = {
	"seq",	       "time",	     "host",	   "action",	"result",     "flags",
	"path",	       "path_b64",   "truncated",  "deleted",	"unresolved", "fs_relative",
	"dev",	       "ino",	     "mnt_id",	   "dataset",	"bytes",      "reads",
	"first_time",  "last_time",  "pid",	   "tid",	"ppid",	      "comm",
	"exe",	       "uid",	     "euid",	   "fsuid",	"gid",	      "egid",
	"loginuid",    "sessionid",  "cpu",	   "bpf_seq",	"detail",     "person",
	"attribution", "team",	     "role",	   "left",	"directory",  "lineage",
	"args",	       "sid",	     "tty",	   "container", "cgroup_id",  "read_paths",
	"partial",     "min_offset", "max_offset", "rule",	"severity",   "cause_seq",
	"target",      "target_b64", "abi",	   "session",	"discovered",
};

static const char path_newline[] = "/a/b/new\nline";
static const uint8_t path_invalid[] = "/a/b/bad\xff\xfe name";
static const uint8_t path_nul[] = "/a/b/n\0l";
static const char path_quote[] = "/a/b/q\"u,o";

static char tmpdir[] = "/tmp/custos-test-query-XXXXXX";
static char db[sizeof(tmpdir) + 32], sort_db[sizeof(tmpdir) + 32], abi_db[sizeof(tmpdir) + 32];

static void remove_tmpdir(void)
{
	static const char *const names[] = { "q.db",	 "q.db-wal", "q.db-shm", "s.db",
					     "s.db-wal", "s.db-shm", "a.db",	 "a.db-wal",
					     "a.db-shm", "junk.db" };
	char p[sizeof(db)];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static struct bytes b(const void *p, size_t len)
{
	return (struct bytes){ .p = p, .len = len };
}

/* An access record with every field set to something recognisable. */
static struct record make_access(uint32_t op, int64_t t_ns, struct bytes path, uint32_t uid,
				 uint32_t euid)
{
	struct record r = { .type = REC_FILE_ACCESS, .t_real_ns = t_ns, .t_boot_ns = 1000 };

	r.access.event_ns = t_ns;
	r.access.op = op;
	r.access.open_flags = 0100000; /* O_LARGEFILE | O_RDONLY */
	r.access.result = op == OP_OPEN ? 3 : 0;
	r.access.pid = 4242;
	r.access.tid = 4243;
	r.access.ppid = 1;
	r.access.uid = uid;
	r.access.euid = euid;
	r.access.fsuid = euid;
	r.access.gid = 100;
	r.access.egid = 100;
	r.access.loginuid = uid;
	r.access.sessionid = 7;
	r.access.dev = 2049;
	r.access.ino = 123456;
	r.access.mnt_id = 29;
	r.access.bpf_cpu = 1;
	r.access.bpf_seq = 99;
	r.access.dataset = str("cohort-a");
	r.access.comm = str("cat");
	r.access.exe = str("/usr/bin/cat");
	r.access.path = path;
	return r;
}

/* seq:  0 START, 1 open /a/b/x.txt, 2 open /a/bc/y (EACCES), 3 read /a/b/x.txt,
 *       4 open newline name (euid 0), 5 open invalid UTF-8, 6 LOSS, 7 open /a/b,
 *       8 open quote/comma name with an escape sequence in comm, 9 open name with NUL */
static int write_db(const char *path)
{
	struct record recs[10], *r;
	struct store *st = NULL;
	int err = -EIO;

	recs[0] = (struct record){ .type = REC_START, .t_real_ns = AT(0) };
	recs[0].start.abi_version = CUSTOS_ABI_VERSION;
	recs[0].start.pid = 1234;
	recs[0].start.host = str("lab1");
	recs[0].start.version = str("0.1");
	recs[0].start.backend = str("tracepoint");
	recs[0].start.config = str("/a=cohort-a 8:1:2");
	recs[1] = make_access(OP_OPEN, AT(1) + 7, str("/a/b/x.txt"), 1001, 1001);
	recs[2] = make_access(OP_OPEN, AT(2), str("/a/bc/y"), 1002, 1002);
	recs[2].access.result = -13;
	recs[3] = make_access(OP_READ, AT(3), str("/a/b/x.txt"), 1001, 1001);
	recs[3].access.bytes = 4096;
	recs[3].access.reads = 2;
	recs[3].access.first_ns = AT(2) + NS / 2;
	recs[3].access.last_ns = AT(3);
	recs[3].access.path_flags = CUSTOS_PATH_DELETED;
	recs[4] = make_access(OP_OPEN, AT(4), str(path_newline), 1003, 0);
	recs[5] =
		make_access(OP_OPEN, AT(5), b(path_invalid, sizeof(path_invalid) - 1), 1001, 1001);
	recs[6] = (struct record){ .type = REC_LOSS, .t_real_ns = AT(6) };
	recs[6].loss.cpu = 2;
	recs[6].loss.counter = CUSTOS_STAT_RB_FULL;
	recs[6].loss.count = 5;
	recs[6].loss.total = 5;
	recs[7] = make_access(OP_OPEN, AT(7), str("/a/b"), 1004, 1004);
	recs[8] = make_access(OP_OPEN, AT(8), str(path_quote), 1005, 1005);
	recs[8].access.comm = str("ev\x1b[31mil");
	recs[9] = make_access(OP_OPEN, AT(9), b(path_nul, sizeof(path_nul) - 1), 1006, 1006);

	st = store__open(path);
	if (!st)
		return -errno;
	if (store__begin(st))
		goto cleanup;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		r = &recs[i];
		err = store__append(st, r);
		if (err)
			goto cleanup;
		if (r->seq != i) {
			fprintf(stderr, "  store gave seq %llu to record %zu\n",
				(unsigned long long)r->seq, i);
			err = -EINVAL;
			goto cleanup;
		}
	}
	err = store__set_state(st, "host", "lab1", 4);
	if (!err)
		err = store__commit(st);
cleanup:
	store__close(st);
	return err;
}

/* The temporary directory, made on first use and removed at exit. */
static void make_tmpdir(void)
{
	static bool made;

	if (made)
		return;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(remove_tmpdir);
	made = true;
}

/* The path of a database with the records above, written on first use. */
static const char *test_db(void)
{
	make_tmpdir();
	return ledger_once(db, sizeof(db), tmpdir, "q.db", write_db);
}

/* An access for the second database: who did it, with which program, and how it ended. */
static struct record make_who(uint32_t op, int64_t t_ns, const char *path, const char *dataset,
			      uint32_t pid, const char *exe, const char *comm, uint32_t loginuid,
			      const char *person, int32_t result, uint64_t bytes)
{
	struct record r = make_access(op, t_ns, str(path), 1001, 1001);

	r.access.dataset = str(dataset);
	r.access.pid = pid;
	r.access.tid = pid;
	r.access.exe = str(exe);
	r.access.comm = str(comm);
	r.access.loginuid = loginuid;
	r.access.result = result;
	r.access.person = str(person);
	r.access.attribution = str(*person ? "loginuid" : "unattributed");
	if (op == OP_READ || op == OP_READ_CALL) {
		r.access.bytes = bytes;
		r.access.reads = 1;
		r.access.first_ns = t_ns;
		r.access.last_ns = t_ns;
	}
	return r;
}

/*
 * A ledger without a START (so it names no host), for the filters on who
 * and what, and for sorting: ties on bytes (2, 7), path (1, 2, 9 and 6, 7),
 * person and pid; failed opens with -EACCES (3), -EPERM (4) and -ENOENT (6).
 */
static int write_sort_db(const char *path)
{
	struct record recs[10];

	recs[0] = (struct record){ .type = REC_LOSS, .t_real_ns = AT(0) };
	recs[0].loss.counter = CUSTOS_STAT_RB_FULL;
	recs[0].loss.count = 1;
	recs[0].loss.total = 1;
	recs[1] = make_who(OP_OPEN, AT(1), "/d/one/a.csv", "one", 300, "/usr/bin/cat", "cat", 1001,
			   "e1", 3, 0);
	recs[2] = make_who(OP_READ, AT(2), "/d/one/a.csv", "one", 300, "/usr/bin/cat", "cat", 1001,
			   "e1", 0, 500);
	recs[3] = make_who(OP_OPEN, AT(3), "/d/two/b.txt", "two", 100, "/usr/local/bin/tool",
			   "tool", UINT32_MAX, "", -13, 0);
	recs[4] = make_who(OP_OPEN, AT(4), "/d/two/c.csv", "two", 200, "/opt/x/bin/python3",
			   "python3", 1002, "e2", -1, 0);
	recs[5] = make_who(OP_READ, AT(5), "/d/two/b.txt", "two", 100, "/usr/local/bin/tool",
			   "tool", UINT32_MAX, "", 0, 9000);
	recs[6] = make_who(OP_OPEN, AT(6), "/d/one/sub/d.csv", "one", 400, "/usr/bin/catalog",
			   "catalog", 1003, "e0", -2, 0);
	recs[7] = make_who(OP_READ, AT(7), "/d/one/sub/d.csv", "one", 250, "/usr/binx/y", "y", 1002,
			   "e2", 0, 500);
	recs[8] = make_who(OP_MMAP, AT(8), "/d/two/[x].csv", "two", 200, "/opt/x/bin/python3",
			   "python3", 1001, "e1", 0, 0);
	recs[9] = make_who(OP_READ_CALL, AT(9), "/d/one/a.csv", "one", 250, "/usr/binx/y", "y",
			   1002, "e2", 0, 100);

	return write_records(path, recs, sizeof(recs) / sizeof(recs[0]));
}

static const char *test_sort_db(void)
{
	make_tmpdir();
	return ledger_once(sort_db, sizeof(sort_db), tmpdir, "s.db", write_sort_db);
}

static const uint8_t target_invalid[] = "/home/e1/\xff.csv";

/*
 * The fields the kernel added in ABI 8: 0 an open (x86_64, session 5); 1
 * its read session (x86_64 and i386 calls); 2 an open found only at its
 * first read (i386, discovered, session 6); 3 a read call of that session;
 * 4 an mmap of it (x32); 5 a link made outside the tree; 6 a failed rename
 * out of it to a name that is not UTF-8; 7 a kernel thread's open (no ABI),
 * session 2^40.
 */
static int write_abi_db(const char *path)
{
	struct record recs[8];

	recs[0] = make_access(OP_OPEN, AT(1), str("/a/b/x.txt"), 1001, 1001);
	recs[0].access.abi = CUSTOS_ABI_X86_64;
	recs[0].access.session = 5;
	recs[1] = make_access(OP_READ, AT(2), str("/a/b/x.txt"), 1001, 1001);
	recs[1].access.abi = CUSTOS_ABI_X86_64 | CUSTOS_ABI_I386;
	recs[1].access.session = 5;
	recs[1].access.bytes = 10;
	recs[2] = make_access(OP_OPEN, AT(3), str("/a/b/y"), 1002, 1002);
	recs[2].access.abi = CUSTOS_ABI_I386;
	recs[2].access.access_flags = RECORD_ACCESS_DISCOVERED;
	recs[2].access.session = 6;
	recs[3] = make_access(OP_READ_CALL, AT(4), str("/a/b/y"), 1002, 1002);
	recs[3].access.abi = CUSTOS_ABI_I386;
	recs[3].access.session = 6;
	recs[4] = make_access(OP_MMAP, AT(5), str("/a/b/y"), 1002, 1002);
	recs[4].access.abi = CUSTOS_ABI_X32;
	recs[4].access.session = 6;
	recs[5] = make_access(OP_LINK, AT(6), str("/a/b/x.txt"), 1001, 1001);
	recs[5].access.result = 0;
	recs[5].access.abi = CUSTOS_ABI_X86_64;
	recs[5].access.target = str("/tmp/out/copy.csv");
	recs[6] = make_access(OP_RENAME, AT(7), str("/a/b/y"), 1002, 1002);
	recs[6].access.result = -18;
	recs[6].access.abi = CUSTOS_ABI_X86_64;
	recs[6].access.target = b(target_invalid, sizeof(target_invalid) - 1);
	recs[6].access.target_flags = CUSTOS_PATH_UNRESOLVED;
	recs[7] = make_access(OP_OPEN, AT(8), str("/a/b/z"), 0, 0);
	recs[7].access.session = 1ULL << 40;

	return write_records(path, recs, sizeof(recs) / sizeof(recs[0]));
}

static const char *test_abi_db(void)
{
	make_tmpdir();
	return ledger_once(abi_db, sizeof(abi_db), tmpdir, "a.db", write_abi_db);
}

/* Run a query on database path into memory; *out is NUL-terminated and the caller frees it. */
static int run_on(const char *path, const struct query_filter *f, enum query_format fmt, char **out,
		  size_t *len)
{
	FILE *mem;
	int err;

	*out = NULL;
	mem = open_memstream(out, len);
	if (!mem)
		return -errno;
	err = query_file(path, f, fmt, mem);
	fclose(mem);
	return err;
}

static int run(const struct query_filter *f, enum query_format fmt, char **out, size_t *len)
{
	return run_on(test_db(), f, fmt, out, len);
}

/* Parse JSON Lines; each line must be one object.  Returns the objects in an array. */
static json_t *parse_lines(const char *s)
{
	json_t *arr = json_array();
	const char *nl;

	while (*s) {
		json_error_t e;
		json_t *o;

		nl = strchr(s, '\n');
		if (!nl) {
			fprintf(stderr, "  unterminated line: %s\n", s);
			goto fail;
		}
		o = json_loadb(s, nl - s, 0, &e);
		if (!o || !json_is_object(o)) {
			fprintf(stderr, "  bad JSON line: %.*s: %s\n", (int)(nl - s), s, e.text);
			json_decref(o);
			goto fail;
		}
		json_array_append_new(arr, o);
		s = nl + 1;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

/* Whether the JSON output of query f on database path has exactly the records want[0..n), in
 * order. */
static bool seqs_on(const char *path, const struct query_filter *f, const int64_t *want, size_t n)
{
	json_t *rows = NULL;
	bool ok = false;
	char *out;
	size_t len, i;

	if (run_on(path, f, QUERY_JSON, &out, &len) || !(rows = parse_lines(out)))
		goto cleanup;
	ok = json_array_size(rows) == n;
	for (i = 0; ok && i < n; i++)
		ok = json_integer_value(json_object_get(json_array_get(rows, i), "seq")) == want[i];
	if (!ok) {
		fprintf(stderr, "  want seqs");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %lld", (long long)want[i]);
		fprintf(stderr, ", got");
		for (i = 0; i < json_array_size(rows); i++)
			fprintf(stderr, " %lld",
				json_integer_value(
					json_object_get(json_array_get(rows, i), "seq")));
		fprintf(stderr, "\n");
	}
cleanup:
	json_decref(rows);
	free(out);
	return ok;
}

#define ASSERT_SEQS_ON(path, f, ...)                                                               \
	do {                                                                                       \
		static const int64_t _want[] = { __VA_ARGS__ };                                    \
		ASSERT_TRUE(seqs_on(path, &(f), _want, sizeof(_want) / sizeof(_want[0])));         \
	} while (0)
#define ASSERT_SEQS(f, ...)	   ASSERT_SEQS_ON(test_db(), f, __VA_ARGS__)
#define ASSERT_NO_ROWS_ON(path, f) ASSERT_TRUE(seqs_on(path, &(f), NULL, 0))
#define ASSERT_NO_ROWS(f)	   ASSERT_NO_ROWS_ON(test_db(), f)
/* The second database, of who and what, with ties for sorting. */
#define ASSERT_SORTED(f, ...) ASSERT_SEQS_ON(test_sort_db(), f, __VA_ARGS__)

/* The JSON object of record seq of database path, from an unfiltered query;
 * the caller decrefs it. */
static json_t *record_json_on(const char *path, int64_t seq)
{
	struct query_filter f = any();
	json_t *rows = NULL, *o = NULL;
	char *out;
	size_t len;

	if (!run_on(path, &f, QUERY_JSON, &out, &len) && (rows = parse_lines(out)))
		o = json_incref(json_array_get(rows, seq));
	json_decref(rows);
	free(out);
	return o;
}

static json_t *record_json(int64_t seq)
{
	return record_json_on(test_db(), seq);
}

static size_t base64_decode(const char *s, uint8_t *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		acc = acc << 6 | (uint32_t)(strchr(alphabet, *s) - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = acc >> bits;
		}
	}
	return n;
}

static size_t count_char(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

TEST(json_has_every_key)
{
	struct query_filter f = any();
	json_t *rows, *o;
	char *out;
	size_t len, i;

	ASSERT_EQ(run(&f, QUERY_JSON, &out, &len), 0);
	rows = parse_lines(out);
	free(out);
	ASSERT_TRUE(rows);
	ASSERT_EQ(json_array_size(rows), 10);
	json_array_foreach(rows, i, o)
	{
		ASSERT_EQ(json_object_size(o), sizeof(json_keys) / sizeof(json_keys[0]));
		for (size_t k = 0; k < sizeof(json_keys) / sizeof(json_keys[0]); k++) {
			if (!json_object_get(o, json_keys[k])) {
				fprintf(stderr, "  record %zu has no key %s\n", i, json_keys[k]);
				return false;
			}
		}
		ASSERT_EQ(json_integer_value(json_object_get(o, "seq")), i);
		ASSERT_STREQ(json_string_value(json_object_get(o, "host")), "lab1");
		ASSERT_TRUE(json_is_null(json_object_get(o, "person")));
		ASSERT_TRUE(json_is_null(json_object_get(o, "attribution")));
	}
	json_decref(rows);
	return true;
}

TEST(json_access_values)
{
	json_t *o = record_json(1);

	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "time")),
		     "2026-11-27T06:00:01.000000007Z");
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "open");
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), "/a/b/x.txt");
	ASSERT_TRUE(json_is_null(json_object_get(o, "path_b64")));
	ASSERT_TRUE(json_is_false(json_object_get(o, "truncated")));
	ASSERT_TRUE(json_is_false(json_object_get(o, "deleted")));
	ASSERT_STREQ(json_string_value(json_object_get(o, "dataset")), "cohort-a");
	ASSERT_STREQ(json_string_value(json_object_get(o, "comm")), "cat");
	ASSERT_STREQ(json_string_value(json_object_get(o, "exe")), "/usr/bin/cat");
	ASSERT_EQ(json_integer_value(json_object_get(o, "result")), 3);
	ASSERT_EQ(json_integer_value(json_object_get(o, "flags")), 0100000);
	ASSERT_EQ(json_integer_value(json_object_get(o, "dev")), 2049);
	ASSERT_EQ(json_integer_value(json_object_get(o, "ino")), 123456);
	ASSERT_EQ(json_integer_value(json_object_get(o, "mnt_id")), 29);
	ASSERT_EQ(json_integer_value(json_object_get(o, "pid")), 4242);
	ASSERT_EQ(json_integer_value(json_object_get(o, "tid")), 4243);
	ASSERT_EQ(json_integer_value(json_object_get(o, "ppid")), 1);
	ASSERT_EQ(json_integer_value(json_object_get(o, "uid")), 1001);
	ASSERT_EQ(json_integer_value(json_object_get(o, "loginuid")), 1001);
	ASSERT_EQ(json_integer_value(json_object_get(o, "sessionid")), 7);
	ASSERT_EQ(json_integer_value(json_object_get(o, "cpu")), 1);
	ASSERT_EQ(json_integer_value(json_object_get(o, "bpf_seq")), 99);
	/* An open has no read totals. */
	ASSERT_TRUE(json_is_null(json_object_get(o, "bytes")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "reads")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "first_time")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "last_time")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "detail")));
	json_decref(o);

	o = record_json(2);
	ASSERT_TRUE(o);
	ASSERT_EQ(json_integer_value(json_object_get(o, "result")), -13);
	json_decref(o);
	return true;
}

TEST(json_read_session)
{
	char first[TIME_STR_LEN], last[TIME_STR_LEN];
	json_t *o = record_json(3);

	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "read");
	ASSERT_EQ(json_integer_value(json_object_get(o, "bytes")), 4096);
	ASSERT_EQ(json_integer_value(json_object_get(o, "reads")), 2);
	util__format_time(AT(2) + NS / 2, first);
	util__format_time(AT(3), last);
	ASSERT_STREQ(json_string_value(json_object_get(o, "first_time")), first);
	ASSERT_STREQ(json_string_value(json_object_get(o, "last_time")), last);
	ASSERT_TRUE(json_is_true(json_object_get(o, "deleted")));
	ASSERT_TRUE(json_is_false(json_object_get(o, "truncated")));
	json_decref(o);
	return true;
}

TEST(json_lifecycle_rows)
{
	json_t *o = record_json(0);

	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "start");
	ASSERT_TRUE(json_is_string(json_object_get(o, "detail")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "path")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "path_b64")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "truncated")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "pid")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "uid")));
	json_decref(o);

	o = record_json(6);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "loss");
	ASSERT_TRUE(json_is_string(json_object_get(o, "detail")));
	json_decref(o);
	return true;
}

TEST(json_path_bytes_round_trip)
{
	uint8_t raw[64];
	const char *s;
	size_t n;
	json_t *o;

	/* A newline is valid UTF-8: kept in the string, which JSON escapes. */
	o = record_json(4);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), path_newline);
	ASSERT_TRUE(json_is_null(json_object_get(o, "path_b64")));
	json_decref(o);

	o = record_json(5);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")),
		     "/a/b/bad\xef\xbf\xbd\xef\xbf\xbd name");
	s = json_string_value(json_object_get(o, "path_b64"));
	ASSERT_TRUE(s);
	n = base64_decode(s, raw);
	ASSERT_EQ(n, sizeof(path_invalid) - 1);
	ASSERT_TRUE(!memcmp(raw, path_invalid, n));
	json_decref(o);

	/* NUL is valid UTF-8 but would end the name for any C reader. */
	o = record_json(9);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), "/a/b/n\xef\xbf\xbdl");
	s = json_string_value(json_object_get(o, "path_b64"));
	ASSERT_TRUE(s);
	n = base64_decode(s, raw);
	ASSERT_EQ(n, sizeof(path_nul) - 1);
	ASSERT_TRUE(!memcmp(raw, path_nul, n));
	json_decref(o);
	return true;
}

#define ASSERT_ABI_SEQS(f, ...) ASSERT_SEQS_ON(test_abi_db(), f, __VA_ARGS__)

TEST(json_abi_session_discovered_target)
{
	uint8_t raw[64];
	size_t n;
	json_t *o;

	o = record_json_on(test_abi_db(), 0);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "abi")), "x86_64");
	ASSERT_EQ(json_integer_value(json_object_get(o, "session")), 5);
	ASSERT_TRUE(json_is_false(json_object_get(o, "discovered")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "target")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "target_b64")));
	json_decref(o);
	/* Every ABI of the calls a session counted, in bit order; discovered is an open's. */
	o = record_json_on(test_abi_db(), 1);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "abi")), "x86_64,i386");
	ASSERT_EQ(json_integer_value(json_object_get(o, "session")), 5);
	ASSERT_TRUE(json_is_null(json_object_get(o, "discovered")));
	json_decref(o);
	o = record_json_on(test_abi_db(), 2);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "abi")), "i386");
	ASSERT_TRUE(json_is_true(json_object_get(o, "discovered")));
	json_decref(o);
	o = record_json_on(test_abi_db(), 4);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "mmap");
	ASSERT_STREQ(json_string_value(json_object_get(o, "abi")), "x32");
	json_decref(o);
	o = record_json_on(test_abi_db(), 5);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "link");
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), "/a/b/x.txt");
	ASSERT_STREQ(json_string_value(json_object_get(o, "target")), "/tmp/out/copy.csv");
	ASSERT_TRUE(json_is_null(json_object_get(o, "target_b64")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "session")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "discovered")));
	json_decref(o);
	/* A target that is not UTF-8: replacement characters, and its bytes in base64. */
	o = record_json_on(test_abi_db(), 6);
	ASSERT_TRUE(o);
	ASSERT_STREQ(json_string_value(json_object_get(o, "action")), "rename");
	ASSERT_EQ(json_integer_value(json_object_get(o, "result")), -18);
	ASSERT_STREQ(json_string_value(json_object_get(o, "target")), "/home/e1/\xef\xbf\xbd.csv");
	n = base64_decode(json_string_value(json_object_get(o, "target_b64")), raw);
	ASSERT_EQ(n, sizeof(target_invalid) - 1);
	ASSERT_TRUE(!memcmp(raw, target_invalid, n));
	json_decref(o);
	/* No ABI known (a kernel thread's own access): null, like no session. */
	o = record_json_on(test_abi_db(), 7);
	ASSERT_TRUE(o);
	ASSERT_TRUE(json_is_null(json_object_get(o, "abi")));
	ASSERT_EQ(json_integer_value(json_object_get(o, "session")), 1LL << 40);
	json_decref(o);
	/* Records that are not accesses have none of them. */
	o = record_json(0);
	ASSERT_TRUE(o);
	ASSERT_TRUE(json_is_null(json_object_get(o, "abi")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "session")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "discovered")));
	ASSERT_TRUE(json_is_null(json_object_get(o, "target")));
	json_decref(o);
	return true;
}

TEST(filter_abi_session_and_link_actions)
{
	struct query_filter f = any();
	const char *why = NULL;

	/* Records whose abi has the bit: a session of x86_64 and i386 calls has both. */
	ASSERT_EQ(query__set(&f, "abi", "x86_64", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 0, 1, 5, 6);
	ASSERT_EQ(query__set(&f, "abi", "i386", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 1, 2, 3);
	ASSERT_EQ(query__set(&f, "abi", "x32", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 4);
	f = any();
	ASSERT_EQ(query__set(&f, "session", "6", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 2, 3, 4);
	ASSERT_EQ(query__set(&f, "session", "1099511627776", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 7);
	ASSERT_EQ(query__set(&f, "session", "18446744073709551615", 0, &why), 0);
	ASSERT_TRUE(f.session == UINT64_MAX);
	ASSERT_NO_ROWS_ON(test_abi_db(), f);
	ASSERT_EQ(query__set(&f, "session", "5", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "abi", "i386", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 1);
	f = any();
	ASSERT_EQ(query__set(&f, "action", "link", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 5);
	ASSERT_EQ(query__set(&f, "action", "rename,link", 0, &why), 0);
	ASSERT_ABI_SEQS(f, 5, 6);
	/* A ledger without them: nothing, and the old filters are unchanged. */
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(csv_and_table_show_the_new_fields)
{
	struct query_filter f = any();
	char *out;
	size_t len;

	ASSERT_EQ(run_on(test_abi_db(), &f, QUERY_CSV, &out, &len), 0);
	ASSERT_TRUE(strstr(out, ",/usr/bin/cat,\"x86_64,i386\",5,,\n"));
	ASSERT_TRUE(strstr(out, ",/usr/bin/cat,i386,6,1,\n"));
	ASSERT_TRUE(strstr(out, ",/usr/bin/cat,x86_64,,,/tmp/out/copy.csv\n"));
	ASSERT_TRUE(strstr(out, ",/usr/bin/cat,,1099511627776,0,\n"));
	ASSERT_TRUE(memmem(out, len, ",x86_64,,,/home/e1/\xff.csv\n", 25));
	free(out);

	ASSERT_EQ(run_on(test_abi_db(), &f, QUERY_TABLE, &out, &len), 0);
	ASSERT_EQ(count_char(out, len, '\n'), 9);
	ASSERT_TRUE(strstr(out, " link "));
	ASSERT_TRUE(strstr(out, " /a/b/x.txt -> /tmp/out/copy.csv\n"));
	ASSERT_TRUE(strstr(out, " /a/b/y -> /home/e1/\\xff.csv\n"));
	ASSERT_TRUE(strstr(out, " /a/b/y (discovered) [i386]\n"));
	ASSERT_TRUE(strstr(out, " /a/b/x.txt [x86_64,i386]\n"));
	ASSERT_TRUE(strstr(out, " /a/b/y [x32]\n"));
	/* The native ABI alone is not worth a note. */
	ASSERT_TRUE(strstr(out, "open        3    4242       1001 -      "
				"          cat                         - /a/b/x.txt\n"));
	free(out);
	return true;
}

TEST(filter_path_prefix)
{
	struct query_filter f = any();

	f.path_prefix = "/a/b";
	ASSERT_SEQS(f, 1, 3, 4, 5, 7, 8, 9);
	f.path_prefix = "/a/b/";
	ASSERT_SEQS(f, 1, 3, 4, 5, 7, 8, 9);
	f.path_prefix = "/a/b//";
	ASSERT_SEQS(f, 1, 3, 4, 5, 7, 8, 9);
	f.path_prefix = "/a/bc";
	ASSERT_SEQS(f, 2);
	f.path_prefix = "/a/b/x.txt";
	ASSERT_SEQS(f, 1, 3);
	f.path_prefix = "/a/b/x";
	ASSERT_NO_ROWS(f);
	f.path_prefix = "/";
	ASSERT_SEQS(f, 1, 2, 3, 4, 5, 7, 8, 9);
	f.path_prefix = "/z";
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(filter_uid_matches_uid_or_euid)
{
	struct query_filter f = any();

	f.uid = 1001;
	ASSERT_SEQS(f, 1, 3, 5);
	f.uid = 0;
	ASSERT_SEQS(f, 4);
	f.uid = 1003;
	ASSERT_SEQS(f, 4);
	f.uid = 999999;
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(filter_action)
{
	struct query_filter f = any();

	f.action = "read";
	ASSERT_SEQS(f, 3);
	f.action = "open";
	ASSERT_SEQS(f, 1, 2, 4, 5, 7, 8, 9);
	f.action = "start";
	ASSERT_SEQS(f, 0);
	f.action = "loss";
	ASSERT_SEQS(f, 6);
	f.action = "stop";
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(filter_since_until)
{
	struct query_filter f = any();

	f.since_ns = AT(2);
	f.until_ns = AT(5);
	ASSERT_SEQS(f, 2, 3, 4);
	f.since_ns = AT(5);
	f.until_ns = INT64_MAX;
	ASSERT_SEQS(f, 5, 6, 7, 8, 9);
	f.since_ns = INT64_MIN;
	f.until_ns = AT(1);
	ASSERT_SEQS(f, 0);
	/* seq 1 is at AT(1) + 7 ns: inclusive since, exclusive until, to the ns. */
	f.since_ns = AT(1) + 7;
	f.until_ns = AT(1) + 8;
	ASSERT_SEQS(f, 1);
	f.until_ns = AT(1) + 7;
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(filters_combine)
{
	struct query_filter f = any();

	f.path_prefix = "/a/b";
	f.uid = 1001;
	f.action = "open";
	ASSERT_SEQS(f, 1, 5);
	f.since_ns = AT(3);
	ASSERT_SEQS(f, 5);
	return true;
}

TEST(csv_quotes_and_raw_bytes)
{
	static const char header[] = "seq,time,action,result,path,dataset,bytes,reads,pid,tid,"
				     "ppid,comm,uid,euid,gid,loginuid,sessionid,dev,ino,detail,"
				     "person,attribution,team,role,lineage,exe,abi,session,"
				     "discovered,target\n";
	struct query_filter f = any();
	size_t len, records = 0, fields = 1;
	bool quoted = false;
	char *out;

	ASSERT_EQ(run(&f, QUERY_CSV, &out, &len), 0);
	ASSERT_TRUE(!strncmp(out, header, strlen(header)));
	ASSERT_TRUE(strstr(out, "\n4,2026-11-27T06:00:04.000000000Z,open,3,\"/a/b/new\nline\","
				"cohort-a,,,4242,4243,1,cat,1003,0,100,1003,7,2049,123456,,,,,,,"
				"/usr/bin/cat,,,0,\n"));
	ASSERT_TRUE(strstr(out, ",\"/a/b/q\"\"u,o\","));
	ASSERT_TRUE(strstr(out, ",/a/b/bad\xff\xfe name,"));
	ASSERT_TRUE(strstr(out, "\n3,2026-11-27T06:00:03.000000000Z,read,0,/a/b/x.txt,cohort-a,"
				"4096,2,"));
	/* The raw NUL byte of seq 9 is written as it is. */
	ASSERT_TRUE(memmem(out, len, ",/a/b/n\0l,", 10));

	/* Read it back as RFC 4180: 11 records of 30 fields each. */
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '"')
			quoted = !quoted;
		else if (!quoted && out[i] == ',')
			fields++;
		else if (!quoted && out[i] == '\n') {
			ASSERT_EQ(fields, 30);
			records++;
			fields = 1;
		}
	}
	ASSERT_TRUE(!quoted);
	ASSERT_EQ(records, 11);
	free(out);
	return true;
}

TEST(table_cannot_be_forged)
{
	struct query_filter f = any();
	char *out;
	size_t len;

	ASSERT_EQ(run(&f, QUERY_TABLE, &out, &len), 0);
	/* A header and one line per record, whatever the names hold. */
	ASSERT_EQ(count_char(out, len, '\n'), 11);
	ASSERT_TRUE(!strncmp(out, "TIME ", 5));
	ASSERT_TRUE(strstr(out, "/a/b/new\\x0aline"));
	ASSERT_TRUE(strstr(out, "/a/b/bad\\xff\\xfe name"));
	ASSERT_TRUE(strstr(out, "/a/b/n\\x00l"));
	ASSERT_TRUE(strstr(out, "ev\\x1b[31mil"));
	ASSERT_TRUE(!memchr(out, '\x1b', len));
	ASSERT_TRUE(!memchr(out, '\0', len));
	ASSERT_TRUE(strstr(out, "2026-11-27T06:00:01Z open"));
	ASSERT_TRUE(strstr(out, "/a/b/x.txt (deleted)\n"));
	ASSERT_TRUE(strstr(out, "counter=ring_full"));
	free(out);
	return true;
}

TEST(no_rows_prints_only_headers)
{
	struct query_filter f = any();
	char *out;
	size_t len;

	f.uid = 999999;
	ASSERT_EQ(run(&f, QUERY_JSON, &out, &len), 0);
	ASSERT_EQ(len, 0);
	free(out);
	ASSERT_EQ(run(&f, QUERY_CSV, &out, &len), 0);
	ASSERT_EQ(count_char(out, len, '\n'), 1);
	free(out);
	ASSERT_EQ(run(&f, QUERY_TABLE, &out, &len), 0);
	ASSERT_EQ(count_char(out, len, '\n'), 1);
	ASSERT_TRUE(!strncmp(out, "TIME ", 5));
	free(out);
	return true;
}

TEST(missing_db_is_not_created)
{
	struct query_filter f = any();
	char path[sizeof(db)];
	FILE *out;
	int err;

	test_db();
	snprintf(path, sizeof(path), "%s/missing.db", tmpdir);
	out = fopen("/dev/null", "w");
	ASSERT_TRUE(out);
	err = query_file(path, &f, QUERY_JSON, out);
	fclose(out);
	ASSERT_EQ(err, -ENOENT);
	ASSERT_TRUE(access(path, F_OK) && errno == ENOENT);
	return true;
}

TEST(junk_file_is_an_error)
{
	struct query_filter f = any();
	char path[sizeof(db)];
	FILE *junk, *out;
	int err;

	test_db();
	snprintf(path, sizeof(path), "%s/junk.db", tmpdir);
	junk = fopen(path, "w");
	ASSERT_TRUE(junk);
	fputs("this is not an SQLite database, but it is long enough to look like one......"
	      "...............................................................................",
	      junk);
	fclose(junk);
	out = fopen("/dev/null", "w");
	ASSERT_TRUE(out);
	err = query_file(path, &f, QUERY_JSON, out);
	fclose(out);
	ASSERT_TRUE(err < 0);
	return true;
}

TEST(write_error_is_eio)
{
	struct query_filter f = any();
	FILE *out;
	int err;

	test_db();
	out = fopen("/dev/full", "w");
	ASSERT_TRUE(out);
	err = query_file(db, &f, QUERY_TABLE, out);
	fclose(out);
	ASSERT_EQ(err, -EIO);
	return true;
}

TEST(filter_dataset)
{
	struct query_filter f = any();

	f.dataset = "one";
	ASSERT_SORTED(f, 1, 2, 6, 7, 9);
	f.dataset = "two";
	ASSERT_SORTED(f, 3, 4, 5, 8);
	/* A label, not a prefix of one. */
	f.dataset = "on";
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	f.dataset = "cohort-a";
	ASSERT_SEQS(f, 1, 2, 3, 4, 5, 7, 8, 9);
	return true;
}

TEST(filter_glob)
{
	struct query_filter f = any();

	f.glob = "*.csv";
	ASSERT_SORTED(f, 1, 2, 4, 6, 7, 8, 9);
	/* '*' crosses '/', '?' is one character. */
	f.glob = "/d/one/*";
	ASSERT_SORTED(f, 1, 2, 6, 7, 9);
	f.glob = "/d/one/?.csv";
	ASSERT_SORTED(f, 1, 2, 9);
	/* The whole path must match: no prefix match. */
	f.glob = "/d/one";
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	f.glob = "/d/*/[ab].*";
	ASSERT_SORTED(f, 1, 2, 3, 5, 9);
	/* The shell's negation, "[!...]", and SQLite's, "[^...]". */
	f.glob = "/d/*/[!ab].csv";
	ASSERT_SORTED(f, 4, 6, 7);
	f.glob = "/d/*/[^ab].csv";
	ASSERT_SORTED(f, 4, 6, 7);
	/* A '[' in a name is matched by a class holding it. */
	f.glob = "*/[[]x].csv";
	ASSERT_SORTED(f, 8);
	/* With --path: both must hold. */
	f.glob = "*.csv";
	f.path_prefix = "/d/two";
	ASSERT_SORTED(f, 4, 8);

	/* Raw bytes: invalid UTF-8 matches as it is; "/a/b/n\0l" matches no pattern. */
	f = any();
	f.glob = "/a/b/bad* name";
	ASSERT_SEQS(f, 5);
	f.glob = "/a/b/*";
	ASSERT_SEQS(f, 1, 3, 4, 5, 8);
	f.glob = "/a/b/n";
	ASSERT_NO_ROWS(f);
	f.glob = "/a/b/new?line";
	ASSERT_SEQS(f, 4);
	/* Case matters. */
	f.glob = "/A/*";
	ASSERT_NO_ROWS(f);
	return true;
}

TEST(filter_exe)
{
	struct query_filter f = any();

	f.exe = "/usr/bin/cat";
	ASSERT_SORTED(f, 1, 2);
	f.exe = "/usr/bin/catalog";
	ASSERT_SORTED(f, 6);
	/* A final '/' is a directory: "/usr/binx/y" is not below "/usr/bin/". */
	f.exe = "/usr/bin/";
	ASSERT_SORTED(f, 1, 2, 6);
	f.exe = "/usr/bin//";
	ASSERT_SORTED(f, 1, 2, 6);
	f.exe = "/usr/";
	ASSERT_SORTED(f, 1, 2, 3, 5, 6, 7, 9);
	f.exe = "/usr/bin";
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	f.exe = "/";
	ASSERT_SORTED(f, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	return true;
}

TEST(filter_comm)
{
	struct query_filter f = any();

	f.comm = "cat";
	ASSERT_SORTED(f, 1, 2);
	f.comm = "python3";
	ASSERT_SORTED(f, 4, 8);
	f.comm = "ca";
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	/* Bytes as stored, escape sequence and all. */
	f.comm = "ev\x1b[31mil";
	ASSERT_SEQS(f, 8);
	return true;
}

TEST(filter_loginuid)
{
	struct query_filter f = any();

	f.loginuid = 1002;
	ASSERT_SORTED(f, 4, 7, 9);
	f.loginuid = UINT32_MAX;
	ASSERT_SORTED(f, 3, 5);
	/* loginuid, not uid: every access of this ledger has uid 1001. */
	f.loginuid = 1001;
	ASSERT_SORTED(f, 1, 2, 8);
	f.loginuid = 0;
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	return true;
}

TEST(filter_action_list)
{
	struct query_filter f = any();

	f.action = "open,read";
	ASSERT_SORTED(f, 1, 2, 3, 4, 5, 6, 7);
	f.action = "mmap,loss";
	ASSERT_SORTED(f, 0, 8);
	/* Whole names: "read" is not "read_call", and a repeat changes nothing. */
	f.action = "read,read";
	ASSERT_SORTED(f, 2, 5, 7);
	f.action = "read_call";
	ASSERT_SORTED(f, 9);
	f.action = "start,loss";
	ASSERT_SEQS(f, 0, 6);
	return true;
}

TEST(filter_result)
{
	struct query_filter f = any();

	f.result = QUERY_RESULT_OK;
	ASSERT_SORTED(f, 1, 2, 5, 7, 8, 9);
	f.result = QUERY_RESULT_FAILED;
	ASSERT_SORTED(f, 3, 4, 6);
	/* -EACCES and -EPERM, not -ENOENT. */
	f.result = QUERY_RESULT_DENIED;
	ASSERT_SORTED(f, 3, 4);
	f.result = QUERY_RESULT_EQ;
	f.result_value = -2;
	ASSERT_SORTED(f, 6);
	f.result_value = 3;
	ASSERT_SORTED(f, 1);
	f.result_value = -13;
	ASSERT_SEQS(f, 2);
	f.result_value = -22;
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	return true;
}

TEST(filter_host)
{
	struct query_filter f = any();

	f.host = "lab1";
	ASSERT_SEQS(f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	f.host = "lab";
	ASSERT_NO_ROWS(f);
	f.host = "lab2";
	ASSERT_NO_ROWS(f);
	/* A ledger that names no host matches no host. */
	f.host = "lab1";
	ASSERT_NO_ROWS_ON(test_sort_db(), f);
	f.host = NULL;
	ASSERT_SORTED(f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	/* With another filter. */
	f.host = "lab1";
	f.action = "read";
	ASSERT_SEQS(f, 3);
	return true;
}

/* Times as a person types them, through query__set, now being AT(10). */
TEST(filter_human_times)
{
	struct query_filter f = any();
	const char *why = NULL;

	ASSERT_EQ(query__set(&f, "until", "2026-11-27", AT(10), &why), 0);
	/* A date is the start of that day, UTC: 06:00 is six hours into it. */
	ASSERT_EQ(f.until_ns, T_BASE - 6 * 3600 * NS);
	ASSERT_NO_ROWS(f);
	ASSERT_EQ(query__set(&f, "since", "2026-11-27", AT(10), &why), 0);
	ASSERT_EQ(query__set(&f, "until", "2026-11-28", AT(10), &why), 0);
	ASSERT_SEQS(f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	ASSERT_EQ(query__set(&f, "until", "2026-11-27 06:00:05", AT(10), &why), 0);
	ASSERT_SEQS(f, 0, 1, 2, 3, 4);

	f = any();
	ASSERT_EQ(query__set(&f, "since", "5s", AT(10), &why), 0);
	ASSERT_SEQS(f, 5, 6, 7, 8, 9);
	ASSERT_EQ(query__set(&f, "since", "@1795759203", AT(10), &why), 0);
	ASSERT_EQ(query__set(&f, "until", "2026-11-27T06:00:04Z", AT(10), &why), 0);
	ASSERT_SEQS(f, 3);
	return true;
}

TEST(sort_orders)
{
	struct query_filter f = any();

	ASSERT_SORTED(f, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	f.sort_desc = 1;
	ASSERT_SORTED(f, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	/* Rows without the key last; ties (2 and 7: 500 bytes) in seq order both ways. */
	f.sort = QUERY_SORT_BYTES;
	f.sort_desc = 0;
	ASSERT_SORTED(f, 9, 2, 7, 5, 0, 1, 3, 4, 6, 8);
	f.sort_desc = 1;
	ASSERT_SORTED(f, 5, 2, 7, 9, 0, 1, 3, 4, 6, 8);
	/* Paths in byte order: '[' sorts before 'b'. */
	f.sort = QUERY_SORT_PATH;
	f.sort_desc = 0;
	ASSERT_SORTED(f, 1, 2, 9, 6, 7, 8, 3, 5, 4, 0);
	f.sort_desc = 1;
	ASSERT_SORTED(f, 4, 3, 5, 8, 6, 7, 1, 2, 9, 0);
	/* Unattributed accesses (3, 5) have no person. */
	f.sort = QUERY_SORT_PERSON;
	f.sort_desc = 0;
	ASSERT_SORTED(f, 6, 1, 2, 8, 4, 7, 9, 0, 3, 5);
	f.sort_desc = 1;
	ASSERT_SORTED(f, 4, 7, 9, 1, 2, 8, 6, 0, 3, 5);
	f.sort = QUERY_SORT_PID;
	f.sort_desc = 0;
	ASSERT_SORTED(f, 3, 5, 4, 8, 7, 9, 1, 2, 6, 0);
	f.sort_desc = 1;
	ASSERT_SORTED(f, 6, 1, 2, 7, 9, 4, 8, 3, 5, 0);
	/* Sorting applies to the filtered rows. */
	f.action = "read";
	f.sort = QUERY_SORT_BYTES;
	ASSERT_SORTED(f, 5, 2, 7);
	return true;
}

TEST(sort_applies_to_every_format)
{
	struct query_filter f = any();
	char *out, *big, *small;
	size_t len;

	f.sort = QUERY_SORT_BYTES;
	f.sort_desc = 1;
	ASSERT_EQ(run_on(test_sort_db(), &f, QUERY_CSV, &out, &len), 0);
	big = strstr(out, "\n5,");
	small = strstr(out, "\n9,");
	ASSERT_TRUE(big && small && big < small);
	free(out);
	ASSERT_EQ(run_on(test_sort_db(), &f, QUERY_TABLE, &out, &len), 0);
	big = strstr(out, " 9000 /d/two/b.txt\n");
	small = strstr(out, " 100 /d/one/a.csv\n");
	ASSERT_TRUE(big && small && big < small);
	free(out);
	return true;
}

TEST(limit_after_sort)
{
	struct query_filter f = any();
	char *out;
	size_t len;

	f.limit = 3;
	ASSERT_SORTED(f, 0, 1, 2);
	f.limit = 1;
	ASSERT_SORTED(f, 0);
	f.sort = QUERY_SORT_BYTES;
	f.sort_desc = 1;
	f.limit = 2;
	ASSERT_SORTED(f, 5, 2);
	f.sort_desc = 0;
	ASSERT_SORTED(f, 9, 2);
	/* After the filters, too. */
	f.action = "open";
	f.sort = QUERY_SORT_TIME;
	f.sort_desc = 1;
	ASSERT_SORTED(f, 6, 4);
	/* More than there are: all of them. */
	f.limit = 1000;
	ASSERT_SORTED(f, 6, 4, 3, 1);
	/* The table and CSV count rows, not lines of header. */
	f.limit = 2;
	ASSERT_EQ(run_on(test_sort_db(), &f, QUERY_CSV, &out, &len), 0);
	ASSERT_EQ(count_char(out, len, '\n'), 3);
	free(out);
	ASSERT_EQ(run_on(test_sort_db(), &f, QUERY_TABLE, &out, &len), 0);
	ASSERT_EQ(count_char(out, len, '\n'), 3);
	free(out);
	return true;
}

/* query__set with a good value sets the filter as query__run reads it. */
TEST(set_parses_values)
{
	struct query_filter f = any();
	const char *why = NULL;

	ASSERT_EQ(query__set(&f, "result", "ok", 0, &why), 0);
	ASSERT_EQ(f.result, QUERY_RESULT_OK);
	ASSERT_EQ(query__set(&f, "result", "failed", 0, &why), 0);
	ASSERT_EQ(f.result, QUERY_RESULT_FAILED);
	ASSERT_EQ(query__set(&f, "result", "denied", 0, &why), 0);
	ASSERT_EQ(f.result, QUERY_RESULT_DENIED);
	ASSERT_EQ(query__set(&f, "result", "-13", 0, &why), 0);
	ASSERT_EQ(f.result, QUERY_RESULT_EQ);
	ASSERT_EQ(f.result_value, -13);
	ASSERT_EQ(query__set(&f, "result", "0", 0, &why), 0);
	ASSERT_EQ(f.result_value, 0);
	ASSERT_EQ(query__set(&f, "sort", "-bytes", 0, &why), 0);
	ASSERT_EQ(f.sort, QUERY_SORT_BYTES);
	ASSERT_EQ(f.sort_desc, 1);
	ASSERT_EQ(query__set(&f, "sort", "person", 0, &why), 0);
	ASSERT_EQ(f.sort, QUERY_SORT_PERSON);
	ASSERT_EQ(f.sort_desc, 0);
	ASSERT_EQ(query__set(&f, "sort", "-time", 0, &why), 0);
	ASSERT_EQ(f.sort, QUERY_SORT_TIME);
	ASSERT_EQ(f.sort_desc, 1);
	ASSERT_EQ(query__set(&f, "limit", "25", 0, &why), 0);
	ASSERT_EQ(f.limit, 25);
	ASSERT_EQ(query__set(&f, "loginuid", "4294967295", 0, &why), 0);
	ASSERT_EQ(f.loginuid, UINT32_MAX);
	ASSERT_EQ(query__set(&f, "action", "open,read,read_call", 0, &why), 0);
	ASSERT_STREQ(f.action, "open,read,read_call");
	ASSERT_EQ(query__set(&f, "glob", "/srv/*/[!.]*", 0, &why), 0);
	ASSERT_STREQ(f.glob, "/srv/*/[!.]*");
	ASSERT_EQ(query__set(&f, "comm", "fifteen-bytes-x", 0, &why), 0);
	ASSERT_STREQ(f.comm, "fifteen-bytes-x");
	ASSERT_EQ(query__set(&f, "exe", "/usr/bin/", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "host", "lab1", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "dataset", "one", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "path", "/d", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "sort", "path", 0, &why), 0);
	ASSERT_EQ(query__set(&f, "limit", "2", 0, &why), 0);
	/* Everything set above at once: dataset one, below /d/, of /usr/bin/ (not
	 * "/usr/binx/"), open or read, the first two by path. */
	f.comm = NULL;
	f.glob = NULL;
	f.host = NULL;
	f.result = QUERY_RESULT_ANY;
	f.loginuid = -1;
	ASSERT_SORTED(f, 1, 2);
	return true;
}

/* Whether query__set refuses opt=arg with a one-line, lowercase reason, leaving f as it was. */
static bool refused(const char *opt, const char *arg)
{
	struct query_filter f = any(), before = any();
	const char *why = NULL;
	int err = query__set(&f, opt, arg, AT(10), &why);

	if (err != -EINVAL || !why || !*why || strchr(why, '\n') || why[strlen(why) - 1] == '.' ||
	    (why[0] != '-' && (why[0] < 'a' || why[0] > 'z')) || !strstr(why, opt) ||
	    memcmp(&f, &before, sizeof(f))) {
		fprintf(stderr, "  --%s '%s': %d, \"%s\"\n", opt, arg, err, why ? why : "(null)");
		return false;
	}
	return true;
}

TEST(bad_input_is_refused)
{
	static const char *const bad[][2] = {
		{ "limit", "0" },
		{ "limit", "-1" },
		{ "limit", "ten" },
		{ "limit", "" },
		{ "limit", "5x" },
		{ "result", "maybe" },
		{ "result", "" },
		{ "result", "-13x" },
		{ "result", "OK" },
		{ "result", "99999999999" },
		{ "sort", "size" },
		{ "sort", "" },
		{ "sort", "-" },
		{ "sort", "--bytes" },
		{ "sort", "Bytes" },
		{ "sort", "bytes,pid" },
		{ "action", "" },
		{ "action", "opne" },
		{ "action", "open," },
		{ "action", ",open" },
		{ "action", "open,,read" },
		{ "action", "open read" },
		{ "action", "anchor" },
		{ "glob", "" },
		{ "glob", "/a/[bc" },
		{ "glob", "*[!" },
		{ "dataset", "" },
		{ "exe", "" },
		{ "exe", "bin/cat" },
		{ "comm", "" },
		{ "comm", "sixteen-bytes-xy" },
		{ "host", "" },
		{ "loginuid", "-1" },
		{ "loginuid", "4294967296" },
		{ "loginuid", "me" },
		{ "uid", "" },
		{ "path", "" },
		{ "person", "" },
		{ "team", "" },
		{ "role", "" },
		{ "since", "yesterdayish" },
		{ "until", "" },
		{ "until", "2026-13-01" },
		{ "abi", "" },
		{ "abi", "amd64" },
		{ "abi", "x86_64,i386" },
		{ "abi", "X32" },
		{ "session", "" },
		{ "session", "0" },
		{ "session", "-1" },
		{ "session", "007" },
		{ "session", "5x" },
		{ "session", "18446744073709551616" },
	};
	struct query_filter f = any();
	const char *why = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_TRUE(refused(bad[i][0], bad[i][1]));
	/* Not a filter option at all: custos reports those itself. */
	ASSERT_EQ(query__set(&f, "format", "json", 0, &why), -ENOENT);
	ASSERT_EQ(query__set(&f, "frobnicate", "1", 0, &why), -ENOENT);
	return true;
}

RUN_TESTS(T(json_has_every_key), T(json_access_values), T(json_read_session),
	  T(json_abi_session_discovered_target), T(filter_abi_session_and_link_actions),
	  T(csv_and_table_show_the_new_fields), T(json_lifecycle_rows),
	  T(json_path_bytes_round_trip), T(filter_path_prefix), T(filter_uid_matches_uid_or_euid),
	  T(filter_action), T(filter_since_until), T(filters_combine), T(csv_quotes_and_raw_bytes),
	  T(table_cannot_be_forged), T(no_rows_prints_only_headers), T(missing_db_is_not_created),
	  T(junk_file_is_an_error), T(write_error_is_eio), T(filter_dataset), T(filter_glob),
	  T(filter_exe), T(filter_comm), T(filter_loginuid), T(filter_action_list),
	  T(filter_result), T(filter_host), T(filter_human_times), T(sort_orders),
	  T(sort_applies_to_every_format), T(limit_after_sort), T(set_parses_values),
	  T(bad_input_is_refused))
