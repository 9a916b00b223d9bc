# SPDX-License-Identifier: GPL-2.0
"""Headless Chromium (Debian's chromium, scripts/deps.sh --browser) for the
report's browser test, and the screenshot in docs/:

  python3 scripts/tests/browser.py --screenshot docs/report.png

renders the fixture matrix run (scripts/tests/data/results/fixture-matrix)
with report.py and photographs its index.html.
"""
import os
import shutil
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
FIXTURE = os.path.join(HERE, "data", "results", "fixture-matrix")


def chromium():
    """The browser's path, or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def in_ci():
    return bool(os.environ.get("CI") or os.environ.get("COWSWAP_CI"))


def run(args, timeout=120):
    """Chromium with a fresh profile directory; its stdout."""
    exe = chromium()
    if not exe:
        raise FileNotFoundError("chromium not installed (scripts/deps.sh --browser)")
    with tempfile.TemporaryDirectory(prefix="cowswap-chromium.") as profile:
        p = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"chromium exited with {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


def dump_dom(html_path):
    """The DOM Chromium built from the page (after its parser and scripts)."""
    return run(["--dump-dom", "file://" + os.path.abspath(html_path)])


def screenshot(html_path, png, size="900,420"):
    run([f"--window-size={size}", f"--screenshot={os.path.abspath(png)}",
         "file://" + os.path.abspath(html_path)])
    return png


def render_fixture(out, run=FIXTURE):
    """report.py html over one fixture run into out; index.html's path."""
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "report.py"), "html",
                    "--run", run, "--out", out], check=True, capture_output=True, text=True)
    return os.path.join(out, "index.html")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--screenshot":
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        screenshot(render_fixture(tmp), sys.argv[2])
    print(f"browser.py: wrote {sys.argv[2]}")
