-- wrk script for the conversation scenarios: multi-turn chats with a growing history, as chat apps send them.
--   wrk -t1 -cN -dT --latency -s scripts/wrk/conversation.lua URL -- <publishable key> <secret key> <id prefix> <pool> <turns>
-- A pool of <pool> conversations is served round robin (with pool >= 4x the connections, a conversation's
-- next turn is sent after its previous one has been answered). Each request carries the conversation's id in
-- x-conversation-id and its whole history: a system prompt, the earlier user turns each followed by the
-- mock upstream's answer, and a new user turn. After <turns> turns a conversation is replaced by a new one
-- (a new id), so histories grow from 1 to <turns> user turns and the server keeps meeting new conversations.
local pool, turns, prefix = 128, 8, "bench"
local slots, cursor, begun = {}, 0, 0

-- Commercial questions about tools for work: each one, asked alone, gets a promotion from the benchmark's
-- advertiser (scripts/bench-setup.ts); later turns can still go without one (relevance and intent gates).
-- Each is sent after a greeting numbered by conversation and turn, so no two user turns are the same text.
local QUESTIONS = {
  "What tools can help me manage my projects?",
  "Which project management app is best for a small remote team?",
  "I need a kanban board to track tasks and deadlines, any recommendations?",
  "What software can I use to plan timelines and workload for my team?",
  "Is there a simple app for shared to-do lists and project deadlines?",
  "Which tool would you recommend for tracking time on client projects?",
  "Which CRM works well for a small business that also manages projects?",
  "Can you recommend project planning software for a team that keeps missing deadlines?",
  "What app should I buy to organize sprints and assign tasks to my team?",
  "Which note-taking app would you recommend for meeting notes and tasks?",
  "What is the best task management tool for a small agency?",
  "Can you recommend a Gantt chart tool for planning projects?",
  "Which app is good for managing client projects and deadlines?",
}
-- The mock upstream's answer (scripts/bench-mock-upstream.ts), as the client would keep it in the history.
local ANSWER = '{"role":"assistant","content":"Project boards such as Trello or Jira, a shared calendar, and a time tracker."}'
local SYSTEM = '{"role":"system","content":"You are a helpful assistant for a small software company. Answer briefly."}'

-- setup() runs in wrk's main script state, once per thread: each thread gets its own tag for the ids.
function setup(thread)
  begun = begun + 1
  thread:set("thread_tag", "t" .. begun)
end

local function fresh()
  begun = begun + 1
  return { id = prefix .. "-" .. (thread_tag or "t") .. "-" .. begun, n = begun, turn = 0, parts = { SYSTEM } }
end

function init(args)
  if args[1] and args[1] ~= "" then wrk.headers["x-publishable-key"] = args[1] end
  if args[2] and args[2] ~= "" then wrk.headers["x-secret-key"] = args[2] end
  prefix = args[3] or prefix
  pool = tonumber(args[4]) or pool
  turns = tonumber(args[5]) or turns
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
  begun = 0
  for i = 1, pool do slots[i] = fresh() end
end

function request()
  cursor = cursor % pool + 1
  local c = slots[cursor]
  if c.turn >= turns then
    c = fresh()
    slots[cursor] = c
  end
  c.turn = c.turn + 1
  -- Every user turn's text is new (its conversation's and turn's numbers in it), as in real traffic: the gateway's
  -- per-text caches (safety verdicts, query words) then help only with the earlier turns a client sends again.
  -- (The greeting was chosen because the gates score these turns as they score the bare questions; appended
  -- numbers such as "(team 12, question 3)" or "This is for sprint 99." cost promotions: intent or safety moved.)
  local q = "Hello from office " .. (c.n * 8 + c.turn) .. ". " .. QUESTIONS[(c.n * 7 + c.turn) % #QUESTIONS + 1]
  local user = '{"role":"user","content":"' .. q .. '"}'
  local body = '{"model":"gpt-4o-mini","messages":[' .. table.concat(c.parts, ",") .. "," .. user .. "]}"
  c.parts[#c.parts + 1] = user
  c.parts[#c.parts + 1] = ANSWER
  wrk.headers["x-conversation-id"] = c.id
  return wrk.format(nil, nil, nil, body)
end
