"""The pytest plugin: a ``port_emulator`` fixture, and Port's side of a failed test.

The emulator process lives for the session by default (``port_emulator_scope`` in the ini
file: session, package, module, class or function); each test gets a fresh state through the
admin reset. When a test that used it fails, its report gets a "port-emulator" section with
every run of the test: status, logs, the API calls made for it and the calls refused.

AWS Lambda backends: with ``port_emulator_lambda`` in the ini file (the function's runtime
client, e.g. ``{python} -m awslambdaric lambda_function.lambda_handler``, where ``{python}``
is ``$PORT_LAMBDA_PYTHON`` or else the Python running pytest) that emulator also
runs the function (``serve --lambda``) and invokes it with Kafka batches as Lambda does; the
``port_lambda`` fixture starts an emulator of its own for one test with any function and
``--lambda-*`` options. The report of a failed test then shows the function's invocations and
its last output too.

The consumer under test: ``port_consumer(command, ready_log=...)`` starts it with the
emulator's settings in its environment, waits until it is ready (its output matches
``ready_log``, or else its first call to Port's API) and stops it after the test (or the
``port_consumer_scope``); a failed test's report shows what it printed during the test.

Strict mode (``port_emulator_strict = true`` in the ini file, or the ``port_emulator_strict``
marker) fails a test that passed but during which the emulator refused a request (a
violation of Port's contract), listing them.

``port_emulator_fixtures_dir`` and ``port_emulator_serve_args`` are fixtures a conftest.py
may override (as pytest-httpserver's ``httpserver_listen_address``); by default they are
the ini keys ``port_emulator_fixtures`` and ``port_emulator_args``.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, Generator, Iterator, List, Literal, Mapping, Protocol, Sequence, cast

import pytest

from ._consumer import ConsumerProcess
from ._emulator import Emulator, EmulatorError

Scope = Literal["session", "package", "module", "class", "function"]
_SCOPES = ("session", "package", "module", "class", "function")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's settings: ini keys, each with a command-line override."""
    group = parser.getgroup("port-emulator")
    group.addoption("--port-emulator-binary", help="the port-emulator executable (default: the wheel's, then PATH)")
    group.addoption("--port-emulator-fixtures", help="fixtures directory to load (default: the shipped fixtures)")
    parser.addini("port_emulator_fixtures", "fixtures directory for the port_emulator fixture", default="")
    parser.addini("port_emulator_binary", "the port-emulator executable", default="")
    parser.addini("port_emulator_args", "more `port-emulator serve` options (shell words)", default="")
    parser.addini("port_emulator_scope", "how long one emulator process lives: " + ", ".join(_SCOPES), default="session")
    parser.addini(
        "port_emulator_lambda",
        "a Lambda function's runtime client for the port_emulator fixture (shell words; {python} is "
        "$PORT_LAMBDA_PYTHON or this Python), e.g. {python} -m awslambdaric lambda_function.lambda_handler",
        default="",
    )
    parser.addini(
        "port_emulator_strict",
        "fail a test during which the emulator refused a request (a contract violation)",
        type="bool",
        default=False,
    )
    parser.addini(
        "port_consumer_scope", "how long a consumer started by port_consumer lives: " + ", ".join(_SCOPES), default="function"
    )
    parser.addini(
        "port_emulator_lambda_directory",
        "the Lambda function's code directory, where it runs (default: the ini file's directory)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Refuses a bad scope before any test runs; declares the strict-mode marker."""
    for key in ("port_emulator_scope", "port_consumer_scope"):
        scope = str(config.getini(key))
        if scope and scope not in _SCOPES:
            raise pytest.UsageError(f"{key} must be one of {', '.join(_SCOPES)} (got {scope!r})")
    config.addinivalue_line(
        "markers",
        "port_emulator_strict(enabled=True): fail the test if the emulator refused a request during it "
        "(enabled=False turns the ini's port_emulator_strict off for this test)",
    )
    config.stash[_CONSUMERS] = []


def _scope(fixture_name: str, config: pytest.Config) -> Scope:
    return cast(Scope, str(config.getini("port_emulator_scope")) or "session")


def _consumer_scope(fixture_name: str, config: pytest.Config) -> Scope:
    return cast(Scope, str(config.getini("port_consumer_scope")) or "function")


#: The emulators a test uses (the ``port_emulator`` fixture's, ``port_lambda``'s), on its item.
_EMULATORS = pytest.StashKey[List[Emulator]]()
#: Every consumer ``port_consumer`` started in this session, on the config.
_CONSUMERS = pytest.StashKey[List[ConsumerProcess]]()
#: How much each running consumer had printed when a test began (by ``id``), on its item.
_CONSUMER_OFFSETS = pytest.StashKey[Dict[int, int]]()


def _setting(config: pytest.Config, name: str) -> str | None:
    """A path from the command line (as given) or the ini file (relative to the ini file)."""
    option = config.getoption(f"--port-emulator-{name}")
    if option:
        return str(option)
    value = str(config.getini(f"port_emulator_{name}"))
    if not value:
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return str(base / Path(value).expanduser())


def _base(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath is not None else config.rootpath


def lambda_python() -> str:
    """The Python that runs Lambda runtime clients (``{python}``): ``$PORT_LAMBDA_PYTHON``
    (e.g. a virtual environment with ``awslambdaric``), else the Python running pytest."""
    return os.environ.get("PORT_LAMBDA_PYTHON") or sys.executable


def lambda_command(line: str) -> list[str]:
    """The words of a runtime client's command line, with ``{python}`` as ``lambda_python()``."""
    return [lambda_python() if word == "{python}" else word for word in shlex.split(line)]


@pytest.fixture(scope="session")
def port_emulator_fixtures_dir(request: pytest.FixtureRequest) -> str | Path | None:
    """The fixtures directory the emulators load: ``--port-emulator-fixtures``, else the ini's
    ``port_emulator_fixtures`` (relative to the ini file), else None (the shipped fixtures).
    Override it in a conftest.py to choose it in code; its scope must be at least the
    emulator's (``port_emulator_scope``)."""
    return _setting(request.config, "fixtures")


@pytest.fixture(scope="session")
def port_emulator_serve_args(request: pytest.FixtureRequest) -> list[str]:
    """More ``serve`` options for the emulators: the ini's ``port_emulator_args`` (shell
    words). Override it in a conftest.py (e.g. ``["--token-ttl", "5s"]``); its scope must be
    at least the emulator's."""
    return shlex.split(str(request.config.getini("port_emulator_args")))


@pytest.fixture(scope=_scope)
def port_emulator_process(
    request: pytest.FixtureRequest, port_emulator_fixtures_dir: str | Path | None, port_emulator_serve_args: list[str]
) -> Iterator[Emulator]:
    """One running emulator, shared by the tests of the configured scope (with the Lambda
    function of ``port_emulator_lambda``, if set, ready to be invoked)."""
    config = request.config
    function = str(config.getini("port_emulator_lambda")).strip()
    directory = str(config.getini("port_emulator_lambda_directory"))
    emulator: Emulator | None = None
    try:
        emulator = Emulator(
            port_emulator_fixtures_dir,
            binary=_setting(config, "binary"),
            args=list(port_emulator_serve_args),
            lambda_command=lambda_command(function) if function else None,
            lambda_directory=(_base(config) / Path(directory).expanduser()) if function else None,
        )
        emulator.start()
        if function:
            emulator.wait_lambda_ready()
    except (EmulatorError, FileNotFoundError) as error:
        if emulator is not None:
            emulator.close()
        pytest.fail(f"port_emulator: {error}", pytrace=False)
    try:
        yield emulator
    finally:
        emulator.close()


class LambdaFactory(Protocol):
    """The ``port_lambda`` fixture: starts an emulator running a Lambda function."""

    def __call__(
        self,
        command: str | Sequence[str],
        *,
        directory: str | Path | None = None,
        args: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        fixtures: str | Path | None = None,
        ready_timeout: float = 60.0,
    ) -> Emulator:
        """An emulator (stopped at the end of the test) running ``command`` as the function."""
        ...


@pytest.fixture
def port_lambda(
    request: pytest.FixtureRequest, port_emulator_fixtures_dir: str | Path | None, port_emulator_serve_args: list[str]
) -> Iterator[LambdaFactory]:
    """Starts, for this test, an emulator that runs a Lambda function as ``serve --lambda`` does.

    ``port_lambda([sys.executable, "-m", "awslambdaric", "app.handler"], directory=...,
    args=["--lambda-timeout", "2s"], environment={...})`` returns the ``Emulator`` once the
    function's runtime client has asked for work. ``command`` may also be one string of shell
    words, where ``{python}`` is ``lambda_python()``. ``directory``: the function's code (default: the ini
    file's directory); ``args``: more ``serve`` options (the ini's ``port_emulator_args`` come
    first); ``environment``: variables the function gets too. Every emulator started is
    stopped when the test ends; a failed test's report shows their runs and invocations.
    """
    config = request.config
    started: list[Emulator] = []

    def start(
        command: str | Sequence[str],
        *,
        directory: str | Path | None = None,
        args: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        fixtures: str | Path | None = None,
        ready_timeout: float = 60.0,
    ) -> Emulator:
        words = lambda_command(command) if isinstance(command, str) else list(command)
        emulator = Emulator(
            fixtures if fixtures is not None else port_emulator_fixtures_dir,
            binary=_setting(config, "binary"),
            args=list(port_emulator_serve_args) + list(args),
            lambda_command=words,
            lambda_directory=Path(directory) if directory is not None else _base(config),
            environment=environment,
        )
        started.append(emulator)
        _emulators(request.node).append(emulator)
        emulator.start()
        emulator.wait_lambda_ready(ready_timeout)
        return emulator

    try:
        yield start
    finally:
        for emulator in started:
            emulator.close()


@pytest.fixture
def port_emulator(port_emulator_process: Emulator, request: pytest.FixtureRequest) -> Emulator:
    """The emulator, reset to its fixtures for this test."""
    try:
        port_emulator_process.reset()
    except EmulatorError as error:
        pytest.fail(f"port_emulator: {error}", pytrace=False)
    _emulators(request.node).append(port_emulator_process)
    return port_emulator_process


class ConsumerFactory(Protocol):
    """The ``port_consumer`` fixture: starts the consumer under test."""

    def __call__(
        self,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        ready_log: str | None = None,
        ready_timeout: float = 60.0,
    ) -> ConsumerProcess:
        """The consumer, started and ready (stopped at the end of ``port_consumer_scope``)."""
        ...


@pytest.fixture(scope=_consumer_scope)
def port_consumer(request: pytest.FixtureRequest, port_emulator_process: Emulator) -> Iterator[ConsumerFactory]:
    """Starts the consumer under test with the emulator's settings in its environment.

    ``port_consumer([sys.executable, "consumer.py"], ready_log="consuming")`` returns a
    ``ConsumerProcess`` once its output matches ``ready_log`` (a regular expression), or,
    without one, once it has called Port's API (as ``port-emulator verify`` judges);
    ``ConsumerStartError``, with its output, fails the test when it exits first or is not
    ready within ``ready_timeout`` seconds. ``command`` may be one string of shell words.
    ``env``: variables over the emulator's settings; ``cwd``: where it runs. Every consumer
    started is stopped (its process group: SIGTERM, then SIGKILL) when the fixture's scope
    ends, ``port_consumer_scope`` in the ini file (default: each test). A failed test's
    report has a "port-consumer" section with what each running consumer printed during it.
    """
    if request.scope == "function":
        request.getfixturevalue("port_emulator")  # reset first: the readiness baseline is this test's
    started: list[ConsumerProcess] = []

    def start(
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        ready_log: str | None = None,
        ready_timeout: float = 60.0,
    ) -> ConsumerProcess:
        consumer = ConsumerProcess(
            command, port_emulator_process, env=env, cwd=cwd, ready_log=ready_log, ready_timeout=ready_timeout
        )
        started.append(consumer)
        request.config.stash[_CONSUMERS].append(consumer)
        try:
            return consumer.start()
        except EmulatorError as error:
            pytest.fail(f"port_consumer: {error}", pytrace=False)

    try:
        yield start
    finally:
        for consumer in started:
            consumer.stop()
            request.config.stash[_CONSUMERS].remove(consumer)


def _emulators(item: pytest.Item | Any) -> list[Emulator]:
    """The emulators ``item`` (a test) uses, kept in its stash."""
    return cast(List[Emulator], item.stash.setdefault(_EMULATORS, []))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Notes how much each running consumer had printed, so a report shows this test's part."""
    item.stash[_CONSUMER_OFFSETS] = {
        id(consumer): consumer.output_size() for consumer in item.config.stash.get(_CONSUMERS, [])
    }


def _strict(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("port_emulator_strict")
    if marker is not None:
        return bool(marker.args[0]) if marker.args else bool(marker.kwargs.get("enabled", True))
    return bool(item.config.getini("port_emulator_strict"))


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Strict mode: once the test has passed, fails it if its emulator refused a request."""
    emulators = item.stash.get(_EMULATORS, [])
    if not emulators or not _strict(item):
        return
    lines: list[str] = []
    for emulator in emulators:
        try:
            violations = emulator.violations()
        except EmulatorError as error:
            pytest.fail(f"port_emulator strict mode: cannot read the violations: {error}", pytrace=False)
        for violation in violations:
            lines.append("  " + _describe_violation(violation))
    if lines:
        pytest.fail(
            f"port_emulator strict mode: the emulator refused {len(lines)} request(s) during this test:\n"
            + "\n".join(lines),
            pytrace=False,
        )


def _describe_violation(violation: Mapping[str, Any]) -> str:
    """One refused call, as ``Emulator.describe`` shows it, with its run."""
    run = f" [run {violation['runId']}]" if violation.get("runId") else ""
    return (
        f"{violation.get('method')} {violation.get('path')} -> {violation.get('status')} {violation.get('error')}: "
        f"{violation.get('message')} ({violation.get('rule')}){run}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Adds the "port-emulator" and "port-consumer" sections to a failed test's report."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed and call.when == "call":
        for emulator in item.stash.get(_EMULATORS, []):
            report.sections.append(("port-emulator", _describe_runs(emulator)))
        offsets = item.stash.get(_CONSUMER_OFFSETS, {})
        for consumer in item.config.stash.get(_CONSUMERS, []):
            report.sections.append((f"port-consumer: {consumer.name}", _describe_consumer(consumer, offsets)))


def _describe_consumer(consumer: ConsumerProcess, offsets: Mapping[int, int]) -> str:
    start = offsets.get(id(consumer), 0)
    lines = consumer.output(start).rstrip().splitlines()
    shown = lines[-200:]
    header = "its output during this test" + (f" (the last {len(shown)} of {len(lines)} lines)" if len(lines) > 200 else "")
    status = consumer.returncode
    ended = f"it exited with status {status}\n" if status is not None else ""
    body = "\n".join(shown) if shown else "(nothing)"
    return f"{ended}{header}:\n{body}"


def _describe_runs(emulator: Emulator) -> str:
    try:
        emulator.check_alive()
        runs = emulator.runs()
    except Exception as error:  # a report must never turn into pytest's internal error
        return f"(cannot read the emulator's runs: {error})"
    text = "\n\n".join(emulator.describe(str(run["id"])) for run in runs) if runs else "no run was created in this test"
    if emulator.lambda_command is not None:
        try:
            text += "\n\n" + emulator.describe_lambda()
        except Exception as error:
            text += f"\n\n(cannot read the Lambda function's state: {error})"
    return text
