-- Whole runs: POST /_emulator/runs (created and published to ORG_ID.runs), then PATCH it
-- to SUCCESS with the run's id from the answer. The ids a thread's connections created
-- wait in a queue, so every run created is finished and the finished-run cap applies.
-- TOKEN comes from the environment.
local token = os.getenv("TOKEN")
local created = {}

request = function()
    local id = table.remove(created, 1)
    if id then
        return wrk.format("PATCH", "/v1/actions/runs/" .. id, {
            ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
        }, '{"status":"SUCCESS"}')
    end
    return wrk.format("POST", "/_emulator/runs", { ["Content-Type"] = "application/json" },
        '{"action":"deploy_service","properties":{"version":"1.0"}}')
end

response = function(status, headers, body)
    if status == 201 then
        local id = string.match(body, '"id":"(r_[^"]+)"')
        if id then table.insert(created, id) end
    end
end
