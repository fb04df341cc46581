# tests/integration/lib.sh: helpers for integration tests against the fixture server.
# A test file defines test_* functions and ends with `run_tests`. Each test runs in a bash of its
# own, in a session of its own, in a fresh temporary folder, with errexit reaching into functions,
# subshells and $(...). A watchdog kills a test that hangs; a test fails if any process it started
# is still running when it ends (those are killed).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_FILE=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
. "$ROOT/tests/procs.sh"
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
    [ -z "${REDIS_PID:-}" ] || redis_stop
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true     # it may have died already
        wait "$pid" 2>/dev/null || true           # a server killed by TERM is not a failure
    done
    SERVER_PIDS=()
}

# hostile_start SCRIPT [args]: starts tests/hostile/SCRIPT (python3) on 127.0.0.1:ephemeral;
# sets HPORT and HBASE. server_stop stops it with the fixture servers.
hostile_start() {
    local pf script=$1
    shift
    pf=$(mktemp "$TMP/hport.XXXXXX")
    rm -f "$pf"
    python3 "$ROOT/tests/hostile/$script" --port 0 --port-file "$pf" "$@" >/dev/null 2>"$TMP/hostile.log" &
    SERVER_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
    [ -s "$pf" ] || { echo "# $script did not start"; cat "$TMP/hostile.log"; return 1; }
    HPORT=$(cat "$pf")
    HBASE="http://127.0.0.1:$HPORT"
}

# redis_start [redis-server args]: a redis-server on 127.0.0.1 and a free port, with its data
# (AOF on, fsync always) in $TMP/redis; sets RPORT, REDIS_URL and REDIS_PID. server_stop stops it.
redis_start() {
    local port try
    mkdir -p "$TMP/redis"
    for try in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        redis-server --bind 127.0.0.1 --port "$port" --dir "$TMP/redis" --save '' \
            --appendonly yes --appendfsync always --logfile "$TMP/redis/log" "$@" &
        REDIS_PID=$!
        RPORT=$port
        REDIS_URL="redis://127.0.0.1:$port/0"
        REDIS_ARGS=("$@")
        if redis_wait; then return 0; fi
        kill -KILL "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    done
    echo "# redis-server did not start"; tail -5 "$TMP/redis/log"; return 1
}

# redis_wait: until the server on RPORT answers PING (10 s at most).
redis_wait() {
    local i
    for i in $(seq 1 200); do
        kill -0 "$REDIS_PID" 2>/dev/null || return 1
        [ "$(redis-cli -p "$RPORT" ${REDIS_PASS:+-a "$REDIS_PASS" --no-auth-warning} ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    return 1
}

# rcli ARGS: redis-cli on the test's server.
rcli() { redis-cli -p "$RPORT" ${REDIS_PASS:+-a "$REDIS_PASS" --no-auth-warning} "$@"; }

redis_stop() {
    [ -n "${REDIS_PID:-}" ] || return 0
    kill -TERM "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
}

# redis_restart [SECONDS]: kill -9 the server, wait SECONDS (default 0), start it again on the
# same port and data (the AOF brings back what was written).
redis_restart() {
    kill -KILL "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    sleep "${1:-0}"
    redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$TMP/redis" --save '' \
        --appendonly yes --appendfsync always --logfile "$TMP/redis/log" "${REDIS_ARGS[@]}" &
    REDIS_PID=$!
    redis_wait || { echo "# redis-server did not restart"; tail -5 "$TMP/redis/log"; return 1; }
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

# run_tests [NAME...]: every test_* function, or only those named, each as a new bash on this
# file (GATHER_TEST_ONE names the test) so that it can lead a session of its own. After it ends,
# whatever it started and left running is found by that session, or by GATHER_TEST_TMP (the
# test's folder) in its environment for a daemon that left the session; the test then fails.
run_tests() {
    [ -z "${GATHER_TEST_ONE:-}" ] || runner_body "$GATHER_TEST_ONE"
    local name rc total=0 bad=0 t0 pid= dog secs left n why
    local names
    names=${*:-$(declare -F | awk '{print $3}' | grep '^test_')}
    # Interrupted: the test runs in another session, out of reach of the terminal's ^C.
    trap '[ -z "$pid" ] || runner_reap "$pid" "$TMP" >/dev/null; exit 130' INT TERM
    for name in $names; do
        t0=$(date +%s.%N)
        total=$((total + 1))
        TMP=$(mktemp -d /tmp/gather-test.XXXXXX)
        # A background job of a shell without job control never leads a process group, so
        # setsid makes the new session in place: $! is the test's bash and the session's id.
        GATHER_TEST_ONE=$name GATHER_TEST_TMP=$TMP setsid bash "$TEST_FILE" >"$TMP/.out" 2>&1 &
        pid=$!
        # The watchdog must not hold our stdout open (a reader would wait for its sleep).
        ( sleep "$TEST_TIMEOUT"; kill -TERM $pid ) >/dev/null 2>&1 &
        dog=$!
        wait $pid
        rc=$?
        pkill -P $dog 2>/dev/null; kill $dog 2>/dev/null; wait $dog 2>/dev/null
        left=$(runner_reap $pid "$TMP")
        secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
        if [ $rc -eq 0 ] && [ -z "$left" ]; then
            echo "ok $total - $name (${secs}s)"
            grep '^# skip' "$TMP/.out" || true     # a test that skipped part of itself says so
        else
            bad=$((bad + 1))
            why="exit $rc"
            if [ -n "$left" ]; then
                n=$(wc -l <<< "$left")
                why="left $n process$([ "$n" -eq 1 ] || echo es) running: $(cut -d' ' -f2- <<< "$left" |
                    cut -c1-150 | paste -sd'|' - | sed 's/|/; /g')"
                [ $rc -eq 0 ] || why="exit $rc; $why"
            fi
            echo "not ok $total - $name ($why)"
            sed 's/^/#   /' "$TMP/.out" | tail -30
        fi
        # a test that failed half-way may leave a tmpfs of its own mounted
        grep -o " $TMP/[^ ]*" /proc/mounts 2>/dev/null | xargs -r -n1 umount 2>/dev/null
        rm -rf "$TMP"
    done
    trap - INT TERM
    return 0
}

# runner_reap SID FOLDER: prints "PID COMMAND" for each process the test in session SID (run in
# FOLDER) left running, and kills them. A process that is on its way out gets a moment first.
runner_reap() {
    local left
    left=$(procs_of_test "$1" "GATHER_TEST_TMP=$2")
    [ -n "$left" ] || return 0
    sleep 0.3
    left=$(procs_of_test "$1" "GATHER_TEST_TMP=$2")
    [ -n "$left" ] || return 0
    procs_kill $(cut -d' ' -f1 <<< "$left")
    printf '%s\n' "$left"
}

# runner_body NAME: the test's side of run_tests. Runs NAME in $GATHER_TEST_TMP with errexit
# everywhere: -E carries the ERR trap (which says where a test failed) into functions, and
# inherit_errexit carries -e into $(...). Stops the test's servers however it ends; never returns.
runner_body() {
    unset GATHER_TEST_ONE               # the test's own children are not test runners
    TMP=$GATHER_TEST_TMP
    cd "$TMP"
    shopt -s inherit_errexit
    set -eE
    trap 'runner_failed "${BASH_SOURCE[0]}" "$LINENO"' ERR
    trap 'rc=$?; server_stop; exit $rc' EXIT
    "$1"
    exit 0
}

# runner_failed FILE LINE: the ERR trap's report of the line that stopped a test. Only the test's
# own shell reports: inside $(...), a `grep -c` that counts 0 fails without failing anything.
runner_failed() {
    [ "$BASH_SUBSHELL" -eq 0 ] || return 0
    echo "# failed at ${1##*/}:$2: $(sed -n "$2{s/^ *//;p}" "$1" 2>/dev/null)" >&2
}
