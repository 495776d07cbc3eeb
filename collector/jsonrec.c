// SPDX-License-Identifier: BSD-2-Clause
/*
 * Records as JSON: the custos form (query's keys) and OCSF events.
 *
 * The custos form is built from struct record, not from the store's rows,
 * so that custosd can export a record as it is committed.  Each key follows
 * what store_entry_sql makes of the record: an empty byte field is stored as
 * NULL (so null here), columns an access does not have are null for other
 * records, and the read-only columns are null unless the op is a read.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custos/abi.h"
#include "jsonrec.h"
#include "util.h"

static bool utf8_exact(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t i = 0, len;

	while (i < n) {
		len = util__utf8_seq(p + i, n - i, &cp);
		if (!len || cp == 0)
			return false;
		i += len;
	}
	return true;
}

json_t *jsonrec__text(const uint8_t *p, size_t n)
{
	static const char replacement[] = "\xef\xbf\xbd";
	size_t i = 0, o = 0, len;
	json_t *j = NULL;
	uint32_t cp;
	char *buf;

	buf = malloc(n * 3 + 1);
	if (!buf)
		return NULL;
	while (i < n) {
		len = util__utf8_seq(p + i, n - i, &cp);
		if (!len || cp == 0) {
			memcpy(buf + o, replacement, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(buf + o, p + i, len);
		o += len;
		i += len;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

json_t *jsonrec__b64(const uint8_t *p, size_t n)
{
	json_t *j;
	char *buf;

	if (utf8_exact(p, n))
		return json_null();
	buf = malloc((n + 2) / 3 * 4 + 1);
	if (!buf)
		return NULL;
	j = json_stringn(buf, (size_t)EVP_EncodeBlock((unsigned char *)buf, p, (int)n));
	free(buf);
	return j;
}

json_t *jsonrec__args(const uint8_t *p, size_t n)
{
	json_t *a = json_array();
	size_t i = 0;

	while (a && i < n) {
		const uint8_t *end = memchr(p + i, '\0', n - i);
		size_t len = end ? (size_t)(end - (p + i)) : n - i;

		if (json_array_append_new(a, jsonrec__text(p + i, len))) {
			json_decref(a);
			return NULL;
		}
		i += len + 1;
	}
	return a;
}

json_t *jsonrec__read_paths(uint64_t bits)
{
	static const char *const names[] = { "read",	 "pread64",  "readv",  "preadv",
					     "preadv2",	 "sendfile", "splice", "copy_file_range",
					     "io_uring", "aio",	     "other" };
	json_t *a = json_array();

	for (size_t i = 0; a && i < sizeof(names) / sizeof(names[0]); i++)
		if (bits & (1u << i) && json_array_append_new(a, json_string(names[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *jsonrec__hex(const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];

	if (n > 64)
		return json_null();
	util__hex(hex, p, n);
	return json_string(hex);
}

int64_t jsonrec__time_ns(const struct record *r)
{
	return (int64_t)(r->type == REC_FILE_ACCESS ? r->access.event_ns : r->t_real_ns);
}

/* Builds an object key by key; the first failure (out of memory) sticks. */
struct obj {
	json_t *o;
	bool failed;
};

static void put(struct obj *b, const char *key, json_t *v)
{
	/* json_object_set_new releases v on failure and refuses a NULL v. */
	if (!b->failed && json_object_set_new(b->o, key, v))
		b->failed = true;
	else if (b->failed)
		json_decref(v);
}

static json_t *done(struct obj *b)
{
	if (b->failed) {
		json_decref(b->o);
		errno = ENOMEM;
		return NULL;
	}
	return b->o;
}

/* A byte field as the store keeps it: empty is NULL. */
static json_t *text_or_null(struct bytes v)
{
	return v.len ? jsonrec__text(v.p, v.len) : json_null();
}

json_t *jsonrec__abi(uint32_t abi)
{
	char names[RECORD_ABI_NAMES_MAX];

	if (!abi)
		return json_null();
	record__abi_names(abi, names);
	return json_string(names);
}

int jsonrec__view(struct jsonrec_view *v, const struct record *r, struct bytes host)
{
	*v = (struct jsonrec_view){ .r = r, .host = host };
	if (r->type == REC_FILE_ACCESS)
		return 0;
	v->detail = record__detail(r);
	return v->detail ? 0 : -ENOMEM;
}

void jsonrec__view_free(struct jsonrec_view *v)
{
	free(v->detail);
	v->detail = NULL;
}

#define JSONREC_KEY(id, key, ...) key,
static const char *const keys[JF_MAX] = { JSONREC_FIELDS(JSONREC_KEY, JSONREC_KEY, JSONREC_KEY) };

const char *jsonrec__key(enum jsonrec_field f)
{
	return keys[f];
}

/* The records that have a field (JSONREC_FIELDS). */
enum has {
	ANY,
	ACCESS,
	READ,	      /* an access whose op reads: a session's totals or one call */
	SESSION_READ, /* a read session's record */
	OFFSETS,      /* a read with the offsets known */
	IN_SESSION,   /* an access of a kernel read session */
	OPEN,
	ALERT,
};

static bool has(const struct record *r, enum has h)
{
	const struct rec_access *a = &r->access;
	const bool acc = r->type == REC_FILE_ACCESS;
	const bool rd = acc && (a->op == OP_READ || a->op == OP_READ_CALL);

	switch (h) {
	case ANY:
		return true;
	case ACCESS:
		return acc;
	case READ:
		return rd;
	case SESSION_READ:
		return acc && a->op == OP_READ;
	case OFFSETS:
		return rd && (int64_t)a->min_offset >= 0;
	case IN_SESSION:
		return acc && a->session;
	case OPEN:
		return acc && a->op == OP_OPEN;
	case ALERT:
		return r->type == REC_ALERT;
	}
	return false;
}

static struct bytes str(const char *s)
{
	return record__bytes(s, strlen(s));
}

/* A byte field as the store keeps it: empty is null. */
static struct jsonrec_value bytes(bool have, enum jsonrec_kind kind, struct bytes b)
{
	return (struct jsonrec_value){ .kind = have && b.len ? kind : JV_NULL, .b = b };
}

struct jsonrec_value jsonrec__value(const struct jsonrec_view *v, enum jsonrec_field f)
{
	const struct record *r = v->r;
	struct jsonrec_value x = { .kind = JV_NULL };

	switch (f) {
#define INT_FIELD(id, key, h, k, member)                                                           \
	case JF_##id:                                                                              \
		if (has(r, h))                                                                     \
			x = (struct jsonrec_value){ .kind = k, .i = (int64_t)(r->member) };        \
		break;
#define BYTES_FIELD(id, key, h, k, member)                                                         \
	case JF_##id:                                                                              \
		x = bytes(has(r, h), k, r->member);                                                \
		break;
#define OWN_FIELD(id, key)
		JSONREC_FIELDS(INT_FIELD, BYTES_FIELD, OWN_FIELD)
	case JF_TIME:
		x = (struct jsonrec_value){ .kind = JV_TIME, .i = jsonrec__time_ns(r) };
		break;
	case JF_HOST: /* an empty name is a name */
		x = (struct jsonrec_value){ .kind = v->host.p ? JV_TEXT : JV_NULL, .b = v->host };
		break;
	case JF_ACTION:
		x = bytes(true, JV_TEXT, str(record__action(r)));
		break;
	case JF_DETAIL:
		x = bytes(v->detail, JV_TEXT, str(v->detail ? v->detail : ""));
		break;
	case JF_SEVERITY:
		x = bytes(has(r, ALERT), JV_TEXT, str(record__severity_name(r->alert.severity)));
		break;
	default:
		break;
	}
	if (x.kind == JV_BOOL)
		x.i = x.i != 0;
	return x;
}

json_t *jsonrec__json(struct jsonrec_value v)
{
	char buf[TIME_STR_LEN];

	switch (v.kind) {
	case JV_INT:
		return json_integer(v.i);
	case JV_TIME:
		util__format_time(v.i, buf);
		return json_string(buf);
	case JV_BOOL:
		return json_boolean(v.i);
	case JV_TEXT:
		return jsonrec__text(v.b.p, v.b.len);
	case JV_B64:
		return jsonrec__b64(v.b.p, v.b.len);
	case JV_ARGS:
		return jsonrec__args(v.b.p, v.b.len);
	case JV_HEX:
		return jsonrec__hex(v.b.p, v.b.len);
	case JV_READ_PATHS:
		return jsonrec__read_paths((uint64_t)v.i);
	case JV_ABI:
		return jsonrec__abi((uint32_t)v.i);
	default:
		return json_null();
	}
}

json_t *jsonrec__object(const struct jsonrec_view *v)
{
	struct obj b = { json_object(), false };

	if (!b.o) {
		errno = ENOMEM;
		return NULL;
	}
	for (int f = 0; f < JF_MAX; f++)
		put(&b, keys[f], jsonrec__json(jsonrec__value(v, f)));
	return done(&b);
}

json_t *jsonrec__custos(const struct record *r, const char *host)
{
	struct jsonrec_view v;
	json_t *j = NULL;

	if (!jsonrec__view(&v, r, host ? str(host) : record__bytes(NULL, 0)))
		j = jsonrec__object(&v);
	else
		errno = ENOMEM;
	jsonrec__view_free(&v);
	return j;
}

/* ---- OCSF ---------------------------------------------------------------- */

static const char *const severity_caption[] = { "Unknown", "Informational", "Low",
						"Medium",  "High",	    "Critical" };

/* OCSF times are timestamp_t: milliseconds since the epoch. */
static json_int_t ms(int64_t ns)
{
	return ns / 1000000;
}

/* The last component of a path, as bytes of it. */
static struct bytes base_name(struct bytes path)
{
	const uint8_t *slash = path.len ? memrchr(path.p, '/', path.len) : NULL;

	if (!slash)
		return path;
	return (struct bytes){ slash + 1, (uint16_t)(path.len - (slash + 1 - path.p)) };
}

static json_t *str_of_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

/* An OCSF file object; type is unknown (0): the kernel event does not carry
 * the inode's mode, and the path may name a directory. */
static json_t *ocsf_file(struct bytes path, uint64_t dev, uint64_t ino)
{
	struct obj b = { json_object(), false };
	struct bytes name = base_name(path);
	char uid[48];

	if (!b.o)
		return NULL;
	put(&b, "name", jsonrec__text(name.p, name.len));
	put(&b, "path", jsonrec__text(path.p, path.len));
	if (name.p > path.p)
		put(&b, "parent_folder", jsonrec__text(path.p, (size_t)(name.p - path.p - 1) ?: 1));
	put(&b, "type_id", json_integer(0));
	put(&b, "type", json_string("Unknown"));
	if (dev || ino) {
		snprintf(uid, sizeof(uid), "%" PRIu64 ":%" PRIu64, dev, ino);
		put(&b, "uid", json_string(uid));
	}
	return done(&b);
}

static json_t *ocsf_metadata(const struct record *r, const char *version)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:o, s:I, s:I}", "version", OCSF_VERSION,
			 "product", "name", "custos", "vendor_name", "custos", "version",
			 version ? version : "unknown", "log_name", "custos", "uid",
			 str_of_u64(r->seq), "sequence", (json_int_t)r->seq, "logged_time",
			 ms((int64_t)r->t_real_ns));
}

static json_t *ocsf_device(const char *host)
{
	return json_pack(
		"{s:o, s:i, s:s}", "hostname",
		jsonrec__text((const uint8_t *)(host ? host : ""), host ? strlen(host) : 0),
		"type_id", 1, "type", "Server");
}

/* The process and user of an access. */
static json_t *ocsf_actor(const struct rec_access *a)
{
	struct obj proc = { json_object(), false }, user = { json_object(), false };
	struct bytes exe = a->exe;
	char cmd[RECORD_ARGS_MAX + 1];
	size_t n = a->args.len < RECORD_ARGS_MAX ? a->args.len : RECORD_ARGS_MAX;

	if (!proc.o || !user.o) {
		json_decref(proc.o);
		json_decref(user.o);
		return NULL;
	}
	put(&proc, "pid", json_integer(a->pid));
	put(&proc, "tid", json_integer(a->tid));
	put(&proc, "name", jsonrec__text(a->comm.p, a->comm.len));
	if (n) {
		/* The arguments are NUL-separated; a command line shows them with spaces. */
		memcpy(cmd, a->args.p, n);
		for (size_t i = 0; i < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		while (n && cmd[n - 1] == ' ')
			n--;
		put(&proc, "cmd_line", jsonrec__text((const uint8_t *)cmd, n));
	}
	if (exe.len)
		put(&proc, "file", ocsf_file(exe, 0, 0));
	put(&proc, "parent_process", json_pack("{s:i}", "pid", (int)a->ppid));
	if (a->start_ns)
		put(&proc, "created_time", json_integer(ms((int64_t)a->start_ns)));
	if (a->container.len)
		put(&proc, "container",
		    json_pack("{s:o}", "uid", jsonrec__text(a->container.p, a->container.len)));
	put(&proc, "session",
	    json_pack("{s:o, s:o}", "uid", str_of_u64(a->sessionid), "uid_alt",
		      str_of_u64(a->sid)));
	/* user.uid is a string in OCSF; the person from the staff directory is its name. */
	put(&user, "uid", str_of_u64(a->uid));
	if (a->person.len)
		put(&user, "name", jsonrec__text(a->person.p, a->person.len));
	put(&proc, "user", json_incref(user.o));
	if (!done(&proc) || !done(&user))
		return NULL;
	return json_pack("{s:o, s:o}", "process", proc.o, "user", user.o);
}

/* Fields of custos without an OCSF attribute, kept under "unmapped". */
static json_t *access_unmapped(const struct record *r)
{
	const struct rec_access *a = &r->access;
	const bool rd = a->op == OP_READ || a->op == OP_READ_CALL;
	struct obj b = { json_object(), false };

	if (!b.o)
		return NULL;
	put(&b, "action", json_string(record__action(r)));
	put(&b, "result", json_integer(a->result));
	put(&b, "open_flags", json_integer(a->open_flags));
	put(&b, "dataset", text_or_null(a->dataset));
	put(&b, "person", text_or_null(a->person));
	put(&b, "attribution", text_or_null(a->attribution));
	put(&b, "team", text_or_null(a->team));
	put(&b, "role", text_or_null(a->role));
	put(&b, "lineage", text_or_null(a->lineage));
	put(&b, "loginuid", json_integer(a->loginuid));
	put(&b, "euid", json_integer(a->euid));
	if (rd) {
		put(&b, "bytes", json_integer((json_int_t)a->bytes));
		put(&b, "reads", json_integer((json_int_t)a->reads));
		put(&b, "read_paths", jsonrec__read_paths(a->read_paths));
	}
	if (a->path.len && !utf8_exact(a->path.p, a->path.len))
		put(&b, "path_b64", jsonrec__b64(a->path.p, a->path.len));
	if (a->target.len && !utf8_exact(a->target.p, a->target.len))
		put(&b, "target_b64", jsonrec__b64(a->target.p, a->target.len));
	put(&b, "abi", jsonrec__abi(a->abi));
	if (a->session)
		put(&b, "session", json_integer((json_int_t)a->session));
	if (a->op == OP_OPEN)
		put(&b, "discovered", json_boolean(a->access_flags & RECORD_ACCESS_DISCOVERED));
	return done(&b);
}

static json_t *ocsf_access(const struct record *r, const char *host, const char *version)
{
	const struct rec_access *a = &r->access;
	int activity = 99;
	const char *activity_name = "Other";
	const bool failed = a->result < 0;
	char type_name[64], status[128] = "";
	json_t *j;

	switch (a->op) {
	case OP_OPEN:
		activity = 14;
		activity_name = "Open";
		break;
	case OP_READ:
	case OP_READ_CALL:
		activity = 2;
		activity_name = "Read";
		break;
	case OP_MMAP:
		/*
		 * A mapping lets the process read the file's pages with plain
		 * memory loads, which no later event shows: the mapping is the
		 * read as far as an auditor can see it.  Open is the handle,
		 * recorded on its own.  So Read, with the action kept in
		 * unmapped.action.
		 */
		activity = 2;
		activity_name = "Read";
		break;
	case OP_LINK:
		/*
		 * OCSF 1.3 has no activity for a hard link.  Create is what
		 * it does to the file system: a new name, file_result, from
		 * which the protected data can be read outside its tree.
		 * Other would hide exactly that from every consumer that
		 * watches what is created where; unmapped.action says link.
		 */
		activity = 1;
		activity_name = "Create";
		break;
	case OP_RENAME:
		activity = 5;
		activity_name = "Rename";
		break;
	}
	snprintf(type_name, sizeof(type_name), "File System Activity: %s", activity_name);
	if (failed)
		snprintf(status, sizeof(status), "%s", strerror(-a->result));
	j = json_pack("{s:i, s:s, s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:s, s:I, s:i, s:i, s:s,"
		      " s:o, s:o, s:o, s:o, s:o, s:o}",
		      "class_uid", 1001, "class_name", "File System Activity", "category_uid", 1,
		      "category_name", "System Activity", "activity_id", activity, "activity_name",
		      activity_name, "type_uid", (json_int_t)1001 * 100 + activity, "type_name",
		      type_name, "severity_id", 1, "severity", severity_caption[1], "time",
		      ms(jsonrec__time_ns(r)), "timezone_offset", 0, "status_id", failed ? 2 : 1,
		      "status", failed ? "Failure" : "Success", "metadata",
		      ocsf_metadata(r, version), "device", ocsf_device(host), "actor",
		      ocsf_actor(a), "file", ocsf_file(a->path, a->dev, a->ino), "unmapped",
		      access_unmapped(r), "message", json_string(record__action(r)));
	if (j && failed) {
		if (json_object_set_new(j, "status_code", json_integer(a->result)) ||
		    json_object_set_new(j, "status_detail", json_string(status))) {
			json_decref(j);
			return NULL;
		}
	}
	/* The new name.  A failed link or rename made none: no inode to name. */
	if (j && (a->op == OP_LINK || a->op == OP_RENAME) &&
	    json_object_set_new(j, "file_result",
				ocsf_file(a->target, failed ? 0 : a->dev, failed ? 0 : a->ino))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *ocsf_alert(const struct record *r, const char *host, const char *version)
{
	const struct rec_alert *al = &r->alert;
	uint32_t sev = al->severity >= SEV_INFO && al->severity <= SEV_CRITICAL ? al->severity : 0;
	char uid[300], *detail = record__detail(r);
	json_t *info, *j, *resources = NULL;

	/* Unique across hosts and runs: the host's log and the record's place in it. */
	snprintf(uid, sizeof(uid), "%s/%" PRIu64, host ? host : "", r->seq);
	info = json_pack(
		"{s:s, s:o, s:o, s:{s:o, s:o, s:i, s:s}, s:[s], s:[{s:o}]}", "uid", uid, "title",
		al->summary.len ? jsonrec__text(al->summary.p, al->summary.len)
				: jsonrec__text(al->rule.p, al->rule.len),
		"desc", detail ? json_string(detail) : json_string(""), "analytic", "uid",
		jsonrec__text(al->rule.p, al->rule.len), "name",
		jsonrec__text(al->rule.p, al->rule.len), "type_id", 1, "type", "Rule", "types",
		"custos rule", "related_events", "uid", str_of_u64(al->cause_seq));
	free(detail);
	if (al->path.len)
		resources = json_pack("[{s:s, s:o, s:o}]", "type", "file", "name",
				      jsonrec__text(al->path.p, al->path.len), "data",
				      json_pack("{s:o}", "file", ocsf_file(al->path, 0, 0)));
	j = json_pack("{s:i, s:s, s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:s, s:I, s:i, s:i, s:s,"
		      " s:b, s:o, s:o, s:o, s:o, s:{s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o}}",
		      "class_uid", 2004, "class_name", "Detection Finding", "category_uid", 2,
		      "category_name", "Findings", "activity_id", 1, "activity_name", "Create",
		      "type_uid", (json_int_t)200401, "type_name", "Detection Finding: Create",
		      "severity_id", (int)sev, "severity", severity_caption[sev], "time",
		      ms((int64_t)r->t_real_ns), "timezone_offset", 0, "status_id", 1, "status",
		      "New", "is_alert", 1, "metadata", ocsf_metadata(r, version), "device",
		      ocsf_device(host), "finding_info", info, "resources",
		      resources ? resources : json_array(), "unmapped", "rule",
		      jsonrec__text(al->rule.p, al->rule.len), "cause_seq",
		      (json_int_t)al->cause_seq, "count", (json_int_t)al->count, "bytes",
		      (json_int_t)al->bytes, "window_ns", (json_int_t)al->window_ns, "person",
		      text_or_null(al->person), "dataset", text_or_null(al->dataset), "rules",
		      jsonrec__hex(al->rules, sizeof(al->rules)));
	return j;
}

/*
 * The collector's own life (start, stop) and what it could not see (loss,
 * gap) as Event Log Activity: the logging service started or stopped, and
 * Other for the two that OCSF has no activity for.  A gap is medium and a
 * loss high: records are missing from the audit trail.
 */
static json_t *ocsf_log_activity(const struct record *r, const char *host, const char *version)
{
	char *detail = record__detail(r);
	int activity = 99, sev = 1;
	const char *name = "Other";
	char type_name[64];
	json_t *j;

	switch (r->type) {
	case REC_START:
		activity = 6;
		name = "Start";
		break;
	case REC_STOP:
		activity = 7;
		name = "Stop";
		break;
	case REC_GAP:
		name = "Gap";
		sev = 3;
		break;
	case REC_LOSS:
		name = "Loss";
		sev = 4;
		break;
	}
	snprintf(type_name, sizeof(type_name), "Event Log Activity: %s", name);
	j = json_pack("{s:i, s:s, s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:s, s:I, s:i, s:s, s:s,"
		      " s:o, s:o, s:o, s:{s:s, s:o}}",
		      "class_uid", 1008, "class_name", "Event Log Activity", "category_uid", 1,
		      "category_name", "System Activity", "activity_id", activity, "activity_name",
		      name, "type_uid", (json_int_t)1008 * 100 + activity, "type_name", type_name,
		      "severity_id", sev, "severity", severity_caption[sev], "time",
		      ms((int64_t)r->t_real_ns), "timezone_offset", 0, "log_name", "custos",
		      "log_provider", "custosd", "metadata", ocsf_metadata(r, version), "device",
		      ocsf_device(host), "message", detail ? json_string(detail) : json_string(""),
		      "unmapped", "action", record__action(r), "detail",
		      detail ? json_string(detail) : json_null());
	free(detail);
	if (j && r->type == REC_GAP &&
	    (json_object_set_new(j, "start_time", json_integer(ms((int64_t)r->gap.from_ns))) ||
	     json_object_set_new(j, "end_time", json_integer(ms((int64_t)r->gap.to_ns))))) {
		json_decref(j);
		return NULL;
	}
	if (j && r->type == REC_START &&
	    json_object_set_new(j, "actor",
				json_pack("{s:{s:i, s:s}}", "process", "pid", (int)r->start.pid,
					  "name", "custosd"))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *jsonrec__ocsf(const struct record *r, const char *host, const char *version)
{
	json_t *j;

	switch (r->type) {
	case REC_FILE_ACCESS:
		j = ocsf_access(r, host, version);
		break;
	case REC_ALERT:
		j = ocsf_alert(r, host, version);
		break;
	case REC_START:
	case REC_STOP:
	case REC_LOSS:
	case REC_GAP:
		j = ocsf_log_activity(r, host, version);
		break;
	default:
		errno = EINVAL;
		return NULL;
	}
	if (!j)
		errno = ENOMEM;
	return j;
}
