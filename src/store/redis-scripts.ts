/**
 * The Lua scripts the Redis store runs, each atomic on the server: a compare-and-set batch
 * with its changes numbered and published, event appends, a consistent snapshot, and lock
 * release by holder. redis-store.ts explains the key layout.
 */
/** KEYS: none (all keys derive from the prefix). ARGV: prefix, writes JSON, changes kept. */
export const COMMIT = `
local p = ARGV[1]
local writes = cjson.decode(ARGV[2])
local versions = {}
for i, w in ipairs(writes) do
  local v = tonumber(redis.call('HGET', p .. 'ver:' .. w.kind, w.key) or '0')
  versions[i] = v
  if w.expected ~= nil and w.expected ~= v then
    return cjson.encode({ ok = false, conflict = { kind = w.kind, key = w.key, version = v } })
  end
end
local out = {}
for i, w in ipairs(writes) do
  local revision = redis.call('INCR', p .. 'revision')
  local version = 0
  if w.value == nil then
    redis.call('HDEL', p .. 'rec:' .. w.kind, w.key)
    redis.call('HDEL', p .. 'ver:' .. w.kind, w.key)
  else
    version = versions[i] + 1
    redis.call('HSET', p .. 'rec:' .. w.kind, w.key, w.value)
    redis.call('HSET', p .. 'ver:' .. w.kind, w.key, version)
  end
  local change = cjson.encode({ revision = revision, kind = w.kind, key = w.key, version = version, value = w.value })
  redis.call('XADD', p .. 'changes', 'MAXLEN', '~', ARGV[3], revision .. '-0', 'c', change)
  redis.call('PUBLISH', p .. 'changes', change)
  out[i] = change
end
return cjson.encode({ ok = true, changes = out })
`;

/** ARGV: prefix, stream, events JSON (array of {type, data}), backlog, changes kept, now. */
export const APPEND_EVENTS = `
local p = ARGV[1]
local stream = ARGV[2]
local events = cjson.decode(ARGV[3])
local out = {}
for i, e in ipairs(events) do
  local seq = redis.call('HINCRBY', p .. 'evseq', stream, 1)
  local event = cjson.encode({ seq = seq, type = e.type, data = e.data, at = ARGV[6] })
  redis.call('RPUSH', p .. 'ev:' .. stream, event)
  local revision = redis.call('INCR', p .. 'revision')
  local change = cjson.encode({ revision = revision, kind = 'event', key = stream, version = seq, value = event })
  redis.call('XADD', p .. 'changes', 'MAXLEN', '~', ARGV[5], revision .. '-0', 'c', change)
  redis.call('PUBLISH', p .. 'changes', change)
  out[i] = event
end
redis.call('LTRIM', p .. 'ev:' .. stream, -tonumber(ARGV[4]), -1)
return '[' .. table.concat(out, ',') .. ']'
`;

/** ARGV: prefix, kinds... Returns the revision and every kind's records and versions. */
export const SNAPSHOT = `
local p = ARGV[1]
local out = { redis.call('GET', p .. 'revision') or '0' }
for i = 2, #ARGV do
  table.insert(out, redis.call('HGETALL', p .. 'rec:' .. ARGV[i]))
  table.insert(out, redis.call('HGETALL', p .. 'ver:' .. ARGV[i]))
end
return out
`;

export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Shared token buckets (TokenBuckets' fleet reconciliation). ARGV: prefix, then per bucket
 * its key, rate (per second), burst and what the caller admitted since it last reported.
 * Each bucket refills on the server's clock, pays for the admissions (down to −burst: the
 * fleet overshot, a debt repaid before more is admitted) and expires once it would be full
 * again. Returns each bucket's level, as strings (Lua numbers would be cut to integers).
 */
export const RATE_EXCHANGE = `
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local n = (#ARGV - 1) / 4
for i = 0, n - 1 do
  local key = p .. 'rate:' .. ARGV[2 + i * 4]
  local rate = tonumber(ARGV[3 + i * 4]) / 1000
  local burst = tonumber(ARGV[4 + i * 4])
  local taken = tonumber(ARGV[5 + i * 4])
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(v[1]) or burst
  local at = tonumber(v[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - taken
  if tokens < -burst then tokens = -burst end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate) + 1000)
  out[i + 1] = tostring(tokens)
end
return out
`;
