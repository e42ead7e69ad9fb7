# tests/db_servers.sh - throwaway database servers for the tests and the
# benchmark (source it after tests/lib.sh or scripts/bench_lib.sh: it uses
# T, start_bg, wait_for_port and bail).
# shellcheck shell=bash
#
#   db_start_postgres DIR PORT   a PostgreSQL cluster made by initdb in DIR, on
#                                127.0.0.1:PORT and a UNIX socket in DIR
#                                (PG_PID: the postmaster, PG_SOCKDIR)
#   db_start_mariadb DIR PORT    a MariaDB data directory made in DIR, on
#                                127.0.0.1:PORT and DIR/mysql.sock (MY_PID, MY_SOCK)
#   db_start_redis DIR PORT      redis-server on 127.0.0.1:PORT and DIR/redis.sock,
#                                no persistence (RD_PID, RD_SOCK)
#
# Each has a user DB_USER with password DB_PASSWORD (Redis: requirepass) and a
# database DB_NAME, so that clients authenticate for real (and the tests can
# look for the password in captures: it must not be there).  The servers run
# in the foreground under start_bg: the test's exit stops them.
# Speed over durability: no fsync, small buffers; nothing here is kept.

DB_USER=${DB_USER:-app}
DB_PASSWORD=${DB_PASSWORD:-pw-SECRET-7d1e}
DB_NAME=${DB_NAME:-appdb}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# db_as_postgres CMD...: runs CMD as the postgres user (initdb and postgres
# refuse to run as root).
db_as_postgres() {
	if command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
	fi
}

db_start_postgres() {
	local dir=$1 port=$2 i
	[ -x "$PG_BIN/initdb" ] || bail "PostgreSQL installed (initdb)" "run: sudo bash scripts/setup.sh"
	mkdir -p "$dir"
	chown postgres: "$dir"
	chmod 700 "$dir"
	# the postgres user must reach DIR: its parent (the test's mode-700
	# scratch directory) becomes traversable, not readable
	chmod o+x "$(dirname "$dir")"
	printf '%s\n' "$DB_PASSWORD" >"$dir/.pw"
	chown postgres: "$dir/.pw"
	# password authentication over TCP and the socket (scram-sha-256): the
	# exchange runs, and the password must not reach a capture
	db_as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/.pw" -A scram-sha-256 \
		--no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
		bail "initdb makes a cluster" "$(tail -n 3 "$dir/initdb.log")"
	start_bg postgres runuser -u postgres -- "$PG_BIN/postgres" -D "$dir/data" -p "$port" \
		-c listen_addresses=127.0.0.1 -c unix_socket_directories="$dir" -c fsync=off \
		-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB -c max_connections=60 \
		-c logging_collector=off
	PG_SOCKDIR=$dir
	wait_for_port "$port" 30 || bail "postgres listens on $port" "$(tail -n 3 "$T/postgres.log" 2>/dev/null)"
	# (start_bg's pid is runuser's: the postmaster is the one its pid file names)
	PG_PID=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
	for ((i = 0; i < 50; i++)); do
		PGPASSWORD=$DB_PASSWORD psql -h "$dir" -p "$port" -U postgres -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	PGPASSWORD=$DB_PASSWORD psql -h "$dir" -p "$port" -U postgres -d postgres -q \
		-c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" \
		>"$dir/create.log" 2>&1 || bail "postgres: user and database created" "$(tail -n 3 "$dir/create.log")"
}

db_start_mariadb() {
	local dir=$1 port=$2 i
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
		bail "MariaDB installed (mariadbd)" "run: sudo bash scripts/setup.sh"
	mkdir -p "$dir"
	mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --auth-root-authentication-method=socket \
		--skip-test-db >"$dir/install.log" 2>&1 ||
		bail "mariadb-install-db makes a data directory" "$(tail -n 3 "$dir/install.log")"
	MY_SOCK=$dir/mysql.sock
	start_bg mariadbd /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --user=root --socket="$MY_SOCK" \
		--port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadb.pid" --skip-log-bin \
		--innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
		--skip-name-resolve --log-error="$dir/error.log"
	MY_PID=$BG_PID
	wait_for_port "$port" 30 || bail "mariadbd listens on $port" "$(tail -n 3 "$dir/error.log" 2>/dev/null)"
	for ((i = 0; i < 50; i++)); do
		mariadb --no-defaults -S "$MY_SOCK" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	mariadb --no-defaults -S "$MY_SOCK" -u root -e "CREATE DATABASE $DB_NAME;
		CREATE USER '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
		CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
		GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'%'; GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';" \
		>"$dir/create.log" 2>&1 || bail "mariadb: user and database created" "$(tail -n 3 "$dir/create.log")"
}

db_start_redis() {
	local dir=$1 port=$2
	command -v redis-server >/dev/null 2>&1 || bail "Redis installed (redis-server)" "run: sudo bash scripts/setup.sh"
	mkdir -p "$dir"
	RD_SOCK=$dir/redis.sock
	start_bg redis-server redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$RD_SOCK" \
		--unixsocketperm 700 --save '' --appendonly no --dir "$dir" --requirepass "$DB_PASSWORD" \
		--daemonize no --loglevel warning
	RD_PID=$BG_PID
	wait_for_port "$port" 20 || bail "redis-server listens on $port" "$(tail -n 3 "$T/redis-server.log" 2>/dev/null)"
}
