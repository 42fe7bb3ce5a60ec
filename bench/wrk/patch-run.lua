-- PATCH /v1/actions/runs/{id} with a status label: the run stays IN_PROGRESS, so every
-- request is a real state-machine write. TOKEN comes from the environment.
wrk.method = "PATCH"
wrk.body = '{"statusLabel":"benchmarking","link":["https://ci.example.com/run/1"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
