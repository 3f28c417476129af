"""A Playwright page in its own process, driven line by line over stdin/stdout (JSON).

The tests run the platform in-process under eventlet's monkey patching, which Playwright's
asyncio driver does not survive (its shutdown never returns). So the browser lives here, in a
plain interpreter, and :class:`tests.browser.conftest.RemotePage` sends it one command at a time.
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pages = {}
        messages: dict[str, list[str]] = {}  # each page's console (Chromium reports CSP violations there)
        for line in sys.stdin:
            command = json.loads(line)
            op, name = command.pop("op"), command.pop("page", "main")
            try:
                if op == "open":
                    context = browser.new_context(
                        locale="zh-CN",
                        viewport=command.get("viewport") or {"width": 390, "height": 844},
                        is_mobile=True,
                        has_touch=True,
                        java_script_enabled=command.get("javascript", True),
                    )
                    pages[name] = context.new_page()
                    messages[name] = []
                    pages[name].on("console", lambda m, into=messages[name]: into.append(f"{m.type}: {m.text}"))
                    result = None
                elif op == "url":
                    result = pages[name].url
                elif op == "goto":
                    response = pages[name].goto(command["url"])
                    result = response.status if response else None
                elif op == "click":
                    with pages[name].expect_navigation() if command.get("navigates") else _nothing():
                        pages[name].click(command["selector"])
                    result = None
                elif op == "fill":
                    result = pages[name].fill(command["selector"], command["value"])
                elif op == "files":
                    result = pages[name].set_input_files(command["selector"], command["paths"])
                elif op == "select":
                    result = pages[name].select_option(command["selector"], command["value"]) and None
                elif op == "cookie":
                    cookie = {"name": command["name"], "value": command["value"], "url": command["url"]}
                    result = pages[name].context.add_cookies([cookie])
                elif op == "text":
                    result = pages[name].inner_text(command["selector"])
                elif op == "count":
                    result = pages[name].locator(command["selector"]).count()
                elif op == "box":
                    result = pages[name].locator(command["selector"]).first.bounding_box()
                elif op == "style":
                    script = "(element, name) => getComputedStyle(element).getPropertyValue(name)"
                    result = pages[name].locator(command["selector"]).first.evaluate(script, command["property"])
                elif op == "console":
                    result = messages[name]
                elif op == "screenshot":
                    result = pages[name].screenshot(path=command["path"], full_page=True) and command["path"]
                elif op == "quit":
                    break
                else:
                    raise ValueError(f"unknown op {op}")
                reply = {"ok": True, "result": result}
            except Exception as exc:  # the test sees the browser's error as its own
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply, ensure_ascii=False), flush=True)
        browser.close()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
