#!/usr/bin/env bash
# Integration tests of `gather get --split N`: a large file fetched as N ranges over N connections
# from a server that paces each TCP connection (--conn-rate), checked against what the server saw
# (the ranges it served, the connections it had open, the bytes it sent); the fallbacks to one
# stream (no ranges, no validator, a small file, a body that changes mid-way); and a resume after
# SIGINT and after kill -9 that fetches each segment from where its recorded bytes stopped.
. "$(dirname "$0")/lib.sh"

MIB=1048576
GPID=

# covered SIZE: the 206 answers the server listed tile 0..SIZE-1 exactly once (sorted by start,
# each begins where the last ended, nothing left over).
covered() {
    stats | jq -e --argjson size "$1" '
        [.served[] | select(.[0] == 206)] | sort_by(.[1])
        | reduce .[] as $r ({next: 0, ok: true}; {next: ($r[2] + 1), ok: (.ok and $r[1] == .next)})
        | .ok and .next == $size' >/dev/null || { echo "# served: $(stats | jq -c .served)"; return 1; }
}

# served_200: how many whole-body answers the server gave.
served_200() { stats | jq '[.served[] | select(.[0] == 200)] | length'; }

start_bg() {
    "$GATHER" "$@" >out.txt 2>err.txt &
    GPID=$!
}

stop_bg() {
    if [ -n "$GPID" ]; then
        kill -KILL "$GPID" 2>/dev/null || true
        wait "$GPID" 2>/dev/null || true
    fi
    GPID=
}
eval "lib_$(declare -f server_stop)"
server_stop() { stop_bg; lib_server_stop; }

# wait_sent BYTES: polls /stats until the server has sent at least BYTES (10 s at most).
wait_sent() {
    local i
    for i in $(seq 1 200); do
        [ "$(server_stat bytes_sent)" -ge "$1" ] && return 0
        sleep 0.05
    done
    echo "# the server sent $(server_stat bytes_sent) bytes, not $1"
    return 1
}

test_split_8_connections_cover_the_file_once() {
    server_start --conn-rate 2000000
    gather get -q --json --split 8 -o out "$BASE/big/16" >out.json
    expect_same out/16 /big/16
    covered $((16 * MIB))
    # every connection is a transfer in flight in the summary
    assert_eq "$(jq -s 'map(select(.summary)) | .[0].summary.max_inflight' out.json)" 8
    assert_eq "$(served_200)" 0
    # eight segments at once, on eight connections; each byte sent once
    assert_eq "$(server_stat max_connections)" 8
    assert_eq "$(server_stat bytes_sent)" $((16 * MIB))
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
}

test_split_without_split_is_one_stream() {
    server_start --conn-rate 4000000
    gather get -q -o out "$BASE/big/4"
    expect_same out/4 /big/4
    assert_eq "$(server_stat ranges)" 0
    assert_eq "$(served_200)" 1
}

test_split_date_validator_is_enough() {
    server_start --conn-rate 4000000
    gather get -q --split 4 -o out "$BASE/big/8?validator=date"
    expect_same out/8 '/big/8?validator=date'
    covered $((8 * MIB))
    assert_eq "$(server_stat max_connections)" 4
}

test_split_small_file_is_one_stream() {
    # paced, so the four segments below overlap in time whatever the machine's load
    server_start --conn-rate 2000000
    # 1 MiB < 2 x --min-split-size (1 MiB): the probe's byte, then one plain GET
    gather get -q --split 8 -o out "$BASE/big/1"
    expect_same out/1 /big/1
    assert_eq "$(server_stat ranges)" 1
    assert_eq "$(served_200)" 1
    # a smaller --min-split-size splits it
    server_reset
    gather get -q --split 8 --min-split-size 256k -o out2 "$BASE/big/1"
    expect_same out2/1 /big/1
    covered $MIB
    assert_eq "$(server_stat max_connections)" 4
}

test_split_server_without_ranges_is_one_stream() {
    server_start
    gather get -q --split 8 -o out "$BASE/big/4?ranges=0"
    expect_same out/4 /big/4
    # every answer was the whole body: the probe's (cut short) and the one stream's
    assert_eq "$(stats | jq '[.served[] | select(.[0] != 200)] | length')" 0
    assert_eq "$(served_200)" 2
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
}

test_split_server_without_validator_is_one_stream() {
    server_start
    gather get -q --split 8 -o out "$BASE/big/4?validator=none"
    expect_same out/4 /big/4
    # the probe's byte, then one whole body: ranges that nothing ties together are not mixed
    assert_eq "$(server_stat ranges)" 1
    assert_eq "$(served_200)" 1
}

test_split_body_that_changes_is_never_mixed() {
    server_start
    # from the 4th request on, /big/8 is another body (ETag and Last-Modified too): the probe and
    # two segments get version 0, the other segments' If-Range no longer matches (200)
    gather get -q --split 4 -o out "$BASE/big/8?change=3"
    expect_same out/8 '/big/8?version=1'
    assert_ge "$(served_200)" 2
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
}

test_split_respects_concurrency() {
    server_start --conn-rate 4000000
    # a segment's connection takes a -c permit like any transfer: 2 at once, and the summary says so
    gather get -q --json --split 8 -c 2 -o out "$BASE/big/8" >out.json
    expect_same out/8 /big/8
    covered $((8 * MIB))
    assert_le "$(server_stat max_connections)" 2
    assert_eq "$(jq -s 'map(select(.summary)) | .[0].summary.max_inflight' out.json)" 2
}

# interrupted: a --split 4 download of /big/16 held to 2 MB/s by gather's own --limit-rate (so the
# re-run, from the same unpaced server and URL, has the row and validators a resume would use),
# stopped by SIGINT once 4 MiB were sent, with its .part and sidecar left.
interrupted() {
    server_start
    start_bg get -q --split 4 --limit-rate 2M -o out "$BASE/big/16"
    wait_sent $((4 * MIB))
    kill -INT "$GPID"
    wait "$GPID" || true
    GPID=
    [ -e out/16.part.split ]
    server_reset
}

test_split_part_is_never_resumed_by_one_stream() {
    interrupted
    # the .part has holes between the segments: one stream starts over, and drops the sidecar
    gather get -q -o out "$BASE/big/16"
    expect_same out/16 /big/16
    assert_eq "$(server_stat ranges)" 0
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
}

test_split_damaged_sidecar_starts_over() {
    interrupted
    printf 'gather-split 1\nsize 1' >out/16.part.split
    gather get -q --split 4 -o out "$BASE/big/16"
    expect_same out/16 /big/16
    covered $((16 * MIB))
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
}

# interrupt_and_resume SIGNAL: a --split 4 download of 16 MiB at 500 KB/s per connection is
# stopped with SIGNAL once a quarter is sent; a re-run fetches only what was not recorded.
interrupt_and_resume() {
    local sent1 total
    server_start --conn-rate 500000
    start_bg get -q --split 4 -o out "$BASE/big/16"
    wait_sent $((4 * MIB))
    sleep 1.2                      # past a sidecar save (once a second)
    kill "-$1" "$GPID"
    wait "$GPID" || true
    GPID=
    [ ! -e out/16 ]
    [ -e out/16.part ]
    [ -e out/16.part.split ]
    sent1=$(server_stat bytes_sent)
    server_reset
    gather get -q --split 4 -o out "$BASE/big/16"
    expect_same out/16 /big/16
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
    # every range of the re-run starts past 0 (no probe, segment 0 resumed), and all in all the
    # server sent less than 1.3 times the file
    assert_eq "$(stats | jq '[.served[] | select(.[1] == 0 or .[0] != 206)] | length')" 0
    assert_ge "$(stats | jq '.served | length')" 1
    total=$((sent1 + $(server_stat bytes_sent)))
    assert_le "$total" $((16 * MIB * 13 / 10)) "(bytes sent in both runs)"
}

test_split_resume_keeps_segments_not_started() {
    local sent1
    # -c 2: two connections work through eight segments, so six have no byte when SIGINT comes
    server_start --conn-rate 1000000
    start_bg get -q --split 8 -c 2 -o out "$BASE/big/16"
    wait_sent $((2 * MIB))
    sleep 1.2
    kill -INT "$GPID"
    wait "$GPID" || true
    GPID=
    sent1=$(server_stat bytes_sent)
    server_reset
    gather get -q --split 8 -o out "$BASE/big/16"
    expect_same out/16 /big/16
    # no probe, nothing from 0 again: the record of the untouched segments was kept too
    assert_eq "$(stats | jq '[.served[] | select(.[1] == 0 or .[0] != 206)] | length')" 0
    assert_le "$((sent1 + $(server_stat bytes_sent)))" $((16 * MIB * 13 / 10))
}

test_split_segments_that_fail_are_retried_from_where_they_stopped() {
    local port
    # the server dies mid-download and comes back (unpaced) on the same port: the retry asks
    # each segment for its rest only
    server_start --conn-rate 1000000
    port=$PORT
    start_bg get -q --split 4 --retry-delay 200 -o out "$BASE/big/16"
    wait_sent $((4 * MIB))
    kill -TERM "${SERVER_PIDS[0]}"
    wait "${SERVER_PIDS[0]}" || true
    server_start --port "$port"
    wait "$GPID"
    GPID=
    expect_same out/16 /big/16
    assert_eq "$(find out -name '*.part*' | wc -l)" 0
    assert_eq "$(stats | jq '[.served[] | select(.[1] == 0 or .[0] != 206)] | length')" 0
    assert_ge "$(stats | jq '.served | length')" 4
}

test_split_sigint_resumes_each_segment() {
    interrupt_and_resume INT
}

test_split_kill9_resumes_each_segment() {
    interrupt_and_resume KILL
}

run_tests "$@"
