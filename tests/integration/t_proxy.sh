#!/usr/bin/env bash
# Integration tests of proxies with tinyproxy from Debian as a forward proxy on 127.0.0.1: --proxy
# and the environment's variables (which libcurl reads), --noproxy and NO_PROXY, CONNECT for
# https, and a dead or refusing proxy named as the proxy. What went through the proxy is read
# from tinyproxy's log; what reached the server from the fixture server's /stats or nginx's log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"
# The tests say which proxy is used; the machine's own settings must not leak in.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

# proxied: GET requests tinyproxy has forwarded so far.
proxied() { grep -c 'Request (file descriptor [0-9]*): GET http://' "$PROXY_LOG" || true; }

img_list() {
    local i
    for i in $(seq 1 "$1"); do echo "$BASE/img/$i.jpg"; done
}

test_proxy_option_environment_and_noproxy() {
    local i
    server_start
    tinyproxy_start "$TMP/proxy"
    PROXY="http://127.0.0.1:$PROXY_PORT"
    img_list 10 > list.txt
    gather get -q -i list.txt -o a --proxy "$PROXY"
    for i in $(seq 1 10); do expect_same a/$i.jpg /img/$i.jpg; done
    assert_eq "$(proxied)" 10 "requests through the proxy"
    for i in $(seq 1 10); do
        grep -q "GET $BASE/img/$i.jpg HTTP/1.1" "$PROXY_LOG"
    done
    assert_eq "$(server_stat requests)" 10 "requests the server saw"
    # the environment, as libcurl reads it (http_proxy for http://), in every mode
    http_proxy="$PROXY" gather get -q -i list.txt -o b
    http_proxy="$PROXY" gather get -q -i list.txt -o c --mode threads
    ALL_PROXY="$PROXY" gather get -q -i list.txt -o d --mode sync
    assert_eq "$(proxied)" 40 "requests through the proxy"
    # --noproxy and NO_PROXY go direct; --proxy '' turns the environment's proxy off
    gather get -q -i list.txt -o e --proxy "$PROXY" --noproxy 127.0.0.1
    http_proxy="$PROXY" NO_PROXY=localhost,127.0.0.0/8 gather get -q -i list.txt -o f
    http_proxy="$PROXY" gather get -q -i list.txt -o g --proxy ''
    http_proxy="$PROXY" gather get -q -i list.txt -o h --noproxy '*'
    assert_eq "$(proxied)" 40 "requests through the proxy"
    assert_eq "$(server_stat requests)" 80 "requests the server saw"
    for i in $(seq 1 10); do expect_same h/$i.jpg /img/$i.jpg; done
    # a crawl goes through it too, robots.txt first
    gather crawl -q "$BASE/site/" -d 0 -o crawl --proxy "$PROXY"
    grep -q "GET $BASE/robots.txt HTTP/1.1" "$PROXY_LOG"
    grep -q "GET $BASE/site/ HTTP/1.1" "$PROXY_LOG"
}

test_dead_proxy_is_named() {
    local rc=0 dead m
    server_start
    dead=$(free_port)              # nothing listens there: a dead proxy
    for m in async threads sync; do
        rc=0
        gather get -q -o out --retries 0 --mode $m --proxy "http://127.0.0.1:$dead" \
            "$BASE/img/1.jpg" 2>err.txt || rc=$?
        cat err.txt
        assert_eq "$rc" 1 "exit status ($m)"
        grep -q "^$BASE/img/1.jpg: cannot connect to proxy http://127.0.0.1:$dead: connection refused$" err.txt
    done
    # named the same when it comes from the environment, and with no scheme given
    rc=0
    https_proxy="127.0.0.1:$dead" gather get -q -o out --retries 0 \
        "https://127.0.0.1:$PORT/img/1.jpg" 2>err.txt || rc=$?
    assert_eq "$rc" 1 "exit status"
    grep -q "^https://127.0.0.1:$PORT/img/1.jpg: cannot connect to proxy http://127.0.0.1:$dead: connection refused$" err.txt
    # a URL the proxy is not for says what it always said
    rc=0
    gather get -q -o out --retries 0 --proxy "http://127.0.0.1:$dead" --noproxy 127.0.0.1 \
        "http://127.0.0.1:$dead/x" 2>err.txt || rc=$?
    grep -q "^http://127.0.0.1:$dead/x: connection refused$" err.txt
    assert_eq "$(server_stat requests)" 0 "requests the server saw"
    assert_absent out/1.jpg
}

test_https_through_the_proxy() {
    local rc=0
    nginx_https_file 5000
    tinyproxy_start "$TMP/proxy"
    gather get -q -o out --cacert "$TMP/ca/ca.pem" --proxy "http://127.0.0.1:$PROXY_PORT" \
        "https://127.0.0.1:$NGINX_PORT/f.bin"
    cmp out/f.bin "$TMP/nginx/www/f.bin"
    grep -q "CONNECT 127.0.0.1:$NGINX_PORT HTTP/1.1" "$PROXY_LOG"
    assert_eq "$(grep -c ' 200 /f.bin ' "$NGINX_LOG")" 1 "answers nginx gave"
    # a proxy that refuses the tunnel is named, with its answer, and not asked again
    server_stop
    tinyproxy_start "$TMP/proxy2" "ConnectPort 443"
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate $TMP/ca/server.pem;
        ssl_certificate_key $TMP/ca/server.key;
        root $TMP/nginx/www;
    }
    server { listen 127.0.0.1:@PORT2@; return 404; }"
    gather get -q -o out2 --cacert "$TMP/ca/ca.pem" --proxy "http://127.0.0.1:$PROXY_PORT" \
        "https://127.0.0.1:$NGINX_PORT/f.bin" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    grep -q "^https://127.0.0.1:$NGINX_PORT/f.bin: proxy http://127.0.0.1:$PROXY_PORT refused the tunnel: HTTP 403$" err.txt
    assert_eq "$(grep -c "CONNECT 127.0.0.1:$NGINX_PORT" "$PROXY_LOG")" 1 "CONNECTs asked (no retry)"
    assert_absent out2/f.bin
}

run_tests "$@"
