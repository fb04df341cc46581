#!/usr/bin/env bash
# Integration tests of `gather bench` (three modes compared, from the server's side), of the
# chart it draws (rendered by headless Chromium when it is installed) and of --har in get, crawl
# and bench (checked against the HAR 1.2 structure and the server's request counts).
. "$(dirname "$0")/lib.sh"
HERE="$ROOT/tests/integration"

img_list() {
    local i
    for i in $(seq 1 "$1"); do echo "$BASE/img/$i.jpg${2:-}"; done
}

# har_valid FILE: FILE has the structure of HAR 1.2 (tests/integration/har_check.jq).
har_valid() {
    local problems
    problems=$(jq -r -f "$HERE/har_check.jq" "$1") || { echo "# $1 is not JSON"; return 1; }
    [ -z "$problems" ] || { echo "# $1 is not valid HAR 1.2:"; echo "$problems" | sed 's/^/#   /'; return 1; }
}

har_entries() { jq '.log.entries | length' "$1"; }

# mode_field JSON MODE FIELD: a field of one mode in bench's --json output.
mode_field() { jq -r --arg m "$2" ".bench.modes[] | select(.mode == \$m) | .$3" "$1"; }

# seconds_lt A B: A < B for decimal numbers.
seconds_lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ] || { echo "# expected $1 < $2 ${3:-}"; return 1; }; }

test_bench_40_delayed_images_sync_vs_async() {
    server_start
    img_list 40 "?delay=100" > list.txt
    gather bench -i list.txt -c 20 --json --har bench.har > bench.json 2> table.txt
    cat table.txt
    local m
    # The server saw 3 runs x 40 URLs + 1 warm-up request (one host).
    assert_eq "$(server_stat requests)" 121 "server requests"
    assert_eq "$(jq '.bench.warmup.requests' bench.json)" 1 "warm-up requests"
    assert_eq "$(jq '[.bench.modes[].each[] | .ok + .failed] | add + 1' bench.json)" 121 "requests in JSON"
    assert_le "$(server_stat max_inflight)" 20 "max in flight"
    for m in sync threads async; do
        assert_eq "$(mode_field bench.json $m requests)" 40 "$m requests"
        assert_eq "$(mode_field bench.json $m failures)" 0 "$m failures"
        # the table: mode, requests, ..., failures (8th column)
        assert_eq "$(awk -v m=$m '$1 == m { print $2 " " $9 }' table.txt)" "40 0" "$m row of the table"
    done
    assert_eq "$(mode_field bench.json sync max_inflight)" 1 "sync in flight"
    assert_eq "$(mode_field bench.json async max_inflight)" 20 "async in flight"
    # 40 x 100 ms one after another takes 4 s; 2 waves of 20 take about 0.2 s.
    local sync async
    sync=$(mode_field bench.json sync wall_s)
    async=$(mode_field bench.json async wall_s)
    seconds_lt 4.0 "$sync" "(sync wall)"
    seconds_lt "$async" 2.0 "(async wall)"
    seconds_lt "$async" "$sync" "(async faster than sync)"
    assert_eq "$(mode_field bench.json sync speedup)" 1 "sync speedup"
    # One HAR page per mode, one entry per request.
    har_valid bench.har
    assert_eq "$(har_entries bench.har)" 120 "HAR entries"
    assert_eq "$(jq -c '[.log.pages[].id]' bench.har)" '["sync","threads","async"]' "HAR pages"
    for m in sync threads async; do
        assert_eq "$(jq --arg m $m '[.log.entries[] | select(.pageref == $m)] | length' bench.har)" 40 "$m entries"
    done
    assert_eq "$(jq '[.log.entries[] | select(.response.status != 200)] | length' bench.har)" 0 "non-200"
}

test_bench_chart_renders_in_chromium() {
    server_start
    img_list 16 "?delay=50" > list.txt
    gather bench -q -i list.txt -c 8 --modes sync,async --chart chart.svg > table.txt
    cat table.txt
    grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' chart.svg
    grep -q '</svg>$' chart.svg
    grep -q '>sync</text>' chart.svg
    grep -q '>async</text>' chart.svg
    assert_eq "$(server_stat requests)" 33 "server requests"
    local chromium
    chromium=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$chromium" ]; then
        echo "# skip: chromium not installed"
        return 0
    fi
    local profile; profile=$(mktemp -d "$TMP/chromium.XXXXXX")
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --screenshot="$TMP/shot.png" --window-size=1200,900 \
        "file://$TMP/chart.svg" >chromium.log 2>&1 || { tail -5 chromium.log; return 1; }
    perl "$HERE/png_colours.pl" shot.png 27ae60 2980b9 > colours.txt
    cat colours.txt
    assert_eq "$(awk '$1 == "size" { print $2 }' colours.txt)" 1200x900 "screenshot size"
    assert_ge "$(awk '$1 == "colours" { print $2 }' colours.txt)" 4 "distinct colours"
    # Bars in the "waiting" green: far more than its 12 x 12 legend swatch.
    assert_ge "$(awk '$1 == "27ae60" { print $2 }' colours.txt)" 1000 "green pixels"
}

test_bench_repeat_gives_median_and_range() {
    server_start
    img_list 5 > list.txt
    gather bench -i list.txt -c 4 --modes async,sync --repeat 3 --json > bench.json 2> table.txt
    cat table.txt
    assert_eq "$(server_stat requests)" 31 "server requests (2 modes x 3 runs x 5 + 1)"
    assert_eq "$(jq -c '[.bench.modes[] | .mode, .runs, (.each | length)]' bench.json)" '["async",3,3,"sync",3,3]'
    grep -Eq '^async +5 +[0-9.]+ \([0-9.]+-[0-9.]+\)' table.txt
    grep -q '3 runs per mode' table.txt
    # min <= median <= max
    jq -e '.bench.modes[] | select(.wall_min_s <= .wall_s and .wall_s <= .wall_max_s)' bench.json >/dev/null
}

test_bench_failures_exit_1_and_show_in_the_table() {
    local rc=0
    server_start
    { img_list 3; echo "$BASE/status/404"; } > list.txt
    gather bench -i list.txt --modes threads,async --har bench.har > table.txt 2> err.txt || rc=$?
    cat table.txt err.txt
    assert_eq "$rc" 1 "exit status"
    assert_eq "$(awk '$1 == "async" { print $2 " " $9 }' table.txt)" "4 1" "async row"
    grep -q "status/404: HTTP 404" err.txt
    har_valid bench.har
    assert_eq "$(jq '[.log.entries[] | select(._error == "HTTP 404" and .response.status == 404)] | length' bench.har)" 2
}

test_bench_usage_errors_exit_2() {
    local rc
    rc=0; gather bench --modes sync,fast x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "bad mode"
    grep -q "'fast' is not sync, threads or async" err.txt
    rc=0; gather bench --modes sync,sync x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "mode twice"
    rc=0; gather bench -i /nonexistent/list 2>err.txt || rc=$?
    assert_eq "$rc" 2 "missing list"
    rc=0; gather bench --repeat 0 x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "--repeat 0"
    gather bench --help | grep -q -- '--chart FILE.svg'
    gather bench --help | grep -q -- '--har FILE'
}

test_bench_leaves_no_temporary_folder() {
    server_start
    mkdir tmp
    img_list 3 > list.txt
    TMPDIR="$TMP/tmp" gather bench -q -i list.txt --modes async > /dev/null
    assert_eq "$(find tmp -mindepth 1 | wc -l)" 0 "files left in TMPDIR"
}

test_get_har_has_one_entry_per_request_in_every_mode() {
    local m rc
    server_start
    { img_list 10 "?size=1000"; echo "$BASE/status/404"; echo "http://127.0.0.1:1/refused.jpg"; } > list.txt
    for m in async threads sync; do
        server_reset
        rc=0
        gather get -q -i list.txt -o "out-$m" --mode "$m" --retries 0 --har "$m.har" 2>/dev/null || rc=$?
        assert_eq "$rc" 1 "$m exit"
        har_valid "$m.har"
        # 12 URLs, 12 entries; the server saw all but the refused one.
        assert_eq "$(har_entries "$m.har")" 12 "$m entries"
        assert_eq "$(server_stat requests)" 11 "$m server requests"
        assert_eq "$(jq -r '.log.pages[0].id' "$m.har")" page_1      # one page: the list
        assert_eq "$(jq '[.log.entries[] | select(.response.status == 200 and .response.content.size == 1000)] | length' "$m.har")" 10
        assert_eq "$(jq -r '.log.entries[] | select(.response.status == 404) | ._error' "$m.har")" "HTTP 404"
        assert_eq "$(jq -r '.log.entries[] | select(.request.url | contains(":1/")) | "\(.response.status) \(._error)"' "$m.har")" "0 connection refused"
        assert_eq "$(jq -r '[.log.entries[] | select(.response.status == 200) | .serverIPAddress] | unique | .[]' "$m.har")" 127.0.0.1
    done
}

test_crawl_har_has_one_entry_per_request() {
    local rc=0
    server_start
    gather crawl "$BASE/site/" -d 9 -o out -q --har crawl.har 2>/dev/null || rc=$?
    assert_eq "$rc" 1 "exit (the site has a broken link)"
    har_valid crawl.har
    # every request the server saw, robots.txt and the redirect hops included
    assert_eq "$(har_entries crawl.har)" "$(server_stat requests)" "entries"
    assert_eq "$(jq '[.log.entries[] | select(.request.url | endswith("/robots.txt"))] | length' crawl.har)" 1
    assert_eq "$(jq '[.log.entries[] | select(.response.status == 301)] | length' crawl.har)" 1
    assert_eq "$(jq -r '.log.entries[] | select(._error) | .response.status' crawl.har)" 404
    assert_eq "$(jq '[.log.entries[] | select(.pageref != "page_1")] | length' crawl.har)" 0
}

test_har_to_an_unwritable_path_fails_before_any_request() {
    local rc=0
    server_start
    img_list 2 > list.txt
    gather get -q -i list.txt -o out --har /nonexistent/x.har 2>err.txt || rc=$?
    assert_eq "$rc" 1 "exit"
    grep -q 'cannot write HAR file /nonexistent/x.har' err.txt
    assert_eq "$(server_stat requests)" 0 "server requests"
}

run_tests "$@"
