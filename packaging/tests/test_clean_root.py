"""The .deb and the wheel in clean bookworm roots: no librdkafka, no Swift, nothing of ours."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import urllib.request
from pathlib import Path

from clean_root import Root
from conftest import DIST, REPOSITORY, Artifacts, Stopwatch, report, wait_for

C_LIBRARY_FILES = ("librdkafka", "libmicrohttpd", "libjq", "libyaml-0")
#: The line in README.md just before the wheel quick start's ```sh block.
WHEEL_QUICK_START = "<!-- dist-test: wheel quick start -->"
#: The wheel's file name as the README writes it (a release's); the built wheel replaces it.
WHEEL_NAME = re.compile(r"port_kafka_harness-\S+\.whl")


def readme_wheel_quick_start() -> list[str]:
    """The README's wheel quick start: the lines of the ```sh block right after its marker."""
    readme = (REPOSITORY / "README.md").read_text()
    assert WHEEL_QUICK_START in readme, f"README.md has no {WHEEL_QUICK_START} line"
    after = readme[readme.index(WHEEL_QUICK_START) + len(WHEEL_QUICK_START):]
    block = re.match(r"\s*```sh\n(.*?)\n```", after, re.DOTALL)
    assert block, f"README.md: no ```sh block right after {WHEEL_QUICK_START}"
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert commands and all(WHEEL_NAME.search(line) for line in commands if line.startswith("pip ")), commands
    return commands


def release_directory(root: Root, artifacts: Artifacts) -> str:
    """The artifacts laid out as a release (vVERSION/FILE) inside the root; returns its URL."""
    release = root.path / "release" / f"v{artifacts.version}"
    release.mkdir(parents=True)
    for file in (DIST / "SHA256SUMS", artifacts.deb, artifacts.wheel, artifacts.tarball):
        shutil.copy(file, release)
    return "file:///release"


def test_the_deb_installs_with_its_dependencies_and_serves(
    artifacts: Artifacts, tmp_path: Path, stop_after: list[subprocess.Popen[bytes]]
) -> None:
    with Root(tmp_path / "deb-root") as root:
        assert root.libraries(*C_LIBRARY_FILES) == []
        assert subprocess.run(root.command("command -v swift python3"), capture_output=True).returncode != 0
        url = release_directory(root, artifacts)
        shutil.copytree(REPOSITORY / "scripts" / "action", root.path / "action")
        # The GitHub Action's install step, as on a runner: curl, then apt installs the .deb.
        root.run("apt-get update -qq && apt-get install -y -qq curl ca-certificates >/dev/null")
        watch = Stopwatch()
        installed = root.run(f"INPUT_VERSION={artifacts.version} INPUT_INSTALL=deb INPUT_RELEASE_URL={url} "
                             "GITHUB_OUTPUT=/tmp/install.out bash /action/install.sh")
        report(f"clean bookworm root: the .deb and its dependencies installed by the action in {watch.seconds:.1f} s")
        assert f"port-emulator {artifacts.version} installed" in installed.stdout
        assert set(C_LIBRARY_FILES) <= {name.split(".so")[0] for name in root.libraries(*C_LIBRARY_FILES)}
        assert (root.path / "tmp" / "install.out").read_text() == "fixtures=/usr/share/port-kafka-harness/fixtures\n"

        serve = root.popen("exec port-emulator serve --port 0 --env-file /tmp/emulator.env "
                           "--fixtures /usr/share/port-kafka-harness/fixtures", tmp_path / "serve.log")
        stop_after.append(serve)  # stopped even when a check below fails
        try:
            wait_for(root.path / "tmp" / "emulator.env", serve, 60, "port-emulator serve in the clean root")
            lines = (root.path / "tmp" / "emulator.env").read_text().splitlines()
            settings = {key: shlex.split(value)[0] for key, _, value in (line.partition("=") for line in lines)}
            base = settings["PORT_API_BASE_URL"]
            with urllib.request.urlopen(base + "/_emulator/info", timeout=10) as answer:
                info = json.load(answer)
            assert info["orgID"] == "org_emulator" and info["kafka"] == "embedded"
        finally:
            serve.terminate()
            assert serve.wait(30) == 0, (tmp_path / "serve.log").read_text()

        # The action's verify step in the same root: port-consumer and the fixture handlers (bash).
        verified = root.run(
            "cd /tmp && GITHUB_OUTPUT=/tmp/verify.out RUNNER_TEMP=/tmp/runner "
            "HARNESS_FIXTURES=/usr/share/port-kafka-harness/fixtures INPUT_ONLY='create_microservice deploy_service' "
            "INPUT_CONSUMER='port-consumer --handlers \"$PORT_KAFKA_HARNESS_FIXTURES/handlers/handlers.json\"' "
            "bash /action/verify.sh"
        )
        report_json = json.loads((root.path / "tmp" / "runner" / "port-kafka-harness" / "report.json").read_text())
        assert report_json["passed"] is True and report_json["scenarios"] >= 2, verified.stdout


def test_the_readme_s_wheel_quick_start_runs_as_written_in_a_fresh_venv(artifacts: Artifacts, tmp_path: Path) -> None:
    """The commands of the README's wheel quick start, line by line, in a fresh venv in a clean
    root, from a directory laid out as a checkout (examples/python-consumer): only the wheel's
    file name is replaced by the built wheel's path."""
    commands = readme_wheel_quick_start()
    with Root(tmp_path / "wheel-root") as root:
        root.run("apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null")
        assert root.libraries(*C_LIBRARY_FILES) == []
        shutil.copy(artifacts.wheel, root.path / "tmp")
        shutil.copytree(REPOSITORY / "examples" / "python-consumer", root.path / "checkout" / "examples" / "python-consumer",
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        root.run("python3 -m venv /venv")
        installing = testing = 0.0
        output = ""
        for command in commands:
            line = WHEEL_NAME.sub(f"/tmp/{artifacts.wheel.name}", command)
            watch = Stopwatch()
            # As a user types it: the venv activated, in the checkout (bash drops the # comments).
            result = root.run(f"cd /checkout && . /venv/bin/activate && {line}")
            if command.startswith("pip "):
                installing += watch.seconds
            else:
                testing += watch.seconds
            output += result.stdout
        assert "3 passed" in output, output
        # Nothing of the harness came from the system: still no C library of ours in the root.
        assert root.libraries(*C_LIBRARY_FILES) == []
        report(f"clean bookworm root, fresh venv to a passing example suite: pip install {installing:.1f} s "
               f"+ pytest {testing:.1f} s = {installing + testing:.1f} s")
