#!/usr/bin/env bash
# Integration tests of `gather crawl` against the fixture site: exact BFS depths, robots.txt,
# no URL twice, per-host limits, filters, scope and sitemaps, all checked from the server's side.
. "$(dirname "$0")/lib.sh"

# expected KEY DEPTH [QUERY]: the server's own BFS answer, one URL a line, as paths (and query).
expected() {
    curl -s -m 10 "$BASE/site-expected?depth=$2${3:-}" | jq -r ".$1 | if type == \"object\" then keys[] else .[] end" |
        sed "s|^http://127.0.0.1:$PORT||" | sort
}

# crawl ARGS...: gather crawl, where exit 1 is fine (the site has one broken link on purpose).
crawl() {
    local rc=0
    gather crawl "$@" || rc=$?
    [ "$rc" -le 1 ] || { echo "# gather crawl exited $rc"; return 1; }
}

# requested PREFIX: every target the server was asked for under PREFIX, sorted (repeats kept).
# Fails if the server cannot tell.
requested() {
    curl -sf -m 10 "$BASE/log" > .log
    awk -v p="$1" 'index($2, p) == 1 { print $2 }' .log | sort
}

# assert_requested PREFIX, assert_not_requested PREFIX: whether the server was asked for a target
# under PREFIX. (`! requested / | grep -q X` cannot fail a test: errexit ignores a `!` pipeline.)
assert_requested() {
    requested "$1" > .requested
    [ -s .requested ] || { echo "# nothing under $1 was requested"; return 1; }
}
assert_not_requested() {
    requested "$1" > .requested
    [ ! -s .requested ] || { echo "# $(head -1 .requested) was requested"; return 1; }
}

crawl_pages_at_depth() {
    server_start --delay 20
    crawl "$BASE/site/" -d "$1" -o out -q --save none
    { expected pages "$1"; expected redirects "$1"; expected broken "$1"; } | sort > want
    requested /site/ > got
    diff want got
}

test_depth_0_fetches_the_start_page_only() { crawl_pages_at_depth 0; }
test_depth_1_fetches_exactly_bfs_level_1() { crawl_pages_at_depth 1; }
test_depth_2_fetches_exactly_bfs_levels_to_2() { crawl_pages_at_depth 2; }
test_depth_4_fetches_exactly_bfs_levels_to_4() { crawl_pages_at_depth 4; }
test_depth_9_fetches_the_whole_graph() { crawl_pages_at_depth 9; }

test_no_url_is_requested_twice_and_robots_is_obeyed() {
    server_start --delay 10
    crawl "$BASE/site/" -d 9 -o out -q
    assert_eq "$(stats | jq '[.hits[] | select(. > 1)] | length')" 0 "URLs requested twice"
    assert_not_requested /site/private/
    assert_eq "$(requested /robots.txt | wc -l)" 1 "robots.txt fetches"
    # robots.txt came before every other request
    assert_eq "$(curl -s "$BASE/log" | head -1 | awk '{print $2}')" /robots.txt
}

test_per_host_limit_is_held() {
    server_start --delay 100
    crawl "$BASE/site/" -d 9 -o out -q -c 16 --per-host 3
    local m; m=$(server_stat max_inflight)
    assert_le "$m" 3 "max in flight"
    assert_ge "$m" 2 "max in flight"
}

test_default_per_host_is_4() {
    server_start --delay 100
    crawl "$BASE/site/" -d 9 -o out -q -c 16
    local m; m=$(server_stat max_inflight)
    assert_le "$m" 4 "max in flight"
    assert_ge "$m" 3 "max in flight"
}

test_accept_jpg_saves_exactly_the_images() {
    server_start
    crawl "$BASE/site/" -d 2 -o out -q --accept jpg --save assets --json > out.json
    expected images 2 > want
    jq -r 'select(.ok and .path) | .url' out.json | sed "s|^http://127.0.0.1:$PORT||" | sort > got
    diff want got
    assert_eq "$(count_files out)" "$(wc -l < want)" "files saved"
    assert_eq "$(find out -type f ! -name '*.jpg' ! -name '.gather.db*' | wc -l)" 0 "non-jpg files"
    # every saved image is byte-identical to what the server serves
    jq -r 'select(.ok and .path) | "\(.path) \(.url)"' out.json > saved.txt
    while read -r path url; do
        expect_same "out/$path" "${url#http://127.0.0.1:$PORT}"
    done < saved.txt
    no_partial out
}

test_saved_pages_are_the_served_bytes() {
    server_start
    crawl "$BASE/site/" -d 1 -o out -q --save pages --json > out.json
    jq -r 'select(.ok and .path) | "\(.path) \(.url)"' out.json > saved.txt
    while read -r path url; do
        # pages hold the server's host:port, so they are emitted as served on this port
        "$FIXTURE" --port "$PORT" --emit "${url#http://127.0.0.1:$PORT}" | cmp - "out/$path"
    done < saved.txt
    assert_ge "$(jq -s '[.[] | select(.ok and .path)] | length' out.json)" 2 "pages saved"
}

test_offsite_links_are_not_followed_in_host_scope() {
    server_start
    crawl "$BASE/site/" -d 9 -o out -q --save none
    assert_not_requested /site/offsite.html
    crawl "$BASE/site/" -d 9 -o out2 -q --save none --scope any
    assert_requested /site/offsite.html
}

test_sitemap_seeds_the_orphan_page() {
    server_start
    crawl "$BASE/site/" -d 0 -o out -q --save none
    assert_not_requested /site/orphan.html
    server_reset
    crawl "$BASE/site/" -d 0 -o out -q --save none --sitemap
    assert_requested /site/orphan.html
}

test_robots_5xx_disallows_the_host() {
    server_start --robots 500
    crawl "$BASE/site/" -d 2 -o out -q --json > out.json
    requested / > got
    assert_eq "$(grep -vc '^/robots.txt' got || true)" 0 "requests past robots.txt"
    assert_eq "$(jq -r 'select(.crawl) | .crawl.skipped_robots' out.json)" 1
}

test_robots_404_allows_everything_and_no_robots_ignores_it() {
    server_start --robots 404
    crawl "$BASE/site/" -d 9 -o out -q --save none
    assert_requested /site/private/secret.html
    server_stop; server_start
    crawl "$BASE/site/" -d 9 -o out2 -q --save none --no-robots
    assert_requested /site/private/secret.html
    assert_not_requested /robots.txt
}

test_delay_spaces_requests_to_one_host() {
    server_start
    local t0 t1
    t0=$(date +%s%N)
    crawl "$BASE/site/" -d 1 -o out -q --save none --delay 200
    t1=$(date +%s%N)
    # depth <= 1 is 6 pages; 6 starts 200 ms apart take at least a second
    assert_ge $(( (t1 - t0) / 1000000 )) 1000 "ms for 6 requests at --delay 200"
}

test_json_reports_pages_per_depth() {
    server_start
    crawl "$BASE/site/" -d 3 -o out -q --save none --json > out.json
    local want got
    want=$(curl -s "$BASE/site-expected?depth=3" | jq -c '[.depth_of | to_entries | group_by(.value)[] | length]')
    got=$(jq -c 'select(.crawl) | .crawl.pages_per_depth' out.json)
    assert_eq "$got" "$want" "pages per depth"
}

test_broken_link_is_reported_and_fails_the_run() {
    local rc=0
    server_start
    gather crawl "$BASE/site/" -d 9 -o out -q --save none 2>err.txt || rc=$?
    assert_eq "$rc" 1 "exit status"
    grep -q "^$BASE/site/missing.html: HTTP 404$" err.txt
    rc=0
    gather crawl "$BASE/site/" -d 1 -o out2 -q --save none || rc=$?
    assert_eq "$rc" 0 "exit status without the broken link"
}

test_interrupted_crawl_resumes_without_refetching() {
    server_start --delay 150
    local rc=0
    $GATHER_WRAP "$GATHER" crawl "$BASE/site/" -d 9 -o out -q -c 4 --per-host 2 --save all 2>err.txt & local pid=$!
    sleep 1.2
    kill -INT $pid
    wait $pid || rc=$?
    cat err.txt
    assert_eq "$rc" 130 "exit status after SIGINT"
    assert_eq "$(sqlite3 out/.gather.db 'PRAGMA integrity_check')" ok
    sqlite3 out/.gather.db "SELECT url FROM urls WHERE status = 'done'" | sed "s|^$BASE||" | sort > done1
    assert_ge "$(wc -l < done1)" 3 "URLs done before the interrupt"
    assert_ge "$(sqlite3 out/.gather.db 'SELECT count(*) FROM frontier')" 1 "pending URLs kept"
    rc=0
    $GATHER_WRAP "$GATHER" crawl "$BASE/site/" -d 9 -o out -c 4 --per-host 2 --save all 2>err2.txt || rc=$?
    cat err2.txt
    [ "$rc" -le 1 ]
    grep -q 'resuming the crawl' err2.txt
    # nothing finished in the first run was fetched again
    while read -r u; do assert_eq "$(stats | jq -r --arg k "$u" '.hits[$k]')" 1 "$u"; done < done1
    # and the two runs together fetched exactly the whole graph
    { expected pages 9; expected redirects 9; expected broken 9; } | sort > want
    requested /site/ | sort -u > got
    grep -v '\.css$\|\.js$' got > got_pages || true
    diff want got_pages
    assert_eq "$(sqlite3 out/.gather.db 'SELECT count(*) FROM frontier')" 0 "frontier left"
    no_partial out
}

test_interrupt_leaves_pages_waiting_for_their_host_pending() {
    server_start --delay 300
    local rc=0
    # one connection to the host: at the interrupt, up to 3 pages wait for it
    $GATHER_WRAP "$GATHER" crawl "$BASE/site/" -d 9 -o out -q -c 4 --per-host 1 2>err.txt & local pid=$!
    sleep 1.5
    kill -INT $pid
    wait $pid || rc=$?
    cat err.txt
    assert_eq "$rc" 130 "exit status after SIGINT"
    # only a server's answer fails a URL; the interrupted ones stay in the frontier to resume
    assert_eq "$(sqlite3 out/.gather.db "SELECT count(*) FROM urls WHERE status = 'failed' AND
        error NOT LIKE 'HTTP %'")" 0 "URLs failed by the interrupt"
    assert_ge "$(sqlite3 out/.gather.db 'SELECT count(*) FROM frontier')" 3 "pending URLs kept"
}

test_rerun_of_a_finished_crawl_fetches_nothing() {
    server_start
    crawl "$BASE/site/" -d 2 -o out -q
    server_reset
    crawl "$BASE/site/" -d 2 -o out -q
    assert_eq "$(server_stat requests)" 0 "requests on the re-run"
}

test_crawl_retries_follow_the_retry_options() {
    local rc=0
    hit() { stats | jq -r --arg k "$1" '.hits[$k] // 0'; }
    server_start
    # a 503 with Retry-After twice, then the body: the third try succeeds
    crawl "$BASE/flaky/2/5" -d 0 -o out -q --retry-delay 10 --json > out.json
    assert_eq "$(hit /flaky/2/5)" 3 "tries of /flaky/2/5"
    expect_same "out/$(jq -r 'select(.ok and .path) | .path' out.json)" /img/5.jpg
    assert_eq "$(jq -r 'select(.url and .ok and .kind != "robots") | .attempts' out.json)" 3
    # a 502 gets --retries 2 more tries, then fails; --retries 0 means one try
    gather crawl "$BASE/status/502" -d 0 -o out2 -q --retries 2 --retry-delay 10 2>err.txt || rc=$?
    assert_eq "$rc" 1
    assert_eq "$(hit /status/502)" 3 "502: 1 + 2 retries"
    grep -q "/status/502: HTTP 502$" err.txt
    server_reset
    rc=0
    gather crawl "$BASE/status/502" -d 0 -o out3 -q --retries 0 2>/dev/null || rc=$?
    assert_eq "$rc" 1
    assert_eq "$(hit /status/502)" 1 "502 with --retries 0"
    # a 404 is final
    server_reset
    gather crawl "$BASE/status/404" -d 0 -o out4 -q --retry-delay 10 2>/dev/null || true
    assert_eq "$(hit /status/404)" 1 "404 is not retried"
}

test_usage_errors() {
    local rc=0
    gather crawl 2>err.txt || rc=$?
    assert_eq "$rc" 2
    rc=0; gather crawl "ftp://x/" 2>err.txt || rc=$?
    assert_eq "$rc" 2
    grep -q 'ftp://x/' err.txt
    rc=0; gather crawl http://127.0.0.1:1/ --scope planet 2>err.txt || rc=$?
    assert_eq "$rc" 2
    rc=0; gather crawl http://127.0.0.1:1/ --include '(' 2>err.txt || rc=$?
    assert_eq "$rc" 2
    gather crawl --help | grep -q -- '--scope'
}

# --json lists robots.txt and each redirect hop the crawl followed, each marked with its kind and
# with times in ms to 3 decimals; -q leaves stderr empty (no summary) on a clean run.
test_json_lists_robots_and_redirect_hops_and_q_is_silent() {
    server_start
    crawl "$BASE/site" -d 1 -o out -q --save none --json > out.json 2> err.txt
    assert_eq "$(wc -c < err.txt)" 0 "bytes on stderr with -q"
    assert_eq "$(jq -c "select(.kind == \"robots\") | [.url, .status, .ok]" out.json)" \
              "[\"$BASE/robots.txt\",200,true]" "robots.txt line"
    assert_eq "$(jq -c "select(.kind == \"redirect\" and .url == \"$BASE/site\") | [.status, .redirect]" out.json)" \
              "[301,\"$BASE/site/\"]" "the hop /site -> /site/"
    # every time is a number of ms with at most 3 decimals
    jq -r 'select(.time_ms != null) | .time_ms' out.json > times
    assert_ge "$(wc -l < times)" 8
    assert_eq "$(grep -cvE '^[0-9]+(\.[0-9]{1,3})?$' times || true)" 0 "times with more than 3 decimals"
    jq -r 'select(.summary) | .summary.seconds' out.json | grep -qE '^[0-9]+(\.[0-9]{1,3})?$'
    # the same crawl without -q prints its summary
    crawl "$BASE/site" -d 1 -o out2 --save none 2> err2.txt
    grep -q '^gather: crawl: ' err2.txt
}

# wget's defaults and words: depth 5 with no -d, -l inf the whole graph, `gather -r` a crawl.
test_default_depth_is_5_and_l_inf_is_the_whole_graph() {
    server_start --delay 5
    crawl "$BASE/site/" -o out -q --save none
    { expected pages 5; expected redirects 5; expected broken 5; } | sort > want
    requested /site/ > got
    diff want got
    server_reset
    local rc=0
    gather -r -l inf -e robots=off "$BASE/site/" -o out2 -q --save none || rc=$?
    assert_le "$rc" 1
    { expected pages 99 '&robots=ignore'; expected redirects 99 '&robots=ignore'; expected broken 99 '&robots=ignore'; } | sort > want
    requested /site/ > got
    diff want got
    assert_requested /site/private/
}

# A crawl's progress line (on a pseudo-terminal, script(1)) shows its frontier per depth.
test_progress_line_shows_the_frontier_per_depth() {
    server_start --delay 100
    timeout 120 script -qfec "$(printf '%q ' "$GATHER" crawl "$BASE/site/" -d 3 -o out --save none)" \
        /dev/null < /dev/null > tty.raw || true
    tr '\r' '\n' < tty.raw | sed 's/\x1b\[K//g' > tty.txt
    grep -qE '^[0-9]+/[0-9]+\+ done, .*; frontier: depth 1: [0-9]+ left, depth 2: [1-9][0-9]* found$' tty.txt
    grep -qE '; frontier: depth 3: [1-9][0-9]* left, depth 4: 0 found$' tty.txt
}

run_tests "$@"
