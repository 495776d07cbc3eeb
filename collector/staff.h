/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The staff directory: who a uid or a login name belongs to, so that every file access is
 * attributed to a person (or to a service account, or explicitly to nobody).
 *
 * File format, version 1.  One JSON object (RFC 8259, UTF-8):
 *
 *   {
 *     "version": 1,
 *     "staff": [
 *       { "id": "e1001", "name": "Alice Martin", "logins": ["alice", "amartin"],
 *         "uids": [1001], "team": "storage-ops", "role": "sre",
 *         "email": "alice@example.org", "status": "active" }
 *     ],
 *     "services": [
 *       { "name": "backup", "logins": ["backup"], "uids": [34], "owner": "e1001" }
 *     ]
 *   }
 *
 *   version   required; the integer 1.  It is checked before anything else, so a file written
 *             for a later format is refused as such rather than for its new keys.
 *   staff     optional array of staff members:
 *     id        required, unique among staff ids (an HR or employee number, say)
 *     name      required, the person's display name
 *     status    required, "active" or "left".  People who left stay in the directory so that
 *               old accounts that still act are attributed to them, and flagged.
 *     logins    optional array of login names
 *     uids      optional array of uids, integers 0..4294967294 (4294967295 is the kernel's
 *               "unset" loginuid and never a real uid)
 *     team, role, email   optional
 *   services  optional array of service accounts:
 *     name      required, unique among service names
 *     logins, uids   as for staff
 *     owner     optional, the id of the staff member responsible for the service
 *
 * Every entry needs at least one login or uid.  A login or a uid belongs to at most one entry,
 * staff or service.  Every string is non-empty, at most 255 bytes of UTF-8, with no control
 * character (C0, DEL or C1).  Optional fields are omitted, not null.  Anything else is an
 * error: unknown keys (a misspelt key must not silently drop a rule), duplicate keys in one
 * object, values of the wrong type.  The whole file is refused on the first error.
 *
 * A login is matched exactly (case matters, as for the kernel and NSS), against the name NSS
 * gives for a uid (getpwuid_r), so a directory may name people by login only and work on hosts
 * whose uids differ; a uid listed in the directory is preferred to the NSS name of that uid.
 *
 * The directory's version is the SHA-256 of the file's bytes, exactly as read and parsed.
 */
#ifndef CUSTOS_STAFF_H
#define CUSTOS_STAFF_H

#include <stddef.h>
#include <stdint.h>

#define STAFF_VERSION_LEN 32
#define STAFF_UID_UNSET	  4294967295u
#define STAFF_TEXT_MAX	  255 /* bytes in any string of the file, NUL excluded */

/* An immutable loaded directory. */
struct staff;

/* A staff member; points into the directory and is valid while it lives. */
struct staff_person {
	const char *id, *name, *team, *role, *email; /* team, role, email may be NULL */
	int left;				     /* status "left" */
};

/*
 * Load and validate the directory at path.  Returns it, or NULL with errno set (ENOENT and the
 * like from opening and reading, EFBIG for a file over 16 MiB, EINVAL for a malformed
 * directory, ENOMEM) and a one-line reason in err (errcap bytes, always NUL-terminated when
 * errcap > 0), e.g. "staff.json: staff[3].uids[0]: uid 1001 already belongs to e1001" or
 * "staff.json: line 4, column 17: duplicate object key".  The reason is not logged: at start a bad
 * directory is fatal, on SIGHUP the caller logs it and keeps the old directory.  Free with
 * staff__free().
 */
struct staff *staff__load(const char *path, char *err, size_t errcap);

/* Free a directory and its NSS cache; every pointer into it becomes invalid.  NULL is ok. */
void staff__free(struct staff *s);

/* The SHA-256 of the file: STAFF_VERSION_LEN bytes owned by s. */
const uint8_t *staff__version(const struct staff *s);

/* The same as 64 lowercase hex digits, NUL-terminated, owned by s. */
const char *staff__version_hex(const struct staff *s);

/* The number of staff members (services not included). */
size_t staff__count(const struct staff *s);

/* The number of service accounts. */
size_t staff__service_count(const struct staff *s);

/*
 * Directory lookups, without NSS.  The person (or service name) listing uid or login, or NULL
 * when no entry of that kind lists it.  The result points into s.
 */
const struct staff_person *staff__by_uid(const struct staff *s, uint32_t uid);
const struct staff_person *staff__by_login(const struct staff *s, const char *login);
const char *staff__service_by_uid(const struct staff *s, uint32_t uid);
const char *staff__service_by_login(const struct staff *s, const char *login);

/* The owner of the service named service, or NULL if it has none or there is no such service. */
const struct staff_person *staff__service_owner(const struct staff *s, const char *service);

/* How an access was attributed; the values are stable, records may store them. */
enum staff_method {
	STAFF_LOGINUID = 1,
	STAFF_UID = 2,
	STAFF_SERVICE = 3,
	STAFF_UNATTRIBUTED = 4,
};

struct staff_attribution {
	enum staff_method method;
	const struct staff_person *person; /* LOGINUID and UID: the person; else NULL */
	char service[256];		   /* SERVICE: the service name; else "" */
	/*
	 * The login name of the uid the method names (the loginuid for LOGINUID, the uid for UID,
	 * whichever matched for SERVICE; for UNATTRIBUTED the loginuid's when it is set and has
	 * one, else the uid's): its NSS name, else the first login of the directory entry that
	 * lists the uid, else "".
	 */
	char login[256];
};

/*
 * Attribute an access by a process with audit loginuid and real uid.  An entry "owns" a uid
 * when it lists the uid, or else when it lists the uid's NSS login name.
 *   1. loginuid set (not STAFF_UID_UNSET) and owned by a person: STAFF_LOGINUID, whatever uid
 *      is now (sudo to root keeps the person); owned by a service: STAFF_SERVICE.
 *   2. Otherwise uid owned by a person: STAFF_UID; by a service: STAFF_SERVICE.
 *   3. Otherwise STAFF_UNATTRIBUTED.
 * s may be NULL (no directory configured): the result is then STAFF_UNATTRIBUTED with only the
 * NSS login filled in.  NSS answers are cached in s (or, for s == NULL, in one bounded
 * process-wide cache): a found name for 10 minutes, "no such uid" and NSS failures for 1 minute.
 * Thread-safe.  out->person points into s.
 */
void staff__resolve(const struct staff *s, uint32_t loginuid, uint32_t uid,
		    struct staff_attribution *out);

/* "loginuid", "uid", "service", "unattributed"; "unknown" for any other value. */
const char *staff__method_name(enum staff_method m);

#endif /* CUSTOS_STAFF_H */
