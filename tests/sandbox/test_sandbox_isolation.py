"""A bwrap job cannot reach the network, the worker's secrets or home, nor write its inputs."""

from __future__ import annotations

import errno
import json
import os
import socket
import uuid
from pathlib import Path

import pytest

from sandbox import Mount, Outcome
from tests.builders.sandbox_jobs import PROBE, run_notebook

pytestmark = pytest.mark.slow


def test_the_job_reaches_no_network_no_secret_no_home_and_cannot_write_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = uuid.uuid4().hex
    monkeypatch.setenv("WORKER_SECRET", secret)
    home_file = Path.home() / f"sandbox-test-{secret}.txt"
    home_file.write_text(secret)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    data = tmp_path / "data"
    data.mkdir()
    try:
        cell = PROBE.replace("PORT", str(server.getsockname()[1])).replace("HOME_FILE", repr(str(home_file)))
        result, output, _ = run_notebook(tmp_path, "bwrap", cell, mounts=(Mount(source=data, name="data"),))
    finally:
        home_file.unlink()
        server.close()
    assert result.outcome is Outcome.OK, result.message
    found = json.loads((output / "probe.json").read_text())
    for name in ("http", "dns", "raw", "worker_port", "pid1_environ", "home_file", "write_data"):
        assert found[name].startswith("failed"), (name, found[name])
    assert secret not in json.dumps(found)
    assert "WORKER_SECRET" not in found["environ"]
    assert not (data / "new.txt").exists()


def test_a_symlink_in_output_is_left_as_a_link_that_readers_must_not_follow(tmp_path: Path) -> None:
    result, output, _ = run_notebook(tmp_path, "bwrap", "import os; os.symlink('/etc/hostname', 'output/answer.csv')")
    assert result.outcome is Outcome.OK, result.message
    link = output / "answer.csv"
    assert link.is_symlink()
    # Grading opens outputs with O_NOFOLLOW, so a link to a host file is refused rather than read.
    with pytest.raises(OSError) as refused:
        os.open(link, os.O_RDONLY | os.O_NOFOLLOW)
    assert refused.value.errno == errno.ELOOP
