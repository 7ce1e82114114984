-- wrk: a co-chair's and staff's browsing, spread over the seed's data
-- (make test-cluster's background load). WORKPLAN_TOKEN: a bearer token.
-- Each connection pauses 20 ms between requests, so 8 connections offer
-- a steady load of up to 400 reads/s (many times the Network's busiest
-- hour) rather than saturating the two shared cores the whole cluster
-- runs on.
local token = os.getenv("WORKPLAN_TOKEN")
local paths = {}
for a = 1, 12 do paths[#paths + 1] = "/v1/actions/" .. a end
for p = 1, 8 do
	paths[#paths + 1] = "/v1/pillars/" .. p
	paths[#paths + 1] = "/v1/actions?pillar=" .. p
end
for _, q in ipairs({ "2021-Q3", "2021-Q4", "2022-Q2", "2023-Q1", "2024-Q3", "2025-Q4" }) do
	paths[#paths + 1] = "/v1/progress?as_of=" .. q
	paths[#paths + 1] = "/v1/reporting?period=" .. q
end
paths[#paths + 1] = "/v1/pillars"
paths[#paths + 1] = "/v1/updates"
paths[#paths + 1] = "/v1/progress/trend?from=2021-Q1&to=2025-Q4"
math.randomseed(os.time())
delay = function()
	return 20
end
request = function()
	return wrk.format("GET", paths[math.random(#paths)], { ["Authorization"] = "Bearer " .. token })
end
