-- Argo CD health of a perftest.dev PerfTest (argocd-cm key
-- resource.customizations.health.perftest.dev_PerfTest). Reads the status the operator writes:
-- conditions Ready / Running / Regressed (found by type), lastRun.phase and verdict.result.
--   Progressing: not yet seen by the operator, a run is active, or no run has finished yet
--   Degraded:    the spec is unusable (Ready=False), a regression (Regressed=True), a failed run
--   Suspended:   spec.suspend
--   Healthy:     the verdict is Pass or Improvement, or the history is still too short for one
-- Plain Lua 5.1 (Argo CD's gopher-lua); tested with lua5.4 as well.
local hs = {}

local function condition(status, type_name)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type_name then
      return c
    end
  end
  return nil
end

local function message_of(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to see this PerfTest"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to see generation " .. tostring(generation)
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = (ready.reason or "InvalidSpec") .. ": " .. message_of(ready, "the spec cannot be used")
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Suspended: no new runs start"
  return hs
end

local running = condition(status, "Running")
if running ~= nil and running.status == "True" then
  hs.status = "Progressing"
  hs.message = message_of(running, "A run is active")
  return hs
end

local regressed = condition(status, "Regressed")
if regressed ~= nil and regressed.status == "True" then
  hs.status = "Degraded"
  hs.message = "Regression: " .. message_of(regressed, "see status.verdict")
  return hs
end

local last_run = status.lastRun
if last_run ~= nil and last_run.phase == "Failed" then
  hs.status = "Degraded"
  local why = ""
  if last_run.reason ~= nil and last_run.reason ~= "" then
    why = " (" .. last_run.reason .. ")"
  end
  hs.message = "Run " .. tostring(last_run.name) .. " failed" .. why
  return hs
end

local verdict = status.verdict
local result = nil
if verdict ~= nil then
  result = verdict.result
end
if result == "Pass" or result == "Improvement" then
  hs.status = "Healthy"
  hs.message = result .. ": " .. message_of(verdict, "no regression")
  return hs
end

if last_run ~= nil then
  hs.status = "Healthy"
  hs.message = (result or "Baseline") .. ": " .. message_of(verdict, "building the history")
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the first run"
return hs
