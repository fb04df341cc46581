#!/usr/bin/env bash
# Integration tests of TLS against nginx from Debian with a private CA made here by openssl:
# --cacert, --capath and the variables curl's tool reads (CURL_CA_BUNDLE, SSL_CERT_FILE,
# SSL_CERT_DIR), client certificates (--cert, --key) against ssl_verify_client, and HTTP/2
# multiplexing, each checked from nginx's access log (connection serial number, protocol,
# status, client verification).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"
# The tests say which CA gather trusts; the machine's own choice must not leak in.
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

# tls_site N: the CA in ca/, N files www/f1.bin..fN.bin of 1000 + i bytes, and nginx serving them
# over TLS on NGINX_PORT (HTTP/2 and HTTP/1.1) and, requiring a client certificate signed by
# the CA, on NGINX_PORT2.
tls_site() {
    local i
    tls_make_ca "$TMP/ca"
    mkdir -p "$TMP/nginx/www"
    for i in $(seq 1 "$1"); do head -c $((1000 + i)) /dev/urandom > "$TMP/nginx/www/f$i.bin"; done
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@ ssl http2;
        ssl_certificate $TMP/ca/server.pem;
        ssl_certificate_key $TMP/ca/server.key;
        root $TMP/nginx/www;
    }
    server {
        listen 127.0.0.1:@PORT2@ ssl http2;
        ssl_certificate $TMP/ca/server.pem;
        ssl_certificate_key $TMP/ca/server.key;
        ssl_client_certificate $TMP/ca/ca.pem;
        ssl_verify_client on;
        root $TMP/nginx/www;
    }"
    NBASE="https://127.0.0.1:$NGINX_PORT"
    NBASE2="https://127.0.0.1:$NGINX_PORT2"
}

# log_lines: requests nginx has logged so far.
log_lines() { wc -l < "$NGINX_LOG"; }

test_private_ca_refused_without_cacert() {
    local rc=0
    tls_site 2
    gather get -q -o out --retries 0 "$NBASE/f1.bin" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    grep -q "^$NBASE/f1.bin: TLS error: the server's certificate is not trusted: .*--cacert FILE" err.txt
    assert_absent out/f1.bin out/f1.bin.part
    assert_eq "$(log_lines)" 0 "requests nginx saw (the handshake failed first)"
    # a CA that did not sign the server's certificate is refused too
    rc=0
    gather get -q -o out --retries 0 --cacert "$TMP/ca/other-ca.pem" "$NBASE/f1.bin" 2>err.txt || rc=$?
    assert_eq "$rc" 1 "exit status with another CA"
    grep -q "not trusted" err.txt
    assert_eq "$(log_lines)" 0 "requests nginx saw"
}

test_cacert_capath_and_environment() {
    local rc=0 how
    tls_site 2
    gather get -q -o a --cacert "$TMP/ca/ca.pem" "$NBASE/f1.bin"
    cmp a/f1.bin "$TMP/nginx/www/f1.bin"
    gather get -q -o b --capath "$TMP/ca/capath" "$NBASE/f1.bin"
    cmp b/f1.bin "$TMP/nginx/www/f1.bin"
    CURL_CA_BUNDLE="$TMP/ca/ca.pem" gather get -q -o c "$NBASE/f1.bin"
    cmp c/f1.bin "$TMP/nginx/www/f1.bin"
    SSL_CERT_FILE="$TMP/ca/ca.pem" gather get -q -o d "$NBASE/f1.bin"
    cmp d/f1.bin "$TMP/nginx/www/f1.bin"
    SSL_CERT_DIR="$TMP/ca/capath" gather get -q -o e "$NBASE/f1.bin"
    cmp e/f1.bin "$TMP/nginx/www/f1.bin"
    # the option wins over the environment, as with curl
    CURL_CA_BUNDLE="$TMP/ca/other-ca.pem" gather get -q -o f --cacert "$TMP/ca/ca.pem" "$NBASE/f1.bin"
    cmp f/f1.bin "$TMP/nginx/www/f1.bin"
    # the blocking modes set up their handles the same way
    for how in "get --mode threads" "get --mode sync"; do
        rm -rf g
        gather $how -q -o g --cacert "$TMP/ca/ca.pem" "$NBASE/f2.bin"
        cmp g/f2.bin "$TMP/nginx/www/f2.bin"
    done
    assert_eq "$(grep -c ' 200 /f[12].bin ' "$NGINX_LOG")" 8 "answers nginx gave"
    # a file that is not there is a usage error, said once
    gather get -q -o h --cacert "$TMP/nope.pem" "$NBASE/f1.bin" 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "^gather: --cacert: cannot read '$TMP/nope.pem': No such file or directory$" err.txt
    rc=0
    CURL_CA_BUNDLE="$TMP/nope.pem" gather get -q -o h "$NBASE/f1.bin" 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "^gather: CURL_CA_BUNDLE: cannot read" err.txt
    rc=0
    gather get -q -o h --capath "$TMP/ca/ca.pem" "$NBASE/f1.bin" 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status"
    grep -q "is not a folder" err.txt
    assert_eq "$(grep -c ' 200 /f[12].bin ' "$NGINX_LOG")" 8 "answers nginx gave"
}

test_client_certificate_required() {
    local rc=0
    tls_site 2
    gather get -q -o out --retries 0 --cacert "$TMP/ca/ca.pem" "$NBASE2/f1.bin" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    grep -q "^$NBASE2/f1.bin: HTTP 400: the server requires a client certificate (--cert FILE)$" err.txt
    assert_absent out/f1.bin
    grep -q ' 400 /f1.bin NONE$' "$NGINX_LOG"
    # with it: nginx verified it
    gather get -q -o out --cacert "$TMP/ca/ca.pem" --cert "$TMP/ca/client.pem" \
        --key "$TMP/ca/client.key" "$NBASE2/f1.bin" "$NBASE2/f2.bin"
    cmp out/f1.bin "$TMP/nginx/www/f1.bin"
    cmp out/f2.bin "$TMP/nginx/www/f2.bin"
    assert_eq "$(grep -c ' 200 /f[12].bin SUCCESS$' "$NGINX_LOG")" 2 "verified requests"
    # the same in the blocking modes
    gather get -q -o sync --mode sync --cacert "$TMP/ca/ca.pem" --cert "$TMP/ca/client.pem" \
        --key "$TMP/ca/client.key" "$NBASE2/f1.bin"
    cmp sync/f1.bin "$TMP/nginx/www/f1.bin"
    assert_eq "$(grep -c ' 200 /f[12].bin SUCCESS$' "$NGINX_LOG")" 3 "verified requests"
    # a certificate without its key is said to be the problem
    rc=0
    gather get -q -o bad --retries 0 --cacert "$TMP/ca/ca.pem" --cert "$TMP/ca/client.pem" \
        "$NBASE2/f1.bin" 2>err.txt || rc=$?
    cat err.txt
    assert_eq "$rc" 1 "exit status"
    grep -q "^$NBASE2/f1.bin: TLS error: cannot use the client certificate (--cert, --key)" err.txt
    rc=0
    gather get -q -o bad --key "$TMP/ca/client.key" "$NBASE2/f1.bin" 2>err.txt || rc=$?
    assert_eq "$rc" 2 "exit status: --key without --cert"
    assert_eq "$(grep -c ' 200 /f[12].bin SUCCESS$' "$NGINX_LOG")" 3 "verified requests"
}

test_http2_500_files_over_one_connection() {
    local i
    tls_site 500
    for i in $(seq 1 500); do echo "$NBASE/f$i.bin"; done > list.txt
    gather get -q -i list.txt -o out -c 50 --cacert "$TMP/ca/ca.pem"
    for i in $(seq 1 500); do cmp out/f$i.bin "$TMP/nginx/www/f$i.bin"; done
    assert_eq "$(wc -l < "$NGINX_LOG")" 500 "requests nginx logged"
    assert_eq "$(grep -c ' HTTP/2.0 200 /f' "$NGINX_LOG")" 500 "HTTP/2 answers"
    assert_eq "$(cut -d' ' -f1 "$NGINX_LOG" | sort -u | wc -l)" 1 "connections"
}

run_tests "$@"
