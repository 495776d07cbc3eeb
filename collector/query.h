/* SPDX-License-Identifier: BSD-2-Clause */
/* custos query: filters over the entry table, printed as a table, JSON Lines or CSV. */
#ifndef CUSTOS_QUERY_H
#define CUSTOS_QUERY_H

#include <stdint.h>
#include <stdio.h>

enum query_format {
	QUERY_TABLE,
	QUERY_JSON,
	QUERY_CSV,
};

struct query_filter {
	const char *path_prefix; /* NULL: any; matches the path or below it */
	int64_t uid;		 /* -1: any; matches uid or euid */
	const char *action;	 /* NULL: any; "open", "read", "start", "stop", "loss" */
	int64_t since_ns;	 /* INT64_MIN: no bound; inclusive */
	int64_t until_ns;	 /* INT64_MAX: no bound; exclusive */
	const char *person;	 /* NULL: any; staff id or "service:NAME" */
	const char *team;	 /* NULL: any */
	const char *role;	 /* NULL: any */
	int unattributed;	 /* only accesses attributed to no one */
};

/* Run the query on the database at db_path, opened read-only, and print the
 * rows to out.  Returns 0, or -errno after logging the reason once. */
int query__run(const char *db_path, const struct query_filter *f, enum query_format fmt, FILE *out);

#endif /* CUSTOS_QUERY_H */
