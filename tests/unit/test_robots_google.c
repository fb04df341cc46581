/* test_robots_google.c - Google's robots.txt test suite as data, against parse/robots.c.
 *
 * Origin: github.com/google/robotstxt, robots_test.cc (commit 22b355ff, 2026-04-01). Every case
 * of its EXPECT_TRUE/EXPECT_FALSE(IsUserAgentAllowed(robots.txt, agent, url)) calls is a row
 * below, named by the TEST() it comes from; the tests that count parsed lines through a
 * RobotsParseHandler (line ends, byte order marks) become rows that make the counted line
 * decide an answer, and say so. The C++ is not used: only its inputs and answers.
 *
 * `google` is Google's answer, `want` is ours. Where they differ, `why` says on what ground:
 * "RFC:" when RFC 9309 decides the case the other way (our answer is the RFC's), "not RFC:"
 * when the RFC does not decide it (our answer is our choice). The table checks that every row
 * whose answers differ says why, and that no other row does.
 *
 * Grouping (RFC 9309 2.1 and 2.2.4), as read here: a group is one or more user-agent lines
 * and then rules; only a user-agent line that comes after a rule starts a new group. Records
 * the RFC does not define (Sitemap, Crawl-delay, unknown keys) "MUST NOT interfere" with that,
 * and 2.2.4's own example is a Sitemap record that "MUST NOT terminate a group". So in
 *     User-agent: FooBot / Crawl-delay: 5 / User-agent: * / Disallow: /
 * both user-agent lines start the same group, FooBot is disallowed everywhere, and the delay
 * applies to FooBot and * alike. Google's ID_LineSyntax_Groups_OtherRules says the same for a
 * Sitemap line and an unknown line; the crawl_delay_* rows here say it for Crawl-delay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/robots.h"
#include "parse/url.h"

struct google_case {
    const char *origin;  /* the TEST() in robots_test.cc */
    const char *body;    /* robots.txt; "[c*N]" stands for N copies of c (long lines) */
    const char *agent;
    const char *url;     /* as Google passes it; its path is what gather matches */
    int google;          /* Google's answer: 1 allowed */
    int want;            /* gather's answer */
    const char *why;     /* set exactly when want != google */
};

#define FOO "user-agent: FooBot\n"

/* Bodies used by several rows. */
#define GROUPS                                                                                \
    "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\n"   \
    "disallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\n"     \
    "allow: /z/\ndisallow: /\n"
#define UA_UPPER "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n"
#define UA_LOWER "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n"
#define UA_CAMEL "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n"
#define DOC_FISH FOO "disallow: /\nallow: /fish\n"
#define DOC_FISH_STAR FOO "disallow: /\nallow: /fish*\n"
#define DOC_FISH_SLASH FOO "disallow: /\nallow: /fish/\n"
#define DOC_PHP FOO "disallow: /\nallow: /*.php\n"
#define DOC_PHP_END FOO "disallow: /\nallow: /*.php$\n"
#define DOC_FISH_PHP FOO "disallow: /\nallow: /fish*.php\n"
#define LINE_ENDS_BAR_DISALLOWS "adapted: Google counts 4 directives on 6 lines; here bar's Disallow decides"

static const char rfc_encode[] =
    "RFC: 2.2.2, octets outside US-ASCII in the URI are %-encoded before comparing; Google leaves "
    "that to its caller";
static const char rfc_long_line[] =
    "RFC: sets no line length limit (only the 500 KiB file minimum); Google cuts lines at "
    "16664 bytes";

static const struct google_case google_cases[] = {
    /* GoogleOnly_SystemTest */
    {"GoogleOnly_SystemTest", "", "FooBot", "", 1, 1, NULL},
    {"GoogleOnly_SystemTest", FOO "disallow: /\n", "", "", 1, 1, NULL},
    {"GoogleOnly_SystemTest", FOO "disallow: /\n", "FooBot", "", 0, 0, NULL},
    {"GoogleOnly_SystemTest", "", "", "", 1, 1, NULL},

    /* ID_LineSyntax_Line */
    {"ID_LineSyntax_Line", FOO "disallow: /\n", "FooBot", "http://foo.bar/x/y", 0, 0, NULL},
    {"ID_LineSyntax_Line", "foo: FooBot\nbar: /\n", "FooBot", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_LineSyntax_Line", "user-agent FooBot\ndisallow /\n", "FooBot", "http://foo.bar/x/y", 0, 1,
     "RFC: 2.1's grammar needs the colon, so neither line is a record; Google guesses it"},

    /* ID_LineSyntax_Groups */
    {"ID_LineSyntax_Groups", GROUPS, "FooBot", "http://foo.bar/x/b", 1, 1, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "FooBot", "http://foo.bar/z/d", 1, 1, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "FooBot", "http://foo.bar/y/c", 0, 0, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BarBot", "http://foo.bar/y/c", 1, 1, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BarBot", "http://foo.bar/w/a", 1, 1, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BarBot", "http://foo.bar/z/d", 0, 0, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BazBot", "http://foo.bar/z/d", 1, 1, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "FooBot", "http://foo.bar/foo/bar/", 0, 0, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BarBot", "http://foo.bar/foo/bar/", 0, 0, NULL},
    {"ID_LineSyntax_Groups", GROUPS, "BazBot", "http://foo.bar/foo/bar/", 0, 0, NULL},

    /* ID_LineSyntax_Groups_OtherRules */
    {"ID_LineSyntax_Groups_OtherRules",
     "User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n", "FooBot",
     "http://foo.bar/", 0, 0, NULL},
    {"ID_LineSyntax_Groups_OtherRules",
     "User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n", "BarBot",
     "http://foo.bar/", 0, 0, NULL},
    {"ID_LineSyntax_Groups_OtherRules",
     "User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n", "FooBot",
     "http://foo.bar/", 0, 0, NULL},
    {"ID_LineSyntax_Groups_OtherRules",
     "User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n", "BarBot",
     "http://foo.bar/", 0, 0, NULL},
    /* Not in Google's file: the same for Crawl-delay, the record issue 10 found ending groups
     * (Google's parser treats it as an unknown line, so its answer is the one above). */
    {"crawl_delay_does_not_end_a_group (after ID_LineSyntax_Groups_OtherRules)",
     "User-agent: FooBot\nCrawl-delay: 5\nUser-agent: *\nDisallow: /\n", "FooBot",
     "http://foo.bar/", 0, 0, NULL},
    {"crawl_delay_does_not_end_a_group (after ID_LineSyntax_Groups_OtherRules)",
     "User-agent: FooBot\nCrawl-delay: 5\nUser-agent: *\nDisallow: /\n", "BarBot",
     "http://foo.bar/", 0, 0, NULL},
    {"crawl_delay_does_not_end_a_group (after ID_LineSyntax_Groups_OtherRules)",
     "User-agent: FooBot\nDisallow: /a\nCrawl-delay: 5\nDisallow: /b\nUser-agent: *\nDisallow: /\n",
     "FooBot", "http://foo.bar/b", 0, 0, NULL},
    {"crawl_delay_does_not_end_a_group (after ID_LineSyntax_Groups_OtherRules)",
     "User-agent: FooBot\nDisallow: /a\nCrawl-delay: 5\nDisallow: /b\nUser-agent: *\nDisallow: /\n",
     "FooBot", "http://foo.bar/c", 1, 1, NULL},

    /* ID_REPLineNamesCaseInsensitive */
    {"ID_REPLineNamesCaseInsensitive", "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n", "FooBot",
     "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_REPLineNamesCaseInsensitive", "user-agent: FooBot\nallow: /x/\ndisallow: /\n", "FooBot",
     "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_REPLineNamesCaseInsensitive", "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n", "FooBot",
     "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_REPLineNamesCaseInsensitive", "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n", "FooBot",
     "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_REPLineNamesCaseInsensitive", "user-agent: FooBot\nallow: /x/\ndisallow: /\n", "FooBot",
     "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_REPLineNamesCaseInsensitive", "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n", "FooBot",
     "http://foo.bar/a/b", 0, 0, NULL},

    /* ID_UserAgentValueCaseInsensitive */
    {"ID_UserAgentValueCaseInsensitive", UA_UPPER, "Foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_LOWER, "Foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_CAMEL, "Foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_UPPER, "Foo", "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_LOWER, "Foo", "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_CAMEL, "Foo", "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_UPPER, "foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_LOWER, "foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_CAMEL, "foo", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_UPPER, "foo", "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_LOWER, "foo", "http://foo.bar/a/b", 0, 0, NULL},
    {"ID_UserAgentValueCaseInsensitive", UA_CAMEL, "foo", "http://foo.bar/a/b", 0, 0, NULL},

    /* GoogleOnly_AcceptUserAgentUpToFirstSpace */
    {"GoogleOnly_AcceptUserAgentUpToFirstSpace",
     "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n", "Foo",
     "http://foo.bar/x/y", 1, 1, NULL},
    {"GoogleOnly_AcceptUserAgentUpToFirstSpace",
     "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n", "Foo Bar",
     "http://foo.bar/x/y", 0, 1,
     "not RFC: \"Foo Bar\" is no product token (2.2.1); gather takes the token from the front "
     "of the agent (\"Foo\"), as for \"gather/0.1\""},

    /* ID_GlobalGroups_Secondary */
    {"ID_GlobalGroups_Secondary", "", "FooBot", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_GlobalGroups_Secondary", "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n",
     "FooBot", "http://foo.bar/x/y", 0, 0, NULL},
    {"ID_GlobalGroups_Secondary", "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n",
     "BarBot", "http://foo.bar/x/y", 1, 1, NULL},
    {"ID_GlobalGroups_Secondary",
     "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\n"
     "disallow: /\n",
     "QuxBot", "http://foo.bar/x/y", 1, 1, NULL},

    /* ID_AllowDisallow_Value_CaseSensitive */
    {"ID_AllowDisallow_Value_CaseSensitive", FOO "disallow: /x/\n", "FooBot", "http://foo.bar/x/y",
     0, 0, NULL},
    {"ID_AllowDisallow_Value_CaseSensitive", FOO "disallow: /X/\n", "FooBot", "http://foo.bar/x/y",
     1, 1, NULL},

    /* ID_LongestMatch */
    {"ID_LongestMatch", FOO "disallow: /x/page.html\nallow: /x/\n", "FooBot",
     "http://foo.bar/x/page.html", 0, 0, NULL},
    {"ID_LongestMatch", FOO "allow: /x/page.html\ndisallow: /x/\n", "FooBot",
     "http://foo.bar/x/page.html", 1, 1, NULL},
    {"ID_LongestMatch", FOO "allow: /x/page.html\ndisallow: /x/\n", "FooBot", "http://foo.bar/x/",
     0, 0, NULL},
    {"ID_LongestMatch", FOO "disallow: \nallow: \n", "FooBot", "http://foo.bar/x/page.html", 1, 1,
     NULL},
    {"ID_LongestMatch", FOO "disallow: /\nallow: /\n", "FooBot", "http://foo.bar/x/page.html", 1, 1,
     NULL},
    {"ID_LongestMatch", FOO "disallow: /x\nallow: /x/\n", "FooBot", "http://foo.bar/x", 0, 0, NULL},
    {"ID_LongestMatch", FOO "disallow: /x\nallow: /x/\n", "FooBot", "http://foo.bar/x/", 1, 1, NULL},
    {"ID_LongestMatch", FOO "disallow: /x/page.html\nallow: /x/page.html\n", "FooBot",
     "http://foo.bar/x/page.html", 1, 1, NULL},
    {"ID_LongestMatch", FOO "allow: /page\ndisallow: /*.html\n", "FooBot",
     "http://foo.bar/page.html", 0, 0, NULL},
    {"ID_LongestMatch", FOO "allow: /page\ndisallow: /*.html\n", "FooBot", "http://foo.bar/page", 1,
     1, NULL},
    {"ID_LongestMatch", FOO "allow: /x/page.\ndisallow: /*.html\n", "FooBot",
     "http://foo.bar/x/page.html", 1, 1, NULL},
    {"ID_LongestMatch", FOO "allow: /x/page.\ndisallow: /*.html\n", "FooBot",
     "http://foo.bar/x/y.html", 0, 0, NULL},
    {"ID_LongestMatch", "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n",
     "FooBot", "http://foo.bar/x/page", 1, 1, NULL},
    {"ID_LongestMatch", "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n",
     "FooBot", "http://foo.bar/y/page", 0, 0, NULL},

    /* ID_Encoding */
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n",
     "FooBot", "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", 1, 1, NULL},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/\xE3\x83\x84\n", "FooBot",
     "http://foo.bar/foo/bar/%E3%83%84", 1, 1, NULL},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/\xE3\x83\x84\n", "FooBot",
     "http://foo.bar/foo/bar/\xE3\x83\x84", 0, 1, rfc_encode},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", "FooBot",
     "http://foo.bar/foo/bar/%E3%83%84", 1, 1, NULL},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", "FooBot",
     "http://foo.bar/foo/bar/\xE3\x83\x84", 0, 1, rfc_encode},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", "FooBot",
     "http://foo.bar/foo/bar/baz", 0, 1,
     "RFC: 2.2.2's table matches the rule /foo/bar/%62%61%7A as /foo/bar/baz (unreserved "
     "octets decoded)"},
    {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", "FooBot",
     "http://foo.bar/foo/bar/%62%61%7A", 1, 1, NULL},

    /* ID_SpecialCharacters */
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n",
     "FooBot", "http://foo.bar/foo/bar/quz", 0, 0, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n",
     "FooBot", "http://foo.bar/foo/quz", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n",
     "FooBot", "http://foo.bar/foo//quz", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n",
     "FooBot", "http://foo.bar/foo/bax/quz", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n",
     "FooBot", "http://foo.bar/foo/bar", 0, 0, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n",
     "FooBot", "http://foo.bar/foo/bar/qux", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n",
     "FooBot", "http://foo.bar/foo/bar/", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n",
     "FooBot", "http://foo.bar/foo/bar/baz", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n",
     "FooBot", "http://foo.bar/foo/bar", 1, 1, NULL},
    {"ID_SpecialCharacters", "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n",
     "FooBot", "http://foo.bar/foo/quz", 0, 0, NULL},

    /* GoogleOnly_IndexHTMLisDirectory */
    {"GoogleOnly_IndexHTMLisDirectory", "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n",
     "foobot", "http://foo.com/allowed-slash/", 1, 0,
     "RFC: 2.2.2 matches a rule as a prefix of the path; \"index.html means its directory\" is "
     "Google's own"},
    {"GoogleOnly_IndexHTMLisDirectory", "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n",
     "foobot", "http://foo.com/allowed-slash/index.htm", 0, 0, NULL},
    {"GoogleOnly_IndexHTMLisDirectory", "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n",
     "foobot", "http://foo.com/allowed-slash/index.html", 1, 1, NULL},
    {"GoogleOnly_IndexHTMLisDirectory", "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n",
     "foobot", "http://foo.com/anyother-url", 0, 0, NULL},

    /* GoogleOnly_LineTooLong: lines of 2083 * 8 bytes, built as that test builds them. */
    {"GoogleOnly_LineTooLong", FOO "disallow: /x/[a*16649]/qux\n", "FooBot", "http://foo.bar/fux",
     1, 1, NULL},
    {"GoogleOnly_LineTooLong", FOO "disallow: /x/[a*16649]/qux\n", "FooBot",
     "http://foo.bar/x/[a*16649]/fux", 0, 1, rfc_long_line},
    {"GoogleOnly_LineTooLong", FOO "disallow: /\nallow: /x/[a*16652]/qux\nallow: /x/[b*16652]/qux\n",
     "FooBot", "http://foo.bar/", 0, 0, NULL},
    {"GoogleOnly_LineTooLong", FOO "disallow: /\nallow: /x/[a*16652]/qux\nallow: /x/[b*16652]/qux\n",
     "FooBot", "http://foo.bar/x/[a*16652]/qux", 1, 1, NULL},
    {"GoogleOnly_LineTooLong", FOO "disallow: /\nallow: /x/[a*16652]/qux\nallow: /x/[b*16652]/qux\n",
     "FooBot", "http://foo.bar/x/[b*16652]/fux", 1, 0, rfc_long_line},

    /* GoogleOnly_DocumentationChecks: "URL matching based on path values" */
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fish", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fish.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fish/salmon.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fishheads", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fishheads/yummy.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/fish.html?id=anything", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/Fish.asp", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/catfish", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH, "FooBot", "http://foo.bar/?id=fish", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fish", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fish.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fish/salmon.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fishheads", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fishheads/yummy.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/fish.html?id=anything", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/Fish.bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/catfish", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_STAR, "FooBot", "http://foo.bar/?id=fish", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish/", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish/salmon", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish/?salmon", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish/salmon.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish/?id=anything", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/fish.html", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_SLASH, "FooBot", "http://foo.bar/Fish/Salmon.html", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/filename.php", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/folder/filename.php", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/folder/filename.php?parameters", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar//folder/any.php.file.html", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/filename.php/", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/index?f=filename.php/", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/php/", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/index?php", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP, "FooBot", "http://foo.bar/windows.PHP", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/filename.php", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/folder/filename.php", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/filename.php?parameters", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/filename.php/", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/filename.php5", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/php/", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/filename?php", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar/aaaphpaaa", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_PHP_END, "FooBot", "http://foo.bar//windows.PHP", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_PHP, "FooBot", "http://foo.bar/bar", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_PHP, "FooBot", "http://foo.bar/fish.php", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_PHP, "FooBot",
     "http://foo.bar/fishheads/catfish.php?parameters", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", DOC_FISH_PHP, "FooBot", "http://foo.bar/Fish.PHP", 0, 0, NULL},
    /* GoogleOnly_DocumentationChecks: "Order of precedence for group-member records" */
    {"GoogleOnly_DocumentationChecks", FOO "allow: /p\ndisallow: /\n", "FooBot",
     "http://example.com/page", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", FOO "allow: /folder\ndisallow: /folder\n", "FooBot",
     "http://example.com/folder/page", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", FOO "allow: /page\ndisallow: /*.htm\n", "FooBot",
     "http://example.com/page.htm", 0, 0, NULL},
    {"GoogleOnly_DocumentationChecks", FOO "allow: /$\ndisallow: /\n", "FooBot",
     "http://example.com/", 1, 1, NULL},
    {"GoogleOnly_DocumentationChecks", FOO "allow: /$\ndisallow: /\n", "FooBot",
     "http://example.com/page.html", 0, 0, NULL},

    /* ID_LinesNumbersAreCountedCorrectly: NL = CR / LF / CRLF (RFC 9309 2.1). Google counts
     * the directives; here bar's Disallow, six lines down, decides, and foo's group ended. */
    {"ID_LinesNumbersAreCountedCorrectly (" LINE_ENDS_BAR_DISALLOWS ", LF)",
     "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /\n", "bar",
     "http://foo.bar/x", 0, 0, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (LF, foo)",
     "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /\n", "foo",
     "http://foo.bar/x", 1, 1, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (" LINE_ENDS_BAR_DISALLOWS ", CRLF)",
     "User-Agent: foo\r\nAllow: /some/path\r\nUser-Agent: bar\r\n\r\n\r\nDisallow: /\r\n", "bar",
     "http://foo.bar/x", 0, 0, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (CRLF, foo)",
     "User-Agent: foo\r\nAllow: /some/path\r\nUser-Agent: bar\r\n\r\n\r\nDisallow: /\r\n", "foo",
     "http://foo.bar/x", 1, 1, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (" LINE_ENDS_BAR_DISALLOWS ", CR)",
     "User-Agent: foo\rAllow: /some/path\rUser-Agent: bar\r\r\rDisallow: /\r", "bar",
     "http://foo.bar/x", 0, 0, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (CR, foo)",
     "User-Agent: foo\rAllow: /some/path\rUser-Agent: bar\r\r\rDisallow: /\r", "foo",
     "http://foo.bar/x", 1, 1, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (" LINE_ENDS_BAR_DISALLOWS ", no final newline)",
     "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /", "bar",
     "http://foo.bar/x", 0, 0, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (" LINE_ENDS_BAR_DISALLOWS ", mixed)",
     "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /", "bar",
     "http://foo.bar/x", 0, 0, NULL},
    {"ID_LinesNumbersAreCountedCorrectly (mixed, foo)",
     "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /", "foo",
     "http://foo.bar/x", 1, 1, NULL},

    /* ID_UTF8ByteOrderMarkIsSkipped, adapted: its "Allow: /AnyValue" is a Disallow here, so
     * that Google's count (the line parsed or not) shows in the answer. The RFC says nothing
     * of byte order marks; gather skips a whole or partial one at the start, as Google does. */
    {"ID_UTF8ByteOrderMarkIsSkipped (full BOM)", "\xEF\xBB\xBF" "User-Agent: foo\nDisallow: /AnyValue\n",
     "foo", "http://foo.bar/AnyValue", 0, 0, NULL},
    {"ID_UTF8ByteOrderMarkIsSkipped (2 bytes of a BOM)", "\xEF\xBB" "User-Agent: foo\nDisallow: /AnyValue\n",
     "foo", "http://foo.bar/AnyValue", 0, 0, NULL},
    {"ID_UTF8ByteOrderMarkIsSkipped (1 byte of a BOM)", "\xEF" "User-Agent: foo\nDisallow: /AnyValue\n",
     "foo", "http://foo.bar/AnyValue", 0, 0, NULL},
    {"ID_UTF8ByteOrderMarkIsSkipped (broken BOM: the first line is junk)",
     "\xEF\x11\xBF" "User-Agent: foo\nDisallow: /AnyValue\n", "foo", "http://foo.bar/AnyValue", 1, 1,
     NULL},
    {"ID_UTF8ByteOrderMarkIsSkipped (BOM inside the file: that line is junk)",
     "User-Agent: foo\n\xEF\xBB\xBF" "Disallow: /AnyValue\n", "foo", "http://foo.bar/AnyValue", 1, 1,
     NULL},

    /* TestMaybeEscapePattern, as matches: a rule is %-encoded (non-ASCII) and its hex upper-cased. */
    {"TestMaybeEscapePattern (\"\xC3\xA1\" -> \"%C3%A1\")", FOO "disallow: /\xC3\xA1\n", "FooBot",
     "http://foo.bar/%C3%A1", 0, 0, NULL},
    {"TestMaybeEscapePattern (\"%aa\" -> \"%AA\")", FOO "disallow: /%aa\n", "FooBot",
     "http://foo.bar/%AA", 0, 0, NULL},
};

/* body with every "[c*N]" replaced by N copies of c; malloc'd. */
static char *expand(const char *s)
{
    size_t cap = strlen(s) + 1, n = 0;
    const char *p;
    char *out;

    for (p = s; (p = strstr(p, "[")) != NULL; p++)
        cap += strtoul(p + 3, NULL, 10);
    out = malloc(cap);
    if (!out)
        abort();
    for (p = s; *p;) {
        if (p[0] == '[' && p[1] && p[2] == '*') {
            char *end;
            unsigned long k = strtoul(p + 3, &end, 10);
            memset(out + n, p[1], k);
            n += k;
            p = end + 1; /* past "]" */
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

static void test_google_suite(void **state)
{
    size_t i, differ = 0, failed = 0;

    (void)state;
    for (i = 0; i < sizeof(google_cases) / sizeof(google_cases[0]); i++) {
        const struct google_case *c = &google_cases[i];
        char *body = expand(c->body), *url = expand(c->url), *path = NULL;
        parse_robots_t *r;
        int got;

        /* The table itself: a difference from Google is explained, and only a difference. */
        if ((c->want != c->google) != (c->why != NULL))
            fail_msg("row %zu (%s): want %d, google %d, why %s", i, c->origin, c->want, c->google,
                     c->why ? c->why : "(none)");
        differ += c->want != c->google;
        /* The path as the crawl takes it from a URL (an empty URL: the empty path). URLs
         * longer than gather's URL cap (GoogleOnly_LineTooLong's) are asked as raw paths. */
        if (url[0] && parse_url_path(url, &path) != 0) {
            const char *slash = strlen(url) > PARSE_URL_MAX ? strchr(url + 7, '/') : NULL;
            if (!slash)
                fail_msg("row %zu (%s): parse_url_path(%.80s) failed", i, c->origin, url);
            path = strdup(slash);
            assert_non_null(path);
        }
        r = parse_robots_new(body, strlen(body), c->agent);
        assert_non_null(r);
        got = parse_robots_allowed(r, path ? path : "");
        if (got != c->want) {
            print_error("row %zu (%s): agent \"%s\", url %.100s: got %s, want %s\n", i, c->origin,
                        c->agent, url, got ? "allowed" : "disallowed",
                        c->want ? "allowed" : "disallowed");
            failed++;
        }
        parse_robots_free(r);
        free(path);
        free(url);
        free(body);
    }
    print_message("%zu rows from robots_test.cc, %zu answered otherwise than Google (RFC 9309 "
                  "or not decided by it)\n", i, differ);
    assert_int_equal(failed, 0);
}

/* ID_NonStandardLineExample_Sitemap: a Sitemap line is read wherever it is. */
static void test_google_sitemap(void **state)
{
    static const char *const bodies[] = {
        "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nSitemap: http://foo.bar/sitemap.xml\n",
        "Sitemap: http://foo.bar/sitemap.xml\nUser-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        parse_robots_t *r = parse_robots_new(bodies[i], strlen(bodies[i]), "foo");
        assert_non_null(r);
        assert_int_equal(parse_robots_sitemap_count(r), 1);
        assert_string_equal(parse_robots_sitemap(r, 0), "http://foo.bar/sitemap.xml");
        parse_robots_free(r);
    }
}

/* ID_VerifyValidUserAgentsToObey: what --robots-agent accepts as a product token. */
static void test_google_valid_tokens(void **state)
{
    static const struct {
        const char *token;
        int valid;
    } cases[] = {
        {"Foobot", 1},     {"Foobot-Bar", 1},  {"Foo_Bar", 1},    {NULL, 0},
        {"", 0},           {"\xE3\x83\x84", 0}, {"Foobot*", 0},   {" Foobot ", 0},
        {"Foobot/2.1", 0}, {"Foobot Bar", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (parse_robots_token_valid(cases[i].token) != cases[i].valid)
            fail_msg("\"%s\": want %s", cases[i].token ? cases[i].token : "(null)",
                     cases[i].valid ? "valid" : "invalid");
}

/* The crawl-delay of a group whose user-agent lines a Crawl-delay line sits between belongs
 * to every agent of the group (see the grouping note at the top). */
static void test_crawl_delay_inside_agents(void **state)
{
    static const char body[] = "User-agent: FooBot\nCrawl-delay: 5\nUser-agent: *\nDisallow: /\n";
    static const char *const agents[] = {"FooBot", "BarBot"};
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        parse_robots_t *r = parse_robots_new(body, strlen(body), agents[i]);
        assert_non_null(r);
        assert_int_equal(parse_robots_crawl_delay_ms(r), 5000);
        assert_int_equal(parse_robots_allowed(r, "/x"), 0);
        parse_robots_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_google_suite),
        cmocka_unit_test(test_google_sitemap),
        cmocka_unit_test(test_google_valid_tokens),
        cmocka_unit_test(test_crawl_delay_inside_agents),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
