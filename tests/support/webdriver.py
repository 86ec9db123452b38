"""Small WebDriver and /proc helpers shared by the package test and the launch benchmark
(both drive the app through tauri-driver with nothing but the standard library)."""

import http.client
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# Rendered, not merely in the DOM. Polled through execute/sync rather than "find element":
# a failing find (404) through tauri-driver can wedge HTTP clients.
RENDERED_SCRIPT = "const el = document.querySelector(arguments[0]); return !!el && el.getClientRects().length > 0;"


def webdriver(method, url, body=None, timeout=60, repeatable=True):
    """The command's value. tauri-driver now and then forwards a command on a kept-alive
    connection WebKitWebDriver has just closed, and drops it ("connection reset by peer"
    in its log, every process alive); a `repeatable` command, one that changes nothing
    when sent twice, is then sent once more."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in (1, 2):
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response).get("value")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {url}: HTTP {error.code}: {error.read()[:500]!r}") from None
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if not repeatable or attempt == 2:
                raise
            print(f"webdriver: {method} {url} was dropped on its way; sending it again", file=sys.stderr)
            time.sleep(0.2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tauri-driver exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def children_map():
    """ppid -> [pid] for every process, from /proc/*/stat."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name may hold spaces and parentheses; the parent's pid follows the last ')'.
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    return children


def descendants(pid, children=None):
    children = children_map() if children is None else children
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None  # gone meanwhile
