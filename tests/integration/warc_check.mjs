// tests/integration/warc_check.mjs: reads a WARC file back with warcio (webrecorder's reader,
// from npm: not ours) and checks what gather wrote against it.
//
//     WARCIO=DIR/node_modules/warcio node warc_check.mjs FILE.warc.gz [FILE.cdx]
//
// Two passes over the file, both by warcio's WARCParser: one with parseHttp off, whose record
// bodies are the whole blocks (their sha1 must be WARC-Block-Digest), one with parseHttp on,
// whose raw payload reader gives what follows the HTTP headers (its sha1 must be
// WARC-Payload-Digest, except for revisits, whose payload lives in the record they refer to).
// With a CDX file, every line's offset must start a record of that URL, and its length must
// end where the next record starts.
// Prints one JSON object: {records, types, by_uri: {uri: {type: n}}, order: [types], errors: [..],
// responses: [{uri, status, payload_len, digest, encoding, truncated}], warcinfo: text,
// revisits: [{uri, refers_to}], cdx: n}. Exit status 0 when errors is empty.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// ES modules ignore NODE_PATH: the test says where it installed warcio.
const { WARCParser } = await import(process.env.WARCIO ? pathToFileURL(process.env.WARCIO + "/dist/index.js").href : "warcio");

const file = process.argv[2];
const cdxFile = process.argv[3];
const errors = [];

function base32(buf) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
const sha1 = (h) => "sha1:" + base32(h.digest());

async function blockPass() {
  const out = [];
  const parser = new WARCParser(createReadStream(file), { parseHttp: false });
  for await (const record of parser) {
    const h = createHash("sha1");
    for await (const chunk of record.reader) h.update(chunk);
    out.push({ id: record.warcHeaders.headers.get("WARC-Record-ID"), block: sha1(h), offset: parser.offset });
  }
  return out;
}

async function payloadPass(blocks) {
  const summary = { records: 0, types: {}, by_uri: {}, order: [], errors, responses: [], revisits: [],
                    warcinfo: "", offsets: {} };
  const ids = new Map();
  const parser = new WARCParser(createReadStream(file), { parseHttp: true });
  let i = 0;
  for await (const record of parser) {
    const type = record.warcType;
    const uri = record.warcTargetURI || "";
    const hdr = (n) => record.warcHeaders.headers.get(n);
    const id = hdr("WARC-Record-ID");
    const b = blocks[i++];
    summary.records++;
    summary.types[type] = (summary.types[type] || 0) + 1;
    summary.order.push(type);
    if (uri) {
      summary.by_uri[uri] ??= {};
      summary.by_uri[uri][type] = (summary.by_uri[uri][type] || 0) + 1;
    }
    if (record.warcHeaders.protocol !== "WARC/1.1") errors.push(`${id}: version ${record.warcHeaders.protocol}`);
    if (!/^<urn:uuid:[0-9a-f-]{36}>$/.test(id || "")) errors.push(`record ${i}: bad WARC-Record-ID ${id}`);
    if (ids.has(id)) errors.push(`${id}: Record-ID used twice`);
    ids.set(id, { type, uri, date: hdr("WARC-Date"), concurrent: hdr("WARC-Concurrent-To") });
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(hdr("WARC-Date") || "")) errors.push(`${id}: bad WARC-Date`);
    if (!b || b.id !== id) errors.push(`${id}: the two passes disagree on the records`);
    if (type === "warcinfo") {
      summary.warcinfo = new TextDecoder().decode(await record.readFully(false));
      continue;
    }
    if (b && hdr("WARC-Block-Digest") !== b.block)
      errors.push(`${id} (${type} ${uri}): WARC-Block-Digest ${hdr("WARC-Block-Digest")}, the block's is ${b.block}`);
    const want = type === "request" ? "application/http;msgtype=request" : "application/http;msgtype=response";
    if (hdr("Content-Type") !== want) errors.push(`${id}: Content-Type ${hdr("Content-Type")}`);
    if (!hdr("WARC-Concurrent-To")) errors.push(`${id}: no WARC-Concurrent-To`);
    if (!hdr("WARC-IP-Address")) errors.push(`${id}: no WARC-IP-Address`);
    const ph = createHash("sha1");
    let plen = 0;
    for await (const chunk of record.reader) { ph.update(chunk); plen += chunk.length; }
    if (type === "response") {
      if (hdr("WARC-Payload-Digest") !== sha1(ph))
        errors.push(`${id} (${uri}): WARC-Payload-Digest ${hdr("WARC-Payload-Digest")}, the payload's is ${sha1(ph)}`);
      summary.responses.push({ uri, status: record.httpHeaders?.statusCode, payload_len: plen,
                               digest: hdr("WARC-Payload-Digest"), truncated: hdr("WARC-Truncated") || null,
                               encoding: record.httpHeaders?.headers.get("Content-Encoding") || null });
      summary.offsets[b.offset] = uri;
    } else if (type === "revisit") {
      if (hdr("WARC-Profile") !== "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
        errors.push(`${id}: WARC-Profile ${hdr("WARC-Profile")}`);
      if (plen !== 0) errors.push(`${id}: a revisit with a payload of ${plen} bytes`);
      summary.revisits.push({ uri, refers_to: hdr("WARC-Refers-To-Target-URI"), refers_date: hdr("WARC-Refers-To-Date"),
                              digest: hdr("WARC-Payload-Digest") });
      summary.offsets[b.offset] = uri;
    }
  }
  if (summary.order[0] !== "warcinfo") errors.push("the first record is not warcinfo");
  // request -> response pairs: each request names a response (or revisit) of the same URI
  for (const [id, r] of ids) {
    if (r.type !== "request") continue;
    const other = ids.get(r.concurrent);
    if (!other || (other.type !== "response" && other.type !== "revisit") || other.uri !== r.uri)
      errors.push(`${id}: WARC-Concurrent-To ${r.concurrent} is not the response of ${r.uri}`);
  }
  for (const rv of summary.revisits) {
    const orig = [...ids.values()].find((r) => r.type === "response" && r.uri === rv.refers_to && r.date === rv.refers_date);
    const digestOk = summary.responses.some((r) => r.uri === rv.refers_to && r.digest === rv.digest);
    if (!orig || !digestOk) errors.push(`revisit of ${rv.uri}: refers to no response with its digest (${rv.refers_to})`);
  }
  return summary;
}

const blocks = await blockPass();
const summary = await payloadPass(blocks);
if (cdxFile) {
  const lines = readFileSync(cdxFile, "utf8").split("\n").filter((l) => l);
  const sorted = [...lines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (lines.join("\n") !== sorted.join("\n")) errors.push("the CDX lines are not sorted");
  for (const line of lines) {
    const m = /^(\S+) (\d{14}) (\{.*\})$/.exec(line);
    if (!m) { errors.push(`CDX line not 'surt timestamp {json}': ${line}`); continue; }
    const j = JSON.parse(m[3]);
    for (const k of ["url", "mime", "status", "digest", "length", "offset", "filename"])
      if (!(k in j)) errors.push(`CDX line without ${k}: ${line}`);
    if (summary.offsets[j.offset] !== j.url) errors.push(`CDX offset ${j.offset} is not a record of ${j.url}`);
    const next = blocks.find((b) => b.offset > Number(j.offset));
    if (next && Number(j.offset) + Number(j.length) !== next.offset)
      errors.push(`CDX length ${j.length} at ${j.offset} does not end at the next record (${next.offset})`);
  }
  summary.cdx = lines.length;
}
delete summary.offsets;
console.log(JSON.stringify(summary));
process.exitCode = errors.length ? 1 : 0;   // not process.exit: it would cut a long stdout short
