/* rjob_lua: the Lua scripts of a job in Redis (private to storage/rjob.c). KEYS[1] is always the
 * job's prefix "gather:{NAME}:"; every key a script touches starts with it (one hash slot). */
#ifndef STORAGE_RJOB_LUA_H
#define STORAGE_RJOB_LUA_H

/* Redis's clock in ms (scripts replicate their effects, so TIME is allowed). */
#define RJOB_LUA_NOW \
    "local function now_ms() local t = redis.call('TIME') " \
    "return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end\n"

/* offer(level, requeue_failed, [fp url origin depth kind hops seed parent]...) -> queued.
 * fp: 8 bytes; the bucket is its top 14 bits, the bucket keeps the next 48 (6 bytes). A stream
 * entry keeps only what differs from the defaults (depth 0, kind p, hops 0, seed -1, no parent;
 * the origin is worked out again from the URL): a get job's entry is its URL alone. */
static const char rjob_lua_offer[] =
    "local P = KEYS[1]\n"
    "local level = ARGV[1]\n"
    "if level == '-1' then level = redis.call('HGET', P .. 'meta', 'level') or '0' end\n"
    "local requeue = ARGV[2] == '1'\n"
    "local q = P .. 'q:' .. level\n"
    "redis.pcall('XGROUP', 'CREATE', q, 'w', '0', 'MKSTREAM')\n"
    "local added = 0\n"
    "local i = 3\n"
    "while i + 7 <= #ARGV do\n"
    "  local fp, url, origin = ARGV[i], ARGV[i + 1], ARGV[i + 2]\n"
    "  local b = P .. 'seen:' .. string.format('%04x', fp:byte(1) * 64 + math.floor(fp:byte(2) / 4))\n"
    "  local rest = fp:sub(3, 8)\n"
    "  local s = redis.call('GET', b)\n"
    "  local found = false\n"
    "  if s then\n"
    "    local pos = 1\n"
    "    while true do\n"
    "      local at = string.find(s, rest, pos, true)\n"
    "      if not at then break end\n"
    "      if (at - 1) % 6 == 0 then found = true break end\n"
    "      pos = at + 1\n"
    "    end\n"
    "  end\n"
    "  local add = false\n"
    "  if not found then\n"
    "    redis.call('APPEND', b, rest)\n"
    "    add = true\n"
    "  elseif requeue and redis.call('HDEL', P .. 'failed', url) == 1 then\n"
    "    redis.call('HINCRBY', P .. 'meta', 'failed', -1)\n"
    "    add = true\n"
    "  end\n"
    "  if add then\n"
    "    local f = {'u', url}\n"
    "    if ARGV[i + 3] ~= '0' then table.insert(f, 'd') table.insert(f, ARGV[i + 3]) end\n"
    "    if ARGV[i + 4] ~= 'p' then table.insert(f, 'k') table.insert(f, ARGV[i + 4]) end\n"
    "    if ARGV[i + 5] ~= '0' then table.insert(f, 'r') table.insert(f, ARGV[i + 5]) end\n"
    "    if ARGV[i + 6] ~= '-1' then table.insert(f, 's') table.insert(f, ARGV[i + 6]) end\n"
    "    if ARGV[i + 7] ~= '' then table.insert(f, 'p') table.insert(f, ARGV[i + 7]) end\n"
    "    redis.call('XADD', q, '*', unpack(f))\n"
    "    redis.call('HINCRBY', P .. 'backlog', origin, 1)\n"
    "    added = added + 1\n"
    "  end\n"
    "  i = i + 8\n"
    "end\n"
    "if added > 0 then redis.call('HINCRBY', P .. 'meta', 'queued', added) end\n"
    "return added\n";

/* claim(worker, count, lease_ms, ahead) -> {status, level, reclaimed, entries...}: entries taken
 * back from dead workers (XAUTOCLAIM) first, then new ones: count, plus up to `ahead` more when
 * plenty is left (at most half of what is left per live worker), so a worker has its next URLs at
 * hand without leaving others idle at the end; an empty level moves the job to the next one, and
 * with no next level and no producer the job is done. */
static const char rjob_lua_claim[] =
    RJOB_LUA_NOW
    "local P = KEYS[1]\n"
    "local me, count, lease, ahead = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local now = now_ms()\n"
    "redis.call('ZADD', P .. 'workers', now, me)\n"
    "local level = tonumber(redis.call('HGET', P .. 'meta', 'level') or '0')\n"
    "for round = 1, 64 do\n"
    "  local q = P .. 'q:' .. level\n"
    "  if redis.call('EXISTS', q) == 1 then\n"
    "    local out = {'ok', level, 0}\n"
    "    if count > 0 then\n"
    "      local ac = redis.call('XAUTOCLAIM', q, 'w', me, lease, '0-0', 'COUNT', count)\n"
    "      for _, e in ipairs(ac[2]) do\n"
    "        if e[2] then table.insert(out, e) end\n"
    "      end\n"
    "    end\n"
    "    out[3] = #out - 3\n"
    "    local n = count - out[3]\n"
    "    if ahead > 0 then\n"
    "      local left = redis.call('XLEN', q) - redis.call('XPENDING', q, 'w')[1]\n"
    "      local live = redis.call('ZCOUNT', P .. 'workers', now - lease, '+inf')\n"
    "      if live < 1 then live = 1 end\n"
    "      local extra = math.floor((left - (n > 0 and n or 0)) / (2 * live))\n"
    "      if extra > ahead then extra = ahead end\n"
    "      if extra > 0 then n = (n > 0 and n or 0) + extra end\n"
    "    end\n"
    "    if n > 0 then\n"
    "      local r = redis.call('XREADGROUP', 'GROUP', 'w', me, 'COUNT', n, 'STREAMS', q, '>')\n"
    "      if r then for _, e in ipairs(r[1][2]) do table.insert(out, e) end end\n"
    "    end\n"
    "    if #out > 3 or count == 0 then return out end\n"
    "    if redis.call('XLEN', q) > 0 then return {'wait', level, 0} end\n"
    "  end\n"
    "  local nq = P .. 'q:' .. (level + 1)\n"
    "  if redis.call('EXISTS', nq) == 1 and redis.call('XLEN', nq) > 0 then\n"
    "    level = level + 1\n"
    "    redis.call('HSET', P .. 'meta', 'level', level)\n"
    "  else\n"
    "    redis.call('ZREMRANGEBYSCORE', P .. 'producers', '-inf', now)\n"
    "    if redis.call('ZCARD', P .. 'producers') > 0 then return {'wait', level, 0} end\n"
    "    return {'done', level, 0}\n"
    "  end\n"
    "end\n"
    "return {'wait', level, 0}\n";

/* beat(worker, lease_ms, producing, [level id origin holder]...) -> entries no longer this
 * worker's. producing: this process is still adding URLs (the job is not over before it ends). */
static const char rjob_lua_beat[] =
    RJOB_LUA_NOW
    "local P = KEYS[1]\n"
    "local me, lease = ARGV[1], tonumber(ARGV[2])\n"
    "local now = now_ms()\n"
    "redis.call('ZADD', P .. 'workers', now, me)\n"
    "if ARGV[3] == '1' then redis.call('ZADD', P .. 'producers', now + lease, me) end\n"
    "local lost = 0\n"
    "local i = 4\n"
    "while i + 3 <= #ARGV do\n"
    "  local q = P .. 'q:' .. ARGV[i]\n"
    "  local p = redis.call('XPENDING', q, 'w', ARGV[i + 1], ARGV[i + 1], 1, me)\n"
    "  if #p == 1 then\n"
    "    redis.call('XCLAIM', q, 'w', me, 0, ARGV[i + 1], 'JUSTID')\n"
    "  else\n"
    "    lost = lost + 1\n"
    "  end\n"
    "  if ARGV[i + 3] ~= '' then\n"
    "    redis.call('ZADD', P .. 'slots:' .. ARGV[i + 2], 'XX', now + lease, ARGV[i + 3])\n"
    "  end\n"
    "  i = i + 4\n"
    "end\n"
    "return lost\n";

/* ack(level, id, url, origin, holder, outcome, json, bytes, error) -> 1, or 0 for a repeat (an
 * entry another worker acknowledged; the same acknowledgement sent again after a reconnect
 * finds its own result and is no repeat). */
static const char rjob_lua_ack[] =
    "local P = KEYS[1]\n"
    "local q = P .. 'q:' .. ARGV[1]\n"
    "if ARGV[5] ~= '' then redis.call('ZREM', P .. 'slots:' .. ARGV[4], ARGV[5]) end\n"
    "if redis.call('XACK', q, 'w', ARGV[2]) == 0 then\n"
    "  if redis.call('HGET', P .. 'res', ARGV[3]) == ARGV[7] then return 1 end\n"
    "  redis.call('HINCRBY', P .. 'meta', 'repeats', 1)\n"
    "  return 0\n"
    "end\n"
    "redis.call('XDEL', q, ARGV[2])\n"
    "redis.call('HSET', P .. 'res', ARGV[3], ARGV[7])\n"
    "if redis.call('HINCRBY', P .. 'backlog', ARGV[4], -1) <= 0 then\n"
    "  redis.call('HDEL', P .. 'backlog', ARGV[4])\n"
    "end\n"
    "if ARGV[6] == 'f' then\n"
    "  redis.call('HINCRBY', P .. 'meta', 'failed', 1)\n"
    "  redis.call('HSET', P .. 'failed', ARGV[3], ARGV[9])\n"
    "else\n"
    "  redis.call('HINCRBY', P .. 'meta', ARGV[6] == 's' and 'skipped' or 'done', 1)\n"
    "end\n"
    "if ARGV[8] ~= '0' then redis.call('HINCRBY', P .. 'meta', 'bytes', ARGV[8]) end\n"
    "return 1\n";

/* release(level, id, origin, holder) -> 1 when the entry went back to the stream's tail. */
static const char rjob_lua_release[] =
    "local P = KEYS[1]\n"
    "local q = P .. 'q:' .. ARGV[1]\n"
    "if ARGV[4] ~= '' then redis.call('ZREM', P .. 'slots:' .. ARGV[3], ARGV[4]) end\n"
    "local e = redis.call('XRANGE', q, ARGV[2], ARGV[2])\n"
    "if #e == 0 or redis.call('XACK', q, 'w', ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', q, ARGV[2])\n"
    "redis.call('XADD', q, '*', unpack(e[1][2]))\n"
    "return 1\n";

/* gate(origin, holder, limit, delay_ms, lease_ms) -> 0 held, ms to wait, or -1 (all busy). */
static const char rjob_lua_gate[] =
    RJOB_LUA_NOW
    "local P = KEYS[1]\n"
    "local s = P .. 'slots:' .. ARGV[1]\n"
    "local limit, delay, lease = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "if redis.call('ZSCORE', s, ARGV[2]) then return 0 end\n"
    "local now = now_ms()\n"
    "redis.call('ZREMRANGEBYSCORE', s, '-inf', now)\n"
    "if limit > 0 and redis.call('ZCARD', s) >= limit then return -1 end\n"
    "if delay > 0 then\n"
    "  local nk = P .. 'next:' .. ARGV[1]\n"
    "  local nx = tonumber(redis.call('GET', nk) or '0')\n"
    "  if nx > now then return nx - now end\n"
    "  redis.call('SET', nk, now + delay, 'PX', delay + 1000)\n"
    "end\n"
    "redis.call('ZADD', s, now + lease, ARGV[2])\n"
    "return 0\n";

#endif
