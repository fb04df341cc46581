#!/usr/bin/env bash
# Integration tests of the command line that get, crawl and bench share: every usage error names
# the option it is about (never the URL beside it) and exits 2; options may follow the URLs.
. "$(dirname "$0")/lib.sh"

# The URL the errors must not blame. Nothing connects to it: each case fails while parsing.
U=http://127.0.0.1:1/page.html

# usage_errors: one case a line, "ARGS | the first line on stderr", U standing for $U in ARGS.
usage_errors() {
    cat <<'EOF'
get U -np                    | gather get: unknown option '-n' in '-np' (see gather get --help)
crawl -npq U                 | gather crawl: unknown option '-n' in '-npq' (see gather crawl --help)
crawl U -l                   | gather crawl: option '-l' needs a value
crawl U -l x                 | gather: -l: 'x' is not a whole number from 0 to 1000, nor inf
crawl U -e cookies=off       | gather: -e: 'cookies=off' is not a command gather knows (robots=on|off, wait=SECONDS, randomwait=on|off)
crawl U -w 1y                | gather: -w: '1y' is not a number of seconds up to an hour (s, m, h suffixes allowed)
crawl U -qy                  | gather crawl: unknown option '-y' in '-qy' (see gather crawl --help)
crawl U -pn                  | gather crawl: unknown option '-n' in '-pn' (see gather crawl --help)
crawl U -qn                  | gather crawl: unknown option '-n' in '-qn' (see gather crawl --help)
crawl U -n                   | gather crawl: unknown option '-n' (see gather crawl --help)
get U -qx                    | gather get: unknown option '-x' in '-qx' (see gather get --help)
bench U -d 1                 | gather bench: unknown option '-d' (see gather bench --help)
crawl U --bogus=1            | gather crawl: unknown option '--bogus' (see gather crawl --help)
get U --depth 1              | gather get: unknown option '--depth' (see gather get --help)
crawl U --sitemap=yes        | gather crawl: option '--sitemap' takes no value
crawl U --re 1               | gather crawl: option '--re' is not spelled in full (did you mean --read-timeout, --retries, --retry-delay, --recursive, --reject or --redis?)
get --user-a x:y U           | gather get: option '--user-a' is not spelled in full (did you mean --user-agent?)
get --head U                 | gather get: option '--head' is not spelled in full (did you mean --header?)
crawl U --dept               | gather crawl: option '--dept' is not spelled in full (did you mean --depth?)
get U --he                   | gather get: option '--he' is not spelled in full (did you mean --header or --help?)
crawl U -qd                  | gather crawl: option '-d' in '-qd' needs a value
crawl U --depth              | gather crawl: option '--depth' needs a value
get U -c                     | gather get: option '-c' needs a value
get U -c 0                   | gather: -c: '0' is not a whole number from 1 to 10000
get U -qc0                   | gather: -c: '0' is not a whole number from 1 to 10000
get U --concurrency 0        | gather: --concurrency: '0' is not a whole number from 1 to 10000
get U --conc 0               | gather get: option '--conc' is not spelled in full (did you mean --concurrency?)
get U --concurrency=0        | gather: --concurrency: '0' is not a whole number from 1 to 10000
crawl U --depth=x            | gather: --depth: 'x' is not a whole number from 0 to 1000, nor inf
crawl U --save most          | gather: --save: 'most' is not all, pages, assets or none
get U --timeout soon         | gather: --timeout: 'soon' is not a number of seconds
get U --max-filesize 1Q      | gather: --max-filesize: '1Q' is not a size in bytes (K, M, G allowed)
bench U --repeat=0           | gather: --repeat: '0' is not a whole number from 1 to 1000
get U --password pw          | gather: --password: give the user name with --user
get U --user ann             | gather: --user ann: no password; give --user ann:PASSWORD or --password PASSWORD (or run on a terminal, to be asked)
get U --user :pw             | gather: --user: the user name is empty
get U --user a:b --password c | gather: --user and --password both give a password: give it once
get U --load-cookies nofile  | gather: --load-cookies: cannot read nofile: No such file or directory
crawl U --netrc-file nofile  | gather: --netrc-file: cannot read nofile: No such file or directory
get U --netrc-f nofile       | gather get: option '--netrc-f' is not spelled in full (did you mean --netrc-file?)
bench U --user a:b           | gather bench: option '--user' is not spelled in full (did you mean --user-agent?)
EOF
}

test_usage_errors_name_the_option_and_exit_2() {
    local args want rc n=0
    local -a argv
    usage_errors > cases.txt
    while IFS='|' read -r args want; do
        read -r -a argv <<< "${args//U/$U}"
        want=${want# }
        rc=0
        gather "${argv[@]}" < /dev/null > out.txt 2> err.txt || rc=$?
        assert_eq "$rc" 2 "(exit status of gather $args)"
        assert_eq "$(head -1 err.txt)" "$want" "(gather $args)"
        if grep -qF "$U" err.txt; then
            echo "# gather $args blames the URL: $(head -1 err.txt)"
            return 1
        fi
        assert_eq "$(wc -c < out.txt)" 0 "(bytes on stdout from gather $args)"
        n=$((n + 1))
    done < cases.txt
    assert_eq "$n" "$(wc -l < cases.txt)" "cases run"
}

test_options_after_the_url_and_in_clusters_apply() {
    server_start
    gather get "$BASE/img/1.jpg" -vc1 -o out --retries=0 2> err.txt
    expect_same out/1.jpg /img/1.jpg
    grep -q '^gather: 1 ok, 0 failed' err.txt
    gather crawl "$BASE/site/" -qd0 -o out2 --save none
    assert_eq "$(server_stat requests)" 3 "requests: the image, robots.txt, the start page"
}

run_tests "$@"
