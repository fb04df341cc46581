#!/usr/bin/env bash
# Integration tests of the file-descriptor budget (crawler/job/fdlimit.c): a -c larger than
# `ulimit -n` allows is lowered once, with one warning, and every file is still saved; the
# server's own count of requests in flight shows the lowered -c was kept.
. "$(dirname "$0")/lib.sh"

# img_list N FILE: N distinct images of the fixture server.
img_list() { seq 1 "$1" | sed "s|^\(.*\)$|$BASE/img/\1.jpg?size=3000|" > "$2"; }

# all_saved N DIR: DIR holds the N images byte for byte (one --emit of the largest, cut per file
# would not do: every image is a different stream).
all_saved() {
    local i
    assert_eq "$(count_final "$2")" "$1" "files saved"
    no_partial "$2"
    for i in $(seq 1 "$1"); do
        expect_same "$2/$i.jpg" "/img/$i.jpg?size=3000"
    done
}

# lowered_to ERRFILE: the -c of the one warning line, which must be the only such line.
lowered_to() {
    assert_eq "$(grep -c 'file descriptors but the limit is' "$1")" 1 "warning lines" >&2
    sed -n 's/^gather: -c [0-9]* needs ~[0-9]* file descriptors but the limit is [0-9]*: using -c \([0-9]*\)$/\1/p' "$1"
}

test_get_c500_under_ulimit_256_saves_every_file() {
    local rc=0 c
    server_start --delay 100
    img_list 2000 list.txt
    (ulimit -n 256; gather get -q -i list.txt -o out -c 500 2>err.txt) || rc=$?
    cat err.txt
    assert_eq "$rc" 0 "exit status"
    c=$(lowered_to err.txt)
    assert_le "$c" 499
    assert_ge "$c" 20
    # the warning, nothing else (-q: no summary): no transfer failed for a descriptor
    assert_eq "$(wc -l < err.txt)" 1 "stderr lines"
    all_saved 2000 out
    assert_le "$(server_stat max_inflight)" "$c" "requests in flight at the server"
    assert_le "$(server_stat max_connections)" "$c" "connections at the server"
    assert_eq "$(server_stat requests)" 2000 "requests: each once"
}

test_get_c2000_under_ulimit_1024_saves_every_file() {
    local rc=0 c
    server_start --delay 200
    img_list 4000 list.txt
    (ulimit -n 1024; gather get -q -i list.txt -o out -c 2000 2>err.txt) || rc=$?
    cat err.txt
    assert_eq "$rc" 0 "exit status"
    c=$(lowered_to err.txt)
    assert_le "$c" 1999
    assert_ge "$c" 100
    assert_eq "$(wc -l < err.txt)" 1 "stderr lines"
    assert_eq "$(count_final out)" 4000 "files saved"
    no_partial out
    for i in 1 777 2000 3999 4000; do expect_same "out/$i.jpg" "/img/$i.jpg?size=3000"; done
    assert_le "$(server_stat max_inflight)" "$c" "requests in flight at the server"
    assert_eq "$(server_stat requests)" 4000 "requests: each once"
}

test_threads_mode_fits_the_limit_too() {
    local rc=0 c
    server_start --delay 100
    img_list 600 list.txt
    (ulimit -n 256; gather get -q --mode threads -i list.txt -o out -c 300 2>err.txt) || rc=$?
    cat err.txt
    assert_eq "$rc" 0 "exit status"
    c=$(lowered_to err.txt)
    assert_le "$c" 299
    all_saved 600 out
    assert_le "$(server_stat max_inflight)" "$c" "requests in flight at the server"
}

test_a_c_that_fits_says_nothing() {
    server_start
    img_list 50 list.txt
    (ulimit -n 256; gather get -q -i list.txt -o out -c 20 2>err.txt)
    assert_eq "$(grep -c 'file descriptors' err.txt)" 0 "warnings"
    all_saved 50 out
}

test_crawl_c500_under_ulimit_256_fetches_the_whole_site() {
    local rc=0 c
    server_start --delay 200
    (ulimit -n 256; gather crawl -q "$BASE/site/" -d 9 -o out -c 500 --per-host 500 2>err.txt) || rc=$?
    cat err.txt
    assert_le "$rc" 1 "exit status (the site has a broken link on purpose)"
    c=$(lowered_to err.txt)
    assert_le "$c" 499
    curl -s -m 10 "$BASE/site-expected?depth=9" |
        jq -r '(.pages + .images + .assets)[], (.redirects | keys[]), (.broken | keys[])' |
        sed "s|^http://127.0.0.1:$PORT||" | sort > want
    stats | jq -r '.hits | keys[]' | grep -v '^/robots.txt$' | sort > got
    diff want got
    assert_eq "$(stats | jq '[.hits[] | select(. > 1)] | length')" 0 "URLs requested twice"
    # every page and asset the site has is saved (the 404 and the redirect are not files)
    assert_eq "$(count_final out)" "$(curl -s -m 10 "$BASE/site-expected?depth=9" | jq '.pages + .images + .assets | length')"
    assert_le "$(server_stat max_inflight)" "$c" "requests in flight at the server"
}

run_tests "$@"
