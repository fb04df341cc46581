#!/usr/bin/env bash
# Integration tests of the crawl frontier spilled to the state database: with a window of a few
# items a crawl of the fixture server's generated site (/gen/T/N.html, see tests/server/gen.c)
# asks for exactly the same URLs in exactly the same order as with everything in memory, resumes
# after SIGINT in that order, and a 200,000-page crawl holds a bounded frontier in memory (peak RSS
# under 38 MiB; 45 MB with everything in memory, GATHER_FRONTIER_WINDOW=0).
. "$(dirname "$0")/lib.sh"

# The generated site is numbered in BFS order: page N's parent is (N - 1) / 8, so a BFS from page
# 0 that takes each page's links in document order asks for 0, 1, 2, ... T - 1.

# crawl_log TOTAL ARGS...: gather crawl of a TOTAL-page site (-c 1 unless ARGS say otherwise),
# then the server's request log (robots.txt left out) in log.txt; stdout in out.json.
crawl_log() {
    local total=$1
    shift
    server_reset
    gather crawl "$BASE/gen/$total/0.html" -d inf -q --save none --json "$@" > out.json
    curl -sf -m 10 "$BASE/log" | awk '$2 != "/robots.txt" { print $2 }' > log.txt
}

# bfs_order TOTAL: the targets a BFS of the TOTAL-page site asks for, in order.
bfs_order() { seq 0 $(($1 - 1)) | sed "s|.*|/gen/$1/&.html|"; }

crawl_stat() { jq -r "select(.crawl) | .crawl.$1" out.json; }

test_spilled_frontier_asks_in_the_same_order() {
    server_start
    crawl_log 3000 -o mem -c 1
    mv log.txt log-mem.txt
    assert_eq "$(crawl_stat pending_read_back)" 0 "(a level of 2,560 fits the default window)"
    GATHER_FRONTIER_WINDOW=4 crawl_log 3000 -o spill -c 1
    bfs_order 3000 > want.txt
    cmp log-mem.txt want.txt || { echo "# the in-memory crawl is not in BFS order"; return 1; }
    cmp log.txt want.txt || { echo "# the spilled crawl asked in another order"; diff log.txt want.txt | head; return 1; }
    # It did spill: most of each level came back from the database, 4 items or so at a time.
    assert_ge "$(crawl_stat pending_read_back)" 2900
    assert_le "$(crawl_stat max_pending_in_memory)" 16
    assert_ge "$(crawl_stat max_pending)" 2000
}

test_spilled_frontier_keeps_each_depth_with_concurrency() {
    server_start
    crawl_log 5000 -o mem -c 8 --per-host 8
    jq -r 'select(.url and (.url | test("/gen/"))) | "\(.depth) \(.url)"' out.json | sort > mem.txt
    GATHER_FRONTIER_WINDOW=3 crawl_log 5000 -o spill -c 8 --per-host 8
    jq -r 'select(.url and (.url | test("/gen/"))) | "\(.depth) \(.url)"' out.json | sort > spill.txt
    assert_eq "$(wc -l < spill.txt)" 5000
    assert_eq "$(sort -u log.txt | wc -l)" 5000 "(distinct pages asked for)"
    assert_eq "$(wc -l < log.txt)" 5000 "(no page twice)"
    cmp mem.txt spill.txt || { echo "# depths differ"; diff mem.txt spill.txt | head; return 1; }
    assert_ge "$(crawl_stat pending_read_back)" 4000
}

test_resume_after_sigint_reads_the_spilled_frontier_in_order() {
    local pid rc=0 n
    server_start --delay 3
    server_reset
    # -c 1 and a 4-item window: the interrupted run leaves most of two levels in the database.
    GATHER_FRONTIER_WINDOW=4 timeout --foreground -s KILL 120 "$GATHER" crawl "$BASE/gen/1500/0.html" \
        -d inf -q --save none -o out -c 1 > /dev/null 2> err1.txt &
    pid=$!
    for _ in $(seq 1 400); do
        n=$(server_stat requests)
        [ "$n" -ge 400 ] && break
        sleep 0.05
    done
    assert_ge "$n" 400 "(requests before the interrupt)"
    kill -INT "$pid"
    wait "$pid" || rc=$?
    assert_eq "$rc" 130 "(exit status of the interrupted run)"
    n=$(curl -sf -m 10 "$BASE/log" | awk '$2 != "/robots.txt"' | wc -l)
    assert_le "$n" 1400 "(the first run did not finish)"
    GATHER_FRONTIER_WINDOW=4 gather crawl "$BASE/gen/1500/0.html" -d inf --save none -o out -c 1 \
        --json > out.json 2> err2.txt
    grep -q "resuming the crawl" err2.txt || { echo "# no resume:"; cat err2.txt; return 1; }
    curl -sf -m 10 "$BASE/log" | awk '$2 != "/robots.txt" { print $2 }' > log.txt
    # Both runs together: every page in BFS order; only the page in flight at the interrupt
    # may be asked for twice, one right after the other.
    bfs_order 1500 > want.txt
    uniq log.txt | cmp - want.txt || { echo "# not in BFS order across the resume"; uniq log.txt | diff - want.txt | head; return 1; }
    assert_le "$(wc -l < log.txt)" 1501
    assert_ge "$(crawl_stat pending_read_back)" 1
}

test_frontier_memory_is_bounded() {
    local total=200000 min_pending=150000 asan=0
    # Under ASan (or a wrapper) a smaller site: the in-memory bound still shows, the RSS one not.
    if [ "${SAN:-}" = 1 ] || [ -n "$GATHER_WRAP" ]; then total=40000 min_pending=30000 asan=1; fi
    server_start --no-hits
    /usr/bin/time -f '%M' -o rss.txt $GATHER_WRAP "$GATHER" crawl "$BASE/gen/$total/0.html" -d inf -q \
        --save none --json -o out -c 8 --per-host 8 > out.json
    assert_eq "$(server_stat requests)" $((total + 1)) "(every page and robots.txt)"
    assert_ge "$(crawl_stat max_pending)" "$min_pending"
    # At most a window (4096) per level and what a level queues while it runs.
    assert_le "$(crawl_stat max_pending_in_memory)" 8250
    # 162,551 URLs in memory cost about 13 MB more (measured: 43 MB, 31 MB spilled). Not under
    # ASan, whose shadow memory says nothing about gather's own.
    if [ "$asan" = 1 ]; then
        echo "# skip: peak RSS under ASan or a wrapper: $(cat rss.txt) KB"
    else
        assert_le "$(cat rss.txt)" $((38 * 1024)) "KB peak RSS"
    fi
}

run_tests
