#!/usr/bin/env bash
# Integration tests of `gather get --redis URL --job NAME` (DISTRIBUTED.md): worker processes
# sharing one job on a real redis-server. Each URL of a list is fetched exactly once over all the
# workers (the fixture server's hit counts), every file is the served body, --per-host holds for
# all workers together (the server's max in flight), a worker killed with SIGKILL only causes
# repeats of the URLs it had claimed, a Redis restart and dropped connections lose nothing, adding
# a list twice adds nothing, and a wrong password or a closed port exits 2 before any fetch.
. "$(dirname "$0")/lib.sh"

JOB=j
Q="gather:{$JOB}:q:0"
RES="gather:{$JOB}:res"
META="gather:{$JOB}:meta"

# img_list N: N image URLs of $BASE (the server's --delay, not a query, slows them, so a file's
# name is N.jpg and its body is /img/N.jpg).
img_list() {
    local i
    for i in $(seq 1 "$1"); do echo "$BASE/img/$i.jpg"; done
}

# enqueue LIST [ARGS]: adds LIST to the job and checks that gather exited 0.
enqueue() {
    local list=$1
    shift
    gather get -q -i "$list" --redis "$REDIS_URL" --job "$JOB" --enqueue-only "$@"
}

# worker_start DIR ARGS...: a worker (`gather get --redis --job`) in the background writing to
# DIR, its output in DIR.K.out and DIR.K.err (K counts the workers started). The binary is started
# directly (no `timeout` in front), so WPID is its pid: the pid in its Redis consumer name. The
# test's watchdog stops a hang.
WN=0
worker_start() {
    local dir=$1
    shift
    WN=$((WN + 1))
    $GATHER_WRAP "$GATHER" get -q --redis "$REDIS_URL" --job "$JOB" -o "$dir" "$@" \
        > "$dir.$WN.out" 2> "$dir.$WN.err" &
    WPID=$!
}

# await_exit PID [SECS]: waits (SECS, default 120, at most) for PID to end; sets RC to its exit
# status. Fails if it is still running.
await_exit() {
    local i
    for i in $(seq 1 $((${2:-120} * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "# worker $1 still running after ${2:-120} s"
        return 1
    fi
    RC=0
    wait "$1" || RC=$?
}

# await_workers PID...: every worker ends, with exit status 0.
await_workers() {
    local p
    for p in "$@"; do
        await_exit "$p"
        [ "$RC" -eq 0 ] || worker_errors
        assert_eq "$RC" 0 "exit status of worker $p"
    done
}

# worker_errors: the last lines each worker wrote on stderr (when a test fails).
worker_errors() {
    local f
    for f in w*.err; do
        [ -s "$f" ] && tail -3 "$f" | sed "s|^|# $f: |"
    done
    return 0
}

# res_count: entries of the job's res hash; res_ok: those with ok true.
res_count() { rcli HLEN "$RES"; }
res_ok() { rcli HVALS "$RES" | jq -s '[.[] | select(.ok == true)] | length'; }

# await_res N: until the res hash holds N entries (at most 60 s).
await_res() {
    local i
    for i in $(seq 1 600); do
        [ "$(res_count)" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "# the res hash has $(res_count) entries, not $1"
    worker_errors
    return 1
}

# hits_of N: the server's hit count for each of /img/1.jpg .. /img/N.jpg, one "count target" line
# each (0 when never asked for), and every other target asked for.
hits_of() {
    stats | jq -r --argjson n "$1" '.hits as $h
        | ([range(1; $n + 1) | "/img/\(.).jpg"] | map("\($h[.] // 0) \(.)"))
          + ($h | to_entries | map(select(.key | test("^/img/[0-9]+[.]jpg$") | not))
                | map("\(.value) \(.key)"))
        | .[]'
}

# files_ok DIR...: every file under its final name in the DIRs is the body the server serves for
# its name (N.jpg: /img/N.jpg); prints how many there are.
files_ok() {
    local f n=0 bad=0
    while IFS= read -r f; do
        n=$((n + 1))
        if ! "$FIXTURE" --emit "/img/$(basename "$f" .jpg).jpg" | cmp -s - "$f"; then
            echo "# $f differs from what the server serves" >&2
            bad=$((bad + 1))
        fi
    done < <(find "$@" -type f ! -name '.gather.db*' ! -name '*.part' 2>/dev/null)
    [ "$bad" -eq 0 ] || return 1
    echo "$n"
}

# name_of PID: the worker name (HOST:PID:NONCE) Redis knows process PID by: a consumer of the
# stream's group, or an entry of the job's workers set.
name_of() {
    { rcli XINFO CONSUMERS "$Q" w 2>/dev/null | awk 'prev == "name" { print } { prev = $0 }'
      rcli ZRANGE "gather:{$JOB}:workers" 0 -1; } | grep -m1 ":$1:" || true
}

# pending_urls NAME: the URLs of the entries consumer NAME has claimed and not acknowledged
# (XPENDING, then each entry's u field), read in one script so no ack slips in between; an
# empty answer is no line.
PENDING_LUA='
local p = redis.call("XPENDING", KEYS[1], "w", "-", "+", 10000, ARGV[1])
local out = {}
for _, e in ipairs(p) do
    local r = redis.call("XRANGE", KEYS[1], e[1], e[1])
    if r[1] then
        local f = r[1][2]
        for i = 1, #f, 2 do if f[i] == "u" then out[#out + 1] = f[i + 1] end end
    end
end
return out'
pending_urls() { rcli EVAL "$PENDING_LUA" 1 "$Q" "$1" | sed "/^$/d"; }

# pending_of NAME: how many entries consumer NAME holds.
pending_of() {
    rcli XINFO CONSUMERS "$Q" w 2>/dev/null |
        awk -v n="$1" 'prev == "name" { cur = $0 } prev == "pending" && cur == n { print; found = 1 }
                       { prev = $0 } END { if (!found) print 0 }'
}

test_three_workers_fetch_each_url_once() {
    server_start --delay 20
    redis_start
    img_list 300 > list.txt
    enqueue list.txt
    assert_eq "$(rcli XLEN "$Q")" 300 "entries queued"
    assert_eq "$(server_stat requests)" 0 "requests of --enqueue-only"
    local pids=() k
    for k in 1 2 3; do
        worker_start "w$k" -c 8
        pids+=("$WPID")
    done
    await_workers "${pids[@]}"
    # what the server saw: each URL once, nothing else
    hits_of 300 > hits.txt
    assert_eq "$(awk '$1 != 1' hits.txt | wc -l)" 0 "targets not asked for exactly once: $(awk '$1 != 1' hits.txt | head -3 | paste -sd' ')"
    assert_eq "$(server_stat requests)" 300 "requests"
    # every file is the served body, each URL in one folder only, every worker did some
    assert_eq "$(files_ok w1 w2 w3)" 300 "files"
    for k in 1 2 3; do
        assert_ge "$(count_final "w$k")" 1 "files of worker $k"
        no_partial "w$k"
    done
    assert_eq "$(res_count)" 300 "entries of res"
    assert_eq "$(res_ok)" 300 "ok entries of res"
    assert_eq "$(rcli HVALS "$RES" | jq -r .worker | sort -u | wc -l)" 3 "workers named in res"
    assert_eq "$(rcli HGET "$META" "done")" 300 "meta done"
}

# --per-host 4 given to each of three workers: four transfers in flight to the host at most, for
# all of them together (twelve if each kept its own count).
test_per_host_holds_across_workers() {
    server_start --delay 300
    redis_start
    img_list 60 > list.txt
    enqueue list.txt
    local pids=() k
    for k in 1 2 3; do
        worker_start "w$k" -c 8 --per-host 4
        pids+=("$WPID")
    done
    await_workers "${pids[@]}"
    assert_le "$(server_stat max_inflight)" 4 "max in flight at the server"
    assert_ge "$(server_stat max_inflight)" 2 "max in flight at the server"
    assert_eq "$(server_stat requests)" 60 "requests"
    assert_eq "$(res_ok)" 60 "ok entries of res"
}

# kill -9 of a worker at five moments, a replacement started in its folder each time: the job
# completes, and the only URLs asked for twice are ones a killed worker held when it died.
test_killed_workers_only_repeat_what_they_held() {
    local seed=${SEED:-$$}
    RANDOM=$seed
    echo "# seed $seed (SEED=$seed to repeat)"
    server_start --delay 300
    redis_start
    img_list 400 > list.txt
    enqueue list.txt --lease 2
    local pids=(0 0 0) dirs=(w1 w2 w3) k kill v name i
    for k in 0 1 2; do
        worker_start "${dirs[$k]}" -c 4 --lease 2
        pids[k]=$WPID
    done
    : > held.txt
    for kill in 1 2 3 4 5; do
        v=$((RANDOM % 3))
        # a moment when the victim holds something, then a random part of a second later
        name=
        for i in $(seq 1 100); do
            name=$(name_of "${pids[$v]}")
            [ -n "$name" ] && [ "$(pending_of "$name")" -gt 0 ] && break
            sleep 0.05
        done
        [ -n "$name" ] || { echo "# worker ${pids[$v]} has no name in Redis"; return 1; }
        sleep "0.$((RANDOM % 10))"
        kill -KILL "${pids[$v]}"
        pending_urls "$name" > "held.$kill.txt"
        echo "# kill $kill: ${dirs[$v]} ($name) held $(wc -l < "held.$kill.txt") URLs"
        cat "held.$kill.txt" >> held.txt
        { wait "${pids[$v]}"; } 2>/dev/null || true    # (no "Killed" line from bash)
        # the replacement works in the same folder, as a restarted machine would
        worker_start "${dirs[$v]}" -c 4 --lease 2
        pids[v]=$WPID
    done
    assert_ge "$(wc -l < held.txt)" 1 "URLs held by the killed workers"
    await_workers "${pids[@]}"
    assert_eq "$(res_count)" 400 "entries of res"
    assert_eq "$(res_ok)" 400 "ok entries of res"
    hits_of 400 > hits.txt
    assert_eq "$(awk '$1 == 0' hits.txt | wc -l)" 0 "targets never asked for"
    sed "s|^$BASE||" held.txt | sort -u > held-targets.txt
    awk '$1 > 1 { print $2 }' hits.txt | sort > repeated.txt
    echo "# $(wc -l < repeated.txt) URLs asked for more than once, $(wc -l < held-targets.txt) held by killed workers"
    local stray
    stray=$(comm -23 repeated.txt held-targets.txt)
    [ -z "$stray" ] || { echo "# asked for twice but held by no killed worker: $(head -5 <<< "$stray" | paste -sd' ')"; return 1; }
    # every file under its final name is whole; each URL has one somewhere
    assert_ge "$(files_ok w1 w2 w3)" 400 "whole files"
    find w1 w2 w3 -name '*.part' -printf '# left by a killed worker: %p\n'
}

# Redis killed and started again (AOF, fsync always) in the middle of a job, then every client
# connection dropped (CLIENT KILL): the workers reconnect, the job completes, nothing is lost.
test_redis_restart_and_dropped_connections_lose_nothing() {
    server_start --delay 200
    redis_start
    img_list 300 > list.txt
    enqueue list.txt --lease 2
    local pids=() k
    for k in 1 2 3; do
        worker_start "w$k" -c 6 --lease 2
        pids+=("$WPID")
    done
    await_res 60
    redis_restart 1
    echo "# restarted Redis with $(res_count) of 300 done"
    await_res 150
    local killed
    killed=$(rcli CLIENT KILL TYPE normal)
    echo "# dropped $killed connections with $(res_count) of 300 done"
    assert_ge "$killed" 3 "connections dropped"
    await_res 200
    killed=$(rcli CLIENT KILL TYPE normal)
    assert_ge "$killed" 3 "connections dropped the second time"
    await_workers "${pids[@]}"
    assert_eq "$(res_count)" 300 "entries of res"
    assert_eq "$(res_ok)" 300 "ok entries of res"
    hits_of 300 > hits.txt
    assert_eq "$(awk '$1 == 0' hits.txt | wc -l)" 0 "targets never asked for"
    assert_ge "$(files_ok w1 w2 w3)" 300 "whole files"
    assert_eq "$(rcli HGET "$META" "done")" 300 "meta done"
}

# Workers that reach Redis through tests/hostile/tcp_cut.py: three times in the job every
# connection is reset (RST, as a network failure would) and new ones are refused for a second.
# The workers reconnect, the job completes, nothing is lost.
test_reset_connections_lose_nothing() {
    server_start --delay 200
    redis_start
    hostile_start tcp_cut.py --to "127.0.0.1:$RPORT" --refuse-ms 1000 --count-file "$TMP/cut.count"
    local proxy=${SERVER_PIDS[-1]} url="redis://127.0.0.1:$HPORT/0"
    img_list 300 > list.txt
    enqueue list.txt --lease 2
    local pids=() k at
    for k in 1 2 3; do
        $GATHER_WRAP "$GATHER" get -q --redis "$url" --job "$JOB" -o "w$k" -c 6 --lease 2 \
            > "w$k.out" 2> "w$k.err" &
        pids+=("$!")
    done
    for at in 50 120 190; do
        await_res "$at"
        kill -USR1 "$proxy"
        sleep 0.2
        echo "# cut at $(res_count) of 300 done: $(tail -1 "$TMP/hostile.log")"
    done
    await_workers "${pids[@]}"
    assert_ge "$(cat cut.count)" 3 "connections reset"
    assert_eq "$(res_count)" 300 "entries of res"
    assert_eq "$(res_ok)" 300 "ok entries of res"
    hits_of 300 > hits.txt
    assert_eq "$(awk '$1 == 0' hits.txt | wc -l)" 0 "targets never asked for"
    assert_ge "$(files_ok w1 w2 w3)" 300 "whole files"
}

# The same list added twice adds nothing; a list with some new URLs adds only those.
test_adding_a_list_twice_adds_nothing() {
    server_start
    redis_start
    img_list 200 > list.txt
    enqueue list.txt
    assert_eq "$(rcli XLEN "$Q")" 200 "stream length"
    assert_eq "$(rcli HGET "$META" queued)" 200 "meta queued"
    enqueue list.txt
    assert_eq "$(rcli XLEN "$Q")" 200 "stream length after the same list again"
    assert_eq "$(rcli HGET "$META" queued)" 200 "meta queued after the same list again"
    img_list 250 | tail -100 > more.txt          # 50 already queued, 50 new
    enqueue more.txt
    assert_eq "$(rcli XLEN "$Q")" 250 "stream length after 50 new URLs"
    assert_eq "$(rcli HGET "$META" queued)" 250 "meta queued after 50 new URLs"
    assert_eq "$(server_stat requests)" 0 "requests"
    # the queued URLs are the list's, each once
    rcli XRANGE "$Q" - + | awk 'prev == "u" { print } { prev = $0 }' | sort > queued.txt
    img_list 250 | sort > want.txt
    cmp queued.txt want.txt || { diff queued.txt want.txt | head -5; return 1; }
}

# A job of one kind under a name cannot be worked on as the other.
test_a_crawl_job_is_not_a_get_job() {
    server_start
    redis_start
    gather crawl "$BASE/site/" -d 1 -q --redis "$REDIS_URL" --job "$JOB" --enqueue-only
    img_list 3 > list.txt
    local rc=0
    gather get -q -i list.txt --redis "$REDIS_URL" --job "$JOB" -o out 2> err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "crawl" err.txt || { echo "# no word of the crawl: $(cat err.txt)"; return 1; }
    assert_eq "$(server_stat requests)" 0 "requests"
}

# run_bad_redis URL: get and crawl against URL exit 2, say why on stderr, and fetch nothing.
run_bad_redis() {
    local url=$1 rc cmd
    for cmd in get-list get-worker crawl; do
        rc=0
        case $cmd in
            get-list) gather get -q -i list.txt --redis "$url" --job "$JOB" -o out 2> "err.$cmd" || rc=$? ;;
            get-worker) gather get -q --redis "$url" --job "$JOB" -o out 2> "err.$cmd" || rc=$? ;;
            crawl) gather crawl "$BASE/site/" -d 1 -q --redis "$url" --job "$JOB" -o out 2> "err.$cmd" || rc=$? ;;
        esac
        assert_eq "$rc" 2 "exit status of $cmd with $url"
        [ -s "err.$cmd" ] || { echo "# $cmd with $url said nothing"; return 1; }
        echo "# $cmd: $(head -1 "err.$cmd")"
    done
    assert_eq "$(server_stat requests)" 0 "requests"
}

test_wrong_password_exits_2() {
    server_start
    REDIS_PASS=right-one              # for redis_start's PING and rcli
    redis_start --requirepass right-one
    img_list 3 > list.txt
    run_bad_redis "redis://:wrong-one@127.0.0.1:$RPORT/0"
    grep -qiE 'pass|auth' err.get-list || { echo "# no word of the password: $(cat err.get-list)"; return 1; }
    run_bad_redis "redis://127.0.0.1:$RPORT/0"
    grep -qiE 'auth|pass' err.get-list || { echo "# no word of authentication: $(cat err.get-list)"; return 1; }
    # the right password works: the URLs are added
    gather get -q -i list.txt --redis "redis://:right-one@127.0.0.1:$RPORT/0" --job "$JOB" --enqueue-only
    assert_eq "$(rcli XLEN "$Q")" 3 "entries queued with the right password"
}

test_refused_port_exits_2() {
    server_start
    img_list 3 > list.txt
    local port
    # a port nobody listens on: bound, never listened to, closed
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run_bad_redis "redis://127.0.0.1:$port/0"
    grep -qiE 'refused|connect' err.get-list || { echo "# no word of the connection: $(cat err.get-list)"; return 1; }
}

# Redis out of memory (maxmemory, noeviction): the worker says so, takes no more work and exits
# 1; what it acknowledged before is kept.
test_redis_out_of_memory_stops_the_worker() {
    server_start
    redis_start --maxmemory 2mb --maxmemory-policy noeviction
    # 40,000 long URLs need far more than 2 MB of seen set and stream
    python3 -c '
import sys
for i in range(40000):
    print("http://127.0.0.1:%s/img/%d.jpg?pad=%s" % (sys.argv[1], i, "x" * 60))' "$PORT" > big.txt
    local rc=0
    gather get -q -i big.txt --redis "$REDIS_URL" --job "$JOB" -o out -c 4 --discard 2>err.txt || rc=$?
    assert_eq "$rc" 1 "exit status"
    grep -q 'Redis is out of memory' err.txt || { echo "# no word of Redis's memory: $(cat err.txt)"; return 1; }
    grep -q 'OOM' err.txt || { echo "# Redis's own message missing: $(cat err.txt)"; return 1; }
    # it stopped: far fewer requests than URLs reached the server
    assert_le "$(server_stat requests)" 1000 "requests after Redis filled up"
    assert_le "$(rcli HLEN "gather:{$JOB}:res")" "$(server_stat requests)" "results recorded"
}

run_tests "$@"
