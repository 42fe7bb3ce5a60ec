-- POST /v1/actions/runs/{id}/logs: each request appends one log line to the run.
wrk.method = "POST"
wrk.body = '{"message":"step done: compiled 120 files in 4.2 s"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
