#!/usr/bin/env bash
# Integration tests of offline mirrors (-m -k -p -E) against a static site served by nginx from
# Debian: every relative link of the saved HTML and CSS opens a saved file, the bytes outside the
# links are nginx's, a second run changes nothing, and headless Chromium (Debian's, driven by
# puppeteer-core from npm) loads the saved pages from file:// with the network off without a
# failed subresource.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

MIRROR="$ROOT/tests/integration/mirror"
PNG='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

# site WWW: a small site: a query URL, a page in a subfolder linking root-relative and ../, a
# stylesheet with url() and @import, inline styles, a redirect, a 404 and an off-site link.
site() {
    local w=$1
    mkdir -p "$w/sub" "$w/css" "$w/img"
    for f in a.png "b c.png" bg.png more.png inline.png set1.png set2.png; do
        base64 -d <<< "$PNG" > "$w/img/$f"
    done
    cat > "$w/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>home</title>
<link rel="stylesheet" href="css/site.css">
<style>h1 { background: url("/img/inline.png") }</style>
</head><body>
<h1>home</h1>
<a href="sub/page.html">sub page</a>
<a href="/list.php?x=1&amp;y=2#part">list one</a>
<a href="/old">moved</a>
<a href="/gone.html">missing</a>
<a href="http://example.invalid/off">off site</a>
<img src="img/a.png" alt="a"><img src="/img/b%20c.png" alt="b c">
<img srcset="img/set1.png 1x, /img/set2.png 2x" src="img/set1.png" alt="set">
<div style="background:url('img/bg.png')">styled</div>
</body></html>
HTML
    cat > "$w/sub/page.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>sub</title><link rel="stylesheet" href="/css/site.css"></head><body>
<a href="/">home</a> <a href="../index.html#top">home again</a>
<a href="../list.php?x=2">list two</a>
<img src="../img/a.png" alt="a">
</body></html>
HTML
    cat > "$w/list.php" <<'HTML'
<!DOCTYPE html>
<html><head><title>list</title></head><body><a href="sub/page.html">sub</a>
<img src="img/a.png" alt="a"></body></html>
HTML
    cat > "$w/css/site.css" <<'CSS'
@import "more.css";
body { background: url(../img/bg.png) }
.x { background-image: url("/img/a.png#icon") }
CSS
    printf 'div { background: url(/img/more.png) }\n' > "$w/css/more.css"
}

# crawl_site ARGS...: gather crawl ARGS, which fails for one URL only: the 404 (exit 1).
crawl_site() {
    local rc=0
    gather crawl "$@" 2>err.txt || rc=$?
    [ "$rc" -eq 1 ] && [ "$(grep -c 'HTTP 404' err.txt)" -eq 1 ] && grep -q '/gone.html: HTTP 404' err.txt ||
        { cat err.txt; echo "# exit $rc: want 1, for the 404 alone"; return 1; }
}

nginx_site() {
    site "$TMP/nginx/www"
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@;
        root $TMP/nginx/www;
        types { text/html html php; text/css css; image/png png; }
        location = /old { return 301 /sub/page.html; }
    }
    server { listen 127.0.0.1:@PORT2@; return 404; }"
    SITE="http://127.0.0.1:$NGINX_PORT"
    HOST="127.0.0.1_$NGINX_PORT"
}

test_mirror_links_resolve_and_bytes_stay() {
    nginx_site
    crawl_site -q -m -k -p -E -P out "$SITE/"
    # the query URLs got names of their own, made for their type (-E), and each was fetched once
    local lists
    lists=$(cd "out/$HOST" && ls list-*.php.html | wc -l)
    assert_eq "$lists" 2 "list-HASH.php.html files"
    assert_eq "$(grep -c ' 200 /list.php?x=1&y=2 ' "$NGINX_LOG")" 1 "fetches of list.php?x=1&y=2"
    # every relative link opens a saved file; the other bytes are nginx's
    python3 "$MIRROR/check_links.py" out "$TMP/nginx/www" "$HOST" "$SITE" "$NGINX_LOG"
    # what the links became, spelled out
    local one
    one=$(cd "out/$HOST" && ls list-*.php.html | while read -r f; do
        grep -q 'sub/page.html' "$f" && echo "$f"; done | head -1)
    grep -q "href=\"sub/page.html\">moved" "out/$HOST/index.html"          # the redirect's target
    grep -q "href=\"$SITE/gone.html\">missing" "out/$HOST/index.html"       # not saved: absolute
    grep -q 'href="http://example.invalid/off">off site' "out/$HOST/index.html"   # as it was
    grep -q 'src="img/b%20c.png"' "out/$HOST/index.html"
    grep -q 'srcset="img/set1.png 1x, img/set2.png 2x"' "out/$HOST/index.html"
    # /index.html is another URL than /: a file of its own (index.html is taken)
    grep -Eq 'href="\.\./index-[0-9a-f]{8}\.html#top"' "out/$HOST/sub/page.html"
    grep -q 'href="../index.html">home' "out/$HOST/sub/page.html"
    grep -q 'url("../img/a.png#icon")' "out/$HOST/css/site.css"
    grep -q 'url(../img/bg.png)' "out/$HOST/css/site.css"
    grep -Eq 'href="list-[0-9a-f]{8}\.php\.html#part"' "out/$HOST/index.html"
    [ -n "$one" ]
    # a second run (-m is -N: every URL asked again; converted pages in full, as their links
    # were rewritten) leaves the converted files as they are, and never fetches a rewritten link
    cp -a out before
    crawl_site -q -m -k -p -E -P out "$SITE/"
    diff -r -x '.gather.db*' before out
    assert_eq "$(grep -c ' /list-' "$NGINX_LOG" || true)" 0 "requests for names the conversion made"
}

# Without -k nothing is rewritten; without -E the query page keeps its own extension.
test_no_convert_without_k() {
    nginx_site
    crawl_site -q -d 1 -o out "$SITE/"
    cmp "out/$HOST/index.html" "$TMP/nginx/www/index.html"
    cmp "out/$HOST/css/site.css" "$TMP/nginx/www/css/site.css"
    ls "out/$HOST" | grep -Eq '^list-[0-9a-f]{8}\.php$'
}

# -nH and --cut-dirs shape the tree; the links follow the files wherever they went.
test_no_host_and_cut_dirs() {
    nginx_site
    crawl_site -q -d 2 -k -nH -o out "$SITE/"
    [ -f out/index.html ] && [ -f out/sub/page.html ] && [ -f out/css/site.css ]
    grep -q 'href="../index.html">home' out/sub/page.html
    crawl_site -q -d 2 -k -nH --cut-dirs 1 -o out2 "$SITE/sub/page.html"
    [ -f out2/page.html ] && [ -f out2/site.css ] && [ -f out2/a.png ]
    grep -q 'href="site.css"' out2/page.html
    grep -q 'src="a.png"' out2/page.html
    crawl_site -q -d 1 -k -nd -o out3 "$SITE/"
    [ -f out3/index.html ] && [ -f out3/page.html ] && [ -f out3/site.css ]
    grep -q 'href="page.html">sub page' out3/index.html
}

# An interrupted crawl converts what it saved (links to what it had not saved yet are absolute);
# the resumed run points those at the files it saves and leaves the links it wrote alone.
test_interrupted_then_resumed() {
    nginx_site
    local pid rc=0
    # exec'd, so the signal reaches gather itself (as t_interrupt.sh does it)
    ( exec timeout --foreground -s KILL 60 $GATHER_WRAP "$GATHER" crawl -q -m -k -p -E --delay 700 \
        -o out "$SITE/" ) 2>err.txt &
    pid=$!
    for _ in $(seq 1 100); do
        [ -f "out/$HOST/index.html" ] && break
        sleep 0.05
    done
    sleep 0.3
    kill -INT "$pid"
    wait "$pid" || rc=$?
    assert_eq "$rc" 130 "exit status of the interrupted crawl" || { cat err.txt; return 1; }
    grep -q "href=\"$SITE/sub/page.html\">sub page" "out/$HOST/index.html"   # not saved yet
    grep -q 'href="css/site.css"' "out/$HOST/index.html" ||                 # saved: relative
        grep -q "href=\"$SITE/css/site.css\"" "out/$HOST/index.html"
    crawl_site -q -m -k -p -E -o out "$SITE/"
    python3 "$MIRROR/check_links.py" out "$TMP/nginx/www" "$HOST" "$SITE" "$NGINX_LOG"
    grep -q 'href="sub/page.html">sub page' "out/$HOST/index.html"
    assert_eq "$(grep -c ' 200 /index.html ' "$NGINX_LOG")" 1 "fetches of /index.html"
}


test_mirror_browses_offline_in_chromium() {
    local chromium
    chromium=$(command -v chromium || true)
    if [ -z "$chromium" ] || ! command -v node >/dev/null || ! puppeteer_ready; then
        echo "# skip: no chromium, node or puppeteer-core (npm install failed)"
        return 0
    fi
    nginx_site
    crawl_site -q -m -k -p -E -o out "$SITE/"
    crawl_site -q -d 5 -p -o raw "$SITE/"            # the same, unconverted
    server_stop                            # the network is off twice: no server, a dead proxy
    local pages
    mapfile -t pages < <(find "$TMP/out/$HOST" -name '*.html' | sort)
    assert_ge "${#pages[@]}" 4 "pages saved"
    NODE_PATH="$BUILD/node/node_modules" timeout 120 node "$MIRROR/browse.js" "$chromium" \
        "${pages[@]}" > browse.txt 2>&1 || { cat browse.txt; return 1; }
    cat browse.txt
    grep -q "^failed 0 network [0-9]* pages ${#pages[@]}$" browse.txt
    # what needed the network is what the crawl never fetched (no file to point at)
    local url uri
    for url in $(sed -n 's/^net [0-9]*: //p' browse.txt); do
        uri=/${url#http://*/}
        if grep -q " 200 $uri " "$NGINX_LOG"; then
            echo "# $url was saved, yet the page asked the network for it"
            return 1
        fi
        echo "# skip: $url: the crawl did not fetch it (stylesheet references are item 1's)"
    done
    # the browse can fail: the same pages unconverted miss their files and need the network
    mapfile -t pages < <(find "$TMP/raw/$HOST" -name 'index.html')
    NODE_PATH="$BUILD/node/node_modules" timeout 120 node "$MIRROR/browse.js" "$chromium" \
        "${pages[@]}" > raw.txt 2>&1 || { cat raw.txt; return 1; }
    grep -Eq '^failed [1-9][0-9]* ' raw.txt
}

run_tests "$@"
