/* storage/path.h: URL -> safe relative file path (flat or tree layout), and per-job unique names. */
#ifndef GATHER_STORAGE_PATH_H
#define GATHER_STORAGE_PATH_H

#include <stddef.h>

/* The longest name of one path segment, in bytes (as NAME_MAX on Linux). */
#define STORE_NAME_MAX 250 /* NAME_MAX (255) less ".part", the writer's temporary suffix */
/* The longest path returned, in bytes, not counting the NUL. */
#define STORE_PATH_MAX 1024
/* A buffer of this size always holds a returned path and its NUL. */
#define STORE_PATH_SIZE (STORE_PATH_MAX + 1)

typedef enum {
    STORE_LAYOUT_FLAT, /* the last path segment only, like `curl -O`: a/b/photo.jpg?x=1 -> photo.jpg */
    STORE_LAYOUT_TREE, /* host[_port]/path, query folded into the name: h/a/list-1a2b3c4d.php */
} store_layout_t;

/* Parses "flat" or "tree" into *out. Returns 0, or -EINVAL for anything else (*out unchanged). */
int store_layout_parse(const char *name, store_layout_t *out);

/* Maps an absolute http(s) URL, already normalised by the caller, to a relative path and writes it,
 * NUL-terminated, to out (outsz bytes; STORE_PATH_SIZE always suffices). A pure function: the same
 * URL and layout always give the same path, on every machine.
 *
 * The path never escapes the directory it is joined to: no segment is empty, "." or "..", it never
 * starts with '/', it holds no control byte (0x00-0x1f, 0x7f, C1), no '\\', no invalid UTF-8,
 * every segment is at most STORE_NAME_MAX bytes and the whole at most STORE_PATH_MAX. Each segment
 * is percent-decoded, then cleaned:
 *  - control bytes, '/', '\\' (also when decoded from %2f, %5c), C1 controls and bytes of invalid
 *    UTF-8 become '_', byte for byte;
 *  - a segment made only of dots becomes as many '_' ("." -> "_", ".." -> "__", "..." -> "___");
 *  - a Windows device name (CON PRN AUX NUL COM1-9 LPT1-9, any case, any extension) gets a
 *    leading '_': CON.txt -> _CON.txt;
 *  - empty segments ("a//b") are dropped; a URL whose path ends in '/' names "index.html";
 *  - a segment over STORE_NAME_MAX bytes is cut at a UTF-8 boundary and gets "-<hex8 of the
 *    URL>" before its extension, so distinct long names stay distinct.
 * The extension is the part from the last '.', if that '.' is not the first byte and the part is
 * 2 to 16 bytes long. In the tree layout the host is lowercased, IPv6 brackets are dropped and ':'
 * becomes '-' ([::1] -> "--1"; the zone id is ignored), a non-default port is joined with '_'
 * (h_8080), and a non-empty query is folded into "-<hex8 of the query>" before the extension.
 * The flat layout ignores host, port and query. A segment that starts with ".gather.db" (the
 * job's state database and SQLite's files beside it) gets a leading '_', so that no URL can
 * replace them.
 *
 * Returns 0; -EINVAL for a URL that is not absolute http(s) or that curl cannot parse;
 * -ENAMETOOLONG when the path would exceed STORE_PATH_MAX; -ERANGE when it does not fit in
 * outsz; -ENOMEM. On failure out holds "" (if outsz > 0). */
int store_path_from_url(const char *url, store_layout_t layout, char *out, size_t outsz);

typedef struct store_names store_names_t;

/* How a job names files beyond the layout (wget's -nH, --cut-dirs and -E). A zeroed struct with
 * the layout set names exactly as store_path_from_url does. */
typedef struct store_naming {
    store_layout_t layout;
    int no_host;      /* tree: no host[_port] folder (-nH) */
    int cut_dirs;     /* tree: drop the first N folders of the URL's path (--cut-dirs N) */
    const char *ext;  /* ".html" or ".css" (store_naming_ext): appended to the last segment unless
                       * it already ends so, after the query suffix (index-1a2b3c4d.php.html);
                       * NULL or "": nothing appended */
} store_naming_t;

/* The extension -E adds for a Content-Type: ".html" for text/html and application/xhtml+xml,
 * ".css" for text/css, else NULL. ct may be NULL or carry parameters ("; charset=..."). */
const char *store_naming_ext(const char *ct);

/* As store_path_from_url, named as *naming says, with every promise above kept: the host folder
 * and cut folders are only left out (so the path still never escapes), and a last segment that
 * the extension would push past STORE_NAME_MAX is cut and gets the URL's suffix, the extension
 * kept. */
int store_path_from_url_as(const char *url, const store_naming_t *naming, char *out, size_t outsz);

/* As store_path_unique, named as *naming says. */
int store_path_unique_as(store_names_t *names, const char *url, const store_naming_t *naming,
                         char *out, size_t outsz);

/* The path a Content-Disposition header value names for url: its filename*= parameter (RFC 8187,
 * UTF-8 or ISO-8859-1, percent-encoded) or else its filename= (a token or quoted-string, not
 * percent-decoded), as RFC 6266 says; only the part after the last '/' or '\\' (as curl -J and
 * wget keep it), spaces around it dropped, cleaned exactly as a URL's last segment (the same
 * rules and limits as store_path_from_url; a name cut for length gets the URL's suffix), and put
 * where the URL's own file would go (its host and folders in the tree layout).
 * Returns 0; -ENOENT when the value names no file (or only folders); the errors of
 * store_path_from_url. On failure out holds "". */
int store_path_from_disposition(const char *value, const char *url, store_layout_t layout,
                                char *out, size_t outsz);

/* 1 when path (read back from somewhere a user can edit: the state database) keeps the promises
 * above: relative, no empty, "." or ".." segment, no control byte or '\\', no state file, within
 * the length limits. 0 otherwise. */
int store_path_is_safe(const char *path);

/* The names already given within one job: 16 bytes per name (a hash of the path and a hash of the
 * URL that got it), never the strings. Thread-safe (a mutex). (store_names_t is declared above.)
 *
 * A new empty set, owned by the caller and released with store_names_free. NULL when out of
 * memory. */
store_names_t *store_names_new(void);

/* Frees the set. NULL is accepted. */
void store_names_free(store_names_t *names);

/* As store_path_from_url, and records the name as given to url. When that path was already given
 * to a DIFFERENT URL in this set, the last segment gets "-<hex8 of store_hash64(url)>" before its
 * extension (pic.jpg -> pic-1a2b3c4d.jpg); if that is taken too, "-<hex8>" of the hash of (URL
 * hash, k) for k = 2, 3, ... The same URL asked again gets the same name. Two different URLs get
 * the same name only if their 64-bit hashes collide.
 *
 * Returns 0 or the errors of store_path_from_url; -ERANGE and -ENOMEM leave the set unchanged;
 * -EEXIST if 64 candidates were all taken (not expected to happen). On failure out holds "". */
int store_path_unique(store_names_t *names, const char *url, store_layout_t layout, char *out,
                      size_t outsz);

/* Records path as given to url (by an earlier run of the same job, read back from its state), so
 * that store_path_unique gives url that path again and never gives it to another URL. Returns 0,
 * or -ENOMEM (no answer of the set has changed then). */
int store_names_claim(store_names_t *names, const char *url, const char *path);
/* As store_path_unique, for a path made some other way for url (store_path_from_disposition):
 * the same suffixes when another URL has it. -EINVAL for an empty or over-long path. */
int store_path_unique_path(store_names_t *names, const char *url, const char *path, char *out,
                           size_t outsz);

#endif
