# tests/integration/lib.sh: helpers for integration tests against the fixture server.
# A test file defines test_* functions and ends with `run_tests`. Each test runs in its own
# subshell with a fresh temporary folder; a watchdog kills a test that hangs.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
GATHER="$BUILD/gather"
FIXTURE="$BUILD/fixture-server"
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
SERVER_PIDS=()

# server_start [fixture args]: starts a fixture server on 127.0.0.1:ephemeral; sets PORT and BASE.
server_start() {
    local pf
    pf=$(mktemp "$TMP/port.XXXXXX")
    rm -f "$pf"
    "$FIXTURE" --port 0 --port-file "$pf" --quiet "$@" >/dev/null 2>"$TMP/server.log" &
    SERVER_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
    [ -s "$pf" ] || { echo "# fixture server did not start"; cat "$TMP/server.log"; return 1; }
    PORT=$(cat "$pf")
    BASE="http://127.0.0.1:$PORT"
}

server_stop() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true   # a server killed by TERM is not a failure
    done
    SERVER_PIDS=()
}

stats() { curl -s -m 10 "$BASE/stats"; }
server_stat() { stats | jq -r ".$1"; }
server_reset() { curl -s -m 10 "$BASE/reset" >/dev/null; }

# gather ARGS...: runs the binary under a watchdog; its exit status is returned.
# GATHER_WRAP (e.g. valgrind) runs in front of the binary when set.
GATHER_WRAP=${GATHER_WRAP:-}
gather() { timeout 600 $GATHER_WRAP "$GATHER" "$@"; }

# expect_same FILE TARGET: FILE holds exactly what the server serves for TARGET.
expect_same() {
    if ! "$FIXTURE" --emit "$2" | cmp -s - "$1"; then
        echo "# $1 differs from $2"
        return 1
    fi
}

assert_eq() { [ "$1" = "$2" ] || { echo "# expected '$2', got '$1' ${3:-}"; return 1; }; }
assert_le() { [ "$1" -le "$2" ] || { echo "# expected $1 <= $2 ${3:-}"; return 1; }; }
assert_ge() { [ "$1" -ge "$2" ] || { echo "# expected $1 >= $2 ${3:-}"; return 1; }; }

# assert_absent PATH...: none of the paths exists. (`[ ! -e a ] && [ ! -e b ]` would check b
# only: errexit ignores every command of an && list but the last.)
assert_absent() {
    local p
    for p in "$@"; do
        [ ! -e "$p" ] || { echo "# $p exists"; return 1; }
    done
}

# count_files DIR: downloaded files under DIR (the state database is not one).
count_files() { find "$1" -type f ! -name '.gather.db*' | wc -l; }

# count_final DIR: files under their final names (no .part, no state database).
count_final() { find "$1" -type f ! -name '.gather.db*' ! -name '*.part' | wc -l; }

# no_partial DIR: no .part file is left anywhere under DIR.
no_partial() {
    local n
    n=$(find "$1" -name '*.part' | wc -l)
    [ "$n" -eq 0 ] || { echo "# $n .part files left under $1"; return 1; }
}

# run_tests [NAME...]: every test_* function, or only those named.
run_tests() {
    local name rc total=0 bad=0 t0
    local names
    names=${*:-$(declare -F | awk '{print $3}' | grep '^test_')}
    for name in $names; do
        t0=$(date +%s.%N)
        total=$((total + 1))
        TMP=$(mktemp -d /tmp/gather-test.XXXXXX)
        (
            set -e
            trap 'rc=$?; server_stop; exit $rc' EXIT
            cd "$TMP"
            "$name"
        ) >"$TMP/.out" 2>&1 &
        local pid=$!
        # The watchdog must not hold our stdout open (a reader would wait for its sleep).
        ( sleep "$TEST_TIMEOUT"; kill -TERM $pid ) >/dev/null 2>&1 &
        local dog=$!
        wait $pid
        rc=$?
        pkill -P $dog 2>/dev/null; kill $dog 2>/dev/null; wait $dog 2>/dev/null
        local secs; secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
        if [ $rc -eq 0 ]; then
            echo "ok $total - $name (${secs}s)"
            grep '^# skip' "$TMP/.out" || true     # a test that skipped part of itself says so
        else
            bad=$((bad + 1))
            echo "not ok $total - $name (exit $rc)"
            sed 's/^/#   /' "$TMP/.out" | tail -30
        fi
        # a test that failed half-way may leave a tmpfs of its own mounted
        grep -o " $TMP/[^ ]*" /proc/mounts 2>/dev/null | xargs -r -n1 umount 2>/dev/null
        rm -rf "$TMP"
    done
    return 0
}
