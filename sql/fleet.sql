-- The fleet's central evidence store on PostgreSQL 15 (README, "Fleet"):
-- every host's ledger, record by record, as the host sent it.  custos fleet
-- init runs this file in one transaction; it is embedded in custos.
CREATE SCHEMA custos;
SET search_path = custos;

CREATE TABLE host (
	id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	origin text NOT NULL UNIQUE,
	role name NOT NULL UNIQUE,
	trust bytea NOT NULL,
	enrolled timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE head (
	host integer PRIMARY KEY REFERENCES host,
	next_seq bigint NOT NULL DEFAULT 0,
	last_leaf bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000',
	moved timestamptz NOT NULL DEFAULT now()
);

-- The months the record table has partitions for: [lo, hi).
CREATE TABLE span (one boolean PRIMARY KEY DEFAULT true CHECK (one), lo timestamptz NOT NULL,
		   hi timestamptz NOT NULL);

CREATE TABLE record (
	host integer NOT NULL,
	seq bigint NOT NULL,
	t timestamptz NOT NULL,
	body bytea NOT NULL,
	PRIMARY KEY (host, seq, t)
) PARTITION BY RANGE (t);

CREATE TABLE checkpoint (
	host integer NOT NULL REFERENCES host,
	size bigint NOT NULL,
	note text NOT NULL,
	PRIMARY KEY (host, size)
);

-- The months of partitions around now, each hashed by host 8 ways.
CREATE FUNCTION add_month(m timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path = custos, pg_temp AS $$
DECLARE
	lo timestamptz := date_trunc('month', m);
	hi timestamptz := lo + interval '1 month';
	name text := 'record_' || to_char(lo, 'YYYYMM');
BEGIN
	EXECUTE format('CREATE TABLE %I PARTITION OF record FOR VALUES FROM (%L) TO (%L) PARTITION BY HASH (host)',
		       name, lo, hi);
	FOR i IN 0..7 LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)',
			       name || '_' || i, name, i);
	END LOOP;
END $$;

SELECT add_month(now() + make_interval(months => m)) FROM generate_series(-12, 1) m;
INSERT INTO span VALUES (true, date_trunc('month', now()) - interval '12 months',
			 date_trunc('month', now()) + interval '2 months');

-- Keep partitions two months ahead of now: custos verify --follow calls this
-- as it idles (hourly), so records never clamp into a full month's end.
CREATE FUNCTION extend_span() RETURNS void
LANGUAGE plpgsql SET search_path = custos, pg_temp AS $$
DECLARE
	top timestamptz;
BEGIN
	SELECT s.hi INTO top FROM span s FOR UPDATE;
	WHILE top < date_trunc('month', now()) + interval '2 months' LOOP
		PERFORM add_month(top);
		top := top + interval '1 month';
	END LOOP;
	UPDATE span SET hi = top;
END $$;

-- A canonical record's big-endian integers (record.h: seq at 6, t_real_ns at 70).
CREATE FUNCTION be64(b bytea, off int) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT ('x' || encode(substring(b FROM off + 1 FOR 8), 'hex'))::bit(64)::bigint $$;

-- The host of the session's login role: the only host a role can act for.
CREATE FUNCTION my_host() RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = custos, pg_temp AS $$
DECLARE
	h integer;
BEGIN
	SELECT id INTO h FROM host WHERE role = session_user;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no host is enrolled for role %', session_user USING ERRCODE = '42501';
	END IF;
	RETURN h;
END $$;

-- Keep host h's signed checkpoint note of its log at size: once; the same
-- size again must be the same note.
CREATE FUNCTION keep_checkpoint(h integer, sz bigint, nt text) RETURNS void
LANGUAGE plpgsql SET search_path = custos, pg_temp AS $$
DECLARE
	held text;
BEGIN
	IF sz > (SELECT next_seq FROM head WHERE host = h) THEN
		RAISE EXCEPTION 'gap: a checkpoint of size % is past the records held', sz
			USING ERRCODE = 'CU002';
	END IF;
	SELECT c.note INTO held FROM checkpoint c WHERE c.host = h AND c.size = sz;
	IF FOUND AND held <> nt THEN
		RAISE EXCEPTION 'equivocation: another checkpoint of size %', sz USING ERRCODE = 'CU001';
	END IF;
	IF NOT FOUND THEN
		INSERT INTO checkpoint (host, size, note) VALUES (h, sz, nt);
		-- custos verify --follow wakes on this: it verifies up to a
		-- checkpoint, so a batch without one gives it nothing to do.  Not
		-- on every batch: a transaction that notifies holds one lock of
		-- the whole cluster from its commit's start to its end (the
		-- queue's order), which made the hosts' commits take turns.
		PERFORM pg_notify('custos_ingest', h::text);
	END IF;
END $$;

-- Raised from inside ingest's insert: its transaction, insert and all, is undone.
CREATE FUNCTION refuse(seq bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'gap: seq % does not chain to the record before', seq USING ERRCODE = 'CU002';
END $$;

-- Records first_seq.. of the session's host, as canonical bodies; note, when
-- given, is the host's checkpoint of the log that ends with them.  Set-based:
-- one statement checks and stores the new records, so a record costs one
-- SHA-256, a heap tuple and an index entry (and no numeric or text
-- conversion: the time key is integer arithmetic on an interval, about a
-- tenth of the ingest's time less than to_timestamp(ns / 1e9)).  Returns the
-- host's next seq.
CREATE FUNCTION ingest(first_seq bigint, bodies bytea[], note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = custos, pg_temp AS $$
DECLARE
	h integer := my_host();
	nxt bigint;
	prev bytea;
	n integer := coalesce(array_length(bodies, 1), 0);
	k integer;
	bad bigint;
	s span%ROWTYPE;
BEGIN
	SELECT next_seq, last_leaf INTO nxt, prev FROM head WHERE host = h FOR UPDATE;
	IF first_seq > nxt OR first_seq < 0 THEN
		RAISE EXCEPTION 'gap: the batch starts at %, the next seq is %', first_seq, nxt
			USING ERRCODE = 'CU002';
	END IF;
	-- A resend below the head: byte for byte what is held, or equivocation.
	k := least(n, nxt - first_seq);
	IF k > 0 THEN
		SELECT min(first_seq + u.i - 1) INTO bad FROM unnest(bodies[1:k]) WITH ORDINALITY u(b, i)
			JOIN record r ON r.host = h AND r.seq = first_seq + u.i - 1
			WHERE r.body <> u.b;
		IF bad IS NOT NULL THEN
			RAISE EXCEPTION 'equivocation: seq % differs from the record held', bad
				USING ERRCODE = 'CU001';
		END IF;
	END IF;
	IF k < n THEN
		SELECT * INTO s FROM span;
		-- Each record must be canonical in outline (magic, length), carry its
		-- seq and chain to the one before: one pass that inserts, and refuses
		-- (undoing the insert) at the first record that does not.
		INSERT INTO record (host, seq, t, body)
		SELECT h, nxt + i - 1, greatest(s.lo, least(s.hi - interval '1 microsecond',
			'epoch'::timestamptz + be64(b, 70) / 1000 * interval '1 microsecond')), b
		FROM (SELECT b, i, lag(sha256('\x00'::bytea || b)) OVER (ORDER BY i) AS want
		      FROM unnest(CASE WHEN k = 0 THEN bodies ELSE bodies[k + 1:n] END)
		      WITH ORDINALITY u(b, i)) c
		WHERE CASE WHEN length(b) < 88 THEN refuse(nxt + i - 1)
			WHEN substring(b FROM 1 FOR 4) = '\x43555331'::bytea
			     AND get_byte(b, 86) * 256 + get_byte(b, 87) = length(b) - 88
			     AND substring(b FROM 7 FOR 8) = int8send(nxt + i - 1)
			     AND substring(b FROM 23 FOR 32) = coalesce(want, prev) THEN true
			ELSE refuse(nxt + i - 1) END;
		prev := sha256('\x00'::bytea || bodies[n]);
		nxt := nxt + n - k;
		UPDATE head SET next_seq = nxt, last_leaf = prev, moved = now() WHERE host = h;
	END IF;
	IF note IS NOT NULL THEN
		PERFORM keep_checkpoint(h, first_seq + n, note);
	END IF;
	RETURN nxt;
END $$;

CREATE FUNCTION next_seq() RETURNS bigint
LANGUAGE sql SECURITY DEFINER STABLE SET search_path = custos, pg_temp AS $$
	SELECT d.next_seq FROM head d JOIN host h ON h.id = d.host WHERE h.role = session_user $$;

-- The size of the session's host's last checkpoint held, -1 when none:
-- where its shipper resumes handing checkpoints in.
CREATE FUNCTION checkpoint_size() RETURNS bigint
LANGUAGE sql SECURITY DEFINER STABLE SET search_path = custos, pg_temp AS $$
	SELECT coalesce(max(c.size), -1) FROM checkpoint c JOIN host h ON h.id = c.host
	WHERE h.role = session_user $$;

-- A checkpoint handed in after the batch that ended at it.
CREATE FUNCTION checkpoint_in(size bigint, note text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = custos, pg_temp AS $$
	SELECT keep_checkpoint(my_host(), size, note) $$;

-- What custos verify --follow has proved of each host: records 0..size-1
-- replayed against the host's trust file, with what that found.  Written by
-- the verifier only, with the host's access rows, in one transaction.
CREATE TABLE verify_state (
	host integer PRIMARY KEY REFERENCES host,
	size bigint NOT NULL DEFAULT 0,
	sealed bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'unverified'
		CHECK (status IN ('unverified', 'verified', 'warnings', 'tamper')),
	tamper integer NOT NULL DEFAULT 0,
	warnings integer NOT NULL DEFAULT 0,
	silent boolean NOT NULL DEFAULT false,
	checked timestamptz
);

-- Each verified record as auditors read it: custos query's JSON of it
-- (doc), and for GAP, LOSS and ALERT records what the views show of them
-- (extra).  time_ns is an access's own time, else when it was written.
CREATE TABLE access (
	host integer NOT NULL REFERENCES host,
	seq bigint NOT NULL,
	type smallint NOT NULL,
	time_ns bigint NOT NULL,
	boot_id bytea NOT NULL,
	doc jsonb NOT NULL,
	extra jsonb,
	PRIMARY KEY (host, seq)
);
CREATE INDEX access_time ON access (time_ns);

-- ns since the epoch as RFC 3339 UTC with nanoseconds, as custos query prints it.
CREATE FUNCTION rfc3339(ns bigint) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT to_char(to_timestamp(ns / 1000000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
	       || '.' || lpad((ns % 1000000000)::text, 9, '0') || 'Z' $$;

-- The auditors' four views, with the column names of a ledger's own
-- (README, "SQL views"), over what the verifier has proved; host is the
-- enrolled name.  Booleans are 0 or 1, as in SQLite.
CREATE VIEW accesses AS
SELECT a.seq, a.doc->>'time' AS time, a.time_ns, h.role::text AS host, a.doc->>'action' AS action,
	(a.doc->>'result')::bigint AS result, (a.doc->>'flags')::bigint AS flags,
	a.doc->>'path' AS path, (a.doc->>'truncated')::boolean::int AS truncated,
	(a.doc->>'deleted')::boolean::int AS deleted,
	(a.doc->>'unresolved')::boolean::int AS unresolved,
	(a.doc->>'fs_relative')::boolean::int AS fs_relative, (a.doc->>'dev')::bigint AS dev,
	(a.doc->>'ino')::bigint AS ino, (a.doc->>'mnt_id')::bigint AS mnt_id,
	a.doc->>'dataset' AS dataset, (a.doc->>'bytes')::bigint AS bytes,
	(a.doc->>'reads')::bigint AS reads, (a.doc->>'partial')::boolean::int AS partial,
	a.doc->>'first_time' AS first_time, a.doc->>'last_time' AS last_time,
	(a.doc->>'min_offset')::bigint AS min_offset, (a.doc->>'max_offset')::bigint AS max_offset,
	(a.doc->>'pid')::bigint AS pid, (a.doc->>'tid')::bigint AS tid,
	(a.doc->>'ppid')::bigint AS ppid, a.doc->>'comm' AS comm, a.doc->>'exe' AS exe,
	nullif(a.doc->'args', 'null') AS args, (a.doc->>'uid')::bigint AS uid, (a.doc->>'euid')::bigint AS euid,
	(a.doc->>'fsuid')::bigint AS fsuid, (a.doc->>'gid')::bigint AS gid,
	(a.doc->>'egid')::bigint AS egid, (a.doc->>'loginuid')::bigint AS loginuid,
	(a.doc->>'sessionid')::bigint AS sessionid, a.doc->>'person' AS person,
	a.doc->>'attribution' AS attribution, a.doc->>'team' AS team, a.doc->>'role' AS role,
	coalesce((a.doc->>'left')::boolean::int, 0) AS "left", a.doc->>'directory' AS directory,
	a.doc->>'lineage' AS lineage, a.doc->>'container' AS container,
	(a.doc->>'sid')::bigint AS sid, (a.doc->>'tty')::bigint AS tty,
	(a.doc->>'cgroup_id')::bigint AS cgroup_id, encode(a.boot_id, 'hex') AS boot_id,
	(a.doc->>'session')::bigint AS session, a.doc->>'abi' AS abi,
	(a.doc->>'discovered')::boolean::int AS discovered, a.doc->>'target' AS target,
	(a.extra->>'target_flags')::bigint AS target_flags,
	-- A read session counts once: in its final record, else (none was
	-- written) in its latest progress report.
	CASE WHEN a.doc->>'action' IN ('read', 'read_call') THEN
		(a.doc->>'action' = 'read' AND (NOT (a.doc->>'partial')::boolean
		 OR (a.doc->>'session' IS NOT NULL AND (a.host, a.seq) IN
		     (SELECT x.host, max(x.seq) FROM access x WHERE x.doc->>'action' = 'read'
		      AND x.doc->>'session' IS NOT NULL GROUP BY x.host, x.boot_id, x.doc->>'session'
		      HAVING bool_and((x.doc->>'partial')::boolean)))))::int END AS counted
FROM access a JOIN host h ON h.id = a.host WHERE a.type = 1;

CREATE VIEW person_dataset AS
SELECT person, dataset,
	count(*) FILTER (WHERE action = 'open' AND result >= 0) AS opens,
	count(*) FILTER (WHERE action = 'mmap' AND result >= 0) AS mmaps,
	count(*) FILTER (WHERE action = 'read' AND counted = 1) AS reads,
	coalesce(sum(bytes) FILTER (WHERE action = 'read' AND counted = 1), 0) AS bytes,
	count(*) FILTER (WHERE action IN ('open', 'mmap') AND result < 0) AS failed,
	rfc3339(min(time_ns)) AS first_time, rfc3339(max(time_ns)) AS last_time
FROM accesses GROUP BY person, dataset;

CREATE VIEW gaps_losses AS
SELECT a.seq, rfc3339(a.time_ns) AS time, a.time_ns, a.extra->>'kind' AS kind,
	a.extra->>'reason' AS reason, rfc3339((a.extra->>'gap_from_ns')::bigint) AS gap_from,
	rfc3339((a.extra->>'gap_to_ns')::bigint) AS gap_to,
	(a.extra->>'gap_from_ns')::bigint AS gap_from_ns, (a.extra->>'gap_to_ns')::bigint AS gap_to_ns,
	round(((a.extra->>'gap_to_ns')::bigint - (a.extra->>'gap_from_ns')::bigint) / 1e9, 3)
		AS seconds,
	(a.extra->>'cpu')::bigint AS cpu, (a.extra->>'counter')::bigint AS counter,
	(a.extra->>'count')::bigint AS count, (a.extra->>'total')::bigint AS total, h.role::text AS host
FROM access a JOIN host h ON h.id = a.host WHERE a.type IN (3, 4);

CREATE VIEW alerts AS
SELECT a.seq, rfc3339(a.time_ns) AS time, a.time_ns, a.doc->>'rule' AS rule,
	a.doc->>'severity' AS severity, a.extra->>'summary' AS description,
	(a.doc->>'cause_seq')::bigint AS cause_seq, (a.extra->>'count')::bigint AS count,
	(a.extra->>'bytes')::bigint AS bytes, (a.extra->>'window_ns')::bigint / 1000000000 AS window_s,
	nullif(a.extra->>'person', '') AS person, nullif(a.extra->>'dataset', '') AS dataset,
	nullif(a.extra->>'path', '') AS path, h.role::text AS host
FROM access a JOIN host h ON h.id = a.host WHERE a.type = 12;

REVOKE ALL ON ALL TABLES IN SCHEMA custos FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA custos FROM PUBLIC;

-- Auditors read the four views and nothing else: grant this role to their
-- login roles.  A view reads with its owner's rights, so the role needs none
-- on the tables.  Roles belong to the cluster: a second store reuses it.
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'custos_auditor') THEN
		CREATE ROLE custos_auditor NOLOGIN;
	END IF;
END $$;
GRANT USAGE ON SCHEMA custos TO custos_auditor;
GRANT SELECT ON accesses, person_dataset, gaps_losses, alerts TO custos_auditor;
