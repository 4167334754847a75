-- wrk script for bench/run.py's POST scenarios, sent as htmx sends them from the list
-- (Take and State with ?as=row) or from the ticket page (a comment).
--   wrk ... -s bench/post.lua URL -- KIND IDS_FILE THREADS COOKIE CSRF USER_AGENT
-- KIND: take (a ticket no one has is taken, a taken one unassigned), state (an open
-- ticket moved to "working", a working one back to "opened") or comment. Each request
-- moves its ticket the other way from where it is, so every request is a real change,
-- however long the run and however many runs before it on the same tickets. Each wrk
-- thread works its own share of the tickets in IDS_FILE (a line each: id, version, and
-- 1 if the ticket is taken or working already, else 0), so no two requests in flight
-- touch the same ticket. A comment sends the version the ticket's page would show, as
-- the page does (its answer then has only the comment to add): counted on from the file,
-- one a comment, as nobody else changes the thread's tickets.

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  kind, nthreads = args[1], tonumber(args[3])
  ids, versions, moved, sent, verified = {}, {}, {}, 0, false
  local i = 0
  for line in io.lines(args[2]) do
    local id, version, away = line:match("^(%d+) (%d+) ([01])$")
    if i % nthreads == tid then
      table.insert(ids, id)
      versions[id] = tonumber(version)
      moved[id] = away == "1"
    end
    i = i + 1
  end
  headers = {
    ["Cookie"] = args[4],
    ["X-CSRFToken"] = args[5],
    ["User-Agent"] = args[6],
    ["HX-Request"] = "true",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
end

function request()
  if tid == 0 and not verified then
    -- wrk calls thread 0's request() once before it sends anything, to check what it
    -- builds, and never sends that one: answered with a request that changes nothing,
    -- else the first ticket would be counted as moved and its next change be the wrong
    -- way (a take of a taken ticket, a 409, at the start of a turn).
    verified = true
    return wrk.format("GET", "/healthz", headers)
  end
  local id = ids[sent % #ids + 1]
  sent = sent + 1
  local path, body
  if kind == "take" then
    if moved[id] then
      path, body = "/tickets/" .. id .. "/assign?as=row", "user="
    else
      path, body = "/tickets/" .. id .. "/take?as=row", ""
    end
    moved[id] = not moved[id]
  elseif kind == "state" then
    path = "/tickets/" .. id .. "/state?as=row"
    body = "state=" .. (moved[id] and "opened" or "working")
    moved[id] = not moved[id]
  else
    path = "/tickets/" .. id .. "/comments"
    body = "body=A+benchmark+comment+number+" .. sent .. "+from+thread+" .. tid
      .. "&shown=" .. versions[id]
    versions[id] = versions[id] + 1
  end
  return wrk.format("POST", path, headers, body)
end
