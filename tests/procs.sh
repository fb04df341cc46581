# tests/procs.sh: finds processes that outlived the test that started them, by reading /proc.
# Sourced by tests/integration/lib.sh (after each test) and tests/run (after the whole run).
# Each lister prints one "PID COMMAND LINE" per process; zombies are dead and never listed, and
# neither are the calling shell and its ancestors.

# procs_stat PID: sets PROC_STATE, PROC_PPID and PROC_SID from /proc/PID/stat; fails if PID is
# gone. Builtins only: a scan reads every process on the machine.
procs_stat() {
    local line
    local -a f
    { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
    # The command name, in parentheses, may hold spaces and parentheses of its own.
    read -r -a f <<< "${line##*) }"
    PROC_STATE=${f[0]} PROC_PPID=${f[1]} PROC_SID=${f[3]}
}

# procs_cmdline PID: the arguments of PID joined by spaces (empty once PID is gone).
procs_cmdline() {
    local -a args=()
    { mapfile -d '' -t args < "/proc/$1/cmdline"; } 2>/dev/null || true
    printf '%s' "${args[*]}"
}

# procs_ancestry: "PID " for this shell and every ancestor, the processes no scan may blame.
procs_ancestry() {
    local pid=$BASHPID out=" "
    while [ "$pid" -gt 1 ] && procs_stat "$pid"; do
        out+="$pid "
        pid=$PROC_PPID
    done
    printf '%s' "$out"
}

# procs_of_test SID MARK: live processes in session SID, or whose environment holds the line
# MARK (NAME=VALUE). The session finds what a test started; the mark also finds what left the
# session (setsid, a daemon such as nginx), as long as it kept its environment.
procs_of_test() {
    local sid=$1 mark=$2 d pid skip
    local -A marked=()
    skip=$(procs_ancestry)
    for d in $(grep -lsxzF -e "$mark" /proc/[0-9]*/environ); do
        d=${d%/environ}
        marked[${d#/proc/}]=1
    done
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $skip == *" $pid "* ]] && continue
        procs_stat "$pid" || continue
        [[ $PROC_STATE == [ZX] ]] && continue
        [ "$PROC_SID" = "$sid" ] || [ -n "${marked[$pid]:-}" ] || continue
        printf '%s %s\n' "$pid" "$(procs_cmdline "$pid")"
    done
}

# procs_from DIR: live processes running a program from under DIR (their executable, or any
# argument, is a path under DIR: a wrapper such as timeout or valgrind names it there). DIR is
# matched as given and with its symbolic links resolved, as the executable's link shows it.
procs_from() {
    local dir d pid exe a skip real
    local -a args
    dir=$(cd "$1" && pwd) || return 1
    real=$(cd "$1" && pwd -P)
    skip=$(procs_ancestry)
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $skip == *" $pid "* ]] && continue
        procs_stat "$pid" || continue
        [[ $PROC_STATE == [ZX] ]] && continue
        exe=$(readlink "$d/exe" 2>/dev/null) || exe=
        args=()
        { mapfile -d '' -t args < "$d/cmdline"; } 2>/dev/null || continue
        for a in "$exe" "${args[@]}"; do
            if [[ $a == "$dir"/* || $a == "$real"/* ]]; then
                printf '%s %s\n' "$pid" "${args[*]}"
                break
            fi
        done
    done
}

# procs_kill PID...: TERM, then KILL for any that is still alive half a second later.
procs_kill() {
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    local i pid
    local -a alive
    for i in 1 2 3 4 5; do
        alive=()
        for pid in "$@"; do
            procs_stat "$pid" && [[ $PROC_STATE != [ZX] ]] && alive+=("$pid")
        done
        [ ${#alive[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "${alive[@]}" 2>/dev/null || true
}
