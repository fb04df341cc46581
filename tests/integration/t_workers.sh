#!/usr/bin/env bash
# Integration tests of --workers: transfers on N threads of their own, while -c and --per-host
# still hold for the whole process (what the fixture servers saw in flight), every worker takes
# its share of a single-host list, the files and the state database are those of --workers 1, an
# interrupted run exits promptly and resumes, and --workers 1 starts no thread.
. "$(dirname "$0")/lib.sh"

EXIT_MS=1000
if [ "${SAN:-}" = 1 ] || [ -n "$GATHER_WRAP" ]; then EXIT_MS=3000; fi

# img_list N QUERY: N image URLs of $BASE.
img_list() {
    local i
    for i in $(seq 1 "$1"); do echo "$BASE/img/$i.jpg$2"; done
}

# summary FILE FIELD: a field of the --json summary line in FILE.
summary() { grep '"summary"' "$1" | jq -c ".summary.$2"; }

# workers_all_ran FILE N: the summary has N workers and every one ran at least one transfer.
workers_all_ran() {
    local ran
    ran=$(summary "$1" workers)
    assert_eq "$(jq length <<< "$ran")" "$2" "workers in the summary: $ran"
    assert_ge "$(jq min <<< "$ran")" 1 "transfers of the least used worker: $ran"
}

# await_inflight N: until the server has N requests in flight (at most 10 s).
await_inflight() {
    for _ in $(seq 1 200); do
        [ "$(server_stat inflight)" -ge "$1" ] && return 0
        sleep 0.05
    done
}

test_single_host_list_uses_every_worker_within_c() {
    server_start
    img_list 200 "?delay=50" > list.txt
    gather get -q --json -i list.txt -o out -c 8 --workers 4 > json.txt
    assert_eq "$(summary json.txt ok)" 200 "ok"
    workers_all_ran json.txt 4
    assert_eq "$(summary json.txt workers | jq add)" 200 "transfers over all workers"
    # the server's own count of requests in flight at once: -c for the process, not per worker
    assert_le "$(server_stat max_inflight)" 8 "max in flight at the server"
    assert_ge "$(server_stat max_inflight)" 6 "max in flight at the server"
    assert_eq "$(server_stat requests)" 200 "requests"
}

test_per_host_holds_across_workers_on_two_hosts() {
    local a b pb
    server_start; a=$BASE
    server_start; pb=$PORT
    b="http://localhost:$pb"              # another host name, not only another port
    { BASE=$a img_list 40 "?delay=100"; BASE=$b img_list 40 "?delay=100"; } > list.txt
    gather get -q --json -i list.txt -o out -c 20 --per-host 2 --workers 3 --layout tree > json.txt
    assert_eq "$(summary json.txt ok)" 80 "ok"
    workers_all_ran json.txt 3
    BASE=$a; assert_eq "$(server_stat max_inflight)" 2 "max in flight at 127.0.0.1"
    BASE=http://127.0.0.1:$pb; assert_eq "$(server_stat max_inflight)" 2 "max in flight at localhost"
}

# manifest DIR: "sha256  path" of every file under DIR but the state database, sorted by path.
manifest() { (cd "$1" && find . -type f ! -name '.gather.db*' -printf '%P\0' | sort -z | xargs -0 sha256sum); }

test_get_files_identical_to_one_worker() {
    server_start
    # small bodies, and large ones that fill the relay between a worker and the writer
    { img_list 100 ""; echo "$BASE/big/16"; echo "$BASE/big/4"; echo "$BASE/img/7.jpg?size=3000000"; } > list.txt
    gather get -q --json -i list.txt -o one -c 8 --workers 1 > j1.txt
    gather get -q --json -i list.txt -o many -c 8 --workers 3 > j3.txt
    workers_all_ran j3.txt 3
    manifest one > one.txt
    manifest many > many.txt
    assert_eq "$(wc -l < many.txt)" 103 "files"
    cmp one.txt many.txt || { diff one.txt many.txt | head -5; return 1; }
    expect_same many/16 /big/16
}

test_crawl_identical_to_one_worker() {
    server_start
    local rc1=0 rc3=0
    # the site links to a page that answers 404: both runs exit 1 for it
    gather crawl "$BASE/site/" -d 9 -q -o one --workers 1 2> err1.txt || rc1=$?
    gather crawl "$BASE/site/" -d 9 -q -o many --workers 3 --json > j3.txt 2> err3.txt || rc3=$?
    assert_eq "$rc3" "$rc1" "exit status"
    cmp err1.txt err3.txt || { diff err1.txt err3.txt | head -5; return 1; }
    workers_all_ran j3.txt 3
    manifest one > one.txt
    manifest many > many.txt
    assert_ge "$(wc -l < many.txt)" 30 "files"
    cmp one.txt many.txt || { diff one.txt many.txt | head -5; return 1; }
    local q="SELECT url, status, path FROM urls ORDER BY url"
    sqlite3 one/.gather.db "$q" > rows1.txt
    sqlite3 many/.gather.db "$q" > rows3.txt
    assert_ge "$(wc -l < rows3.txt)" 30 "rows"
    cmp rows1.txt rows3.txt || { diff rows1.txt rows3.txt | head -5; return 1; }
}

test_sigint_with_workers_exits_promptly_and_resumes() {
    server_start
    # slow small bodies and one large trickling body (kept as .part, resumed with a Range)
    { img_list 20 "?delay=5000"; echo "$BASE/big/8?rate=1024"; } > list.txt
    mkdir run
    ( cd run && exec timeout --foreground -s KILL 60 $GATHER_WRAP "$GATHER" get -q -o out -c 30 \
        --workers 3 -i ../list.txt ) > out.txt 2> err.txt &
    local pid=$! i t0 t1 rc=0
    for i in $(seq 1 200); do
        [ "$(server_stat inflight)" -ge 21 ] && [ "$(server_stat bytes_sent)" -ge 1048576 ] && break
        sleep 0.05
    done
    assert_ge "$(server_stat inflight)" 21 "requests in flight before the signal"
    t0=$(date +%s%N)
    kill -INT "$pid"
    wait "$pid" || rc=$?
    t1=$(date +%s%N)
    assert_eq "$rc" 130 "exit status after SIGINT"
    grep -q 'interrupt: stopping' err.txt || { echo "# gather did not handle the signal"; cat err.txt; return 1; }
    assert_le "$(( (t1 - t0) / 1000000 ))" "$EXIT_MS" "ms from SIGINT to exit"
    [ -e run/out/8.part ] || { echo "# no 8.part kept"; ls run/out; return 1; }
    # the re-run completes what was left, resuming the large body from its .part
    server_reset
    ( cd run && gather get -q -o out -c 30 --workers 3 -i ../list.txt )
    assert_eq "$(count_final run/out)" 21 "files"
    no_partial run/out
    expect_same run/out/8 /big/8
    expect_same run/out/3.jpg /img/3.jpg
    assert_eq "$(server_stat ranges)" 1 "requests with a Range (the resumed body)"
}

# threads NAME PID: threads of PID whose name is NAME.
threads_named() { cat /proc/"$2"/task/*/comm 2>/dev/null | grep -cx "$1" || true; }

test_workers_1_starts_no_thread() {
    server_start
    img_list 10 "?delay=3000" > list.txt
    local w pid n total
    for w in 1 3; do
        # the binary itself (not under timeout, whose pid $! would be), bounded by the delays
        "$GATHER" get -q --discard -i list.txt -o out -c 10 --workers $w &
        pid=$!
        await_inflight 10
        n=$(threads_named gather-xfer "$pid")
        total=$(ls /proc/"$pid"/task | wc -l)
        wait "$pid"
        server_reset
        eval "named_$w=$n total_$w=$total"
    done
    assert_eq "$named_1" 0 "worker threads with --workers 1"
    assert_eq "$named_3" 3 "worker threads with --workers 3"
    assert_eq "$((total_3 - total_1))" 3 "threads --workers 3 adds"
}

# One URL on the command line is one transfer: it runs on the job's loop (no relay copying every
# byte); --workers still decides when given, and a list (-i) is never taken for one URL.
test_a_single_url_runs_on_the_loop() {
    server_start
    local url="$BASE/img/1.jpg?delay=3000" pid n
    for how in single given list; do
        case $how in
            single) "$GATHER" get -q --discard -o out "$url" & ;;
            given) "$GATHER" get -q --discard -o out --workers 2 "$url" & ;;
            list) echo "$url" > one.txt; "$GATHER" get -q --discard -o out -i one.txt --workers 2 & ;;
        esac
        pid=$!
        await_inflight 1
        n=$(threads_named gather-xfer "$pid")
        wait "$pid"
        server_reset
        eval "named_$how=$n"
    done
    assert_eq "$named_single" 0 "worker threads for one URL"
    assert_eq "$named_given" 2 "worker threads for one URL with --workers 2"
    assert_eq "$named_list" 2 "worker threads for a list with --workers 2"
}

# A crawl paced by -w runs its transfers on the job's loop, where the gaps are timed; the
# --json summary says one worker ran every transfer.
test_a_crawl_with_a_delay_runs_on_the_loop() {
    server_start
    gather crawl "$BASE/site/" -d 1 -q -o paced -w 0.05 --json > paced.txt
    assert_eq "$(summary paced.txt workers | jq length)" 1 "workers with -w"
    gather crawl "$BASE/site/" -d 1 -q -o given -w 0.05 --workers 2 --json > given.txt
    assert_eq "$(summary given.txt workers | jq length)" 2 "workers with -w and --workers 2"
}

test_usage() {
    local rc=0
    gather get --workers 0 "http://127.0.0.1:1/" 2> err.txt || rc=$?
    assert_eq "$rc" 2 "exit status of --workers 0"
    gather get --help | grep -q -- '--workers N' || { echo "# --help says nothing of --workers"; return 1; }
    gather crawl --help | grep -q -- '--workers N' || { echo "# crawl --help says nothing of --workers"; return 1; }
}

run_tests "$@"
