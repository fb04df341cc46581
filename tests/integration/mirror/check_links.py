#!/usr/bin/env python3
"""tests/integration/mirror/check_links.py: an independent check of a --convert-links mirror.

usage: check_links.py OUT_DIR WWW_ROOT HOST_DIR SITE_URL NGINX_LOG

For every saved HTML and CSS file under OUT_DIR/HOST_DIR (found by its own reading: Python's
html.parser for attributes, a regex for CSS url() and @import), checks that
  - every relative link, fragment dropped and percent-decoded, names a file that exists;
  - every absolute link is to something the mirror did not save: off-site, or a URL of the site
    that nginx never answered with a 200 (NGINX_LOG: "conn proto status uri verify" lines);
  - the bytes outside the links equal the bytes nginx serves (WWW_ROOT), links masked in both.
Prints one line of counts and exits 1 with the reasons when a check fails.
"""
import os
import re
import sys
import urllib.parse
from html.parser import HTMLParser

LINK_ATTRS = {"href", "src", "srcset", "poster", "data", "background"}   # not form action: not loaded
CSS_REF = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s'"]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""")
# the same references in raw bytes, to mask them
ATTR_RAW = re.compile(rb"""\b(?:href|src|srcset|poster|data|background)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
CSS_RAW = re.compile(rb"""url\(\s*(?:"[^"]*"|'[^']*'|[^)\s'"]*)\s*\)|@import\s+(?:"[^"]*"|'[^']*')""")


def css_refs(text):
    for m in CSS_REF.finditer(text):
        yield next(g for g in m.groups() if g is not None)


class Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self.in_style = tag == "style"
        if tag == "link" and not dict(attrs).get("rel"):
            return                     # <link rev=made href=...>: no browser loads it
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                self.links += [c.strip().split()[0] for c in value.split(",") if c.strip()]
            elif name in LINK_ATTRS:
                self.links.append(value.strip())
            elif name == "style":
                self.links += list(css_refs(value))

    def handle_data(self, data):
        if self.in_style:
            self.links += list(css_refs(data))

    def handle_endtag(self, tag):
        self.in_style = False


def masked(data):
    data = ATTR_RAW.sub(b"@LINK@", data)
    return CSS_RAW.sub(b"@LINK@", data)


def main():
    out, www, host, site, log = sys.argv[1:6]
    served = set()
    for line in open(log):
        f = line.split()
        if len(f) >= 4 and f[2] == "200":
            served.add(f[3])
    root = os.path.join(out, host)
    bad = []
    relative = absolute = files = 0
    for folder, _, names in os.walk(out):
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(".gather.db") or not re.search(r"\.(html?|css)$", name):
                continue
            files += 1
            data = open(path, "rb").read()
            text = data.decode("utf-8", "replace")
            if name.endswith(".css"):
                links = list(css_refs(text))
            else:
                p = Links()
                p.feed(text)
                links = p.links
            for link in links:
                if link.startswith(("mailto:", "javascript:", "data:")) or link.startswith("#"):
                    continue
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link) or link.startswith("//"):
                    absolute += 1
                    uri = link[len(site):].split("#", 1)[0].replace("&amp;", "&")
                    if link.startswith(site) and uri in served:
                        bad.append(f"{path}: absolute link to a file the crawl saved: {link}")
                    continue
                relative += 1
                if link.startswith("/"):
                    bad.append(f"{path}: root-relative link left: {link}")
                    continue
                target = urllib.parse.unquote(link.split("#", 1)[0])
                full = os.path.normpath(os.path.join(folder, target))
                if not os.path.isfile(full):
                    bad.append(f"{path}: {link} -> {full}: no such file")
                elif not os.path.abspath(full).startswith(os.path.abspath(out) + os.sep):
                    bad.append(f"{path}: {link} leaves the mirror")
            # the bytes around the links are the server's
            rel = os.path.relpath(path, root)
            original = os.path.join(www, rel)
            if not os.path.isfile(original):
                # a name the mirror made: a query's "-HASH" before the extension, -E's ".html"
                source = re.sub(r"-[0-9a-f]{8}(?=\.[^/]*$)", "", rel)
                if not os.path.isfile(os.path.join(www, source)):
                    source = re.sub(r"\.(html|css)$", "", source)
                original = os.path.join(www, source)
            if os.path.isfile(original):
                if masked(open(original, "rb").read()) != masked(data):
                    bad.append(f"{path}: bytes outside the links differ from {original}")
            else:
                bad.append(f"{path}: no source file to compare with ({rel})")
    print(f"# {files} files, {relative} relative links, {absolute} absolute links, {len(bad)} problems")
    for b in bad:
        print("# " + b)
    sys.exit(1 if bad or files == 0 or relative == 0 else 0)

if __name__ == "__main__":
    main()
