#!/usr/bin/env bash
# Integration tests of `gather status`: a job's keys written by hand as DISTRIBUTED.md lays them
# out, and the numbers the table and --json show for them (waiting = stream length less pending,
# in flight = pending, workers within the job's lease, adders whose lease has not ended, the ten
# hosts with most URLs left); then each way of failing: no such job, a wrong or missing password,
# a database Redis does not have, a refused port, URLs that are not redis://, a server older than
# Redis 6.2 (tests/hostile/old_redis.py) (exit 2 each).
. "$(dirname "$0")/lib.sh"

# now_ms: Redis's clock, as status reads it.
now_ms() {
    local t
    t=$(rcli TIME)
    echo $(( $(sed -n 1p <<< "$t") * 1000 + $(sed -n 2p <<< "$t") / 1000 ))
}

# status_rc OUT ERR ARGS...: gather status ARGS with stdout in OUT, stderr in ERR; prints its exit.
status_rc() {
    local out=$1 err=$2 rc=0
    shift 2
    gather status "$@" > "$out" 2> "$err" || rc=$?
    echo "$rc"
}

# row FILE LABEL: the value of a row of the text table ("waiting    4" -> "4").
row() { sed -n "s/^$2  *//p" "$1" | head -1; }

# crawl_job NAME: a crawl at level 1 of depth 3 with a lease of 30 s. q:0 is gone (its level is
# done); q:1 has 5 entries of which worker host:1:a claimed 2; q:2 (the next level) has 1. Three
# workers: two seen within the lease, one 45 s ago. Two adders, one of them past its lease. 13
# origins in the backlog, one of them at 0.
crawl_job() {
    local j="gather:{$1}:" now i
    now=$(now_ms)
    rcli HSET "${j}meta" version 1 kind crawl level 1 depth 3 seeds 1 lease_ms 30000 \
        queued 9 done 4 failed 1 repeats 2 bytes 1234567 > /dev/null
    rcli XGROUP CREATE "${j}q:1" w 0 MKSTREAM > /dev/null
    for i in 1 2 3 4 5; do
        rcli XADD "${j}q:1" '*' u "http://a.test/$i" h http://a.test d 1 k p r 0 s 0 p http://a.test/ > /dev/null
    done
    rcli XREADGROUP GROUP w host:1:a COUNT 2 STREAMS "${j}q:1" '>' > /dev/null
    rcli XGROUP CREATE "${j}q:2" w 0 MKSTREAM > /dev/null
    rcli XADD "${j}q:2" '*' u http://b.test/x h http://b.test d 2 k a r 0 s 0 p http://a.test/1 > /dev/null
    rcli ZADD "${j}workers" $((now - 2000)) host:1:a $((now - 500)) host:2:b $((now - 45000)) host:3:c > /dev/null
    rcli ZADD "${j}producers" $((now + 30000)) host:1:a $((now - 1000)) host:9:gone > /dev/null
    for i in $(seq 1 12); do rcli HSET "${j}backlog" "http://h$i.test" "$i" > /dev/null; done
    rcli HSET "${j}backlog" http://zero.test 0 > /dev/null
}

test_json_numbers_of_a_crawl() {
    redis_start
    crawl_job j1
    assert_eq "$(status_rc s.json err.txt --redis "$REDIS_URL" --job j1 --json)" 0 "exit"
    assert_eq "$(wc -l < s.json)" 1 "one JSON object"
    assert_eq "$(jq -c '[.job, .kind, .level, .depth]' s.json)" '["j1","crawl",1,3]'
    assert_eq "$(jq -c '[.waiting, .in_flight]' s.json)" '[4,2]' "waiting, in flight"
    assert_eq "$(jq -c '[.queued, .done, .failed, .repeats, .bytes]' s.json)" '[9,4,1,2,1234567]'
    assert_eq "$(jq -c '[.workers[].name]' s.json)" '["host:2:b","host:1:a"]' "workers alive"
    assert_ge "$(jq '.workers[1].seen_ms_ago' s.json)" 2000
    assert_le "$(jq '.workers[1].seen_ms_ago' s.json)" 30000
    assert_eq "$(jq .producers s.json)" 1 "adders alive"
    assert_eq "$(jq -c '[.hosts[].backlog]' s.json)" '[12,11,10,9,8,7,6,5,4,3]' "top hosts"
    assert_eq "$(jq -r '.hosts[0].origin' s.json)" http://h12.test
    assert_eq "$(jq .finished s.json)" false
    assert_eq "$(wc -c < err.txt)" 0 "stderr"
}

test_text_table_of_a_crawl() {
    redis_start
    crawl_job j1
    assert_eq "$(status_rc s.txt err.txt --redis "$REDIS_URL" --job j1)" 0 "exit"
    cat s.txt
    assert_eq "$(row s.txt job)" j1
    assert_eq "$(row s.txt kind)" crawl
    assert_eq "$(row s.txt level)" 1
    assert_eq "$(row s.txt depth)" 3
    assert_eq "$(row s.txt state)" running
    assert_eq "$(row s.txt waiting)" 4
    assert_eq "$(row s.txt 'in flight')" 2
    assert_eq "$(row s.txt done)" 4
    assert_eq "$(row s.txt failed)" 1
    assert_eq "$(row s.txt repeats)" 2
    assert_eq "$(row s.txt bytes)" "1.2 MB"
    assert_eq "$(row s.txt workers)" "2 alive"
    grep -Eq '^ +host:2:b  seen [0-9.]+ s ago$' s.txt
    grep -Eq '^ +host:1:a  seen [0-9.]+ s ago$' s.txt
    ! grep -q host:3:c s.txt
    assert_eq "$(row s.txt adders)" "1 alive"
    assert_eq "$(row s.txt hosts)" "12 with URLs left"
    assert_eq "$(grep -Ec '^ +http://h[0-9]+\.test +[0-9]+$' s.txt)" 10 "host rows"
    grep -Eq '^ +http://h3\.test +3$' s.txt
    ! grep -Eq 'h2\.test|h1\.test|zero' s.txt
}

test_finished_get_job_and_default_lease() {
    local j='gather:{g}:' now
    redis_start
    now=$(now_ms)
    # a get job: no depth; every URL acknowledged (and deleted), nobody adding
    rcli HSET "${j}meta" version 1 kind get level 0 queued 3 done 3 failed 0 repeats 0 bytes 999 > /dev/null
    rcli XGROUP CREATE "${j}q:0" w 0 MKSTREAM > /dev/null
    # no lease_ms in meta: 60 s; a worker seen 45 s ago is alive, one 70 s ago is not
    rcli ZADD "${j}workers" $((now - 45000)) w:1 $((now - 70000)) w:2 > /dev/null
    assert_eq "$(status_rc s.json err.txt --redis "$REDIS_URL" --job g --json)" 0 "exit"
    assert_eq "$(jq -c '[.kind, .level, .depth, .waiting, .in_flight, .done, .bytes]' s.json)" \
        '["get",0,null,0,0,3,999]'
    assert_eq "$(jq -c '[.workers[].name]' s.json)" '["w:1"]'
    assert_eq "$(jq -c '[.producers, .hosts, .finished]' s.json)" '[0,[],true]'
    assert_eq "$(status_rc s.txt err.txt --redis "$REDIS_URL" --job g)" 0 "exit"
    assert_eq "$(row s.txt state)" finished
    assert_eq "$(row s.txt bytes)" "999 B"
    ! grep -Eq '^(level|depth) ' s.txt
    # an adder alive: not finished though nothing waits
    rcli ZADD "${j}producers" $((now + 60000)) p:1 > /dev/null
    assert_eq "$(status_rc s.json err.txt --redis "$REDIS_URL" --job g --json)" 0 "exit"
    assert_eq "$(jq -c '[.producers, .finished]' s.json)" '[1,false]'
}

test_unix_socket_and_its_database() {
    redis_start --unixsocket "$TMP/redis/sock" --unixsocketperm 700
    rcli -n 3 HSET 'gather:{u}:meta' kind get level 0 done 7 > /dev/null
    assert_eq "$(status_rc s.json err.txt --redis "unix://$TMP/redis/sock?db=3" --job u --json)" 0
    assert_eq "$(jq -c '[.kind, .done]' s.json)" '["get",7]'
    assert_eq "$(status_rc s.json err.txt --redis "unix://$TMP/redis/sock" --job u --json)" 2
    assert_eq "$(cat err.txt)" "gather status: no job u at unix://$TMP/redis/sock"
}

test_no_such_job_exits_2() {
    redis_start
    crawl_job j1
    assert_eq "$(status_rc s.txt err.txt --redis "$REDIS_URL" --job j2)" 2 "exit"
    assert_eq "$(cat err.txt)" "gather status: no job j2 at $REDIS_URL"
    assert_eq "$(wc -c < s.txt)" 0 "stdout"
    # the same job in another database is another job
    assert_eq "$(status_rc s.txt err.txt --redis "${REDIS_URL%/0}/1" --job j1)" 2 "exit"
    grep -q "no job j1 at redis://127.0.0.1:$RPORT/1" err.txt
}

test_password_wrong_missing_and_from_env() {
    REDIS_PASS=s3cret               # for rcli and redis_start's PING
    redis_start --requirepass s3cret
    crawl_job j1
    assert_eq "$(status_rc s.txt err.txt --redis "redis://:wrong@127.0.0.1:$RPORT/0" --job j1)" 2
    cat err.txt
    grep -q WRONGPASS err.txt
    grep -q "redis://:\*\*\*@127.0.0.1:$RPORT/0" err.txt
    ! grep -q wrong err.txt
    assert_eq "$(status_rc s.txt err.txt --redis "$REDIS_URL" --job j1)" 2
    grep -q NOAUTH err.txt
    # ACL users (AUTH USER PASSWORD; ann's password is not default's), and the password from
    # the environment
    assert_eq "$(status_rc s.json err.txt --redis "redis://default:s3cret@127.0.0.1:$RPORT/0" --job j1 --json)" 0
    assert_eq "$(jq .waiting s.json)" 4
    rcli ACL SETUSER ann on '>a%n@n' '~*' '+@all' > /dev/null
    assert_eq "$(status_rc s.json err.txt --redis "redis://ann:a%25n%40n@127.0.0.1:$RPORT/0" --job j1 --json)" 0
    assert_eq "$(jq .done s.json)" 4
    assert_eq "$(status_rc s.json err.txt --redis "redis://bob:a%25n%40n@127.0.0.1:$RPORT/0" --job j1 --json)" 2
    grep -q WRONGPASS err.txt
    assert_eq "$(GATHER_REDIS_PASSWORD=s3cret status_rc s.json err.txt --redis "$REDIS_URL" --job j1 --json)" 0
    assert_eq "$(jq .in_flight s.json)" 2
    assert_eq "$(GATHER_REDIS_PASSWORD=nope status_rc s.json err.txt --redis "$REDIS_URL" --job j1)" 2
    grep -q WRONGPASS err.txt
}

test_unreachable_or_bad_url_exits_2() {
    local port
    redis_start
    assert_eq "$(status_rc s.txt err.txt --redis "${REDIS_URL%/0}/99" --job j1)" 2 "db 99"
    grep -q "DB index is out of range" err.txt
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    assert_eq "$(status_rc s.txt err.txt --redis "redis://127.0.0.1:$port/0" --job j1)" 2 "refused"
    assert_eq "$(cat err.txt)" "gather status: redis://127.0.0.1:$port/0: Connection refused"
    assert_eq "$(status_rc s.txt err.txt --redis http://x --job j1)" 2 "http"
    grep -q "http://x: not a Redis URL" err.txt
    assert_eq "$(status_rc s.txt err.txt --redis rediss://u:pw@x --job j1)" 2 "rediss"
    grep -q "rediss://u:\*\*\*@x: rediss:// (TLS) is not supported" err.txt
    assert_eq "$(status_rc s.txt err.txt --redis "$REDIS_URL")" 2 "no --job"
    assert_eq "$(wc -c < s.txt)" 0 "stdout"
}

test_redis_older_than_6_2_is_refused() {
    hostile_start old_redis.py --version 5.0.7
    assert_eq "$(status_rc s.txt err.txt --redis "redis://:pw@127.0.0.1:$HPORT/2" --job j1)" 2
    assert_eq "$(cat err.txt)" \
        "gather status: redis://:***@127.0.0.1:$HPORT/2: Redis 5.0.7 is too old: 6.2 or newer is needed"
    server_stop
    # 6.2 passes the check (and the job is then looked for: the fake has no HGETALL)
    hostile_start old_redis.py --version 6.2.0
    assert_eq "$(status_rc s.txt err.txt --redis "redis://127.0.0.1:$HPORT/0" --job j1)" 2
    grep -q "ERR unknown command" err.txt
    ! grep -q "too old" err.txt
}

run_tests "$@"
