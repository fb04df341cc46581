#!/usr/bin/env bash
# Integration tests of --limit-rate (the whole run) and --limit-rate-each (each transfer) against
# the fixture server, which serves at full speed: the bytes are the server's count, and the time
# is gather's own (the --json summary). Only lower bounds are asserted (they fail only when a
# limit is ignored); how close a run gets to its rate belongs to bench/.
. "$(dirname "$0")/lib.sh"

# run_ms: the job's own time from the --json summary in out.json, in ms.
run_ms() { jq -r 'select(.summary) | .summary.seconds * 1000 | floor' out.json; }

test_limit_rate_is_for_the_whole_run() {
    local m ms f i
    server_start
    for i in 1 2 3 4; do echo "$BASE/big/1?k=$i"; done > list.txt
    for m in async threads sync; do
        server_reset
        rm -rf out
        # 4 MiB at 2 MiB/s: about 2 s less the 100 ms burst. Four transfers each held to
        # 2 MiB/s instead (a per-transfer limit) would take 0.5 s.
        gather get -q --json -i list.txt -o out -c 4 --mode $m --limit-rate 2M > out.json
        ms=$(run_ms)
        echo "# $m: 4 MiB in $ms ms"
        assert_ge "$ms" 1500 "ms for 4 MiB at 2 MiB/s in all ($m)"
        assert_eq "$(server_stat bytes_sent)" $((4 * 1048576)) "bytes sent ($m)"
        assert_eq "$(count_final out)" 4 "files ($m)"
        for f in out/1*; do expect_same "$f" /big/1; done
    done
}

test_limit_rate_each_is_per_transfer() {
    local ms m
    server_start
    for m in async threads sync; do
        server_reset
        rm -rf out
        # 2 MiB at 1 MiB/s takes about 2 s (less the 100 ms burst), however many run beside it
        gather get -q --json -o out -c 2 --mode $m --limit-rate-each 1M "$BASE/big/2" \
            "$BASE/img/1.jpg?size=300000" > out.json
        ms=$(run_ms)
        echo "# $m: 2 MiB and 300 kB in $ms ms"
        assert_ge "$ms" 1500 "ms for 2 MiB at 1 MiB/s ($m)"
        expect_same out/2 /big/2
        expect_same out/1.jpg "/img/1.jpg?size=300000"
        assert_eq "$(server_stat bytes_sent)" $((2 * 1048576 + 300000)) "bytes sent ($m)"
    done
}

test_limit_rate_values() {
    local rc=0
    gather get -q -o out --limit-rate 1X http://127.0.0.1:1/ 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "^gather: --limit-rate: '1X' is not a size in bytes (K, M, G allowed)$" err.txt
    rc=0
    gather crawl -q -o out --limit-rate-each -5 http://127.0.0.1:1/ 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "limit-rate-each" err.txt
    gather get --help | grep -q -- "--limit-rate RATE"
    gather crawl --help | grep -q -- "--limit-rate-each RATE"
}

run_tests "$@"
