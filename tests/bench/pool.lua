-- wrk script for scripts/bench.sh: sends the requests of a pool file, one after another, and
-- counts the answers by status, so a throughput figure is only read alongside proof that the
-- endpoint did its real work (a confirm that answers 409 is not a confirm).
--
--   wrk -t THREADS ... -s tests/bench/pool.lua http://host:port -- POOL_FILE THREADS
--
-- Each line of POOL_FILE is `METHOD<TAB>PATH<TAB>BODY<TAB>HEADER<TAB>HEADER...` (BODY may be
-- empty; a HEADER is `Name: value`), as `bench pool` prints them. The lines are dealt out to
-- wrk's threads, so no two threads send the same request (THREADS repeats wrk's -t: wrk runs a
-- thread's init before it has made the next thread). A thread that reaches the end of its share
-- starts again from the top and counts the wrap; the bench sizes pools so that a one-shot step
-- like confirm never wraps.

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

local function split_tabs(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   return fields
end

-- One pool line as the raw HTTP request wrk sends.
local function parse_request(line)
   local fields = split_tabs(line)
   local method, path, body = fields[1], fields[2], fields[3]
   assert(method and path and body, "a pool line is METHOD<TAB>PATH<TAB>BODY<TAB>HEADER...")
   local headers = {}
   for i = 4, #fields do
      local name, value = fields[i]:match("^([^:]+): (.*)$")
      assert(name, "a header is `Name: value`")
      headers[name] = value
   end
   if body == "" then
      body = nil
   elseif not headers["Content-Type"] then
      -- The API's bodies are JSON; a line that says otherwise (the provider's forms) keeps its own.
      headers["Content-Type"] = "application/json"
   end
   return wrk.format(method, path, headers, body)
end

function init(args)
   local pool_file, thread_total = args[1], tonumber(args[2])
   assert(pool_file and thread_total, "usage: wrk -t N ... -s pool.lua URL -- POOL_FILE N")
   requests = {}
   local line_number = 0
   for line in io.lines(pool_file) do
      if line_number % thread_total == thread_index then
         table.insert(requests, parse_request(line))
      end
      line_number = line_number + 1
   end
   assert(#requests > 0, "this thread's share of the pool is empty: " .. pool_file)
   next_request = 1
   wraps = 0
   statuses = {}
end

function request()
   if next_request > #requests then
      next_request = 1
      wraps = wraps + 1
   end
   local request = requests[next_request]
   next_request = next_request + 1
   return request
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

-- One line for scripts/bench.sh: `answers: 200=1234 409=2; wraps: 0`.
function done(summary, latency, requests)
   local totals, wrapped = {}, 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         totals[status] = (totals[status] or 0) + count
      end
      wrapped = wrapped + thread:get("wraps")
   end
   local parts = {}
   for status, count in pairs(totals) do
      table.insert(parts, status .. "=" .. count)
   end
   table.sort(parts)
   io.write("answers: " .. table.concat(parts, " ") .. "; wraps: " .. wrapped .. "\n")
end
