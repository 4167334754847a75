-- wrk script for bench/run.py's POST scenarios, sent as htmx sends them from the list
-- (Take and State with ?as=row) or from the ticket page (a comment).
--   wrk ... -s bench/post.lua URL -- KIND IDS_FILE THREADS COOKIE CSRF USER_AGENT
-- KIND: take (take, then on the next pass over the tickets unassign, and so on: every
-- request is a real change and stays valid however long the run), state (opened and
-- working in turns, pass by pass) or comment. Each wrk thread works its own share of
-- the tickets in IDS_FILE (a line each: id and version), so no two requests in flight
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
  ids, versions, sent = {}, {}, 0
  local i = 0
  for line in io.lines(args[2]) do
    local id, version = line:match("^(%d+) (%d+)$")
    if i % nthreads == tid then
      table.insert(ids, id)
      versions[id] = tonumber(version)
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
  local id = ids[sent % #ids + 1]
  local pass = math.floor(sent / #ids)
  sent = sent + 1
  local path, body
  if kind == "take" then
    if pass % 2 == 0 then
      path, body = "/tickets/" .. id .. "/take?as=row", ""
    else
      path, body = "/tickets/" .. id .. "/assign?as=row", "user="
    end
  elseif kind == "state" then
    path = "/tickets/" .. id .. "/state?as=row"
    body = "state=" .. ((pass % 2 == 0) and "working" or "opened")
  else
    path = "/tickets/" .. id .. "/comments"
    body = "body=A+benchmark+comment+number+" .. sent .. "+from+thread+" .. tid
      .. "&shown=" .. versions[id]
    versions[id] = versions[id] + 1
  end
  return wrk.format("POST", path, headers, body)
end
