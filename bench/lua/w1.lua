-- W1 forward in Lua 5.4: s0[i] = 0.01*i (100 elements); 1000 steps of
-- s = s + 0.01*sin(s); prints loss = sum(s*s).  The state is a plain table
-- updated in place, as a Lua programmer would write it.
local sin = math.sin
local N, STEPS = 100, 1000

local s = {}
for i = 0, N - 1 do s[i + 1] = 0.01 * i end

local t0 = os.clock()          -- CPU time: Lua has no sub-second wall clock
for _ = 1, STEPS do
  for i = 1, N do
    local si = s[i]
    s[i] = si + 0.01 * sin(si)
  end
end
local loss = 0.0
for i = 1, N do loss = loss + s[i] * s[i] end
io.stderr:write(string.format("time %.6f\n", os.clock() - t0))
print(string.format("%.17g", loss))
