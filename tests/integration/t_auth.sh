#!/usr/bin/env bash
# Integration tests of credentials and cookies, checked from the servers' side: two fixture servers
# are two origins (127.0.0.1 on two ports), and each one's /creds log says which Authorization,
# Cookie and Proxy-Authorization headers every request brought. Credentials reach only the origins
# they were given for (across a redirect or a link too) unless --location-trusted; URL passwords
# never show in stderr, --json, HAR or .gather.db; cookies are loaded, kept, saved and scoped.
. "$(dirname "$0")/lib.sh"

SECRET=s3cret-Pw
AUTH_BASIC="Basic $(printf 'ann:%s' "$SECRET" | base64)"        # what --user ann:$SECRET sends
HDRS=(--header 'Cookie: session=C00KIE' --header 'Authorization: Bearer T0KEN'
      --header 'Proxy-Authorization: Basic UHJPWFk=')

# two_servers: starts the servers A and B; sets A, B (base URLs) and PA, PB (ports).
two_servers() {
    server_start "$@"
    A=$BASE PA=$PORT
    server_start "$@"
    B=$BASE PB=$PORT
}

creds() { curl -sf -m 10 "$1/creds"; }

# upto1 CMD...: CMD may report failed URLs (exit 1), nothing worse (a sanitizer's 86 included).
upto1() {
    local rc=0
    "$@" || rc=$?
    [ "$rc" -le 1 ] || { echo "# $* exited $rc"; return 1; }
}
reset_both() { curl -sf -m 10 "$A/reset" >/dev/null; curl -sf -m 10 "$B/reset" >/dev/null; }

# count BASE TEXT: requests BASE logged that carried TEXT (fixed string) in a credential header.
count() { creds "$1" > .creds; grep -cF -- "$2" .creds || true; }
# requests BASE: requests BASE logged.
requests() { creds "$1" | wc -l; }

# assert_clean BASE: not one request to BASE brought a credential header.
assert_clean() {
    creds "$1" > .creds
    if grep -q $'\t' .creds; then
        echo "# credentials reached $1:"; grep $'\t' .creds | head -5 | sed 's/^/#   /'
        return 1
    fi
    [ -s .creds ] || { echo "# $1 got no request at all"; return 1; }
}

# ---- headers: only to the origins given ---------------------------------------------------------

# get follows redirects inside libcurl: Authorization and Cookie stay with the origin they were
# given for (libcurl drops them at another host or port), Proxy-Authorization never goes to a
# server, in each mode alike; a URL of B named on the command line gets them, being given.
test_credential_headers_stop_at_a_redirect_to_another_origin() {
    local mode
    two_servers
    for mode in async threads sync; do
        reset_both
        gather get -q -o "out-$mode" --mode "$mode" "${HDRS[@]}" "$A/redirect-port/$PB/1"
        expect_same "out-$mode/1" /img/1.jpg
        assert_eq "$(count "$A" 'Authorization: Bearer T0KEN')" 1 "($mode) Authorization at A"
        assert_eq "$(count "$A" 'Cookie: session=C00KIE')" 1 "($mode) Cookie at A"
        assert_clean "$B"
        assert_eq "$(count "$A" 'Proxy-Authorization')" 0 "($mode) Proxy-Authorization at a server"
    done
    reset_both
    gather get -q -o out-given "${HDRS[@]}" "$A/img/1.jpg" "$B/img/2.jpg"
    assert_eq "$(count "$B" 'Authorization: Bearer T0KEN')" 1 "Authorization at B, a URL given"
    assert_eq "$(count "$B" 'Proxy-Authorization')" 0 "Proxy-Authorization at B"
}

# A crawl of a page on A that links to B (a page and an image: assets are fetched off-site):
# A's robots.txt and page get the credentials, B's robots.txt, page and image do not.
test_a_crawl_sends_credentials_only_to_its_start_origin() {
    two_servers
    upto1 gather crawl -q -o out -d 1 --scope any "${HDRS[@]}" --user "ann:$SECRET" \
        "$A/links?a=$B/site/a.html&img=$B/img/5.jpg&img=$A/img/6.jpg"
    [ -f "out/127.0.0.1_$PB/img/5.jpg" ] || { echo "# B's image was not fetched"; ls -R out; return 1; }
    assert_eq "$(count "$A" 'Authorization: Bearer T0KEN')" "$(requests "$A")" "requests to A with credentials"
    assert_eq "$(requests "$A")" 3 "requests to A: robots.txt, the page, its image"
    assert_eq "$(count "$A" 'Cookie: session=C00KIE')" 3 "Cookie at A"
    assert_clean "$B"
    assert_ge "$(requests "$B")" 3 "requests to B: robots.txt, a page and images"
}

# A crawl follows redirects itself: a start page on A that redirects to B hands no credential to B.
test_a_crawl_redirected_to_another_origin_drops_them() {
    two_servers
    upto1 gather crawl -q -o out -d 0 "${HDRS[@]}" --user "ann:$SECRET" --scope any "$A/redirect-port/$PB/3"
    [ -f "out/127.0.0.1_$PB/img/3.jpg" ] || { echo "# the redirect target was not fetched"; ls -R out; return 1; }
    assert_eq "$(count "$A" 'Authorization: Bearer T0KEN')" 2 "A: robots.txt and the redirect"
    assert_clean "$B"
}

# --location-trusted: the opt-in to send them on, through a redirect in every mode and to every
# host of a crawl. Proxy-Authorization still goes to no server.
test_location_trusted_sends_them_everywhere() {
    local mode
    two_servers
    for mode in async threads sync; do
        reset_both
        gather get -q -o "out-$mode" --mode "$mode" --location-trusted "${HDRS[@]}" "$A/redirect-port/$PB/1"
        assert_eq "$(count "$B" 'Authorization: Bearer T0KEN')" 1 "($mode) Authorization at B"
        assert_eq "$(count "$B" 'Cookie: session=C00KIE')" 1 "($mode) Cookie at B"
        assert_eq "$(count "$B" 'Proxy-Authorization')" 0 "($mode) Proxy-Authorization at B"
    done
    reset_both
    upto1 gather crawl -q -o out-crawl -d 1 --scope any --location-trusted --user "ann:$SECRET" \
        "$A/links?img=$B/img/5.jpg"
    assert_eq "$(count "$B" "Authorization: $AUTH_BASIC")" "$(requests "$B")" "requests to B with --user"
    assert_ge "$(requests "$B")" 2 "requests to B"
}

# --user sends Basic auth (before any 401: curl's default) to its host only, in each mode.
test_user_sends_basic_auth_only_to_its_host() {
    local mode
    two_servers
    for mode in async threads sync; do
        reset_both
        gather get -q -o "out-$mode" --mode "$mode" --user "ann:$SECRET" "$A/img/1.jpg" "$A/redirect-port/$PB/2"
        assert_eq "$(count "$A" "Authorization: $AUTH_BASIC")" 2 "($mode) Basic auth at A"
        assert_clean "$B"
    done
    # the password apart, with --password
    reset_both
    gather get -q -o out-pw --user ann --password "$SECRET" "$A/img/1.jpg"
    assert_eq "$(count "$A" "Authorization: $AUTH_BASIC")" 1 "Basic auth from --user + --password"
}

# Without a password and without a terminal there is nothing to ask: a usage error. On a terminal
# gather asks, without echo (a pty run by python3 types the password after the prompt).
test_user_without_password_asks_on_a_terminal_only() {
    local rc=0
    server_start
    gather get -q -o out --user ann "$BASE/img/1.jpg" < /dev/null 2> err.txt || rc=$?
    assert_eq "$rc" 2 "exit status without a password or terminal"
    grep -q "no password" err.txt
    assert_eq "$(server_stat requests)" 0 "requests made"
    cat > pty.py <<'EOF'
import os, select, subprocess, sys, time
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out, typed, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    if not typed and b"password" in out:
        os.write(master, b"typed-" + os.environ["PW"].encode() + b"\n")
        typed = True
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    elif p.poll() is not None:
        break
rc = p.wait(timeout=30)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(rc)
EOF
    PW=$SECRET timeout 90 python3 pty.py "$GATHER" get -o out --user ann "$BASE/img/1.jpg" > tty.txt
    grep -q "Enter the password for user 'ann'" tty.txt
    if grep -q "$SECRET" tty.txt; then echo "# the password was echoed"; cat tty.txt; return 1; fi
    assert_eq "$(count "$BASE" "Authorization: Basic $(printf 'ann:typed-%s' "$SECRET" | base64)")" 1 \
        "requests with the typed password"
}

# A Proxy-Authorization header is for a proxy: with http_proxy pointing at server A (the fixture
# answers absolute-form targets itself), A gets it and B, the target, is never contacted.
test_proxy_authorization_goes_only_to_a_proxy() {
    two_servers
    http_proxy=$A gather get -q -o out "${HDRS[@]}" "$B/img/1.jpg"
    expect_same out/1.jpg /img/1.jpg
    assert_eq "$(count "$A" 'Proxy-Authorization: Basic UHJPWFk=')" 1 "Proxy-Authorization at the proxy"
    assert_eq "$(requests "$B")" 0 "requests to B"
}

# --netrc-file: its machine (127.0.0.1) gets the login, another host name (localhost, the same
# address) does not; --netrc reads $HOME/.netrc.
test_netrc_logs_in_to_its_machine_only() {
    two_servers
    printf 'machine 127.0.0.1 login ann password %s\n' "$SECRET" > netrc
    chmod 600 netrc
    gather get -q -o out --netrc-file netrc "$A/img/1.jpg" "http://localhost:$PB/img/2.jpg"
    assert_eq "$(count "$A" "Authorization: $AUTH_BASIC")" 1 "Basic auth at 127.0.0.1"
    assert_clean "$B"
    reset_both
    mkdir home
    cp netrc home/.netrc
    HOME=$PWD/home gather get -q -o out2 --netrc "$A/img/1.jpg"
    assert_eq "$(count "$A" "Authorization: $AUTH_BASIC")" 1 "Basic auth from \$HOME/.netrc"
}

# ---- URL passwords: used for the request, shown nowhere ----------------------------------------

# secret_nowhere FILE...: no file holds the password (SQLite files are searched as bytes).
secret_nowhere() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || continue
        if grep -aqF "$SECRET" "$f"; then
            echo "# the password is in $f:"; grep -aF "$SECRET" "$f" | head -3 | cut -c1-200 | sed 's/^/#   /'
            return 1
        fi
    done
}

test_url_passwords_are_masked_everywhere() {
    local u gpid rc
    server_start
    u="http://ann:$SECRET@127.0.0.1:$PORT"
    upto1 gather get -v -o out --json --har get.har --retries 1 --retry-delay 1 \
        "$u/img/1.jpg" "$u/status/404" "$u/redirect/1/2" \
        "http://ann:$SECRET@127.0.0.1:1/refused" "http://ann:$SECRET@bad host/" \
        > get.json 2> get.err
    # the requests themselves carried the real password
    assert_eq "$(count "$BASE" "Authorization: $AUTH_BASIC")" "$(requests "$BASE")" "requests with the password"
    assert_ge "$(requests "$BASE")" 4 "requests"
    grep -q "ann:\*\*\*@127.0.0.1:$PORT/status/404: HTTP 404" get.err
    grep -q "argument 5: 'http://ann:\*\*\*@bad host/'" get.err
    grep -q "ann:\*\*\*@127.0.0.1:1/refused: connection refused; retry 1 of 1" get.err
    assert_eq "$(jq -r 'select(.url) | .url' get.json | grep -c 'ann:\*\*\*@')" 4 "masked URLs in --json"
    assert_eq "$(jq -r 'select(.final_url) | .final_url' get.json)" "http://ann:***@127.0.0.1:$PORT/img/2.jpg" \
        "final_url in --json"
    # 6: the two redirect hops of /redirect/1/2 are entries of their own
    assert_eq "$(jq '[.log.entries[] | select(.request.url | test("ann:\\*\\*\\*@"))] | length' get.har)" 6 \
        "HAR entries with the URL masked"
    # the Authorization header sent is in the HAR, its credentials masked
    assert_eq "$(jq -r '[.log.entries[].request.headers[] | select(.name == "Authorization") | .value] | unique | .[]' get.har)" "Basic ***"
    if grep -qF "${AUTH_BASIC#Basic }" get.har; then echo "# the base64 credentials are in get.har"; return 1; fi
    sqlite3 out/.gather.db "SELECT url FROM urls" > rows.txt
    grep -q "ann:\*\*\*@127.0.0.1:$PORT/img/1.jpg" rows.txt
    # an interrupted body keeps its .part and a pending row, which the re-run finds by the masked
    # URL: it resumes with Range
    ( exec timeout --foreground -s KILL 60 $GATHER_WRAP "$GATHER" get -q -o out2 "$u/big/4?rate=2048" ) \
        2> cut.err &
    gpid=$!
    for _ in $(seq 1 200); do
        [ "$(stat -c %s out2/4.part 2>/dev/null || echo 0)" -gt 300000 ] && break
        sleep 0.05
    done
    kill -INT "$gpid"
    rc=0; wait "$gpid" || rc=$?
    assert_eq "$rc" 130 "exit status of the interrupted download"
    [ -s out2/4.part ] || { echo "# no .part kept"; ls -la out2; return 1; }
    server_reset
    gather get -q -o out2 "$u/big/4?rate=2048" 2> rerun.err
    assert_eq "$(server_stat ranges)" 1 "requests of the re-run with a Range"
    expect_same out2/4 "/big/4?rate=2048"
    upto1 gather crawl -v -o crawl -d 1 --json --har crawl.har "$u/site/" > crawl.json 2> crawl.err
    assert_ge "$(jq -r 'select(.url) | .url' crawl.json | grep -c 'ann:\*\*\*@')" 10 "masked URLs in the crawl's --json"
    sqlite3 crawl/.gather.db "SELECT url FROM urls" > crawl_rows.txt
    assert_ge "$(grep -c 'ann:\*\*\*@' crawl_rows.txt)" 10 "masked rows of the crawl"
    secret_nowhere get.json get.err get.har out/.gather.db* out2/.gather.db* cut.err rerun.err \
        crawl.json crawl.err crawl.har crawl/.gather.db*
}

# A crawl interrupted with pages still pending stores them masked; the re-run takes the password
# back from its start URL, so the resumed requests log in as the first ones did (never as "***").
test_a_resumed_crawl_gets_the_url_password_back() {
    local u gpid rc=0
    server_start --delay 300 --robots-delay 1
    u="http://ann:$SECRET@127.0.0.1:$PORT"
    ( exec timeout --foreground -s KILL 60 $GATHER_WRAP "$GATHER" crawl -q -o out -d 9 -c 2 --per-host 2 "$u/site/" ) \
        > /dev/null 2> err1.txt &
    gpid=$!
    for _ in $(seq 1 200); do
        [ "$(requests "$BASE")" -ge 5 ] && break
        sleep 0.05
    done
    kill -INT "$gpid"
    wait "$gpid" || rc=$?
    assert_eq "$rc" 130 "exit status of the interrupted crawl"
    # (the site's absolute links carry no user info, so not every pending URL has one)
    assert_ge "$(sqlite3 out/.gather.db "SELECT count(*) FROM frontier WHERE url LIKE 'http://ann:***@%'")" 1 \
        "pending URLs stored masked"
    secret_nowhere out/.gather.db* err1.txt
    server_reset
    rc=0
    gather crawl -o out -d 9 -c 4 "$u/site/" 2> err2.txt || rc=$?
    assert_le "$rc" 1 "exit status of the resumed crawl (one broken link)"
    grep -q 'resuming the crawl' err2.txt
    creds "$BASE" > resumed.txt
    assert_ge "$(grep -cF "Authorization: $AUTH_BASIC" resumed.txt)" 1 "resumed requests with the password"
    assert_eq "$(grep -cF "Authorization: Basic $(printf 'ann:***' | base64)" resumed.txt || true)" 0 \
        "resumed requests with the mask for a password"
    secret_nowhere out/.gather.db* err2.txt
}

# ---- cookies --------------------------------------------------------------------------------------

# A cookie set by A is sent back to A within the job and saved (0600, Netscape format), in each
# mode; a saved jar loaded again sends it from the first request.
test_cookies_are_kept_saved_and_loaded() {
    local mode
    two_servers
    for mode in async threads sync; do
        reset_both
        gather get -q -o "out-$mode" --mode "$mode" -c 1 --save-cookies "jar-$mode.txt" \
            "$A/cookie/sid/v-$mode" "$A/img/1.jpg"
        assert_eq "$(count "$A" "Cookie: sid=v-$mode")" 1 "($mode) the cookie sent back"
        assert_eq "$(stat -c %a "jar-$mode.txt")" 600 "($mode) mode of the jar"
        head -1 "jar-$mode.txt" | grep -q '^# Netscape HTTP Cookie File'
        grep -qP "^127\.0\.0\.1\tFALSE\t/\tFALSE\t0\tsid\tv-$mode$" "jar-$mode.txt"
    done
    reset_both
    gather get -q -o out-load --load-cookies jar-threads.txt "$A/img/2.jpg"
    assert_eq "$(count "$A" 'Cookie: sid=v-threads')" 1 "the loaded cookie sent"
    # without a jar option the engine is off: a cookie set is not sent back
    reset_both
    gather get -q -o out-none -c 1 "$A/cookie/sid/x" "$A/img/1.jpg"
    assert_eq "$(count "$A" 'Cookie:')" 0 "cookies sent without --load-cookies or --save-cookies"
}

# Cookies go where their domain says: one for 127.0.0.1 and one for localhost (the same address,
# another host name), each to its own host only, in a crawl too; --save-cookies keeps both.
test_loaded_cookies_go_only_to_their_domain() {
    local mode
    two_servers
    printf '# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tfor_a\tone\nlocalhost\tFALSE\t/\tFALSE\t0\tfor_b\ttwo\n' > in.txt
    for mode in async threads sync; do
        reset_both
        gather get -q -o "out-$mode" --mode "$mode" --load-cookies in.txt "$A/img/1.jpg" "http://localhost:$PB/img/2.jpg"
        assert_eq "$(count "$A" 'Cookie: for_a=one')" 1 "($mode) A's cookie at A"
        assert_eq "$(count "$B" 'Cookie: for_b=two')" 1 "($mode) B's cookie at B"
        assert_eq "$(count "$A" 'for_b')$(count "$B" 'for_a')" 00 "($mode) cookies at the wrong host"
    done
    reset_both
    upto1 gather crawl -q -o out-crawl -d 1 --load-cookies in.txt --save-cookies out.txt \
        "$A/links?img=http://localhost:$PB/img/7.jpg"
    assert_eq "$(count "$B" 'Cookie: for_b=two')" "$(requests "$B")" "B's requests with B's cookie"
    assert_eq "$(count "$B" 'for_a')" 0 "A's cookie at B"
    assert_eq "$(count "$A" 'Cookie: for_a=one')" "$(requests "$A")" "A's requests with A's cookie"
    grep -q 'for_a' out.txt
    grep -q 'for_b' out.txt
}

test_cookie_and_auth_option_errors() {
    local rc
    rc=0; gather get -q --load-cookies missing.txt http://127.0.0.1:1/ 2> err.txt || rc=$?
    assert_eq "$rc" 2 "--load-cookies of a missing file"
    grep -q "gather: --load-cookies: cannot read missing.txt: No such file or directory" err.txt
    rc=0; gather get -q --netrc-file missing.txt http://127.0.0.1:1/ 2> err.txt || rc=$?
    assert_eq "$rc" 2 "--netrc-file of a missing file"
    server_start
    # a jar that cannot be written (no such folder): the downloads are kept, the run says so and
    # fails
    rc=0; gather get -q -o out --save-cookies nowhere/jar.txt "$BASE/img/1.jpg" 2> err.txt || rc=$?
    assert_eq "$rc" 1 "exit status when the jar cannot be saved"
    grep -q "gather: cannot save cookies to nowhere/jar.txt: No such file or directory" err.txt
    expect_same out/1.jpg /img/1.jpg
}

run_tests "$@"
