-- Replays a request file, one request per line: METHOD <TAB> PATH <TAB> TOKEN [<TAB> BODY].
--   wrk -s bench/wrk/replay.lua http://127.0.0.1:8001 -- requests.tsv <threads>
-- Each thread starts at its own share of the file and cycles through it, so the tokens
-- (and, for applications, the creator and brief pairs) spread across the connections.
-- `done` prints one line `RESULT {json}` with the counts by status class.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^(%S+)\t(%S+)\t(%S+)\t?(.*)$")
    local headers = { ["Authorization"] = "Bearer " .. token }
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  count = #requests
  position = math.floor(count * id / tonumber(args[2]))
  s2xx, s409, sother = 0, 0, 0
end

function request()
  position = position % count + 1
  return requests[position]
end

function response(status, headers, body)
  if status < 300 then
    s2xx = s2xx + 1
  elseif status == 409 then
    s409 = s409 + 1
  else
    sother = sother + 1
  end
end

function done(summary, latency, requests)
  local ok, conflict, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("s2xx")
    conflict = conflict + thread:get("s409")
    other = other + thread:get("sother")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "socket_errors": %d, "s2xx": %d, "s409": %d, "sother": %d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    ok, conflict, other))
end
