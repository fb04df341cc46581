#!/usr/bin/env python3
"""refcrawl.py: an independent reference crawler for the real-site tests (Python stdlib only).

Breadth-first from a start URL over one host (scheme://host:port), unlimited depth, obeying
robots.txt, it fetches every URL a browser would load or follow: links of pages (a, area,
iframe, frame, link rel=next/prev/..., meta refresh), their assets (img/source src and srcset,
script, video/audio/track, embed, object, input type=image, SVG image/use, link rel=stylesheet/
icon/preload/...), and the references of stylesheets (url(), @import, image-set(); in files,
<style> blocks and style="" attributes). It prints the sorted set of URLs it fetched, one a line
(robots.txt included), and with --pages-only nothing else changes.

URLs are normalised by the rules gather documents in parse/url.h (RFC 3986 resolution; scheme and
host lowercased; default port dropped; dot segments removed, %2E too; %XX of unreserved
characters decoded, other %XX uppercased, a stray '%' and characters that may not appear raw
percent-encoded; empty query and fragment dropped), written here from that text, not from
gather's code, so the two can disagree and the test says where.

Usage: refcrawl.py START_URL [--max N] [--robots-agent TOKEN]
"""
import argparse
import collections
import html.parser
import http.client
import re
import sys
import urllib.robotparser

UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
SUB_DELIMS = set(b"!&'()+,;=*$")
HEX = "0123456789ABCDEF"
HEXDIGITS = "0123456789abcdefABCDEF"


def pct_normalize(s, extra):
    """Percent-encoding made consistent: %XX of unreserved decoded, other %XX uppercased,
    a stray '%' and every byte not allowed raw encoded (non-ASCII as its UTF-8 bytes)."""
    b = s.encode("utf-8", "surrogatepass")
    allowed = UNRESERVED | SUB_DELIMS | set(extra)
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x25 and i + 2 < len(b) and chr(b[i + 1]) in HEXDIGITS and chr(b[i + 2]) in HEXDIGITS:
            v = int(b[i + 1:i + 3], 16)
            out.append(chr(v) if v in UNRESERVED else "%" + b[i + 1:i + 3].decode().upper())
            i += 3
            continue
        if c != 0x25 and c in allowed:
            out.append(chr(c))
        else:
            out.append("%" + HEX[c >> 4] + HEX[c & 15])
        i += 1
    return "".join(out)


def remove_dot_segments(path):
    """RFC 3986 section 5.2.4."""
    out = []
    i = path
    while i:
        if i.startswith("../"):
            i = i[3:]
        elif i.startswith("./"):
            i = i[2:]
        elif i.startswith("/./"):
            i = i[2:]
        elif i == "/.":
            i = "/"
        elif i.startswith("/../"):
            i = i[3:]
            if out:
                out.pop()
        elif i == "/..":
            i = "/"
            if out:
                out.pop()
        elif i in (".", ".."):
            i = ""
        else:
            j = i.find("/", 1)
            seg = i if j < 0 else i[:j]
            out.append(seg)
            i = "" if j < 0 else i[j:]
    return "".join(out)


URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?://([^/?]*))?([^?]*)(?:\?(.*))?$", re.S)


def split(url):
    """(scheme, authority or None, path, query or None) of a URL without fragment."""
    m = URL_RE.match(url)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3), m.group(4)


def normalize(url):
    """The normal form of an absolute http(s) URL, or None when it is not one."""
    url = url.split("#", 1)[0]
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url) or url != url.strip(" "):
        return None
    parts = split(url)
    if not parts or parts[1] is None:
        return None
    scheme, auth, path, query = parts
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        return None
    userinfo = None
    if "@" in auth:
        userinfo, auth = auth.rsplit("@", 1)
    m = re.match(r"^(\[[0-9A-Fa-f:.]+\]|[^:]*)(?::([0-9]*))?$", auth)
    if not m or not m.group(1):
        return None
    host = m.group(1).lower()
    port = m.group(2)
    if port:
        if int(port) == 0 or int(port) > 65535:
            return None
        port = str(int(port))
        if port == {"http": "80", "https": "443"}[scheme]:
            port = None
    else:
        port = None
    # Decoding %2E may make new dot segments: normalise, then remove them again.
    path = pct_normalize(remove_dot_segments(path) or "/", b":@/")
    path = remove_dot_segments(path) or "/"
    if query:
        query = pct_normalize(query, b":@/?")
    out = scheme + "://"
    if userinfo:
        out += userinfo + "@"
    out += host + (":" + port if port else "") + path
    if query:
        out += "?" + query
    return out


def resolve(base, ref):
    """RFC 3986 section 5.2 resolution of ref against the normalised base, read as a browser
    reads an href (C0 and spaces trimmed, tabs and newlines removed), then normalised; None for
    other schemes and unusable references."""
    ref = ref.strip("".join(chr(c) for c in range(0x21)))
    ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")
    ref = ref.split("#", 1)[0]
    if ref == "":
        return base
    b_scheme, b_auth, b_path, b_query = split(base)
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", ref)
    if m:
        scheme = m.group(1).lower()
        if scheme not in ("http", "https"):
            return None
        rest = ref[len(m.group(0)):]
        if scheme == b_scheme and not rest.startswith("//"):
            ref = rest                      # "http:g": RFC 3986 5.4.2, backward-compatible
        else:
            return normalize(ref)
        if ref == "":
            return base
    if ref.startswith("//"):
        return normalize(b_scheme + ":" + ref)
    m = re.match(r"^([^?]*)(?:\?(.*))?$", ref, re.S)
    r_path, r_query = m.group(1), m.group(2)
    if r_path == "":
        path = b_path
        query = r_query if r_query is not None else b_query
    else:
        if r_path.startswith("/"):
            path = remove_dot_segments(r_path)
        else:
            path = remove_dot_segments(b_path[:b_path.rfind("/") + 1] + r_path)
        query = r_query
    return normalize(b_scheme + "://" + b_auth + path + ("?" + query if query is not None else ""))


# ---- what a browser loads ---------------------------------------------------------------------

PAGE, ASSET = "page", "asset"
# link rel values naming a resource a browser loads (asset) or that a reader follows (page).
ASSET_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed",
              "apple-touch-startup-image", "mask-icon", "fluid-icon", "preload", "modulepreload",
              "prefetch", "prerender", "manifest"}
PAGE_RELS = {"alternate", "canonical", "next", "prev", "previous", "start", "first", "last",
             "up", "index", "contents", "toc", "home", "top", "help", "license", "search",
             "author", "glossary", "appendix", "chapter", "section", "subsection", "bookmark",
             "copyright", "amphtml"}

CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
CSS_URL = re.compile(r"""url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^)"'\s]*))\s*\)""", re.I | re.S)
CSS_IMPORT = re.compile(r"""@import\s+(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')""", re.I)
CSS_IMAGE_SET = re.compile(r"""(?:-webkit-)?image-set\(([^)]*)\)""", re.I)
CSS_STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'""")


def css_unescape(s):
    def one(m):
        h = m.group(1)
        if h:
            return chr(int(h, 16)) if 0 < int(h, 16) <= 0x10FFFF else "\ufffd"
        return m.group(2)
    return re.sub(r"\\(?:([0-9A-Fa-f]{1,6})\s?|(.))", one, s)


def css_refs(text):
    """The URLs a stylesheet references: url(), @import "...", image-set("...")."""
    text = CSS_COMMENT.sub(" ", text)
    refs = []
    for m in CSS_URL.finditer(text):
        refs.append(css_unescape(next(g for g in m.groups() if g is not None)))
    for m in CSS_IMPORT.finditer(text):
        refs.append(css_unescape(next(g for g in m.groups() if g is not None)))
    for m in CSS_IMAGE_SET.finditer(text):
        for s in CSS_STRING.finditer(m.group(1)):
            refs.append(css_unescape(next(g for g in s.groups() if g is not None)))
    return refs


def srcset_urls(s):
    out = []
    for cand in re.split(r",\s+|,(?=\S)", s.strip()):
        u = cand.strip().split()
        if u:
            out.append(u[0].rstrip(","))
    return out


def refresh_target(s):
    m = re.match(r"^\s*[0-9.]+\s*[;,\s]\s*(?:url\s*=\s*)?(.*)$", s, re.I | re.S)
    if not m:
        return None
    t = m.group(1)
    if t[:1] in ("'", '"'):
        q = t[0]
        t = t[1:]
        if q in t:
            t = t[:t.index(q)]
    return t or None


class LinkParser(html.parser.HTMLParser):
    def __init__(self, url):
        super().__init__(convert_charrefs=True)
        self.base = url
        self.base_seen = False
        self.links = []             # (raw reference, kind) in document order; base applied later
        self.in_style = False

    def add(self, ref, kind):
        if ref is not None:
            self.links.append((self.base, ref, kind))

    def handle_starttag(self, tag, attrs):
        a = {}
        for k, v in attrs:
            a.setdefault(k, v if v is not None else "")
        if "style" in a:
            for r in css_refs(a["style"]):
                self.add(r, ASSET)
        if tag == "base" and "href" in a and not self.base_seen:
            self.base_seen = True
            self.base = resolve(self.base, a["href"]) or self.base
        elif tag in ("a", "area"):
            self.add(a.get("href"), PAGE)
        elif tag in ("iframe", "frame"):
            self.add(a.get("src"), PAGE)
        elif tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if rels & ASSET_RELS:
                self.add(a.get("href"), ASSET)
            elif rels & PAGE_RELS:
                self.add(a.get("href"), PAGE)
        elif tag in ("img", "source"):
            self.add(a.get("src"), ASSET)
            if "srcset" in a:
                for u in srcset_urls(a["srcset"]):
                    self.add(u, ASSET)
        elif tag in ("script", "embed", "track", "audio"):
            self.add(a.get("src"), ASSET)
        elif tag == "video":
            self.add(a.get("src"), ASSET)
            self.add(a.get("poster"), ASSET)
        elif tag == "object":
            self.add(a.get("data"), ASSET)
        elif tag == "input" and a.get("type", "").lower() == "image":
            self.add(a.get("src"), ASSET)
        elif tag in ("image", "use", "feimage"):
            self.add(a.get("href", a.get("xlink:href")), ASSET)
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.add(refresh_target(a.get("content", "")), PAGE)
        elif tag == "style":
            self.in_style = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "style":
            self.in_style = False

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            for r in css_refs(data):
                self.add(r, ASSET)


def charset_of(ctype, body):
    m = re.search(r"charset=\"?([\w.:-]+)", ctype or "", re.I)
    if not m:
        m = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:8192], re.I)
        if m:
            return m.group(1).decode("ascii", "replace")
    return m.group(1) if m else "utf-8"


def decode(body, ctype):
    cs = charset_of(ctype, body)
    try:
        return body.decode(cs, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


# ---- the crawl --------------------------------------------------------------------------------

class Fetcher:
    """Keep-alive HTTP/1.1 to one origin; answers are (status, headers, body)."""

    def __init__(self, scheme, netloc):
        self.scheme, self.netloc, self.conn = scheme, netloc, None

    def get(self, target):
        for attempt in range(2):
            if self.conn is None:
                cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
                self.conn = cls(self.netloc, timeout=30)
            try:
                self.conn.request("GET", target, headers={"User-Agent": "refcrawl/1", "Accept-Encoding": "identity"})
                r = self.conn.getresponse()
                return r.status, r.headers, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return None


def crawl(start, limit, agent):
    start = normalize(start)
    scheme, auth, _, _ = split(start)
    origin = scheme + "://" + auth
    f = Fetcher(scheme, auth)
    fetched = []
    status, _, body = f.get("/robots.txt")
    fetched.append(origin + "/robots.txt")
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.decode("utf-8", "replace").splitlines() if status == 200 else [])
    seen = {start}
    queue = collections.deque([(start, PAGE)])
    while queue and len(fetched) < limit:
        url, kind = queue.popleft()
        if not rp.can_fetch(agent, url):
            continue
        target = url[len(origin):]
        status, headers, body = f.get(target)
        fetched.append(url)
        found = []
        if 300 <= status < 400 and headers.get("Location"):
            found.append((url, headers["Location"], kind))
        elif 200 <= status < 300:
            ctype = (headers.get("Content-Type") or "").lower()
            if kind == PAGE and ctype.startswith(("text/html", "application/xhtml+xml")):
                p = LinkParser(url)
                p.feed(decode(body, ctype))
                p.close()
                found = p.links
            elif ctype.startswith("text/css"):
                found = [(url, r, ASSET) for r in css_refs(decode(body, ctype))]
        for base, ref, k in found:
            u = resolve(base, ref)
            if u and u.startswith(origin + "/") and u not in seen:
                seen.add(u)
                queue.append((u, k))
    return fetched


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("start")
    ap.add_argument("--max", type=int, default=100000, help="fetch at most this many URLs")
    ap.add_argument("--robots-agent", default="gather")
    a = ap.parse_args()
    for u in sorted(set(crawl(a.start, a.max, a.robots_agent))):
        print(u)


if __name__ == "__main__":
    sys.exit(main())
