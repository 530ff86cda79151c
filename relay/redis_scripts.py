"""The Redis keys and Lua scripts the Redis bus uses (relay/bus_redis.py).

Every key lives under ``hearth:``, so a Redis can be shared with other software. Each
script runs atomically in Redis and reads Redis's own clock (``NOW``), so relays whose
clocks disagree still agree on expiry and rate-limit refills.
"""

from __future__ import annotations

PRESENCE = "hearth:presence:"
LIMIT = "hearth:rl:"
RETAINED_INDEX = "hearth:retained"
RETAINED = "hearth:retained:"

DEL_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

REFRESH = """
local out = {}
for i, key in ipairs(KEYS) do
  local owner = ARGV[i + 1]
  local current = redis.call('GET', key)
  if not current then
    redis.call('SET', key, owner, 'PX', ARGV[1])
    out[i] = 1
  elseif current == owner then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
"""

RETAIN = NOW + """
local old = redis.call('GET', KEYS[2])
if old then
  local old_rank = tonumber(string.match(old, '^(%S+) '))
  if old_rank and old_rank > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[2], ARGV[2] .. ' ' .. ARGV[4], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', math.floor(now) + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.floor(now))
return 1
"""

RETAINED_ALL = NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.floor(now))
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. member
  local value = redis.call('GET', key)
  if value then
    out[#out + 1] = member
    out[#out + 1] = value
    out[#out + 1] = redis.call('PTTL', key)
  end
end
return out
"""

SHARE = NOW + """
local out = {}
for i, key in ipairs(KEYS) do
  local used = tonumber(ARGV[3 * i - 2])
  local rate = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  if now > at then level = math.min(burst, level + (now - at) * rate / 1000) end
  level = level - used
  redis.call('HSET', key, 'level', tostring(level), 'at', tostring(math.max(now, at)))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 10000)
  out[i] = tostring(level)
end
return out
"""


