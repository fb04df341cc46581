#!/usr/bin/env bash
# Integration tests of --content-disposition against the fixture server's /cd/<i>?raw=VALUE route
# (the /img/<i>.jpg body under any Content-Disposition): hostile names are saved safely inside -o
# in every mode, clashes get the unique-name suffixes, and the name survives in .gather.db so a
# re-run skips the file or resumes its .part.
. "$(dirname "$0")/lib.sh"

# cd_url I VALUE: the URL of /cd/I sending `Content-Disposition: VALUE`.
cd_url() {
    printf '%s/cd/%s?raw=%s\n' "$BASE" "$1" "$(jq -rn --arg v "$2" '$v | @uri')"
}

LONG=$(printf 'x%.0s' $(seq 1 300))

# hostile_list: one URL per case, and in expected.txt the name each must get ("@URL" for the name
# the URL itself gives, the header naming nothing usable), in the same order.
hostile_list() {
    local i=0 v want
    : > list.txt
    : > expected.txt
    while IFS=$'\t' read -r v want; do
        i=$((i + 1))
        v=$(printf '%b' "$v")
        cd_url "$i" "$v" >> list.txt
        [ "$want" = "@URL" ] && want=$i
        printf '%b\n' "$want" >> expected.txt
    done <<'CASES'
attachment; filename="../../etc/passwd"	passwd
attachment; filename="/etc/shadow"	shadow
attachment; filename="C:\\\\Windows\\\\evil.exe"	evil.exe
attachment; filename*=UTF-8''..%2F..%2Froot%2F.bashrc	.bashrc
attachment; filename*=UTF-8''%E2%82%AC%20rates.txt	\xe2\x82\xac rates.txt
attachment; filename*=ISO-8859-1''caf%E9.txt	caf\xc3\xa9.txt
attachment; filename="wrong.txt"; filename*=UTF-8''right.txt	right.txt
attachment; filename="a\x01b\x1b[31mc\x7fd.txt"	a_b_[31mc_d.txt
attachment; filename*=UTF-8''nul%00byte%0d%0a.txt	nul_byte__.txt
attachment; filename="q\\"uote.txt"	q"uote.txt
attachment; filename=".."	__
attachment; filename="..."	___
attachment; filename=".gather.db"	_.gather.db
attachment; filename=".gather.db-wal"	_.gather.db-wal
attachment; filename="CON.txt"	_CON.txt
attachment; filename=unquoted name.txt	unquoted name.txt
attachment; filename*=UTF-8''%C0%AE%C0%AE	____
inline	@URL
attachment; filename="dir/"	@URL
attachment; filename="   "	@URL
attachment; filename*=KOI8-R''abc	@URL
CASES
}

# check_hostile DIR: every file of hostile_list in DIR under its expected name with the bytes of
# its /img/<i>.jpg, the 300-byte name cut to 250 bytes, and nothing else anywhere in $TMP.
check_hostile() {
    local dir=$1 i=0 want long
    while IFS= read -r want; do
        i=$((i + 1))
        [ -f "$dir/$want" ] || { echo "# case $i: no file '$want' in $dir"; ls -A "$dir"; return 1; }
        expect_same "$dir/$want" "/img/$i.jpg"
    done < expected.txt
    # the long name: cut at 250 bytes with the URL's suffix before its extension
    long=$(cd "$dir" && ls -A | grep '^xxxx')
    assert_eq "$(printf '%s' "$long" | wc -c)" 250 "bytes in the long name"
    [[ "$long" =~ ^x+-[0-9a-f]{8}\.bin$ ]] || { echo "# long name: $long"; return 1; }
    expect_same "$dir/$long" "/img/$((i + 1)).jpg"
    assert_eq "$(count_final "$dir")" $((i + 1)) "files in $dir"
    no_partial "$dir"
    # nothing outside -o: gather ran in the folder above it, which holds -o alone
    assert_eq "$(ls -A "$dir/..")" "$(basename "$dir")" "entries beside the output folder"
    # the state database survived every name aimed at it
    if [ -e "$dir/.gather.db" ]; then
        assert_eq "$(sqlite3 "$dir/.gather.db" "SELECT count(*) FROM urls WHERE status = 'done'")" \
            $((i + 1)) "done rows"
    fi
}

test_hostile_names_stay_inside_output() {
    local m
    server_start
    hostile_list
    cd_url $(( $(wc -l < list.txt) + 1 )) "attachment; filename=\"$LONG.bin\"" >> list.txt
    for m in async threads sync; do
        mkdir "run-$m"
        (cd "run-$m" && gather get -q -i ../list.txt -o out --mode $m --content-disposition)
        check_hostile "run-$m/out"
    done
    # the state database names the files as saved
    assert_eq "$(sqlite3 run-async/out/.gather.db "SELECT path FROM urls WHERE url = '$(sed -n 1p list.txt)'")" passwd
    # without the option the header is ignored: the URL names the file
    gather get -q -i list.txt -o plain
    assert_eq "$(count_final plain)" "$(wc -l < list.txt)" "files"
    for i in 1 2 3; do expect_same "plain/$i" "/img/$i.jpg"; done
}

test_tree_layout_keeps_the_folders() {
    server_start
    gather get -q -o out --layout tree --content-disposition \
        "$(cd_url 4 'attachment; filename="../../../x.zip"')"
    expect_same "out/127.0.0.1_$PORT/cd/x.zip" /img/4.jpg
    assert_eq "$(count_final out)" 1 "files"
}

test_same_name_gets_a_suffix() {
    local u1 u2 p1 p2
    server_start
    u1=$(cd_url 1 'attachment; filename="report.pdf"')
    u2=$(cd_url 2 'attachment; filename="report.pdf"')
    printf '%s\n%s\n' "$u1" "$u2" > list.txt
    gather get -q -i list.txt -o out --content-disposition
    assert_eq "$(count_final out)" 2 "files"
    p1=$(sqlite3 out/.gather.db "SELECT path FROM urls WHERE url = '$u1'")
    p2=$(sqlite3 out/.gather.db "SELECT path FROM urls WHERE url = '$u2'")
    # one of them has the name, the other the name with its URL's suffix
    assert_eq "$(printf '%s\n%s\n' "$p1" "$p2" | grep -c '^report\.pdf$')" 1 "plain names"
    assert_eq "$(printf '%s\n%s\n' "$p1" "$p2" | grep -cE '^report-[0-9a-f]{8}\.pdf$')" 1 "suffixed names"
    expect_same "out/$p1" /img/1.jpg
    expect_same "out/$p2" /img/2.jpg
}

test_rerun_finds_the_server_name() {
    local i
    server_start
    for i in 1 2 3; do cd_url $i "attachment; filename=\"named-$i.jpg\""; done > list.txt
    gather get -q -i list.txt -o out --content-disposition
    for i in 1 2 3; do expect_same "out/named-$i.jpg" /img/$i.jpg; done
    server_reset
    gather get -q -i list.txt -o out --content-disposition --json > out.json
    assert_eq "$(jq -r 'select(.summary) | .summary.skipped' out.json)" 3 "skipped"
    assert_eq "$(jq -r 'select(.skipped) | .path' out.json | sort | tr '\n' ' ')" \
        "named-1.jpg named-2.jpg named-3.jpg " "paths"
    assert_eq "$(server_stat requests)" 0 "requests of the re-run"
    assert_eq "$(count_final out)" 3 "files"
}

test_interrupted_download_resumes_under_the_server_name() {
    local url rc=0 pid i size=0
    server_start
    # 3 MB handed out at 1000 KiB/s: about 3 s, time to interrupt it half-way
    url="$BASE/cd/7?size=3000000&rate=1000&raw=$(jq -rn '"attachment; filename=\"big.bin\"" | @uri')"
    timeout --foreground -s KILL 60 "$GATHER" get -q -o out --content-disposition "$url" 2>err.txt &
    pid=$!
    for i in $(seq 1 200); do
        size=$(stat -c %s out/big.bin.part 2>/dev/null || echo 0)
        [ "$size" -lt 500000 ] || break
        sleep 0.05
    done
    kill -INT "$pid"
    wait "$pid" || rc=$?
    cat err.txt
    assert_eq "$rc" 130 "exit status of the interrupted run"
    assert_ge "$(stat -c %s out/big.bin.part)" 500000 "bytes kept in big.bin.part"
    assert_absent out/7 out/7.part out/big.bin
    server_reset
    gather get -q -o out --content-disposition "$url"
    cmp out/big.bin <("$FIXTURE" --emit "/cd/7?size=3000000")
    assert_eq "$(server_stat ranges)" 1 "Range requests of the re-run"
    assert_absent out/7 out/big.bin.part
    assert_eq "$(count_final out)" 1 "files"
}

run_tests "$@"
