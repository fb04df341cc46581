# tests/integration/har_check.jq: checks a file against the structure of HTTP Archive 1.2
# (http://www.softwareishard.com/blog/har-12-spec/): every required field of log, creator, pages,
# entries, request, response, content, cache and timings, with its type; only known fields or
# custom ones starting with "_"; headers wherever a headersSize says some were sent or received;
# timestamps in ISO 8601; page ids unique and every pageref naming
# a page; timings -1 or >= 0, with send/wait/receive required; time the sum of the timings.
# Prints one line per problem (at most 30) and nothing when the file is valid:
#     jq -r -f har_check.jq FILE.har
# jq 1.6.

def ok($cond; $msg): if $cond then empty else $msg end;
def isnum: type == "number";
def isint: isnum and . == floor;
def isstr: type == "string";
def isarr: type == "array";
def isobj: type == "object";
def iso8601: isstr and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$");
def abs: if . < 0 then -. else . end;

# Fields of an object that are neither allowed nor custom ("_name").
def unknown_keys($allowed): keys - $allowed | map(select(startswith("_") | not));
def only($allowed; $where):
  if isobj then (unknown_keys($allowed) | if length > 0 then "\($where): unknown fields \(.)" else empty end)
  else empty end;

def pairs_ok($where):
  ok(isarr; "\($where) is not an array"),
  (if isarr then (to_entries[] | .key as $k | .value |
     ok(isobj and (.name | isstr) and (.value | isstr); "\($where)[\($k)] is not {name, value}"))
   else empty end);

def timing($name; $required; $where):
  .[$name] as $v |
  if $v == null then ok($required | not; "\($where).\($name) is missing")
  else ok(($v | isnum) and ($v == -1 or $v >= 0); "\($where).\($name) is \($v), not -1 or >= 0") end;

def creator_errors:
  ok(isobj; "log.creator is not an object"),
  ok(.name | isstr; "log.creator.name is not a string"),
  ok(.version | isstr; "log.creator.version is not a string"),
  only(["name", "version", "comment"]; "log.creator");

def page_errors($i):
  "log.pages[\($i)]" as $w |
  ok(isobj; "\($w) is not an object"),
  ok(.startedDateTime | iso8601; "\($w).startedDateTime is not ISO 8601"),
  ok(.id | isstr; "\($w).id is not a string"),
  ok(.title | isstr; "\($w).title is not a string"),
  ok(.pageTimings | isobj; "\($w).pageTimings is not an object"),
  (.pageTimings | if isobj then (timing("onContentLoad"; false; "\($w).pageTimings"),
                                 timing("onLoad"; false; "\($w).pageTimings")) else empty end),
  only(["startedDateTime", "id", "title", "pageTimings", "comment"]; $w);

def request_errors($w):
  ok(isobj; "\($w) is not an object"),
  ok(.method | isstr; "\($w).method is not a string"),
  ok(.url | isstr and test("^https?://"); "\($w).url is not an http(s) URL"),
  ok(.httpVersion | isstr; "\($w).httpVersion is not a string"),
  ok(.cookies | isarr; "\($w).cookies is not an array"),
  (.headers | pairs_ok("\($w).headers")),
  (.queryString | pairs_ok("\($w).queryString")),
  ok(.headersSize | isint; "\($w).headersSize is not an integer"),
  ok(.headersSize <= 0 or (.headers | length) > 0; "\($w) has a headersSize of \(.headersSize) but no headers"),
  ok(.bodySize | isint; "\($w).bodySize is not an integer"),
  only(["method", "url", "httpVersion", "cookies", "headers", "queryString", "postData",
        "headersSize", "bodySize", "comment"]; $w);

def response_errors($w):
  ok(isobj; "\($w) is not an object"),
  ok(.status | isint and . >= 0 and . < 1000; "\($w).status is not a status code"),
  ok(.statusText | isstr; "\($w).statusText is not a string"),
  ok(.httpVersion | isstr; "\($w).httpVersion is not a string"),
  ok(.cookies | isarr; "\($w).cookies is not an array"),
  (.headers | pairs_ok("\($w).headers")),
  ok(.content | isobj; "\($w).content is not an object"),
  ok(.content.size | isint and . >= 0; "\($w).content.size is not a size"),
  ok(.content.mimeType | isstr; "\($w).content.mimeType is not a string"),
  (.content | only(["size", "compression", "mimeType", "text", "encoding", "comment"]; "\($w).content")),
  ok(.redirectURL | isstr; "\($w).redirectURL is not a string"),
  ok(.headersSize | isint; "\($w).headersSize is not an integer"),
  ok(.headersSize <= 0 or (.headers | length) > 0; "\($w) has a headersSize of \(.headersSize) but no headers"),
  ok(.bodySize | isint; "\($w).bodySize is not an integer"),
  only(["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL",
        "headersSize", "bodySize", "comment"]; $w);

def entry_errors($i; $pages):
  "log.entries[\($i)]" as $w |
  . as $e |
  ok(isobj; "\($w) is not an object"),
  (if has("pageref") then ok(.pageref as $p | $pages | index([$p]) != null; "\($w).pageref names no page") else empty end),
  ok(.startedDateTime | iso8601; "\($w).startedDateTime is not ISO 8601"),
  ok(.time | isnum and . >= 0; "\($w).time is not a duration"),
  (.request | request_errors("\($w).request")),
  (.response | response_errors("\($w).response")),
  ok(.cache | isobj; "\($w).cache is not an object"),
  ok(.timings | isobj; "\($w).timings is not an object"),
  (.timings | if isobj then
     (timing("blocked"; false; "\($w).timings"), timing("dns"; false; "\($w).timings"),
      timing("connect"; false; "\($w).timings"), timing("ssl"; false; "\($w).timings"),
      timing("send"; true; "\($w).timings"), timing("wait"; true; "\($w).timings"),
      timing("receive"; true; "\($w).timings"),
      ok([.send, .wait, .receive] | all(. != null and . >= 0); "\($w).timings: send, wait or receive is -1"),
      ok(($e.time - ([.blocked, .dns, .connect, .send, .wait, .receive] | map(select(. != null and . > 0)) | add // 0)) | abs < 0.01;
         "\($w).time \($e.time) is not the sum of its timings"),
      only(["blocked", "dns", "connect", "ssl", "send", "wait", "receive", "comment"]; "\($w).timings"))
   else empty end),
  (if has("serverIPAddress") then ok(.serverIPAddress | isstr; "\($w).serverIPAddress is not a string") else empty end),
  (if has("connection") then ok(.connection | isstr; "\($w).connection is not a string") else empty end),
  only(["pageref", "startedDateTime", "time", "request", "response", "cache", "timings",
        "serverIPAddress", "connection", "comment"]; $w);

[
  ok(isobj and (.log | isobj); "no log object"),
  (.log | select(isobj) |
    ok(.version | isstr and test("^1\\.[12]$"); "log.version is not 1.2"),
    (.creator | creator_errors),
    (if has("browser") then (.browser | creator_errors) else empty end),
    ok(.entries | isarr; "log.entries is not an array"),
    (if has("pages") then ok(.pages | isarr; "log.pages is not an array") else empty end),
    ([(.pages // [])[] | .id] as $ids | ok(($ids | length) == ($ids | unique | length); "page ids are not unique")),
    (.pages // [] | if isarr then (to_entries[] | .key as $i | .value | page_errors($i)) else empty end),
    ([(.pages // [])[]? | .id] as $pages |
      .entries | if isarr then (to_entries[] | .key as $i | .value | entry_errors($i; $pages)) else empty end),
    only(["version", "creator", "browser", "pages", "entries", "comment"]; "log"))
] | .[:30][]
