#!/usr/bin/env bash
# Integration tests of --warc-file and --warc-cdx, read back by a reader no one here wrote:
# warcio (webrecorder's JavaScript library, from npm) through tests/integration/warc_check.mjs,
# which recomputes every block and payload digest and checks the record pairs, revisits and the
# CDXJ offsets. What the fixture servers saw is the oracle for which exchanges must be there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"

HOSTILE="$ROOT/tests/hostile/gzip_server.py"


# assert_pairs_match_hits: for every target the fixture server answered (its own control routes
# aside), exactly as many request records and response-or-revisit records as it saw requests.
assert_pairs_match_hits() {
    local bad
    bad=$(jq -r --arg base "$BASE" --slurpfile c check.json '
        .hits | to_entries[] | select(.key != "/stats" and .key != "/reset") |
        ($c[0].by_uri[$base + .key] // {}) as $u |
        select(($u.request // 0) != .value or (($u.response // 0) + ($u.revisit // 0)) != .value) |
        "\(.key): server saw \(.value), WARC has \($u)"' < <(stats))
    [ -z "$bad" ] || { echo "# exchanges missing or extra:"; echo "$bad" | head -20 | sed 's/^/#   /'; return 1; }
    # and nothing the server did not see
    local n_srv n_warc
    n_srv=$(stats | jq '[.hits | to_entries[] | select(.key != "/stats" and .key != "/reset") | .value] | add')
    n_warc=$(jq '.types.request' check.json)
    assert_eq "$n_warc" "$n_srv" "request records vs requests the server saw"
}

# sha1_b32 FILE: "sha1:" and the base32 SHA-1 of FILE, as WARC digests are written.
sha1_b32() {
    python3 -c 'import base64,hashlib,sys; print("sha1:" + base64.b32encode(hashlib.sha1(open(sys.argv[1],"rb").read()).digest()).decode())' "$1"
}

# gzip_start: the gzip server (tests/hostile/gzip_server.py); sets HBASE.
gzip_start() {
    hostile_start gzip_server.py
}

test_get_archives_every_exchange_redirect_hops_and_a_revisit() {
    warcio_setup
    server_start
    # /img/5.png serves the bytes of /img/5.jpg: an identical payload, so a revisit record.
    printf '%s\n' "$BASE/img/5.jpg" "$BASE/redirect/2/7" "$BASE/status/404" "$BASE/img/8.jpg?size=3000000" > urls.txt
    gather get -q -o out -c 1 --retries 0 --warc-file arc --warc-cdx -i urls.txt || [ $? -eq 1 ]   # the 404 fails
    warc_check arc.warc.gz arc.cdx
    assert_pairs_match_hits
    assert_eq "$(jq -r '.order[0]' check.json)" warcinfo "first record"
    assert_eq "$(jq '.types.warcinfo' check.json)" 1
    jq -e '.warcinfo | test("software: gather/") and test("format: WARC File Format 1.1") and test("--warc-cdx")' check.json >/dev/null
    # every hop of the redirect chain is an exchange of its own, the 404 too
    for p in /redirect/2/7 /redirect/1/7 /redirect/0/7 /img/7.jpg /status/404 /img/5.jpg; do
        assert_eq "$(jq --arg u "$BASE$p" '.by_uri[$u].response' check.json)" 1 "$p"
    done
    assert_eq "$(jq --arg u "$BASE/redirect/1/7" '.responses[] | select(.uri == $u) | .status' check.json)" 302
    # a body over the in-memory cap (spooled) is whole: 3000000 payload bytes, digest of the bytes served
    "$FIXTURE" --emit '/img/8.jpg?size=3000000' > img8
    assert_eq "$(jq --arg u "$BASE/img/8.jpg?size=3000000" '.responses[] | select(.uri == $u) | .payload_len' check.json)" 3000000
    assert_eq "$(jq -r --arg u "$BASE/img/8.jpg?size=3000000" '.responses[] | select(.uri == $u) | .digest' check.json)" "$(sha1_b32 img8)"
    assert_eq "$(jq '.cdx' check.json)" "$(jq '.types.response' check.json)" "CDX lines"
    gather get -q -o out2 --warc-file more.warc.gz "$BASE/img/5.png"
    assert_absent more.warc.gz.warc.gz arc.warc.gz.warc.gz
    # the second run's payload is the first's: a file of its own, so a response again
    warc_check more.warc.gz
    assert_eq "$(jq '.types.response' check.json)" 1
    # within one file, an identical payload is a revisit
    printf '%s\n' "$BASE/img/5.jpg" "$BASE/img/5.png" "$BASE/img/5.gif" > dup.txt
    gather get -q -o out3 -c 1 --warc-file dup -i dup.txt
    warc_check dup.warc.gz
    assert_eq "$(jq '.types.response' check.json)" 1
    assert_eq "$(jq '.types.revisit' check.json)" 2
    assert_eq "$(jq -r '[.revisits[].refers_to] | unique | .[]' check.json)" "$BASE/img/5.jpg"
}

test_crawl_archives_robots_redirects_and_every_page() {
    warcio_setup
    server_start
    gather crawl -q -o site -d 3 --warc-file crawl --warc-cdx "$BASE/site/"
    warc_check crawl.warc.gz crawl.cdx
    assert_eq "$(jq --arg u "$BASE/robots.txt" '.by_uri[$u].response' check.json)" 1 "robots.txt"
    # the site has a redirect: its 3xx is archived as well as its target
    jq -e '[.responses[] | select(.status >= 300 and .status < 400)] | length >= 1' check.json >/dev/null
    assert_pairs_match_hits
}

test_crawl_stores_a_gzip_body_as_it_came() {
    warcio_setup
    gzip_start
    gather crawl -q -o g -d 1 --warc-file g "$HBASE/page?n=2&target=/enc/64K"
    warc_check g.warc.gz
    python3 "$HOSTILE" --emit-encoded /enc/64K > enc64
    # the response holds the gzip stream the server sent (not what gather decoded and saved),
    # and its payload digest is that stream's; the second copy is a revisit of the first
    assert_eq "$(jq -r '[.responses[] | select(.encoding == "gzip")] | length' check.json)" 1
    assert_eq "$(jq -r '.responses[] | select(.encoding == "gzip") | .payload_len' check.json)" "$(stat -c %s enc64)"
    assert_eq "$(jq -r '.responses[] | select(.encoding == "gzip") | .digest' check.json)" "$(sha1_b32 enc64)"
    assert_eq "$(jq '.types.revisit' check.json)" 1
    assert_eq "$(jq --arg u "$HBASE/robots.txt" '.by_uri[$u].response' check.json)" 1 "robots.txt"
}

# SIGINT while bodies trickle in: gather finishes every record it started and the file is read
# back whole (a cut transfer's record says WARC-Truncated).
test_interrupted_job_leaves_a_readable_warc() {
    warcio_setup
    server_start
    for i in 1 2 3 4; do echo "$BASE/img/$i.jpg"; done > urls.txt
    for i in 1 2 3 4; do echo "$BASE/slow/$i?size=100000"; done >> urls.txt
    local rc=0
    timeout --preserve-status --foreground -s INT 2 "$GATHER" get -q -o out -c 8 --warc-file cut -i urls.txt || rc=$?
    assert_eq "$rc" 130 "exit status after SIGINT"
    warc_check cut.warc.gz
    assert_ge "$(jq '.types.response' check.json)" 4 "responses before the interrupt"
    jq -e '[.responses[] | select(.truncated != null)] | length >= 1' check.json >/dev/null
    # no temporary spool file is left beside the WARC
    assert_eq "$(find . -maxdepth 1 -name '.gather-warc-*' | wc -l)" 0
}

# A 256 MiB body goes through the spool file: the peak RSS stays small and the record is whole.
test_big_body_in_bounded_memory() {
    warcio_setup
    server_start
    /usr/bin/time -v -o time.txt "$GATHER" get -q -o out --warc-file big "$BASE/big/256"
    if [ "${SAN:-}" != 1 ]; then
        assert_le "$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)" 65536 "KB peak RSS"
    fi
    warc_check big.warc.gz
    assert_eq "$(jq '.responses[0].payload_len' check.json)" 268435456
    assert_eq "$(jq -r '.responses[0].digest' check.json)" "$(sha1_b32 out/256)"
}

# https with HTTP/2 (nginx) through a proxy (tinyproxy): the archive holds the exchange with the
# server as curl presents it (an "HTTP/2 200" status line), not the proxy's CONNECT.
test_https_http2_through_a_proxy() {
    warcio_setup
    unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
    nginx_https_file 3000000
    tinyproxy_start "$TMP/proxy"
    gather get -q -o out --cacert "$TMP/ca/ca.pem" --proxy "http://127.0.0.1:$PROXY_PORT" \
        --warc-file tls "https://127.0.0.1:$NGINX_PORT/f.bin"
    grep -q "CONNECT 127.0.0.1:$NGINX_PORT HTTP/1.1" "$PROXY_LOG"
    warc_check tls.warc.gz
    assert_eq "$(jq -c '.types' check.json)" '{"warcinfo":1,"request":1,"response":1}'
    assert_eq "$(jq -r '.responses[0].uri' check.json)" "https://127.0.0.1:$NGINX_PORT/f.bin"
    assert_eq "$(jq -r '.responses[0].digest' check.json)" "$(sha1_b32 "$TMP/nginx/www/f.bin")"
    zcat tls.warc.gz | grep -a -q '^HTTP/2 200'
    zcat tls.warc.gz | grep -a -q '^GET /f.bin HTTP/2'
    if zcat tls.warc.gz | grep -a -q 'CONNECT 127'; then echo "# the CONNECT is in the archive"; return 1; fi
}

# A password in a URL is sent (the request record has the Authorization header as it went out)
# but is no part of the archived resource's name.
test_url_password_is_not_in_the_target_uri() {
    warcio_setup
    server_start
    gather get -q -o out --warc-file pw "http://ann:s3cret-Pw@127.0.0.1:$PORT/img/1.jpg"
    warc_check pw.warc.gz
    assert_eq "$(jq -r '.responses[0].uri' check.json)" "$BASE/img/1.jpg"
    if zcat pw.warc.gz | grep -aq 's3cret-Pw'; then echo "# the password is in the WARC"; return 1; fi
    zcat pw.warc.gz | grep -aq "^Authorization: Basic $(printf 'ann:s3cret-Pw' | base64)"
}

test_warc_options_are_checked() {
    local rc=0
    gather get --warc-cdx http://127.0.0.1:1/x 2>err || rc=$?
    assert_eq "$rc" 2
    grep -q -- "--warc-cdx needs --warc-file" err
    rc=0
    gather get --mode threads --warc-file x http://127.0.0.1:1/x 2>err || rc=$?
    assert_eq "$rc" 2
    gather get --help | grep -q -- "--warc-file NAME"
    gather crawl --help | grep -q -- "--warc-cdx"
}

run_tests "$@"
