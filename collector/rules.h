/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Alert rules: conditions over the records as custosd appends them.  A rule
 * that fires becomes an ALERT record in the ledger (and leaves through the
 * exports), so auditors see what fired and under which rules.
 *
 * File format: YAML (libyaml), one mapping:
 *
 *   timezone: utc            # or "local" (custosd's TZ); for hours and days
 *   rules:
 *     - id: after-hours       # required, unique: letters, digits, "-", "_", "."
 *       severity: high        # required: info, low, medium, high, critical
 *       description: Customer data read at night     # optional (default: the id)
 *       match:                # optional; every condition given must hold
 *         action: [open, read]        # default: open, read, read_call, mmap, link, rename
 *         dataset: [customers]
 *         path: ["/srv/customers/?*"]  # shell globs; "*" also matches "/"
 *         exe: ["/usr/bin/?*"]
 *         comm: [cat]
 *         person: [e1001]             # staff id or "service:NAME"
 *         team: [storage-ops]
 *         role: [sre]
 *         uid: [1001]                 # uid or effective uid
 *         result: failed              # ok, failed, denied (EACCES/EPERM), or -13
 *         unattributed: true          # no person could be named
 *         left: true                  # the person's status is "left"
 *         hours: "19:00-07:00"        # matches inside this window (may wrap midnight)
 *         days: [sat, sun]
 *       threshold:            # optional: fire when, for one person, the matching
 *         window: 60s         # records of the last `window` reach `count`
 *         count: 100          # records, or `bytes` bytes read; then start
 *         bytes: 104857600    # counting afresh
 *
 * Bytes read count once per read session, as they are read: each read
 * record adds what its session read since the session's bytes last counted
 * (a progress report carries the totals so far), so a long session reaches
 * a threshold while it is open and its final record adds only the rest.
 * A record without a session id counts only when final; read_call records
 * never count (their session does).
 *
 * A value that is a list may also be a single scalar.  The actions are
 * those of `custos query`: open, read, read_call, mmap, link, rename, loss,
 * gap, start, stop, clock, config.  Conditions on an access (dataset, path, ...) never
 * hold for loss or gap records.  Anything else is an error: an unknown key,
 * a duplicate key, a wrong type, a bad value.  The whole file is refused on
 * the first one, with its line.
 *
 * The rules' version is the SHA-256 of the file's bytes.
 */
#ifndef CUSTOS_RULES_H
#define CUSTOS_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define RULES_VERSION_LEN 32

struct rules;

/* Load and check FILE.  NULL on any error, with one line ("line 12: unknown
 * key 'sevrity'", or why the file could not be read) in err. */
struct rules *rules__load(const char *path, char *err, size_t errlen);

/* The same from text in memory (for tests); version is of the text. */
struct rules *rules__parse(const char *text, size_t len, char *err, size_t errlen);

void rules__free(struct rules *r);

size_t rules__count(const struct rules *r);
const uint8_t *rules__version(const struct rules *r);
/* Hex of the version, NUL-terminated, owned by r. */
const char *rules__version_hex(const struct rules *r);

/* A rule fired: the ALERT record to append.  Its bytes point into r and into
 * the record evaluated; valid during the call.  Returns 0 or -errno. */
typedef int (*rules_fire_fn)(void *ctx, struct record *alert);

/*
 * Evaluate every rule on rec, a record just given its seq.  ALERT records
 * are not evaluated.  Returns 0, or the first error fire returned.
 */
int rules__eval(struct rules *r, const struct record *rec, rules_fire_fn fire, void *ctx);

#endif /* CUSTOS_RULES_H */
