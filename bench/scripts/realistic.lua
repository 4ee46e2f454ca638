-- wrk script for bench/apps/realistic.js: POST /users/:id with a small JSON body, ids 1..1000.
wrk.method = "POST"
wrk.body = '{"name":"Ada Lovelace","email":"ada@example.com","plan":"pro"}'
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/users/" .. (n % 1000 + 1))
end
