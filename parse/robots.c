/* robots.c - robots.txt rules for one crawler (RFC 9309), with crawl-delay and sitemaps. */
/* memmem() is a GNU extension: the project passes -D_GNU_SOURCE, builds that do not get it here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "parse/robots.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/pct.h"
#include "parse/url.h"

/* Longest crawl-delay honoured: one day. */
#define ROBOTS_MAX_DELAY_MS (24L * 3600 * 1000)

/* Longest product token compared; longer ones are cut (real ones are short). */
#define ROBOTS_TOKEN_MAX 128

/* One allow/disallow rule: the normalised pattern, "*" as the only wildcard. */
struct robots_rule {
    char *pattern;
    size_t len;     /* of pattern */
    size_t weight;  /* len, plus one for a "$" anchor: what "longest match" compares */
    int anchored;   /* the pattern ended in "$" */
    int allow;
};

struct robots_rules {
    struct robots_rule *v;
    size_t n, cap;
    long delay_ms;  /* -1: none */
};

enum robots_mode { ROBOTS_RULES, ROBOTS_ALLOW_ALL, ROBOTS_DISALLOW_ALL };

struct parse_robots {
    enum robots_mode mode;
    struct robots_rules rules;  /* of the selected group(s) */
    char **sitemaps;
    size_t nsitemaps;
};

/*
 * While parsing: the rules of the groups that name us and of the "*" groups, and the group
 * being read. A group (RFC 9309 2.1) is a run of user-agent lines and then its rules; only a
 * user-agent line after a rule starts the next one. Other records (crawl-delay, sitemap,
 * unknown keys) do not end a run of user-agent lines (2.2.4), so a crawl-delay between two
 * user-agent lines belongs to the group of both: it is kept in group_delay_ms and handed to
 * the group's targets when the group ends, once all of its user-agent lines are known.
 */
struct robots_parse {
    char token[ROBOTS_TOKEN_MAX + 1];  /* our product token, lowercase; "" = none */
    size_t token_len;
    struct robots_rules mine;          /* rules of the groups naming our token */
    int mine_seen;                     /* some group names our token (even with no rules) */
    struct robots_rules star;          /* rules of the "*" groups */
    int group_mine;                    /* the current group names our token */
    int group_star;                    /* the current group names "*" */
    long group_delay_ms;               /* the current group's crawl-delay so far; -1 none */
    int in_group;                      /* a user-agent line has been seen */
    int in_agents;                     /* no rule since the last user-agent line */
    int nomem;
};

/* ---------------------------------------------------------------------------------------- */
/* Rules                                                                                     */

static void robots_rules_free(struct robots_rules *rs)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        free(rs->v[i].pattern);
    free(rs->v);
    rs->v = NULL;
    rs->n = rs->cap = 0;
    rs->delay_ms = -1;
}

/* Copy rule into rs (the pattern is duplicated). 0 or PARSE_ENOMEM. */
static int robots_rules_add(struct robots_rules *rs, const struct robots_rule *rule)
{
    struct robots_rule copy = *rule;

    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        struct robots_rule *v = realloc(rs->v, cap * sizeof(*v));
        if (!v)
            return PARSE_ENOMEM;
        rs->v = v;
        rs->cap = cap;
    }
    copy.pattern = malloc(rule->len + 1);
    if (!copy.pattern)
        return PARSE_ENOMEM;
    memcpy(copy.pattern, rule->pattern, rule->len + 1);
    rs->v[rs->n++] = copy;
    return PARSE_OK;
}

/*
 * Build the normalised form of a rule value: a leading "/" added if it starts with neither
 * "/" nor "*", a final "$" taken as the anchor, runs of "*" collapsed, and every literal
 * stretch percent-normalised with PARSE_PCT_ROBOTS (a "$" elsewhere becomes %24).
 * rule->pattern is malloc'd; PARSE_OK or PARSE_ENOMEM.
 */
static int robots_rule_make(const char *value, size_t len, int allow, struct robots_rule *rule)
{
    char *buf, *o, *seg;
    size_t i, start, seglen;
    int result = PARSE_OK;

    memset(rule, 0, sizeof(*rule));
    rule->allow = allow;
    if (len > 0 && value[len - 1] == '$') {
        rule->anchored = 1;
        len--;
    }
    /* Each byte becomes at most three; plus the added "/" and the NUL. */
    buf = malloc(len * 3 + 2);
    if (!buf)
        return PARSE_ENOMEM;
    o = buf;
    if (len == 0 || (value[0] != '/' && value[0] != '*'))
        *o++ = '/';
    for (i = 0, start = 0; i <= len; i++) {
        if (i < len && value[i] != '*')
            continue;
        if (i > start) {
            result = parse_pct_normalize(value + start, i - start, PARSE_PCT_ROBOTS, &seg,
                                         &seglen);
            if (result != PARSE_OK)
                goto cleanup;
            memcpy(o, seg, seglen);
            o += seglen;
            free(seg);
        }
        if (i < len && (o == buf || o[-1] != '*'))
            *o++ = '*';
        start = i + 1;
    }
    *o = '\0';
    rule->pattern = buf;
    rule->len = (size_t)(o - buf);
    rule->weight = rule->len + (rule->anchored ? 1 : 0);
    buf = NULL;
cleanup:
    free(buf);
    return result;
}

/*
 * Whether path[0..plen) matches the pattern. Greedy leftmost matching of each "*"-separated
 * piece is exact for patterns whose only wildcard is "*", and linear-ish (memmem).
 */
static int robots_match(const struct robots_rule *rule, const char *path, size_t plen)
{
    const char *p = rule->pattern, *end = rule->pattern + rule->len;
    size_t pos = 0;
    int first = 1;

    for (;;) {
        const char *star = memchr(p, '*', (size_t)(end - p));
        const char *segend = star ? star : end;
        size_t seglen = (size_t)(segend - p);

        if (first) {
            /* The first piece is anchored at the start of the path. */
            if (seglen > plen || memcmp(path, p, seglen) != 0)
                return 0;
            pos = seglen;
            first = 0;
            if (!star)
                return !rule->anchored || pos == plen;
        } else if (!star && rule->anchored) {
            /* The last piece of an anchored pattern must end the path. */
            return plen - pos >= seglen && memcmp(path + plen - seglen, p, seglen) == 0;
        } else if (seglen > 0) {
            const char *hit = memmem(path + pos, plen - pos, p, seglen);
            if (!hit)
                return 0;
            pos = (size_t)(hit - path) + seglen;
        }
        if (!star)
            return 1;
        p = star + 1;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing                                                                                   */

static int robots_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int robots_is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* Length of the product token at the start of s[0..n) (letters, '-', '_'). */
static size_t robots_token_len(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && robots_is_token_char(s[i]))
        i++;
    return i;
}

/*
 * Whether a user-agent value names us: RFC 9309 2.2.1 matches the product token
 * case-insensitively, and nothing else (no prefixes: "gather-bot" does not obey a "gather"
 * group but the "*" one). A value with more than a token ("FooBot/1.0", "Foo Bar") is taken
 * up to the first character a token cannot hold, as Google's parser does.
 */
static int robots_agent_is_us(const struct robots_parse *ps, const char *v, size_t n)
{
    size_t tl = robots_token_len(v, n);

    return tl > 0 && tl == ps->token_len && strncasecmp(v, ps->token, tl) == 0;
}

/* The rule sets the current group feeds (ours, the star one, both, none): 0 if none. */
static int robots_group_targets(struct robots_parse *ps, struct robots_rules **a,
                                struct robots_rules **b)
{
    *a = *b = NULL;
    if (!ps->in_group)
        return 0;
    if (ps->group_mine)
        *a = &ps->mine;
    if (ps->group_star)
        *b = &ps->star;
    return *a || *b;
}

/* The current group is complete: its crawl-delay goes to the rule sets it feeds. */
static void robots_group_end(struct robots_parse *ps)
{
    struct robots_rules *a, *b;

    if (ps->group_delay_ms >= 0 && robots_group_targets(ps, &a, &b)) {
        if (a && ps->group_delay_ms > a->delay_ms)
            a->delay_ms = ps->group_delay_ms;
        if (b && ps->group_delay_ms > b->delay_ms)
            b->delay_ms = ps->group_delay_ms;
    }
    ps->group_delay_ms = -1;
}

static void robots_user_agent(struct robots_parse *ps, const char *v, size_t n)
{
    if (!ps->in_agents) {
        robots_group_end(ps);
        ps->group_mine = 0;
        ps->group_star = 0;
        ps->in_agents = 1;
        ps->in_group = 1;
    }
    /* "*" alone, or followed by blanks and more (Google reads "* foo" as "*" too). */
    if (n >= 1 && v[0] == '*' && (n == 1 || robots_is_blank(v[1]))) {
        ps->group_star = 1;
        return;
    }
    if (robots_agent_is_us(ps, v, n)) {
        ps->group_mine = 1;
        ps->mine_seen = 1;
    }
}

static void robots_rule_line(struct robots_parse *ps, const char *v, size_t n, int allow)
{
    struct robots_rules *a, *b;
    struct robots_rule rule;

    ps->in_agents = 0;
    if (n == 0 || !robots_group_targets(ps, &a, &b))
        return;
    if (robots_rule_make(v, n, allow, &rule) != PARSE_OK) {
        ps->nomem = 1;
        return;
    }
    if ((a && robots_rules_add(a, &rule) != PARSE_OK) ||
        (b && robots_rules_add(b, &rule) != PARSE_OK))
        ps->nomem = 1;
    free(rule.pattern);
}

/* A crawl-delay record: not part of RFC 9309 (2.2.4), so it neither ends the run of
 * user-agent lines nor the group; it applies to the group it is in. */
static void robots_delay_line(struct robots_parse *ps, const char *v, size_t n)
{
    char num[32];
    double seconds;
    char *end;
    long ms;

    if (n == 0 || n >= sizeof(num) || !ps->in_group)
        return;
    memcpy(num, v, n);
    num[n] = '\0';
    if (!((num[0] >= '0' && num[0] <= '9') || num[0] == '.'))
        return;
    seconds = strtod(num, &end);
    if (end == num || *end != '\0' || !(seconds >= 0))
        return;
    ms = seconds * 1000.0 > (double)ROBOTS_MAX_DELAY_MS ? ROBOTS_MAX_DELAY_MS
                                                         : (long)(seconds * 1000.0 + 0.5);
    if (ms > ps->group_delay_ms)
        ps->group_delay_ms = ms;
}

static void robots_sitemap_line(struct robots_parse *ps, parse_robots_t *r, const char *v,
                                size_t n)
{
    char *copy, *url = NULL, **grown;
    size_t i;
    int result;

    if (n == 0 || n > PARSE_URL_MAX || r->nsitemaps >= PARSE_ROBOTS_MAX_SITEMAPS)
        return;
    copy = strndup(v, n);
    if (!copy) {
        ps->nomem = 1;
        return;
    }
    result = parse_url_normalize(copy, &url);
    free(copy);
    if (result == PARSE_ENOMEM)
        ps->nomem = 1;
    if (result != PARSE_OK)
        return;
    for (i = 0; i < r->nsitemaps; i++) {
        if (strcmp(r->sitemaps[i], url) == 0) {
            free(url);
            return;
        }
    }
    grown = realloc(r->sitemaps, (r->nsitemaps + 1) * sizeof(*grown));
    if (!grown) {
        free(url);
        ps->nomem = 1;
        return;
    }
    r->sitemaps = grown;
    r->sitemaps[r->nsitemaps++] = url;
}

static int robots_key_is(const char *k, size_t n, const char *const *names)
{
    size_t i;

    for (i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncasecmp(k, names[i], n) == 0)
            return 1;
    return 0;
}

/* One line, without its terminator. */
static void robots_line(struct robots_parse *ps, parse_robots_t *r, const char *s, size_t n)
{
    static const char *const agent_keys[] = {"user-agent", "useragent", "user agent", NULL};
    static const char *const allow_keys[] = {"allow", NULL};
    static const char *const disallow_keys[] = {"disallow", "dissallow", "dissalow", "disalow",
                                                "diasllow", "disallaw", NULL};
    static const char *const delay_keys[] = {"crawl-delay", "crawldelay", "crawl delay", NULL};
    static const char *const sitemap_keys[] = {"sitemap", "site-map", NULL};
    const char *hash, *colon, *k, *v;
    size_t kn, vn;

    hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    colon = memchr(s, ':', n);
    if (!colon)
        return;
    k = s;
    kn = (size_t)(colon - s);
    while (kn > 0 && robots_is_blank(*k)) {
        k++;
        kn--;
    }
    while (kn > 0 && robots_is_blank(k[kn - 1]))
        kn--;
    v = colon + 1;
    vn = (size_t)(s + n - v);
    while (vn > 0 && robots_is_blank(*v)) {
        v++;
        vn--;
    }
    while (vn > 0 && robots_is_blank(v[vn - 1]))
        vn--;

    if (robots_key_is(k, kn, agent_keys))
        robots_user_agent(ps, v, vn);
    else if (robots_key_is(k, kn, allow_keys))
        robots_rule_line(ps, v, vn, 1);
    else if (robots_key_is(k, kn, disallow_keys))
        robots_rule_line(ps, v, vn, 0);
    else if (robots_key_is(k, kn, delay_keys))
        robots_delay_line(ps, v, vn);
    else if (robots_key_is(k, kn, sitemap_keys))
        robots_sitemap_line(ps, r, v, vn);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                                */

static parse_robots_t *robots_alloc(enum robots_mode mode)
{
    parse_robots_t *r = calloc(1, sizeof(*r));

    if (r) {
        r->mode = mode;
        r->rules.delay_ms = -1;
    }
    return r;
}

int parse_robots_token_valid(const char *s)
{
    return s && s[0] && s[robots_token_len(s, strlen(s))] == '\0';
}

parse_robots_t *parse_robots_allow_all(void)
{
    return robots_alloc(ROBOTS_ALLOW_ALL);
}

parse_robots_t *parse_robots_disallow_all(void)
{
    return robots_alloc(ROBOTS_DISALLOW_ALL);
}

static int robots_is_eol(char c)
{
    return c == '\n' || c == '\r' || c == '\0';
}

parse_robots_t *parse_robots_new(const char *body, size_t len, const char *product_token)
{
    static const char bom[] = "\xEF\xBB\xBF";
    struct robots_parse ps;
    parse_robots_t *r;
    size_t i, start;

    r = robots_alloc(ROBOTS_RULES);
    if (!r)
        return NULL;
    memset(&ps, 0, sizeof(ps));
    ps.mine.delay_ms = -1;
    ps.star.delay_ms = -1;
    ps.group_delay_ms = -1;
    if (product_token) {
        ps.token_len = robots_token_len(product_token, strnlen(product_token, ROBOTS_TOKEN_MAX));
        for (i = 0; i < ps.token_len; i++)
            ps.token[i] = (char)((product_token[i] >= 'A' && product_token[i] <= 'Z')
                                     ? product_token[i] - 'A' + 'a'
                                     : product_token[i]);
    }
    if (!body)
        len = 0;
    if (len > PARSE_ROBOTS_MAX_BYTES) {
        /* A line the limit cuts is dropped, not read as a shorter rule ("Allow: /abcdef" cut
         * to "Allow: /a" would open "/apple"). The byte past the limit says whether the last
         * line within it was whole. */
        size_t cut = PARSE_ROBOTS_MAX_BYTES;
        if (!robots_is_eol(body[cut]))
            while (cut > 0 && !robots_is_eol(body[cut - 1]))
                cut--;
        len = cut;
    }
    /* A UTF-8 byte order mark, or the start of one (as Google's parser does), is skipped. */
    start = 0;
    while (start < len && start < 3 && body[start] == bom[start])
        start++;
    for (i = start; i <= len && !ps.nomem; i++) {
        if (i < len && !robots_is_eol(body[i]))
            continue;
        if (i > start)
            robots_line(&ps, r, body + start, i - start);
        start = i + 1;
    }
    robots_group_end(&ps);
    if (ps.nomem)
        goto fail;
    if (ps.mine_seen) {
        r->rules = ps.mine;
        robots_rules_free(&ps.star);
    } else {
        r->rules = ps.star;
        robots_rules_free(&ps.mine);
    }
    return r;
fail:
    robots_rules_free(&ps.mine);
    robots_rules_free(&ps.star);
    parse_robots_free(r);
    return NULL;
}

int parse_robots_allowed(const parse_robots_t *r, const char *path_and_query)
{
    const struct robots_rule *best = NULL;
    const char *path = path_and_query && path_and_query[0] ? path_and_query : "/";
    size_t plen, i;
    char *norm;

    if (strncmp(path, "/robots.txt", 11) == 0 && (path[11] == '\0' || path[11] == '?'))
        return 1;
    if (r->mode != ROBOTS_RULES)
        return r->mode == ROBOTS_ALLOW_ALL;
    if (r->rules.n == 0)
        return 1;
    if (parse_pct_normalize(path, strlen(path), PARSE_PCT_ROBOTS, &norm, &plen) != PARSE_OK)
        return 0;
    for (i = 0; i < r->rules.n; i++) {
        const struct robots_rule *rule = &r->rules.v[i];
        if (best && (rule->weight < best->weight ||
                     (rule->weight == best->weight && (best->allow || !rule->allow))))
            continue;
        if (robots_match(rule, norm, plen))
            best = rule;
    }
    free(norm);
    return !best || best->allow;
}

long parse_robots_crawl_delay_ms(const parse_robots_t *r)
{
    return r->rules.delay_ms;
}

size_t parse_robots_sitemap_count(const parse_robots_t *r)
{
    return r->nsitemaps;
}

const char *parse_robots_sitemap(const parse_robots_t *r, size_t i)
{
    return i < r->nsitemaps ? r->sitemaps[i] : NULL;
}

void parse_robots_free(parse_robots_t *r)
{
    size_t i;

    if (!r)
        return;
    robots_rules_free(&r->rules);
    for (i = 0; i < r->nsitemaps; i++)
        free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r);
}
