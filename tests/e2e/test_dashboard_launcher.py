"""`telco dashboard` as an operator runs it: real processes, real signals, a real port.

Whatever stops the launcher (Ctrl-C, a service manager's SIGTERM, even SIGKILL), the Streamlit
server it started must be gone afterwards and the port free.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from .browser import free_port, subprocess_env, wait_until_healthy

STOP_SECONDS = 30


@pytest.fixture
def run_folder(tmp_path) -> Path:
    """The least the launcher accepts as a run (the server runs no page in these tests)."""
    (tmp_path / "run" / "tables").mkdir(parents=True)
    (tmp_path / "run" / "manifest.json").write_text("{}")
    return tmp_path / "run"


def port_is_free(port: int) -> bool:
    """A new server could listen on the port (SO_REUSEADDR, as servers bind: connections left
    in TIME_WAIT do not count, a listener does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def gone(pids: list[int]) -> bool:
    """No process left running with these ids (a zombie runs nothing and holds no port)."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def wait_gone(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pids):
            return True
        time.sleep(0.1)
    return gone(pids)


@contextmanager
def telco_dashboard(run_dir: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int,
                                                                     list[int]]]:
    """`telco dashboard DIR --port P` in its own process, as a shell would start it, once it
    serves: (launcher, port, its server processes). A failed test leaves nothing running."""
    port, log = free_port(), tmp_path / "launcher.log"
    with open(log, "w") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "telco_analytics.cli", "dashboard", str(run_dir),
             "--port", str(port)],
            env=subprocess_env(), stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path)
    servers: list[int] = []
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", launcher, log)
        servers += [p.pid for p in psutil.Process(launcher.pid).children(recursive=True)]
        assert servers, "the launcher started no server"
        yield launcher, port, servers
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for pid in servers:
            if not gone([pid]):
                psutil.Process(pid).kill()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_launcher_stops_its_server(run_folder, tmp_path, stop):
    with telco_dashboard(run_folder, tmp_path) as (launcher, port, servers):
        launcher.send_signal(stop)  # to the launcher alone, not to its process group
        assert launcher.wait(timeout=STOP_SECONDS) == 0
        assert wait_gone(servers, 1), "the server outlived its launcher"
        assert port_is_free(port)


STUBBORN = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *a: None)  # a server that does not stop when asked
    signal.signal(signal.SIGINT, lambda *a: None)
    print("ready", flush=True)
    time.sleep(120)
""")


def _serve_stub(tmp_path: Path, grace: float) -> tuple[subprocess.Popen, int]:
    """A launcher process (launch.serve) over a stub server that ignores the stop signals;
    (launcher, stub pid) once the stub is ready."""
    ready = tmp_path / "stub.out"
    script = (f"import sys; from telco_analytics.dashboard.launch import serve; "
              f"sys.exit(serve([sys.executable, '-c', {STUBBORN!r}], grace={grace}))")
    with open(ready, "w") as sink:
        launcher = subprocess.Popen([sys.executable, "-c", script], env=subprocess_env(),
                                    stdout=sink)
    deadline = time.monotonic() + STOP_SECONDS
    while "ready" not in ready.read_text():
        assert time.monotonic() < deadline and launcher.poll() is None, ready.read_text()
        time.sleep(0.05)
    (stub,) = psutil.Process(launcher.pid).children()
    return launcher, stub.pid


def test_a_server_that_ignores_the_signal_is_killed_after_the_grace(tmp_path):
    launcher, stub = _serve_stub(tmp_path, grace=1)
    started = time.monotonic()
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=STOP_SECONDS) == 128 + signal.SIGKILL
    assert 1 <= time.monotonic() - started < STOP_SECONDS
    assert gone([stub])


def test_the_server_ends_with_a_killed_launcher(run_folder, tmp_path):
    # SIGKILL reaches no handler: the server asked the kernel to be stopped with its parent
    with telco_dashboard(run_folder, tmp_path) as (launcher, port, servers):
        launcher.kill()
        launcher.wait(timeout=STOP_SECONDS)
        assert wait_gone(servers, STOP_SECONDS), "the server outlived its killed launcher"
        assert port_is_free(port)
