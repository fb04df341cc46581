#!/usr/bin/env bash
# Integration tests of `gather get` against the fixture server: bytes, concurrency, failures.
. "$(dirname "$0")/lib.sh"

# img_list N QUERY: N image URLs on $BASE.
img_list() {
    local i
    for i in $(seq 1 "$1"); do echo "$BASE/img/$i.jpg${2:-}"; done
}

# check_images DIR N QUERY: DIR holds exactly 1.jpg..N.jpg, each byte-identical to the server's.
check_images() {
    local i n
    n=$(count_files "$1")
    assert_eq "$n" "$2" "files in $1"
    for i in $(seq 1 "$2"); do expect_same "$1/$i.jpg" "/img/$i.jpg${3:-}"; done
    no_partial "$1"
}

# many MODE N C: download N images with 100 ms delay at concurrency C; checks bytes and the
# server's request count, and sets INFLIGHT to the server's max in flight. Call it in the test's
# own shell, never in $(...): its assertions and its server belong there.
many() {
    server_start
    img_list "$2" "?delay=100" > list.txt
    gather get -q -i list.txt -o out -c "$3" --mode "$1"
    check_images out "$2" "?delay=100"
    assert_eq "$(server_stat requests)" "$2" "requests"
    INFLIGHT=$(server_stat max_inflight)
}

test_async_500_images_at_c50() {
    many async 500 50
    assert_le "$INFLIGHT" 50 "max in flight"
    assert_ge "$INFLIGHT" 40 "max in flight"
}

test_threads_500_images_at_c50() {
    many threads 500 50
    assert_le "$INFLIGHT" 50 "max in flight"
    assert_ge "$INFLIGHT" 40 "max in flight"
}

test_sync_20_images_one_at_a_time() {
    many sync 20 50
    assert_eq "$INFLIGHT" 1 "max in flight"
}

test_per_host_limit_holds_per_server() {
    local a b
    server_start; a=$BASE; local pa=$PORT
    server_start; b=$BASE
    { BASE=$a img_list 60 "?delay=100"; BASE=$b img_list 60 "?delay=100&x=b"; } > list.txt
    gather get -q -i list.txt -o out -c 50 --per-host 4 --layout tree
    BASE=$a; local ma; ma=$(server_stat max_inflight)
    BASE=$b; local mb; mb=$(server_stat max_inflight)
    assert_le "$ma" 4 "host a"; assert_ge "$ma" 3 "host a"
    assert_le "$mb" 4 "host b"; assert_ge "$mb" 3 "host b"
    assert_eq "$(count_files out)" 120 "files"
    # tree layout: host_port/path, the query folded into the name
    local f; f=$(find "out/127.0.0.1_$pa/img" -name '7-*.jpg')
    expect_same "$f" "/img/7.jpg?delay=100"
}

test_failures_leave_no_file_and_spare_the_rest() {
    local rc=0
    server_start
    {
        echo "$BASE/img/1.jpg"
        echo "$BASE/status/404"
        echo "$BASE/reset-mid/2"
        echo "$BASE/slow/3?size=50000"
        echo "$BASE/img/4.jpg?size=300000"
        echo "http://127.0.0.1:1/img/5.jpg"
    } > list.txt
    gather get -i list.txt -o out -c 8 --timeout 2 --retries 0 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    expect_same out/1.jpg /img/1.jpg
    expect_same out/4.jpg "/img/4.jpg?size=300000"
    assert_absent out/404 out/2 out/3 out/5.jpg
    assert_eq "$(count_final out)" 2 "files under a final name"
    grep -q "^$BASE/status/404: HTTP 404$" err.txt
    grep -q "^$BASE/reset-mid/2: connection closed after" err.txt
    grep -q "^$BASE/slow/3?size=50000: timed out after 2 s$" err.txt
    grep -q "^http://127.0.0.1:1/img/5.jpg: connection refused$" err.txt
    grep -q "2 ok, 4 failed" err.txt
}

test_bad_lines_are_named_and_skipped() {
    local rc=0
    server_start
    printf '# a comment\n\n%s/img/1.jpg\nftp://example.invalid/x\nnot a url\n  %s/img/2.jpg  \r\n' "$BASE" "$BASE" > list.txt
    printf '%s/img/3.jpg\n' "$BASE" >> list.txt
    gather get -q -i list.txt -o out 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    grep -q '^list.txt:4: ' err.txt
    grep -q '^list.txt:5: ' err.txt
    check_images out 3
}

test_duplicate_urls_are_fetched_once() {
    server_start
    { echo "$BASE/img/1.jpg"; echo "HTTP://127.0.0.1:$PORT/img/./1.jpg#x"; echo "$BASE/img/1.jpg"; } > list.txt
    gather get -q -i list.txt -o out
    assert_eq "$(server_stat requests)" 1 "requests"
    check_images out 1
}

test_same_name_gets_a_deterministic_suffix() {
    server_start
    { echo "$BASE/img/1.jpg"; echo "$BASE/img/1.jpg?size=100"; } > list.txt
    gather get -q -i list.txt -o out
    gather get -q -i list.txt -o out2 --mode sync
    assert_eq "$(count_files out)" 2 "files"
    expect_same out/1.jpg /img/1.jpg
    diff -r -x '.gather.db*' out out2
}

test_redirects_are_followed() {
    server_start
    echo "$BASE/redirect/3/9" > list.txt
    gather get -q -i list.txt -o out --json > out.json
    expect_same out/9 /img/9.jpg
    assert_eq "$(jq -r 'select(.url) | .final_url' out.json)" "$BASE/img/9.jpg"
    local rc=0
    gather get -q -o out3 --max-redirs 2 "$BASE/redirect/3/9" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q 'too many redirects' err.txt
}

test_json_lines_and_summary() {
    local rc=0
    server_start
    { img_list 5; echo "$BASE/status/500"; echo "$BASE/redirect/2/7"; } > list.txt
    gather get -q -i list.txt -o out --json --retries 0 > out.json || rc=$?
    assert_eq "$rc" 1
    # a redirect chain followed: its hops counted, where it ended
    assert_eq "$(jq -c "select(.url == \"$BASE/redirect/2/7\") | [.redirects, .final_url]" out.json)" \
              "[3,\"$BASE/img/7.jpg\"]" "the chain's line"
    assert_eq "$(jq -s '[.[] | select(.url and .ok and .redirects == null)] | length' out.json)" 5
    assert_eq "$(jq -r 'select(.url and (.ok|not)) | .error' out.json)" "HTTP 500"
    assert_eq "$(jq -r 'select(.summary) | .summary.ok' out.json)" 6
    assert_eq "$(jq -r 'select(.summary) | .summary.failed' out.json)" 1
    assert_eq "$(jq -s '[.[] | select(.url and .ok) | .bytes] | add' out.json)" 120000
}

test_three_modes_make_identical_files_and_reports() {
    local m rc
    server_start
    { img_list 30 "?size=30000"; echo "$BASE/status/404"; echo "$BASE/redirect/1/3"; } > list.txt
    for m in async threads sync; do
        rc=0
        gather get -q -i list.txt -o "out-$m" --mode "$m" --json > "$m.json" || rc=$?
        assert_eq "$rc" 1 "$m exit"
        jq -c 'select(.url) | {url, ok, status, bytes, path, error}' "$m.json" | sort > "$m.norm"
    done
    diff -r -x '.gather.db*' out-async out-threads
    diff -r -x '.gather.db*' out-async out-sync
    diff async.norm threads.norm
    diff async.norm sync.norm
}

test_stdin_and_positional_urls() {
    server_start
    img_list 3 | gather get -q -i - -o out
    check_images out 3
    gather get -q -o out2 "$BASE/img/1.jpg" "$BASE/img/2.jpg"
    check_images out2 2
}

test_default_list_is_urls_txt() {
    server_start
    img_list 2 > urls.txt
    gather get -q
    check_images downloads 2
}

test_usage_errors_exit_2() {
    local rc=0
    gather get --bogus 2>err.txt || rc=$?
    assert_eq "$rc" 2
    grep -q "unknown option '--bogus'" err.txt
    rc=0; gather get -c 0 x 2>err.txt || rc=$?
    assert_eq "$rc" 2
    rc=0; gather get -i /nonexistent/list 2>err.txt || rc=$?
    assert_eq "$rc" 2
    grep -q '/nonexistent/list' err.txt
    gather get --help | grep -q 'Exit status'
}

test_one_gib_streams_in_bounded_memory() {
    server_start
    /usr/bin/time -f '%M' -o rss.txt "$GATHER" get -q -o out "$BASE/big/1024"
    assert_eq "$(stat -c %s out/1024)" 1073741824 "size"
    expect_same out/1024 /big/1024
    local kb; kb=$(tail -1 rss.txt)
    echo "# peak RSS ${kb} KiB"
    if [ -z "${SAN:-}" ]; then assert_le "$kb" 32768 "peak RSS KiB"; fi
}

# tty_run FILE CMD...: runs CMD with stderr on a pseudo-terminal (script(1), util-linux), so the
# progress line is drawn; FILE gets what the terminal showed, one redraw a line.
tty_run() {
    local out=$1 cmd
    shift
    cmd=$(printf '%q ' "$@")
    timeout 120 script -qfec "$cmd" /dev/null < /dev/null > "$out.raw"
    tr '\r' '\n' < "$out.raw" | sed 's/\x1b\[K//g' > "$out"
}

# The progress line of a 3,000-line list shows the real total and an ETA from its first redraws,
# while the list is still being read (the old line showed "N/512+ ... ETA --" until the end).
test_progress_line_shows_the_list_total_and_an_eta() {
    server_start --delay 20
    local i
    for i in $(seq 1 3000); do echo "$BASE/img/$i.jpg?size=100"; done > list.txt
    printf '# a comment\n\n' >> list.txt
    tty_run tty.txt "$GATHER" get -i list.txt -o out -c 50 --discard
    grep -E '^[0-9]+/' tty.txt > lines.txt
    assert_ge "$(wc -l < lines.txt)" 3 "progress redraws"
    # every redraw has the counted total; no "+", and an ETA in seconds before the end
    assert_eq "$(grep -cv '^[0-9]*/3000 done' lines.txt || true)" 0 "redraws without the total"
    head -1 lines.txt | grep -qE '^([0-9]|[1-9][0-9]{1,2})/3000 done, .* ETA [0-9]+s$'
    grep -q '^gather: 3000 ok, 0 failed' tty.txt
    # -q: no line at all
    tty_run quiet.txt "$GATHER" get -q -i list.txt -o out2 -c 50 --discard
    assert_eq "$(tr -d '\n' < quiet.txt | wc -c)" 0 "bytes on the terminal with -q"
}

run_tests "$@"
