"""The GitHub composite action (action.yml): its declaration, and its two steps run as a runner
runs them (bash, the INPUT_* variables, $GITHUB_OUTPUT), installing from a release laid out in
a directory instead of GitHub's downloads."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml
from conftest import DIST, REPOSITORY, Artifacts, venv

ACTION = REPOSITORY / "action.yml"


def test_the_action_declares_every_input_and_output_its_steps_use() -> None:
    text = ACTION.read_text()
    action = yaml.safe_load(text)
    assert action["runs"]["using"] == "composite"
    assert set(re.findall(r"inputs\.([a-z-]+)", text)) <= set(action["inputs"])
    assert {"version", "consumer", "install", "fixtures", "scenarios", "chaos", "security"} <= set(action["inputs"])
    assert {"junit", "json", "consumer-log"} <= set(action["outputs"])
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash"
        script = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/(scripts/action/[a-z]+\.sh)"', step["run"])
        assert script and (REPOSITORY / script.group(1)).is_file()
    # The README's workflow uses the action, not a Swift toolchain.
    readme = (REPOSITORY / "README.md").read_text()
    workflow = readme[readme.index("# .github/workflows/port-contract.yml"):]
    workflow = workflow[: workflow.index("```")]
    assert "uses: YOUR-ORG/port-kafka-harness@v" in workflow and "setup-swift" not in workflow


class Runner:
    """A stand-in for a GitHub runner's job: a fresh venv as its python3, and its files."""

    def __init__(self, directory: Path, artifacts: Artifacts, release_files: list[Path]) -> None:
        self.directory = directory
        release = directory / "release" / f"v{artifacts.version}"
        release.mkdir(parents=True)
        for file in release_files:
            shutil.copy(file, release)
        self.python = venv(directory / "venv")
        self.output = directory / "github-output"
        self.path_file = directory / "github-path"
        self.environment = {
            "PATH": f"{self.python.parent}:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_PATH": str(self.path_file),
            "RUNNER_TEMP": str(directory / "runner-temp"),
            "INPUT_VERSION": artifacts.version,
            "INPUT_INSTALL": "wheel",
            "INPUT_RELEASE_URL": f"file://{directory / 'release'}",
        }
        for key in ("PIP_CERT", "PIP_FIND_LINKS", "SSL_CERT_FILE"):
            if key in os.environ:
                self.environment[key] = os.environ[key]

    def step(self, name: str, **inputs: str) -> subprocess.CompletedProcess[str]:
        environment = self.environment | inputs
        return subprocess.run(["bash", str(REPOSITORY / "scripts" / "action" / f"{name}.sh")], cwd=self.directory,
                              env=environment, capture_output=True, text=True, timeout=600)

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines() if self.output.exists() else []
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def release_files(artifacts: Artifacts) -> list[Path]:
    return [DIST / "SHA256SUMS", artifacts.wheel]


def test_install_then_verify_port_consumer_hands_on_the_reports(
    artifacts: Artifacts, release_files: list[Path], tmp_path: Path
) -> None:
    runner = Runner(tmp_path, artifacts, release_files)
    installed = runner.step("install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    fixtures = runner.outputs()["fixtures"]
    assert fixtures.endswith("site-packages/port_kafka_harness/fixtures")
    assert runner.path_file.read_text().strip() == str(runner.python.parent)

    verified = runner.step(
        "verify",
        HARNESS_FIXTURES=fixtures,
        INPUT_ONLY="create_microservice deploy_service",
        INPUT_CONSUMER='port-consumer --handlers "$PORT_KAFKA_HARNESS_FIXTURES/handlers/handlers.json"',
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    outputs = runner.outputs()
    report = json.loads(Path(outputs["json"]).read_text())
    assert report["passed"] is True and report["scenarios"] >= 2 and report["failed"] == 0
    suite = ElementTree.parse(outputs["junit"]).getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == report["scenarios"] and not suite.findall(".//failure")
    assert "port-consumer" in Path(outputs["consumer-log"]).read_text()


def test_a_failing_consumer_fails_the_step_and_still_hands_on_the_reports(
    artifacts: Artifacts, release_files: list[Path], tmp_path: Path
) -> None:
    runner = Runner(tmp_path, artifacts, release_files)
    assert runner.step("install").returncode == 0
    fixtures = runner.outputs()["fixtures"]
    verified = runner.step("verify", HARNESS_FIXTURES=fixtures, INPUT_ONLY="create_microservice",
                           INPUT_CONSUMER="echo 'no consumer here' >&2; exit 3")
    assert verified.returncode == 1, verified.stdout + verified.stderr
    outputs = runner.outputs()
    assert json.loads(Path(outputs["json"]).read_text())["passed"] is False
    assert ElementTree.parse(outputs["junit"]).getroot().findall(".//failure")
    assert "no consumer here" in Path(outputs["consumer-log"]).read_text()


def test_bad_inputs_fail_with_what_to_fix(artifacts: Artifacts, release_files: list[Path], tmp_path: Path) -> None:
    runner = Runner(tmp_path, artifacts, release_files)
    unknown = runner.step("install", INPUT_VERSION="9.9.9")
    assert unknown.returncode == 1
    assert "cannot download" in unknown.stderr and "v9.9.9/SHA256SUMS" in unknown.stderr
    malformed = runner.step("install", INPUT_VERSION="latest")
    assert malformed.returncode == 1 and "version must look like 0.16.0 (got 'latest')" in malformed.stderr
    no_deb = runner.step("install", INPUT_INSTALL="deb")
    assert no_deb.returncode == 1 and "cannot download" in no_deb.stderr and ".deb" in no_deb.stderr
    wrong_kind = runner.step("install", INPUT_INSTALL="rpm")
    assert wrong_kind.returncode == 1 and "install must be wheel or deb (got 'rpm')" in wrong_kind.stderr
    no_consumer = runner.step("verify", HARNESS_FIXTURES=str(REPOSITORY / "fixtures"))
    assert no_consumer.returncode == 2 and "consumer is required" in no_consumer.stderr


def test_a_download_that_does_not_match_its_checksum_is_refused(
    artifacts: Artifacts, release_files: list[Path], tmp_path: Path
) -> None:
    runner = Runner(tmp_path, artifacts, release_files)
    with (tmp_path / "release" / f"v{artifacts.version}" / artifacts.wheel.name).open("ab") as wheel:
        wheel.write(b"tampered")
    refused = runner.step("install")
    assert refused.returncode == 1 and "does not match its SHA-256" in refused.stderr
    assert not (runner.python.parent / "port-emulator").exists()
