#!/usr/bin/env bash
# Integration tests of what gather says when a server or an option leads nowhere: a header flood
# is named as such and not retried, --max-page-size never cuts a page in silence, and a crawl
# whose start URL fails, loops or is refused says why and exits 1. Each is checked against what
# the server saw (requests, in order).
. "$(dirname "$0")/lib.sh"

HOSTILE="$ROOT/tests/hostile"

# flood_start MODE: tests/hostile/header_flood.py on 127.0.0.1:ephemeral (stopped with the
# fixture servers at the end); sets FPORT, FLOG (one line per request it received).
flood_start() {
    local pf=$TMP/flood.port
    FLOG=$TMP/flood.log
    rm -f "$pf" "$FLOG"
    python3 "$HOSTILE/header_flood.py" --port-file "$pf" --log "$FLOG" --mode "$1" \
        >/dev/null 2>"$TMP/flood.err" &
    SERVER_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
    [ -s "$pf" ] || { echo "# header_flood.py did not start"; cat "$TMP/flood.err"; return 1; }
    FPORT=$(cat "$pf")
}

# requests_to PATH: how many requests for PATH the fixture server received.
requests_to() { curl -sf -m 10 "$BASE/log" | awk -v p="$1" '$2 == p' | wc -l; }

# ---- header floods ---------------------------------------------------------------------------

# flood_case MODE WORDS: against a server flooding headers in MODE, get (both transfer modes)
# and crawl fail with one request each (no retry) and a message containing WORDS.
flood_case() {
    local mode rc
    flood_start "$1"
    for mode in async threads; do
        rc=0
        gather get -q -o "out-$mode" --mode "$mode" --retries 3 --retry-delay 10 \
            "http://127.0.0.1:$FPORT/$mode" 2>err.txt || rc=$?
        cat err.txt
        assert_eq "$rc" 1 "exit status of get --mode $mode"
        grep -q "^http://127.0.0.1:$FPORT/$mode: response headers too large: $2" err.txt
        assert_eq "$(grep -c "reset" err.txt || true)" 0 "a flood called a reset"
        assert_eq "$(grep -c "^GET /$mode\$" "$FLOG")" 1 "requests for /$mode (retries)"
    done
    # The same under a tight descriptor limit, as hostile servers are met on small machines.
    rc=0
    (ulimit -n 256; gather get -q -o out-ulimit --retries 3 --retry-delay 10 -c 8 \
        "http://127.0.0.1:$FPORT/ulimit" 2>err.txt) || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status of get under ulimit -n 256"
    grep -q "^http://127.0.0.1:$FPORT/ulimit: response headers too large: $2" err.txt
    assert_eq "$(grep -c "^GET /ulimit\$" "$FLOG")" 1 "requests for /ulimit (retries)"
    rc=0
    gather crawl -q -o crawl-out --no-robots --retries 3 --retry-delay 10 \
        "http://127.0.0.1:$FPORT/page" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status of crawl"
    grep -q "^http://127.0.0.1:$FPORT/page: response headers too large: $2" err.txt
    assert_eq "$(grep -c "^GET /page\$" "$FLOG")" 1 "requests for /page (retries)"
}

test_endless_header_lines_are_named_and_not_retried() { flood_case lines "over 300 KiB"; }
test_one_endless_header_line_is_named_and_not_retried() { flood_case line "one line over 100 KiB"; }

# ---- --max-page-size -------------------------------------------------------------------------

# page_counts ARGS...: "LINKS NOT_PARSED" from the summary of one crawl (of a /long-page/M).
page_counts() {
    rm -rf out
    gather crawl -q -o out -d 1 --save none --json "$@" > out.json
    jq -r 'select(.crawl) | "\(.crawl.links) \(.crawl.not_parsed)"' out.json
}

test_max_page_size_is_never_cut_in_silence() {
    server_start
    local rc=0
    # Past the HTML parser's own cap the option is refused, naming the largest value.
    gather crawl -q -o out --max-page-size 16777217 "$BASE/long-page/1" 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status of --max-page-size 16777217"
    grep -q -- "--max-page-size: '16777217' is not a whole number from 0 to 16777216" err.txt
    assert_eq "$(requests_to /long-page/1)" 0 "requests after a usage error"
    # A page of 20 MiB under the largest cap: 16 MiB parsed (16 links), and the summary says so.
    assert_eq "$(page_counts --max-page-size 16777216 "$BASE/long-page/20")" "16 1"
    grep -q "1 pages not parsed past --max-page-size" <(gather crawl -o out2 -d 1 --save none \
        --max-page-size 16777216 "$BASE/long-page/20" 2>&1)
    # Exactly the cap: all of it parsed, nothing cut.
    assert_eq "$(page_counts --max-page-size 16777216 "$BASE/long-page/16")" "16 0"
    # A small cap: the links of the first 3 MiB only.
    assert_eq "$(page_counts --max-page-size 3145728 "$BASE/long-page/5")" "3 1"
}

# ---- crawls that lead nowhere ----------------------------------------------------------------

# crawl_fails URL WHY [ARGS...]: a crawl of URL exits 1, and its last line says that nothing was
# crawled and WHY.
crawl_fails() {
    local url=$1 why=$2 rc=0
    shift 2
    rm -rf out
    gather crawl -q -o out "$@" "$url" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status of a crawl of $url"
    assert_eq "$(tail -1 err.txt)" "gather crawl: nothing was crawled: $why"
}

# requested_in_order PREFIX: the targets under PREFIX the server received, in order, on one line.
requested_in_order() { curl -sf -m 10 "$BASE/log" | awk -v p="$1" 'index($2, p) == 1 { print $2 }' | paste -sd' '; }

test_a_crawl_whose_start_url_loops_says_so_and_exits_1() {
    server_start
    crawl_fails "$BASE/redirect-loop/1" "$BASE/redirect-loop/1: redirect loop: redirects to itself"
    grep -qxF "$BASE/redirect-loop/1: redirect loop: redirects to itself" err.txt
    assert_eq "$(requested_in_order /redirect-loop/)" "/redirect-loop/1" "requests of the loop"
    # A loop through two URLs: each asked once; the second redirects back to the first.
    crawl_fails "$BASE/redirect-cycle/2/0" \
        "$BASE/redirect-cycle/2/1: redirect loop: redirects back to $BASE/redirect-cycle/2/0"
    assert_eq "$(requested_in_order /redirect-cycle/)" "/redirect-cycle/2/0 /redirect-cycle/2/1" \
        "requests of the cycle"
}

test_a_crawl_whose_start_url_fails_says_why_and_exits_1() {
    server_start
    crawl_fails "$BASE/status/404" "$BASE/status/404: HTTP 404"
    crawl_fails "http://127.0.0.1:1/" "http://127.0.0.1:1/: connection refused" --no-robots --retries 0
    # A robots.txt that cannot be read makes the host off limits (RFC 9309): say so.
    crawl_fails "http://127.0.0.1:1/" "http://127.0.0.1:1/: disallowed by robots.txt (it could not be read: connection refused) (--no-robots ignores it)" --retries 0
    # A start URL that redirects out of the scope.
    crawl_fails "$BASE/redirect/0/7" "$BASE/redirect/0/7: redirects to $BASE/img/7.jpg, out of --scope" \
        --scope prefix
    assert_eq "$(requested_in_order /img/7)" "" "requests out of the scope"
    # A start URL that works: no such line, exit 0.
    rm -rf out
    gather crawl -q -o out -d 0 "$BASE/site/" 2>err.txt
    assert_eq "$(grep -c 'nothing was crawled' err.txt || true)" 0
    # A finished crawl run again fetches nothing, and that is no failure.
    server_reset
    gather crawl -q -o out -d 0 "$BASE/site/" 2>err.txt
    assert_eq "$(server_stat requests)" 0 "requests of a finished crawl run again"
    assert_eq "$(grep -c 'nothing was crawled' err.txt || true)" 0
}

run_tests "$@"
