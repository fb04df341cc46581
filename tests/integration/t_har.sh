#!/usr/bin/env bash
# Integration tests of what --har records of the wire: every request header gather sent, every
# response header in the order the server sent it, an entry per exchange (robots.txt and every
# redirect hop, those curl followed inside one transfer too) and one HAR page per start URL.
. "$(dirname "$0")/lib.sh"

HERE="$ROOT/tests/integration"

har_valid() {
    local problems
    problems=$(jq -r -f "$HERE/har_check.jq" "$1") || { echo "# $1 is not JSON"; return 1; }
    [ -z "$problems" ] || { echo "# $1 is not valid HAR 1.2:"; echo "$problems" | sed 's/^/#   /'; return 1; }
}

# header_names URL: the response header names the server sends for URL, in order, as curl
# shows them (an independent client), one per line; Date aside (it changes).
header_names() { curl -s -m 10 -o /dev/null -D - "$1" | tr -d '\r' | sed -n '2,$s/:.*//p' | grep -v '^Date$' | grep -v '^$'; }

test_crawl_has_a_page_per_start_url_and_the_headers_on_the_wire() {
    server_start
    gather crawl -q -o out -d 1 --header 'X-Probe: yes' --har crawl.har "$BASE/site/" "$BASE/site/b.html"
    har_valid crawl.har
    server_reset
    # a page per start URL, titled with it; every entry in one of them
    assert_eq "$(jq -r '[.log.pages[] | "\(.id) \(.title)"] | join(",")' crawl.har)" "page_1 $BASE/site/,page_2 $BASE/site/b.html"
    assert_eq "$(jq '[.log.entries[] | select(.pageref != "page_1" and .pageref != "page_2")] | length' crawl.har)" 0
    # a start URL's entry is in its own page, and robots.txt in the page of the first start URL of its origin
    assert_eq "$(jq -r --arg u "$BASE/site/b.html" '.log.entries[] | select(.request.url == $u) | .pageref' crawl.har)" page_2
    assert_eq "$(jq -r --arg u "$BASE/site/" '.log.entries[] | select(.request.url == $u) | .pageref' crawl.har)" page_1
    assert_eq "$(jq -r --arg u "$BASE/robots.txt" '.log.entries[] | select(.request.url == $u) | .pageref' crawl.har)" page_1
    assert_eq "$(jq '[.log.entries[] | select(.response.status == 301)] | length' crawl.har)" 1
    # the request headers as sent: gather's own and the user's, on every entry
    assert_eq "$(jq '[.log.entries[] | select([.request.headers[] | select(.name == "X-Probe" and .value == "yes")] | length != 1)] | length' crawl.har)" 0
    assert_eq "$(jq '[.log.entries[] | select([.request.headers[].name] | index("Host") == null or index("User-Agent") == null)] | length' crawl.har)" 0
    # the response headers: all of them, in the server's order (curl, another client, sees the same)
    assert_eq "$(jq -r --arg u "$BASE/img/1.jpg" '.log.entries[] | select(.request.url == $u) | .response.headers[].name' crawl.har | grep -v '^Date$')" "$(header_names "$BASE/img/1.jpg")"
    assert_eq "$(jq -r --arg u "$BASE/img/1.jpg" '.log.entries[] | select(.request.url == $u) | .response.headers[] | select(.name == "ETag") | .value' crawl.har)" '"img-1-20000"'
    assert_eq "$(jq -r --arg u "$BASE/site/moved.html" '.log.entries[] | select(.request.url == $u) | .response.headers[] | select(.name == "Location") | .value' crawl.har | wc -l)" 1
    # what a start URL's pages link to is in that start URL's page, two levels down too
    gather crawl -q -o out2 -d 2 --har links.har "$BASE/links?a=$BASE/links%3Fimg%3D$BASE/img/31.jpg" \
        "$BASE/links?a=$BASE/img/32.jpg&img=$BASE/img/33.jpg"
    har_valid links.har
    assert_eq "$(jq -r --arg u "$BASE/img/31.jpg" '.log.entries[] | select(.request.url == $u) | .pageref' links.har)" page_1
    assert_eq "$(jq -r --arg u "$BASE/img/32.jpg" '.log.entries[] | select(.request.url == $u) | .pageref' links.har)" page_2
    assert_eq "$(jq -r --arg u "$BASE/img/33.jpg" '.log.entries[] | select(.request.url == $u) | .pageref' links.har)" page_2
}

test_get_redirect_hops_are_entries() {
    server_start
    gather get -q -o out --har get.har "$BASE/redirect/2/3" "$BASE/img/4.jpg"
    har_valid get.har
    # every exchange the server saw is an entry: three 302s and two 200s
    assert_eq "$(jq '.log.entries | length' get.har)" "$(server_stat requests)"
    assert_eq "$(jq '[.log.entries[] | select(.response.status == 302)] | length' get.har)" 3
    assert_eq "$(jq -r '[.log.entries[] | select(.response.status == 302) | .response.redirectURL] | join(",")' get.har)" "/redirect/1/3,/redirect/0/3,/img/3.jpg"
    assert_eq "$(jq -r '[.log.pages[].id] | join(",")' get.har)" page_1
    assert_eq "$(jq '[.log.entries[] | select(.pageref != "page_1")] | length' get.har)" 0
    assert_eq "$(jq '[.log.entries[] | select(.request.headersSize <= 0 or .response.headersSize <= 0)] | length' get.har)" 0
}

run_tests "$@"
