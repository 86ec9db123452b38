#!/usr/bin/env python3
"""Launch-to-interactive time and idle memory of Grantkeeper next to a bare Tauri 2 window.

Run it inside a private desktop session (own Xvfb display, D-Bus and keyring):

    tests/support/session.sh --xvfb -- python3 bench/launch-and-memory.py [--build] [--runs N] [--installed] [--breakdown] [--connections N] [--idle-cpu SECONDS]

Each run starts tauri-driver, asks it for a session (which launches the binary) and
polls the page until the ready marker is rendered; that interval is the launch time.
After an idle pause it sums RSS and PSS over the app process and every process below
it (WebKitWebProcess, WebKitNetworkProcess); with --idle-cpu S it then sums the CPU
time those processes use over S more idle seconds. It prints figures, it asserts nothing.
With --breakdown it also prints when each start-up step happened, from the app's own
start-up marks (`GRANTKEEPER_LOG=startup=debug`) and the page's performance timeline.
Each Grantkeeper run starts from a copy of a data directory the CLI made once, as every
start after the first does (--first-start: an empty one, so the database is made and
migrated during the launch); with --connections N it holds N connections (API keys).
See BENCHMARKS.md for how to read them.
"""

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
from webdriver import RENDERED_SCRIPT, children_map, descendants, exe, free_port, wait_for_port, webdriver  # noqa: E402
RELEASE = ROOT / "target" / "release"

# name -> (binary, CSS selector of the element that says "the UI answers").
# Grantkeeper shows one of these only after its first IPC call (list_connections) returned.
APPS = {
    "Grantkeeper": (RELEASE / "grantkeeper-app", '[data-testid="empty-state"], [data-testid="connection-row"]'),
    "bare Tauri": (RELEASE / "bare-window", "#ready"),
}
# With --installed, the app as the .deb installs it (scripts/package.sh), measured alongside.
INSTALLED = ("Grantkeeper deb", (Path("/usr/bin/grantkeeper-app"), APPS["Grantkeeper"][1]))

BUILD_COMMANDS = [
    ["npm", "run", "--prefix", "ui", "build"],
    ["cargo", "build", "--release", "--features", "custom-protocol", "--bin", "grantkeeper-app"],
    ["cargo", "build", "--release", "-p", "bare-window", "--features", "bare-window/custom-protocol"],
    ["cargo", "build", "--release", "-p", "grantkeeper-cli"],
]



def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def rss_pss_kib(pid):
    """RSS and PSS of one process from smaps_rollup (PSS shares each page among its users)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        match = re.match(r"(Rss|Pss):\s+(\d+) kB", line)
        if match:
            fields[match[1]] = int(match[2])
    return fields["Rss"], fields["Pss"]


def cpu_seconds(pids):
    """User and system CPU time the processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


# What the page knows of its own start: when navigation began (timeOrigin), when the
# document was parsed, WebKit's first contentful paint, and the marks the UI sets
# (ui/src/main.ts, dataCache). Read once, just after the ready marker, so a mark set
# later counts only in the runs where the read came after it.
TIMELINE_SCRIPT = """
const nav = performance.getEntriesByType("navigation")[0];
const steps = {"page: navigation start": 0};
if (nav) steps["page: DOMContentLoaded"] = nav.domContentLoadedEventEnd;
for (const paint of performance.getEntriesByType("paint")) steps["page: " + paint.name] = paint.startTime;
for (const mark of performance.getEntriesByType("mark")) steps["page: " + mark.name] = mark.startTime;
return {origin: performance.timeOrigin, steps};
"""
STARTUP_MARK = re.compile(r'step="([^"]+)".*?epoch_ms=([\d.]+)')


def startup_steps(log_text, t0_epoch_ms):
    """The app's start-up marks (src-tauri/src/startup.rs) in ms after the launch request."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log_text)
    steps = {}
    for step, at in STARTUP_MARK.findall(plain):
        steps.setdefault(f"app: {step}", float(at) - t0_epoch_ms)  # a step's first time
    return steps


def seeded_home(count):
    """A data directory the CLI has made (its database migrated, as on every start after
    the first), with `count` API-key connections saved through it."""
    cli = next((path for path in (RELEASE / "grantkeeper", ROOT / "target" / "debug" / "grantkeeper")
                if path.exists()), None)
    if cli is None:
        sys.exit("The data directory each run starts from is made by the CLI: cargo build --release -p grantkeeper-cli")
    home = tempfile.mkdtemp(prefix="grantkeeper-bench-seed.")
    env = dict(os.environ, GRANTKEEPER_HOME=home, GRANTKEEPER_KEYCHAIN_SERVICE="grantkeeper-bench")
    subprocess.run([cli, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
    for index in range(1, count + 1):
        subprocess.run([cli, "keys", "add", "openai", "--key-stdin", "--no-check", "--name", f"Key {index:03}"],
                       input=f"sk-bench-canary-{index:03}".encode(), env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return home


def measure(name, binary, selector, idle, breakdown=False, seed=None, idle_cpu=0):
    """One launch: returns (launch seconds, RSS MiB, PSS MiB, process names, start-up
    steps in ms after the launch request: empty without `breakdown`, CPU seconds used
    over `idle_cpu` seconds after the memory reading: None without it)."""
    env = dict(os.environ)
    home = None
    if name.startswith("Grantkeeper"):
        # A fresh, empty data directory each run, and its own keychain service name.
        home = tempfile.mkdtemp(prefix="grantkeeper-bench.")
        if seed:
            shutil.copytree(seed, home, dirs_exist_ok=True)
        env.update(GRANTKEEPER_HOME=home, GRANTKEEPER_KEYCHAIN_SERVICE="grantkeeper-bench")
        if breakdown:
            env["GRANTKEEPER_LOG"] = "warn,startup=debug"
    log = tempfile.TemporaryFile() if breakdown else subprocess.DEVNULL
    port, native_port = free_port(), free_port()
    driver = subprocess.Popen(
        [shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver"),
         "--port", str(port), "--native-port", str(native_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
        start_new_session=True,  # its own process group, so teardown can signal all of it
    )
    base = f"http://127.0.0.1:{port}"
    session, tree = None, []
    try:
        # tauri-driver starts WebKitWebDriver on the native port; both must answer first.
        wait_for_port(port, driver)
        wait_for_port(native_port, driver)

        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": str(binary)}}}}
        t0_epoch_ms = time.time() * 1e3
        t0 = time.perf_counter()  # just before the request that launches the binary
        session = webdriver("POST", f"{base}/session", caps, repeatable=False)["sessionId"]
        while True:
            try:
                if webdriver("POST", f"{base}/session/{session}/execute/sync",
                             {"script": RENDERED_SCRIPT, "args": [selector]}, timeout=10):
                    break
            except RuntimeError:
                pass  # the page may still be navigating; keep polling
            if time.perf_counter() - t0 > 60:
                raise RuntimeError(f"{name}: no {selector!r} within 60 s")
            time.sleep(0.005)
        launch = time.perf_counter() - t0
        steps = {}
        if breakdown:
            steps["ready marker rendered"] = launch * 1e3
            try:
                timeline = webdriver("POST", f"{base}/session/{session}/execute/sync",
                                     {"script": TIMELINE_SCRIPT, "args": []})
                origin = timeline["origin"] - t0_epoch_ms
                steps.update((step, origin + at) for step, at in timeline["steps"].items())
            except (RuntimeError, OSError) as error:  # the breakdown misses a run, the figures don't
                print(f"{name}: no page timeline this run ({error})", flush=True)

        time.sleep(idle)  # let start-up work and caches settle before reading memory
        children = children_map()
        tree = descendants(driver.pid, children)
        apps = [pid for pid in tree if exe(pid) == str(binary)]
        if len(apps) != 1:
            raise RuntimeError(f"{name}: expected one {binary.name} process under the driver, found {apps}")
        processes = [apps[0], *descendants(apps[0], children)]
        rss = pss = 0
        for pid in processes:
            r, p = rss_pss_kib(pid)
            rss, pss = rss + r, pss + p
        names = sorted(comm(pid) for pid in processes)
        cpu = None
        if idle_cpu:
            before = cpu_seconds(processes)
            time.sleep(idle_cpu)
            cpu = cpu_seconds(processes) - before
        return launch, rss / 1024, pss / 1024, names, steps, cpu
    finally:
        # Note every process before the session ends: ending it orphans some of them.
        tree = set(tree) | set(descendants(driver.pid, children_map()))
        if session:
            try:
                webdriver("DELETE", f"{base}/session/{session}", timeout=15)
            except (RuntimeError, OSError):
                pass
        try:
            os.killpg(driver.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
        # Anything that left the process group (or ignored SIGTERM) goes by pid.
        deadline = time.monotonic() + 5
        while (left := [pid for pid in tree if alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        if left := [f"{pid} {comm(pid)}" for pid in tree if alive(pid)]:
            raise RuntimeError(f"processes left after the run: {left}")
        if home:
            shutil.rmtree(home, ignore_errors=True)
        if breakdown:
            log.seek(0)
            steps.update(startup_steps(log.read().decode(errors="replace"), t0_epoch_ms))
            log.close()


def machine_facts():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    lock = (ROOT / "Cargo.lock").read_text()
    tauri = re.search(r'name = "tauri"\nversion = "([^"]+)"', lock)
    webkit = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"],
                            capture_output=True, text=True).stdout or "?"
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    facts = [
        ("git HEAD at run time", commit),
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("CPU model", cpu),
        ("memory", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("kernel", platform.release()),
        ("tauri (Cargo.lock)", tauri[1] if tauri else "?"),
        ("libwebkit2gtk-4.1", webkit),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", os.environ.get("WEBKIT_DISABLE_DMABUF_RENDERER", "unset")),
        # Either, set, takes tens of MiB off both apps (BENCHMARKS.md, 2026-12-06).
        ("WEBKIT_DISABLE_COMPOSITING_MODE", os.environ.get("WEBKIT_DISABLE_COMPOSITING_MODE", "unset")),
        # Unset, Grantkeeper sets 1 for itself and the bare window paints on the GPU.
        ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", os.environ.get("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "unset")),
    ]
    for name, (binary, _) in APPS.items():
        # target/release is cargo's release profile; the profile also strips, which
        # `file` confirms (a debug build says "with debug_info, not stripped").
        kind = subprocess.run(["file", "-b", binary], capture_output=True, text=True).stdout
        stripped = "stripped" if kind.rstrip().endswith(", stripped") else "NOT stripped"
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(binary.stat().st_mtime))
        size = binary.stat().st_size / 2**20
        where = binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary
        facts.append((f"{name} binary", f"{where} ({stripped}, {size:.1f} MiB, built {built})"))
    return facts


def spread(values, fmt):
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="build the UI and both release binaries first")
    parser.add_argument("--runs", type=int, default=5, help="launches per app (default 5)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading memory (default 5)")
    parser.add_argument("--installed", action="store_true", help="also measure /usr/bin/grantkeeper-app (the .deb's)")
    parser.add_argument("--connections", type=int, default=0,
                        help="start Grantkeeper with this many connections (default none)")
    parser.add_argument("--first-start", action="store_true",
                        help="start Grantkeeper on an empty data directory, as the first time (migrations included)")
    parser.add_argument("--idle-cpu", type=float, default=0, metavar="SECONDS",
                        help="also measure the CPU time used over this many idle seconds after the memory reading")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print when each start-up step happened (median ms after the launch request)")
    args = parser.parse_args()
    if args.installed:
        APPS.update([INSTALLED])

    if os.environ.get("GRANTKEEPER_TEST_SESSION") != "1" or not os.environ.get("DISPLAY"):
        sys.exit("Run this inside the test session (own display, D-Bus and keyring):\n"
                 "  tests/support/session.sh --xvfb -- python3 bench/launch-and-memory.py [--build]")
    if args.build:
        for command in BUILD_COMMANDS:
            print("$", " ".join(command), flush=True)
            subprocess.run(command, cwd=ROOT, check=True)
    for binary, _ in APPS.values():
        if not binary.exists():
            sys.exit(f"{binary} is missing; add --build")

    if args.first_start and args.connections:
        sys.exit("--first-start starts with no connections; leave out --connections")
    seed = None if args.first_start else seeded_home(args.connections)
    for name, value in machine_facts():
        print(f"{name:32} {value}")
    print(f"{'Grantkeeper connections':32} {args.connections}")
    print(f"runs per app {args.runs} after one discarded warm-up launch each, idle {args.idle:g} s "
          "before memory; launches alternate")
    print("load average before %.2f %.2f %.2f\n" % os.getloadavg())

    # The first launch in a session pays once for things both apps share (the
    # accessibility bus is D-Bus-activated on demand, cold file and font caches).
    for name, (binary, selector) in APPS.items():
        launch, rss, pss, _, _, _ = measure(name, binary, selector, args.idle, seed=seed)
        print(f"warm-up {name:12} launch {launch:6.3f} s   RSS {rss:6.1f} MiB   PSS {pss:6.1f} MiB", flush=True)

    results = {name: [] for name in APPS}
    steps = {name: [] for name in APPS}
    for run in range(1, args.runs + 1):
        for name, (binary, selector) in APPS.items():  # alternate so drift hits both alike
            launch, rss, pss, names, run_steps, cpu = measure(
                name, binary, selector, args.idle, args.breakdown, seed, args.idle_cpu)
            results[name].append((launch, rss, pss, cpu))
            steps[name].append(run_steps)
            idle_cpu = f"   idle CPU {cpu:6.3f} s" if args.idle_cpu else ""
            print(f"run {run} {name:12} launch {launch:6.3f} s   RSS {rss:6.1f} MiB   PSS {pss:6.1f} MiB{idle_cpu}   "
                  f"[{', '.join(names)}]", flush=True)

    print("\nload average after %.2f %.2f %.2f (other work on the machine skews launch times)" % os.getloadavg())
    columns = [("launch to interactive, s", 0, ".3f"), ("RSS, MiB", 1, ".1f"), ("PSS, MiB", 2, ".1f")]
    if args.idle_cpu:
        columns.append((f"CPU over {args.idle_cpu:g} s idle, s", 3, ".3f"))
    print(f"\n{'median (min–max)':16}" + "".join(f"{title:>28}" for title, _, _ in columns))
    for name, rows in results.items():
        print(f"{name:16}" + "".join(f"{spread([r[i] for r in rows], fmt):>28}" for _, i, fmt in columns))
    gk, bare = results["Grantkeeper"], results["bare Tauri"]
    ratios = [ratio(statistics.median(r[i] for r in gk), statistics.median(r[i] for r in bare)) for _, i, _ in columns]
    print(f"{'Grantkeeper/bare':16}" + "".join(f"{f'{ratio:.2f}×':>28}" for ratio in ratios))
    if args.breakdown:
        print_breakdown(steps)
    if seed:
        shutil.rmtree(seed, ignore_errors=True)


def ratio(value, base):
    return value / base if base else float("inf") if value else 1.0


def print_breakdown(steps):
    """Each app's start-up steps in the order they happen, by median ms after the launch
    request (a step missing from some runs is the median of those it appeared in)."""
    for name, runs in steps.items():
        names = {step for run in runs for step in run}
        medians = {step: statistics.median(run[step] for run in runs if step in run) for step in names}
        print(f"\n{name}: start-up steps, median ms after the launch request ({len(runs)} runs)")
        previous = 0.0
        for step, at in sorted(medians.items(), key=lambda item: item[1]):
            print(f"  {at:8.1f}  (+{at - previous:6.1f})  {step}")
            previous = at


if __name__ == "__main__":
    main()
