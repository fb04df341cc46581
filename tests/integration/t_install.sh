#!/usr/bin/env bash
# gather installed as a command-line tool: make install/uninstall with DESTDIR and PREFIX, the
# man page rendered by man and groff, the completions loaded by bash and zsh, and the Debian
# package built, checked by lintian, installed with apt-get and purged again.
. "$(dirname "$0")/lib.sh"

# The files make install writes under a prefix, in Debian's places.
installed_files() {
    printf '%s\n' "$1/bin/gather" "$1/share/bash-completion/completions/gather" \
        "$1/share/man/man1/gather.1" "$1/share/zsh/vendor-completions/_gather" | sort
}

# The version line names the commit HEAD is (a build from a changed tree says -dirty; one from
# a copy outside git, as tests/mutate makes, says unknown).
assert_version_names_the_commit() {
    local line head=unknown
    line=$("$1" --version | head -n 1)
    if [ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)" = "$ROOT" ]; then
        head=$(git -C "$ROOT" rev-parse --short HEAD)
    fi
    echo "$line" | grep -Eq "^gather [0-9]+\.[0-9]+\.[0-9]+ \(commit $head(-dirty)?\)$" ||
        { echo "# version line '$line', HEAD is $head"; return 1; }
}

# bash_complete SCRIPT WORD...: what the bash completion offers for the last word.
bash_complete() {
    local script=$1
    shift
    bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gather; printf "%s\n" "${COMPREPLY[@]}"' \
        "$script" "$@" | sort
}

test_make_install_and_uninstall_honour_destdir_and_prefix() {
    local stage=$TMP/stage p
    make -s -C "$ROOT" SAN="${SAN:-}" install DESTDIR="$stage" PREFIX=/usr >make.log 2>&1 ||
        { cat make.log; return 1; }
    assert_eq "$(find "$stage" -type f | sort)" "$(installed_files "$stage/usr")" "installed files"
    assert_eq "$(stat -c %a "$stage/usr/bin/gather")" 755 "binary mode"
    assert_eq "$(stat -c %a "$stage/usr/share/man/man1/gather.1")" 644 "man page mode"
    assert_version_names_the_commit "$stage/usr/bin/gather"

    # the man page is the one the binary generates, and renders without a warning
    "$GATHER" --generate-man | cmp - "$stage/usr/share/man/man1/gather.1"
    groff -ww -z -man "$stage/usr/share/man/man1/gather.1" 2>groff.err
    [ ! -s groff.err ] || { cat groff.err; return 1; }
    MANWIDTH=80 man -l "$stage/usr/share/man/man1/gather.1" 2>/dev/null >man.txt
    grep -q "gather - download lists of URLs and crawl web sites" man.txt
    grep -q -- "--per-host N" man.txt

    # bash: commands, options per command, closed value sets, files for -i, folders for -o
    p=$stage/usr/share/bash-completion/completions/gather
    assert_eq "$(bash_complete "$p" gather cr)" "crawl" "command"
    assert_eq "$(bash_complete "$p" gather get --mo)" "--mode" "get option"
    assert_eq "$(bash_complete "$p" gather bench --mo)" "--modes" "bench option"
    assert_eq "$(bash_complete "$p" gather get --mode '')" "$(printf '%s\n' async sync threads)" "--mode"
    assert_eq "$(bash_complete "$p" gather crawl --scope '')" "$(printf '%s\n' any domain host prefix)" "--scope"
    assert_eq "$(bash_complete "$p" gather crawl --save p)" "pages" "--save"
    assert_eq "$(bash_complete "$p" gather crawl --layout '')" "$(printf '%s\n' flat tree)" "--layout"
    mkdir -p here/adir && touch here/afile
    assert_eq "$(cd here && bash_complete "$p" gather get -o a)" "adir" "-o: folders"
    assert_eq "$(cd here && bash_complete "$p" gather get -i a)" "$(printf '%s\n' adir afile)" "-i: files"
    assert_eq "$(bash_complete "$p" gather status --cr)" "" "status has no crawl options"

    # zsh: compinit finds _gather through its #compdef line and binds it to gather
    if command -v zsh >/dev/null; then
        assert_eq "$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2";
                     print -r -- $_comps[gather]' zsh "$stage/usr/share/zsh/vendor-completions" \
                     "$TMP/zcompdump")" "_gather" "zsh binds gather"
        zsh -n "$stage/usr/share/zsh/vendor-completions/_gather"
    else
        echo "# skip: no zsh to load the zsh completion"
    fi

    # uninstall removes exactly what install wrote
    touch "$stage/usr/bin/someone-elses" "$stage/usr/share/man/man1/other.1"
    make -s -C "$ROOT" SAN="${SAN:-}" uninstall DESTDIR="$stage" PREFIX=/usr >make.log 2>&1 ||
        { cat make.log; return 1; }
    assert_eq "$(find "$stage" -type f | sort)" \
        "$(printf '%s\n' "$stage/usr/bin/someone-elses" "$stage/usr/share/man/man1/other.1")" "after uninstall"

    # another prefix
    make -s -C "$ROOT" SAN="${SAN:-}" install DESTDIR="$TMP/opt" PREFIX=/opt/gather >make.log 2>&1 ||
        { cat make.log; return 1; }
    assert_eq "$(find "$TMP/opt" -type f | sort)" "$(installed_files "$TMP/opt/opt/gather")" "PREFIX=/opt/gather"
}

# Removes the package if a test installed it (a failed test must not leave it behind).
purge_package() {
    if dpkg -s gather >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq gather >/dev/null 2>&1 || true
    fi
}

test_deb_builds_installs_runs_and_purges() {
    local deb f rc=0
    if [ "${SAN:-}" = 1 ]; then
        echo "# skip: make deb builds its own -O2 binary; the run without SAN=1 tests it"
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "# skip: installing a package needs root (CI runs as root)"
        return 0
    fi
    # one install at a time on this machine (make mutate runs copies of the suite side by side)
    exec 9>/tmp/gather-t_install.lock
    flock -w 240 9 || { echo "# another run holds /tmp/gather-t_install.lock"; return 1; }
    if dpkg -s gather >/dev/null 2>&1; then
        echo "# a package named gather is installed already: not touching it"
        return 1
    fi
    trap 'rc=$?; purge_package; server_stop; exit $rc' EXIT

    make -s -C "$ROOT" deb >deb.log 2>&1 || { tail -n 30 deb.log; return 1; }
    deb=$(ls "$ROOT"/build/gather_*_"$(dpkg --print-architecture)".deb)
    assert_eq "$(echo "$deb" | wc -l)" 1 "one package"
    # the real library dependencies, from dpkg-shlibdeps
    for f in libc6 libcurl4 libuv1 libxml2 libsqlite3-0 libjansson4 libpsl5 libhiredis; do
        dpkg-deb -f "$deb" Depends | grep -q "$f" || { echo "# Depends lacks $f"; return 1; }
    done
    lintian --fail-on error "$deb" >lintian.txt 2>&1 || rc=$?
    cat lintian.txt
    assert_eq "$rc" 0 "lintian"
    if grep -q '^E: ' lintian.txt; then return 1; fi

    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >apt.log 2>&1 || { cat apt.log; return 1; }
    dpkg -s gather | grep -q '^Status: install ok installed'
    assert_eq "$(type -P gather)" /usr/bin/gather "gather on PATH"
    assert_version_names_the_commit /usr/bin/gather
    assert_eq "$(man -w gather)" /usr/share/man/man1/gather.1.gz "man -w"
    MANWIDTH=80 man gather 2>/dev/null | col -b >man.txt
    grep -q "gather - download lists of URLs and crawl web sites" man.txt
    grep -q -- "--convert-links" man.txt
    installed_files /usr | sed 's|/usr/share/man/man1/gather.1$|&.gz|' >files.txt
    while read -r f; do
        [ -f "$f" ] || { echo "# $f not installed"; return 1; }
        dpkg -S "$f" | grep -q '^gather:' || { echo "# $f not the package's"; return 1; }
    done <files.txt
    # the installed gather works: one real download
    server_start
    /usr/bin/gather get -q -o out "$BASE/img/1.jpg"
    assert_eq "$(count_final out)" 1 "downloaded"

    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq gather >apt.log 2>&1 || { cat apt.log; return 1; }
    if dpkg -s gather >/dev/null 2>&1; then echo "# still installed after purge"; return 1; fi
    while read -r f; do
        [ ! -e "$f" ] || { echo "# $f left after purge"; return 1; }
    done <files.txt
    [ ! -e /usr/share/doc/gather ] || { echo "# /usr/share/doc/gather left after purge"; return 1; }
}

run_tests "$@"
