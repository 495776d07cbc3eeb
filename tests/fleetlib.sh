# The fleet's server as the README sets it up, for tests/e2e/fleetnet.sh and
# make bench (scripts/benchfleet.sh): sourced, not run.

# fleet_tls DIR SERVER_NAME: a throwaway CA in DIR (ca.crt) and the server's
# key and certificate for SERVER_NAME (server.key, server.crt, the
# postgres user's).  fleet_cert DIR NAME CN: a client's NAME.key and
# NAME.crt, CN its role.
fleet_cert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
		-keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null &&
		openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" \
			-CAcreateserial -days 2 ${4:+-extfile "$4"} -out "$1/$2.crt" 2>/dev/null &&
		chmod 600 "$1/$2.key"
}
fleet_tls() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=custos test CA" -days 2 -keyout "$1/ca.key" -out "$1/ca.crt" \
		2>/dev/null &&
		echo "subjectAltName = DNS:$2" >"$1/san.ext" &&
		fleet_cert "$1" server "$2" "$1/san.ext" &&
		chown postgres "$1/server.key" "$1/server.crt"
}

# The server's environment (README, "Fleet"): glibc's malloc, left to itself,
# hands a backend's memory back to the kernel after each batch of 1,000
# records and faults it in again for the next; with these a backend keeps
# it.  Measured here: one host ships twice as fast.  Started as
# env $FLEET_ENV pg_ctl ... start.
FLEET_ENV="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_TOP_PAD_=16777216"

# fleet_server DATA SOCKDIR TLSDIR LISTEN HBA_NET [PORT]: a cluster in DATA
# (initdb as postgres, $PGBIN set) with TLS 1.3 only, fsync and
# synchronous commits on, the administrator on the socket in SOCKDIR and
# every TCP login by client certificate from HBA_NET.
fleet_server() {
	runuser -u postgres -- "$PGBIN/initdb" -D "$1" -A trust -U postgres -E UTF8 \
		--locale=C.UTF-8 >/dev/null 2>&1 || return 1
	cat >>"$1/postgresql.conf" <<EOC
listen_addresses = '$4'
port = ${6:-5432}
unix_socket_directories = '$2'
fsync = on
synchronous_commit = on
ssl = on
ssl_cert_file = '$3/server.crt'
ssl_key_file = '$3/server.key'
ssl_ca_file = '$3/ca.crt'
ssl_min_protocol_version = 'TLSv1.3'
EOC
	printf 'local all postgres trust\nhostssl all all %s cert\n' "$5" >"$1/pg_hba.conf"
}
