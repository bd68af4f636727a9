-- wrk script: POSTs pre-signed check-ins from the file named by POSBON_BODIES, one per request,
-- in order (run with -t1 so one Lua state walks the list once).
local bodies = {}
for line in io.lines(os.getenv("POSBON_BODIES")) do
  bodies[#bodies + 1] = line
end
local i = 0
local headers = { ["content-type"] = "application/json" }

request = function()
  i = i + 1
  return wrk.format("POST", "/v1/request", headers, bodies[((i - 1) % #bodies) + 1])
end
