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
 * and the table of custos query print too.  (id, key)
 */
#define JSONREC_FIELDS(X)                                                                          \
	X(SEQ, "seq")                                                                              \
	X(TIME, "time")                                                                            \
	X(HOST, "host")                                                                            \
	X(ACTION, "action")                                                                        \
	X(RESULT, "result")                                                                        \
	X(FLAGS, "flags")                                                                          \
	X(PATH, "path")                                                                            \
	X(PATH_B64, "path_b64")                                                                    \
	X(TARGET, "target")                                                                        \
	X(TARGET_B64, "target_b64")                                                                \
	X(TRUNCATED, "truncated")                                                                  \
	X(DELETED, "deleted")                                                                      \
	X(UNRESOLVED, "unresolved")                                                                \
	X(FS_RELATIVE, "fs_relative")                                                              \
	X(DEV, "dev")                                                                              \
	X(INO, "ino")                                                                              \
	X(MNT_ID, "mnt_id")                                                                        \
	X(DATASET, "dataset")                                                                      \
	X(BYTES, "bytes")                                                                          \
	X(READS, "reads")                                                                          \
	X(FIRST_TIME, "first_time")                                                                \
	X(LAST_TIME, "last_time")                                                                  \
	X(PID, "pid")                                                                              \
	X(TID, "tid")                                                                              \
	X(PPID, "ppid")                                                                            \
	X(COMM, "comm")                                                                            \
	X(EXE, "exe")                                                                              \
	X(UID, "uid")                                                                              \
	X(EUID, "euid")                                                                            \
	X(FSUID, "fsuid")                                                                          \
	X(GID, "gid")                                                                              \
	X(EGID, "egid")                                                                            \
	X(LOGINUID, "loginuid")                                                                    \
	X(SESSIONID, "sessionid")                                                                  \
	X(CPU, "cpu")                                                                              \
	X(BPF_SEQ, "bpf_seq")                                                                      \
	X(DETAIL, "detail")                                                                        \
	X(PERSON, "person")                                                                        \
	X(ATTRIBUTION, "attribution")                                                              \
	X(TEAM, "team")                                                                            \
	X(ROLE, "role")                                                                            \
	X(LEFT, "left")                                                                            \
	X(DIRECTORY, "directory")                                                                  \
	X(LINEAGE, "lineage")                                                                      \
	X(ARGS, "args")                                                                            \
	X(SID, "sid")                                                                              \
	X(TTY, "tty")                                                                              \
	X(CONTAINER, "container")                                                                  \
	X(CGROUP_ID, "cgroup_id")                                                                  \
	X(READ_PATHS, "read_paths")                                                                \
	X(PARTIAL, "partial")                                                                      \
	X(MIN_OFFSET, "min_offset")                                                                \
	X(MAX_OFFSET, "max_offset")                                                                \
	X(ABI, "abi")                                                                              \
	X(SESSION, "session")                                                                      \
	X(DISCOVERED, "discovered")                                                                \
	X(RULE, "rule")                                                                            \
	X(SEVERITY, "severity")                                                                    \
	X(CAUSE_SEQ, "cause_seq")

#define JSONREC_FIELD_ID(id, key) JF_##id,
enum jsonrec_field { JSONREC_FIELDS(JSONREC_FIELD_ID) JF_MAX };
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
