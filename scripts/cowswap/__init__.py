# SPDX-License-Identifier: GPL-2.0
"""cowswap's Python tooling, one package: the judge of a QEMU console log
(judge), the matrix summary and the comparison of two runs (results), the
bench, stress and distribution reports, LAVA job generation (lava), the
report pages and the docs' generated tables (report), and two helpers of
the patch checks (own_words, build_profile). The thin scripts/*.py
wrappers are their command lines; the shell library is scripts/lib/lib.sh.
"""
import os
import subprocess

# The top of the repository (scripts/cowswap/ is two levels down).
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB_SH = os.path.join(TOP, "scripts", "lib", "lib.sh")


def out_dir():
    """$COWSWAP_OUT, or out/ at the top, as scripts/lib/lib.sh has it."""
    return os.environ.get("COWSWAP_OUT") or os.path.join(TOP, "out")


def lib_sh(*argv, prog="results.py"):
    """Run a scripts/lib/lib.sh function; (exit status, stdout, last stderr line)."""
    r = subprocess.run(["bash", "-c", 'lib=$1; shift; . "$lib" && "$@"', prog, LIB_SH, *argv],
                       capture_output=True, text=True)
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    return r.returncode, r.stdout, err[-1] if err else ""
