#!/usr/bin/env bash
# Integration tests of `gather bench` (three modes compared, from the server's side), of the
# chart it draws (rendered by headless Chromium when it is installed) and of --har in get, crawl
# and bench (checked against the HAR 1.2 structure and the server's request counts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"
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

# mode_field JSON MODE FIELD: a field of one mode's point in bench's --json output (one -c).
mode_field() { jq -r --arg m "$2" ".bench.points[] | select(.mode == \$m) | .$3" "$1"; }

# point_field JSON MODE C FIELD: a field of the point (MODE, -c C) in bench's --json output.
point_field() { jq -r --arg m "$2" --argjson c "$3" ".bench.points[] | select(.mode == \$m and .concurrency == \$c) | .$4" "$1"; }

# table_row TABLE MODE C: the row of the text table for (MODE, -c C), columns as printed:
# c mode requests wall req/s MB/s p50 p95 p99 CPU RSS threads in-flight failures speedup switches
table_row() { awk -v m="$2" -v c="$3" '$1 == c && ($2 == m || $2 == m "*") { print; exit }' "$1"; }

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
    assert_eq "$(jq '[.bench.points[].each[] | .ok + .failed] | add + 1' bench.json)" 121 "requests in JSON"
    assert_le "$(server_stat max_inflight)" 20 "max in flight"
    for m in sync threads async; do
        assert_eq "$(mode_field bench.json $m requests)" 40 "$m requests"
        assert_eq "$(mode_field bench.json $m failures)" 0 "$m failures"
        # the table: c, mode, requests, ..., failures (14th column)
        assert_eq "$(awk -v m=$m '$1 ~ /^[0-9]+$/ && $2 == m { print $3 " " $14 }' table.txt)" "40 0" "$m row of the table"
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

# --report: one page that headless Chromium renders without a console error or a request, every
# chart drawn with a marker per point, its numbers the same as --json's (tests/integration/
# bench_report.js); the screenshot has the modes' colours in it.
test_bench_report_renders_in_chromium() {
    server_start
    img_list 60 "?delay=50" > list.txt
    gather bench -q -i list.txt -c 2,20,60 --sync-limit 10 --json --report report.html > bench.json 2> table.txt
    cat table.txt
    assert_eq "$(server_stat requests)" $((1 + 10 + 2 * 3 * 60)) "server requests"
    grep -q '<script type="application/json" id="bench-data">' report.html
    assert_eq "$(grep -c '<script src\|<link ' report.html)" 0 "external scripts or styles"
    assert_eq "$(jq '.bench.waterfall_concurrency' bench.json)" 60 "waterfall -c"
    local chromium
    chromium=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$chromium" ] || ! command -v node >/dev/null || ! puppeteer_ready; then
        echo "# skip: no chromium, node or puppeteer-core (npm install failed)"
        return 0
    fi
    NODE_PATH="$BUILD/node/node_modules" timeout 180 node "$HERE/bench_report.js" "$chromium" \
        "$TMP/report.html" "$TMP/bench.json" "$TMP/shot.png" > check.txt 2>&1 || { cat check.txt; return 1; }
    cat check.txt
    assert_eq "$(grep -c '^FAIL' check.txt)" 0 "checker failures"
    assert_eq "$(grep -c '^ok chart .*: 7 markers$' check.txt)" 4 "charts with a marker per point"
    grep -q '^ok #bench-data equals BENCH.json' check.txt
    grep -q '^ok browser: 0 errors, warnings or requests' check.txt
    grep -q '^ok waterfall at -c 60: [1-9][0-9]* bars' check.txt
    perl "$HERE/png_colours.pl" shot.png d35400 2471a3 1e8449 > colours.txt
    cat colours.txt
    assert_eq "$(awk '$1 == "size" { sub(/x.*/, "", $2); print $2 }' colours.txt)" 1280 "screenshot width"
    # each mode's lines and markers: far more pixels than its legend swatch
    assert_ge "$(awk '$1 == "2471a3" { print $2 }' colours.txt)" 500 "threads pixels"
    assert_ge "$(awk '$1 == "1e8449" { print $2 }' colours.txt)" 500 "async pixels"
    assert_ge "$(awk '$1 == "d35400" { print $2 }' colours.txt)" 200 "sync pixels"
}

test_bench_repeat_gives_median_and_range() {
    server_start
    img_list 5 > list.txt
    gather bench -i list.txt -c 4 --modes async,sync --repeat 3 --json > bench.json 2> table.txt
    cat table.txt
    assert_eq "$(server_stat requests)" 31 "server requests (2 modes x 3 runs x 5 + 1)"
    assert_eq "$(jq -c '[.bench.points[] | .mode, .runs, (.each | length)]' bench.json)" '["sync",3,3,"async",3,3]'
    grep -Eq '^ *4 +async +5 +[0-9.]+ \([0-9.]+-[0-9.]+\)' table.txt
    grep -q '3 runs per point' table.txt
    # min <= median <= max, for both points
    assert_eq "$(jq '[.bench.points[] | select(.wall_min_s <= .wall_s and .wall_s <= .wall_max_s)] | length' bench.json)" 2
}

test_bench_failures_exit_1_and_show_in_the_table() {
    local rc=0
    server_start
    { img_list 3; echo "$BASE/status/404"; } > list.txt
    gather bench -i list.txt --modes threads,async --har bench.har > table.txt 2> err.txt || rc=$?
    cat table.txt err.txt
    assert_eq "$rc" 1 "exit status"
    assert_eq "$(awk '$1 ~ /^[0-9]+$/ && $2 == "async" { print $3 " " $14 }' table.txt)" "4 1" "async row"
    grep -q "status/404: HTTP 404" err.txt
    har_valid bench.har
    assert_eq "$(jq '[.log.entries[] | select(._error == "HTTP 404" and .response.status == 404)] | length' bench.har)" 2
}

# A sweep: every (mode, -c) point once, sync once; the server saw each run's requests and the
# largest -c in flight at once; the JSON and the text table give the same numbers.
test_bench_sweep_runs_every_point_and_table_agrees_with_json() {
    server_start
    img_list 120 "?delay=100" > list.txt
    gather bench -i list.txt -c 4,40,120 --sync-limit 10 --json > bench.json 2> table.txt
    cat table.txt
    # warm-up 1 + sync 10 + (threads + async) x 3 concurrencies x 120
    assert_eq "$(server_stat requests)" $((1 + 10 + 2 * 3 * 120)) "server requests"
    assert_eq "$(server_stat max_inflight)" 120 "server's max in flight"
    assert_eq "$(jq -c '[.bench.points[] | [.mode, .concurrency]]' bench.json)" \
        '[["sync",1],["threads",4],["async",4],["threads",40],["async",40],["threads",120],["async",120]]' "points"
    assert_eq "$(jq -c '.bench.concurrency' bench.json)" '[4,40,120]'
    assert_eq "$(point_field bench.json sync 1 requests)" 10 "sync requests (--sync-limit)"
    assert_eq "$(point_field bench.json sync 1 scale)" 12 "sync scale"
    local m c row field col
    for c in 4 40 120; do
        for m in threads async; do
            assert_eq "$(point_field bench.json $m $c requests)" 120 "$m -c $c requests"
            # each run had -c transfers in flight (its own count) and said nothing limited it
            assert_eq "$(point_field bench.json $m $c max_inflight)" $c "$m -c $c in flight"
            assert_eq "$(point_field bench.json $m $c reached)" true "$m -c $c reached"
            assert_eq "$(point_field bench.json $m $c limit)" null "$m -c $c limit"
        done
        # one thread per transfer in threads mode (plus the loop's), far fewer in async mode
        assert_ge "$(point_field bench.json threads $c threads)" $((c + 1)) "threads at -c $c"
    done
    assert_le "$(point_field bench.json async 120 threads)" 20 "async threads at -c 120"
    # every point's latency: 100 ms at the server, so p50 >= 100 and p50 <= p95 <= p99
    assert_eq "$(jq '[.bench.points[] | select(.latency_ms.p50 >= 100 and .latency_ms.p50 <= .latency_ms.p95 and .latency_ms.p95 <= .latency_ms.p99)] | length' bench.json)" 7 "latencies"
    # the table's row of each point has the JSON's numbers, as printed
    for m in sync threads async; do
        for c in 1 4 40 120; do
            [ "$m" = sync ] && [ "$c" != 1 ] && continue
            [ "$m" != sync ] && [ "$c" = 1 ] && continue
            row=$(table_row table.txt $m $c)
            [ -n "$row" ] || { echo "# no row for $m -c $c"; return 1; }
            col=3
            for field in requests wall_s requests_per_s mb_per_s latency_ms.p50 latency_ms.p95 \
                         latency_ms.p99 cpu_s peak_rss_mib threads max_inflight failures \
                         speedup context_switches; do
                local want
                want=$(jq -r --arg m $m --argjson c $c --arg f "$field" \
                    '.bench.points[] | select(.mode == $m and .concurrency == $c) | getpath($f | split("."))' bench.json)
                assert_eq "$(echo "$row" | awk -v k=$col '{ print $k }' | tr -d '!')" \
                    "$(table_format "$field" "$want")" "$m -c $c $field"
                col=$((col + 1))
            done
        done
    done
    grep -q '^\* sync fetched the first 10 of the 120 URLs' table.txt
    grep -Eq '^threads (stay within|first fall more than) 10% ' table.txt
    assert_eq "$(jq -r '.bench.verdict.text' bench.json)" "$(grep -E '^threads (stay|first)' table.txt)" "verdict"
}

# table_format FIELD VALUE: VALUE as the text table prints FIELD.
table_format() {
    case "$1" in
        requests|threads|max_inflight|failures|context_switches) LC_ALL=C printf '%.0f' "$2" ;;
        speedup) LC_ALL=C printf '%.1fx' "$2" ;;
        wall_s) LC_ALL=C printf '%.3f' "$2" ;;
        requests_per_s|latency_ms.*|peak_rss_mib) LC_ALL=C printf '%.1f' "$2" ;;
        mb_per_s|cpu_s) LC_ALL=C printf '%.2f' "$2" ;;
    esac
}

# Threads mode runs one thread per transfer past libuv's pool cap of 1024 (the server saw 1100
# requests in flight at once).
test_bench_threads_mode_is_not_capped_by_the_pool() {
    server_start
    img_list 1100 "?delay=2000" > list.txt
    gather bench -q -i list.txt -c 1100 --modes threads --json > bench.json 2> table.txt
    cat table.txt
    assert_eq "$(server_stat max_inflight)" 1100 "server's max in flight"
    assert_eq "$(point_field bench.json threads 1100 max_inflight)" 1100 "in flight"
    assert_ge "$(point_field bench.json threads 1100 threads)" 1101 "threads"
    assert_eq "$(point_field bench.json threads 1100 reached)" true "reached"
}

# Under a limit on threads (RLIMIT_NPROC, which binds root only through another user) threads
# mode runs on the threads it could start, fetches everything, and the table says why it fell
# short of -c.
test_bench_says_when_threads_mode_hits_the_thread_limit() {
    local dir rc=0
    server_start
    dir=$(mktemp -d /tmp/gather-nproc.XXXXXX)
    chmod 755 "$dir"
    mkdir "$dir/tmp" && chmod 777 "$dir/tmp"
    img_list 100 "?delay=300" > "$dir/list.txt"
    chmod 644 "$dir/list.txt"
    if [ "$(id -u)" = 0 ]; then
        # ulimit -u counts every thread of the real user: a user of its own
        # (no passwd entry needed) keeps a concurrent run of this test, in
        # another clone or another mutant, out of the count.
        # The binary is copied where that user can reach it: the build may sit in a folder
        # only root may enter (tests/mutate's scratch copies, made by mktemp -d, are 0700).
        local uid=$(( 200000 + $$ % 100000 ))
        install -m 0755 "$GATHER" "$dir/gather"
        setpriv --reuid=$uid --regid=$uid --clear-groups -- env TMPDIR="$dir/tmp" bash -c \
            'ulimit -u 40 && exec "$0" bench -q -i "$1" -c 100 --modes threads --json' \
            "$dir/gather" "$dir/list.txt" > bench.json 2> table.txt || rc=$?
    else
        TMPDIR="$dir/tmp" bash -c 'ulimit -u $(( $(ps -L -u "$(id -u)" --no-headers | wc -l) + 40 )) &&
            exec "$0" bench -q -i "$1" -c 100 --modes threads --json' \
            "$GATHER" "$dir/list.txt" > bench.json 2> table.txt || rc=$?
    fi
    rm -rf "$dir"
    cat table.txt
    assert_eq "$rc" 0 "exit status"
    assert_eq "$(point_field bench.json threads 100 requests)" 100 "requests"
    assert_eq "$(point_field bench.json threads 100 failures)" 0 "failures"
    assert_eq "$(point_field bench.json threads 100 reached)" false "reached"
    local inflight; inflight=$(point_field bench.json threads 100 max_inflight)
    assert_le "$inflight" 40 "in flight"
    assert_ge "$inflight" 1 "in flight"
    assert_le "$(server_stat max_inflight)" 40 "server's max in flight"
    point_field bench.json threads 100 limit | grep -q "threads could start (pthread_create: Resource temporarily unavailable; ulimit -u 40"
    grep -q "^  threads -c 100: only [0-9]* threads could start" table.txt
}

# Under a descriptor limit async mode lowers -c to fit, and the table says so.
test_bench_says_when_the_descriptor_limit_lowers_c() {
    local rc=0
    server_start
    img_list 300 "?delay=300" > list.txt
    ( ulimit -n 256 && exec "$GATHER" bench -q -i list.txt -c 250 --modes async --json ) > bench.json 2> table.txt || rc=$?
    cat table.txt
    assert_eq "$rc" 0 "exit status"
    assert_eq "$(point_field bench.json async 250 requests)" 300 "requests"
    assert_eq "$(point_field bench.json async 250 reached)" false "reached"
    local fit; fit=$(point_field bench.json async 250 limit | sed -n 's/^the file descriptor limit (ulimit -n 256) allows -c \([0-9]*\)$/\1/p')
    [ -n "$fit" ] || { echo "# limit: $(point_field bench.json async 250 limit)"; return 1; }
    assert_le "$fit" 249 "-c in force"
    assert_eq "$(point_field bench.json async 250 max_inflight)" "$fit" "in flight"
    assert_eq "$(server_stat max_inflight)" "$fit" "server's max in flight"
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
    rc=0; gather bench -c 1,10,10 x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "-c with a repeat"
    grep -q -- "-c: 10 is listed twice" err.txt
    rc=0; gather bench -c 1,,10 x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "-c with an empty entry"
    rc=0; gather bench -c 1,10 --waterfall 5 x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "--waterfall not swept"
    grep -q -- "--waterfall 5 is not one of the -c values" err.txt
    rc=0; gather get -c 1,10 x 2>err.txt || rc=$?
    assert_eq "$rc" 2 "a -c list in get"
    grep -q -- "-c takes one number" err.txt
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
