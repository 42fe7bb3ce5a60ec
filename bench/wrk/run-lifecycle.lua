-- Whole runs: POST /_emulator/runs (created and published to ORG_ID.runs), then PATCH it
-- to SUCCESS with the run's id from the answer. Each connection alternates the two, so
-- every run finishes and the finished-run cap applies. TOKEN comes from the environment.
local token = os.getenv("TOKEN")
local created = nil

request = function()
    if created then
        local id = created
        created = nil
        return wrk.format("PATCH", "/v1/actions/runs/" .. id, {
            ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
        }, '{"status":"SUCCESS"}')
    end
    return wrk.format("POST", "/_emulator/runs", { ["Content-Type"] = "application/json" },
        '{"action":"deploy_service","properties":{"version":"1.0"}}')
end

response = function(status, headers, body)
    if status == 201 then created = string.match(body, '"id":"(r_[^"]+)"') end
end
