# SPDX-License-Identifier: GPL-2.0
"""The nightly run's stage table (out/results/nightly-<date>/nightly.json).

The whole nightly tier takes longer than one sitting on two cores, so a
run may be made of several invocations of nightly.sh: NIGHTLY_RUN=<run>
continues an existing run, and every stage keeps the commit it ran on and
when it finished. A stage run again replaces its earlier entry.

  python3 -m cowswap.nightly record <run dir> <commit> "<stages asked>" < timings

reads nightly.sh's lines of out/timings.log ("<when>\\tnightly: <stage>\\t
<seconds>\\t<exit>") from standard input and merges them into <run dir>/
nightly.json.
"""
import json
import os
import sys

# Stage numbers (NIGHTLY_STAGES) and the stage names nightly.sh gives them.
STAGES = {
    1: ("check-patches",),
    2: ("matrix",),
    3: ("mutant",),
    4: ("stress", "stress 6.1-LTS", "stress x86_64 baseline"),
    5: ("bench",),
    6: ("distro-check",),
    7: ("bisect", "bisect lts-6.1"),
    8: ("sparse",),
    9: ("distro-fix",),
    10: ("lts-defconfig",),
    11: ("vmtests",),
}
NUMBER_OF = {name: n for n, names in STAGES.items() for name in names}


def parse_timings(lines, commit):
    """nightly.sh's timings.log lines as stage entries."""
    out = []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        when, name, secs, rc = line.split("\t")
        if not name.startswith("nightly: "):
            raise ValueError(f"not a nightly stage line: {line!r}")
        stage = name[len("nightly: "):]
        out.append({"stage": stage, "number": NUMBER_OF.get(stage), "commit": commit,
                    "finished": when, "seconds": int(secs), "exit": int(rc),
                    "verdict": "pass" if rc == "0" else "fail"})
    return out


def merge(old, new_stages, asked, run, commit):
    """old nightly.json (or None) with new_stages replacing same-named ones."""
    old = old or {}
    stages = {}
    for s in old.get("stages", []):
        # Runs before per-stage commits: the run's one commit.
        s.setdefault("commit", old.get("commit", "unknown"))
        s.setdefault("number", NUMBER_OF.get(s["stage"]))
        stages[s["stage"]] = s
    for s in new_stages:
        stages[s["stage"]] = dict(s, number=NUMBER_OF.get(s["stage"]))
    order = sorted(stages.values(), key=lambda s: (s.get("number") or 99, s["finished"]))
    asked_all = sorted(set(old.get("stages_asked", [])) | set(asked), key=int)
    done = {s.get("number") for s in order}
    return {"run": run, "commit": commit, "stages_asked": asked_all,
            "not_run": [n for n in STAGES if n not in done],
            "stages": order}


def record(run_dir, commit, asked, lines):
    path = os.path.join(run_dir, "nightly.json")
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    data = merge(old, parse_timings(lines, commit), asked.split(),
                 os.path.basename(os.path.normpath(run_dir)), commit)
    os.makedirs(run_dir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    return data


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4 or argv[0] != "record":
        print(__doc__, file=sys.stderr)
        return 2
    data = record(argv[1], argv[2], argv[3], sys.stdin)
    missing = " ".join(str(n) for n in data["not_run"])
    print(f"nightly: {len(data['stages'])} stage(s) in {argv[1]}/nightly.json"
          + (f"; stages not run yet: {missing}" if missing else "; every stage has run"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
