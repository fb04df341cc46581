#!/usr/bin/env bash
# Integration tests of robots.txt in `gather crawl` (RFC 9309), each checked from the server's
# side: one robots.txt per origin (http and https on one port are two), a re-read when the copy
# is older than its time to live, the product token (--robots-agent), and a line cut by the
# 500 KiB limit. tests/hostile/robots_schemes.py serves both schemes on one port and logs
# "SCHEME PATH" per request; the fixture server counts the rest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

# schemes_start [robots_schemes.py args]: the two-scheme server with a private CA in $TMP/ca;
# sets HPORT, HBASE and SLOG (its request log).
schemes_start() {
    tls_make_ca "$TMP/ca"
    SLOG="$TMP/schemes.log"
    : > "$SLOG"
    hostile_start robots_schemes.py --cert "$TMP/ca/server.pem" --key "$TMP/ca/server.key" \
        --log "$SLOG" "$@"
}

# seen SCHEME PATH: how many times the two-scheme server was asked for PATH over SCHEME.
seen() { grep -cx "$1 $2" "$SLOG" || true; }

test_http_and_https_on_one_port_have_their_own_robots_txt() {
    printf 'User-agent: *\nDisallow: /private\n' > http-robots.txt
    printf 'User-agent: *\nDisallow: /\n' > https-robots.txt
    schemes_start --http-robots http-robots.txt --https-robots https-robots.txt
    gather crawl -q -o out -d 0 --cacert "$TMP/ca/ca.pem" \
        "http://127.0.0.1:$HPORT/page" "https://127.0.0.1:$HPORT/page" || true
    cat "$SLOG"
    assert_eq "$(seen http /robots.txt)" 1 "robots.txt over http"
    assert_eq "$(seen https /robots.txt)" 1 "robots.txt over https"
    assert_eq "$(seen http /page)" 1 "/page over http (its robots.txt allows it)"
    assert_eq "$(seen https /page)" 0 "/page over https (its robots.txt disallows all)"
}

test_robots_txt_is_read_again_when_older_than_its_ttl() {
    # 32 pages one at a time, 60 ms apart: about 2 s of crawl, so a 400 ms time to live (the
    # test knob for RFC 9309's 24 hours) runs out a few times.
    server_start
    GATHER_ROBOTS_TTL_MS=400 gather crawl "$BASE/site/" -d 9 -o out -q --save none \
        --per-host 1 --delay 60 || true
    curl -sf -m 10 "$BASE/log" | awk '{print $2}' > log
    n=$(grep -cx /robots.txt log || true)
    assert_ge "$n" 3 "robots.txt reads in a 2 s crawl with a 400 ms time to live"
    assert_eq "$(head -1 log)" /robots.txt "the first request"
    assert_eq "$(grep -c '^/site/private/' log || true)" 0 "disallowed pages fetched"
    # without the knob: 24 hours, one read
    server_reset
    gather crawl "$BASE/site/" -d 9 -o out2 -q --save none --per-host 1 --delay 60 || true
    assert_eq "$(curl -sf -m 10 "$BASE/log" | awk '{print $2}' | grep -cx /robots.txt)" 1 \
        "robots.txt reads with the default time to live"
}

test_an_unreachable_robots_txt_on_a_re_read_keeps_the_copy_read_before() {
    # RFC 9309 2.4: a copy older than its time to live is not used "unless the robots.txt file
    # is unreachable". The server answers robots.txt once, then 503s; a chain of ten pages, one
    # level each, 100 ms apart, outlives a 300 ms time to live.
    printf 'User-agent: *\nDisallow: /private\n' > robots.txt
    schemes_start --http-robots robots.txt --robots-fail-after 1
    GATHER_ROBOTS_TTL_MS=300 gather crawl -q -o out -d 9 --per-host 1 --delay 100 \
        "http://127.0.0.1:$HPORT/p1" || true
    cat "$SLOG"
    assert_ge "$(seen http /robots.txt)" 2 "robots.txt reads"
    assert_eq "$(grep -c '^http /p[0-9]*$' "$SLOG")" 10 "pages fetched (the old copy allows them)"
    assert_eq "$(seen http /private)" 0 "/private (the old copy disallows it)"
}

test_robots_agent_names_the_product_token() {
    printf 'User-agent: gather\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n' > robots.txt
    schemes_start --http-robots robots.txt
    ua='Mozilla/5.0 (compatible; gather/0.1)'
    # the User-Agent's product token is "Mozilla": the "*" group applies
    gather crawl -q -o a -d 0 --user-agent "$ua" "http://127.0.0.1:$HPORT/page" || true
    assert_eq "$(seen http /page)" 1 "/page as Mozilla"
    # --robots-agent gather: the gather group, which disallows everything
    gather crawl -q -o b -d 0 --user-agent "$ua" --robots-agent gather \
        "http://127.0.0.1:$HPORT/page" || true
    assert_eq "$(seen http /page)" 1 "/page as gather (not fetched again)"
    assert_eq "$(seen http /robots.txt)" 2 "robots.txt reads"
    # a token RFC 9309 does not allow is a usage error
    rc=0
    gather crawl -q -o c --robots-agent 'gather/0.1' "http://127.0.0.1:$HPORT/page" 2>err || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "not a product token" err
}

test_a_line_cut_by_the_500_kib_limit_is_not_a_rule() {
    # "Allow: /abcdef" straddles byte 512000: cut to "Allow: /a" it would open /apple.
    python3 -c '
import sys
head = b"User-agent: *\nDisallow: /\n"
pad = 512000 - 9 - len(head)
sys.stdout.buffer.write(head + b"\n" * pad + b"Allow: /abcdef\n" + b"# more\n" * 20000)
' > robots.txt
    assert_ge "$(stat -c %s robots.txt)" 600000 "robots.txt size"
    schemes_start --http-robots robots.txt
    gather crawl -q -o out -d 0 "http://127.0.0.1:$HPORT/apple" "http://127.0.0.1:$HPORT/abcdef" || true
    assert_eq "$(seen http /robots.txt)" 1 "robots.txt reads"
    assert_eq "$(seen http /apple)" 0 "/apple (only a cut 'Allow: /a' would open it)"
    assert_eq "$(seen http /abcdef)" 0 "/abcdef (its Allow line lies past the limit)"
}

run_tests
