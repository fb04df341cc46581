#!/usr/bin/env bash
# Integration tests of stylesheets as a link source in `gather crawl`, against nginx from Debian
# serving a static tree: a page -> a.css -> @import b.css -> @import url(c.css) -> url(img),
# image-set(), plus a <style> block and a style="" attribute, each checked from nginx's access
# log (what was requested, how often) and against the files saved.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers/lib.sh"

# css_site: the tree in nginx/www and nginx serving it on NGINX_PORT; sets NBASE.
css_site() {
    local w=$TMP/nginx/www
    mkdir -p "$w/css" "$w/img"
    cat > "$w/index.html" <<'HTML'
<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="css/a.css">
<style>
  .hero { background: url("img/style-block.png") }
  /* url(img/in-style-comment.png) */
</style>
</head><body>
<div style="background-image: url(&quot;img/style-attr.png&quot;)">x</div>
<a href="page2.html">next</a>
</body></html>
HTML
    cat > "$w/page2.html" <<'HTML'
<!DOCTYPE html><html><body><p style="background: url(img/page2.png)">2</p></body></html>
HTML
    cat > "$w/css/a.css" <<'CSS'
@charset "utf-8";
@import "b.css";
body { background: url(../img/a-bg.png) }
/* body { background: url(../img/commented.png) } */
CSS
    cat > "$w/css/b.css" <<'CSS'
@import url("c.css") screen;
.x { background: url( img.png ) }
.y { background: image-set("hi.png" 1x, url(hi2.png) 2x) }
.z { background: url('../img/a-bg.png') }
.q { content: "not-a-url.png" }
CSS
    cat > "$w/css/c.css" <<'CSS'
.d { background: url(\2e\2e/img/d\65 ep.png) }
.e { background: url(data:image/png;base64,AAAA) }
CSS
    for f in img/style-block.png img/style-attr.png img/a-bg.png img/deep.png img/page2.png \
             css/img.png css/hi.png css/hi2.png; do
        head -c 777 /dev/urandom > "$w/$f"
    done
    nginx_start "$TMP/nginx" "
    server {
        listen 127.0.0.1:@PORT@;
        root $w;
        types { text/html html; text/css css; image/png png; }
    }
    server {
        listen 127.0.0.1:@PORT2@;
        root $w;
        types { text/html html; image/png png; }
        location /untyped/ { types { image/png png; } default_type \"\"; }
        location /plain/ { types { image/png png; } default_type text/plain; }
    }"
    NBASE="http://127.0.0.1:$NGINX_PORT"
}

# crawl ARGS...: gather crawl; exit 1 (a URL failed) is a failure here too.
crawl() { gather crawl "$@"; }

# uris: the URIs nginx answered, sorted, repeats kept.
uris() { awk '{ print $3 " " $4 }' "$NGINX_LOG" | sort; }

test_css_chain_style_block_and_attribute_are_requisites() {
    css_site
    crawl "$NBASE/index.html" -d 0 -o out -q
    uris > got
    cat > want <<'EOF2'
200 /css/a.css
200 /css/b.css
200 /css/c.css
200 /css/hi.png
200 /css/hi2.png
200 /css/img.png
200 /img/a-bg.png
200 /img/deep.png
200 /img/style-attr.png
200 /img/style-block.png
200 /index.html
404 /robots.txt
EOF2
    diff want got
    # Every file saved is the one nginx served.
    for f in css/a.css css/b.css css/c.css css/hi.png css/hi2.png css/img.png img/a-bg.png \
             img/deep.png img/style-attr.png img/style-block.png index.html; do
        cmp "out/127.0.0.1_$NGINX_PORT/$f" "$TMP/nginx/www/$f"
    done
    assert_eq "$(count_final out)" 11 "files saved"
}

test_css_references_follow_the_page_depth_rule() {
    css_site
    # At depth 1, page2 is a page (followed) and its style="" image a requisite.
    crawl "$NBASE/index.html" -d 1 -o out -q
    assert_eq "$(grep -c ' 200 /page2.html ' "$NGINX_LOG")" 1 "page2 requests"
    assert_eq "$(grep -c ' 200 /img/page2.png ' "$NGINX_LOG")" 1 "page2's style image requests"
    assert_eq "$(grep -c ' /img/a-bg.png ' "$NGINX_LOG")" 1 "a-bg.png requests (named twice)"
}

# A stylesheet served with no Content-Type is read when its URL ends in .css; one served as
# text/plain is not (a browser would not apply it either).
test_css_untyped_is_read_mistyped_is_not() {
    css_site
    local w=$TMP/nginx/www
    mkdir -p "$w/untyped" "$w/plain"
    printf '.u { background: url(u.png) }' > "$w/untyped/u.css"
    printf '.p { background: url(p.png) }' > "$w/plain/p.css"
    head -c 100 /dev/urandom > "$w/untyped/u.png"
    head -c 100 /dev/urandom > "$w/plain/p.png"
    printf '<link rel=stylesheet href="untyped/u.css"><link rel=stylesheet href="plain/p.css">' \
        > "$w/two.html"
    crawl "http://127.0.0.1:$NGINX_PORT2/two.html" -d 0 -o out -q
    uris > got
    printf '200 /plain/p.css\n200 /two.html\n200 /untyped/u.css\n200 /untyped/u.png\n404 /robots.txt\n' > want
    diff want got
    curl -s -m 10 -D headers -o /dev/null "http://127.0.0.1:$NGINX_PORT2/untyped/u.css"
    assert_eq "$(grep -ci '^content-type' headers)" 0 "Content-Type headers for untyped/u.css"
}

run_tests "$@"
