"""``Emulator``: one ``port-emulator serve`` process and its HTTP APIs, for tests and scripts.

Everything goes through what the emulator publishes: the settings file it writes once it is
ready (``--env-file``), Port's API for triggering runs (as a user's script would), and the
admin API under ``/_emulator/`` for waiting and looking inside. No private file is read.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from http.client import HTTPException
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Mapping, Sequence

from . import _binaries

JSON = dict[str, Any]

#: The statuses after which a run takes no more writes.
FINISHED = frozenset({"SUCCESS", "FAILURE", "DECLINED"})

#: The emulator is local: its traffic never goes through $http_proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorError(Exception):
    """Something about the emulator process or its API went wrong; the message says what."""


class EmulatorStartError(EmulatorError):
    """``port-emulator serve`` exited, or was not ready in time; the message has its output."""


class EmulatorDied(EmulatorError):
    """The emulator process ended while it was in use."""


class PortAPIError(EmulatorError):
    """Port's API (or the admin API) answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        detail = body.get("message") or body.get("error") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} answered {status}: {detail}")


class RunAssertionError(EmulatorError, AssertionError):
    """A run did not reach what was waited for; the message shows its journal and refused calls."""


class Emulator:
    """A ``port-emulator serve`` process: Port's API and an embedded Kafka, with the fixtures.

    ``Emulator().start()`` (or ``with Emulator() as emulator:``) starts it on a free port and
    returns once it is ready. ``settings`` holds what a consumer needs (``PORT_API_URL``,
    ``KAFKA_BROKERS``, ``PORT_CLIENT_ID``, ...) and ``env()`` merges them into an environment
    for a consumer process.

    With ``lambda_command`` the emulator also runs an AWS Lambda function (``serve --lambda``):
    the command is the function's runtime client, e.g. ``[sys.executable, "-m", "awslambdaric",
    "lambda_function.lambda_handler"]``; the emulator serves the Lambda Runtime API and invokes
    it with batches of ``ORG_ID.runs`` as Lambda's Kafka event source mapping does.
    ``lambda_status()`` and ``lambda_invocations()`` show what the mapping did.
    """

    def __init__(
        self,
        fixtures: str | os.PathLike[str] | None = None,
        *,
        port: int = 0,
        binary: str | os.PathLike[str] | None = None,
        args: Sequence[str] = (),
        startup_timeout: float = 60.0,
        lambda_command: str | Sequence[str] | None = None,
        lambda_directory: str | os.PathLike[str] | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the process; nothing starts before ``start()``.

        ``fixtures``: a directory of ``blueprints/``, ``actions/``, ... (default: the shipped
        fixtures). ``port``: the API's port (0 picks a free one). ``binary``: the executable
        (default: ``$PORT_EMULATOR_BIN``, the wheel's, then ``PATH``). ``args``: more
        ``serve`` options, e.g. ``["--token-ttl", "5s"]`` or ``["--lambda-timeout", "2s"]``.

        ``lambda_command``: a Lambda function's runtime client (a list of words, or one
        shell-quoted string) for ``serve --lambda``. ``lambda_directory``: the function's code,
        where the emulator (and so the function, as in ``LAMBDA_TASK_ROOT``) runs; default
        the current directory. The function's output goes to ``lambda_log_path`` unless
        ``args`` names a ``--lambda-log``. ``environment``: variables added to the emulator's
        environment, which the function inherits.
        """
        self.binary = _binaries.find("port-emulator", binary)
        self.fixtures = _binaries.fixtures(fixtures)
        self.port = port
        self.args = list(args)
        self.startup_timeout = startup_timeout
        if isinstance(lambda_command, str):
            lambda_command = shlex.split(lambda_command)
        self.lambda_command: list[str] | None = list(lambda_command) if lambda_command is not None else None
        if self.lambda_command is not None and not self.lambda_command:
            raise EmulatorError("lambda_command is empty: give the runtime client's command")
        self.lambda_directory = Path(lambda_directory) if lambda_directory is not None else None
        self.environment = dict(environment or {})
        self.settings: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: Path | None = None
        self._token: str | None = None
        self._finalizer: weakref.finalize[..., Emulator] = weakref.finalize(self, _nothing)

    # Lifecycle

    def start(self) -> Emulator:
        """Start the process and wait until it has written its settings (it is ready then).

        Raises ``EmulatorStartError`` with the emulator's output if it exits first (a port in
        use, bad fixtures) or is not ready within ``startup_timeout`` seconds.
        """
        if self._process is not None:
            raise EmulatorError("this emulator is already started")
        self._remove_directory()
        self._directory = Path(tempfile.mkdtemp(prefix="port-emulator-py-"))
        env_file = self._directory / "emulator.env"
        # Absolute paths: with lambda_directory the process runs elsewhere.
        command = [os.path.abspath(self.binary), "serve", "--port", str(self.port), "--env-file", str(env_file)]
        if self.fixtures is not None:
            command += ["--fixtures", str(Path(self.fixtures).resolve())]
        if self.lambda_command is not None:
            command += ["--lambda", shlex.join(self.lambda_command)]
            if not any(arg == "--lambda-log" or arg.startswith("--lambda-log=") for arg in self.args):
                command += ["--lambda-log", str(self.lambda_log_path)]
        command += self.args
        environment = {**os.environ, **self.environment} if self.environment else None
        with self.log_path.open("wb") as log:
            # A session of its own, so that a terminal's Ctrl-C reaches the test run first and
            # the emulator is stopped by it; the finalizer stops it if Python exits without that.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.lambda_directory,
                env=environment,
            )
        self._process = process
        self._finalizer = weakref.finalize(self, _stop_process, process, 5.0)
        try:
            self._await_ready(env_file, command)
        except BaseException:
            self.close()  # nothing is left running, nothing is left on disk (the message has the log)
            raise
        self.settings = _read_env_file(env_file)
        return self

    def _await_ready(self, env_file: Path, command: list[str]) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        next_progress = time.monotonic() + 10
        while not env_file.exists():
            status = self._process.poll()
            if status is not None:
                raise EmulatorStartError(
                    f"port-emulator exited with status {status} before it was ready.\n"
                    f"command: {shlex.join(command)}\n{self._tail()}"
                )
            if time.monotonic() > deadline:
                raise EmulatorStartError(
                    f"port-emulator was not ready within {self.startup_timeout:g} s.\n"
                    f"command: {shlex.join(command)}\n{self._tail()}"
                )
            if time.monotonic() > next_progress:
                print(f"port-emulator: still starting (pid {self._process.pid})…", file=sys.stderr)
                next_progress += 10
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout`` s); returns its status.

        Stopping a stopped emulator does nothing. The log stays readable in ``log_path`` until
        the object is garbage: the directory is removed by ``close()``.
        """
        process = self._process
        if process is None:
            return None
        self._finalizer.detach()
        status = _stop_process(process, timeout)
        self._process = None
        self._token = None
        return status

    def close(self) -> None:
        """Stop the process and remove its working directory (settings file and log)."""
        self.stop()
        self._remove_directory()

    def _remove_directory(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """Where the emulator's stdout and stderr go."""
        if self._directory is None:
            raise EmulatorError("the emulator has not been started")
        return self._directory / "emulator.log"

    @property
    def lambda_log_path(self) -> Path:
        """Where the Lambda function's stdout and stderr go (``--lambda-log``)."""
        if self._directory is None:
            raise EmulatorError("the emulator has not been started")
        return self._directory / "lambda.log"

    def lambda_log(self) -> str:
        """Everything the Lambda function has printed so far (every execution environment)."""
        try:
            return self.lambda_log_path.read_text(errors="replace")
        except (OSError, EmulatorError):
            return ""

    def log(self) -> str:
        """Everything the emulator has printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, EmulatorError):
            return ""

    def check_alive(self) -> None:
        """Raise ``EmulatorDied`` (with its last output) if the process has ended."""
        process = self._process
        if process is None:
            raise EmulatorError("the emulator is not running: call start() first")
        status = process.poll()
        if status is not None:
            raise EmulatorDied(f"port-emulator (pid {process.pid}) exited with status {status}.\n{self._tail()}")

    # Settings

    @property
    def api_url(self) -> str:
        """Port's API, e.g. ``http://127.0.0.1:41234/v1``."""
        return self._setting("PORT_API_URL")

    @property
    def base_url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:41234`` (the admin API is under ``/_emulator``)."""
        return self._setting("PORT_API_BASE_URL")

    @property
    def kafka_brokers(self) -> str:
        """The embedded Kafka's bootstrap servers (plaintext listener)."""
        return self._setting("KAFKA_BROKERS")

    @property
    def org_id(self) -> str:
        """The organization id; the topics are ``ORG_ID.runs`` and ``ORG_ID.change.log``."""
        return self._setting("PORT_ORG_ID")

    @property
    def runs_topic(self) -> str:
        """The topic invocations are published to."""
        return f"{self.org_id}.runs"

    @property
    def client_id(self) -> str:
        """The client id a consumer authenticates with."""
        return self._setting("PORT_CLIENT_ID")

    @property
    def client_secret(self) -> str:
        """The client secret a consumer authenticates with (and the signing key)."""
        return self._setting("PORT_CLIENT_SECRET")

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with the emulator's settings over it."""
        merged = dict(os.environ if base is None else base)
        merged.update(self.settings)
        return merged

    # Port's API

    def trigger(self, action: str, inputs: Mapping[str, Any] | None = None, entity: str | None = None) -> JSON:
        """Run ``action`` as a user would (``POST /v1/actions/{action}/runs``); returns the run
        as Port's API answers it. Port's refusals (unknown action, inputs that break the
        action's schema) raise ``PortAPIError`` with Port's message."""
        body: JSON = {"properties": dict(inputs or {})}
        if entity is not None:
            body["entity"] = entity
        answer = self.port_api("POST", f"/actions/{_quote(action)}/runs", body)
        run: JSON = answer["run"]
        return run

    def upsert_entity(
        self, blueprint: str, identifier: str, properties: Mapping[str, Any] | None = None, title: str | None = None
    ) -> JSON:
        """Create or replace an entity through Port's API (a DAY-2 action needs one to run on)."""
        body: JSON = {"identifier": identifier, "properties": dict(properties or {})}
        if title is not None:
            body["title"] = title
        answer = self.port_api("POST", f"/blueprints/{_quote(blueprint)}/entities?upsert=true", body)
        entity: JSON = answer["entity"]
        return entity

    def run(self, run_id: str) -> JSON:
        """The run with its logs, affected entities and Kafka delivery (admin API)."""
        answer = self._admin("GET", f"/runs/{_quote(run_id)}")
        run: JSON = answer["run"]
        return run

    def runs(self) -> list[JSON]:
        """Every run, oldest first (admin API)."""
        runs: list[JSON] = self._admin("GET", "/runs")["runs"]
        return runs

    def wait(self, run_id: str, status: str | None = None, timeout: float = 30.0) -> JSON:
        """Wait until the run finishes, or reaches ``status``; returns it as ``run()`` does.

        Raises ``RunAssertionError`` (an ``AssertionError``) with the run's journal and refused
        calls when the deadline passes or the run finishes with another status, and
        ``EmulatorDied`` as soon as the emulator's process ends.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            # Short slices, so that a dead emulator is noticed within a second or two.
            slice_ms = max(1, int(min(remaining, 2.0) * 1000))
            query: dict[str, str] = {"timeout": f"{slice_ms}ms"}
            if status is not None:
                query["status"] = status
            answer = self._admin("GET", f"/runs/{_quote(run_id)}/wait?{urllib.parse.urlencode(query)}", timeout=9)
            run: JSON = answer["run"]
            if answer.get("reached"):
                return run
            if status is not None and run.get("status") in FINISHED:
                raise RunAssertionError(
                    f"run {run_id} finished as {run['status']}, not {status}.\n{self.describe(run_id)}"
                )
            if time.monotonic() >= deadline:
                wanted = status or "a finished status"
                raise RunAssertionError(
                    f"run {run_id} did not reach {wanted} within {timeout:g} s (it is {run.get('status')}).\n"
                    f"{self.describe(run_id)}"
                )

    # Admin API

    def journal(self, run_id: str | None = None) -> list[JSON]:
        """Every API call consumers made (of one run, if given), in order."""
        entries: list[JSON] = self._admin("GET", "/journal" + _run_query(run_id))["journal"]
        return entries

    def violations(self, run_id: str | None = None) -> list[JSON]:
        """The calls the emulator refused because they broke Port's contract."""
        entries: list[JSON] = self._admin("GET", "/violations" + _run_query(run_id))["violations"]
        return entries

    def reset(self) -> None:
        """Forget runs, entities, journal, violations and faults; the fixtures load again."""
        self._admin("POST", "/reset", {})

    def describe(self, run_id: str) -> str:
        """A run's status, logs, API calls and refused calls, as text for a failure message."""
        try:
            run = self.run(run_id)
            journal = self.journal(run_id)
            violations = self.violations(run_id)
        except EmulatorError as error:
            return f"(cannot read run {run_id}: {error})"
        action = run.get("action")
        name = action.get("identifier") if isinstance(action, dict) else action
        lines = [f"run {run_id} ({name}): status {run.get('status')}, statusLabel {run.get('statusLabel')!r}"]
        lines += [f"  log: {log.get('message')}" for log in run.get("logs", [])]
        lines.append(f"  API calls ({len(journal)}):" if journal else "  API calls: none")
        lines += [f"    {e['time']} {e['method']} {e['path']} -> {e['status']}" for e in journal]
        lines.append(f"  refused calls ({len(violations)}):" if violations else "  refused calls: none")
        lines += [
            f"    {v['method']} {v['path']} -> {v['status']} {v['error']}: {v['message']} ({v['rule']})"
            for v in violations
        ]
        return "\n".join(lines)

    # The Lambda function (serve --lambda)

    def lambda_status(self) -> JSON:
        """``GET /_emulator/lambda``: the function, its consumer group, how many execution
        environments were started (``environments``) and how they ended, the runtime's
        ``initErrors``, ``lastProcessingResult`` and every invocation (see
        ``lambda_invocations``). Raises ``EmulatorError`` when the emulator runs no function."""
        try:
            return self._admin("GET", "/lambda")
        except PortAPIError as error:
            if error.status != 404:
                raise
            raise EmulatorError(
                "this emulator runs no Lambda function: start it with lambda_command=… (serve --lambda)"
            ) from None

    def lambda_invocations(self) -> list[JSON]:
        """Every invocation the event source mapping made, oldest first: ``number``,
        ``attempt`` (2 for a batch's first retry), ``records`` (``"topic-partition@offset"``),
        ``runIds``, ``outcome`` (``"success"``, ``"error Type: message"``, ``"timeout"``…),
        ``succeeded``, ``durationMs`` and ``then`` (``"committed"``, ``"retrying"``…)."""
        invocations: list[JSON] = self.lambda_status()["invocations"]
        return invocations

    def restart_lambda_mapping(self) -> None:
        """Stop the event source mapping's consumer at once, without committing the batch in
        flight, and start a new one in the same group: that batch is delivered again."""
        self._admin("POST", "/lambda/mapping/restart", {})

    def wait_lambda(self, condition: Callable[[JSON], Any], timeout: float = 30.0, what: str = "") -> JSON:
        """Poll ``lambda_status()`` until ``condition(status)`` is true; returns that status.

        Raises ``EmulatorError`` with the invocations and the function's last output when
        ``timeout`` seconds pass first (``what`` says what was awaited)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.lambda_status()
            if condition(status):
                return status
            if time.monotonic() >= deadline:
                raise EmulatorError(
                    f"the Lambda function did not reach {what or 'the condition'} within {timeout:g} s.\n"
                    f"{self.describe_lambda(status)}"
                )
            time.sleep(0.05)

    def wait_lambda_ready(self, timeout: float = 60.0) -> JSON:
        """Wait until the function's runtime client has asked for work (its handler imported)
        and the event source mapping holds its partitions (its group's first join waits 3 s);
        raises ``EmulatorError`` with its output at once when it reports an init error."""

        def ready(status: JSON) -> bool:
            if status["initErrors"]:
                raise EmulatorError(
                    f"the Lambda function failed to start: {status['initErrors'][-1]}\n{self.describe_lambda(status)}"
                )
            return int(status["runtimeRequests"]) > 0 and bool(status.get("assignedPartitions"))

        return self.wait_lambda(ready, timeout, "its first request for work and the mapping's partitions")

    def describe_lambda(self, status: JSON | None = None) -> str:
        """The function's state, its invocations and its last output, as text for a failure."""
        try:
            status = status if status is not None else self.lambda_status()
        except EmulatorError as error:
            return f"(cannot read the Lambda function's state: {error})"
        lines = [
            f"Lambda function {status.get('function')} (group {status.get('consumerGroup')}): "
            f"{status.get('environments')} environment(s), {status.get('runtimeRequests')} request(s) for work, "
            f"last processing result {status.get('lastProcessingResult')}"
        ]
        lines += [f"  environment ended: {why}" for why in status.get("environmentExits", [])]
        lines += [f"  init error: {error}" for error in status.get("initErrors", [])]
        invocations = status.get("invocations", [])
        lines.append(f"  invocations ({len(invocations)}):" if invocations else "  invocations: none")
        lines += [
            f"    #{i['number']} attempt {i['attempt']} {', '.join(i['records'])}: {i['outcome']} "
            f"({i['durationMs']:.0f} ms) -> {i['then']}"
            for i in invocations[-20:]
        ]
        output = self.lambda_log().rstrip().splitlines()[-20:]
        lines.append("  function output (last lines):" if output else "  function output: none")
        lines += ["    " + line for line in output]
        return "\n".join(lines)

    # HTTP

    def port_api(self, method: str, path: str, body: JSON | None = None) -> JSON:
        """Port's API as the consumer calls it, with the consumer's credentials: ``path`` under
        ``PORT_API_URL`` (``"/actions/runs/r_1"``), ``body`` as JSON; returns the answer.
        A token is taken once and replaced when it expires (401), as a client would. Port's
        refusals raise ``PortAPIError`` with the status and Port's answer."""
        for attempt in (1, 2):
            if self._token is None:
                answer = self._request(
                    "POST",
                    self.api_url + "/auth/access_token",
                    {"clientId": self.client_id, "clientSecret": self.client_secret},
                )
                self._token = str(answer["accessToken"])
            try:
                return self._request(method, self.api_url + path, body, token=self._token)
            except PortAPIError as error:
                if error.status != 401 or attempt == 2:
                    raise
                self._token = None
        raise AssertionError("unreachable")

    def _admin(self, method: str, path: str, body: JSON | None = None, timeout: float = 30) -> JSON:
        return self._request(method, self.base_url + "/_emulator" + path, body, timeout=timeout)

    def _request(
        self, method: str, url: str, body: JSON | None = None, token: str | None = None, timeout: float = 30
    ) -> JSON:
        self.check_alive()
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        path = urllib.parse.urlsplit(url).path
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                answer: JSON = json.load(response)
                return answer
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            raise PortAPIError(method, path, error.code, parsed) from None
        except (urllib.error.URLError, OSError) as error:
            # A refused or reset connection often means the process is ending: give it a
            # moment to be reaped, so that the error says it died.
            self._await_exit(2.0)
            self.check_alive()
            raise EmulatorError(f"cannot reach port-emulator at {url}: {error}") from None
        except (HTTPException, ValueError) as error:  # a cut-off or non-JSON answer
            raise EmulatorError(f"{method} {path}: port-emulator's answer could not be read: {error}") from None

    def _await_exit(self, timeout: float) -> None:
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

    def _setting(self, key: str) -> str:
        if not self.settings:
            raise EmulatorError("the emulator has not been started")
        return self.settings[key]

    def _tail(self, lines: int = 20) -> str:
        return _tail(self.log(), lines)



def _nothing() -> None:
    """The finalizer of an emulator that never started."""


def _stop_process(process: subprocess.Popen[bytes], timeout: float, group: bool = False) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` s; the exit status. ``stop()`` uses it, and so
    does the finalizer of an emulator nobody stopped when Python exits. With ``group``, the
    signals go to the process group it leads (``start_new_session``): its children too, and
    a SIGKILL to what it left running after it ended."""

    def send(number: int) -> None:
        try:
            if group:
                os.killpg(process.pid, number)
            else:
                process.send_signal(number)
        except (ProcessLookupError, PermissionError):
            pass

    if process.poll() is None:
        send(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()
    elif group:
        send(signal.SIGKILL)
    return process.returncode


def _tail(output: str, lines: int) -> str:
    """The last ``lines`` lines of a process's ``output``, indented, for an error message."""
    text = output.rstrip().splitlines()[-lines:]
    return "last output:\n" + "\n".join("  " + line for line in text) if text else "(no output)"


def _read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines with shell-quoted values, as ``--env-file`` writes them."""
    settings: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            parts = shlex.split(value)
            settings[key] = parts[0] if parts else ""
    return settings


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _run_query(run_id: str | None) -> str:
    return "" if run_id is None else "?" + urllib.parse.urlencode({"run": run_id})
