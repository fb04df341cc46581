# tests/integration/servers/lib.sh: Debian's servers for integration tests (sourced after lib.sh):
# nginx with a private CA (TLS, HTTP/2, client certificates) and tinyproxy as a forward proxy.
# Each binds 127.0.0.1 on a port the kernel just called free (nginx and tinyproxy cannot be told
# to take port 0), retried when another process took it first; each is stopped with the test's
# other servers (SERVER_PIDS).

# free_port: a port on 127.0.0.1 the kernel hands out as free right now.
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PID PORT: waits (5 s at most) until PORT accepts connections while PID lives.
wait_port() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# tls_make_ca DIR: a private CA in DIR (ca.pem), a server certificate for 127.0.0.1 and localhost
# (server.pem, server.key), a client certificate (client.pem, client.key), a second unrelated CA
# (other-ca.pem), and DIR/capath: the CA as a hashed folder for --capath (openssl rehash).
tls_make_ca() {
    local d=$1
    mkdir -p "$d/capath"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gather test CA" \
            -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
            -keyout other-ca.key -out other-ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key \
            -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=gather client" -keyout client.key \
            -out client.csr 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile client.ext -out client.pem 2>/dev/null
        cp ca.pem capath/ca.pem
        openssl rehash capath 2>/dev/null || c_rehash capath >/dev/null
    )
    [ -s "$d/server.pem" ] && [ -s "$d/client.pem" ] && [ -n "$(ls "$d/capath" | grep '\.0$')" ]
}

# nginx_start DIR SERVERS [HTTP]: runs nginx with the server blocks SERVERS (text in which @PORT@
# and @PORT2@ become two free ports), its files in DIR, logging each request to DIR/access.log as
# "connection protocol status uri client_verify". HTTP holds more lines for the http block (a
# log_format of the test's own). Sets NGINX_PORT, NGINX_PORT2, NGINX_LOG.
nginx_start() {
    local d=$1 servers=$2 http=${3:-} try p1 p2 pid
    mkdir -p "$d/tmp" "$d/www"
    for try in 1 2 3 4 5; do
        p1=$(free_port)
        p2=$(free_port)
        [ "$p1" != "$p2" ] || continue
        cat > "$d/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    log_format gather '\$connection \$server_protocol \$status \$request_uri \$ssl_client_verify';
    access_log $d/access.log gather;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 100000;
    http2_max_requests 100000;
$http
$(sed -e "s/@PORT@/$p1/g" -e "s/@PORT2@/$p2/g" <<< "$servers")
}
CONF
        nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" > "$d/stdout.log" 2>&1 &
        pid=$!
        if wait_port "$pid" "$p1" && wait_port "$pid" "$p2"; then
            SERVER_PIDS+=("$pid")
            NGINX_PORT=$p1
            NGINX_PORT2=$p2
            NGINX_LOG=$d/access.log
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "# nginx did not start"; cat "$d/error.log" "$d/stdout.log"
    return 1
}

# nginx_https_file BYTES: a private CA in $TMP/ca (tls_make_ca) and nginx answering https with
# HTTP/2 on NGINX_PORT, serving $TMP/nginx/www/f.bin, BYTES random bytes, as /f.bin.
nginx_https_file() {
    tls_make_ca "$TMP/ca"
    mkdir -p "$TMP/nginx/www"
    head -c "$1" /dev/urandom > "$TMP/nginx/www/f.bin"
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@ ssl http2;
        ssl_certificate $TMP/ca/server.pem;
        ssl_certificate_key $TMP/ca/server.key;
        root $TMP/nginx/www;
    }
    server { listen 127.0.0.1:@PORT2@; return 404; }"
}

# tinyproxy_start DIR [CONFIG LINES]: a forward proxy on 127.0.0.1, logging every request to
# DIR/tinyproxy.log ("Request (file descriptor N): GET http://..." or "CONNECT host:port").
# Sets PROXY_PORT and PROXY_LOG.
tinyproxy_start() {
    local d=$1 extra=${2:-} try port pid
    mkdir -p "$d"
    for try in 1 2 3 4 5; do
        port=$(free_port)
        cat > "$d/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Timeout 30
LogFile "$d/tinyproxy.log"
LogLevel Info
MaxClients 200
Allow 127.0.0.1
$extra
CONF
        tinyproxy -d -c "$d/tinyproxy.conf" > "$d/stdout.log" 2>&1 &
        pid=$!
        if wait_port "$pid" "$port"; then
            SERVER_PIDS+=("$pid")
            PROXY_PORT=$port
            PROXY_LOG=$d/tinyproxy.log
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "# tinyproxy did not start"; cat "$d/stdout.log" "$d/tinyproxy.log" 2>/dev/null
    return 1
}

# ---- readers no one here wrote, from npm into $BUILD/node (never committed) ----------------

WARCIO_VERSION=2.4.11
CHECK="$ROOT/tests/integration/warc_check.mjs"

# warcio_setup: warcio under $BUILD/node (installed from npm the first time; never committed).
warcio_setup() {
    WARCIO="$BUILD/node/node_modules/warcio"
    if [ ! -f "$WARCIO/package.json" ] || ! grep -q "\"version\": \"$WARCIO_VERSION\"" "$WARCIO/package.json"; then
        mkdir -p "$BUILD/node"
        (cd "$BUILD/node" && timeout 300 npm install --no-audit --no-fund --silent "warcio@$WARCIO_VERSION" >/dev/null)
    fi
    export WARCIO
}

# warc_check FILE.warc.gz [FILE.cdx]: the summary JSON in check.json; fails on any error found.
warc_check() {
    if ! timeout 300 node "$CHECK" "$@" > check.json; then
        echo "# warcio check of $1 failed:"
        jq -r '.errors[:20][]' check.json 2>/dev/null | sed 's/^/#   /' || cat check.json
        return 1
    fi
}

# puppeteer-core into build/node (never committed), once per build folder.
puppeteer_ready() {
    local dir="$BUILD/node"
    grep -qs '"version": "24.43.1"' "$dir/node_modules/puppeteer-core/package.json" && return 0
    mkdir -p "$dir"
    PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm install --prefix "$dir" --no-audit --no-fund \
        --silent puppeteer-core@24.43.1 >/dev/null 2>&1
}
