#!/usr/bin/env python3
"""Starts an installed Grantkeeper through tauri-driver and WebKitWebDriver, checks its
first screen and saves a screenshot of it:

    tests/support/session.sh --xvfb -- python3 tests/package/first_screen.py APP VERSION SCREENSHOT

APP is the binary to start (/usr/bin/grantkeeper-app), VERSION what the footer must say.
The app gets this process's environment, so the caller chooses HOME and the data directory.
Passes when the Connections page shows its empty state (rendered only after the first
IPC call answered), the footer names VERSION, and the process is APP itself.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY = '[data-testid="empty-state"]'
RENDERED = "const el = document.querySelector(arguments[0]); return !!el && el.getClientRects().length > 0;"
TEXT = "return document.querySelector(arguments[0])?.textContent ?? null;"


def webdriver(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response).get("value")
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {url}: HTTP {error.code}: {error.read()[:500]!r}") from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, driver, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            raise RuntimeError(f"tauri-driver exited with {driver.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None  # gone meanwhile


def descendants(pid):
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name may hold spaces and parentheses; the parent's pid follows the last ')'.
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def check(app, version, screenshot):
    driver_bin = shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")
    port, native_port = free_port(), free_port()
    driver = subprocess.Popen([driver_bin, "--port", str(port), "--native-port", str(native_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base, session = f"http://127.0.0.1:{port}", None
    try:
        wait_for_port(port, driver)
        wait_for_port(native_port, driver)
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}}
        session = webdriver("POST", f"{base}/session", caps)["sessionId"]
        run = lambda script, *args: webdriver("POST", f"{base}/session/{session}/execute/sync",
                                              {"script": script, "args": list(args)}, timeout=10)
        deadline = time.monotonic() + 60
        while not run(RENDERED, READY):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the first screen did not show {READY} within 60 s")
            time.sleep(0.1)
        if app not in {exe(pid) for pid in descendants(driver.pid)}:
            raise RuntimeError(f"no process under tauri-driver runs {app}: it started something else")
        footer = run(TEXT, '[data-testid="app-version"]')
        if footer != f"Grantkeeper {version}":
            raise RuntimeError(f"the footer says {footer!r}, expected 'Grantkeeper {version}'")
        time.sleep(1)  # a screenshot right after rendering can show the previous frame
        png = base64.b64decode(webdriver("GET", f"{base}/session/{session}/screenshot"))
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        Path(screenshot).write_bytes(png)
    finally:
        # Noted before the session ends: ending it orphans some of them (the tray keeps the app).
        tree = descendants(driver.pid)
        if session:
            try:
                webdriver("DELETE", f"{base}/session/{session}", timeout=15)
            except (RuntimeError, OSError):
                pass
        os.killpg(driver.pid, signal.SIGTERM)
        driver.wait(timeout=10)
        for pid in tree:  # whatever left the process group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    app, version, screenshot = sys.argv[1:]
    try:
        check(app, version, screenshot)
    except RuntimeError as error:
        sys.exit(f"first screen of {app}: {error}")
    print(f"first screen of {app}: empty state and 'Grantkeeper {version}' shown; screenshot {screenshot}")


if __name__ == "__main__":
    main()
