"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) through Playwright.

Playwright runs in a child process (``driver.py``): the in-process platform needs eventlet's
monkey patching, under which Playwright's driver cannot shut down. Screenshots go to
``tests/browser/screenshots/`` (ignored by git) so a person can look at what residents see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")


class BrowserError(AssertionError):
    pass


class Browser:
    """One Chromium; ``page(name)`` opens a fresh context (its own cookies, like another phone)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "driver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def send(self, **command: object) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BrowserError(f"the browser driver exited ({self.proc.wait(timeout=10)})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise BrowserError(reply["error"])
        return reply["result"]

    def page(self, name: str, javascript: bool = True, viewport: dict | None = None) -> RemotePage:
        """``viewport``: e.g. {"width": 360, "height": 800}, a small phone (default 390×844)."""
        self.send(op="open", page=name, javascript=javascript, viewport=viewport)
        return RemotePage(self, name)

    def close(self) -> None:
        try:
            self.send(op="quit")
        except (BrowserError, BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class RemotePage:
    """The few Playwright page calls the tests use, run in the driver process."""

    def __init__(self, browser: Browser, name: str) -> None:
        self.browser = browser
        self.name = name

    def _do(self, op: str, **args: object) -> object:
        return self.browser.send(op=op, page=self.name, **args)

    def url(self) -> str:
        return self._do("url")

    def goto(self, url: str) -> int:
        return self._do("goto", url=url)

    def click(self, selector: str, navigates: bool = False) -> None:
        self._do("click", selector=selector, navigates=navigates)

    def fill(self, selector: str, value: str) -> None:
        self._do("fill", selector=selector, value=value)

    def files(self, selector: str, paths: list[str]) -> None:
        self._do("files", selector=selector, paths=paths)

    def select(self, selector: str, value: str) -> None:
        self._do("select", selector=selector, value=value)

    def cookie(self, url: str, name: str, value: str) -> None:
        self._do("cookie", url=url, name=name, value=value)

    def text(self, selector: str) -> str:
        return self._do("text", selector=selector)

    def count(self, selector: str) -> int:
        return self._do("count", selector=selector)

    def box(self, selector: str) -> dict:
        return self._do("box", selector=selector)

    def style(self, selector: str, name: str) -> str:
        """The computed value of CSS property ``name`` of the first ``selector`` (needs JavaScript on)."""
        return self._do("style", selector=selector, property=name)

    def console(self) -> list[str]:
        """What the page wrote to the console ("error: Refused to apply inline style …" for a CSP violation)."""
        return self._do("console")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self._do("screenshot", path=str(path))
        return path


@pytest.fixture(scope="session")
def browser():
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install chromium"
    chromium = Browser()
    yield chromium
    chromium.close()
