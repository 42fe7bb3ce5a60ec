"""The pytest plugin: a ``port_emulator`` fixture, and Port's side of a failed test.

The emulator process lives for the session by default (``port_emulator_scope`` in the ini
file: session, package, module, class or function); each test gets a fresh state through the
admin reset. When a test that used it fails, its report gets a "port-emulator" section with
every run of the test: status, logs, the API calls made for it and the calls refused.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Generator, Iterator, Literal, cast

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


@pytest.fixture(scope=_scope)
def port_emulator_process(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """One running emulator, shared by the tests of the configured scope."""
    config = request.config
    try:
        emulator = Emulator(
            _setting(config, "fixtures"),
            binary=_setting(config, "binary"),
            args=shlex.split(str(config.getini("port_emulator_args"))),
        )
        emulator.start()
    except (EmulatorError, FileNotFoundError) as error:
        pytest.fail(f"port_emulator: {error}", pytrace=False)
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture
def port_emulator(port_emulator_process: Emulator, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """The emulator, reset to its fixtures for this test."""
    try:
        port_emulator_process.reset()
    except EmulatorError as error:
        pytest.fail(f"port_emulator: {error}", pytrace=False)
    _used[request.node.nodeid] = port_emulator_process
    try:
        yield port_emulator_process
    finally:
        _used.pop(request.node.nodeid, None)


#: The emulator of each test in progress that uses the fixture, by node id.
_used: dict[str, Emulator] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Adds the "port-emulator" section to a failed test that used the fixture."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    emulator = _used.get(item.nodeid)
    if emulator is not None and report.failed and call.when == "call":
        report.sections.append(("port-emulator", _describe_runs(emulator)))


def _describe_runs(emulator: Emulator) -> str:
    try:
        emulator.check_alive()
        runs = emulator.runs()
    except Exception as error:  # a report must never turn into pytest's internal error
        return f"(cannot read the emulator's runs: {error})"
    if not runs:
        return "no run was created in this test"
    return "\n\n".join(emulator.describe(str(run["id"])) for run in runs)
