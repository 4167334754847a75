"""Real processes for the tests that need them: gunicorn app servers and the worker, each
started as in production (settings from the environment) in a process group of its own,
so a test can stop it politely or kill it outright; and browsers' sessions over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.factories import PASSWORD
from tests.mailsink import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def settings(database_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    """The environment of an app process: a shared secret key, database and files, as every
    app server and worker of one deployment has."""
    return {
        "DATABASE_URL": database_url,
        "TESSERA_SECRET_KEY": "live-secret",
        "TESSERA_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        **more,
    }


class Process:
    """A process of its own group, with its output in a log file to show when it fails."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """``kill -9`` the whole group (gunicorn's master and its workers) at once."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)
        self.popen = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class AppServer(Process):
    """gunicorn serving ``webapp:create_app()`` on a free local port. ``preload`` imports
    the app once in the master, so the workers start at once (for tests that restart
    the server many times)."""

    def __init__(
        self, env: dict[str, str], log: Path, *, workers: int = 4, preload: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                "--bind", f"127.0.0.1:{self.port}", "--no-control-socket"]  # fmt: skip
        args += ["--preload"] if preload else []
        super().__init__([*args, "webapp:create_app()"], env, log)

    def start(self, timeout: float = 60) -> AppServer:
        """Start and wait until /healthz answers 200."""
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, f"gunicorn exited:\n{self.output()}"
            try:  # the workers may still be starting: the master takes the connection
                if requests.get(f"{self.url}/healthz", timeout=timeout).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not answer in {timeout} s:\n{self.output()}")


class Worker(Process):
    """``flask --app webapp worker``, doing a round every ``interval`` seconds."""

    def __init__(self, env: dict[str, str], log: Path, interval: float = 0.2) -> None:
        flask = str(Path(sys.executable).parent / "flask")
        args = [flask, "--app", "webapp", "worker", "--interval", str(interval)]
        super().__init__(args, env, log)


def csrf_token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Browser(requests.Session):
    """One person's browser: a cookie jar, signed in with a form and a CSRF token, that
    posts forms with the token of its session. ``base`` is the server it talks to; point
    it at another server and the same cookie goes there."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.token = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> Browser:
        token = csrf_token(self.get(f"{self.base}/login", timeout=30).text)
        data = {"username": username, "password": password, "csrf_token": token}
        answer = self.post(f"{self.base}/login", data=data, allow_redirects=False, timeout=30)
        assert answer.status_code == 303, f"{username} could not sign in: {answer.status_code}"
        self.token = csrf_token(self.get(f"{self.base}/", timeout=30).text)  # a new session's
        return self

    def submit(self, path: str, timeout: float = 30, **kwargs) -> requests.Response:
        """POST a form with this session's CSRF token; redirects are not followed."""
        data = {"csrf_token": self.token, **kwargs.pop("data", {})}
        return self.post(
            f"{self.base}{path}", data=data, allow_redirects=False, timeout=timeout, **kwargs
        )
