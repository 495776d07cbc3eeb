// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of collector/export.c and jsonrec.c: SPEC parsing, the RFC 5424
 * message and its octet-counted frame on a real TCP socket, OCSF objects
 * against each class's required attributes, the custos form against what
 * custos query prints for the same records, and spool-then-drain order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "custos/abi.h"
#include "export.h"
#include "jsonrec.h"
#include "query.h"
#include "store.h"
#include "records.h"
#include "test.h"
#include "util.h"

#define NS 1000000000LL
#define T0 (1795759200LL * NS) /* 2026-11-27T06:00:00Z */

static struct record access_rec(uint64_t seq, uint32_t op, const char *path)
{
	struct record r = { .type = REC_FILE_ACCESS, .seq = seq, .t_real_ns = T0 + 5 * NS };

	r.access.event_ns = T0 + 123456789;
	r.access.op = op;
	r.access.result = op == OP_OPEN ? 3 : 0;
	r.access.pid = 4242;
	r.access.tid = 4243;
	r.access.ppid = 1;
	r.access.uid = 1001;
	r.access.euid = 0;
	r.access.loginuid = 1001;
	r.access.sessionid = 7;
	r.access.dev = 2049;
	r.access.ino = 77;
	r.access.comm = str("cat");
	r.access.exe = str("/usr/bin/cat");
	r.access.args = (struct bytes){ (const uint8_t *)"cat\0/a/b/x.txt\0", 15 };
	r.access.path = str(path);
	r.access.dataset = str("customers");
	r.access.person = str("e1001");
	r.access.attribution = str("loginuid");
	if (op == OP_READ) {
		r.access.bytes = 4096;
		r.access.reads = 2;
		r.access.first_ns = T0;
		r.access.last_ns = T0 + NS;
		r.access.min_offset = 0;
		r.access.max_offset = 4096;
		r.access.read_paths = 1;
	}
	return r;
}

static struct record alert_rec(uint64_t seq)
{
	struct record r = { .type = REC_ALERT, .seq = seq, .t_real_ns = T0 + 9 * NS };

	r.alert.rule = str("bulk-read");
	r.alert.severity = SEV_HIGH;
	r.alert.summary = str("many files read by one person");
	r.alert.cause_seq = seq - 1;
	r.alert.count = 50;
	r.alert.bytes = 1 << 20;
	r.alert.person = str("e1001");
	r.alert.dataset = str("customers");
	r.alert.path = str("/a/b/x.txt");
	return r;
}

TEST(parse_specs)
{
	struct export_spec s;
	char why[256];

	ASSERT_EQ(export__parse("file:/tmp/x.jsonl", &s, why, sizeof(why)), 0);
	ASSERT_EQ(s.kind, EXPORT_FILE);
	ASSERT_EQ(s.format, EXPORT_CUSTOS);
	ASSERT_EQ(s.only, EXPORT_ONLY_ALL);
	ASSERT_STREQ(s.path, "/tmp/x.jsonl");
	ASSERT_EQ(export__parse("file:/tmp/x,max=8192,keep=3,format=ocsf,only=alerts", &s, why,
				sizeof(why)),
		  0);
	ASSERT_EQ(s.max_bytes, 8192);
	ASSERT_EQ(s.keep, 3);
	ASSERT_EQ(s.format, EXPORT_OCSF);
	ASSERT_EQ(s.only, EXPORT_ONLY_ALERTS);
	ASSERT_STREQ(s.target, "file:/tmp/x");
	ASSERT_EQ(export__parse("syslog:tcp:127.0.0.1:5514,format=ocsf", &s, why, sizeof(why)), 0);
	ASSERT_EQ(s.kind, EXPORT_SYSLOG_TCP);
	ASSERT_EQ(ntohs(((struct sockaddr_in *)&s.addr)->sin_port), 5514);
	ASSERT_EQ(export__parse("syslog:tcp:[::1]:514", &s, why, sizeof(why)), 0);
	ASSERT_EQ(s.addr.ss_family, AF_INET6);
	ASSERT_EQ(export__parse("syslog:unix:/dev/log", &s, why, sizeof(why)), 0);
	ASSERT_EQ(s.kind, EXPORT_SYSLOG_UNIX);
	return true;
}

TEST(parse_errors)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{ "http://x", "want file:PATH" },
		{ "file:", "want a path" },
		{ "file:/no/such/dir/x", "does not exist" },
		{ "syslog:tcp:127.0.0.1", "want HOST:PORT" },
		{ "syslog:tcp:127.0.0.1:0", "want 1 to 65535" },
		{ "syslog:tcp:127.0.0.1:70000", "want 1 to 65535" },
		{ "syslog:tcp:127.0.0.1:514,only=some", "only=some" },
		{ "syslog:tcp:127.0.0.1:514,format=xml", "format=xml" },
		{ "syslog:tcp:127.0.0.1:514,max=10000", "unknown option max" },
		{ "file:/tmp/x,max=12", "max=12" },
		{ "file:/tmp/x,keep=0", "keep=0" },
		{ "file:/tmp/x,bogus", "NAME=VALUE" },
		{ "syslog:unix:/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "too long" },
	};
	struct export_spec s;
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (export__parse(bad[i].spec, &s, why, sizeof(why)) != -EINVAL ||
		    !strstr(why, bad[i].why)) {
			fprintf(stderr, "  %s: got \"%s\"\n", bad[i].spec, why);
			return false;
		}
	}
	return true;
}

TEST(rfc5424_message)
{
	struct record r = access_rec(12, OP_OPEN, "/a/b/x.txt");
	struct record al = alert_rec(13);
	char *m = export__syslog_message(&r, "lab 1", 99, "{\"x\":1}");

	/* PRI 13*8+6, version 1, µs time, host without spaces, app, procid, msgid, no SD. */
	ASSERT_STREQ(m, "<110>1 2026-11-27T06:00:00.123456Z lab_1 custos 99 open - {\"x\":1}");
	free(m);
	r.access.result = -13;
	ASSERT_EQ(export__syslog_severity(&r), 5);
	ASSERT_EQ(export__syslog_severity(&al), 3);
	al.alert.severity = SEV_CRITICAL;
	ASSERT_EQ(export__syslog_severity(&al), 2);
	m = export__syslog_message(&al, "", 1, "{}");
	ASSERT_STREQ(m, "<106>1 2026-11-27T06:00:09.000000Z - custos 1 alert - {}");
	free(m);
	return true;
}

/* A listening TCP socket on 127.0.0.1; its port in *port. */
static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*port)
		a.sin_port = htons(*port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("listener");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Read octet-counted frames from fd until n arrived (or 5 s passed); each
 * frame's MSG JSON seq into seqs. */
static int read_frames(struct exporter *x, int fd, int64_t *seqs, int n)
{
	static char buf[1 << 16];
	size_t have = 0;
	int got = 0;

	for (int rounds = 0; got < n && rounds < 500; rounds++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		export__tick(x);
		if (poll(&p, 1, 10) <= 0)
			continue;
		k = read(fd, buf + have, sizeof(buf) - have - 1);
		if (k <= 0)
			break;
		have += (size_t)k;
		for (;;) {
			char *sp = memchr(buf, ' ', have), *end;
			unsigned long len = strtoul(buf, &end, 10);
			json_t *j;
			const char *msg;

			if (!sp || end != sp || have < (size_t)(sp - buf) + 1 + len)
				break;
			/* The frame is exactly LEN bytes of one RFC 5424 message. */
			msg = memmem(sp + 1, len, " - {", 4);
			j = msg ? json_loadb(msg + 3, len - (size_t)(msg + 3 - (sp + 1)), 0, NULL)
				: NULL;
			seqs[got++] = j ? json_integer_value(json_object_get(j, "seq")) : -1;
			json_decref(j);
			have -= (size_t)(sp - buf) + 1 + len;
			memmove(buf, sp + 1 + len, have);
		}
	}
	return got;
}

static int accept_one(struct exporter *x, int lfd)
{
	for (int i = 0; i < 500; i++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		export__tick(x);
		if (poll(&p, 1, 10) > 0)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	return -1;
}

static char tmp[] = "/tmp/custos-test-export-XXXXXX";

/* Spool while the receiver is away, drain in order when it is back, then
 * new lines after the spooled ones; the counters say what happened. */
TEST(spool_then_drain_in_order)
{
	struct exporter *x = NULL;
	struct export_spec spec;
	struct export_stats st;
	char text[64], why[128], spool[sizeof(tmp) + 16];
	int64_t seqs[10];
	int port = 0, lfd, cfd = -1, got;
	bool ok = false;

	lfd = listener(&port);
	ASSERT_TRUE(lfd >= 0);
	snprintf(text, sizeof(text), "syslog:tcp:127.0.0.1:%d", port);
	ASSERT_EQ(export__parse(text, &spec, why, sizeof(why)), 0);
	close(lfd); /* down: connections are refused */
	snprintf(spool, sizeof(spool), "%s/spool", tmp);
	x = export__open(&spec, 1, spool, "lab1", "test");
	ASSERT_TRUE(x != NULL);
	for (int i = 0; i < 6; i++) {
		struct record r = access_rec(100 + i, OP_OPEN, "/a/b/x.txt");

		ASSERT_EQ(export__add(x, &r), 0);
		if (i == 3) {
			/* A failed batch never leaves. */
			export__rollback(x);
			continue;
		}
		export__commit(x);
	}
	export__tick(x);
	ASSERT_EQ(export__stats(x, 0, &st), 0);
	ASSERT_EQ(st.sent, 0);
	ASSERT_EQ(st.delayed, 5);
	ASSERT_EQ(st.spooled, 5);
	ASSERT_EQ(st.up, 0);
	ASSERT_EQ(export__stats(x, 1, &st), -ENOENT);

	lfd = listener(&port); /* up again on the same port */
	if (lfd < 0)
		goto cleanup;
	cfd = accept_one(x, lfd);
	if (cfd < 0)
		goto cleanup;
	{
		struct record r = access_rec(200, OP_READ, "/a/b/x.txt");

		export__add(x, &r);
		export__commit(x);
	}
	got = read_frames(x, cfd, seqs, 6);
	if (got != 6) {
		fprintf(stderr, "  got %d frames\n", got);
		goto cleanup;
	}
	{
		const int64_t want[] = { 100, 101, 102, 104, 105, 200 };

		for (int i = 0; i < 6; i++)
			if (seqs[i] != want[i]) {
				fprintf(stderr, "  frame %d: seq %lld, want %lld\n", i,
					(long long)seqs[i], (long long)want[i]);
				goto cleanup;
			}
	}
	export__stats(x, 0, &st);
	ok = st.sent == 6 && st.delayed == 5 && st.spooled == 0 && st.dropped == 0 && st.up;
	if (!ok)
		fprintf(stderr, "  sent %llu delayed %llu spooled %llu\n",
			(unsigned long long)st.sent, (unsigned long long)st.delayed,
			(unsigned long long)st.spooled);
cleanup:
	export__close(x);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	return ok;
}

/* What a later run finds: lines spooled and not sent survive a close. */
TEST(spool_survives_a_restart)
{
	char path[sizeof(tmp) + 32], spool[sizeof(tmp) + 16], why[128];
	struct export_spec spec;
	struct export_stats st;
	struct exporter *x;
	FILE *f;
	char line[4096];
	int n = 0;

	snprintf(spool, sizeof(spool), "%s/spool2", tmp);
	snprintf(path, sizeof(path), "%s/sub/out.jsonl", tmp);
	snprintf(line, sizeof(line), "file:%s", path);
	/* The file's directory is missing now: parse refuses, so make it, parse, remove it. */
	snprintf(why, sizeof(why), "%s/sub", tmp);
	ASSERT_EQ(mkdir(why, 0700), 0);
	ASSERT_EQ(export__parse(line, &spec, why, sizeof(why)), 0);
	snprintf(why, sizeof(why), "%s/sub", tmp);
	ASSERT_EQ(rmdir(why), 0);
	x = export__open(&spec, 1, spool, "lab1", "test");
	ASSERT_TRUE(x != NULL);
	for (int i = 0; i < 3; i++) {
		struct record r = access_rec(10 + i, OP_OPEN, "/a");

		export__add(x, &r);
		export__commit(x);
	}
	export__stats(x, 0, &st);
	ASSERT_EQ(st.delayed, 3);
	export__close(x);
	snprintf(why, sizeof(why), "%s/sub", tmp);
	ASSERT_EQ(mkdir(why, 0700), 0);
	x = export__open(&spec, 1, spool, "lab1", "test");
	ASSERT_TRUE(x != NULL);
	export__tick(x);
	export__stats(x, 0, &st);
	ASSERT_EQ(st.sent, 3);
	ASSERT_EQ(st.spooled, 0);
	export__close(x);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);

		ASSERT_EQ(json_integer_value(json_object_get(j, "seq")), 10 + n);
		json_decref(j);
		n++;
	}
	fclose(f);
	ASSERT_EQ(n, 3);
	return true;
}

/* A path a and its child b ("x.y"): the value there, or NULL. */
static json_t *at(json_t *j, const char *dotted)
{
	char key[64], *dot;

	snprintf(key, sizeof(key), "%s", dotted);
	dot = strchr(key, '.');
	if (!dot)
		return json_object_get(j, key);
	*dot = '\0';
	return at(json_object_get(j, key), dot + 1);
}

static bool has_all(json_t *j, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!at(j, keys[i]) || json_is_null(at(j, keys[i]))) {
			fprintf(stderr, "  missing required %s\n", keys[i]);
			return false;
		}
	return true;
}

/* Base event (OCSF 1.3): activity_id, category_uid, class_uid, metadata
 * (product.name, version), severity_id, time, type_uid. */
static const char *const base_required[] = {
	"activity_id",		 "category_uid", "class_uid", "metadata.version",
	"metadata.product.name", "severity_id",	 "time",      "type_uid",
};

TEST(ocsf_file_system_activity)
{
	/* File System Activity adds actor (with a process) and file (name,
	 * type_id); System Activity adds device (type_id). */
	static const char *const required[] = {
		"actor.process.pid", "actor.process.name", "device.type_id", "device.hostname",
		"file.name",	     "file.path",	   "file.type_id",
	};
	struct record r = access_rec(5, OP_OPEN, "/srv/c/alice.csv");
	json_t *j = jsonrec__ocsf(&r, "lab1", "0.1.0");

	ASSERT_TRUE(j != NULL);
	ASSERT_TRUE(has_all(j, base_required, sizeof(base_required) / sizeof(*base_required)));
	ASSERT_TRUE(has_all(j, required, sizeof(required) / sizeof(*required)));
	ASSERT_EQ(json_integer_value(at(j, "class_uid")), 1001);
	ASSERT_EQ(json_integer_value(at(j, "category_uid")), 1);
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 14);
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 100114);
	ASSERT_EQ(json_integer_value(at(j, "time")), T0 / 1000000 + 123);
	ASSERT_EQ(json_integer_value(at(j, "severity_id")), 1);
	ASSERT_EQ(json_integer_value(at(j, "status_id")), 1);
	ASSERT_STREQ(json_string_value(at(j, "metadata.version")), OCSF_VERSION);
	ASSERT_STREQ(json_string_value(at(j, "metadata.product.name")), "custos");
	ASSERT_STREQ(json_string_value(at(j, "file.path")), "/srv/c/alice.csv");
	ASSERT_STREQ(json_string_value(at(j, "file.name")), "alice.csv");
	ASSERT_STREQ(json_string_value(at(j, "file.parent_folder")), "/srv/c");
	ASSERT_EQ(json_integer_value(at(j, "actor.process.pid")), 4242);
	ASSERT_STREQ(json_string_value(at(j, "actor.process.cmd_line")), "cat /a/b/x.txt");
	ASSERT_STREQ(json_string_value(at(j, "actor.user.uid")), "1001");
	ASSERT_STREQ(json_string_value(at(j, "actor.user.name")), "e1001");
	ASSERT_STREQ(json_string_value(at(j, "device.hostname")), "lab1");
	json_decref(j);

	r = access_rec(6, OP_READ, "/srv/c/alice.csv");
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 2);
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 100102);
	ASSERT_EQ(json_integer_value(at(j, "unmapped.bytes")), 4096);
	json_decref(j);
	r = access_rec(7, OP_MMAP, "/srv/c/alice.csv");
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 2);
	ASSERT_STREQ(json_string_value(at(j, "unmapped.action")), "mmap");
	json_decref(j);
	r = access_rec(8, OP_OPEN, "/srv/c/secret");
	r.access.result = -13;
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_EQ(json_integer_value(at(j, "status_id")), 2);
	ASSERT_EQ(json_integer_value(at(j, "status_code")), -13);
	ASSERT_TRUE(json_is_false(at(j, "unmapped.discovered")));
	ASSERT_TRUE(!at(j, "file_result"));
	json_decref(j);
	return true;
}

/* A link and a rename: both names, the protected one as file and the new
 * one as file_result; rename is OCSF's Rename, a link Create (a new name). */
TEST(ocsf_link_and_rename)
{
	static const char *const required[] = {
		"file.path",	    "file.name",	 "file_result.path",
		"file_result.name", "actor.process.pid",
	};
	struct record r = access_rec(9, OP_RENAME, "/srv/c/alice.csv");
	json_t *j;

	r.access.result = 0;
	r.access.target = str("/tmp/stash/a\xff.csv");
	r.access.abi = CUSTOS_ABI_I386;
	r.access.session = 0;
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_TRUE(j != NULL);
	ASSERT_TRUE(has_all(j, base_required, sizeof(base_required) / sizeof(*base_required)));
	ASSERT_TRUE(has_all(j, required, sizeof(required) / sizeof(*required)));
	ASSERT_EQ(json_integer_value(at(j, "class_uid")), 1001);
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 5);
	ASSERT_STREQ(json_string_value(at(j, "activity_name")), "Rename");
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 100105);
	ASSERT_STREQ(json_string_value(at(j, "file.path")), "/srv/c/alice.csv");
	ASSERT_STREQ(json_string_value(at(j, "file_result.path")), "/tmp/stash/a\xef\xbf\xbd.csv");
	ASSERT_STREQ(json_string_value(at(j, "file_result.parent_folder")), "/tmp/stash");
	/* The same inode under its new name. */
	ASSERT_STREQ(json_string_value(at(j, "file_result.uid")), "2049:77");
	ASSERT_STREQ(json_string_value(at(j, "unmapped.action")), "rename");
	ASSERT_STREQ(json_string_value(at(j, "unmapped.abi")), "i386");
	ASSERT_STREQ(json_string_value(at(j, "unmapped.target_b64")), "L3RtcC9zdGFzaC9h/y5jc3Y=");
	ASSERT_TRUE(!at(j, "unmapped.session"));
	ASSERT_TRUE(!at(j, "unmapped.discovered"));
	json_decref(j);

	r = access_rec(10, OP_LINK, "/srv/c/alice.csv");
	r.access.result = -1;
	r.access.target = str("/tmp/l");
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_TRUE(has_all(j, required, sizeof(required) / sizeof(*required)));
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 1);
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 100101);
	ASSERT_STREQ(json_string_value(at(j, "unmapped.action")), "link");
	ASSERT_STREQ(json_string_value(at(j, "message")), "link");
	ASSERT_EQ(json_integer_value(at(j, "status_id")), 2);
	/* A refused link made no name: no inode to give it. */
	ASSERT_TRUE(!at(j, "file_result.uid"));
	ASSERT_TRUE(json_is_null(at(j, "unmapped.abi")));
	json_decref(j);

	r = access_rec(11, OP_READ, "/srv/c/alice.csv");
	r.access.session = 77;
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_EQ(json_integer_value(at(j, "unmapped.session")), 77);
	json_decref(j);
	return true;
}

TEST(ocsf_detection_finding)
{
	/* Finding adds finding_info (uid required; title recommended, kept). */
	static const char *const required[] = { "finding_info.uid", "finding_info.title" };
	struct record r = alert_rec(42);
	json_t *j = jsonrec__ocsf(&r, "lab1", "0.1.0");

	ASSERT_TRUE(j != NULL);
	ASSERT_TRUE(has_all(j, base_required, sizeof(base_required) / sizeof(*base_required)));
	ASSERT_TRUE(has_all(j, required, sizeof(required) / sizeof(*required)));
	ASSERT_EQ(json_integer_value(at(j, "class_uid")), 2004);
	ASSERT_EQ(json_integer_value(at(j, "category_uid")), 2);
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 1);
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 200401);
	ASSERT_EQ(json_integer_value(at(j, "severity_id")), 4);
	ASSERT_STREQ(json_string_value(at(j, "severity")), "High");
	ASSERT_TRUE(json_is_true(at(j, "is_alert")));
	ASSERT_STREQ(json_string_value(at(j, "finding_info.uid")), "lab1/42");
	ASSERT_STREQ(json_string_value(at(j, "finding_info.title")),
		     "many files read by one person");
	ASSERT_STREQ(json_string_value(at(j, "finding_info.analytic.uid")), "bulk-read");
	ASSERT_EQ(json_integer_value(at(j, "unmapped.cause_seq")), 41);
	ASSERT_STREQ(
		json_string_value(json_object_get(json_array_get(at(j, "resources"), 0), "name")),
		"/a/b/x.txt");
	json_decref(j);
	return true;
}

TEST(ocsf_log_activity)
{
	struct record r = { .type = REC_STOP, .seq = 9, .t_real_ns = T0 };
	json_t *j;

	r.stop.reason = str("signal");
	j = jsonrec__ocsf(&r, "lab1", "0.1.0");
	ASSERT_TRUE(has_all(j, base_required, sizeof(base_required) / sizeof(*base_required)));
	ASSERT_EQ(json_integer_value(at(j, "class_uid")), 1008);
	ASSERT_EQ(json_integer_value(at(j, "activity_id")), 7);
	ASSERT_EQ(json_integer_value(at(j, "type_uid")), 100807);
	json_decref(j);
	r = (struct record){ .type = REC_HEARTBEAT };
	ASSERT_TRUE(jsonrec__ocsf(&r, "lab1", "0.1.0") == NULL);
	return true;
}

/* The custos form equals what custos query prints, record by record. */
TEST(custos_format_equals_query)
{
	struct record recs[9];
	char db[sizeof(tmp) + 16], *out = NULL;
	struct query_filter f;
	size_t len = 0;
	FILE *mem;
	char *line, *save = NULL;
	int i = 0;

	query__filter_init(&f);
	recs[0] = (struct record){ .type = REC_START, .t_real_ns = T0 };
	recs[0].start.pid = 1;
	recs[0].start.host = str("lab1");
	recs[0].start.version = str("0.1");
	recs[0].start.backend = str("tracepoint");
	recs[0].start.config = str("/a=a 1:2:3");
	recs[1] = access_rec(0, OP_OPEN, "/a/b/x.txt");
	recs[1].access.abi = CUSTOS_ABI_X86_64;
	recs[1].access.access_flags = RECORD_ACCESS_DISCOVERED;
	recs[1].access.session = 9;
	recs[2] = access_rec(0, OP_READ, "/a/b/bad\xff.txt");
	recs[2].access.path_flags = CUSTOS_PATH_DELETED;
	recs[2].access.abi = CUSTOS_ABI_I386 | CUSTOS_ABI_X32;
	recs[2].access.session = 9;
	recs[3] = (struct record){ .type = REC_LOSS, .t_real_ns = T0 + NS };
	recs[3].loss.counter = CUSTOS_STAT_RB_FULL;
	recs[3].loss.count = 2;
	recs[3].loss.total = 2;
	recs[4] = access_rec(0, OP_OPEN, "/a/b/y");
	recs[4].access.result = -2;
	recs[4].access.person = str("");
	recs[4].access.args = str("");
	recs[5] = (struct record){ .type = REC_STOP, .t_real_ns = T0 + 2 * NS };
	recs[5].stop.reason = str("signal");
	/* An alert on the failed open (seq 4): its rule, severity and cause. */
	recs[6] = (struct record){ .type = REC_ALERT, .t_real_ns = T0 + 3 * NS };
	recs[6].alert.rule = str("denied");
	recs[6].alert.severity = SEV_CRITICAL;
	recs[6].alert.summary = str("a refused open");
	recs[6].alert.cause_seq = 4;
	recs[6].alert.count = 1;
	recs[6].alert.person = str("uid:0");
	recs[6].alert.path = str("/a/b/y");
	recs[7] = access_rec(0, OP_LINK, "/a/b/x.txt");
	recs[7].access.target = str("/tmp/x.txt");
	recs[7].access.target_flags = CUSTOS_PATH_UNRESOLVED;
	recs[8] = access_rec(0, OP_RENAME, "/a/b/y");
	recs[8].access.result = -18;
	recs[8].access.target = str("/tmp/\xfe");
	snprintf(db, sizeof(db), "%s/q.db", tmp);
	ASSERT_EQ(write_records(db, recs, 9), 0);

	mem = open_memstream(&out, &len);
	ASSERT_EQ(query_file(db, &f, QUERY_JSON, mem), 0);
	fclose(mem);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		json_t *q = json_loads(line, 0, NULL), *e = jsonrec__custos(&recs[i], "lab1");
		char *qs = json_dumps(q, JSON_COMPACT), *es = json_dumps(e, JSON_COMPACT);
		bool same = qs && es && !strcmp(qs, es);

		if (!same)
			fprintf(stderr, "  record %d:\n  query  %s\n  export %s\n", i, qs, es);
		free(qs);
		free(es);
		json_decref(q);
		json_decref(e);
		if (!same) {
			free(out);
			return false;
		}
	}
	free(out);
	ASSERT_EQ(i, 9);
	return true;
}

static void cleanup_tmp(void)
{
	char cmd[sizeof(tmp) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd))
		fprintf(stderr, "failed to remove %s\n", tmp);
}

static bool setup(void)
{
	if (!mkdtemp(tmp))
		return false;
	atexit(cleanup_tmp);
	return true;
}

TEST(tmpdir)
{
	return setup();
}

/* The seqs of the JSON lines of a file, in order, appended to out; -1 if unreadable. */
static int file_seqs(const char *path, int64_t *out, int cap, size_t *biggest)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int n = 0;

	if (util__read_file(path, 1 << 20, &text, &len))
		return -1;
	if (len > *biggest)
		*biggest = len;
	for (line = strtok_r(text, "\n", &save); line && n < cap;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);

		out[n++] = j ? json_integer_value(json_object_get(j, "seq")) : -1;
		json_decref(j);
	}
	free(text);
	return n;
}

/* max= rotates before a line would pass it; keep= files are kept, newest .1. */
TEST(file_rotation)
{
	char spec_text[sizeof(tmp) + 64], why[128], path[sizeof(tmp) + 32];
	char rotated[sizeof(tmp) + 40];
	struct exporter *x;
	struct export_spec spec;
	int64_t seqs[200], all[600];
	size_t biggest = 0;
	int n = 0, got;

	snprintf(spec_text, sizeof(spec_text), "file:%s/rot.jsonl,max=8192,keep=2", tmp);
	ASSERT_EQ(export__parse(spec_text, &spec, why, sizeof(why)), 0);
	x = export__open(&spec, 1, tmp, "lab1", "test");
	ASSERT_TRUE(x != NULL);
	for (int i = 0; i < 100; i++) {
		struct record r = access_rec(1000 + i, OP_OPEN, "/a/b/x.txt");

		ASSERT_EQ(export__add(x, &r), 0);
		export__commit(x);
		export__tick(x);
	}
	export__close(x);
	/* Oldest first: .2, .1, then the file itself; nothing older is kept. */
	snprintf(path, sizeof(path), "%s/rot.jsonl.3", tmp);
	ASSERT_TRUE(access(path, F_OK) != 0);
	for (int k = 2; k >= 0; k--) {
		if (k)
			snprintf(rotated, sizeof(rotated), "%s/rot.jsonl.%d", tmp, k);
		else
			snprintf(rotated, sizeof(rotated), "%s/rot.jsonl", tmp);
		got = file_seqs(rotated, seqs, 200, &biggest);
		ASSERT_TRUE(got > 0);
		for (int i = 0; i < got; i++)
			all[n++] = seqs[i];
	}
	ASSERT_TRUE(biggest <= 8192);
	/* The newest lines, consecutive, ending with the last one. */
	ASSERT_EQ(all[n - 1], 1099);
	for (int i = 1; i < n; i++)
		ASSERT_EQ(all[i], all[i - 1] + 1);
	ASSERT_TRUE(n < 100);
	return true;
}

/* syslog:unix: to a datagram socket, one message a datagram. */
TEST(syslog_unix_datagram)
{
	char spec_text[sizeof(tmp) + 64], why[128], buf[8192];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct exporter *x = NULL;
	struct export_spec spec;
	bool ok = true;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log.sock", tmp);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(spec_text, sizeof(spec_text), "syslog:unix:%s", sa.sun_path);
	ASSERT_EQ(export__parse(spec_text, &spec, why, sizeof(why)), 0);
	x = export__open(&spec, 1, tmp, "lab1", "test");
	ASSERT_TRUE(x != NULL);
	for (int i = 0; i < 3; i++) {
		struct record r = access_rec(500 + i, OP_OPEN, "/a/b/x.txt");

		export__add(x, &r);
	}
	export__commit(x);
	export__tick(x);
	for (int i = 0; i < 3 && ok; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char want[32];

		ok = poll(&p, 1, 2000) == 1;
		n = ok ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
		ok = n > 0;
		if (!ok)
			break;
		buf[n] = '\0';
		snprintf(want, sizeof(want), "\"seq\":%d,", 500 + i);
		ok = !strncmp(buf, "<110>1 ", 7) && strstr(buf, " custos ") && strstr(buf, want);
		if (!ok)
			fprintf(stderr, "  datagram %d: %s\n", i, buf);
	}
	export__close(x);
	close(fd);
	return ok;
}

RUN_TESTS(T(tmpdir), T(parse_specs), T(parse_errors), T(rfc5424_message),
	  T(spool_then_drain_in_order), T(spool_survives_a_restart), T(ocsf_file_system_activity),
	  T(ocsf_link_and_rename), T(ocsf_detection_finding), T(ocsf_log_activity),
	  T(custos_format_equals_query), T(file_rotation), T(syslog_unix_datagram))
