// SPDX-License-Identifier: BSD-2-Clause
/* Options tables: getopt_long's list, the help and the errors from one table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "opts.h"

#define HELP_COLUMN 21 /* where an option's help starts */
#define OPT_HELP    'h'

static const struct opt help_opt = { "help", OPT_HELP, 'h', NULL, "print this help and exit" };

void opts__init(struct opts_parser *p, const struct opts_cmd *cmd, int argc, char **argv)
{
	char *s = p->shortopts;
	int n = 0;

	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	/* ':' first: a missing value is told from an unknown option. */
	*s++ = ':';
	/* A table past OPTS_MAX is a build of custos' own making: the command
	 * refuses to run rather than ignore the options that do not fit. */
	p->too_many = false;
	for (const struct opt *o = cmd->opts; o->name; o++, n++) {
		if (n == OPTS_MAX) {
			p->too_many = true;
			break;
		}
		p->longopts[n] = (struct option){ o->name, o->arg ? required_argument : no_argument,
						  NULL, o->key };
		if (o->short_name) {
			*s++ = o->short_name;
			if (o->arg)
				*s++ = ':';
		}
	}
	p->longopts[n++] = (struct option){ help_opt.name, no_argument, NULL, OPT_HELP };
	p->longopts[n] = (struct option){ 0 };
	*s++ = 'h';
	*s = '\0';
	/* getopt's own messages would name the program, not the command. */
	opterr = 0;
	optind = 1;
}

int opts__next(struct opts_parser *p, int *status)
{
	int idx = -1, c;

	if (p->too_many) {
		log_warnx("failed to parse options: %s has more than %d of them (OPTS_MAX)",
			  p->cmd->name, OPTS_MAX);
		*status = p->cmd->usage_status;
		return -1;
	}
	c = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, &idx);
	p->last = NULL;
	for (const struct opt *o = p->cmd->opts; o->name && idx < 0; o++)
		if (o->short_name && o->short_name == c)
			p->last = o;
	if (idx >= 0 && p->cmd->opts[idx].name)
		p->last = &p->cmd->opts[idx];
	switch (c) {
	case -1:
		return 0;
	case OPT_HELP:
		opts__usage(p->cmd, stdout);
		*status = 0;
		return -1;
	case ':':
		*status = opts__fail(p->cmd, "option %s needs a value", p->argv[optind - 1]);
		return -1;
	case '?':
		*status = opts__fail(p->cmd, "unknown option %s", p->argv[optind - 1]);
		return -1;
	default:
		return c;
	}
}

int opts__fail(const struct opts_cmd *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s (see %s --help)", msg, cmd->name);
	return cmd->usage_status;
}

/* Print text's lines, each after indent spaces but the first (whose column
 * the caller has reached). */
static void print_lines(FILE *f, const char *text, int indent)
{
	for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1)
		fprintf(f, "%.*s\n%*s", (int)(nl - text), text, indent, "");
	fprintf(f, "%s\n", text);
}

static void print_opt(FILE *f, const struct opt *o)
{
	char left[128];
	int n;

	if (o->short_name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "  --%s", o->name);
	if (o->arg)
		snprintf(left + n, sizeof(left) - n, " %s", o->arg);
	fprintf(f, "%-*s ", HELP_COLUMN - 1, left);
	print_lines(f, o->help, HELP_COLUMN);
}

void opts__usage(const struct opts_cmd *cmd, FILE *f)
{
	fputs("usage: ", f);
	print_lines(f, cmd->synopsis, 0);
	fprintf(f, "\n%s\n\nOptions:\n", cmd->about);
	for (const struct opt *o = cmd->opts; o->name; o++)
		print_opt(f, o);
	print_opt(f, &help_opt);
	if (cmd->after)
		fprintf(f, "\n%s", cmd->after);
}
