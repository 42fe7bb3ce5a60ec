"""The pytest plugin: a ``port_emulator`` fixture, and Port's side of a failed test.

The emulator process lives for the session by default (``port_emulator_scope`` in the ini
file: session, package, module, class or function); each test gets a fresh state through the
admin reset. When a test that used it fails, its report gets a "port-emulator" section with
every run of the test: status, logs, the API calls made for it and the calls refused.
"""

from __future__ import annotations

import shlex
from typing import Generator, Iterator, Literal, cast

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
    value = config.getoption(f"--port-emulator-{name}") or config.getini(f"port_emulator_{name}")
    return str(value) if value else None


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
    request.node.stash[_USED] = port_emulator_process
    yield port_emulator_process


_USED = pytest.StashKey[Emulator]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Adds the "port-emulator" section to a failed test that used the fixture."""
    report = yield
    emulator = item.stash.get(_USED, None)
    if emulator is not None and report.failed and call.when == "call":
        report.sections.append(("port-emulator", _describe_runs(emulator)))
    return report


def _describe_runs(emulator: Emulator) -> str:
    try:
        emulator.check_alive()
        runs = emulator.runs()
    except EmulatorError as error:
        return f"(cannot read the emulator's runs: {error})"
    if not runs:
        return "no run was created in this test"
    return "\n\n".join(emulator.describe(str(run["id"])) for run in runs)
