// SPDX-License-Identifier: BSD-2-Clause
/* The store's tables (store.h, store_int.h): what its writer and its
 * readers agree on. */
#include <stddef.h>

#include "store.h"
#include "store_int.h"

/*
 * Layout.  A record row holds the header and the values that change per
 * event; what repeats (the process, the credentials, the file, the boot) is
 * kept once in a dictionary table and referenced by id.  The canonical bytes
 * of a record are re-encoded from a row and its dictionary rows, so any
 * change to either changes the leaf hash.  prev_leaf is stored so that one
 * record's leaf can be computed without its predecessors.  Other record
 * types keep their canonical body in `body`.  Event times are stored as
 * differences (event_d = t_real - event, first_d and last_d = event - first,
 * last): a few bytes instead of eight each.
 */
/* ", pid INTEGER" in the table, "pid" or ", tid" in its UNIQUE. */
#define SCHEMA_COL(col, type, kind, max)   ", " #col " " #type
#define UNIQUE_FIRST(col, type, kind, max) #col
#define UNIQUE_REST(col, type, kind, max)  ", " #col
#define DICT_TABLE(name, cols)                                                                     \
	"CREATE TABLE IF NOT EXISTS " name " (id INTEGER PRIMARY KEY" DICT_EACH(                   \
		SCHEMA_COL, cols) ", UNIQUE (" cols(UNIQUE_FIRST, UNIQUE_REST) ")) STRICT;"

const char *store_schema =
	"CREATE TABLE IF NOT EXISTS boot (id INTEGER PRIMARY KEY, boot_id BLOB NOT NULL UNIQUE)"
	" STRICT;" DICT_TABLE("proc", DICT_PROC_COLS) DICT_TABLE("who", DICT_WHO_COLS)
		DICT_TABLE("cred", DICT_CRED_COLS) DICT_TABLE(
			"file",
			DICT_FILE_COLS) "CREATE TABLE IF NOT EXISTS record (seq INTEGER PRIMARY "
					"KEY, type INTEGER NOT NULL,"
					" epoch INTEGER NOT NULL, boot INTEGER NOT NULL, t_real_ns "
					"INTEGER NOT NULL,"
					" t_boot_ns INTEGER NOT NULL, prev_leaf BLOB NOT NULL,"
					" op INTEGER, open_flags INTEGER, result INTEGER, proc "
					"INTEGER, cred INTEGER,"
					" file INTEGER, who INTEGER, mode INTEGER, path_flags "
					"INTEGER, bpf_cpu INTEGER,"
					" bpf_seq INTEGER,"
					" bytes INTEGER, reads INTEGER, event_d INTEGER, first_d "
					"INTEGER, last_d INTEGER,"
					" read_paths INTEGER, partial INTEGER, min_offset INTEGER, "
					"max_offset INTEGER,"
					" abi INTEGER, access_flags INTEGER, session INTEGER, "
					"target BLOB, target_flags INTEGER,"
					" body BLOB) STRICT;"
					"CREATE TABLE IF NOT EXISTS alert (seq INTEGER PRIMARY "
					"KEY, rule TEXT NOT NULL,"
					" severity TEXT NOT NULL, summary TEXT NOT NULL, cause "
					"INTEGER NOT NULL,"
					" count INTEGER NOT NULL, bytes INTEGER NOT NULL, "
					"window_ns INTEGER NOT NULL,"
					" person TEXT NOT NULL, dataset TEXT NOT NULL, path BLOB "
					"NOT NULL) STRICT;"
					"CREATE TABLE IF NOT EXISTS checkpoint (size INTEGER "
					"PRIMARY KEY, epoch INTEGER NOT NULL,"
					" note TEXT NOT NULL, t_ns INTEGER NOT NULL) STRICT;"
					"CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v "
					"ANY) STRICT;";

const struct store_dict_def dict_def[DICT_MAX] = {
	[DICT_BOOT] = { "boot", { "boot_id" } },
#define COL_NAME(col, type, kind, max) #col,
	[DICT_PROC] = { "proc", { DICT_EACH(COL_NAME, DICT_PROC_COLS) } },
	[DICT_CRED] = { "cred", { DICT_EACH(COL_NAME, DICT_CRED_COLS) } },
	[DICT_FILE] = { "file", { DICT_EACH(COL_NAME, DICT_FILE_COLS) } },
	[DICT_WHO] = { "who", { DICT_EACH(COL_NAME, DICT_WHO_COLS) } },
};

/* The byte fields of an access record: copied when an access record is
 * queued for the writer thread, and when a scan loads a dictionary (only
 * that dictionary's own are set there; freed at the scan's end).  All but
 * target come from dictionary rows; target is a column of the record's. */
const size_t access_blobs[N_ACCESS_BLOBS] = {
	offsetof(struct rec_access, comm),	  offsetof(struct rec_access, exe),
	offsetof(struct rec_access, dataset),	  offsetof(struct rec_access, path),
	offsetof(struct rec_access, args),	  offsetof(struct rec_access, lineage),
	offsetof(struct rec_access, container),	  offsetof(struct rec_access, person),
	offsetof(struct rec_access, attribution), offsetof(struct rec_access, team),
	offsetof(struct rec_access, role),	  offsetof(struct rec_access, directory),
	offsetof(struct rec_access, target),
};

/* A bytes field added to rec_access grows it, and belongs in access_blobs:
 * else a record queued for the writer would point into a reused buffer. */
_Static_assert(sizeof(struct rec_access) == 424, "is the new field of rec_access in access_blobs?");
