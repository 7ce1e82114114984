-- wrk: GET /v1/actions/{id} for ids drawn uniformly from BENCH_IDS ("min max"),
-- as pgbench draws them for the same statement.
local lo, hi = os.getenv("BENCH_IDS"):match("(%d+) (%d+)")
lo, hi = tonumber(lo), tonumber(hi)
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function init(args)
	math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
	return wrk.format("GET", "/v1/actions/" .. math.random(lo, hi))
end
