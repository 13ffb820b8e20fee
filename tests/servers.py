"""Servers that tests start as subprocesses on 127.0.0.1 (localstripe, moto's S3 server):
a free port, start and wait until the server answers, stop at the end."""

import contextlib
import importlib
import os
import socket
import subprocess
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket is closed


def stop(process, timeout: float = 10) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(probe_url: str, process, name: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(probe_url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


@contextlib.contextmanager
def server_process(command: list[str], probe_url: str, name: str, seconds: float = 30):
    """Run ``command`` until the block ends, once ``probe_url`` answers 200."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(probe_url, process, name, seconds)
        yield process
    finally:
        stop(process)


def require(module: str, package: str, purpose: str) -> None:
    """Skip the test when ``module`` cannot be imported, except under ``CI=true``, where
    it must be there (requirements-dev.txt installs ``package``)."""
    try:
        importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{package} is not installed; CI must run {purpose} (requirements-dev.txt)")
        pytest.skip(f"{package} is not installed (pip install -r requirements-dev.txt)")
