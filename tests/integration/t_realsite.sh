#!/usr/bin/env bash
# Crawls of real sites no one here wrote: Debian's HTML documentation packages (PostgreSQL's
# manual, about 1,170 pages; SQLite's, about 770 pages, 80 images, CSS and scripts, and a few
# hundred broken links of its own), served by nginx on loopback. What gather fetched, as nginx
# logged it, must be exactly the set of URLs an independent reference crawler
# (servers/refcrawl.py, Python's html.parser plus a CSS regex, written from the rules in
# parse/url.h and the HTML standard rather than from gather's code) fetched, each URL once, and
# every saved file must be byte-identical to the one nginx served.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"

# realsite_root PKG: the folder a documentation package installed (.ci/run and `make deps`
# install them); fails, saying which package, when it is not there.
realsite_root() {
    local d
    case "$1" in
    postgresql-doc) d=$(ls -d /usr/share/doc/postgresql-doc-*/html 2>/dev/null | sort -V | tail -n 1) ;;
    sqlite3-doc) d=/usr/share/doc/sqlite3 ;;
    esac
    if [ -z "$d" ] || [ ! -f "$d/index.html" ]; then
        echo "# $1 is not installed: apt-get install -y $1 (make deps does it)"
        return 1
    fi
    echo "$d"
}

# realsite_serve DIR: nginx serving DIR (with Debian's MIME types) on NBASE; the access log
# gives "connection protocol status uri" a line.
realsite_serve() {
    nginx_start "$TMP/nginx" "
    include /etc/nginx/mime.types;
    server { listen 127.0.0.1:@PORT@; root $1; }
    server { listen 127.0.0.1:@PORT2@; return 404; }"
    NBASE="http://127.0.0.1:$NGINX_PORT"
}

# realsite_check PKG URLS FILES: crawls PKG's site with gather and with the reference crawler
# and compares; the site must have at least URLS URLs and FILES answers of 200 (a package that
# shrank would test little).
realsite_check() {
    local root n dups missing extra bad=0 uri path status rc broken
    root=$(realsite_root "$1")
    realsite_serve "$root"
    python3 "$ROOT/tests/integration/servers/refcrawl.py" "$NBASE/index.html" --max 20000 \
        > ref.txt
    n=$(wc -l < ref.txt)
    assert_ge "$n" "$2" "URLs the reference crawl fetched"
    : > "$NGINX_LOG"
    # -d 1000: unlimited depth; --include keeps every request on loopback whatever a page links.
    rc=0
    gather crawl "$NBASE/index.html" -d 1000 --save all -o out -q \
        --include "^http://127\\.0\\.0\\.1:$NGINX_PORT/" 2> crawl.err || rc=$?
    awk -v b="$NBASE" '{print b $4}' "$NGINX_LOG" | sort > got.txt
    # The exit status says whether any URL failed: here, the site's own broken links (404s;
    # robots.txt's does not count). No sanitizer's report on stderr (make test SAN=1).
    broken=$(awk '$3 != 200 && $4 != "/robots.txt"' "$NGINX_LOG" | wc -l)
    assert_eq "$rc" "$([ "$broken" -eq 0 ] && echo 0 || echo 1)" "exit status ($broken broken links)"
    if grep -Eq 'Sanitizer|runtime error' crawl.err; then
        grep -E -m 5 'Sanitizer|runtime error' crawl.err | sed 's/^/#   /'
        bad=1
    fi
    dups=$(uniq -d got.txt | head -n 5)
    [ -z "$dups" ] || { echo "# fetched more than once: $dups"; bad=1; }
    missing=$(comm -23 ref.txt <(sort -u got.txt))
    extra=$(comm -13 ref.txt <(sort -u got.txt))
    if [ -n "$missing" ]; then
        echo "# $(wc -l <<< "$missing") URLs the reference fetched and gather did not:"
        head -n 20 <<< "$missing" | sed 's/^/#   /'
        bad=1
    fi
    if [ -n "$extra" ]; then
        echo "# $(wc -l <<< "$extra") URLs gather fetched and the reference did not:"
        head -n 20 <<< "$extra" | sed 's/^/#   /'
        bad=1
    fi
    # Every 200 answer saved under the tree layout, byte for byte (%XX decoded to find the file).
    n=0
    while read -r _ _ status uri _; do
        # robots.txt is read, not saved (no page links it)
        [ "$status" = 200 ] && [ "$uri" != /robots.txt ] || continue
        path=${uri%%\?*}
        path=$(printf '%b' "${path//%/\\x}")
        if ! cmp -s "out/127.0.0.1_$NGINX_PORT$path" "$root$path"; then
            echo "# saved copy of $uri differs from $root$path"
            bad=1
        fi
        n=$((n + 1))
    done < "$NGINX_LOG"
    assert_ge "$n" "$3" "files compared"
    return $bad
}

test_realsite_postgresql() { realsite_check postgresql-doc 1000 1000; }

test_realsite_sqlite() { realsite_check sqlite3-doc 1000 800; }

# The reference crawler itself, on a small hand-written site: every kind of reference it must
# see (CSS files, @import chains, <style>, style="", image-set, srcset, rel values, SVG, meta
# refresh, <base>), so a real site that leans on one of them is judged by a reference that
# knows it.
test_refcrawl_coverage() {
    local w=$TMP/site
    mkdir -p "$w/css" "$w/img" "$w/sub"
    cat > "$w/index.html" <<'HTML'
<!doctype html><html><head>
<link rel="stylesheet" href="css/a.css"><link rel="search" href="opensearch.xml">
<link rel="icon" href="/img/fav.ico"><link rel="preload" href="img/pre.png" as="image">
<link rel="next" href="sub/next.html"><link rel="nofollow-thing" href="not-a-resource.html">
<style>body { background: url("img/style-block.png") }</style>
<meta http-equiv="refresh" content="30; url=sub/refresh.html">
</head><body style="background-image: url(img/style-attr.png)">
<img src="img/a.png" srcset="img/a2.png 2x, img/a3.png 3x"><video poster="img/poster.png"></video>
<svg><image href="img/svg-image.png"/><use xlink:href="img/sprite.svg#i"/></svg>
<object data="img/obj.svg"></object><embed src="img/embed.svg">
<a href="mailto:x@example.com">mail</a><a href="#top">top</a><a href="sub/./page.html#frag">p</a>
<a href="http://127.0.0.1:1/elsewhere.html">another host</a>
</body></html>
HTML
    printf '@import "b.css";\n/* url(img/commented.png) */\n.x { background: url(../img/from-a.png) }\n' > "$w/css/a.css"
    printf '.y { background-image: image-set("../img/set1.png" 1x, url(../img/set2.png) 2x) }\n' > "$w/css/b.css"
    printf '<html><head><base href="/img/"></head><body><img src="based.png"></body></html>\n' > "$w/sub/page.html"
    for f in sub/next.html sub/refresh.html opensearch.xml img/fav.ico img/pre.png \
        img/style-block.png img/style-attr.png img/a.png img/a2.png img/a3.png img/poster.png \
        img/svg-image.png img/sprite.svg img/obj.svg img/embed.svg img/from-a.png img/set1.png \
        img/set2.png img/based.png; do
        echo "$f" > "$w/$f"
    done
    realsite_serve "$w"
    python3 "$ROOT/tests/integration/servers/refcrawl.py" "$NBASE/index.html" | sed "s|^$NBASE||" > got.txt
    printf '%s\n' /css/a.css /css/b.css /img/a.png /img/a2.png /img/a3.png /img/based.png \
        /img/embed.svg /img/fav.ico /img/from-a.png /img/obj.svg /img/poster.png /img/pre.png \
        /img/set1.png /img/set2.png /img/sprite.svg /img/style-attr.png /img/style-block.png \
        /img/svg-image.png /index.html /opensearch.xml /robots.txt /sub/next.html /sub/page.html \
        /sub/refresh.html | sort > want.txt
    diff want.txt got.txt
    # and gather fetches exactly those, each once (CSS-only files, rel=search and SVG too)
    : > "$NGINX_LOG"
    gather crawl "$NBASE/index.html" -d 1000 --save all -o out -q \
        --include "^http://127\\.0\\.0\\.1:$NGINX_PORT/"
    awk '{print $4}' "$NGINX_LOG" | sed 's/#.*//' | sort > gathered.txt
    diff want.txt gathered.txt
}

# An offline mirror of a real site, as `wget -m -k -p -E` makes one, archived as WARC in the
# same crawl: every relative link and CSS reference in every saved page resolves to a saved file
# and the bytes outside the links are nginx's (mirror/check_links.py, its own HTML reading);
# Chromium opens 50 pages picked at random from file:// with the network off and no subresource
# the site serves fails; warcio reads the WARC back with every digest valid and one response or
# revisit record per exchange nginx logged.
test_realsite_mirror_offline_and_warc() {
    local root host chromium rc=0 pages url uri
    root=$(realsite_root postgresql-doc)
    realsite_serve "$root"
    host=127.0.0.1_$NGINX_PORT
    gather crawl -m -k -p -E -P out -q --warc-file arc --warc-cdx \
        --include "^http://127\\.0\\.0\\.1:$NGINX_PORT/" "$NBASE/index.html" 2> crawl.err || rc=$?
    assert_eq "$rc" "$(awk '$3 != 200 && $4 != "/robots.txt"' "$NGINX_LOG" | grep -q . && echo 1 || echo 0)" \
        "exit status" || { head -5 crawl.err; return 1; }
    python3 "$ROOT/tests/integration/mirror/check_links.py" out "$root" "$host" "$NBASE" "$NGINX_LOG" \
        > links.txt || { tail -20 links.txt; return 1; }
    cat links.txt
    # the WARC: every exchange nginx logged is a response (or a revisit of an identical one)
    warcio_setup
    warc_check arc.warc.gz arc.cdx
    assert_eq "$(jq '(.types.response // 0) + (.types.revisit // 0)' check.json)" \
        "$(wc -l < "$NGINX_LOG")" "response and revisit records"
    assert_eq "$(jq '.types.request' check.json)" "$(wc -l < "$NGINX_LOG")" "request records"
    chromium=$(command -v chromium || true)
    if [ -z "$chromium" ] || ! command -v node >/dev/null || ! puppeteer_ready; then
        echo "# skip: no chromium, node or puppeteer-core (npm install failed)"
        return 0
    fi
    mapfile -t pages < <(find "$PWD/out/$host" -name '*.html' | sort |
                         shuf -n 50 --random-source=<(yes gather))
    assert_eq "${#pages[@]}" 50 "pages to browse"
    NODE_PATH="$BUILD/node/node_modules" timeout 300 node "$ROOT/tests/integration/mirror/browse.js" \
        "$chromium" "${pages[@]}" > browse.txt 2>&1 || { tail -20 browse.txt; return 1; }
    tail -1 browse.txt
    grep -q '^failed 0 network [0-9]* pages 50$' browse.txt || { head -20 browse.txt; return 1; }
    # what a page still asked the network for is what the site does not serve
    for url in $(sed -n 's/^net [0-9]*: //p' browse.txt); do
        uri=/${url#http://*/}
        if grep -q " 200 ${uri%%#*} " "$NGINX_LOG"; then
            echo "# $url was saved, yet a page asked the network for it"
            return 1
        fi
    done
}

run_tests "$@"
