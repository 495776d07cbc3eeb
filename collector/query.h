/* SPDX-License-Identifier: BSD-2-Clause */
/* custos query: filters over the entry table, printed as a table, JSON Lines or CSV. */
#ifndef CUSTOS_QUERY_H
#define CUSTOS_QUERY_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

enum query_format {
	QUERY_TABLE,
	QUERY_JSON,
	QUERY_CSV,
};

/* Which results an access must have; records without a result (start, loss...) never match. */
enum query_result {
	QUERY_RESULT_ANY,
	QUERY_RESULT_OK,     /* result >= 0 */
	QUERY_RESULT_FAILED, /* result < 0 */
	QUERY_RESULT_DENIED, /* -EACCES or -EPERM */
	QUERY_RESULT_EQ,     /* exactly result_value */
};

/* The order of the rows; ties always go by seq, oldest first. */
enum query_sort {
	QUERY_SORT_TIME, /* seq: the order the ledger holds them in */
	QUERY_SORT_BYTES,
	QUERY_SORT_PATH,
	QUERY_SORT_PERSON,
	QUERY_SORT_PID,
};

/*
 * Every filter given must match (AND).  The strings are not copied: they
 * must live as long as the filter.  query__filter_init sets "any" for all.
 */
struct query_filter {
	const char *path_prefix; /* NULL: any; matches the path or below it */
	const char *glob;	 /* NULL: any; SQLite GLOB on the whole path ([!...] as [^...]) */
	const char *dataset;	 /* NULL: any; the label of the watched tree */
	int64_t uid;		 /* -1: any; matches uid or euid */
	int64_t loginuid;	 /* -1: any */
	const char *action;	 /* NULL: any; one action or a comma-separated list of them */
	enum query_result result;
	int64_t result_value; /* for QUERY_RESULT_EQ */
	const char *exe;      /* NULL: any; the program, exact, or below it when it ends in '/' */
	const char *comm;     /* NULL: any; exact */
	const char *host;     /* NULL: any; the host named by the ledger's last START */
	int64_t since_ns;     /* INT64_MIN: no bound; inclusive */
	int64_t until_ns;     /* INT64_MAX: no bound; exclusive */
	const char *person;   /* NULL: any; staff id or "service:NAME" */
	const char *team;     /* NULL: any */
	const char *role;     /* NULL: any */
	int unattributed;     /* only accesses attributed to no one */
	uint32_t abi;	      /* 0: any; else an enum custos_abi bit the access's abi has */
	uint64_t session;     /* 0: any; else the kernel's read session id */
	enum query_sort sort;
	int sort_desc; /* the largest key first */
	int64_t limit; /* 0: every row; else at most this many, after sorting */
};

/* Set every field of f to let any record through, in seq order, unlimited. */
void query__filter_init(struct query_filter *f);

/*
 * Set the filter option named opt (the long option without "--": path, glob,
 * dataset, uid, loginuid, action, result, exe, comm, host, person, team,
 * role, abi, session, since, until, sort, limit) from arg, as a person typed
 * it.  Relative
 * times count back from now_ns.  f keeps a pointer to arg.  Returns 0;
 * -EINVAL when arg is not valid for opt, with *why set to a one-line reason
 * (static, lowercase); -ENOENT when opt is not a filter option.
 */
int query__set(struct query_filter *f, const char *opt, const char *arg, int64_t now_ns,
	       const char **why);

/* Run the query on db (a reader of store__open_reader, or the connection
 * custos verify proved: see verify_opts.keep), named db_path in messages,
 * and print the rows to out, after the table's or CSV's header when header
 * is set (the first of several ledgers).  Returns 0, or -errno after
 * logging the reason once. */
struct store_reader;
int query__run(struct store_reader *db, const char *db_path, const struct query_filter *f,
	       enum query_format fmt, bool header, FILE *out);

#endif /* CUSTOS_QUERY_H */
