"""The real server for the measures that go over the network: gunicorn as the Procfile runs it (2 workers of 4
threads), on a free port of 127.0.0.1, serving the app plus one trivial endpoint, and a phone talking to it."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import click
import httpx
from flask import Flask

from app import ROOT
from app.demo.generate import PASSWORD

WORKERS, THREADS = 2, 4
FLOOR = "/bench/floor"
PHONE_HEADERS = {
    "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0 Mobile Safari/537.36 dealer-leads-bench",
    "Accept-Encoding": "gzip, br",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
}


def floor_app() -> Flask:
    """The app as the Procfile serves it, plus FLOOR: a trivial endpoint through the same Flask, hooks and
    server, so that its requests per second are the framework's floor. Only the benchmark's gunicorn has it."""
    from app import create_app

    app = create_app()
    app.add_url_rule(FLOOR, "bench_floor", lambda: "ok")
    return app


class Gunicorn:
    """`with Gunicorn(app) as url:` gunicorn serving this app's database and secrets on 127.0.0.1."""

    def __init__(self, app: Flask):
        self.environment = {
            **os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
            "INSTANCE_PATH": app.instance_path, "APP_ENV": app.config["APP_ENV"]}
        self.process = None

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", str(THREADS),
             "--bind", f"127.0.0.1:{port}", "app.benchmark.server:floor_app()"],
            cwd=ROOT, env=self.environment, stdout=self.log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(url + FLOOR, timeout=2).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise click.ClickException(f"gunicorn did not start:\n{self._output()}")

    def __exit__(self, *_exception) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def _output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]


class Phone:
    """A phone's browser talking to the server: its headers, its cookies (kept by hand: the production cookies
    are Secure and this is plain http on loopback), and the bytes it received."""

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, headers=PHONE_HEADERS, timeout=30)
        self.cookies: dict[str, str] = {}

    def fetch(self, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
        """Send a request; the answer is read whole (decompressed in .content), its wire bytes counted."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        answer = self.client.request(method, path, headers=headers, **kwargs)
        for cookie in answer.headers.get_list("set-cookie"):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value and "expires=thu, 01 jan 1970" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return answer

    def sign_in(self, email: str) -> httpx.Response:
        """Sign in through the form, as a person does; returns the sign-in page's answer (with its bytes)."""
        page = self.fetch("GET", "/signin")
        answer = self.fetch("POST", "/signin", data={"identifier": email, "password": PASSWORD,
                                                      "csrf_token": token(page.text)})
        if not answer.is_redirect or answer.headers["location"].startswith("/signin"):
            raise click.ClickException(f"{email} could not sign in on gunicorn ({answer.status_code})")
        return page

    def close(self) -> None:
        self.client.close()


def token(page: str) -> str:
    """The CSRF token a page carries: in its forms, and for htmx in the hx-headers."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    if not found:
        raise click.ClickException("no CSRF token on the page")
    return found.group(1)


def body_bytes(answer: httpx.Response) -> int:
    """The bytes of the answer's body as they crossed the wire (compressed, if it was)."""
    return answer.num_bytes_downloaded


def header_bytes(answer: httpx.Response) -> int:
    """The bytes of the answer's status line and headers, as HTTP/1.1 sends them."""
    return len(f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}\r\n") + sum(
        len(name) + len(value) + 4 for name, value in answer.headers.raw) + 2
