-- wrk script for the "plain" scenario: the same small chat completion on every request, no conversation id.
--   wrk -t1 -cN -dT --latency -s scripts/wrk/plain.lua URL -- <publishable key> <secret key>
-- The keys may be empty (the mock upstream and the bare proxy ignore them). No request() function, so wrk
-- sends one pre-built request and spends as little CPU as it can.
function init(args)
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
  if args[1] and args[1] ~= "" then wrk.headers["x-publishable-key"] = args[1] end
  if args[2] and args[2] ~= "" then wrk.headers["x-secret-key"] = args[2] end
  wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What tools can help me manage my projects?"}]}'
end
