"""``ConsumerProcess``: the consumer under test, started with an emulator's settings.

It is what ``port-emulator verify`` does with a consumer, for pytest: the command runs with
the emulator's settings (``PORT_API_URL``, ``KAFKA_BROKERS``, ...) in its environment, its
output goes to a file, and it counts as ready when its output matches ``ready_log``, or
without one, at its first call to Port's API (the emulator's journal grows).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Mapping, Sequence

from ._emulator import Emulator, EmulatorError, _stop_process, _tail


class ConsumerStartError(EmulatorError):
    """The consumer exited, or was not ready in time; the message has its last output."""


class ConsumerProcess:
    """A consumer command run beside an ``Emulator``: started, waited for, stopped.

    ``ConsumerProcess([sys.executable, "consumer.py"], emulator, ready_log="consuming").start()``
    returns once it is ready. ``output()`` is what it printed (stdout and stderr together);
    ``stop()`` sends SIGTERM, then SIGKILL after a timeout.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        emulator: Emulator,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready_log: str | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        """Describe the process; nothing starts before ``start()``.

        ``command``: a list of words, or one shell-quoted string. ``env``: variables over the
        emulator's settings (which are over this process's environment). ``cwd``: where it
        runs. ``ready_log``: a regular expression its output matches once it is ready;
        without one it is ready at its first call to Port's API, as ``verify`` judges.
        """
        words = shlex.split(command) if isinstance(command, str) else list(command)
        if not words:
            raise EmulatorError("the consumer's command is empty")
        self.command = words
        self.emulator = emulator
        self.environment = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else None
        try:
            self.ready_log = re.compile(ready_log) if ready_log is not None else None
        except re.error as error:
            raise EmulatorError(f"ready_log {ready_log!r} is not a valid regular expression: {error}") from None
        self.ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._directory = Path(tempfile.mkdtemp(prefix="port-consumer-py-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._directory, True)

    @property
    def name(self) -> str:
        """The command, shell-quoted, as reports show it."""
        return shlex.join(self.command)

    @property
    def output_path(self) -> Path:
        """Where the consumer's stdout and stderr go."""
        return self._directory / "consumer.log"

    @property
    def pid(self) -> int | None:
        """The process id once started."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit status once it has ended (a negative number: the signal), else None."""
        return self._process.poll() if self._process is not None else None

    def output(self, start: int = 0) -> str:
        """What it printed so far, from byte ``start`` (see ``output_size()``)."""
        try:
            with self.output_path.open("rb") as file:
                file.seek(start)
                return file.read().decode(errors="replace")
        except OSError:
            return ""

    def output_size(self) -> int:
        """How many bytes it has printed so far."""
        try:
            return self.output_path.stat().st_size
        except OSError:
            return 0

    def start(self) -> ConsumerProcess:
        """Start it and wait until it is ready; ``ConsumerStartError`` (with its output) when
        it exits first or is not ready within ``ready_timeout`` seconds (it is stopped then)."""
        if self._process is not None:
            raise EmulatorError("this consumer is already started")
        environment = self.emulator.env()
        environment.update(self.environment)
        baseline = len(self.emulator.journal()) if self.ready_log is None else 0
        with self.output_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=environment,
                start_new_session=True,
            )
        try:
            self._await_ready(baseline)
        except BaseException:
            self.stop()
            raise
        return self

    def _await_ready(self, baseline: int) -> None:
        assert self._process is not None
        started = time.monotonic()
        next_progress = started + 10
        while True:
            if self.ready_log is not None:
                if self.ready_log.search(self.output()):
                    return
            elif len(self.emulator.journal()) > baseline:
                return
            status = self._process.poll()
            if status is not None:
                raise ConsumerStartError(
                    f"the consumer exited with status {status} before it was ready.\n"
                    f"command: {self.name}\n{self.tail()}"
                )
            waited = time.monotonic() - started
            if waited > self.ready_timeout:
                expected = (
                    f"its output never matched ready_log /{self.ready_log.pattern}/"
                    if self.ready_log is not None
                    else "it never called Port's API (give ready_log if it only does so for a run)"
                )
                raise ConsumerStartError(
                    f"the consumer was not ready within {self.ready_timeout:g} s: {expected}.\n"
                    f"command: {self.name}\n{self.tail()}"
                )
            if time.monotonic() > next_progress:
                print(f"port_consumer: waiting for {self.name} to be ready ({waited:.0f} s)…", file=sys.stderr)
                next_progress += 10
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM to its process group (a shell's or npm's children too), then SIGKILL after
        ``timeout`` s; its exit status (None if never started). The output stays readable
        until the object is garbage."""
        if self._process is None:
            return None
        return _stop_process(self._process, timeout, group=True)

    def __enter__(self) -> ConsumerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def tail(self, lines: int = 20, start: int = 0) -> str:
        """Its last ``lines`` lines of output (from byte ``start``), indented, for messages."""
        return _tail(self.output(start), lines)
