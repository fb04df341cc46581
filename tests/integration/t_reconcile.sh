#!/usr/bin/env bash
# Integration tests of the state database after a kill -9: rows are written in batches, so the
# last ones die with the process, and the re-run must record every file it finds complete on
# disk as it is (done, its size, its SHA-256), fetching none of them again. Checked against the
# files themselves (stat, sha256sum) and the fixture server's log.
. "$(dirname "$0")/lib.sh"

GPID=

# lib.sh's EXIT trap calls server_stop: kill a gather a failed test left running there too.
eval "lib_$(declare -f server_stop)"
server_stop() {
    if [ -n "$GPID" ]; then
        kill -KILL "$GPID" 2>/dev/null || true
        wait "$GPID" 2>/dev/null || true
        GPID=
    fi
    lib_server_stop
}

# disk_table DIR: "PATH SIZE SHA256" for every file under a final name in DIR, sorted.
disk_table() {
    local here=$PWD
    cd "$1"
    find . -type f ! -name '.gather.db*' ! -name '*.part' -printf '%P %s\n' | LC_ALL=C sort > "$here/.sizes"
    find . -type f ! -name '.gather.db*' ! -name '*.part' -printf '%P\0' | xargs -0 -r sha256sum |
        awk '{ print $2, $1 }' | LC_ALL=C sort > "$here/.hashes"
    cd "$here"
    LC_ALL=C join .sizes .hashes
}

# db_table DIR: "PATH BYTES SHA256" of every done row of DIR/.gather.db that names a file, sorted.
db_table() {
    sqlite3 -separator ' ' "$1/.gather.db" \
        "SELECT path, bytes, sha256 FROM urls WHERE status = 'done' AND path IS NOT NULL" | LC_ALL=C sort
}

# unrecorded DIR: the files of disk_table DIR that no done row describes truly (a line each).
unrecorded() {
    disk_table "$1" > .disk
    db_table "$1" > .db
    LC_ALL=C comm -23 .disk .db
}

# kill_when_saved N ARGS...: starts gather ARGS in the background, waits (at most 20 s) until N
# files have their final names in out/, then kills it with SIGKILL.
kill_when_saved() {
    local n=$1 i
    shift
    $GATHER_WRAP "$GATHER" "$@" 2>killed.err &
    GPID=$!
    for i in $(seq 1 400); do
        [ "$(count_final out 2>/dev/null || echo 0)" -lt "$n" ] || break
        kill -0 "$GPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$GPID" 2>/dev/null || { echo "# gather ended before the kill"; cat killed.err; return 1; }
    wait "$GPID" 2>/dev/null || true
    GPID=
}

test_a_get_killed_mid_run_is_recorded_truly_by_the_rerun() {
    server_start --delay 20
    local i gap files_at_kill
    for i in $(seq 1 2000); do echo "$BASE/img/$i.jpg?size=$((1000 + i))"; done > list.txt
    kill_when_saved 300 get -q -i list.txt -o out -c 50
    files_at_kill=$(count_final out)
    echo "# killed with $files_at_kill files saved"
    assert_ge "$files_at_kill" 300
    assert_le "$files_at_kill" 1999 "files saved before the kill"
    unrecorded out > gap.txt
    gap=$(wc -l < gap.txt)
    echo "# $gap files on disk had no true done row after the kill"
    [ "$gap" -gt 0 ] || echo "# skip: this kill lost no row (the re-run still checked)"
    find out -type f -name '*.jpg' -printf '%f\n' | sed 's/\.jpg$//' | sort -n > complete.txt
    server_reset
    gather get -q -i list.txt -o out -c 50 --json > again.json
    # Every file is described truly, and the files found complete were reported so.
    assert_eq "$(count_final out)" 2000
    unrecorded out > left.txt
    [ ! -s left.txt ] || { echo "# files without a true row:"; head -5 left.txt; return 1; }
    assert_eq "$(db_table out | wc -l)" 2000 "done rows"
    assert_eq "$(jq -s '[.[] | select(.recorded == true)] | length' again.json)" "$gap" "files recorded"
    assert_eq "$(jq -s '[.[] | select(.skipped == "already complete")] | length' again.json)" "$files_at_kill"
    # Nothing complete on disk was asked for again; everything else exactly once.
    curl -sf -m 10 "$BASE/log" | sed -n 's|^GET /img/\([0-9]*\)\.jpg.*|\1|p' | sort -n > asked.txt
    assert_eq "$(comm -12 complete.txt asked.txt | wc -l)" 0 "complete files requested again"
    assert_eq "$(wc -l < asked.txt)" $((2000 - files_at_kill)) "requests of the re-run"
    assert_eq "$(sort -u asked.txt | wc -l)" $((2000 - files_at_kill)) "URLs of the re-run"
}

test_rows_that_disagree_with_the_files_are_corrected() {
    server_start
    local i
    for i in $(seq 1 20); do echo "$BASE/img/$i.jpg"; done > list.txt
    gather get -q -i list.txt -o out
    # What a killed run can leave (a row lost, still pending, of another size, failed), and a
    # file that changed under its row.
    sqlite3 out/.gather.db "DELETE FROM urls WHERE path IN ('1.jpg', '2.jpg', '3.jpg');
        UPDATE urls SET status = 'pending', bytes = 0, sha256 = NULL WHERE path IN ('4.jpg', '5.jpg');
        UPDATE urls SET bytes = bytes + 1 WHERE path = '6.jpg';
        UPDATE urls SET status = 'failed', error = 'connection reset' WHERE path = '7.jpg';"
    printf 'not the server body' > out/8.jpg
    unrecorded out > gap.txt
    assert_eq "$(cut -d' ' -f1 gap.txt | paste -sd' ')" "1.jpg 2.jpg 3.jpg 4.jpg 5.jpg 6.jpg 7.jpg 8.jpg"
    server_reset
    gather get -i list.txt -o out -v --json > again.json 2>err.txt
    assert_eq "$(server_stat requests)" 0 "requests of the re-run"
    unrecorded out > left.txt
    [ ! -s left.txt ] || { echo "# files without a true row:"; cat left.txt; return 1; }
    assert_eq "$(jq -r 'select(.recorded == true) | .path' again.json | sort | paste -sd' ')" \
        "1.jpg 2.jpg 3.jpg 4.jpg 5.jpg 6.jpg 7.jpg 8.jpg"
    assert_eq "$(grep -c 'already complete (.*); recorded in .gather.db$' err.txt)" 8
    assert_eq "$(sqlite3 out/.gather.db "SELECT count(*) FROM urls WHERE status = 'done' AND error IS NULL")" 20
    # A row lost with its HTTP code gets none (it is not known); the others keep theirs.
    assert_eq "$(sqlite3 out/.gather.db "SELECT group_concat(path, ' ') FROM (SELECT path FROM urls WHERE http_code IS NULL ORDER BY path)")" \
        "1.jpg 2.jpg 3.jpg"
    # Rows that agree with their files are left as they are, without reading the files.
    server_reset
    gather get -q -i list.txt -o out --json > third.json
    assert_eq "$(jq -s '[.[] | select(.recorded == true)] | length' third.json)" 0
}

test_a_crawl_killed_mid_run_keeps_every_row_true() {
    server_start --delay 150
    local done_before
    kill_when_saved 12 crawl -q "$BASE/site/" -o out -c 8 -d 9
    echo "# killed with $(count_final out) files saved, $(db_table out | wc -l) done rows"
    # The URLs the database had done: a resumed crawl must not ask for them again.
    sqlite3 out/.gather.db "SELECT url FROM urls WHERE status = 'done'" |
        sed "s|^$BASE||" | sort > done_before.txt
    done_before=$(wc -l < done_before.txt)
    server_reset
    gather crawl "$BASE/site/" -o out -c 8 -d 9 2>again.err || true   # the site's 404 link: 1
    grep -q 'resuming the crawl' again.err
    unrecorded out > left.txt
    [ ! -s left.txt ] || { echo "# files without a true row:"; cat left.txt; return 1; }
    curl -sf -m 10 "$BASE/log" | awk '{ print $2 }' | sort > asked.txt
    assert_eq "$(comm -12 done_before.txt asked.txt | wc -l)" 0 "done URLs requested again ($done_before done)"
    # The whole site is there, as from one uninterrupted crawl.
    gather crawl -q "$BASE/site/" -o fresh -c 8 -d 9 2>/dev/null || true
    assert_eq "$(count_final out)" "$(count_final fresh)" "files of the resumed crawl"
}

test_a_resumed_crawl_keeps_the_names_files_were_saved_under() {
    server_start
    local x x_path x_depth
    # --layout flat: /img/16.jpg and /img/16.jpg?size=5000 both want the name 16.jpg; the first
    # one found gets it, the other a suffix.
    gather crawl -q "$BASE/site/" -o out -d 9 --layout flat 2>/dev/null || true
    sqlite3 -separator ' ' out/.gather.db "SELECT url, path, depth FROM urls
        WHERE url IN ('$BASE/img/16.jpg', '$BASE/img/16.jpg?size=5000') AND path != '16.jpg'" > x.txt
    read -r x x_path x_depth < x.txt
    echo "# $x was saved as $x_path"
    [ -n "$x_path" ] && [ -f "out/$x_path" ]
    # As if the run had been killed before x was fetched: x pending in the frontier, no file.
    sqlite3 out/.gather.db "DELETE FROM urls WHERE url = '$x';
        INSERT INTO frontier (url, depth, kind, hops) VALUES ('$x', $x_depth, 1, 0)"
    rm "out/$x_path"
    server_reset
    gather crawl "$BASE/site/" -o out -d 9 --layout flat 2>again.err || true
    grep -q 'resuming the crawl in out: 1 URLs' again.err
    assert_eq "$(curl -sf -m 10 "$BASE/log" | awk '{ print $2 }' | paste -sd' ')" "/robots.txt ${x#"$BASE"}" "requests"
    # x took its own name again, and the file under the other name is still the other URL's.
    expect_same "out/$x_path" "${x#"$BASE"}"
    expect_same out/16.jpg "$(sqlite3 out/.gather.db "SELECT url FROM urls WHERE path = '16.jpg'" | sed "s|^$BASE||")"
    unrecorded out > left.txt
    [ ! -s left.txt ] || { echo "# files without a true row:"; cat left.txt; return 1; }
}

run_tests "$@"
