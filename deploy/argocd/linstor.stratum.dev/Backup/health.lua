-- Argo CD health check for linstor.stratum.dev/Backup, from the conditions the Stratum operator writes.
-- Suspended    paused: annotation stratum.dev/paused "true", or Synced=False with reason Paused;
--              spec.suspend true (SnapshotSchedule)
-- Progressing  being deleted; no conditions yet; status.observedGeneration behind metadata.generation;
--              Reconciling=True; Ready not True; Ready=True with Degraded=True (usable, not in full health)
-- Degraded     Stalled=True: progress needs a person ("reason: message")
-- Healthy      Ready=True at the current generation
-- Only Lua's base and table libraries are used: Argo CD runs custom checks without the others.
local hs = {}

local function verdict(status, message)
  hs.status = status
  hs.message = message
  return hs
end

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

-- "Reason: message", or whichever of the two is set.
local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  elseif message ~= "" then
    return message
  end
  return reason
end

local annotations = obj.metadata.annotations or {}
local synced = condition("Synced")
local pausedByOperator = synced ~= nil and synced.status == "False" and synced.reason == "Paused"
local deleting = obj.metadata.deletionTimestamp ~= nil

-- Paused: the operator makes no backend call for this object, not even to delete it.
if annotations["stratum.dev/paused"] == "true" or pausedByOperator then
  local message = "Paused by the annotation stratum.dev/paused"
  if pausedByOperator and synced.message ~= nil and synced.message ~= "" then
    message = synced.message
  end
  if deleting then
    message = message .. "; deletion waits until the pause is lifted"
  end
  return verdict("Suspended", message)
end

local ready = condition("Ready")

if deleting then
  local message = "Pending deletion"
  if obj.metadata.finalizers ~= nil and #obj.metadata.finalizers > 0 then
    message = message .. "; blocked by finalizers: " .. table.concat(obj.metadata.finalizers, ", ")
  end
  if ready ~= nil and ready.status == "False" then
    message = message .. "; " .. describe(ready)
  end
  return verdict("Progressing", message)
end

-- SnapshotSchedule: a suspended schedule takes no snapshots (Flux's spec.suspend reads the same way).
if obj.spec ~= nil and obj.spec.suspend == true then
  return verdict("Suspended", "Suspended by spec.suspend")
end

if obj.status == nil or obj.status.conditions == nil or #obj.status.conditions == 0 then
  return verdict("Progressing", "Waiting for the operator to report status")
end

-- The operator writes observedGeneration on every pass: behind means the spec in view is not looked at yet.
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed ~= generation then
  return verdict("Progressing", "Waiting for the operator to observe generation " .. generation
    .. " (observed " .. observed .. ")")
end

local stalled = condition("Stalled")
if isTrue(stalled) then
  return verdict("Degraded", describe(stalled))
end

local reconciling = condition("Reconciling")
if isTrue(reconciling) then
  return verdict("Progressing", describe(reconciling))
end

if ready == nil then
  return verdict("Progressing", "Waiting for the Ready condition")
end
if ready.status ~= "True" then
  return verdict("Progressing", describe(ready))
end
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration ~= generation then
  return verdict("Progressing", "Ready at generation " .. ready.observedGeneration
    .. "; waiting for generation " .. generation)
end

-- Usable but not in full health (a replica syncing, a node away): like a Deployment with fewer
-- available replicas than wanted, that is Progressing; Degraded is kept for states needing a person.
local degraded = condition("Degraded")
if isTrue(degraded) then
  return verdict("Progressing", describe(degraded))
end

local message = describe(ready)
if synced ~= nil and synced.status == "False" then
  message = message .. "; last pass did not reach the backend: " .. describe(synced)
end
return verdict("Healthy", message)
