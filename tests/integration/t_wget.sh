#!/usr/bin/env bash
# Integration tests of wget's spellings (-np, -w, --random-wait, -nc, -N, -U, -A, -e robots=off)
# against nginx from Debian serving a small static site: each checked from what nginx logged (when
# each request started, its If-Modified-Since and User-Agent, the status it got).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"

# wsite: the site under $TMP/nginx/www, served by nginx at $NBASE, logging to $WLOG one line a
# request: "start-time status uri [If-Modified-Since] [User-Agent]". The guide's pages link up
# (../, /top.html) and down; part/N.html is reached only through part/(N-1).html.
wsite() {
    local w=$TMP/nginx/www i
    mkdir -p "$w/docs/guide/part" "$w/docs/other"
    echo '<html><body><a href="docs/">docs</a></body></html>' > "$w/top.html"
    echo '<html><body><a href="guide/">guide</a><a href="other/x.html">x</a></body></html>' > "$w/docs/index.html"
    echo '<html><body>x</body></html>' > "$w/docs/other/x.html"
    cat > "$w/docs/guide/index.html" <<'HTML'
<html><body><a href="part/1.html">1</a> <a href="../index.html">up</a> <a href="../other/x.html">x</a>
<a href="/top.html">top</a> <img src="pic.png"></body></html>
HTML
    head -c 3000 /dev/urandom > "$w/docs/guide/pic.png"
    for i in 1 2 3 4 5 6; do
        echo "<html><body><a href=\"$((i + 1)).html\">next</a> <a href=\"../../index.html\">up</a></body></html>" \
            > "$w/docs/guide/part/$i.html"
    done
    echo '<html><body>end</body></html>' > "$w/docs/guide/part/7.html"
    touch -d '2026-01-02 03:04:05 UTC' "$w"/docs/guide/part/*.html "$w/docs/guide/index.html"
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@;
        root $w;
        access_log $TMP/nginx/wget.log wget;
    }
    server {
        listen 127.0.0.1:@PORT2@;
        root $w;
        access_log $TMP/nginx/other.log wget;
    }" "log_format wget '\$msec \$request_time \$status \$request_uri [\$http_if_modified_since] [\$http_user_agent]';"
    NBASE="http://127.0.0.1:$NGINX_PORT"
    WLOG=$TMP/nginx/wget.log
    OLOG=$TMP/nginx/other.log           # the second server, reached as localhost: another host
    echo "<html><body><a href=\"http://localhost:$NGINX_PORT2/docs/other/x.html\">off</a></body></html>" \
        > "$w/docs/guide/off.html"
}

# uris [FROM]: the URIs nginx logged from line FROM (default 1) on, in order.
uris() { tail -n "+${1:-1}" "$WLOG" | awk '{ print $4 }'; }

test_np_never_asks_above_the_start_folder() {
    wsite
    gather crawl -r -l inf -np "$NBASE/docs/guide/" -o out -q
    uris | grep -v '^/robots.txt$' | sort > got
    # everything under the folder, to the end of the chain; nothing above it
    printf '%s\n' /docs/guide/ /docs/guide/part/{1,2,3,4,5,6,7}.html /docs/guide/pic.png | sort > want
    diff want got
    # and without -np the same crawl goes up: the test can tell
    gather crawl -l inf "$NBASE/docs/guide/" -o out2 -q
    uris | grep -qx /docs/index.html
    uris | grep -qx /top.html
}

test_np_from_a_page_url_keeps_to_its_folder() {
    wsite
    # a start URL that names a page: its folder is the limit, as wget's
    gather crawl --no-parent --level=2 "$NBASE/docs/guide/part/1.html" -o out -q
    uris | grep -v '^/robots.txt$' | sort > got
    printf '%s\n' /docs/guide/part/{1,2,3}.html | sort > want
    diff want got
}

# The start times nginx saw (msec - request_time), one a line, robots.txt left out.
starts() { awk '$4 != "/robots.txt" { printf "%.3f\n", $1 - $2 }' "$WLOG"; }

test_w_spaces_the_requests_nginx_receives() {
    wsite
    gather crawl -np -w 0.2 "$NBASE/docs/guide/" -o out -q
    starts > t
    # the default depth is 5, as wget's: the start page, its image, part/1 to part/5
    assert_eq "$(wc -l < t)" 7 "requests"
    # every request started at least 0.2 s after the one before (a 10 ms allowance for the log)
    awk 'NR > 1 && $1 - prev < 0.19 { print "# gap of " $1 - prev " s before request " NR; bad = 1 }
         { prev = $1 } END { exit bad }' t
}

test_random_wait_varies_the_gaps_between_half_and_one_and_a_half() {
    wsite
    gather crawl -np -l inf -w 0.2 --random-wait "$NBASE/docs/guide/" -o out -q
    starts > t
    assert_eq "$(wc -l < t)" 9 "requests"
    # 0.1 s at least (a 10 ms allowance), and not one fixed period: the gaps spread
    awk 'NR > 1 { g = $1 - prev; if (g < 0.09) { print "# gap of " g " s"; bad = 1 }
                  if (NR == 2 || g < lo) lo = g; if (g > hi) hi = g }
         { prev = $1 } END { if (hi - lo < 0.02) { print "# gaps all within " hi - lo " s"; bad = 1 }
                             exit bad }' t
}

test_nc_asks_for_no_file_that_exists_and_reads_its_links_from_disk() {
    wsite
    gather crawl -np -l inf "$NBASE/docs/guide/" -o out -q
    local saved n
    saved=$(find out -name 5.html)
    [ -f "$saved" ]
    rm -f out/.gather.db* "$saved"
    echo '<!-- kept as it was -->' >> "$(find out -name 1.html)"
    n=$(($(wc -l < "$WLOG") + 1))
    gather crawl -nc -np -l inf "$NBASE/docs/guide/" -o out 2> err.txt
    # only the file that is missing, reached through pages read from the disk
    uris "$n" | grep -v '^/robots.txt$' > got
    printf '/docs/guide/part/5.html\n' > want
    diff want got
    grep -q 'kept as it was' "$(find out -name 1.html)"
    grep -q ', 8 already there' err.txt
}

test_N_sends_if_modified_since_and_keeps_a_file_on_304() {
    wsite
    local www=$TMP/nginx/www n page1
    gather crawl -N -np -l inf "$NBASE/docs/guide/" -o out -q
    page1=$(find out -name 1.html)
    # a saved file has the server's Last-Modified as its mtime
    assert_eq "$(stat -c %Y "$page1")" "$(stat -c %Y "$www/docs/guide/part/1.html")" "mtime of part/1.html"
    # part/2.html changes on the server; the crawl runs again on the same folder
    echo '<html><body><a href="3.html">next</a> changed</body></html>' > "$www/docs/guide/part/2.html"
    touch -d '2026-02-03 04:05:06 UTC' "$www/docs/guide/part/2.html"
    n=$(($(wc -l < "$WLOG") + 1))
    gather crawl -N -np -l inf "$NBASE/docs/guide/" -o out 2> err.txt
    tail -n "+$n" "$WLOG" | awk '$4 ~ /\.html$|\/$/' > pages.log
    # every page was asked for with its saved mtime; unchanged ones got 304, the changed one 200
    assert_eq "$(grep -c '\[Fri, 02 Jan 2026 03:04:05 GMT\]' pages.log)" 8 "requests with If-Modified-Since"
    assert_eq "$(awk '$3 == 304' pages.log | wc -l)" 7 "304 answers"
    assert_eq "$(awk '$3 == 200 { print $4 }' pages.log)" /docs/guide/part/2.html "the 200"
    # the chain past the 304 pages was followed through their saved copies
    grep -q ' /docs/guide/part/7.html ' pages.log
    grep -q changed "$(find out -name 2.html)"
    assert_eq "$(stat -c %Y "$(find out -name 2.html)")" "$(stat -c %Y "$www/docs/guide/part/2.html")" "new mtime"
    cmp "$page1" "$www/docs/guide/part/1.html"
    grep -q '1 ok, 0 failed, 8 already there' err.txt      # 7 pages and the image: 304
}

test_get_nc_asks_for_no_file_that_exists() {
    wsite
    mkdir out
    echo mine > out/1.html
    gather get -nc "$NBASE/docs/guide/part/1.html" "$NBASE/docs/guide/part/2.html" -o out 2> err.txt
    assert_eq "$(uris)" /docs/guide/part/2.html "requests"
    assert_eq "$(cat out/1.html)" mine
    cmp out/2.html "$TMP/nginx/www/docs/guide/part/2.html"
    grep -q '1 already there' err.txt
}

test_U_A_and_e_robots_off() {
    wsite
    printf 'User-agent: *\nDisallow: /docs/guide/part/\n' > "$TMP/nginx/www/robots.txt"
    gather crawl -np -U 'wgetish/1.0' -A '*.png' "$NBASE/docs/guide/" -o out -q
    assert_eq "$(awk '$4 != "/robots.txt"' "$WLOG" | grep -vc '\[wgetish/1.0\]' || true)" 0 "requests without -U's agent"
    assert_eq "$(uris | grep -c '^/docs/guide/part/' || true)" 0 "robots.txt obeyed"
    assert_eq "$(find out -type f ! -name '.gather.db*' | sed 's|.*/||')" pic.png "files -A '*.png' saved"
    gather crawl -np -l inf -e robots=off "$NBASE/docs/guide/" -o out2 -q
    uris | grep -qx /docs/guide/part/7.html
}

# -H follows links to other hosts; -D keeps only the hosts of its domains (with -H, as wget).
test_H_spans_hosts_and_D_narrows_them() {
    wsite
    gather crawl -np "$NBASE/docs/guide/off.html" -o out -q
    [ ! -s "$OLOG" ] || { echo "# host scope: $(cat "$OLOG")"; return 1; }
    gather crawl -np -H -D 127.0.0.1 "$NBASE/docs/guide/off.html" -o out2 -q
    [ ! -s "$OLOG" ] || { echo "# -D 127.0.0.1: $(cat "$OLOG")"; return 1; }
    gather crawl -np -H "$NBASE/docs/guide/off.html" -o out3 -q
    assert_eq "$(awk '$4 != "/robots.txt" { print $4 }' "$OLOG")" /docs/other/x.html "-H: the other host"
    : > "$OLOG"
    gather crawl --span-hosts --domains=localhost,example.org "$NBASE/docs/guide/off.html" -o out4 -q
    assert_eq "$(awk '$4 != "/robots.txt" { print $4 }' "$OLOG")" /docs/other/x.html "-H -D localhost"
}

run_tests "$@"
