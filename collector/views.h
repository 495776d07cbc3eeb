/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Read-only SQL views over the ledger, for auditors who query it with the
 * stock sqlite3 shell: accesses, person_dataset, gaps_losses and alerts (columns in
 * README.md, "SQL views").  They use only SQLite's built-in functions, so
 * they work in any SQLite shell.
 */
#ifndef CUSTOS_VIEWS_H
#define CUSTOS_VIEWS_H

#include <sqlite3.h>

/*
 * The SELECTs the views are made of, for readers that open the database
 * with views disabled (store__open_reader) and select from them as
 * subqueries instead: the same columns either way.
 */
extern const char views_accesses_sql[];
extern const char views_gaps_losses_sql[];
extern const char views_alerts_sql[];

/*
 * (Re)create every view on a writer's connection, in one transaction: they
 * are derived from the records, never evidence, so each start replaces
 * them with this version's definitions.  Returns 0, or -EIO after logging
 * "failed to create SQL views: cause" once.
 */
int views__create(sqlite3 *db);

#endif /* CUSTOS_VIEWS_H */
