# Sourced by scripts/test.sh: gives the tests a real PostgreSQL server.
# With VERITEE_TEST_POSTGRES_URL set, that server is used. Otherwise, when
# PostgreSQL's server binaries are installed (Debian: apt-get install postgresql),
# a private throwaway cluster is started on a Unix socket in a temporary
# directory, and stopped when the tests end. Without either, the PostgreSQL
# tests say they are skipped and why.
if [ -z "${VERITEE_TEST_POSTGRES_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
    pg_dir=$(mktemp -d /tmp/veritee-pg.XXXXXX)
    as_owner=()
    # PostgreSQL refuses to run as root: run it as the postgres user then.
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$pg_dir"
      as_owner=(runuser -u postgres --)
    fi
    "${as_owner[@]}" "$pg_bin/initdb" -D "$pg_dir/data" --auth=trust -U veritee >"$pg_dir/initdb.log" 2>&1
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
      -o "-c listen_addresses='' -k $pg_dir -p 5433 -c fsync=on" start >/dev/null
    export VERITEE_TEST_POSTGRES_URL="postgresql://veritee@localhost/postgres?host=$pg_dir&port=5433"
    stop_test_postgres() {
      "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$pg_dir"
    }
    trap stop_test_postgres EXIT
  fi
fi
