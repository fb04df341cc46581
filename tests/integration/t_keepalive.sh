#!/usr/bin/env bash
# Integration tests against a server that drops idle keep-alive connections without saying so
# (tests/hostile/keepalive_drop.py): a request sent on such a connection is curl's to re-send on
# a fresh one, so no URL may fail for it, even with --retries 0.
. "$(dirname "$0")/lib.sh"

N=2400

# ka_list FILE: the N URLs of the hostile server.
ka_list() { seq 1 $N | sed "s|^|$HBASE/f/|" > "$1"; }

# ka_expected DIR: the N bodies the server answers, under the names gather gives them.
ka_expected() {
    mkdir -p "$1"
    python3 - "$ROOT/tests/hostile" "$1" $N <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from keepalive_drop import body
for i in range(1, int(sys.argv[3]) + 1):
    with open("%s/%d" % (sys.argv[2], i), "wb") as f:
        f.write(body("/f/%d" % i, 2048))
EOF
}

hstats() { curl -s -m 10 "$HBASE/stats"; }

# ka_run OUT [gather options]: fetches the list into OUT with --retries 0; every URL must be
# saved, byte for byte, and the server must have dropped connections under the client meanwhile.
ka_run() {
    local out=$1 before after drops rc=0
    shift
    before=$(hstats | jq '.idle_closes + .response_closes')
    gather get -q -i list.txt -o "$out" --retries 0 "$@" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 0 "exit status"
    if grep -q "select/poll\|reset" err.txt; then echo "# a dropped connection failed a URL"; return 1; fi
    diff -r --exclude='.gather.db*' expected "$out"
    after=$(hstats | jq '.idle_closes + .response_closes')
    drops=$((after - before))
    # The client must have met the hostile behaviour often for the run to prove anything.
    echo "# $* : the server dropped $drops connections"
    assert_ge "$drops" 50 "connections the server dropped during the run"
}

test_dropped_keepalive_connections_fail_nothing_in_any_mode() {
    hostile_start keepalive_drop.py
    ka_list list.txt
    ka_expected expected
    ka_run out-async -c 50
    # every URL was answered (a re-sent request is answered once more, on its fresh connection)
    assert_eq "$(hstats | jq '.by_path | length')" $N "paths answered"
    assert_ge "$(hstats | jq .requests)" $N
    assert_ge "$(hstats | jq .connections)" 100 "connections opened: the dropped ones were replaced"
    ka_run out-threads -c 50 --mode threads
    ka_run out-sync --mode sync
}

test_dropped_keepalive_connections_under_ulimit_256() {
    hostile_start keepalive_drop.py
    ka_list list.txt
    ka_expected expected
    (
        ulimit -n 256
        ka_run out -c 50
    )
    assert_le "$(hstats | jq .max_inflight)" 50
}

run_tests "$@"
