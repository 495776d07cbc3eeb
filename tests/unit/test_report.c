// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the SQL views (collector/views.c), read through the stock
 * sqlite3 shell as an auditor would, and of custos report
 * (collector/report.c), on one small ledger written with the store module.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custos/abi.h"
#include "record.h"
#include "report.h"
#include "store.h"
#include "records.h"
#include "test.h"
#include "util.h"

#define NS 1000000000LL
/* 2026-11-27T00:00:00Z, a Friday */
#define FRI	    (1795737600LL * NS)
#define AT(d, h, m) (FRI + ((d)*86400LL + (h)*3600LL + (m)*60LL) * NS)

/* A name built to break things: markup, an ampersand, a quote, an escape
 * sequence and a byte that is not UTF-8. */
static const char evil[] = "/srv/cust/<b>&\"x\x1b[31m\xff.csv";

static char tmpdir[] = "/tmp/custos-test-report-XXXXXX";
static char db[sizeof(tmpdir) + 32], html[sizeof(tmpdir) + 32], sessions_db[sizeof(tmpdir) + 32];
static bool tmpdir_ready;

static void remove_tmpdir(void)
{
	static const char *const names[] = { "r.db",	 "r.db-wal", "r.db-shm", "s.db",
					     "s.db-wal", "s.db-shm", "r.html" };
	char p[sizeof(db)];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* Who each access is by: staff ids, teams, and how they were found. */
enum who { ALICE, BOB_LEFT, NOBODY };

static struct record make_access(uint32_t op, int64_t t, const char *path, const char *dataset,
				 enum who who)
{
	struct record r = { .type = REC_FILE_ACCESS, .t_real_ns = t + 1000, .t_boot_ns = 1000 };
	struct rec_access *a = &r.access;

	a->event_ns = t;
	a->op = op;
	a->result = op == OP_OPEN ? 3 : 0;
	a->pid = 100 + who;
	a->tid = a->pid;
	a->ppid = 1;
	a->uid = who == ALICE ? 1001 : who == BOB_LEFT ? 0 : 4242;
	a->euid = a->uid;
	a->loginuid = who == ALICE ? 1001 : who == BOB_LEFT ? 1002 : UINT32_MAX;
	a->dev = 2049;
	a->ino = 77;
	a->dataset = str(dataset);
	a->comm = str("cat");
	a->path = str(path);
	a->min_offset = UINT64_MAX;
	a->attribution = str(who == NOBODY ? "unattributed" : "loginuid");
	if (who == ALICE) {
		a->person = str("e1001");
		a->team = str("ops");
	} else if (who == BOB_LEFT) {
		a->person = str("e1002");
		a->team = str("data");
		a->staff_flags = RECORD_STAFF_LEFT;
	}
	return r;
}

static struct record read_session(int64_t t, const char *path, const char *dataset, enum who who,
				  uint64_t bytes, int partial)
{
	struct record r = make_access(OP_READ, t, path, dataset, who);

	r.access.bytes = bytes;
	r.access.reads = 2;
	r.access.first_ns = t - NS;
	r.access.last_ns = t;
	r.access.partial = partial;
	r.access.min_offset = 0;
	r.access.max_offset = bytes;
	return r;
}

/*
 * seq 0 START; Alice on Friday morning: 1 open, 2 read 1000, 3 a progress
 * report of 500, 4 its final 700, 5 a failed open in hr, 6 a single read call
 * of 100 (--fine-reads), 7 an mmap; Bob, who has left, on Friday night: 8
 * open, 9 read 2000; uid 4242 on Saturday: 10 open, 11 read 300 of the evil
 * name; 12 GAP (crash, 90 s); 13 LOSS; 14 an ALERT on the failed open (5).
 */
static int write_db(const char *path)
{
	struct record recs[15];

	recs[0] = (struct record){ .type = REC_START, .t_real_ns = AT(0, 8, 0) };
	recs[0].start.abi_version = CUSTOS_ABI_VERSION;
	recs[0].start.host = str("lab1");
	recs[0].start.version = str("0.1");
	recs[0].start.backend = str("tracepoints");
	recs[1] = make_access(OP_OPEN, AT(0, 9, 0), "/srv/cust/a.csv", "customers", ALICE);
	recs[2] = read_session(AT(0, 9, 1), "/srv/cust/a.csv", "customers", ALICE, 1000, 0);
	recs[3] = read_session(AT(0, 9, 2), "/srv/cust/b.csv", "customers", ALICE, 500, 1);
	recs[4] = read_session(AT(0, 9, 3), "/srv/cust/b.csv", "customers", ALICE, 700, 0);
	recs[5] = make_access(OP_OPEN, AT(0, 10, 0), "/srv/hr/secret", "hr", ALICE);
	recs[5].access.result = -13;
	recs[6] = read_session(AT(0, 10, 30), "/srv/cust/a.csv", "customers", ALICE, 100, 0);
	recs[6].access.op = OP_READ_CALL;
	recs[7] = make_access(OP_MMAP, AT(0, 11, 0), "/srv/cust/a.csv", "customers", ALICE);
	recs[8] = make_access(OP_OPEN, AT(0, 22, 30), "/srv/hr/pay.csv", "hr", BOB_LEFT);
	recs[9] = read_session(AT(0, 22, 31), "/srv/hr/pay.csv", "hr", BOB_LEFT, 2000, 0);
	recs[10] = make_access(OP_OPEN, AT(1, 10, 0), evil, "customers", NOBODY);
	recs[11] = read_session(AT(1, 10, 1), evil, "customers", NOBODY, 300, 0);
	recs[12] = (struct record){ .type = REC_GAP, .t_real_ns = AT(1, 12, 0) };
	recs[12].gap.from_ns = AT(1, 11, 58);
	recs[12].gap.to_ns = AT(1, 11, 59) + NS / 2;
	recs[12].gap.reason = str("crash");
	recs[13] = (struct record){ .type = REC_LOSS, .t_real_ns = AT(1, 12, 5) };
	recs[13].loss.cpu = 1;
	recs[13].loss.counter = CUSTOS_STAT_RB_FULL;
	recs[13].loss.count = 5;
	recs[13].loss.total = 7;
	recs[14] = (struct record){ .type = REC_ALERT, .t_real_ns = AT(1, 12, 6) };
	recs[14].alert.rule = str("denied");
	recs[14].alert.severity = SEV_CRITICAL;
	recs[14].alert.summary = str("a refused open");
	recs[14].alert.cause_seq = 5;
	recs[14].alert.count = 1;
	recs[14].alert.person = str("e1001");
	recs[14].alert.dataset = str("hr");
	recs[14].alert.path = str("/srv/hr/secret");

	return write_records(path, recs, sizeof(recs) / sizeof(recs[0]));
}

static void make_tmpdir(void)
{
	if (tmpdir_ready)
		return;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(remove_tmpdir);
	snprintf(html, sizeof(html), "%s/r.html", tmpdir);
	tmpdir_ready = true;
}

static const char *test_db(void)
{
	make_tmpdir();
	return ledger_once(db, sizeof(db), tmpdir, "r.db", write_db);
}

/* A read record of the kernel's read session `session` of boot `boot`. */
static struct record session_read(int64_t t, const char *path, enum who who, uint8_t boot,
				  uint64_t session, uint64_t bytes, int partial)
{
	struct record r = read_session(t, path, "customers", who, bytes, partial);

	memset(r.boot_id, boot, sizeof(r.boot_id));
	r.access.session = session;
	r.access.abi = CUSTOS_ABI_X86_64;
	return r;
}

static struct record session_open(int64_t t, const char *path, enum who who, uint64_t session)
{
	struct record r = make_access(OP_OPEN, t, path, "customers", who);

	memset(r.boot_id, 0xa1, sizeof(r.boot_id));
	r.access.session = session;
	r.access.abi = CUSTOS_ABI_X86_64;
	return r;
}

/*
 * A ledger of read sessions, Friday from 09:00, for counting bytes once.
 * Boot a1: Alice's session 7 of a.csv: progress reports of 100 (3) and 250
 * (5), a single read call of 5 (6), its final record of 300 (8).  Session 8
 * of b.csv, an open found at its first read through i386 calls (2): reports
 * of 400 (4) and 900 (7) and no final one (custosd stopped).  Two sessions
 * of c.csv: 9 (opened 9, report of 50 at 11, final 60 at 13) and 10
 * (opened 10, final 70 at 12).  Records from before sessions had ids
 * (session 0) of d.csv: a report of 1000 (14), a final 20 (15).  Bob links
 * a.csv out of the tree (16) and fails to rename b.csv out of it (17).
 * Boot b2, after a reboot: Bob's session 7 (the same id) of a.csv, one
 * report of 11 (18).  Counted once each: 300 + 900 + 60 + 70 + 20 (Alice)
 * and 11 (Bob).
 */
static int write_sessions_db(const char *path)
{
	struct record recs[19];

	recs[0] = (struct record){ .type = REC_START, .t_real_ns = AT(0, 8, 0) };
	recs[0].start.host = str("lab2");
	recs[1] = session_open(AT(0, 9, 0), "/srv/s/a.csv", ALICE, 7);
	recs[2] = session_open(AT(0, 9, 1), "/srv/s/b.csv", ALICE, 8);
	recs[2].access.abi = CUSTOS_ABI_I386;
	recs[2].access.access_flags = RECORD_ACCESS_DISCOVERED;
	recs[3] = session_read(AT(0, 9, 2), "/srv/s/a.csv", ALICE, 0xa1, 7, 100, 1);
	recs[4] = session_read(AT(0, 9, 3), "/srv/s/b.csv", ALICE, 0xa1, 8, 400, 1);
	recs[4].access.abi = CUSTOS_ABI_I386;
	recs[5] = session_read(AT(0, 9, 4), "/srv/s/a.csv", ALICE, 0xa1, 7, 250, 1);
	recs[6] = session_read(AT(0, 9, 5), "/srv/s/a.csv", ALICE, 0xa1, 7, 5, 0);
	recs[6].access.op = OP_READ_CALL;
	recs[7] = session_read(AT(0, 9, 6), "/srv/s/b.csv", ALICE, 0xa1, 8, 900, 1);
	recs[7].access.abi = CUSTOS_ABI_I386 | CUSTOS_ABI_X86_64;
	recs[8] = session_read(AT(0, 9, 7), "/srv/s/a.csv", ALICE, 0xa1, 7, 300, 0);
	recs[9] = session_open(AT(0, 9, 8), "/srv/s/c.csv", ALICE, 9);
	recs[10] = session_open(AT(0, 9, 9), "/srv/s/c.csv", ALICE, 10);
	recs[11] = session_read(AT(0, 9, 10), "/srv/s/c.csv", ALICE, 0xa1, 9, 50, 1);
	recs[12] = session_read(AT(0, 9, 11), "/srv/s/c.csv", ALICE, 0xa1, 10, 70, 0);
	recs[13] = session_read(AT(0, 9, 12), "/srv/s/c.csv", ALICE, 0xa1, 9, 60, 0);
	recs[14] = session_read(AT(0, 9, 13), "/srv/s/d.csv", ALICE, 0xa1, 0, 1000, 1);
	recs[15] = session_read(AT(0, 9, 14), "/srv/s/d.csv", ALICE, 0xa1, 0, 20, 0);
	recs[16] = session_open(AT(0, 9, 15), "/srv/s/a.csv", BOB_LEFT, 0);
	recs[16].access.op = OP_LINK;
	recs[16].access.result = 0;
	recs[16].access.target = str("/tmp/a.csv");
	recs[16].access.target_flags = CUSTOS_PATH_UNRESOLVED;
	recs[17] = session_open(AT(0, 9, 16), "/srv/s/b.csv", BOB_LEFT, 0);
	recs[17].access.op = OP_RENAME;
	recs[17].access.result = -18;
	recs[17].access.target = str("/home/bob/b.csv");
	recs[18] = session_read(AT(0, 9, 17), "/srv/s/a.csv", BOB_LEFT, 0xb2, 7, 11, 1);
	return write_records(path, recs, sizeof(recs) / sizeof(recs[0]));
}

static const char *test_sessions_db(void)
{
	make_tmpdir();
	return ledger_once(sessions_db, sizeof(sessions_db), tmpdir, "s.db", write_sessions_db);
}

/* The output of a command, NUL-terminated, in a static buffer; NULL on failure. */
static const char *command(const char *cmd)
{
	static char out[16384];
	size_t n;
	FILE *p = popen(cmd, "r");

	if (!p)
		return NULL;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0) {
		fprintf(stderr, "  %s failed: %s\n", cmd, out);
		return NULL;
	}
	return out;
}

/* What the stock shell prints for sql on the ledger at path, opened read-only. */
static const char *shell_on(const char *path, const char *sql)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "sqlite3 -readonly -batch -separator '|' '%s' \"%s\" 2>&1", path,
		 sql);
	return command(cmd);
}

static const char *shell(const char *sql)
{
	return shell_on(test_db(), sql);
}

static struct report_opts defaults(void)
{
	struct report_opts o = report__defaults();

	o.db = test_db();
	return o;
}

/* Run a report into memory; the caller frees *out. */
static int report(const struct report_opts *o, char **out)
{
	size_t len;
	FILE *mem = open_memstream(out, &len);
	int err;

	if (!mem)
		return -errno;
	err = report_file(o, mem);
	fclose(mem);
	return err;
}

/* The text of section title in a terminal report, up to the next section. */
static char *section(const char *text, const char *title)
{
	char head[128], *s, *end;

	snprintf(head, sizeof(head), "\n== %s ==\n", title);
	s = strstr(text, head);
	if (!s)
		return NULL;
	s = strdup(s + strlen(head));
	if (s && (end = strstr(s, "\n== ")))
		end[0] = '\0';
	return s;
}

/* Whether some line of text has every one of the words, in order. */
static bool has_line(const char *text, const char *const *words, size_t n)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n'), *at = line;
		size_t len = nl ? (size_t)(nl - line) : strlen(line), i;
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		for (i = 0, at = buf; i < n && (at = strstr(at, words[i])); i++)
			at += strlen(words[i]);
		if (i == n)
			return true;
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

#define ASSERT_LINE(text, ...)                                                                     \
	do {                                                                                       \
		static const char *const _w[] = { __VA_ARGS__ };                                   \
		if (!has_line(text, _w, sizeof(_w) / sizeof(_w[0]))) {                             \
			fprintf(stderr, "  no line with " #__VA_ARGS__ " in:\n%s\n", text);        \
			return false;                                                              \
		}                                                                                  \
	} while (0)

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(views_exist_for_the_stock_shell)
{
	ASSERT_STREQ(shell("SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name"),
		     "accesses\nalerts\ngaps_losses\nperson_dataset\n");
	return true;
}

TEST(alerts_view_rows)
{
	ASSERT_STREQ(shell("SELECT seq, time, rule, severity, description, cause_seq, count,"
			   " bytes, window_s, person, dataset, path FROM alerts"),
		     "14|2026-11-28T12:06:00.000000000Z|denied|critical|a refused open|5|1|0|0|"
		     "e1001|hr|/srv/hr/secret\n");
	return true;
}

TEST(accesses_view_rows)
{
	ASSERT_STREQ(
		shell("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM accesses"),
		"11|11|1|11\n");
	ASSERT_STREQ(shell("SELECT seq, time, time_ns, host, action, result, path, dataset, bytes,"
			   " reads, partial, pid, comm, uid, loginuid, person, team, attribution,"
			   " left FROM accesses WHERE seq IN (1, 3, 5, 9, 11) ORDER BY seq"),
		     "1|2026-11-27T09:00:00.000000000Z|1795770000000000000|lab1|open|3|"
		     "/srv/cust/a.csv|customers||||100|cat|1001|1001|e1001|ops|loginuid|0\n"
		     "3|2026-11-27T09:02:00.000000000Z|1795770120000000000|lab1|read|0|"
		     "/srv/cust/b.csv|customers|500|2|1|100|cat|1001|1001|e1001|ops|loginuid|0\n"
		     "5|2026-11-27T10:00:00.000000000Z|1795773600000000000|lab1|open|-13|"
		     "/srv/hr/secret|hr||||100|cat|1001|1001|e1001|ops|loginuid|0\n"
		     "9|2026-11-27T22:31:00.000000000Z|1795818660000000000|lab1|read|0|"
		     "/srv/hr/pay.csv|hr|2000|2|0|101|cat|0|1002|e1002|data|loginuid|1\n"
		     "11|2026-11-28T10:01:00.000000000Z|1795860060000000000|lab1|read|0|"
		     "/srv/cust/<b>&\"x\x1b[31m\xff.csv|customers|300|2|0|102|cat|4242|4294967295|"
		     "||unattributed|0\n");
	/* Paths are text holding the stored bytes: = and LIKE work as an auditor expects. */
	ASSERT_STREQ(shell("SELECT group_concat(seq) FROM accesses WHERE path = '/srv/hr/pay.csv'"),
		     "8,9\n");
	ASSERT_STREQ(shell("SELECT hex(path) FROM accesses WHERE seq = 10"),
		     "2F7372762F637573742F3C623E2622781B5B33316DFF2E637376\n");
	ASSERT_STREQ(shell("SELECT first_time, last_time, min_offset, max_offset FROM accesses"
			   " WHERE seq = 2"),
		     "2026-11-27T09:00:59.000000000Z|2026-11-27T09:01:00.000000000Z|0|1000\n");
	return true;
}

/* The columns of ABI 8: the session and its boot, the ABI, discovered, and a
 * link's or rename's new name. */
TEST(accesses_view_new_columns)
{
	ASSERT_STREQ(
		shell_on(test_sessions_db(),
			 "SELECT seq, action, result, path, target, target_flags, abi, session,"
			 " discovered, substr(boot_id, 1, 4) FROM accesses"
			 " WHERE seq IN (1, 2, 6, 7, 14, 16, 17, 18) ORDER BY seq"),
		"1|open|3|/srv/s/a.csv|||x86_64|7|0|a1a1\n"
		"2|open|3|/srv/s/b.csv|||i386|8|1|a1a1\n"
		"6|read_call|0|/srv/s/a.csv|||x86_64|7||a1a1\n"
		"7|read|0|/srv/s/b.csv|||x86_64,i386|8||a1a1\n"
		"14|read|0|/srv/s/d.csv|||x86_64|||a1a1\n"
		"16|link|0|/srv/s/a.csv|/tmp/a.csv|4|x86_64|||a1a1\n"
		"17|rename|-18|/srv/s/b.csv|/home/bob/b.csv|0|x86_64|||a1a1\n"
		"18|read|0|/srv/s/a.csv|||x86_64|7||b2b2\n");
	/* Records of the same session, as an auditor would find them. */
	ASSERT_STREQ(shell_on(test_sessions_db(),
			      "SELECT group_concat(seq) FROM accesses WHERE session = 7"
			      " AND boot_id = (SELECT boot_id FROM accesses WHERE seq = 1)"),
		     "1,3,5,6,8\n");
	return true;
}

/* A session's bytes count once: its final record, else its latest progress
 * report; per (boot, session); session 0 as before ids (final records only);
 * read calls never. */
TEST(views_count_each_session_once)
{
	ASSERT_STREQ(shell_on(test_sessions_db(),
			      "SELECT group_concat(seq || ':' || counted, ' ') FROM accesses"
			      " WHERE action IN ('read', 'read_call')"),
		     "3:0 4:0 5:0 6:0 7:1 8:1 11:0 12:1 13:1 14:0 15:1 18:1\n");
	ASSERT_STREQ(
		shell_on(test_sessions_db(), "SELECT count(*) FROM accesses WHERE counted IS NULL"),
		"6\n");
	ASSERT_STREQ(shell_on(test_sessions_db(),
			      "SELECT * FROM person_dataset ORDER BY person, dataset"),
		     "e1001|customers|4|0|5|1350|0|2026-11-27T09:00:00.000000000Z|"
		     "2026-11-27T09:14:00.000000000Z\n"
		     "e1002|customers|0|0|1|11|0|2026-11-27T09:15:00.000000000Z|"
		     "2026-11-27T09:17:00.000000000Z\n");
	/* The ledger of session-less records is counted as before. */
	ASSERT_STREQ(shell("SELECT group_concat(seq || ':' || counted, ' ') FROM accesses"
			   " WHERE action IN ('read', 'read_call')"),
		     "2:1 3:0 4:1 6:0 9:1 11:1\n");
	return true;
}

TEST(person_dataset_view)
{
	ASSERT_STREQ(shell("SELECT * FROM person_dataset ORDER BY person, dataset"),
		     "|customers|1|0|1|300|0|2026-11-28T10:00:00.000000000Z|"
		     "2026-11-28T10:01:00.000000000Z\n"
		     "e1001|customers|1|1|2|1700|0|2026-11-27T09:00:00.000000000Z|"
		     "2026-11-27T11:00:00.000000000Z\n"
		     "e1001|hr|0|0|0|0|1|2026-11-27T10:00:00.000000000Z|"
		     "2026-11-27T10:00:00.000000000Z\n"
		     "e1002|hr|1|0|1|2000|0|2026-11-27T22:30:00.000000000Z|"
		     "2026-11-27T22:31:00.000000000Z\n");
	return true;
}

TEST(gaps_losses_view)
{
	ASSERT_STREQ(shell("SELECT * FROM gaps_losses"),
		     "12|2026-11-28T12:00:00.000000000Z|1795867200000000000|gap|crash|"
		     "2026-11-28T11:58:00.000000000Z|2026-11-28T11:59:00.500000000Z|"
		     "1795867080000000000|1795867140500000000|60.5||||\n"
		     "13|2026-11-28T12:05:00.000000000Z|1795867500000000000|loss|ring_full"
		     "||||||1|1|5|7\n");
	return true;
}

TEST(views_survive_a_reopen)
{
	struct store *st;

	test_db();
	st = store__open(db);
	ASSERT_TRUE(st);
	store__close(st);
	ASSERT_STREQ(shell("SELECT count(*) FROM sqlite_schema WHERE type = 'view'"), "4\n");
	ASSERT_STREQ(shell("SELECT count(*) FROM accesses"), "11\n");
	return true;
}

TEST(parse_hours_and_days)
{
	int from, to;
	unsigned days;

	ASSERT_EQ(report__parse_hours("08:00-18:00", &from, &to), 0);
	ASSERT_EQ(from, 480);
	ASSERT_EQ(to, 1080);
	ASSERT_EQ(report__parse_hours("22:30-6:15", &from, &to), 0);
	ASSERT_EQ(from, 1350);
	ASSERT_EQ(to, 375);
	ASSERT_EQ(report__parse_hours("00:00-24:00", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_hours("09:00-24:00", &from, &to), 0);
	ASSERT_EQ(to, 1440);
	ASSERT_EQ(report__parse_hours("24:00-08:00", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_hours("08:60-18:00", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_hours("08:00-08:00", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_hours("8-18", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_hours("08:00-18:00x", &from, &to), -EINVAL);
	ASSERT_EQ(report__parse_days("mon-fri", &days), 0);
	ASSERT_EQ(days, REPORT_MON_FRI);
	ASSERT_EQ(report__parse_days("Sat,sun", &days), 0);
	ASSERT_EQ(days, 0x41);
	ASSERT_EQ(report__parse_days("fri-mon", &days), 0);
	ASSERT_EQ(days, 0x63);
	ASSERT_EQ(report__parse_days("mon,", &days), -EINVAL);
	ASSERT_EQ(report__parse_days("monday", &days), -EINVAL);
	ASSERT_EQ(report__parse_days("", &days), -EINVAL);
	ASSERT_EQ(report__check_tz("UTC"), 0);
	ASSERT_EQ(report__check_tz("../../etc/passwd"), -EINVAL);
	ASSERT_EQ(report__check_tz("Nowhere/Atlantis"), -EINVAL);
	return true;
}

TEST(report_sections_and_counts)
{
	struct report_opts o = defaults();
	char *out = NULL, *s;

	ASSERT_EQ(report(&o, &out), 0);
	ASSERT_TRUE(strstr(out, "custos access report\n"));
	/* Only opens, mmaps and final read sessions count: 11 records, 9 events. */
	s = section(out, "Summary");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "accesses:", "9");
	ASSERT_LINE(s, "bytes read:", "4000");
	ASSERT_LINE(s, "failed attempts:", "1");
	ASSERT_LINE(s, "unattributed accesses:", "2");
	ASSERT_LINE(s, "accesses by leavers:", "2");
	ASSERT_LINE(s, "gaps:", "1");
	ASSERT_LINE(s, "losses:", "1");
	ASSERT_LINE(s, "alerts:", "1");
	free(s);

	s = section(out, "Alerts");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "2026-11-28T12:06:00Z", "critical", "denied", "e1001", "hr", "1", "0", "5",
		    "/srv/hr/secret");
	free(s);

	s = section(out, "Top readers by bytes");
	ASSERT_TRUE(s);
	/* header, e1002, e1001, uid 4242, in that order */
	ASSERT_EQ(count_lines(s), 5);
	ASSERT_TRUE(strstr(s, "e1002") < strstr(s, "e1001"));
	ASSERT_TRUE(strstr(s, "e1001") < strstr(s, "uid 4242"));
	ASSERT_LINE(s, "e1001", "ops", "1700", "2", "2", "customers");
	free(s);

	/* Friday 22:30 and Saturday are outside 08:00-18:00 mon-fri; Friday 09:00 is not. */
	s = section(out, "Outside working hours");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "2026-11-27T22:30:00Z", "Fri 22:30", "e1002", "open", "ok",
		    "/srv/hr/pay.csv");
	ASSERT_LINE(s, "2026-11-28T10:01:00Z", "Sat 10:01", "uid 4242", "read", "300");
	ASSERT_TRUE(!strstr(s, "a.csv"));
	ASSERT_EQ(count_lines(s), 2 + 4);
	free(s);

	s = section(out, "Unattributed accesses");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "4242", "-", "cat", "customers", "1", "1", "300", "0",
		    "/srv/cust/<b>&\"x\\x1b[31m\\xff.csv");
	free(s);

	s = section(out, "Accesses by people who have left");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "e1002", "data", "hr", "1", "1", "2000", "0", "/srv/hr/pay.csv");
	ASSERT_TRUE(!strstr(s, "e1001"));
	free(s);

	s = section(out, "Failed attempts");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "e1001", "EACCES", "hr", "1", "2026-11-27T10:00:00Z", "/srv/hr/secret");
	free(s);

	s = section(out, "Gaps and losses");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "gap",
		    "crash: from 2026-11-28T11:58:00Z to 2026-11-28T11:59:00Z (60.500 s)");
	ASSERT_LINE(s, "loss", "ring_full: 5 lost on cpu 1 (7 so far)");
	free(s);

	/* Neither --person nor --dataset: no such section.  And no raw escape byte anywhere. */
	ASSERT_TRUE(!strstr(out, "What "));
	ASSERT_TRUE(!strstr(out, "Who accessed dataset"));
	ASSERT_TRUE(!strchr(out, '\x1b'));
	ASSERT_TRUE(!strstr(out, "<svg"));
	free(out);
	return true;
}

/* The report counts as the views do, and a session whose records straddle
 * two periods is counted in one of them only: the one of its final record. */
TEST(report_counts_each_session_once)
{
	struct report_opts o = report__defaults();
	char *out = NULL, *s;

	o.db = test_sessions_db();
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Summary");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "accesses:", "10");
	ASSERT_LINE(s, "read sessions:", "6");
	ASSERT_LINE(s, "bytes read:", "1361");
	free(s);
	s = section(out, "Top readers by bytes");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "e1001", "ops", "1350", "5", "4", "customers");
	ASSERT_LINE(s, "e1002", "data", "11", "1", "1", "customers");
	free(s);
	free(out);

	/* Until Alice's final record of session 7 (09:07): session 8's last report. */
	o.until_ns = AT(0, 9, 7);
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Summary");
	ASSERT_LINE(s, "read sessions:", "1");
	ASSERT_LINE(s, "bytes read:", "900");
	free(s);
	free(out);
	o.until_ns = INT64_MAX;
	o.since_ns = AT(0, 9, 7);
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Summary");
	ASSERT_LINE(s, "read sessions:", "5");
	ASSERT_LINE(s, "bytes read:", "461");
	free(s);
	free(out);
	return true;
}

TEST(report_person_and_dataset)
{
	struct report_opts o = defaults();
	char *out = NULL, *s;

	o.person = "e1001";
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "What e1001 accessed, by dataset");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "customers", "2", "2", "1700", "0", "2026-11-27T09:00:00Z",
		    "2026-11-27T11:00:00Z");
	ASSERT_LINE(s, "hr", "0", "0", "0", "1", "2026-11-27T10:00:00Z");
	free(s);
	s = section(out, "What e1001 accessed, by file");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "customers", "1000", "/srv/cust/a.csv");
	ASSERT_LINE(s, "customers", "700", "/srv/cust/b.csv");
	free(s);
	/* --person narrows every other section too. */
	s = section(out, "Top readers by bytes");
	ASSERT_TRUE(s && !strstr(s, "e1002") && !strstr(s, "uid 4242"));
	free(s);
	free(out);

	o = defaults();
	o.dataset = "hr";
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Who accessed dataset hr");
	ASSERT_TRUE(s);
	ASSERT_LINE(s, "e1002", "data", "1", "1", "2000", "0");
	ASSERT_LINE(s, "e1001", "ops", "0", "0", "0", "1");
	ASSERT_TRUE(strstr(s, "e1002") < strstr(s, "e1001"));
	free(s);
	free(out);
	return true;
}

TEST(report_period_hours_and_rows)
{
	struct report_opts o = defaults();
	char *out = NULL, *s;

	/* Saturday only: the unattributed reader; the gap overlaps it too. */
	o.since_ns = AT(1, 0, 0);
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Summary");
	ASSERT_LINE(s, "accesses:", "2");
	ASSERT_LINE(s, "gaps:", "1");
	free(s);
	s = section(out, "Accesses by people who have left");
	ASSERT_STREQ(s, "The staff directory in force at the time of the access gave their"
			" status as left.\nnone\n");
	free(s);
	free(out);

	/* Round the clock, every day: nothing is outside. */
	o = defaults();
	o.hours_from = 0;
	o.hours_to = 24 * 60;
	o.days = 0x7f;
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Outside working hours");
	ASSERT_TRUE(s && strstr(s, "\nnone\n"));
	free(s);
	free(out);

	/* A night shift 22:00-06:00 starting Friday: Bob's 22:30 is inside it. */
	o.hours_from = 22 * 60;
	o.hours_to = 6 * 60;
	o.days = 1u << 5;
	o.rows = 1;
	ASSERT_EQ(report(&o, &out), 0);
	s = section(out, "Outside working hours");
	ASSERT_TRUE(s && !strstr(s, "pay.csv"));
	/* Alice's five events and the Saturday two: one shown, six counted. */
	ASSERT_TRUE(strstr(s, "6 more not shown"));
	free(s);
	free(out);
	return true;
}

/* Whether the file's bytes are all valid UTF-8. */
static bool file_is_utf8(const char *text, size_t n)
{
	uint32_t cp;

	for (size_t i = 0, len; i < n; i += len)
		if (!(len = util__utf8_seq((const uint8_t *)text + i, n - i, &cp)))
			return false;
	return true;
}

TEST(report_html_is_escaped_and_self_contained)
{
	static const char *const ids[] = { "summary",	    "chart",	    "top-readers",
					   "outside-hours", "unattributed", "left",
					   "failed",	    "gaps-losses",  "person-datasets",
					   "person-files" };
	struct report_opts o = defaults();
	char *text = NULL, id[64];
	size_t n;

	o.html = html;
	o.person = "e1001<i>";
	ASSERT_EQ(report_file(&o, NULL), 0);
	ASSERT_EQ(util__read_file(html, 1 << 20, &text, &n), 0);
	ASSERT_TRUE(file_is_utf8(text, n));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(id, sizeof(id), "<section id=\"%s\">", ids[i]);
		if (!strstr(text, id)) {
			fprintf(stderr, "  no %s\n", id);
			free(text);
			return false;
		}
	}
	/* No one has that id: sections say so, and the chart has nothing to draw. */
	ASSERT_TRUE(strstr(text, "no accesses in the period"));
	ASSERT_TRUE(strstr(text, "What e1001&lt;i&gt; accessed"));
	ASSERT_TRUE(!strstr(text, "<i>"));
	free(text);

	/* The evil name, with no person filter hiding it. */
	o.person = NULL;
	ASSERT_EQ(report_file(&o, NULL), 0);
	ASSERT_EQ(util__read_file(html, 1 << 20, &text, &n), 0);
	ASSERT_TRUE(file_is_utf8(text, n));
	ASSERT_TRUE(strstr(text, "/srv/cust/&lt;b&gt;&amp;&quot;x\\x1b[31m\\xff.csv"));
	ASSERT_TRUE(!strstr(text, "<b>"));
	ASSERT_TRUE(!strchr(text, '\x1b'));
	ASSERT_TRUE(strstr(text, "<svg"));
	/* Nothing to fetch: no URL but the SVG namespace. */
	ASSERT_TRUE(!strstr(text, "src="));
	ASSERT_TRUE(!strstr(text, "href"));
	ASSERT_TRUE(!strstr(text, "https:"));
	/* 25 minutes a bar: Alice's 09:00, 09:01 and 09:03 share the first. */
	ASSERT_TRUE(strstr(text, "max 3 per bar"));
	ASSERT_TRUE(strstr(text, "</html>\n"));
	free(text);
	return true;
}

TEST(unreadable_db_fails_and_writes_nothing)
{
	struct report_opts o = defaults();
	char missing[sizeof(tmpdir) + 32];
	struct stat sb;

	snprintf(missing, sizeof(missing), "%s/missing.db", tmpdir);
	unlink(html);
	o.db = missing;
	o.html = html;
	ASSERT_EQ(report_file(&o, NULL), -ENOENT);
	ASSERT_TRUE(stat(html, &sb) && errno == ENOENT);
	ASSERT_TRUE(stat(missing, &sb) && errno == ENOENT);
	return true;
}

RUN_TESTS(T(views_exist_for_the_stock_shell), T(alerts_view_rows), T(accesses_view_rows),
	  T(accesses_view_new_columns), T(views_count_each_session_once), T(person_dataset_view),
	  T(gaps_losses_view), T(views_survive_a_reopen), T(parse_hours_and_days),
	  T(report_sections_and_counts), T(report_counts_each_session_once),
	  T(report_person_and_dataset), T(report_period_hours_and_rows),
	  T(report_html_is_escaped_and_self_contained), T(unreadable_db_fails_and_writes_nothing))
