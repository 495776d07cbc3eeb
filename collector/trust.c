// SPDX-License-Identifier: BSD-2-Clause
/* The auditor's root of trust (trust.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "trust.h"
#include "util.h"

int trust__load(const char *path, struct trust *t)
{
	char line[1024], key[64], val[1000];
	unsigned seen = 0;
	FILE *f = fopen(path, "re");
	int err = 0, n = 0;

	memset(t, 0, sizeof(*t));
	if (!f) {
		err = -errno;
		log_warn("failed to open trust file %s", path);
		return err;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		n++;
		if (sscanf(line, "%63s %999s", key, val) != 2) {
			err = -EINVAL;
		} else if (n == 1) {
			err = strcmp(key, "custos-trust") || strcmp(val, "1") ? -EINVAL : 0;
		} else if (!strcmp(key, "origin") && strlen(val) <= NOTE_NAME_MAX) {
			strcpy(t->origin, val);
			seen |= 1;
		} else if (!strcmp(key, "log-key")) {
			err = note__vkey_parse(val, &t->log_key);
			seen |= 2;
		} else if (!strcmp(key, "epoch-key")) {
			err = note__vkey_parse(val, &t->epoch_key);
			seen |= 4;
		} else if (!strcmp(key, "interval")) {
			err = util__parse_int(val, 1, INT64_MAX, (int64_t *)&t->interval_ns);
			seen |= 8;
		} else if (!strcmp(key, "heartbeat")) {
			err = util__parse_int(val, 1, INT64_MAX, (int64_t *)&t->heartbeat_ns);
			seen |= 16;
		} else if (!strcmp(key, "t0")) {
			err = util__parse_int(val, 0, INT64_MAX, (int64_t *)&t->t0_ns);
			seen |= 32;
		} else {
			err = -EINVAL;
		}
	}
	if (ferror(f))
		err = -EIO;
	fclose(f);
	if (!err && seen != 63)
		err = -EINVAL;
	if (err)
		log_warnx("failed to read trust file %s: %s at line %d", path,
			  err == -EINVAL ? "not a custos trust file" : strerror(-err), n);
	return err;
}

int trust__from_genesis(struct store_reader *db, struct trust *t)
{
	struct store_records *c = store__records_open(db);
	char fs[NOTE_NAME_MAX + 8];
	struct record r;
	int err = c ? store__records_get(c, 0, &r) : -EIO;

	memset(t, 0, sizeof(*t));
	if (!err && r.type == REC_GENESIS && r.genesis.origin.len &&
	    r.genesis.origin.len <= NOTE_NAME_MAX) {
		memcpy(t->origin, r.genesis.origin.p, r.genesis.origin.len);
		snprintf(fs, sizeof(fs), "%s/fs", t->origin);
		t->interval_ns = r.genesis.interval_ns;
		t->heartbeat_ns = r.genesis.heartbeat_ns;
		t->t0_ns = r.genesis.t0_ns;
		if (note__verifier_init(t->origin, r.genesis.log_key, &t->log_key) ||
		    note__verifier_init(fs, r.genesis.epoch_key, &t->epoch_key))
			err = -EBADMSG;
	} else if (err != -EIO) {
		err = -EBADMSG;
	}
	store__records_close(c);
	return err;
}
