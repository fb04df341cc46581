#!/usr/bin/env bash
# Integration tests of SIGINT at every phase of `gather get` and `gather crawl`: the run exits 130
# within a second of the signal, nothing under a final name differs from the server's bytes and
# nothing is written outside -o; and a crawl interrupted ten times resumes to exactly the result
# of an uninterrupted one, fetching nothing twice that was complete.
. "$(dirname "$0")/lib.sh"

# How long a run may take from SIGINT to its exit: more under sanitizers or a wrapper (valgrind).
EXIT_MS=1000
if [ "${SAN:-}" = 1 ] || [ -n "$GATHER_WRAP" ]; then EXIT_MS=3000; fi
# The watchdog's SIGKILL after this many seconds, so a run that ignores the signal fails the test
# instead of hanging it (a slow robots.txt here answers after 20 s).
GATHER_LIMIT=60
GPID=

# ---- running and interrupting gather -------------------------------------------------------------

# start ARGS...: gather ARGS in the background from the folder run/ (so a file written beside -o
# shows), stdout in out.txt and stderr in err.txt; sets GPID. `timeout --foreground` is the
# watchdog: it passes our one SIGINT on to gather and nothing more (without --foreground it
# signals its whole group as well, and a second SIGINT makes gather quit at once).
start() {
    mkdir -p run
    ( cd run && exec timeout --foreground -s KILL "$GATHER_LIMIT" $GATHER_WRAP "$GATHER" "$@" ) \
        >out.txt 2>err.txt &
    GPID=$!
}

# running: the gather started last has not exited (a zombie has).
running() {
    [ -n "$GPID" ] && [ -r "/proc/$GPID/stat" ] && [ "$(awk '{print $3}' "/proc/$GPID/stat" 2>/dev/null)" != Z ]
}

# stop_gather: kills a gather still running (a test that failed half-way) and reaps it.
stop_gather() {
    [ -n "$GPID" ] || return 0
    if running; then
        pkill -KILL -P "$GPID" 2>/dev/null || true   # gather itself: timeout's only child
        kill -KILL "$GPID" 2>/dev/null || true
    fi
    wait "$GPID" 2>/dev/null || true
    GPID=
}

# lib.sh's EXIT trap calls server_stop: stop our gather there too, so no test leaves one behind.
eval "lib_$(declare -f server_stop)"
server_stop() { stop_gather; lib_server_stop; }

# wait_until WHAT CMD...: polls CMD every 50 ms, for at most 10 s, while gather runs.
wait_until() {
    local what=$1 i
    shift
    for i in $(seq 1 200); do
        if "$@"; then return 0; fi
        running || { echo "# gather exited before $what"; cat err.txt; return 1; }
        sleep 0.05
    done
    echo "# no $what after 10 s"
    return 1
}

# logged REGEX: the server was asked for a target matching REGEX.
logged() { curl -s -m 10 "$BASE/log" | awk '{print $2}' | grep -q -- "$1"; }
stat_ge() { [ "$(server_stat "$1")" -ge "$2" ]; }

# interrupt: one SIGINT to the running gather; waits for its exit and asserts that it handled the
# signal (a default-action death would also read as 130) and exited 130 within EXIT_MS.
interrupt() {
    local t0 t1 ms rc=0
    running || { echo "# gather exited before the signal"; cat err.txt; return 1; }
    t0=$(date +%s%N)
    kill -INT "$GPID"
    wait "$GPID" || rc=$?
    t1=$(date +%s%N)
    GPID=
    ms=$(( (t1 - t0) / 1000000 ))
    echo "# exit $rc $ms ms after SIGINT (limit $EXIT_MS ms)"
    sed 's/^/# stderr: /' err.txt | tail -5
    assert_eq "$rc" 130 "exit status after SIGINT"
    grep -q 'interrupt: stopping' err.txt || { echo "# gather did not handle the signal"; return 1; }
    assert_le "$ms" "$EXIT_MS" "ms from SIGINT to exit"
}

# ---- what an interrupted run leaves ------------------------------------------------------------

# final_files DIR: the files under DIR with a final name, relative to DIR, sorted.
final_files() {
    [ -d "$1" ] || return 0
    find "$1" -type f ! -name '.gather.db*' ! -name '*.part' -printf '%P\n' | sort
}

# intact: nothing was written in run/ outside run/out; every file there under a final name is
# recorded done in out/.gather.db and holds exactly what the server serves for its URL.
intact() {
    local dir=run/out stray path url
    stray=$(find run -mindepth 1 -maxdepth 1 ! -path "$dir")
    [ -z "$stray" ] || { echo "# written outside -o: $stray"; return 1; }
    final_files "$dir" > final.txt
    [ -s final.txt ] || return 0
    sqlite3 -separator ' ' "$dir/.gather.db" \
        "SELECT path, url FROM urls WHERE status = 'done' AND path IS NOT NULL" > done.txt
    while read -r path; do
        url=$(awk -v p="$path" '$1 == p { print $2; exit }' done.txt)
        [ -n "$url" ] || { echo "# $path is under a final name but not done in .gather.db"; return 1; }
        if ! "$FIXTURE" --port "$PORT" --emit "${url#"$BASE"}" | cmp -s - "$dir/$path"; then
            echo "# $dir/$path differs from $url"
            return 1
        fi
    done < final.txt
}

# ---- crawl: robots.txt and sitemaps --------------------------------------------------------------

test_crawl_sigint_while_robots_txt_is_slow() {
    server_start --robots-delay 20000
    start crawl "$BASE/site/" -d 9 -o out -q
    wait_until "robots.txt request" logged '^/robots.txt$'
    sleep 0.2
    interrupt
    intact
    if logged '^/site/'; then echo "# a page was asked for before robots.txt answered"; return 1; fi
}

test_crawl_sigint_while_the_sitemap_is_slow() {
    server_start --sitemap-delay 15000
    start crawl "$BASE/site/" -d 9 -o out -q --sitemap
    wait_until "sitemap request" logged '^/sitemap.xml$'
    sleep 0.2
    interrupt
    intact
}

# ---- waiting to retry --------------------------------------------------------------------------

test_get_sigint_while_waiting_to_retry() {
    server_start
    start get -q -o out --retry-delay 60000 --max-wait 60 "$BASE/flaky/1/5?retry-after=30" \
        "$BASE/img/1.jpg"
    wait_until "first 503" logged '^/flaky/1/5'
    wait_until "img/1.jpg saved" test -e run/out/1.jpg
    sleep 0.3
    interrupt
    intact
    assert_eq "$(final_files run/out)" 1.jpg "files under a final name"
    assert_eq "$(stats | jq -r '.hits["/flaky/1/5?retry-after=30"]')" 1 "tries of the flaky URL"
}

test_crawl_sigint_while_waiting_to_retry() {
    server_start
    start crawl "$BASE/flaky/1/5?retry-after=30" -d 0 -o out -q --retry-delay 60000 --max-wait 60
    wait_until "first 503" logged '^/flaky/1/5'
    sleep 0.3
    interrupt
    intact
    assert_eq "$(final_files run/out | wc -l)" 0 "files under a final name"
}

# ---- large bodies: streaming and committing ------------------------------------------------------

# 100 MiB at 2 MiB/s: still streaming when the signal comes.
test_get_sigint_while_a_large_body_streams() {
    server_start
    start get -q -o out --fsync "$BASE/big/100?rate=2048"
    wait_until "1 MiB sent" stat_ge bytes_sent 1048576
    interrupt
    intact
    assert_eq "$(final_files run/out | wc -l)" 0 "files under a final name"
}

test_crawl_sigint_while_a_large_body_streams() {
    server_start
    start crawl "$BASE/big/100?rate=2048" -d 0 -o out -q --fsync
    wait_until "1 MiB sent" stat_ge bytes_sent 1048576
    interrupt
    intact
    assert_eq "$(final_files run/out | wc -l)" 0 "files under a final name"
}

# 16 bodies of 24 MiB, 4 at a time, each fsynced: signalled when half the bytes were sent, some
# files are being committed (fsync, rename, state row) and others are still streaming.
commit_urls() { local i; for i in $(seq 1 16); do echo "$BASE/big/24?n=$i"; done; }

test_get_sigint_while_large_bodies_are_committed() {
    server_start
    commit_urls > list.txt
    start get -q -o out --layout tree -c 4 --fsync -i ../list.txt
    wait_until "192 MiB sent" stat_ge bytes_sent $((192 * 1048576))
    interrupt
    intact
    final_files run/out > complete
    local parts; parts=$(find run/out -name '*.part' -size +0 | wc -l)
    echo "# $(wc -l < complete) of 16 files complete, $parts started"
    # a re-run completes the rest, resumes what was started and asks again for nothing complete
    server_reset
    (cd run && gather get -q -o out --layout tree -c 4 --fsync -i ../list.txt)
    intact
    assert_eq "$(final_files run/out | wc -l)" 16 "files after the re-run"
    no_partial run/out
    assert_eq "$(stats | jq '[.hits[]] | add // 0')" $((16 - $(wc -l < complete))) "requests of the re-run"
    assert_eq "$(server_stat ranges)" "$parts" "Range requests of the re-run"
}

test_crawl_sigint_while_large_bodies_are_committed() {
    server_start
    start crawl $(commit_urls) -d 0 -o out -q -c 4 --per-host 4 --fsync
    wait_until "192 MiB sent" stat_ge bytes_sent $((192 * 1048576))
    interrupt
    intact
    echo "# $(final_files run/out | wc -l) of 16 files complete"
}

# ---- transfers in flight -----------------------------------------------------------------------

test_get_sigint_while_transfers_are_in_flight() {
    server_start
    local i
    for i in $(seq 1 20); do echo "$BASE/img/$i.jpg?delay=5000"; done > list.txt
    start get -q -o out -c 20 -i ../list.txt
    wait_until "20 requests in flight" stat_ge inflight 20
    interrupt
    intact
    assert_eq "$(final_files run/out | wc -l)" 0 "files under a final name"
}

test_crawl_sigint_while_pages_are_in_flight() {
    server_start --delay 5000 --robots-delay 1
    start crawl "$BASE/site/" -d 9 -o out -q
    wait_until "the start page in flight" logged '^/site/$'
    sleep 0.2
    interrupt
    intact
    assert_eq "$(final_files run/out | wc -l)" 0 "files under a final name"
}

# ---- resuming a crawl interrupted many times -----------------------------------------------------

# targets_of_log: the distinct targets the server was asked for since its last /reset.
targets_of_log() { curl -s -m 10 "$BASE/log" | awk '{print $2}' | sort -u; }

# differ WHAT A B: files A and B hold the same lines (in any order); else one line of counts, three of each side.
differ() {
    local only_a only_b
    only_a=$(comm -23 <(sort "$2") <(sort "$3"))
    only_b=$(comm -13 <(sort "$2") <(sort "$3"))
    [ -z "$only_a$only_b" ] && return 0
    echo "# $1: $(echo "$only_a" | grep -c .) only in A, $(echo "$only_b" | grep -c .) only in B"
    echo "$only_a" | grep . | head -3 | sed 's/^/#   A: /' | cut -c1-160
    echo "$only_b" | grep . | head -3 | sed 's/^/#   B: /' | cut -c1-160
    return 1
}

# files_and_sums DIR: "path sha256" of every file under DIR with a final name.
files_and_sums() {
    local dir=$1
    final_files "$dir" | while read -r p; do echo "$p $(sha256sum < "$dir/$p" | cut -d' ' -f1)"; done
}

# The crawl runs in run/ with -o A (uninterrupted) and then -o B (interrupted ten times at random
# moments, then run to its end). SEED=N repeats the moments of a failed run.
test_crawl_interrupted_ten_times_resumes_to_the_same_result() {
    local seed=${SEED:-$(( $(date +%s%N) / 1000 % 32768 ))}
    local t0 ms_a window k moment rc complete interrupted=0 fails=0 i
    echo "# seed $seed (run again with SEED=$seed)"
    RANDOM=$seed
    server_start --delay 200
    crawl_args() { echo crawl "$BASE/site/" -d 9 -q -o "$1"; }

    # A: the reference, uninterrupted
    t0=$(date +%s%N)
    start $(crawl_args A)
    rc=0; wait "$GPID" || rc=$?; GPID=
    ms_a=$(( ($(date +%s%N) - t0) / 1000000 ))
    assert_eq "$rc" 1 "exit status of the reference crawl (one broken link)"
    files_and_sums run/A > a_files
    targets_of_log > a_targets
    sqlite3 -separator ' ' run/A/.gather.db "SELECT path, url FROM urls WHERE status = 'done' AND path IS NOT NULL" |
        sed "s| $BASE| |" > a_path_target
    sqlite3 run/A/.gather.db "SELECT url, status, http_code, error FROM urls" |
        sed "s|^$BASE||" > a_rows
    echo "# reference: $(wc -l < a_files) files, $(wc -l < a_targets) targets, $ms_a ms"
    assert_ge "$(wc -l < a_files)" 50 "files of the reference crawl"

    # B: ten runs, each signalled at a random moment in the first fifth of A's time (100 to 900 ms
    # of A's 4 s in a plain build; longer under a sanitizer or valgrind, where everything is
    # slower), so each one only gets part of the way and most of the ten are interrupted. A seed
    # repeats the moments on a machine as fast as the one that failed.
    window=$(( ms_a / 5 ))
    [ "$window" -ge 200 ] || window=200
    : > b_targets
    for k in $(seq 1 10); do
        moment=$(( 100 + RANDOM % window ))
        final_files run/B > before
        server_reset
        start $(crawl_args B)
        sleep "$(printf '%d.%03d' $((moment / 1000)) $((moment % 1000)))"
        rc=0
        if running; then
            kill -INT "$GPID"
            wait "$GPID" || rc=$?
            [ "$rc" = 130 ] && interrupted=$((interrupted + 1))
        else
            wait "$GPID" || rc=$?
        fi
        GPID=
        echo "# run $k: SIGINT after $moment ms, exit $rc, $(final_files run/B | wc -l) files"
        case "$rc" in 0|1|130) ;; *) echo "# run $k exited $rc"; cat err.txt; fails=$((fails + 1)) ;; esac
        targets_of_log > this_run
        cat this_run >> b_targets
        # a URL whose file was complete before this run was not asked for again
        complete=$(awk 'NR == FNR { done[$1] = 1; next } ($1 in done) { print $2 }' before a_path_target | sort)
        again=$(comm -12 <(echo "$complete") this_run | grep . || true)
        if [ -n "$again" ]; then
            echo "# run $k fetched again what was complete:" $again | cut -c1-200
            fails=$((fails + 1))
        fi
    done
    # a correct resume leaves work for later runs: most of them are still running at the signal
    assert_ge "$interrupted" 5 "of 10 runs the signal stopped" || fails=$((fails + 1))

    # and once more to the end
    final_files run/B > before
    server_reset
    start $(crawl_args B)
    rc=0; wait "$GPID" || rc=$?; GPID=
    sed 's/^/# final run: /' err.txt | tail -3
    [ "$rc" -le 1 ] || { echo "# final run exited $rc"; fails=$((fails + 1)); }
    targets_of_log > this_run
    cat this_run >> b_targets
    complete=$(awk 'NR == FNR { done[$1] = 1; next } ($1 in done) { print $2 }' before a_path_target | sort)
    again=$(comm -12 <(echo "$complete") this_run | grep . || true)
    [ -z "$again" ] || { echo "# the final run fetched again what was complete:" $again; fails=$((fails + 1)); }

    # B holds what A holds, byte for byte
    files_and_sums run/B > b_files
    differ "files (path sha256)" a_files b_files || fails=$((fails + 1))
    # together the runs asked for exactly what A asked for
    sort -u b_targets > b_targets_u
    differ "requested targets" a_targets b_targets_u || fails=$((fails + 1))
    # the state says what A's says for every URL: done, skipped (robots) or the 404 failed; no
    # URL lost as cancelled, nothing left in the frontier
    sqlite3 run/B/.gather.db "SELECT url, status, http_code, error FROM urls" |
        sed "s|^$BASE||" > b_rows
    differ "urls rows (url|status|http_code|error)" a_rows b_rows || fails=$((fails + 1))
    i=$(sqlite3 run/B/.gather.db "SELECT count(*) FROM urls WHERE error LIKE '%cancel%'")
    assert_eq "$i" 0 "rows with a 'cancelled' error" || fails=$((fails + 1))
    i=$(sqlite3 run/B/.gather.db "SELECT count(*) FROM frontier")
    assert_eq "$i" 0 "frontier entries left" || fails=$((fails + 1))
    no_partial run/B || fails=$((fails + 1))
    # and every URL found on a page knows that page, as in A
    assert_eq "$(sqlite3 run/B/.gather.db "SELECT count(*) FROM urls WHERE parent IS NULL AND url != '$BASE/site/'")" 0 \
        "rows of found URLs without a parent" || fails=$((fails + 1))
    assert_eq "$fails" 0 "failed checks (seed $seed)"
}

# Every URL of the urls table except the start URL was found on a page, and `parent` names it: a
# page one level up, or the redirect that led there (same level).
test_crawl_records_the_parent_of_every_found_url() {
    server_start
    start crawl "$BASE/site/" -d 9 -o out -q
    local rc=0
    wait "$GPID" || rc=$?; GPID=
    assert_eq "$rc" 1 "exit status (one broken link)"
    local db=run/out/.gather.db
    assert_eq "$(sqlite3 $db "SELECT count(*) FROM urls WHERE url = '$BASE/site/' AND parent IS NULL")" 1 \
        "the start URL has no parent"
    sqlite3 $db "SELECT url FROM urls WHERE parent IS NULL AND url != '$BASE/site/'" > orphans
    [ ! -s orphans ] || { echo "# $(wc -l < orphans) found URLs without a parent, e.g. $(head -1 orphans)"; return 1; }
    sqlite3 $db "SELECT c.url FROM urls c LEFT JOIN urls p ON p.url = c.parent
                 WHERE c.parent IS NOT NULL AND (p.url IS NULL OR NOT (p.depth = c.depth - 1 OR
                       (p.depth = c.depth AND p.http_code BETWEEN 300 AND 399)))" > wrong
    [ ! -s wrong ] || { echo "# parents that are not a page one level up:"; head -5 wrong; return 1; }
}

run_tests "$@"
