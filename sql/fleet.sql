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
CREATE FUNCTION add_month(m timestamptz) RETURNS void LANGUAGE plpgsql AS $$
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

CREATE FUNCTION ingest(first_seq bigint, bodies bytea[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = custos, pg_temp AS $$
DECLARE
	h integer;
	nxt bigint;
	prev bytea;
	n integer := coalesce(array_length(bodies, 1), 0);
	i integer := 1;
	b bytea;
	stored bytea;
	s span%ROWTYPE;
	t timestamptz;
BEGIN
	h := my_host();
	SELECT next_seq, last_leaf INTO nxt, prev FROM head WHERE host = h FOR UPDATE;
	-- A resend below the head: byte for byte what is held, or equivocation.
	WHILE i <= n AND first_seq + i - 1 < nxt LOOP
		SELECT body INTO stored FROM record WHERE host = h AND seq = first_seq + i - 1;
		IF stored IS DISTINCT FROM bodies[i] THEN
			RAISE EXCEPTION 'equivocation: seq % differs from the record held', first_seq + i - 1
				USING ERRCODE = 'CU001';
		END IF;
		i := i + 1;
	END LOOP;
	IF i > n THEN
		RETURN nxt;
	END IF;
	IF first_seq + i - 1 <> nxt THEN
		RAISE EXCEPTION 'gap: the batch starts at %, the next seq is %', first_seq + i - 1, nxt
			USING ERRCODE = 'CU002';
	END IF;
	SELECT * INTO s FROM span;
	WHILE i <= n LOOP
		b := bodies[i];
		IF length(b) < 88 OR substring(b FROM 1 FOR 4) <> '\x43555331'::bytea
		   OR get_byte(b, 86) * 256 + get_byte(b, 87) <> length(b) - 88
		   OR be64(b, 6) <> nxt OR substring(b FROM 23 FOR 32) <> prev THEN
			RAISE EXCEPTION 'gap: seq % does not chain to the record before', nxt
				USING ERRCODE = 'CU002';
		END IF;
		t := greatest(s.lo, least(s.hi - interval '1 microsecond',
			to_timestamp(be64(b, 70) / 1e9)));
		INSERT INTO record (host, seq, t, body) VALUES (h, nxt, t, b);
		prev := sha256('\x00'::bytea || b);
		nxt := nxt + 1;
		i := i + 1;
	END LOOP;
	UPDATE head SET next_seq = nxt, last_leaf = prev, moved = now() WHERE host = h;
	RETURN nxt;
END $$;

CREATE FUNCTION next_seq() RETURNS bigint
LANGUAGE sql SECURITY DEFINER STABLE SET search_path = custos, pg_temp AS $$
	SELECT d.next_seq FROM head d JOIN host h ON h.id = d.host WHERE h.role = session_user $$;

-- A signed checkpoint note of the host's log at size, handed in with the
-- batch that ends at it: kept once; the same size again must be the same note.
CREATE FUNCTION checkpoint_in(size bigint, note text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = custos, pg_temp AS $$
DECLARE
	h integer;
	held text;
BEGIN
	h := my_host();
	IF size > (SELECT next_seq FROM head WHERE host = h) THEN
		RAISE EXCEPTION 'gap: a checkpoint of size % is past the records held', size
			USING ERRCODE = 'CU002';
	END IF;
	SELECT c.note INTO held FROM checkpoint c WHERE c.host = h AND c.size = checkpoint_in.size;
	IF FOUND AND held <> note THEN
		RAISE EXCEPTION 'equivocation: another checkpoint of size %', size USING ERRCODE = 'CU001';
	END IF;
	IF NOT FOUND THEN
		INSERT INTO checkpoint (host, size, note) VALUES (h, checkpoint_in.size, note);
	END IF;
END $$;

REVOKE ALL ON ALL TABLES IN SCHEMA custos FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA custos FROM PUBLIC;
