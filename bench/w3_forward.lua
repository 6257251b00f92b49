-- W3 forward in Lua 5.4: the scalar ODE, 10^6 steps; prints the final x.
-- math.sin is bound to a local, as idiomatic Lua does in hot loops.
local sin = math.sin

local function ode(n)
  local x, v, dt = 1.0, 0.0, 1e-3
  for _ = 1, n do
    v = v - dt * sin(x)
    x = x + dt * v
  end
  return x
end

local t0 = os.clock()          -- CPU time: Lua has no sub-second wall clock
local x = ode(1000000)
io.stderr:write(string.format("time %.6f\n", os.clock() - t0))
print(string.format("%.17g", x))
