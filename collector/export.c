// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exports to sinks, never in capture's way.
 *
 * Each sink has a spool file (SPOOL_DIR/NAME.spool, lines ending in LF)
 * and a position file (NAME.pos: how far the spool has been sent).  A line
 * goes straight to the sink only when its spool is empty and the sink takes
 * all of it now; otherwise it is appended to the spool.  A stream socket
 * that took part of a line leaves the rest as the spool's head, so a frame
 * is never interleaved with another.  When a connection breaks, the head is
 * sent whole again after the reconnect: a receiver may see a line twice,
 * never a line out of order.  Lines already in the kernel's socket buffer
 * when a receiver dies are lost with it (plain syslog has no
 * acknowledgements); the ledger still has them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "export.h"
#include "jsonrec.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define BACKOFF_MIN_NS	(200 * 1000000LL)
#define BACKOFF_MAX_NS	(5 * 1000000000LL)
#define LINE_MAX_BYTES	(1u << 20) /* a spool line longer than this is damage */
#define SYSLOG_FACILITY 13	   /* log audit */
#define DEFAULT_KEEP	5

struct sink {
	struct export_spec spec;
	char name[64];	  /* the spool's file name stem */
	int fd;		  /* file, socket, or -1 when down */
	int connecting;	  /* a TCP connect in progress */
	int sock_type;	  /* syslog:unix: SOCK_DGRAM or SOCK_STREAM */
	int64_t retry_ns; /* CLOCK_BOOTTIME of the next attempt */
	int64_t backoff_ns;
	uint64_t size; /* file: its size now, for rotation */
	int spool_fd, pos_fd;
	uint64_t off, end; /* spool: sent up to off, written up to end */
	uint64_t lines;	   /* spool: lines in [off, end) */
	size_t head_sent;  /* bytes of the head line's frame a stream socket took */
	char *rbuf;	   /* spool bytes from file offset roff, rlen of them */
	size_t rlen, rcap;
	uint64_t roff;
	char *pend; /* lines of the batch, each ending in LF */
	size_t pend_len, pend_cap;
	char *frame; /* scratch for framing */
	size_t frame_cap;
	struct export_stats st;
	int warned; /* the current outage was logged */
};

struct exporter {
	struct sink *sinks;
	size_t n;
	char *host;
	char *version;
	int pid;
};

static int fail(char *why, size_t len, const char *fmt, const char *arg)
{
	snprintf(why, len, fmt, arg);
	return -EINVAL;
}

static int parse_option(struct export_spec *o, char *opt, char *why, size_t len)
{
	char *eq = strchr(opt, '=');
	int64_t v;

	if (!eq)
		return fail(why, len, "option %s wants NAME=VALUE", opt);
	*eq++ = '\0';
	if (!strcmp(opt, "only")) {
		if (!strcmp(eq, "all"))
			o->only = EXPORT_ONLY_ALL;
		else if (!strcmp(eq, "alerts"))
			o->only = EXPORT_ONLY_ALERTS;
		else
			return fail(why, len, "only=%s: want all or alerts", eq);
	} else if (!strcmp(opt, "format")) {
		if (!strcmp(eq, "custos"))
			o->format = EXPORT_CUSTOS;
		else if (!strcmp(eq, "ocsf"))
			o->format = EXPORT_OCSF;
		else
			return fail(why, len, "format=%s: want custos or ocsf", eq);
	} else if (!strcmp(opt, "max") && o->kind == EXPORT_FILE) {
		if (util__parse_int(eq, 4096, INT64_MAX, &v))
			return fail(why, len, "max=%s: want bytes, at least 4096", eq);
		o->max_bytes = (uint64_t)v;
	} else if (!strcmp(opt, "keep") && o->kind == EXPORT_FILE) {
		if (util__parse_int(eq, 1, 1000, &v))
			return fail(why, len, "keep=%s: want 1 to 1000 files", eq);
		o->keep = (unsigned int)v;
	} else {
		return fail(why, len, "unknown option %s", opt);
	}
	return 0;
}

static int parse_tcp(struct export_spec *o, char *hp, char *why, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char *host = hp, *port = strrchr(hp, ':');
	int64_t v;
	int rc;

	if (!port || port == hp)
		return fail(why, len, "%s: want HOST:PORT", hp);
	*port++ = '\0';
	if (util__parse_int(port, 1, 65535, &v))
		return fail(why, len, "port %s: want 1 to 65535", port);
	if (*host == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return fail(why, len, "host %s: want [IPV6]", host);
		host[n - 1] = '\0';
		host++;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(why, len, "host %s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int export__parse(const char *spec, struct export_spec *o, char *why, size_t len)
{
	char *copy = strdup(spec), *opts, *opt, *save = NULL, *rest;
	char dir[PATH_MAX];
	struct stat st;
	int err = 0;

	memset(o, 0, sizeof(*o));
	o->keep = DEFAULT_KEEP;
	if (!copy)
		return fail(why, len, "%s", "out of memory");
	opts = strchr(copy, ',');
	if (opts)
		*opts++ = '\0';
	if (strlen(copy) >= sizeof(o->target)) {
		err = fail(why, len, "%s", "too long");
		goto cleanup;
	}
	snprintf(o->target, sizeof(o->target), "%s", copy);
	if (!strncmp(copy, "file:", 5)) {
		o->kind = EXPORT_FILE;
		rest = copy + 5;
	} else if (!strncmp(copy, "syslog:unix:", 12)) {
		o->kind = EXPORT_SYSLOG_UNIX;
		rest = copy + 12;
	} else if (!strncmp(copy, "syslog:tcp:", 11)) {
		o->kind = EXPORT_SYSLOG_TCP;
		rest = copy + 11;
	} else {
		err = fail(why, len, "%s: want file:PATH, syslog:unix:PATH or syslog:tcp:HOST:PORT",
			   copy);
		goto cleanup;
	}
	if (o->kind == EXPORT_SYSLOG_TCP) {
		err = parse_tcp(o, rest, why, len);
	} else if (!*rest) {
		err = fail(why, len, "%s: want a path", copy);
	} else if (o->kind == EXPORT_SYSLOG_UNIX &&
		   strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err = fail(why, len, "%s: socket path too long", rest);
	} else {
		snprintf(o->path, sizeof(o->path), "%s", rest);
		snprintf(dir, sizeof(dir), "%s", rest);
		/* The file is created when missing; its directory must be there. */
		if (o->kind == EXPORT_FILE && (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode)))
			err = fail(why, len, "directory of %s does not exist", rest);
	}
	for (opt = opts ? strtok_r(opts, ",", &save) : NULL; !err && opt;
	     opt = strtok_r(NULL, ",", &save))
		err = parse_option(o, opt, why, len);
cleanup:
	free(copy);
	return err;
}

/* ---- Formatting ---------------------------------------------------------- */

static int wanted(const struct export_spec *s, const struct record *r)
{
	if (s->only == EXPORT_ONLY_ALERTS)
		return r->type == REC_ALERT;
	switch (r->type) {
	case REC_FILE_ACCESS:
	case REC_ALERT:
	case REC_LOSS:
	case REC_GAP:
	case REC_START:
	case REC_STOP:
		return 1;
	default:
		return 0;
	}
}

int export__syslog_severity(const struct record *r)
{
	switch (r->type) {
	case REC_ALERT:
		switch (r->alert.severity) {
		case SEV_CRITICAL:
			return 2;
		case SEV_HIGH:
			return 3;
		case SEV_MEDIUM:
			return 4;
		case SEV_LOW:
			return 5;
		default:
			return 6;
		}
	case REC_FILE_ACCESS:
		/* A refused open is worth a second look; the rest is routine. */
		return r->access.result < 0 ? 5 : 6;
	case REC_LOSS:
	case REC_GAP:
		return 4;
	default:
		return 5;
	}
}

/* RFC 5424 PRINTUSASCII, at most max bytes, or "-" when empty. */
static void printable(char *out, size_t max, const char *s)
{
	size_t o = 0;

	for (; *s && o < max; s++)
		out[o++] = *s > 32 && *s < 127 ? *s : '_';
	if (!o)
		out[o++] = '-';
	out[o] = '\0';
}

char *export__syslog_message(const struct record *r, const char *host, int pid, const char *msg)
{
	char ts[TIME_STR_LEN], hostname[256], msgid[33];
	char *out = NULL;

	/* RFC 5424 allows six digits of fraction: the ns form cut to µs. */
	util__format_time(jsonrec__time_ns(r), ts);
	memcpy(ts + 26, "Z", 2);
	printable(hostname, 255, host ? host : "");
	printable(msgid, 32, record__action(r));
	if (asprintf(&out, "<%d>1 %s %s custos %d %s - %s",
		     SYSLOG_FACILITY * 8 + export__syslog_severity(r), ts, hostname, pid, msgid,
		     msg) < 0)
		return NULL;
	return out;
}

/* The line for sink s, malloc'd, without LF; NULL when it cannot be made. */
static char *format_line(const struct exporter *x, const struct sink *s, const struct record *r)
{
	json_t *j = s->spec.format == EXPORT_OCSF ? jsonrec__ocsf(r, x->host, x->version)
						  : jsonrec__custos(r, x->host);
	char *text, *line;

	if (!j)
		return NULL;
	/* Syslog messages stay US-ASCII, so MSG needs no BOM (RFC 5424 §6.4). */
	text = json_dumps(j, JSON_COMPACT | (s->spec.kind == EXPORT_FILE ? 0 : JSON_ENSURE_ASCII));
	json_decref(j);
	if (!text || s->spec.kind == EXPORT_FILE)
		return text;
	line = export__syslog_message(r, x->host, x->pid, text);
	free(text);
	return line;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *nb;

		while (c < *len + n)
			c *= 2;
		nb = realloc(*buf, c);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

int export__add(struct exporter *x, const struct record *r)
{
	int err = 0;

	if (!x)
		return 0;
	for (size_t i = 0; i < x->n; i++) {
		struct sink *s = &x->sinks[i];
		char *line;

		if (!wanted(&s->spec, r))
			continue;
		line = format_line(x, s, r);
		if (!line || buf_append(&s->pend, &s->pend_len, &s->pend_cap, line, strlen(line)) ||
		    buf_append(&s->pend, &s->pend_len, &s->pend_cap, "\n", 1)) {
			s->st.dropped++;
			err = -ENOMEM;
		}
		free(line);
	}
	return err;
}

void export__rollback(struct exporter *x)
{
	for (size_t i = 0; x && i < x->n; i++)
		x->sinks[i].pend_len = 0;
}

/* ---- Transport ----------------------------------------------------------- */

static void sink_down(struct sink *s, int err, const char *what)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connecting = 0;
	s->head_sent = 0;
	s->st.up = 0;
	s->retry_ns = util__boottime_ns() + s->backoff_ns;
	s->backoff_ns = s->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff_ns * 2;
	if (!s->warned) {
		log_warnx("export %s: failed to %s: %s; spooling", s->spec.target, what,
			  strerror(-err));
		s->warned = 1;
	}
}

static void sink_up(struct sink *s)
{
	s->connecting = 0;
	s->st.up = 1;
	s->backoff_ns = BACKOFF_MIN_NS;
	if (s->warned)
		log_info("export %s: up again; %" PRIu64 " line(s) spooled", s->spec.target,
			 s->lines);
	s->warned = 0;
}

static void sink_connect(struct sink *s)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = -1, err = -EIO;

	switch (s->spec.kind) {
	case EXPORT_FILE:
		fd = open(s->spec.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0 || fstat(fd, &st)) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			sink_down(s, err, "open the file");
			return;
		}
		s->size = (uint64_t)st.st_size;
		s->fd = fd;
		sink_up(s);
		return;
	case EXPORT_SYSLOG_UNIX:
		/* export__parse checked that the path fits. */
		memcpy(un.sun_path, s->spec.path, strnlen(s->spec.path, sizeof(un.sun_path) - 1));
		/* /dev/log is a datagram socket on most systems, a stream on some. */
		for (int t = 0; t < 2; t++) {
			s->sock_type = t ? SOCK_STREAM : SOCK_DGRAM;
			fd = socket(AF_UNIX, s->sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				err = -errno;
				break;
			}
			if (!connect(fd, (struct sockaddr *)&un, sizeof(un))) {
				s->fd = fd;
				sink_up(s);
				return;
			}
			err = -errno;
			close(fd);
			fd = -1;
			if (err != -EPROTOTYPE)
				break;
		}
		sink_down(s, err, "connect");
		return;
	case EXPORT_SYSLOG_TCP:
		fd = socket(s->spec.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			sink_down(s, -errno, "connect");
			return;
		}
		s->fd = fd;
		if (!connect(fd, (struct sockaddr *)&s->spec.addr, s->spec.addr_len)) {
			sink_up(s);
		} else if (errno == EINPROGRESS) {
			s->connecting = 1;
		} else {
			sink_down(s, -errno, "connect");
		}
		return;
	}
}

/* A connect in progress finished?  A connected peer gone? */
static void sink_poll(struct sink *s)
{
	struct pollfd p = { .fd = s->fd, .events = s->connecting ? POLLOUT : POLLIN };
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	char junk[512];
	ssize_t n;

	if (s->spec.kind != EXPORT_SYSLOG_TCP || s->fd < 0 || poll(&p, 1, 0) <= 0)
		return;
	if (s->connecting) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr)
			sink_down(s, soerr ? -soerr : -errno, "connect");
		else
			sink_up(s);
		return;
	}
	/* A syslog receiver never writes: readable means closed (or junk to discard). */
	n = recv(s->fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == 0)
		sink_down(s, -ECONNRESET, "send");
	else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		sink_down(s, -errno, "send");
}

static int is_up(const struct sink *s)
{
	return s->fd >= 0 && !s->connecting;
}

/*
 * Send one line (without LF), framed for the sink, from byte *sent of its
 * frame.  Returns 0 when all of it went; -EAGAIN when the sink is full now
 * (*sent says how far it got); -EMSGSIZE when it can never go; other -errno
 * when the sink broke.
 */
static int sink_send(struct sink *s, const char *line, size_t len, size_t *sent)
{
	size_t flen;
	ssize_t n;
	int hlen = 0;

	if (s->spec.kind == EXPORT_SYSLOG_UNIX && s->sock_type == SOCK_DGRAM) {
		n = send(s->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		return n < 0 ? -errno : 0;
	}
	if (s->frame_cap < len + 32) {
		size_t c = len + 32;
		char *nb = realloc(s->frame, c);

		if (!nb)
			return -EAGAIN;
		s->frame = nb;
		s->frame_cap = c;
	}
	/* TCP: octet counting (RFC 6587 §3.4.1); files and unix streams: LF. */
	if (s->spec.kind == EXPORT_SYSLOG_TCP)
		hlen = snprintf(s->frame, 32, "%zu ", len);
	memcpy(s->frame + hlen, line, len);
	flen = hlen + len;
	if (s->spec.kind != EXPORT_SYSLOG_TCP)
		s->frame[flen++] = '\n';
	if (s->spec.kind == EXPORT_FILE && s->spec.max_bytes && s->size &&
	    s->size + flen > s->spec.max_bytes) {
		char from[PATH_MAX + 16], to[PATH_MAX + 16];
		int err;

		/* PATH.keep is overwritten; PATH.1 is the newest. */
		for (unsigned int i = s->spec.keep; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", s->spec.path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", s->spec.path, i);
			if (rename(from, to) && errno != ENOENT)
				return -errno;
		}
		snprintf(to, sizeof(to), "%s.1", s->spec.path);
		if (rename(s->spec.path, to))
			return -errno;
		close(s->fd);
		s->fd = open(s->spec.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->fd < 0) {
			err = -errno;
			return err;
		}
		s->size = 0;
	}
	while (*sent < flen) {
		if (s->spec.kind == EXPORT_FILE)
			n = write(s->fd, s->frame + *sent, flen - *sent);
		else
			n = send(s->fd, s->frame + *sent, flen - *sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		*sent += (size_t)n;
		if (s->spec.kind == EXPORT_FILE)
			s->size += (uint64_t)n;
	}
	return 0;
}

/* ---- Spool --------------------------------------------------------------- */

static void save_pos(struct sink *s)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%020" PRIu64 "\n", s->off);
	if (pwrite(s->pos_fd, buf, 21, 0) != 21)
		log_warn("export %s: failed to save spool position", s->spec.target);
}

static void spool_line(struct sink *s, const char *line, size_t len)
{
	ssize_t n;

	n = pwrite(s->spool_fd, line, len + 1, (off_t)s->end);
	if (n != (ssize_t)len + 1) {
		/* Disk full: the line is lost to this sink, and says so. */
		if (!s->st.dropped)
			log_warn("export %s: failed to spool a line; dropping", s->spec.target);
		if (ftruncate(s->spool_fd, (off_t)s->end))
			log_warn("export %s: failed to trim the spool", s->spec.target);
		s->st.dropped++;
		return;
	}
	s->end += (uint64_t)len + 1;
	s->lines++;
	s->st.delayed++;
}

/* The spool's head line (at off): *line and *len without LF; -EAGAIN when
 * it cannot be read now, -EBADMSG for a damaged spool. */
static int spool_head(struct sink *s, const char **line, size_t *len)
{
	char *nl;
	ssize_t n;

	for (;;) {
		if (s->off >= s->roff && s->off < s->roff + s->rlen) {
			size_t at = (size_t)(s->off - s->roff);

			nl = memchr(s->rbuf + at, '\n', s->rlen - at);
			if (nl) {
				*line = s->rbuf + at;
				*len = (size_t)(nl - *line);
				return 0;
			}
			/* One line fills the whole buffer: grow it. */
			if (s->roff == s->off && s->rlen == s->rcap) {
				char *nb;

				if (s->rcap >= LINE_MAX_BYTES)
					return -EBADMSG;
				nb = realloc(s->rbuf, s->rcap * 2);
				if (!nb)
					return -EAGAIN;
				s->rbuf = nb;
				s->rcap *= 2;
			}
		}
		n = pread(s->spool_fd, s->rbuf, s->rcap, (off_t)s->off);
		if (n < 0)
			return -EAGAIN;
		s->roff = s->off;
		s->rlen = (size_t)n;
		if (!memchr(s->rbuf, '\n', s->rlen) && s->rlen < s->rcap)
			return -EBADMSG;
	}
}

static void drain(struct sink *s)
{
	const char *line;
	size_t len;
	uint64_t was = s->off;
	int err;

	while (s->off < s->end && is_up(s)) {
		err = spool_head(s, &line, &len);
		if (err == -EAGAIN)
			break;
		if (err) {
			/* A torn tail (a crash while spooling): skip it whole. */
			log_warnx("export %s: failed to read the spool: damaged at %" PRIu64
				  "; skipping the rest",
				  s->spec.target, s->off);
			s->st.dropped += s->lines;
			s->off = s->end;
			s->lines = 0;
			break;
		}
		err = sink_send(s, line, len, &s->head_sent);
		if (err == -EAGAIN)
			break;
		if (err && err != -EMSGSIZE) {
			sink_down(s, err, "send");
			break;
		}
		if (err)
			s->st.dropped++;
		else
			s->st.sent++;
		s->head_sent = 0;
		s->off += len + 1;
		s->lines--;
	}
	if (s->off == was)
		return;
	if (s->off == s->end) {
		/* All sent: start the files over rather than let them grow. */
		if (ftruncate(s->spool_fd, 0))
			log_warn("export %s: failed to empty the spool", s->spec.target);
		s->off = s->end = 0;
		s->rlen = 0;
	}
	save_pos(s);
}

static void sink_tick(struct sink *s)
{
	if (s->fd < 0 && util__boottime_ns() >= s->retry_ns)
		sink_connect(s);
	sink_poll(s);
	drain(s);
}

void export__tick(struct exporter *x)
{
	for (size_t i = 0; x && i < x->n; i++)
		sink_tick(&x->sinks[i]);
}

void export__commit(struct exporter *x)
{
	for (size_t i = 0; x && i < x->n; i++) {
		struct sink *s = &x->sinks[i];
		size_t at = 0;

		if (!s->pend_len)
			continue;
		sink_tick(s);
		while (at < s->pend_len) {
			char *line = s->pend + at;
			size_t len = (size_t)((char *)memchr(line, '\n', s->pend_len - at) - line);
			size_t sent = 0;
			int err = -EAGAIN;

			if (s->off == s->end && is_up(s))
				err = sink_send(s, line, len, &sent);
			if (!err) {
				s->st.sent++;
			} else if (err == -EMSGSIZE) {
				s->st.dropped++;
			} else {
				if (err != -EAGAIN)
					sink_down(s, err, "send");
				else if (s->off == s->end)
					s->head_sent = sent; /* this line becomes the head */
				spool_line(s, line, len);
			}
			at += len + 1;
		}
		s->pend_len = 0;
	}
}

static int open_spool(struct sink *s, const char *dir)
{
	char path[PATH_MAX], buf[32];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s.spool", dir, s->name);
	s->spool_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->spool_fd < 0 || fstat(s->spool_fd, &st)) {
		log_warn("failed to open spool %s", path);
		return -errno;
	}
	s->end = (uint64_t)st.st_size;
	snprintf(path, sizeof(path), "%s/%s.pos", dir, s->name);
	s->pos_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->pos_fd < 0) {
		log_warn("failed to open spool position %s", path);
		return -errno;
	}
	n = pread(s->pos_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	s->off = strtoull(buf, NULL, 10);
	if (s->off > s->end)
		s->off = s->end;
	/* Count the lines left; a partial last line (a crash mid-write) goes. */
	s->rcap = 65536;
	s->rbuf = malloc(s->rcap);
	if (!s->rbuf)
		return -ENOMEM;
	for (uint64_t o = s->off; o < s->end;) {
		n = pread(s->spool_fd, s->rbuf, s->rcap, (off_t)o);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			s->lines += s->rbuf[i] == '\n';
		o += (uint64_t)n;
	}
	if (s->lines)
		log_info("export %s: %" PRIu64 " line(s) spooled by an earlier run", s->spec.target,
			 s->lines);
	return 0;
}

/* A file name for the sink's spool: its target, made safe, and a hash of
 * the whole spec, so two sinks never share one and a changed format never
 * inherits lines of another. */
static void spool_name(struct sink *s)
{
	uint64_t h = 1469598103934665603ULL;
	char safe[40];
	size_t o = 0;

	for (const char *p = s->spec.target; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ (s->spec.format + 16 * s->spec.only)) * 1099511628211ULL;
	for (const char *p = s->spec.target; *p && o < sizeof(safe) - 1; p++)
		safe[o++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ? *p
											      : '_';
	safe[o] = '\0';
	snprintf(s->name, sizeof(s->name), "%s-%08x", safe, (unsigned int)(h >> 32));
}

struct exporter *export__open(const struct export_spec *specs, size_t n, const char *spool_dir,
			      const char *host, const char *version)
{
	struct exporter *x = calloc(1, sizeof(*x));
	int err = -ENOMEM;

	if (!x || !(x->sinks = calloc(n ? n : 1, sizeof(*x->sinks))) || !(x->host = strdup(host)) ||
	    !(x->version = strdup(version))) {
		log_warnx("failed to open exports: out of memory");
		goto fail;
	}
	x->pid = getpid();
	if (mkdir(spool_dir, 0700) && errno != EEXIST) {
		err = -errno;
		log_warn("failed to create spool directory %s", spool_dir);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct sink *s = &x->sinks[i];

		s->spec = specs[i];
		s->fd = s->spool_fd = s->pos_fd = -1;
		s->backoff_ns = BACKOFF_MIN_NS;
		s->st.name = s->spec.target;
		x->n++;
		spool_name(s);
		err = open_spool(s, spool_dir);
		if (err)
			goto fail;
		sink_tick(s);
	}
	return x;
fail:
	export__close(x);
	errno = -err;
	return NULL;
}

int export__replay(struct exporter *x, const char *db_path, uint64_t n)
{
	struct store_records *c = NULL;
	struct store_reader *db = NULL;
	struct record r;
	uint64_t last;
	int rc, err;

	if (!x || !n)
		return 0;
	err = store__open_reader(db_path, &db);
	if (err)
		return err;
	err = store__last_seq(db, 0, &last);
	if (err) {
		err = err == -ENOENT ? 0 : err;
		goto cleanup;
	}
	c = store__records_open(db);
	err = c ? store__records_from(c, last + 1 > n ? last + 1 - n : 0) : -EIO;
	/* A row that is not a record is custos verify's to report, not the export's. */
	while (!err && (rc = store__records_next(c, &r)) != 0)
		if (rc == 1)
			export__add(x, &r);
		else if (rc == -EIO)
			err = rc;
cleanup:
	store__records_close(c);
	store__reader_close(db);
	return err;
}

int export__stats(const struct exporter *x, size_t i, struct export_stats *st)
{
	if (!x || i >= x->n)
		return -ENOENT;
	*st = x->sinks[i].st;
	st->spooled = x->sinks[i].lines;
	return 0;
}

void export__close(struct exporter *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++) {
		struct sink *s = &x->sinks[i];

		s->pend_len = 0;
		if (s->spool_fd >= 0 && s->pos_fd >= 0)
			drain(s);
		if (s->fd >= 0)
			close(s->fd);
		if (s->spool_fd >= 0)
			close(s->spool_fd);
		if (s->pos_fd >= 0)
			close(s->pos_fd);
		free(s->rbuf);
		free(s->pend);
		free(s->frame);
	}
	free(x->sinks);
	free(x->host);
	free(x->version);
	free(x);
}
