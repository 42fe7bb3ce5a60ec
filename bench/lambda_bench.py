"""Section 16 of make bench: a Lambda function (awslambdaric, unmodified) beside a plain
Kafka consumer, both in Python and doing the same work (one PATCH of the run to SUCCESS),
against one release emulator per path, in the same run.

  latency:    trigger (POST /v1/actions/create_vm/runs) until the run is SUCCESS, 300 runs one
              after another, for the Lambda path (batching window 0) and the consumer path
  throughput: invocations per second with batch size 1 and 100: 2,000 runs published first,
              a handler that returns at once; from the function's first request for work to the
              last commit; under awslambdaric, and under a bare urllib runtime client (the
              Runtime API's and the mapping's own cost)

Usage: python3 bench/lambda_bench.py BIN_DIR (python3 must have awslambdaric and confluent-kafka).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HANDLERS = '''
import base64, json, os, urllib.request
TOKEN = None
def call(method, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token: headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(os.environ["PORT_API_URL"] + path, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)
def token():
    global TOKEN
    if TOKEN is None:
        TOKEN = call("POST", "/auth/access_token", {"clientId": os.environ["PORT_CLIENT_ID"],
                                                    "clientSecret": os.environ["PORT_CLIENT_SECRET"]})["accessToken"]
    return TOKEN
def finish(invocation):
    call("PATCH", "/actions/runs/" + invocation["context"]["runId"], {"status": "SUCCESS"}, token())
def report(event, context):
    for records in event["records"].values():
        for record in records:
            finish(json.loads(base64.b64decode(record["value"])))
def nothing(event, context):
    return None
def consume():
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": os.environ["KAFKA_BROKERS"], "group.id": os.environ["KAFKA_CONSUMER_GROUP_ID"],
                         "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 10})
    consumer.subscribe([os.environ["PORT_ORG_ID"] + ".runs"])
    while True:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        finish(json.loads(message.value()))
        consumer.commit(message=message, asynchronous=False)
def bare():
    """A runtime client in a dozen lines (urllib): the Runtime API's own cost, without awslambdaric's."""
    base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(base + "next", timeout=600) as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            response.read()
        urllib.request.urlopen(urllib.request.Request(base + request_id + "/response", b"null", method="POST")).read()
if __name__ == "__main__":
    import sys
    bare() if sys.argv[1:] == ["bare"] else consume()
'''


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Emulator:
    def __init__(self, binary: Path, work: Path, name: str, args: list[str]) -> None:
        self.env_file = work / f"{name}.env"
        self.process = subprocess.Popen(
            [str(binary), "serve", "--port", "0", "--log-level", "error", "--env-file", str(self.env_file),
             "--fixtures", str(FIXTURES)] + args,
            cwd=work, stdout=subprocess.DEVNULL, stderr=open(work / f"{name}.log", "w"),
        )
        deadline = time.monotonic() + 60
        while not (self.env_file.exists() and self.env_file.stat().st_size > 0):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"{name}: the emulator did not start")
            time.sleep(0.05)
        self.env = dict(line.split("=", 1) for line in self.env_file.read_text().splitlines() if "=" in line)
        self.base = self.env["PORT_API_BASE_URL"]
        self.token = self.call("POST", "/v1/auth/access_token",
                               {"clientId": self.env["PORT_CLIENT_ID"], "clientSecret": self.env["PORT_CLIENT_SECRET"]})["accessToken"]

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)

    def trigger(self) -> str:
        run = self.call("POST", "/v1/actions/create_vm/runs", {"properties": {"name": "bench", "cpu": 2, "region": "eu"}}, self.token)
        return str(run["run"]["id"])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def wait_ready(emulator: Emulator, lambda_path: bool) -> None:
    """Until the function asks for work, or the consumer has joined (one run finished)."""
    deadline = time.monotonic() + 60
    if lambda_path:
        while emulator.call("GET", "/_emulator/lambda")["runtimeRequests"] == 0:
            if time.monotonic() > deadline:
                raise SystemExit("the function never asked for work")
            time.sleep(0.05)
    run = emulator.trigger()
    emulator.call("GET", f"/_emulator/runs/{run}/wait?status=SUCCESS&timeout=60s")


def latency(emulator: Emulator, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run = emulator.trigger()
        answer = emulator.call("GET", f"/_emulator/runs/{run}/wait?status=SUCCESS&timeout=30s")
        if not answer.get("reached"):
            raise SystemExit(f"run {run} did not finish: {answer}")
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} ms  p99 {p99:.1f} ms  (n={len(ordered)})"


def throughput(binary: Path, work: Path, python: str, batch: int, runs: int, bare: bool) -> str:
    """The records are published first, to an emulator whose function is not running yet (an
    empty --lambda command: the Runtime API waits for a client); then awslambdaric starts and
    the clock runs from its first request for work to the last commit."""
    emulator = Emulator(binary, work, f"throughput{batch}", [
        "--lambda", "", "--lambda-batch-size", str(batch), "--lambda-batching-window", "1s",
        "--lambda-timeout", "300s"])
    function = None
    try:
        deadline = time.monotonic() + 60
        while not emulator.call("GET", "/_emulator/lambda")["assignedPartitions"]:
            if time.monotonic() > deadline:
                raise SystemExit("the mapping never got its partitions")
            time.sleep(0.02)
        for _ in range(runs):
            emulator.call("POST", "/_emulator/runs", {"action": "create_vm", "properties": {"name": "t", "cpu": 1, "region": "eu"}})
        environment = {**os.environ, **emulator.env,
                       "AWS_LAMBDA_RUNTIME_API": emulator.base.removeprefix("http://"), "AWS_LAMBDA_FUNCTION_NAME": "bench"}
        command = [python, "handlers.py", "bare"] if bare else [python, "-m", "awslambdaric", "handlers.nothing"]
        function = subprocess.Popen(command, env=environment, cwd=work,
                                    stdout=subprocess.DEVNULL, stderr=open(work / f"lambda{batch}.log", "w"))
        deadline = time.monotonic() + 60
        while emulator.call("GET", "/_emulator/lambda")["runtimeRequests"] == 0:
            if time.monotonic() > deadline:
                raise SystemExit("the function never asked for work")
            time.sleep(0.002)
        started = time.perf_counter()
        while True:
            status = emulator.call("GET", "/_emulator/lambda")
            records = sum(len(i["records"]) for i in status["invocations"] if i["then"] == "committed")
            if records >= runs:
                break
            if time.perf_counter() - started > 300:
                raise SystemExit(f"batch {batch}: only {records} of {runs} records after 300 s")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        invocations = len(status["invocations"])
        client = "bare urllib client" if bare else "awslambdaric      "
        return (f"{client} batch size {batch:>3}: {invocations / elapsed:7.1f} invocations/s {records / elapsed:8.1f} records/s  "
                f"({invocations} invocations, {records} records in {elapsed:.2f} s)")
    finally:
        if function is not None:
            function.terminate()
            function.wait(timeout=30)
        emulator.close()


def main() -> None:
    binary = (Path(sys.argv[1]) / "port-emulator").resolve()
    python = os.environ.get("PORT_LAMBDA_PYTHON", sys.executable)
    runs = int(os.environ.get("BENCH_LAMBDA_RUNS", "300"))
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        (work / "handlers.py").write_text(HANDLERS)
        print(f"## 16. Lambda functions (awslambdaric) beside a plain consumer (confluent-kafka), Python both")
        lam = Emulator(binary, work, "lambda", ["--lambda", f"{python} -m awslambdaric handlers.report",
                                                "--lambda-batching-window", "0s", "--lambda-log", str(work / "lambda.log")])
        plain = Emulator(binary, work, "plain", [])
        consumer = subprocess.Popen([python, str(work / "handlers.py")], env={**os.environ, **plain.env}, cwd=work)
        try:
            wait_ready(lam, True)
            wait_ready(plain, False)
            # Interleaved in blocks, so that both paths see the same machine.
            lambda_times: list[float] = []
            plain_times: list[float] = []
            for _ in range(3):
                lambda_times += latency(lam, runs // 3)
                plain_times += latency(plain, runs // 3)
            print(f"trigger to SUCCESS, Lambda path (event source mapping, Runtime API): {percentiles(lambda_times)}")
            print(f"trigger to SUCCESS, plain consumer path (Kafka, fetch.wait.max.ms 10): {percentiles(plain_times)}")
            print(f"ratio Lambda/consumer p50: {statistics.median(lambda_times) / statistics.median(plain_times):.2f}")
        finally:
            consumer.terminate()
            lam.close()
            plain.close()
        count = int(os.environ.get("BENCH_LAMBDA_THROUGHPUT_RUNS", "2000"))
        for bare in (False, True):
            for batch in (1, 100):
                # Batches of 100 go fast: ten times the records, for a measurable span.
                print(throughput(binary, work, python, batch, count * (10 if batch == 100 else 1), bare))


if __name__ == "__main__":
    main()
