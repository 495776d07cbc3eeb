/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A command's options written once, in a table: it yields getopt_long's
 * list, the command's --help text and its one-line errors, for custosd and
 * every custos command alike.
 */
#ifndef CUSTOS_OPTS_H
#define CUSTOS_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#define OPTS_MAX 48

/* One option.  key is what opts__next returns for it: the option's short
 * letter when short is set, any number from 256 otherwise. */
struct opt {
	const char *name; /* the long option, without "--" */
	int key;
	char short_name;  /* 0: none */
	const char *arg;  /* the value's name in the help ("FILE"); NULL: a flag */
	const char *help; /* lines separated by '\n', indented in the help */
};

struct opts_cmd {
	const char *name;	/* "custosd", "custos query": the help's and errors' name */
	const char *synopsis;	/* the lines after "usage: ", '\n'-separated */
	const char *about;	/* what the command does, before the options */
	const struct opt *opts; /* ends with an entry whose name is NULL */
	const char *after;	/* after the options: exit status, examples (or NULL) */
	int usage_status;	/* the exit status of bad arguments */
};

/* A parse in progress (getopt's state is global: one parse at a time). */
struct opts_parser {
	const struct opts_cmd *cmd;
	struct option longopts[OPTS_MAX + 2];
	char shortopts[2 * OPTS_MAX + 4];
	int argc;
	char **argv;
	const struct opt *last; /* the option opts__next returned */
	bool too_many;		/* the table has more than OPTS_MAX options */
};

/* Start parsing argv[1..] for cmd.  An --help is added to every table. */
void opts__init(struct opts_parser *p, const struct opts_cmd *cmd, int argc, char **argv);

/*
 * The next option: its key (optarg holds its value), 0 at the first
 * operand or the end (optind indexes the operands), or -1 when the command
 * must stop with *status: after --help was printed (0), or a bad option
 * was reported in one line (cmd->usage_status).
 */
int opts__next(struct opts_parser *p, int *status);

/* Report bad arguments to the command in one line, pointing at its help;
 * returns cmd->usage_status. */
int opts__fail(const struct opts_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The command's help, from the table. */
void opts__usage(const struct opts_cmd *cmd, FILE *f);

#endif /* CUSTOS_OPTS_H */
