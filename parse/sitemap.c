/* sitemap.c - URLs from XML sitemaps and sitemap indexes, read with libxml2's xmlReader. */
#include "parse/sitemap.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "parse/url.h"

/* Text held for one <loc>: a URL plus room for the blanks around it. */
#define SITEMAP_LOC_MAX (PARSE_URL_MAX * 2)

struct sitemap_state {
    int is_index;         /* root is <sitemapindex> */
    const char *ns;       /* the root element's namespace URI (NULL: none) */
    int in_entry;         /* inside <url> or <sitemap> */
    int in_loc;           /* inside its <loc> */
    char loc[SITEMAP_LOC_MAX + 1];
    size_t loc_len;
    int loc_bad;          /* too long, or holds an entity we did not expand */
    int count;
};

/* Swallow libxml2's error reports: malformed input is expected here. */
static void sitemap_quiet(void *arg, xmlErrorPtr error)
{
    (void)arg;
    (void)error;
}

static void sitemap_quiet_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static int sitemap_same_ns(const struct sitemap_state *st, const xmlChar *ns)
{
    if (!st->ns || !ns)
        return !st->ns && !ns;
    return strcmp(st->ns, (const char *)ns) == 0;
}

/* A <loc> ended: report its URL. PARSE_OK or PARSE_ENOMEM. */
static int sitemap_emit(struct sitemap_state *st, const char *base_url, parse_sitemap_fn fn,
                        void *arg)
{
    char *s = st->loc, *url = NULL;
    size_t n = st->loc_len;
    int result;

    if (st->loc_bad)
        return PARSE_OK;
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r'))
        n--;
    if (n == 0)
        return PARSE_OK;
    s[n] = '\0';
    result = base_url ? parse_url_resolve(base_url, s, &url) : parse_url_normalize(s, &url);
    if (result == PARSE_ENOMEM)
        return result;
    if (result == PARSE_OK) {
        fn(arg, url, st->is_index);
        st->count++;
        free(url);
    }
    return PARSE_OK;
}

int parse_sitemap(const char *body, size_t len, const char *base_url, parse_sitemap_fn fn,
                  void *arg)
{
    struct sitemap_state *st;
    xmlTextReaderPtr reader = NULL;
    xmlGenericErrorFunc saved_fn;
    void *saved_ctx;
    int result = PARSE_OK, root_seen = 0;

    if (!body || len == 0)
        return PARSE_EINVAL;
    if (len > PARSE_SITEMAP_MAX_BYTES)
        len = PARSE_SITEMAP_MAX_BYTES;
    st = calloc(1, sizeof(*st));
    if (!st)
        return PARSE_ENOMEM;
    /*
     * Encoding and I/O errors bypass the reader's handler and go to libxml2's per-thread
     * generic one, which prints to stderr: mute it while reading, restore it at cleanup.
     */
    saved_fn = xmlGenericError;
    saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, sitemap_quiet_generic);

    /* No NOENT (entities stay unsubstituted), no DTDLOAD, no XINCLUDE, NONET. */
    reader = xmlReaderForMemory(body, (int)len, base_url, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!reader) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    xmlTextReaderSetStructuredErrorHandler(reader, sitemap_quiet, NULL);

    while (st->count < PARSE_SITEMAP_MAX_URLS && xmlTextReaderRead(reader) == 1) {
        int type = xmlTextReaderNodeType(reader);
        int depth = xmlTextReaderDepth(reader);
        const char *name;

        if (type == XML_READER_TYPE_ELEMENT) {
            name = (const char *)xmlTextReaderConstLocalName(reader);
            if (!name)
                continue;
            if (depth == 0) {
                const xmlChar *ns = xmlTextReaderConstNamespaceUri(reader);
                if (strcmp(name, "urlset") == 0) {
                    st->is_index = 0;
                } else if (strcmp(name, "sitemapindex") == 0) {
                    st->is_index = 1;
                } else {
                    result = PARSE_EINVAL;
                    goto cleanup;
                }
                /* The string lives in the reader's dictionary until xmlFreeTextReader. */
                st->ns = (const char *)ns;
                root_seen = 1;
            } else if (depth == 1) {
                st->in_entry = strcmp(name, st->is_index ? "sitemap" : "url") == 0 &&
                               sitemap_same_ns(st, xmlTextReaderConstNamespaceUri(reader)) &&
                               !xmlTextReaderIsEmptyElement(reader);
            } else if (depth == 2 && st->in_entry && strcmp(name, "loc") == 0 &&
                       sitemap_same_ns(st, xmlTextReaderConstNamespaceUri(reader)) &&
                       !xmlTextReaderIsEmptyElement(reader)) {
                st->in_loc = 1;
                st->loc_len = 0;
                st->loc_bad = 0;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (depth == 2 && st->in_loc) {
                st->in_loc = 0;
                result = sitemap_emit(st, base_url, fn, arg);
                if (result != PARSE_OK)
                    goto cleanup;
            } else if (depth == 1) {
                st->in_entry = 0;
            }
        } else if (st->in_loc && type == XML_READER_TYPE_ENTITY_REFERENCE) {
            st->loc_bad = 1;
        } else if (st->in_loc && (type == XML_READER_TYPE_TEXT ||
                                  type == XML_READER_TYPE_CDATA ||
                                  type == XML_READER_TYPE_WHITESPACE ||
                                  type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE)) {
            const char *value = (const char *)xmlTextReaderConstValue(reader);
            size_t n = value ? strlen(value) : 0;
            if (st->loc_len + n > SITEMAP_LOC_MAX) {
                st->loc_bad = 1;
            } else {
                memcpy(st->loc + st->loc_len, value, n);
                st->loc_len += n;
            }
        }
    }
    result = root_seen ? PARSE_OK : PARSE_EINVAL;
cleanup:
    if (result == PARSE_OK)
        result = st->count;
    xmlFreeTextReader(reader);
    xmlSetGenericErrorFunc(saved_ctx, saved_fn);
    free(st);
    return result;
}
