"""Where the port-emulator and port-consumer executables and the shipped fixtures are.

The wheel carries one binary, ``port_kafka_harness/bin/port-emulator``, which is also
``port-consumer`` when called by that name (argv[0]), and the fixtures in
``port_kafka_harness/fixtures``. Outside the wheel (the source tree, or beside the ``.deb``)
they are found through ``PORT_EMULATOR_BIN`` / ``PORT_CONSUMER_BIN`` and ``PATH``, and the
fixtures through ``PORT_EMULATOR_FIXTURES`` or the ``.deb``'s
``/usr/share/port-kafka-harness/fixtures``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_DEB_FIXTURES = Path("/usr/share/port-kafka-harness/fixtures")
_ENVIRONMENT = {"port-emulator": "PORT_EMULATOR_BIN", "port-consumer": "PORT_CONSUMER_BIN"}


class BinaryNotFound(FileNotFoundError):
    """No usable executable: the message says every place that was tried."""


def bundled(name: str) -> Path:
    """The path of the wheel's binary that runs ``name`` (it may not exist outside the wheel):
    the one multi-call binary, whichever the name; run it with ``argv0(name, path)``."""
    return _PACKAGE / "bin" / "port-emulator"


def argv0(name: str, path: Path) -> str:
    """The ``argv[0]`` to run ``path`` as ``name``: the multi-call binary picks its command by
    the last component of ``argv[0]``, so a path ending in ``name`` beside the real one."""
    return str(path) if path.name == name else str(path.parent / name)


def find(name: str, explicit: str | os.PathLike[str] | None = None) -> Path:
    """The executable to run for ``name``: ``explicit``, then the environment variable, then
    the wheel's own, then ``PATH`` (the ``.deb`` installs into ``/usr/bin``)."""
    variable = _ENVIRONMENT[name]
    tried: list[str] = []
    candidates: list[tuple[str, str | os.PathLike[str] | None]] = [
        ("given", explicit),
        (f"${variable}", os.environ.get(variable) or None),
    ]
    for origin, value in candidates:
        if value is None:
            continue
        path = Path(value)
        if _executable(path) and not _is_console_script(path):
            return path
        # An explicit choice that does not work is an error, never a silent fallback.
        raise BinaryNotFound(f"{name} not found: {origin} path {path} {_why(path)}")
    wheel = bundled(name)
    if _executable(wheel):
        return wheel
    tried.append(f"{wheel} ({_why(wheel)})")
    on_path = shutil.which(name)
    if on_path is not None and not _is_console_script(Path(on_path)):
        return Path(on_path)
    tried.append(f"{name} on PATH ({'only this package’s launcher' if on_path else 'absent'})")
    raise BinaryNotFound(
        f"{name} not found; tried {', '.join(tried)}. Install the port-kafka-harness wheel or .deb, "
        f"or set {variable} to the executable (for a source build: .build/debug/{name})."
    )


def fixtures(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The fixtures directory to load: ``explicit``, ``$PORT_EMULATOR_FIXTURES``, the wheel's,
    the ``.deb``'s, or ``None`` (the emulator then loads ``./fixtures`` if there is one)."""
    for origin, value in (("given", explicit), ("$PORT_EMULATOR_FIXTURES", os.environ.get("PORT_EMULATOR_FIXTURES"))):
        if value:
            path = Path(value)
            if not path.is_dir():
                raise FileNotFoundError(f"fixtures directory not found: {origin} path {path} is not a directory")
            return path
    for path in (_PACKAGE / "fixtures", _DEB_FIXTURES):
        if path.is_dir():
            return path
    return None


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _why(path: Path) -> str:
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a file"
    if _is_console_script(path):
        return "is this package's console script, not the binary it runs"
    return "is not executable"


def _is_console_script(path: Path) -> bool:
    """True for pip's launcher of this package (a Python script), which would exec itself."""
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"port_kafka_harness" in head
