#!/usr/bin/env bash
# bench/crawl_real.sh: `gather crawl` against `wget2 -r -l inf -p` and `wget -r -l inf -p` on a
# real documentation site (a Debian package: PostgreSQL's or SQLite's manual) served by nginx on
# 127.0.0.1, medians of RUNS runs, and a table of wall time, CPU time (user + sys), peak RSS and
# the requests nginx answered for each tool.
#
#   bench/crawl_real.sh                    PostgreSQL's manual (postgresql-doc), 3 runs
#   bench/crawl_real.sh sqlite             SQLite's (sqlite3-doc)
#   bench/crawl_real.sh /some/folder       any folder with an index.html
#   RUNS=5 bench/crawl_real.sh             more runs
#   GATHER=/path/to/gather bench/crawl_real.sh   another binary (default build/gather)
#   BASELINE=/old/gather bench/crawl_real.sh      also an older gather, as row "baseline"
#
# The tools take turns (run 1 of each, run 2 of each, ...), each into a fresh folder on the same
# filesystem. Every run must fetch the same number of URLs as the others, or the table says so.
set -u -o pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
GATHER=${GATHER:-$ROOT/build/gather}
BASELINE=${BASELINE:-}
case "$RUNS" in ''|*[!0-9]*|0) echo "crawl_real.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac

case "${1:-postgresql}" in
    postgresql) SITE=$(ls -d /usr/share/doc/postgresql-doc-*/html 2>/dev/null | sort -V | tail -n 1); PKG=postgresql-doc ;;
    sqlite) SITE=/usr/share/doc/sqlite3; PKG=sqlite3-doc ;;
    *) SITE=$1; PKG= ;;
esac
if [ -z "$SITE" ] || [ ! -f "$SITE/index.html" ]; then
    echo "crawl_real.sh: no site at '${SITE:-}'${PKG:+ (apt-get install -y $PKG)}" >&2
    exit 2
fi
for t in nginx wget2 wget /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
        { echo "crawl_real.sh: $t is missing (apt-get install -y nginx-light wget2 wget time)" >&2; exit 2; }
done
[ -x "$GATHER" ] || { echo "crawl_real.sh: no $GATHER (make)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/crawl-real.XXXXXX)
NGINX_PID=
cleanup() {
    if [ -n "$NGINX_PID" ]; then
        kill -TERM "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nginx on a port the kernel just called free (retried if another process takes it first)
mkdir -p "$WORK/nginx/tmp"
for try in 1 2 3 4 5; do
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    log_format plain '\$status \$request_uri';
    access_log $WORK/nginx/access.log plain;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    keepalive_requests 100000;
    server { listen 127.0.0.1:$PORT; root $SITE; }
}
CONF
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log" >/dev/null 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.05
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -TERM "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=
done
[ -n "$NGINX_PID" ] || { echo "crawl_real.sh: nginx did not start" >&2; cat "$WORK/nginx/error.log" >&2; exit 1; }
URL="http://127.0.0.1:$PORT/index.html"

TOOLS=(gather wget2 wget)
[ -z "$BASELINE" ] || TOOLS=(gather baseline wget2 wget)
# cmd TOOL DIR: the command line of TOOL writing into DIR
cmd() {
    case "$1" in
    gather) echo "$GATHER crawl $URL -d 1000 --save all -o $2 -q" ;;
    baseline) echo "$BASELINE crawl $URL -d 1000 --save all -o $2 -q" ;;
    wget2) echo "wget2 -q -r -l inf -p -P $2 $URL" ;;
    wget) echo "wget -q -r -l inf -p -P $2 $URL" ;;
    esac
}

# one TOOL RUN: appends "wall cpu rss requests" to $WORK/TOOL.times
one() {
    local dir="$WORK/out-$1-$2" t
    rm -rf "$dir"
    sync
    : > "$WORK/nginx/access.log"
    # shellcheck disable=SC2046
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" timeout 600 $(cmd "$1" "$dir") \
        > "$WORK/$1.$2.out" 2>&1 || true     # wget exits 8 on the site's own broken links
    read -r wall user sys rss < <(tail -n 1 "$WORK/time")
    t=$(echo "$user + $sys" | bc)
    echo "$wall $t $rss $(wc -l < "$WORK/nginx/access.log")" >> "$WORK/$1.times"
    rm -rf "$dir"
}

for r in $(seq 1 "$RUNS"); do
    for tool in "${TOOLS[@]}"; do
        one "$tool" "$r"
    done
done

# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "site: $SITE ($(find "$SITE" -name '*.html' | wc -l) HTML files), $RUNS runs each, medians"
echo "uptime: $(uptime | sed 's/.*load/load/')"
printf '%-8s %9s %9s %10s %9s %9s  %s\n' tool wall_s cpu_s peak_rss_MiB requests wall_x command
gwall=$(median 1 "$WORK/gather.times")
for tool in "${TOOLS[@]}"; do
    f="$WORK/$tool.times"
    w=$(median 1 "$f")
    c=$(median 2 "$f")
    rss=$(cut -d' ' -f3 "$f" | sort -g | tail -n 1)
    reqs=$(cut -d' ' -f4 "$f" | sort -u | paste -sd/ -)
    printf '%-8s %9s %9s %10.1f %9s %9.2f  %s\n' "$tool" "$w" "$c" "$(echo "$rss / 1024" | bc -l)" \
        "$reqs" "$(echo "$w / $gwall" | bc -l)" "$(cmd "$tool" OUT | sed "s|$URL|URL|")"
done
echo "(wall_x: wall time over gather's; requests: what nginx answered per run, several values if runs differed)"
