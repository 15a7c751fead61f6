# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests that need one (the claim history on
# PostgreSQL).  Installs Debian's postgresql when missing, runs initdb and pg_ctl in a temporary folder with a
# Unix socket only (no TCP port), exports SCRUBBER_TEST_PG, and stops and removes the cluster on exit.
start_throwaway_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq postgresql >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq postgresql >/dev/null 2>&1; } \
            || { echo "ci: postgresql could not be installed; the PostgreSQL tests will be skipped" >&2; return 0; }
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    PG_TMP=$(mktemp -d)
    local as=()
    if [ "$(id -u)" = 0 ]; then  # initdb refuses to run as root: the cluster belongs to the postgres user
        chown postgres "$PG_TMP"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -A trust -U scrubber >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
        -o "-c listen_addresses='' -k $PG_TMP -p 55437" start >/dev/null
    PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop)
    trap 'stop_throwaway_postgres' EXIT
    export SCRUBBER_TEST_PG="postgresql://scrubber@/postgres?host=$PG_TMP&port=55437"
    echo "ci: throwaway PostgreSQL at $PG_TMP" >&2
}

stop_throwaway_postgres() {
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
}
