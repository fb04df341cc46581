#!/usr/bin/env bash
# Integration tests of --read-timeout against a server that goes silent mid-answer and never
# closes (tests/hostile/silent.py): the transfer ends, says why, and is retried like any other
# timeout; a slow server that keeps sending is left alone.
. "$(dirname "$0")/lib.sh"

hstats() { curl -s -m 10 "$HBASE/stats"; }
hreq() { hstats | jq -r --arg k "$1" '.requests[$k] // 0'; }
hhang() { hstats | jq -r --arg k "$1" '.hangups[$k] // 0'; }

# hangups_reach TARGET N: the server saw the client give up N times on TARGET (it notices a
# closed connection within a moment of the client's exit; 5 s at most).
hangups_reach() {
    for _ in $(seq 1 50); do
        [ "$(hhang "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "# the client gave up on $1 $(hhang "$1") times, expected $2"
    return 1
}

# silent_run MODE TRIES: a get of two silent answers in MODE; each must fail after TRIES requests
# with the read-timeout message, and leave no file.
silent_run() {
    local m=$1 tries=$2 out="out-$1" rc=0 t
    gather get -q -o "$out" --mode "$m" --retries 1 --retry-delay 10 --read-timeout 1 \
        "$HBASE/headers/5000?$m" "$HBASE/half/5000?$m" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "$m: exit status"
    for t in "/headers/5000?$m" "/half/5000?$m"; do
        grep -qxF "$HBASE$t: no data for 1 s (--read-timeout)" err.txt
        assert_eq "$(hreq "$t")" "$tries" "$m: requests of $t"
        hangups_reach "$t" "$tries"
    done
    assert_eq "$(count_final "$out")" 0 "$m: files"
}

test_a_silent_server_is_given_up_on_in_every_mode() {
    hostile_start silent.py
    silent_run async 2              # a timeout is transient: --retries 1 tries again
    silent_run threads 2
    silent_run sync 1               # the sync baseline never retries
}

test_a_silent_server_under_ulimit_256() {
    hostile_start silent.py
    (
        ulimit -n 256
        silent_run async 2
    )
}

test_the_crawl_gives_up_on_a_silent_page() {
    local rc=0
    hostile_start silent.py
    gather crawl -q -o out --retries 0 --read-timeout 1 "$HBASE/half/4000" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1
    grep -qxF "$HBASE/half/4000: no data for 1 s (--read-timeout)" err.txt
    hangups_reach /half/4000 1
}

# Slow is not silent: a byte every 0.3 s, and a 0.6 s pause, both under a 1 s read timeout, and
# a paused transfer (a slow disk is simulated by nothing here: the writer keeps up) is whole.
test_slow_answers_within_the_read_timeout_complete() {
    local m
    hostile_start silent.py
    for m in async threads sync; do
        gather get -q -o "out-$m" --mode "$m" --retries 0 --read-timeout 1 \
            "$HBASE/trickle/12?every=300&$m" "$HBASE/pause/3000?ms=600&$m"
        python3 "$ROOT/tests/hostile/silent.py" --emit /trickle/12 | cmp - "out-$m/12"
        python3 "$ROOT/tests/hostile/silent.py" --emit /pause/3000 | cmp - "out-$m/3000"
        assert_eq "$(hreq "/trickle/12?every=300&$m")" 1 "$m: requests"
        assert_eq "$(hreq "/pause/3000?ms=600&$m")" 1 "$m: requests"
        assert_eq "$(hhang "/pause/3000?ms=600&$m")" 0 "$m: the client did not give up"
    done
}

run_tests "$@"
