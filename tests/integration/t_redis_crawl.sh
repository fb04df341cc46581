#!/usr/bin/env bash
# Integration tests of `gather crawl --redis URL --job NAME` (DISTRIBUTED.md): three worker
# processes crawling one site together ask the server for exactly the URLs one process asks for,
# each once (robots.txt too), level by level as a BFS; and a crawl delay holds for all of them
# together (the gaps between the requests' arrival times at the server).
. "$(dirname "$0")/lib.sh"

JOB=c
RES="gather:{$JOB}:res"

# crawler_start DIR ARGS...: a crawl worker in the background writing to DIR, output in DIR.out
# and DIR.err; WPID is its pid.
crawler_start() {
    local dir=$1
    shift
    $GATHER_WRAP "$GATHER" crawl -q --redis "$REDIS_URL" --job "$JOB" -o "$dir" "$@" \
        > "$dir.out" 2> "$dir.err" &
    WPID=$!
}

# await_crawlers PID...: every worker ends within 120 s, with exit status 0 or 1 (the site links
# to a page that answers 404: a failure of the job, which any worker may report).
await_crawlers() {
    local p rc
    for p in "$@"; do
        for _ in $(seq 1 1200); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$p" 2>/dev/null && { echo "# worker $p still running"; return 1; }
        rc=0
        wait "$p" || rc=$?
        assert_le "$rc" 1 "exit status of worker $p"
    done
}

# crawl_three ARGS...: three crawl workers with ARGS, until they end.
crawl_three() {
    local pids=() k
    for k in 1 2 3; do
        crawler_start "w$k" "$@"
        pids+=("$WPID")
    done
    await_crawlers "${pids[@]}"
}

# requested FILE: every target the server was asked for, sorted, repeats kept.
requested() { curl -sf -m 10 "$BASE/log" | awk '{ print $2 }' | sort > "$1"; }

# workers_in_res: how many different workers the res hash names.
workers_in_res() { rcli HVALS "$RES" | jq -r .worker | sort -u | wc -l; }

# assert_once FILE: no line of FILE twice.
assert_once() {
    local twice
    twice=$(uniq -d "$1")
    [ -z "$twice" ] || { echo "# asked for more than once ($1): $(head -5 <<< "$twice" | paste -sd' ')"; return 1; }
}

test_three_workers_crawl_what_one_process_crawls() {
    server_start
    redis_start
    local rc=0
    gather crawl "$BASE/site/" -d 2 -q -o one || rc=$?
    assert_le "$rc" 1 "exit status of the single-process crawl"
    requested one.txt
    server_reset
    crawl_three "$BASE/site/" -d 2 -c 2
    requested three.txt
    assert_ge "$(wc -l < one.txt)" 15 "requests of the single-process crawl"
    assert_once one.txt
    assert_once three.txt
    cmp one.txt three.txt || { echo "# the workers asked for another set"; diff one.txt three.txt | head -10; return 1; }
    assert_ge "$(workers_in_res)" 2 "workers named in res"
}

# A generated site of 1000 pages to depth 3: the BFS set is pages 0 .. 584 (1 + 8 + 64 + 512),
# each asked for once although most pages link to pages already seen.
test_three_workers_crawl_the_bfs_levels_of_a_generated_site() {
    server_start
    redis_start
    crawl_three "$BASE/gen/1000/0.html" -d 3 -c 8 --per-host 8 --save none
    curl -sf -m 10 "$BASE/log" | awk '$2 != "/robots.txt" { print $2 }' | sort > three.txt
    seq 0 584 | sed 's|.*|/gen/1000/&.html|' | sort > want.txt
    assert_once three.txt
    cmp three.txt want.txt || { echo "# not the BFS set"; diff three.txt want.txt | head -10; return 1; }
    assert_ge "$(workers_in_res)" 2 "workers named in res"
}

# --delay 200 --per-host 1 given to three workers: the server sees the requests at least 200 ms
# apart (190 allowed: one process alone shows gaps of 198 ms), for all workers together, not only
# within each.
test_crawl_delay_holds_across_workers() {
    server_start
    redis_start
    crawl_three "$BASE/site/" -d 1 -c 2 --per-host 1 --delay 200
    curl -sf -m 10 "$BASE/log?times=1" > log.txt
    assert_ge "$(wc -l < log.txt)" 6 "requests"
    # robots.txt is not paced (one process also asks for the start page right after it)
    awk '$3 != "/robots.txt"' log.txt |
        awk 'NR > 1 { printf "%d %s %s\n", ($1 - t) / 1000, prev, $3 } { t = $1; prev = $3 }' > gaps.txt
    sort -n gaps.txt | head -3 | sed 's/^/# shortest gaps (ms): /'
    assert_ge "$(sort -n gaps.txt | head -1 | cut -d' ' -f1)" 190 "shortest gap between requests (ms)"
    assert_ge "$(workers_in_res)" 2 "workers named in res"
}

run_tests "$@"
