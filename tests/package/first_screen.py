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
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from webdriver import RENDERED_SCRIPT, descendants, exe, free_port, wait_for_port, webdriver  # noqa: E402

READY = '[data-testid="empty-state"]'
TEXT = "return document.querySelector(arguments[0])?.textContent ?? null;"


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
        session = webdriver("POST", f"{base}/session", caps, repeatable=False)["sessionId"]
        run = lambda script, *args: webdriver("POST", f"{base}/session/{session}/execute/sync",
                                              {"script": script, "args": list(args)}, timeout=10)
        deadline = time.monotonic() + 60
        while not run(RENDERED_SCRIPT, READY):
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
