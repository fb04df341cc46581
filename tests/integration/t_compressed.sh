#!/usr/bin/env bash
# Integration tests of compressed bodies against a hostile server (tests/hostile/gzip_server.py):
# `get` asks for identity and stores bytes as sent, so Range offsets are exact even when the
# server gzips anyway; crawled pages come compressed and are decoded with memory bounded by
# concurrency whatever the ratio; --max-filesize and --max-page-size count decoded bytes.
. "$(dirname "$0")/lib.sh"

HOSTILE="$ROOT/tests/hostile/gzip_server.py"

# hostile_start: the gzip server on 127.0.0.1:ephemeral; sets HBASE. server_stop stops it.
hostile_start() {
    local pf="$TMP/hostile.port"
    python3 "$HOSTILE" --port-file "$pf" 2>"$TMP/hostile.log" &
    SERVER_PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
    [ -s "$pf" ] || { echo "# gzip server did not start"; cat "$TMP/hostile.log"; return 1; }
    HBASE="http://127.0.0.1:$(cat "$pf")"
}

server_reset_hostile() { curl -s -m 10 "$HBASE/reset" >/dev/null; }

# requests [JQ-FILTER]: what the server saw, one compact JSON object per request.
requests() { curl -s -m 10 "$HBASE/stats" | jq -r ".requests[] | ${1:-.}"; }

# same_as_served FILE PATH [--emit-encoded]: FILE holds the decoded body of PATH (or the
# gzip stream the server sends for it).
same_as_served() {
    if ! python3 "$HOSTILE" "${3:---emit}" "$2" | cmp -s - "$1"; then
        echo "# $1 differs from ${3:---emit} $2"
        return 1
    fi
}

# peak_rss_kb FILE: "Maximum resident set size" from /usr/bin/time -v output in FILE.
peak_rss_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

# assert_rss_under FILE KB WHAT: the peak RSS in FILE is at most KB. Not under ASan, whose
# shadow memory and quarantine (256 MB of freed blocks) say nothing about gather's own.
assert_rss_under() {
    if [ "${SAN:-}" = 1 ]; then
        echo "# skip: peak RSS bound under ASan ($(peak_rss_kb "$1") KB: $3)"
        return 0
    fi
    assert_le "$(peak_rss_kb "$1")" "$2" "KB peak RSS: $3"
}

# ---- item 2: resuming ------------------------------------------------------------------------

# A cut body is resumed with Range over the bytes stored: the identity body when the server
# honours Accept-Encoding: identity, the gzip stream itself when it ignores it.
test_get_resumes_a_cut_body_over_the_bytes_it_stored() {
    hostile_start
    gather get -q -o plain --retries 2 --retry-delay 10 "$HBASE/enc/16M?cut=100000&cuts=1"
    same_as_served plain/16M /enc/16M
    gather get -q -o gz --retries 2 --retry-delay 10 "$HBASE/enc/16M?cut=100000&cuts=1&mode=always"
    same_as_served gz/16M /enc/16M --emit-encoded
    no_partial plain
    no_partial gz
    assert_eq "$(requests '.accept_encoding' | sort -u)" identity
    assert_eq "$(requests 'select(.path | endswith("cuts=1")) | [.status, .range, .if_range] | @tsv')" \
        "$(printf '200\t\t\n206\tbytes=100000-\t"enc-16777216"')"
    assert_eq "$(requests 'select(.path | endswith("always")) | [.status, .range, .if_range] | @tsv')" \
        "$(printf '200\t\t\n206\tbytes=100000-\t"enc-16777216-gz"')"
    # the blocking modes ask for identity too
    gather get -q -o sync --mode sync "$HBASE/enc/1K"
    gather get -q -o threads --mode threads "$HBASE/enc/2K"
    assert_eq "$(requests 'select(.path | test("/enc/[12]K")) | .accept_encoding' | sort -u)" identity
}

# The issue's loop: an interrupted gzip'd download, re-run. It must finish in one re-run, with
# one Range request at the offset of the bytes in NAME.part, and a third run fetches nothing.
test_interrupted_encoded_download_completes_in_one_rerun() {
    local rc=0 pid part
    hostile_start
    local url="$HBASE/enc/16M?stall=300000&cuts=1&mode=always"
    # timeout --foreground: the watchdog passes our SIGINT on to gather alone
    timeout --foreground -s KILL 60 $GATHER_WRAP "$GATHER" get -q -o out --retries 0 "$url" & pid=$!
    # the server has sent its 300000 bytes and stalls; the writer has put some on disk
    for _ in $(seq 1 200); do
        [ "$(requests '.sent')" = 300000 ] && [ -s out/16M.part ] && break
        sleep 0.05
    done
    assert_eq "$(requests '.sent')" 300000 "bytes sent before the stall"
    kill -INT $pid
    wait $pid || rc=$?
    assert_eq "$rc" 130
    part=$(stat -c %s out/16M.part)
    assert_le "$part" 300000 "bytes kept in the .part"
    gather get -q -o out --retries 0 "$url"
    same_as_served out/16M /enc/16M --emit-encoded
    no_partial out
    gather get -o out --retries 0 "$url" 2>err.txt      # no -q: the summary says it
    grep -q "1 already there" err.txt
    assert_eq "$(requests '[.status, .range] | @tsv')" "$(printf '200\t\n206\tbytes=%s-' "$part")"
}

# Failure messages count one kind of bytes: those on the wire, like Content-Length.
test_messages_do_not_mix_decoded_and_encoded_counts() {
    local rc=0 len
    hostile_start
    len=$(python3 "$HOSTILE" --emit-encoded /enc/16M | wc -c)
    gather get -q -o out --retries 0 "$HBASE/enc/16M?cut=100000&mode=always" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q "cut=100000&mode=always: connection closed after 100000 of $len bytes$" err.txt
    # a crawled page is decoded, and its message still counts the bytes received
    rc=0
    gather crawl -q -o crawl --no-robots --retries 0 -d 0 "$HBASE/enc/16M?cut=100000&mode=always" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q "cut=100000&mode=always: connection closed after 100000 of $len bytes$" err.txt
    # a body that is not the gzip it claims to be fails as such (get stores it as sent)
    rc=0
    gather crawl -q -o crawl2 --no-robots --retries 0 -d 0 "$HBASE/enc/64K?mode=lie" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q "mode=lie: corrupt gzip body: incorrect header check$" err.txt
    gather get -q -o get "$HBASE/enc/64K?mode=lie"
    same_as_served get/64K /enc/64K
}

# ---- item 3: memory, bombs and caps ---------------------------------------------------------

# Before, libcurl decoded a whole network read while the writer had paused the transfer and
# kept it all: at 322:1 about 41 MB per transfer (8 of them: 445 MB), at 579:1 "Out of memory".
# Now 8 such bodies decode in parallel under a bound that depends on -c alone.
test_compressible_bodies_keep_memory_bounded_by_concurrency() {
    local r
    hostile_start
    for r in 322 579; do
        /usr/bin/time -v "$GATHER" crawl -q -o "c$r" --no-robots -d 1 -c 8 --per-host 8 --save all \
            "$HBASE/page?n=8&target=/ratio/$r/32M" 2>"time$r.txt"
        echo "# crawl, 8 x 32 MiB at $r:1, -c 8: peak RSS $(peak_rss_kb "time$r.txt") KB"
        assert_rss_under "time$r.txt" $((64 * 1024)) "crawl at $r:1"
        assert_eq "$(find "c$r" -type f -size 32M | wc -l)" 8
        for f in $(find "c$r" -type f -size 32M); do
            same_as_served "$f" "/ratio/$r/32M"
        done
        # the server really sent them compressed, because the crawl asked for it
        assert_eq "$(requests "select(.path | startswith(\"/ratio/$r/\")) | [.accept_encoding, .encoded] | @tsv" | sort -u)" \
            "$(printf 'gzip, deflate\ttrue')"
    done
    # get stores what the server sends: the gzip stream of a server that ignores identity
    for i in $(seq 0 7); do echo "$HBASE/ratio/579/256M?i=$i&mode=always"; done > list.txt
    /usr/bin/time -v "$GATHER" get -q -o get -c 8 -i list.txt 2>time-get.txt
    assert_rss_under time-get.txt $((64 * 1024)) "get"
    python3 "$HOSTILE" --emit-encoded /ratio/579/256M > expected.gz
    for f in get/*; do cmp -s expected.gz "$f" || { echo "# $f is not the stream sent"; return 1; }; done
    assert_eq "$(count_final get)" 8
}

# A legitimately compressible file (a disk image of zeros) still downloads, whole and exact:
# as sent to get (identity), decoded by the crawl.
test_a_compressible_file_downloads_whole() {
    local len
    hostile_start
    gather get -q -o get "$HBASE/bomb/64M"
    same_as_served get/64M /bomb/64M
    gather crawl -q -o crawl --no-robots -d 1 --save all --har crawl.har "$HBASE/page?n=1&target=/bomb/64M"
    same_as_served "$(find crawl -type f -size 64M)" /bomb/64M
    # HAR: the bytes received, the bytes decoded, and what compression saved
    len=$(python3 "$HOSTILE" --emit-encoded /bomb/64M | wc -c)
    assert_eq "$(jq -r '.log.entries[] | select(.request.url | endswith("/bomb/64M?i=0")) | .response |
                        [.bodySize, .content.size, .content.compression] | @tsv' crawl.har)" \
        "$(printf '%s\t%s\t%s' "$len" 67108864 $((67108864 - len)))"
    assert_eq "$(requests 'select(.path | startswith("/bomb/")) | [.accept_encoding, .encoded] | @tsv')" \
        "$(printf 'identity\tfalse\ngzip, deflate\ttrue')"
}

# 10 MB that decode to 10 GiB. get stores it as sent (and --max-filesize caps those bytes,
# --discard too); a crawled page is decoded, and both caps stop it on decoded bytes.
test_gzip_bomb_is_stopped_by_the_caps() {
    local rc=0 d
    hostile_start
    gather get -q -o small --retries 0 --max-filesize 1M "$HBASE/bomb/10G?mode=always" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q "bomb/10G?mode=always: larger than the size limit" err.txt
    assert_eq "$(count_files small)" 0
    rc=0
    gather get -q --discard --json --retries 0 --max-filesize 1M "$HBASE/bomb/10G?mode=always" \
        >discard.json 2>err.txt || rc=$?
    assert_eq "$rc" 1 "--discard past --max-filesize is a failure"
    assert_eq "$(jq -r 'select(.url) | .ok' discard.json)" false
    # stored as sent: the whole gzip stream, byte for byte
    gather get -q -o whole "$HBASE/bomb/2G?mode=always"
    same_as_served whole/2G /bomb/2G --emit-encoded
    # a page: parsed (-d 1), or only visited (-d 0), up to --max-page-size; then it stops
    for d in 1 0; do
        server_reset_hostile
        /usr/bin/time -v "$GATHER" crawl -q --json -o "page$d" --no-robots -d $d --save none \
            --max-page-size 1048576 "$HBASE/bomb/10G?type=text/html" >page.json 2>time.txt
        assert_eq "$(jq -r 'select(.url) | [.ok, .parsed] | @tsv' page.json)" \
            "$(printf 'true\ttruncated at --max-page-size')" "-d $d"
        assert_rss_under time.txt $((64 * 1024)) "bomb page, -d $d"
        assert_eq "$(requests 'select(.path == "/bomb/10G?type=text/html") | .broken')" true
    done
    # a page to save: --max-filesize counts the decoded bytes (the 10 MB sent are under it).
    # The cap is reached on bytes libcurl offers again after a pause; it used to leave the
    # transfer paused until an unrelated timer (here the 600 s connect timeout): the watchdog
    # turns such a hang into a failure.
    rc=0
    timeout -s KILL 60 $GATHER_WRAP "$GATHER" crawl -q -o saved --no-robots -d 0 --save all \
        --retries 0 --connect-timeout 600 --max-filesize 20M "$HBASE/bomb/10G?type=text/html" 2>err.txt || rc=$?
    assert_eq "$rc" 1
    grep -q "bomb/10G?type=text/html: larger than the size limit (20971520 bytes once decoded)$" err.txt
    assert_eq "$(count_files saved)" 0
}

# The same hostile server with few descriptors: eight compressible pages decoded at -c 8 and a
# capped bomb, under `ulimit -n 256`; memory stays bounded and every page is read whole.
test_compressed_bodies_under_ulimit_256() {
    local rc=0
    hostile_start
    ( ulimit -n 256
      /usr/bin/time -v "$GATHER" crawl -q --json -o crawl --no-robots -d 1 -c 8 --per-host 8 \
          --save all "$HBASE/page?n=8&target=/ratio/322/16M" >crawl.json 2>time.txt ) || rc=$?
    assert_eq "$rc" 0 "crawl under ulimit -n 256"
    assert_eq "$(jq -r 'select(.url and .ok) | .url' crawl.json | grep -c '/ratio/322/16M?i=')" 8 "pages read"
    assert_rss_under time.txt $((64 * 1024)) "8 pages at 322:1 under ulimit -n 256"
    assert_eq "$(requests 'select(.path | startswith("/ratio/322/")) | [.accept_encoding, .encoded] | @tsv' | sort -u)" \
        "$(printf 'gzip, deflate\ttrue')" "decoded by gather, not sent as identity"
    rc=0
    ( ulimit -n 256
      "$GATHER" get -q -o small --retries 0 --max-filesize 1M "$HBASE/bomb/10G?mode=always" 2>err.txt ) || rc=$?
    assert_eq "$rc" 1 "the bomb under ulimit -n 256"
    grep -q "bomb/10G?mode=always: larger than the size limit" err.txt
    assert_eq "$(count_files small)" 0
}

run_tests "$@"
