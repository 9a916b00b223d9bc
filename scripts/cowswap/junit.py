# SPDX-License-Identifier: GPL-2.0
"""JUnit XML of loaded runs (cowswap.rundata), for CI systems that show it
(GitLab's test report, Jenkins' junit step).

One <testsuite> per guest (<run>/<arch>/<variant>@<disks>), with one
<testcase> "verdict" (a failure when the run did not give what it had to,
its message the judge's problems) and one per check of its TAP: a FAIL is
a <failure> unless the run as a whole was as expected (the baseline must
fail its reproducer checks: there the line is reported as a pass, with
what happened in <system-out>), a SKIP is <skipped> with its reason and
which rule allowed it. A stress run is one testcase per kernel, a
distribution check one per kernel (cannot tell = skipped).
"""
import xml.etree.ElementTree as ET


def testcase(suite, classname, name, seconds=0, failure=None, skipped=None, out=None):
    tc = ET.SubElement(suite, "testcase", classname=classname, name=name,
                       time=str(seconds))
    if failure:
        msg, text = failure
        ET.SubElement(tc, "failure", message=msg, type="cowswap").text = text
    if skipped is not None:
        ET.SubElement(tc, "skipped", message=skipped)
    if out:
        ET.SubElement(tc, "system-out").text = out
    return tc


def guest_suite(root, run, g, result):
    label = f"{g['record']}/{g['column']}"
    suite = ET.SubElement(root, "testsuite", name=f"{run}/{label}")
    cls = f"cowswap.{run}.{g['record']}.{g['column']}"
    failure = None
    if not g["ok"]:
        failure = (f"{g['outcome'].upper()}, expected {g['expected'].upper()}",
                   "\n".join(g["problems"]) or "the outcome differs from the expected one")
    testcase(suite, cls, "verdict", g["seconds"], failure=failure,
             out=f"{label}: {g['outcome'].upper()}")
    for t in result.get("tests", []):
        diag = "\n".join(t.get("diag", []))
        if t["result"] == "SKIP":
            why = t.get("reason") or "no reason given"
            if t.get("allowed"):
                why += f" (allowed: {t['allowed']})"
            testcase(suite, cls, t["name"], skipped=why)
        elif t["result"] == "FAIL" and not g["ok"]:
            testcase(suite, cls, t["name"],
                     failure=(t.get("lost") or t.get("note") or t.get("reason") or "failed", diag))
        elif t["result"] == "FAIL":
            testcase(suite, cls, t["name"],
                     out=f"failed, as the {g['variant']} kernel must: "
                     f"{t.get('lost') or t.get('reason') or ''}\n{diag}".strip())
        else:
            testcase(suite, cls, t["name"])
    return suite


def stress_suite(root, run, runs):
    suite = ET.SubElement(root, "testsuite", name=f"{run}/stress")
    for r in runs:
        failure = ("not as expected", "\n".join(r["why"])) if not r["ok"] else None
        testcase(suite, f"cowswap.{run}.stress", f"{r['arch']}/{r['variant']}",
                 r["seconds"] or 0, failure=failure,
                 out=f"{r['outcome'].upper()}, {r['corruptions']} corruptions")


def distro_suite(root, run, rows):
    suite = ET.SubElement(root, "testsuite", name=f"{run}/distro")
    for r in rows:
        if r["verdict"] == "unknown":
            testcase(suite, f"cowswap.{run}.distro", r["record"], skipped=r["reason"])
        else:
            testcase(suite, f"cowswap.{run}.distro", r["record"],
                     out=f"{r['package']} {r['version']}: {r['verdict']}: {r['evidence']}")


def count(root):
    """Set tests/failures/skipped on every suite and on the root."""
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        n = {"tests": len(suite.findall("testcase")),
             "failures": len(suite.findall("testcase/failure")),
             "skipped": len(suite.findall("testcase/skipped"))}
        for k, v in n.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    return totals


def junit(runs):
    """The JUnit document (an ElementTree) of loaded runs."""
    root = ET.Element("testsuites", name="cowswap")
    for run in runs:
        for g in run["guests"]:
            guest_suite(root, run["run"], g, run["results"][g["guest"]])
        if run["stress"]:
            stress_suite(root, run["run"], run["stress"])
        if run["distro"]:
            distro_suite(root, run["run"], run["distro"])
    count(root)
    ET.indent(root)
    return ET.ElementTree(root)
