// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ledger.h"
#include "log.h"
#include "merkle.h"
#include "note.h"
#include "store.h"
#include "util.h"

#define KEY_FILE_MAX   (64 + NOTE_SKEY_SIZE)
#define CHECKPOINT_MAX 1024
/* A CLOCK record when the wall clock moves this much against the boot clock. */
#define CLOCK_STEP_NS 1000000000LL

struct ledger {
	struct store *store;
	struct merkle_range tree;
	struct note_signer *log_key;   /* LK */
	struct note_signer *epoch_key; /* FK_e */
	uint64_t epoch;
	uint64_t epoch_first; /* seq of the first record of this epoch */
	uint64_t t0_ns, interval_ns, heartbeat_ns;
	int64_t clock_off;
	int64_t next_heartbeat; /* CLOCK_BOOTTIME */
	uint64_t signed_size;	/* size of the last checkpoint */
	int in_batch;
	struct merkle_range batch_tree; /* the tree at begin, restored on rollback */
	uint64_t appended;
	uint8_t boot_id[16];
	char *key_dir, *origin;
	const char *witness_dir, *witness_cmd;
	/* A continued log: ledger__resume is still to write its GAP. */
	int to_resume;
	const char *config;
	uint8_t config_hash[32]; /* the log's last configuration */
	int (*on_append)(void *ctx, struct ledger *l, struct record *r);
	void *on_append_ctx;
};

/* ---- key files ---------------------------------------------------------- */

static int key_path(const struct ledger *l, const char *name, char *buf, size_t cap)
{
	return snprintf(buf, cap, "%s/%s", l->key_dir, name) < (int)cap ? 0 : -ENAMETOOLONG;
}

/*
 * The ledger's directory must not be anyone else's to write: whoever may
 * write it can swap the database, or plant its -wal beside it before
 * custosd opens it.  Returns 0, or -EPERM after saying so, -errno.
 */
static int check_db_dir(const char *db_path)
{
	char dir[PATH_MAX];
	uid_t me = geteuid();
	struct stat st;
	int err;

	if (snprintf(dir, sizeof(dir), "%s", db_path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (stat(dirname(dir), &st)) {
		err = -errno;
		log_warn("failed to open the ledger: its directory %s", dir);
		return err;
	}
	if ((st.st_uid != me && st.st_uid != 0) || (st.st_mode & 022)) {
		log_warnx("failed to open the ledger: its directory %s must be uid %u's or root's "
			  "and writable by no one else; it is uid %u's, mode %04o",
			  dir, (unsigned)me, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/*
 * The keys are the whole of the log's trust, so, as OpenSSH does with a
 * private key, refuse a key directory or key file that anyone but this user
 * could read or replace: a directory (not a link) of this user's with no
 * access for group or others, and *.key files likewise (trust.vkeys is
 * public).  Returns 0, or -EPERM after saying which, -errno.
 */
static int check_keys(const char *key_dir)
{
	uid_t me = geteuid();
	struct dirent *e;
	struct stat st;
	DIR *d;
	int err = 0;

	if (lstat(key_dir, &st)) {
		err = -errno;
		log_warn("failed to open the ledger: key directory %s", key_dir);
		return err;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != me || (st.st_mode & 077)) {
		log_warnx("failed to open the ledger: key directory %s must be a directory of uid "
			  "%u's with mode 0700; it is %s of uid %u, mode %04o",
			  key_dir, (unsigned)me,
			  S_ISDIR(st.st_mode) ? "a directory" : "no directory", (unsigned)st.st_uid,
			  (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	d = opendir(key_dir);
	if (!d) {
		err = -errno;
		log_warn("failed to open the ledger: key directory %s", key_dir);
		return err;
	}
	while (!err && (errno = 0, e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 4 || strcmp(e->d_name + n - 4, ".key"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			err = -errno;
			log_warn("failed to open the ledger: key %s/%s", key_dir, e->d_name);
		} else if (!S_ISREG(st.st_mode) || st.st_uid != me || (st.st_mode & 077)) {
			log_warnx("failed to open the ledger: key %s/%s must be a file of uid %u's "
				  "with mode 0600; it is %s of uid %u, mode %04o",
				  key_dir, e->d_name, (unsigned)me,
				  S_ISREG(st.st_mode) ? "a file" : "no plain file",
				  (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
			err = -EPERM;
		}
	}
	if (!err && errno) {
		err = -errno;
		log_warn("failed to open the ledger: key directory %s", key_dir);
	}
	closedir(d);
	return err;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

/* Write "epoch N\n<skey>\n" (N is omitted for LK) to a new 0600 file, fsync'ed. */
static int key_write(struct ledger *l, const char *name, const struct note_signer *s, int64_t epoch)
{
	char path[4096], tmp[4096 + 8], text[KEY_FILE_MAX], skey[NOTE_SKEY_SIZE];
	int fd = -1, n, err;

	err = key_path(l, name, path, sizeof(path));
	if (!err && snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		err = -ENAMETOOLONG;
	if (!err)
		err = note__signer_skey(s, skey, sizeof(skey));
	if (err)
		goto out;
	n = epoch < 0 ? snprintf(text, sizeof(text), "%s\n", skey)
		      : snprintf(text, sizeof(text), "epoch %" PRId64 "\n%s\n", epoch, skey);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, n) != n || fsync(fd)) {
		err = -errno;
		log_warn("failed to write key %s", tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		err = -errno;
		log_warn("failed to install key %s", path);
		goto out;
	}
	err = fsync_dir(l->key_dir);
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(skey, sizeof(skey));
	return err;
}

/* Read a key file; *epoch is -1 for one without an epoch line.  -ENOENT when absent. */
static int key_read(struct ledger *l, const char *name, const char *key_name,
		    struct note_signer **out, int64_t *epoch)
{
	char path[4096], text[KEY_FILE_MAX], *skey = text, *nl;
	int fd, err = 0;
	ssize_t n;

	*epoch = -1;
	err = key_path(l, name, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		err = -EINVAL;
		goto out;
	}
	text[n] = '\0';
	if (!strncmp(text, "epoch ", 6)) {
		*epoch = strtoll(text + 6, &skey, 10);
		if (*skey != '\n' || *epoch < 0) {
			err = -EINVAL;
			goto out;
		}
		skey++;
	}
	nl = strchr(skey, '\n');
	if (nl)
		*nl = '\0';
	err = note__signer_from_skey(skey, out);
	if (!err && strcmp(note__signer_name(*out), key_name)) {
		note__signer_free(*out);
		*out = NULL;
		err = -EINVAL;
	}
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (err)
		log_warnx("failed to read key %s: %s", path, strerror(-err));
	return err;
}

/* Overwrite a key file in place before it is replaced, so the old key does
 * not outlive the rename in the file's blocks (best effort: see README). */
static void key_wipe(struct ledger *l, const char *name)
{
	char path[4096], zero[KEY_FILE_MAX] = { 0 };
	struct stat st;
	int fd;

	if (key_path(l, name, path, sizeof(path)))
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size <= (off_t)sizeof(zero) &&
	    write(fd, zero, st.st_size) == st.st_size)
		fsync(fd);
	close(fd);
}

static void pub_of(const struct note_signer *s, uint8_t pub[RECORD_KEY_LEN])
{
	struct note_verifier v;

	note__signer_verifier(s, &v);
	memcpy(pub, v.pub, RECORD_KEY_LEN);
}

static char *epoch_key_name(const struct ledger *l)
{
	char *name = NULL;

	return asprintf(&name, "%s/fs", l->origin) < 0 ? NULL : name;
}

/* ---- checkpoints and witnesses ----------------------------------------- */

static void witness_dir_put(const struct ledger *l, uint64_t size, const char *note)
{
	char path[4096], tmp[4096 + 8];
	size_t len = strlen(note);
	int fd = -1;

	if (snprintf(path, sizeof(path), "%s/checkpoint.%020" PRIu64, l->witness_dir, size) >=
	    (int)sizeof(path)) {
		log_warnx("failed to hand checkpoint to witness directory: name too long");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, note, len) != (ssize_t)len || fsync(fd) || rename(tmp, path))
		log_warn("failed to hand checkpoint %" PRIu64 " to witness directory %s", size,
			 l->witness_dir);
	if (fd >= 0)
		close(fd);
}

/* The witness command gets the note on stdin; it runs on its own and is
 * reaped later, so a slow witness never holds up capture. */
static void witness_cmd_put(const struct ledger *l, const char *note)
{
	int fds[2];
	pid_t pid;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (pipe2(fds, O_CLOEXEC)) {
		log_warn("failed to start witness command");
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		execl("/bin/sh", "sh", "-c", l->witness_cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (pid < 0)
		log_warn("failed to start witness command");
	else if (write(fds[1], note, strlen(note)) < 0)
		log_warn("failed to hand checkpoint to witness command");
	close(fds[1]);
}

/*
 * Sign the tree as it is now with FK_e and LK, keep the note, hand it to the
 * witnesses.  Only after a commit: nothing is signed that is not on disk,
 * and a size is never signed twice (the first note of a size stands).
 */
static int checkpoint(struct ledger *l)
{
	struct note_signer *signers[2] = { l->log_key, l->epoch_key };
	uint8_t root[MERKLE_HASH_LEN];
	char text[CHECKPOINT_MAX], *note = NULL;
	int err;

	if (l->tree.size == l->signed_size)
		return 0;
	err = merkle__root(&l->tree, root);
	if (!err)
		err = checkpoint__format(l->origin, l->tree.size, root, text, sizeof(text));
	if (!err)
		err = note__sign(text, signers, 2, &note);
	if (err) {
		log_warnx("failed to sign checkpoint %" PRIu64 ": %s", l->tree.size,
			  strerror(-err));
		return err;
	}
	err = store__add_checkpoint(l->store, l->tree.size, l->epoch, note, util__realtime_ns());
	if (err == -EEXIST)
		err = 0;
	if (!err) {
		l->signed_size = l->tree.size;
		if (l->witness_dir)
			witness_dir_put(l, l->tree.size, note);
		if (l->witness_cmd)
			witness_cmd_put(l, note);
	}
	free(note);
	return err;
}

/* next.key becomes current.key: the old FK_e is no longer on disk. */
static int rename_keys(struct ledger *l)
{
	char from[4096], to[4096];

	if (key_path(l, "next.key", from, sizeof(from)) ||
	    key_path(l, "current.key", to, sizeof(to))) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rename(from, to)) {
		log_warn("failed to install the next epoch key");
		return -1;
	}
	return fsync_dir(l->key_dir) ? -1 : 0;
}

/* ---- appending ---------------------------------------------------------- */

static uint64_t epoch_of(const struct ledger *l, uint64_t t_real)
{
	return t_real <= l->t0_ns ? 0 : (t_real - l->t0_ns) / l->interval_ns;
}

int ledger__begin(struct ledger *l)
{
	int err;

	if (l->in_batch)
		return 0;
	err = store__begin(l->store);
	if (!err) {
		l->in_batch = 1;
		l->batch_tree = l->tree;
	}
	return err;
}

int ledger__in_batch(const struct ledger *l)
{
	return l->in_batch;
}

int ledger__append(struct ledger *l, struct record *r)
{
	uint8_t leaf[RECORD_LEAF_LEN];
	uint64_t next;
	int err = ledger__begin(l);

	if (err)
		return err;
	r->epoch = l->epoch;
	memcpy(r->boot_id, l->boot_id, sizeof(r->boot_id));
	r->t_boot_ns = util__boottime_ns();
	r->t_real_ns = r->t_boot_ns + l->clock_off;
	err = store__append(l->store, r);
	if (err)
		return err;
	store__head(l->store, &next, leaf);
	err = merkle__append(&l->tree, leaf);
	if (err)
		return err;
	l->appended++;
	return l->on_append ? l->on_append(l->on_append_ctx, l, r) : 0;
}

/* The frontier goes into the same transaction as the records it covers. */
static int save_frontier(struct ledger *l)
{
	uint8_t buf[8 + 64 * MERKLE_HASH_LEN];

	memcpy(buf, &l->tree.size, 8);
	memcpy(buf + 8, l->tree.hashes, (size_t)l->tree.n * MERKLE_HASH_LEN);
	return store__set_state(l->store, "frontier", buf, 8 + l->tree.n * MERKLE_HASH_LEN)
		       ?: store__set_state(l->store, "epoch_first", &l->epoch_first, 8);
}

void ledger__rollback(struct ledger *l)
{
	if (!l->in_batch)
		return;
	store__rollback(l->store);
	l->appended -= l->tree.size - l->batch_tree.size;
	l->tree = l->batch_tree;
	l->in_batch = 0;
}

int ledger__commit(struct ledger *l)
{
	int err;

	if (!l->in_batch)
		return 0;
	/* A failed COMMIT has rolled the store back already; again is harmless. */
	err = save_frontier(l) ?: store__commit(l->store);
	if (err) {
		ledger__rollback(l);
		return err;
	}
	l->in_batch = 0;
	return 0;
}

static int append_one(struct ledger *l, struct record *r)
{
	return ledger__append(l, r) ?: ledger__commit(l);
}

/*
 * Close epoch e (docs/ledger.md): the next key is on disk before the record
 * that certifies it, the record is committed before anything is signed, and
 * FK_e is destroyed only once the checkpoint that it seals is kept.
 */
static int epoch_close(struct ledger *l, const char *reason, const struct rec_gap *gap)
{
	uint64_t now_epoch = epoch_of(l, util__realtime_ns());
	uint64_t next_epoch = now_epoch > l->epoch + 1 ? now_epoch : l->epoch + 1;
	struct note_signer *next = NULL;
	char *fs_name = epoch_key_name(l);
	struct record r;
	int err;

	if (!fs_name)
		return -ENOMEM;
	err = note__signer_generate(fs_name, &next);
	if (!err)
		err = key_write(l, "next.key", next, (int64_t)next_epoch);
	if (err)
		goto out;
	err = ledger__begin(l);
	if (err)
		goto out;
	if (gap) {
		memset(&r, 0, sizeof(r));
		r.type = REC_GAP;
		r.gap = *gap;
		err = ledger__append(l, &r);
	}
	if (!err) {
		memset(&r, 0, sizeof(r));
		r.type = REC_EPOCH_CLOSE;
		r.epoch_close.epoch = l->epoch;
		r.epoch_close.next_epoch = next_epoch;
		pub_of(next, r.epoch_close.next_key);
		r.epoch_close.records = l->tree.size - l->epoch_first;
		r.epoch_close.reason = (struct bytes){ (const uint8_t *)reason, strlen(reason) };
		err = ledger__append(l, &r);
	}
	if (!err) {
		uint64_t first = l->epoch_first;

		l->epoch_first = l->tree.size;
		err = ledger__commit(l);
		if (err)
			l->epoch_first = first;
	} else {
		ledger__rollback(l);
	}
	if (!err)
		err = checkpoint(l);
	if (err)
		goto out;
	/* From here the close is done: a crash now is finished on restart. */
	key_wipe(l, "current.key");
	if (rename_keys(l)) {
		err = -errno;
		goto out;
	}
	note__signer_free(l->epoch_key);
	l->epoch_key = next;
	next = NULL;
	l->epoch = next_epoch;
	log_debug("epoch %" PRIu64 " begins at seq %" PRIu64, l->epoch, l->epoch_first);
out:
	if (err)
		log_warnx("failed to close epoch %" PRIu64 ": %s", l->epoch, strerror(-err));
	note__signer_free(next);
	free(fs_name);
	return err;
}

/* ---- time passing ------------------------------------------------------- */

int64_t ledger__clock_offset(const struct ledger *l)
{
	return l->clock_off;
}

int ledger__file_path(struct ledger *l, uint64_t dev, uint64_t ino, uint32_t mnt_id, char *buf,
		      size_t cap)
{
	return store__file_path(l->store, dev, ino, mnt_id, buf, cap);
}

uint64_t ledger__count(const struct ledger *l)
{
	return l->appended;
}

int ledger__tick(struct ledger *l, const struct rec_heartbeat *hb)
{
	int64_t boot = util__boottime_ns();
	int64_t off = util__realtime_ns() - boot;
	struct record r;
	int err = 0;

	if (l->in_batch)
		return 0;
	if (off - l->clock_off >= CLOCK_STEP_NS || l->clock_off - off >= CLOCK_STEP_NS) {
		memset(&r, 0, sizeof(r));
		r.type = REC_CLOCK;
		r.clock.old_offset_ns = l->clock_off;
		r.clock.new_offset_ns = off;
		l->clock_off = off; /* the CLOCK record's own real time is on the new offset */
		err = append_one(l, &r);
		if (err)
			return err;
	}
	l->clock_off = off;
	if (boot >= l->next_heartbeat) {
		memset(&r, 0, sizeof(r));
		r.type = REC_HEARTBEAT;
		r.heartbeat = *hb;
		err = append_one(l, &r) ?: checkpoint(l);
		if (err)
			return err;
		l->next_heartbeat = boot + (int64_t)l->heartbeat_ns;
	}
	if (epoch_of(l, (uint64_t)(boot + off)) > l->epoch)
		err = epoch_close(l, "interval", NULL);
	return err;
}

/* ---- open, seal, free --------------------------------------------------- */

/*
 * The last record; only its fixed-size fields stay valid (the row is gone).
 * *clean says whether it ends a clean stop: STOP, or the epoch close a stop
 * seals with (a crash right after an interval close is still a crash).
 */
static int read_last(struct ledger *l, struct record *last, int *clean)
{
	static const char stop[] = "stop";
	struct store_records *c = NULL;
	uint64_t seq;
	int err = store__last_seq(store__reader(l->store), 0, &seq);

	if (!err) {
		c = store__records_open(store__reader(l->store));
		err = c ? store__records_get(c, seq, last) : -EIO;
	}
	*clean = !err &&
		 (last->type == REC_STOP ||
		  (last->type == REC_EPOCH_CLOSE && last->epoch_close.reason.len == strlen(stop) &&
		   !memcmp(last->epoch_close.reason.p, stop, strlen(stop))));
	store__records_close(c);
	return err;
}

/*
 * Rebuild the tree from every record when the saved frontier does not match
 * the log (it is saved with each batch, so only a damaged state table gets
 * here), and find where the open epoch began.
 */
static int load_tree(struct ledger *l)
{
	uint8_t buf[8 + 64 * MERKLE_HASH_LEN], leaf[RECORD_LEAF_LEN], rec[RECORD_MAX];
	struct store_records *c;
	struct record r;
	uint64_t next;
	int len, err = 0;

	store__head(l->store, &next, leaf);
	len = store__get_state(l->store, "frontier", buf, sizeof(buf));
	if (len >= 8 && (len - 8) % MERKLE_HASH_LEN == 0) {
		merkle__init(&l->tree);
		memcpy(&l->tree.size, buf, 8);
		l->tree.n = (len - 8) / MERKLE_HASH_LEN;
		memcpy(l->tree.hashes, buf + 8, len - 8);
		if (l->tree.size == next && l->tree.n == __builtin_popcountll(next) &&
		    store__get_state(l->store, "epoch_first", &l->epoch_first, 8) == 8)
			return 0;
	}
	log_info("rebuilding the tree from %" PRIu64 " records", next);
	merkle__init(&l->tree);
	l->epoch_first = 0;
	c = store__records_open(store__reader(l->store));
	err = c ? store__records_from(c, 0) : -EIO;
	while (!err && (err = store__records_next(c, &r)) == 1) {
		err = (len = record__encode(&r, rec, sizeof(rec))) < 0 ? len : 0;
		if (!err)
			err = merkle__hash_leaf(rec, len, leaf) ?: merkle__append(&l->tree, leaf);
		if (!err && r.type == REC_EPOCH_CLOSE)
			l->epoch_first = r.seq + 1;
	}
	store__records_close(c);
	if (!err && l->tree.size != next)
		err = -EBADMSG;
	if (err)
		log_warnx("failed to rebuild the tree: %s", strerror(-err));
	return err;
}

static int write_trust(struct ledger *l, const struct note_verifier *lk,
		       const struct note_verifier *fk0)
{
	char path[4096], vk_log[NOTE_VKEY_SIZE], vk_fs[NOTE_VKEY_SIZE];
	FILE *f;
	int err;

	err = key_path(l, "trust.vkeys", path, sizeof(path)) ?:
		      note__vkey_format(lk, vk_log, sizeof(vk_log)) ?:
		      note__vkey_format(fk0, vk_fs, sizeof(vk_fs));
	if (err)
		return err;
	f = fopen(path, "we");
	if (!f ||
	    fprintf(f,
		    "custos-trust 1\norigin %s\nlog-key %s\nepoch-key %s\n"
		    "interval %" PRIu64 "\nheartbeat %" PRIu64 "\nt0 %" PRIu64 "\n",
		    l->origin, vk_log, vk_fs, l->interval_ns, l->heartbeat_ns, l->t0_ns) < 0 ||
	    fflush(f) || fsync(fileno(f))) {
		err = -errno;
		log_warn("failed to write trust file %s", path);
	}
	if (f)
		fclose(f);
	if (!err) {
		chmod(path, 0644);
		log_info("new log %s: give %s to the auditors, out of band", l->origin, path);
	}
	return err;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

void ledger__id(const struct ledger *l, uint8_t out[32])
{
	static const char tag[] = "custos-ledger";
	uint8_t buf[sizeof(tag) + RECORD_KEY_LEN + 256];
	size_t n = strlen(l->origin) < 256 ? strlen(l->origin) : 256;

	/* The log key and the name: what a log is known by (GENESIS). */
	memcpy(buf, tag, sizeof(tag));
	pub_of(l->log_key, buf + sizeof(tag));
	memcpy(buf + sizeof(tag) + RECORD_KEY_LEN, l->origin, n);
	sha256(buf, sizeof(tag) + RECORD_KEY_LEN + n, out);
}

int ledger__set_state(struct ledger *l, const char *k, const void *v, int len)
{
	return ledger__begin(l) ?: store__set_state(l->store, k, v, len);
}

int ledger__get_state(struct ledger *l, const char *k, void *buf, int cap)
{
	return store__get_state(l->store, k, buf, cap);
}

/* A new log's key directory must hold no other log's key: writing over it
 * would leave that log unable to sign, or to be verified, ever again.
 * Returns 0 or -EEXIST (said). */
static int keys_free(struct ledger *l)
{
	char path[4096];
	struct stat st;
	int err = key_path(l, "log.key", path, sizeof(path));

	if (!err && !lstat(path, &st)) {
		log_warnx("failed to create a new log: %s holds another log's key (give this "
			  "database a --keys directory of its own)",
			  path);
		err = -EEXIST;
	}
	return err;
}

/* A new log: LK, FK_0, GENESIS as leaf 0, its checkpoint, the trust file. */
static int genesis(struct ledger *l, const struct ledger_opts *o)
{
	struct note_verifier lk, fk0;
	char *fs_name = epoch_key_name(l);
	struct record r = { .type = REC_GENESIS };
	int err;

	if (!fs_name)
		return -ENOMEM;
	err = keys_free(l);
	if (err) {
		free(fs_name);
		return err;
	}
	err = note__signer_generate(l->origin, &l->log_key)
		      ?: note__signer_generate(fs_name, &l->epoch_key);
	free(fs_name);
	if (err)
		return err;
	l->epoch = 0;
	l->t0_ns = util__realtime_ns();
	l->interval_ns = o->interval_ns;
	l->heartbeat_ns = o->heartbeat_ns;
	err = key_write(l, "log.key", l->log_key, -1)
		      ?: key_write(l, "current.key", l->epoch_key, 0);
	if (err)
		return err;
	note__signer_verifier(l->log_key, &lk);
	note__signer_verifier(l->epoch_key, &fk0);
	r.genesis.origin = (struct bytes){ (const uint8_t *)l->origin, strlen(l->origin) };
	memcpy(r.genesis.log_key, lk.pub, RECORD_KEY_LEN);
	memcpy(r.genesis.epoch_key, fk0.pub, RECORD_KEY_LEN);
	r.genesis.t0_ns = l->t0_ns;
	r.genesis.interval_ns = l->interval_ns;
	r.genesis.heartbeat_ns = l->heartbeat_ns;
	memcpy(r.genesis.software, o->software, 32);
	sha256(o->config, strlen(o->config), r.genesis.config);
	return append_one(l, &r) ?: checkpoint(l) ?: write_trust(l, &lk, &fk0);
}

/* GENESIS tells the epoch clock; the last CONFIG or GENESIS the configuration. */
static int read_log_facts(struct ledger *l, uint8_t config_hash[32])
{
	struct store_reader *db = store__reader(l->store);
	struct store_records *c = store__records_open(db);
	struct record r;
	uint64_t config;
	int err = c ? store__records_get(c, 0, &r) : -EIO;

	if (!err && r.type != REC_GENESIS)
		err = -EBADMSG;
	if (!err) {
		l->t0_ns = r.genesis.t0_ns;
		l->interval_ns = r.genesis.interval_ns;
		l->heartbeat_ns = r.genesis.heartbeat_ns;
		memcpy(config_hash, r.genesis.config, 32);
		err = r.genesis.origin.len == strlen(l->origin) &&
				      !memcmp(r.genesis.origin.p, l->origin, r.genesis.origin.len)
			      ? 0
			      : -EINVAL;
	}
	/* A later configuration is in the last CONFIG. */
	if (!err && !store__last_seq(db, REC_CONFIG, &config) &&
	    !store__records_get(c, config, &r) && r.type == REC_CONFIG)
		memcpy(config_hash, r.config.hash, 32);
	store__records_close(c);
	if (err == -EINVAL)
		log_warnx("failed to continue the log: it belongs to another origin than %s",
			  l->origin);
	else if (err && err != -EIO)
		log_warnx("failed to continue the log: record 0 is not a valid GENESIS");
	return err;
}

/* An interrupted epoch close: finished if its EPOCH_CLOSE was committed,
 * else forgotten (docs/ledger.md). */
static int recover_close(struct ledger *l)
{
	struct note_signer *next = NULL;
	uint8_t pub[RECORD_KEY_LEN];
	struct record last;
	char *fs_name = epoch_key_name(l);
	int64_t next_epoch;
	int clean;
	int err;

	if (!fs_name)
		return -ENOMEM;
	err = key_read(l, "next.key", fs_name, &next, &next_epoch);
	free(fs_name);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	pub_of(next, pub);
	err = read_last(l, &last, &clean);
	if (!err && last.type == REC_EPOCH_CLOSE &&
	    !memcmp(last.epoch_close.next_key, pub, RECORD_KEY_LEN)) {
		log_info("finishing the close of epoch %" PRIu64, l->epoch);
		err = checkpoint(l);
		if (!err) {
			key_wipe(l, "current.key");
			err = rename_keys(l) ? -errno : 0;
		}
		if (!err) {
			note__signer_free(l->epoch_key);
			l->epoch_key = next;
			next = NULL;
			l->epoch = (uint64_t)next_epoch;
			l->epoch_first = last.seq + 1;
		}
	} else if (!err || err == -ENOENT) {
		char path[4096];

		err = key_path(l, "next.key", path, sizeof(path));
		if (!err && unlink(path))
			err = -errno;
	}
	note__signer_free(next);
	return err;
}

int ledger__resume(struct ledger *l, const struct rec_gap *seen)
{
	struct rec_gap gap = { 0 };
	struct record last, r;
	const char *reason;
	uint8_t hash[32];
	int err, clean;

	if (!l->to_resume)
		return 0;
	err = read_last(l, &last, &clean);
	if (err)
		return err;
	if (seen) {
		gap.kept = seen->kept;
		gap.lost = seen->lost;
		gap.blind_from_ns = seen->blind_from_ns;
		gap.blind_to_ns = seen->blind_to_ns;
	}
	gap.from_ns = last.t_real_ns;
	gap.to_ns = (uint64_t)util__realtime_ns();
	memcpy(gap.from_boot, last.boot_id, 16);
	memcpy(gap.to_boot, l->boot_id, 16);
	/* read_last tells a stop's closing seal from an interval's: killed
	 * right after an interval close is a crash, not a stop. */
	reason = memcmp(last.boot_id, l->boot_id, 16) ? "reboot" : clean ? "stop" : "crash";
	gap.reason = (struct bytes){ (const uint8_t *)reason, strlen(reason) };
	if (epoch_of(l, gap.to_ns) > l->epoch) {
		err = epoch_close(l, "late", &gap);
	} else {
		memset(&r, 0, sizeof(r));
		r.type = REC_GAP;
		r.gap = gap;
		err = append_one(l, &r);
	}
	if (err)
		return err;
	l->to_resume = 0;
	sha256(l->config, strlen(l->config), hash);
	if (memcmp(hash, l->config_hash, 32))
		err = ledger__config(l, l->config);
	return err;
}

int ledger__config(struct ledger *l, const char *text)
{
	struct record r = { .type = REC_CONFIG };

	r.config.text = (struct bytes){ (const uint8_t *)text, strlen(text) };
	sha256(text, strlen(text), r.config.hash);
	return append_one(l, &r);
}

static int continue_log(struct ledger *l)
{
	char *fs_name = epoch_key_name(l);
	int64_t epoch, none;
	int err;

	if (!fs_name)
		return -ENOMEM;
	err = key_read(l, "log.key", l->origin, &l->log_key, &none)
		      ?: key_read(l, "current.key", fs_name, &l->epoch_key, &epoch);
	free(fs_name);
	if (err) {
		log_warnx("failed to continue the log: its keys in %s are missing or damaged",
			  l->key_dir);
		return err;
	}
	l->epoch = (uint64_t)epoch;
	err = read_log_facts(l, l->config_hash) ?: load_tree(l);
	if (err)
		return err;
	l->signed_size = 0;
	l->to_resume = 1;
	return recover_close(l);
}

struct ledger *ledger__open(const struct ledger_opts *o)
{
	struct ledger *l = calloc(1, sizeof(*l));
	uint8_t leaf[RECORD_LEAF_LEN];
	uint64_t next;
	int err = -ENOMEM;

	if (!l)
		goto fail;
	l->key_dir = strdup(o->key_dir);
	l->origin = strdup(o->origin);
	if (!l->key_dir || !l->origin)
		goto fail;
	memcpy(l->boot_id, o->boot_id, 16);
	l->witness_dir = o->witness_dir;
	l->witness_cmd = o->witness_cmd;
	l->on_append = o->on_append;
	l->on_append_ctx = o->on_append_ctx;
	l->config = o->config;
	l->clock_off = util__realtime_ns() - util__boottime_ns();
	err = check_db_dir(o->db_path);
	if (err)
		goto fail;
	if (mkdir(l->key_dir, 0700) && errno != EEXIST) {
		err = -errno;
		log_warn("failed to create key directory %s", l->key_dir);
		goto fail;
	}
	err = check_keys(l->key_dir);
	if (err)
		goto fail;
	/* A database yet to be made is made only when its log can be: a
	 * refused start leaves no empty database behind. */
	if (access(o->db_path, F_OK)) {
		err = keys_free(l);
		if (err)
			goto fail;
	}
	l->store = store__open(o->db_path);
	if (!l->store) {
		err = -errno;
		goto fail;
	}
	merkle__init(&l->tree);
	store__head(l->store, &next, leaf);
	err = next ? continue_log(l) : genesis(l, o);
	if (err)
		goto fail;
	l->next_heartbeat = util__boottime_ns() + (int64_t)l->heartbeat_ns;
	return l;
fail:
	ledger__free(l);
	errno = -err;
	return NULL;
}

int ledger__seal(struct ledger *l)
{
	int err;

	if (!l)
		return 0;
	err = epoch_close(l, "stop", NULL);
	ledger__free(l);
	return err;
}

void ledger__free(struct ledger *l)
{
	if (!l)
		return;
	if (l->in_batch)
		ledger__rollback(l);
	store__close(l->store);
	note__signer_free(l->log_key);
	note__signer_free(l->epoch_key);
	free(l->key_dir);
	free(l->origin);
	free(l);
}
