/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A record as a JSON object: the custos form, with the keys and encodings
 * of `custos query --format json`, and OCSF 1.3 events for exports.  The
 * byte encoders are the ones query uses for its rows, so both agree on how
 * raw path bytes become JSON.
 */
#ifndef CUSTOS_JSONREC_H
#define CUSTOS_JSONREC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define OCSF_VERSION "1.3.0"

/* Each returns a new reference, or NULL when out of memory. */

/* The bytes as a JSON string; a byte that is not part of valid UTF-8, and
 * NUL, becomes U+FFFD. */
json_t *jsonrec__text(const uint8_t *p, size_t n);

/* Base64 of the bytes when jsonrec__text could not keep them exactly, else
 * null. */
json_t *jsonrec__b64(const uint8_t *p, size_t n);

/* NUL-separated arguments as an array of strings. */
json_t *jsonrec__args(const uint8_t *p, size_t n);

/* enum custos_read_path bits as an array of syscall names. */
json_t *jsonrec__read_paths(uint64_t bits);

/* enum custos_abi bits as "x86_64", "i386", "x32", joined with ","
 * (record__abi_names); null for 0. */
json_t *jsonrec__abi(uint32_t abi);

/* The bytes in lowercase hex (null when longer than 64). */
json_t *jsonrec__hex(const uint8_t *p, size_t n);

/*
 * The fields of a record as custos shows it, in order: the keys of the
 * custos form (custos query --format json, exports), whose values the CSV
 * and the table of custos query print too.  An integer field is I(id, key,
 * records that have it, kind, member of struct record), a byte field B(...)
 * alike, S(id, key) one jsonrec.c computes.  The records that have a field
 * follow the store's rows: access fields are null for other records, the
 * read fields unless the op reads, an alert's for others; an empty byte
 * field is null, as the store keeps it.
 */
#define JSONREC_FIELDS(I, B, S)                                                                    \
	I(SEQ, "seq", ANY, JV_INT, seq)                                                            \
	S(TIME, "time")                                                                            \
	S(HOST, "host")                                                                            \
	S(ACTION, "action")                                                                        \
	I(RESULT, "result", ACCESS, JV_INT, access.result)                                         \
	I(FLAGS, "flags", ACCESS, JV_INT, access.open_flags)                                       \
	B(PATH, "path", ACCESS, JV_TEXT, access.path)                                              \
	B(PATH_B64, "path_b64", ACCESS, JV_B64, access.path)                                       \
	B(TARGET, "target", ACCESS, JV_TEXT, access.target)                                        \
	B(TARGET_B64, "target_b64", ACCESS, JV_B64, access.target)                                 \
	I(TRUNCATED, "truncated", ACCESS, JV_BOOL, access.path_flags &CUSTOS_PATH_TRUNCATED)       \
	I(DELETED, "deleted", ACCESS, JV_BOOL, access.path_flags &CUSTOS_PATH_DELETED)             \
	I(UNRESOLVED, "unresolved", ACCESS, JV_BOOL, access.path_flags &CUSTOS_PATH_UNRESOLVED)    \
	I(FS_RELATIVE, "fs_relative", ACCESS, JV_BOOL, access.path_flags &CUSTOS_PATH_FSREL)       \
	I(DEV, "dev", ACCESS, JV_INT, access.dev)                                                  \
	I(INO, "ino", ACCESS, JV_INT, access.ino)                                                  \
	I(MNT_ID, "mnt_id", ACCESS, JV_INT, access.mnt_id)                                         \
	B(DATASET, "dataset", ACCESS, JV_TEXT, access.dataset)                                     \
	I(BYTES, "bytes", READ, JV_INT, access.bytes)                                              \
	I(READS, "reads", READ, JV_INT, access.reads)                                              \
	I(FIRST_TIME, "first_time", READ, JV_TIME, access.first_ns)                                \
	I(LAST_TIME, "last_time", READ, JV_TIME, access.last_ns)                                   \
	I(PID, "pid", ACCESS, JV_INT, access.pid)                                                  \
	I(TID, "tid", ACCESS, JV_INT, access.tid)                                                  \
	I(PPID, "ppid", ACCESS, JV_INT, access.ppid)                                               \
	B(COMM, "comm", ACCESS, JV_TEXT, access.comm)                                              \
	B(EXE, "exe", ACCESS, JV_TEXT, access.exe)                                                 \
	I(UID, "uid", ACCESS, JV_INT, access.uid)                                                  \
	I(EUID, "euid", ACCESS, JV_INT, access.euid)                                               \
	I(FSUID, "fsuid", ACCESS, JV_INT, access.fsuid)                                            \
	I(GID, "gid", ACCESS, JV_INT, access.gid)                                                  \
	I(EGID, "egid", ACCESS, JV_INT, access.egid)                                               \
	I(LOGINUID, "loginuid", ACCESS, JV_INT, access.loginuid)                                   \
	I(SESSIONID, "sessionid", ACCESS, JV_INT, access.sessionid)                                \
	I(CPU, "cpu", ACCESS, JV_INT, access.bpf_cpu)                                              \
	I(BPF_SEQ, "bpf_seq", ACCESS, JV_INT, access.bpf_seq)                                      \
	S(DETAIL, "detail")                                                                        \
	B(PERSON, "person", ACCESS, JV_TEXT, access.person)                                        \
	B(ATTRIBUTION, "attribution", ACCESS, JV_TEXT, access.attribution)                         \
	B(TEAM, "team", ACCESS, JV_TEXT, access.team)                                              \
	B(ROLE, "role", ACCESS, JV_TEXT, access.role)                                              \
	I(LEFT, "left", ACCESS, JV_BOOL, access.staff_flags &RECORD_STAFF_LEFT)                    \
	B(DIRECTORY, "directory", ACCESS, JV_HEX, access.directory)                                \
	B(LINEAGE, "lineage", ACCESS, JV_TEXT, access.lineage)                                     \
	B(ARGS, "args", ACCESS, JV_ARGS, access.args)                                              \
	I(SID, "sid", ACCESS, JV_INT, access.sid)                                                  \
	I(TTY, "tty", ACCESS, JV_INT, access.tty)                                                  \
	B(CONTAINER, "container", ACCESS, JV_TEXT, access.container)                               \
	I(CGROUP_ID, "cgroup_id", ACCESS, JV_INT, access.cgroup_id)                                \
	I(READ_PATHS, "read_paths", READ, JV_READ_PATHS, access.read_paths)                        \
	I(PARTIAL, "partial", SESSION_READ, JV_BOOL, access.partial)                               \
	I(MIN_OFFSET, "min_offset", OFFSETS, JV_INT, access.min_offset)                            \
	I(MAX_OFFSET, "max_offset", OFFSETS, JV_INT, access.max_offset)                            \
	I(ABI, "abi", ACCESS, JV_ABI, access.abi)                                                  \
	I(SESSION, "session", IN_SESSION, JV_INT, access.session)                                  \
	I(DISCOVERED, "discovered", OPEN, JV_BOOL, access.access_flags &RECORD_ACCESS_DISCOVERED)  \
	B(RULE, "rule", ALERT, JV_TEXT, alert.rule)                                                \
	S(SEVERITY, "severity")                                                                    \
	I(CAUSE_SEQ, "cause_seq", ALERT, JV_INT, alert.cause_seq)

#define JSONREC_FIELD_ID(id, key, ...) JF_##id,
enum jsonrec_field { JSONREC_FIELDS(JSONREC_FIELD_ID, JSONREC_FIELD_ID, JSONREC_FIELD_ID) JF_MAX };
#undef JSONREC_FIELD_ID

/* What a field holds for one record; JV_NULL when it has no value there. */
enum jsonrec_kind {
	JV_NULL,
	JV_INT,	       /* i */
	JV_TIME,       /* i: ns since the epoch, shown in RFC 3339 */
	JV_BOOL,       /* i: 0 or 1 */
	JV_TEXT,       /* b: raw bytes (JSON: lossy UTF-8) */
	JV_B64,	       /* b: base64 when JV_TEXT could not keep them exactly */
	JV_ARGS,       /* b: NUL-separated arguments */
	JV_HEX,	       /* b: in lowercase hex */
	JV_READ_PATHS, /* i: enum custos_read_path bits */
	JV_ABI,	       /* i: enum custos_abi bits */
};

struct jsonrec_value {
	enum jsonrec_kind kind;
	int64_t i;
	struct bytes b;
};

/* A record as it is shown: with its host and its detail line, made once. */
struct jsonrec_view {
	const struct record *r;
	struct bytes host; /* len 0: none known */
	char *detail;	   /* record__detail's; NULL for an access */
};

/* 0, or -ENOMEM; jsonrec__view_free in either case. */
int jsonrec__view(struct jsonrec_view *v, const struct record *r, struct bytes host);
void jsonrec__view_free(struct jsonrec_view *v);

/* The value of field f for the record of v, and the field's key. */
struct jsonrec_value jsonrec__value(const struct jsonrec_view *v, enum jsonrec_field f);
const char *jsonrec__key(enum jsonrec_field f);

/* The value in JSON: a new reference, or NULL when out of memory. */
json_t *jsonrec__json(struct jsonrec_value v);

/* The object of every field for v: custos query's line. */
json_t *jsonrec__object(const struct jsonrec_view *v);

/* The object custos query prints for r, on the host named host (NULL: null). */
json_t *jsonrec__custos(const struct record *r, const char *host);

/*
 * r as an OCSF event: an access (a link and a rename too: their new name is
 * file_result) is File System Activity (1001), an alert a
 * Detection Finding (2004), start, stop, loss and gap Event Log Activity
 * (1008).  NULL with errno EINVAL for other types, ENOMEM.
 */
json_t *jsonrec__ocsf(const struct record *r, const char *host, const char *version);

/* The time a record is shown with: an access's own time, else when it was written. */
int64_t jsonrec__time_ns(const struct record *r);

#endif /* CUSTOS_JSONREC_H */
