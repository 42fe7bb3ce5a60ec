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
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any, Generator, Iterator, Literal, Mapping, Protocol, Sequence, cast

import pytest

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
        "port_emulator_lambda_directory",
        "the Lambda function's code directory, where it runs (default: the ini file's directory)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Refuses a bad ``port_emulator_scope`` before any test runs."""
    scope = str(config.getini("port_emulator_scope"))
    if scope and scope not in _SCOPES:
        raise pytest.UsageError(f"port_emulator_scope must be one of {', '.join(_SCOPES)} (got {scope!r})")


def _scope(fixture_name: str, config: pytest.Config) -> Scope:
    return cast(Scope, str(config.getini("port_emulator_scope")) or "session")


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


@pytest.fixture(scope=_scope)
def port_emulator_process(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """One running emulator, shared by the tests of the configured scope (with the Lambda
    function of ``port_emulator_lambda``, if set, ready to be invoked)."""
    config = request.config
    function = str(config.getini("port_emulator_lambda")).strip()
    directory = str(config.getini("port_emulator_lambda_directory"))
    emulator: Emulator | None = None
    try:
        emulator = Emulator(
            _setting(config, "fixtures"),
            binary=_setting(config, "binary"),
            args=shlex.split(str(config.getini("port_emulator_args"))),
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
def port_lambda(request: pytest.FixtureRequest) -> Iterator[LambdaFactory]:
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
            fixtures if fixtures is not None else _setting(config, "fixtures"),
            binary=_setting(config, "binary"),
            args=shlex.split(str(config.getini("port_emulator_args"))) + list(args),
            lambda_command=words,
            lambda_directory=Path(directory) if directory is not None else _base(config),
            environment=environment,
        )
        started.append(emulator)
        _used.setdefault(request.node.nodeid, []).append(emulator)
        emulator.start()
        emulator.wait_lambda_ready(ready_timeout)
        return emulator

    try:
        yield start
    finally:
        for emulator in started:
            emulator.close()
        _forget(request.node.nodeid, started)


@pytest.fixture
def port_emulator(port_emulator_process: Emulator, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """The emulator, reset to its fixtures for this test."""
    try:
        port_emulator_process.reset()
    except EmulatorError as error:
        pytest.fail(f"port_emulator: {error}", pytrace=False)
    _used.setdefault(request.node.nodeid, []).append(port_emulator_process)
    try:
        yield port_emulator_process
    finally:
        _forget(request.node.nodeid, [port_emulator_process])


#: The emulators of each test in progress that uses the fixtures, by node id.
_used: dict[str, list[Emulator]] = {}


def _forget(nodeid: str, emulators: list[Emulator]) -> None:
    remaining = [emulator for emulator in _used.get(nodeid, []) if all(emulator is not e for e in emulators)]
    if remaining:
        _used[nodeid] = remaining
    else:
        _used.pop(nodeid, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Adds the "port-emulator" section to a failed test that used the fixture."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    emulators = _used.get(item.nodeid, [])
    if report.failed and call.when == "call":
        for emulator in emulators:
            report.sections.append(("port-emulator", _describe_runs(emulator)))


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
