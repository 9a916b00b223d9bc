#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a console log as a healthy cowswap boot prints it, for the judge's
tests (scripts/test-tooling.sh), without booting anything.

  console_log.py --arch A --variant patched|upstream|baseline --list FILE
                 [--may-skip TEXT] [--table FILE] > console.log

--list is what `swap_exclusive -l` printed (one "<check>/<setup>" a line,
in the selftest's order); the log has one TAP line for each. --may-skip is
the architecture record's MAY_SKIP: those checks SKIP with the reason the
selftest gives. For the baseline, the checks that configs/expect/baseline
declares "fail" or "any" fail the way the selftest reports it (the
odirect checks with their "read data lost" iterations); the rest pass.
The tests then damage such a log with sed to make each error case.
--runner kselftest prints the selftest as the kernel's run_kselftest.sh
does (KSFT_RUNNER=1): its lines with "# " in front, inside the runner's
plan 1..1 and its "selftests: swap_exclusive: swap_exclusive" line, and
the runner's own exit code 0 on the COWSWAP-END line.
"""
import argparse
import fnmatch
import sys

PAGE = {"x86_64": 4096, "arm64": 4096, "s390x": 4096, "ppc64le": 65536, "ppc64le-hash": 65536}
# What the selftest prints when a feature is missing (swap_exclusive.c).
SKIP_WHY = {
    "softdirty": "soft-dirty tracking not available (CONFIG_MEM_SOFT_DIRTY)",
    "uffd_wp": "uffd-wp not supported on anonymous memory here",
}


def globs(text, kinds):
    out = []
    for ln in text.splitlines():
        ln = ln.strip()
        if ln and not ln.startswith("#"):
            parts = ln.split(None, 2)
            if not kinds or parts[1] in kinds:
                out.append(parts[0])
    return out


def fail_lines(name, iters=8):
    """The diagnostics the selftest prints before 'not ok' for name."""
    check, setup = name.split("/", 1)
    if check in ("odirect_inflight", "odirect_clear_refs"):
        out = [f"#   iteration {i}: read data lost (buffer still holds the fill) "
               f"(after pageout: swapped type=0 offset=0x{i:x} soft-dirty; "
               f"pfn 0x{0x199d - 2 * (i % 2):x} -> 0x{0x199b + 2 * (i % 2):x})"
               for i in range(1, iters + 1)]
        out.append(f"# {iters} of {iters} iterations lost data; {iters} raced (swapped out with "
                   f"the read in flight), 0 not swapped, 0 read finished early; "
                   f"PFN changed in {iters} of {iters}")
        out.append(f"# {name}: {iters} of {iters} iterations lost the O_DIRECT data")
        return out
    if check == "odirect_racy":
        return ["#   iteration 3: read data lost (buffer still holds the fill) (swapped=1, in flight=1)",
                "# 1 of 412 iterations corrupted (dev, read ~310 us); swapped out in 37, raced 1, "
                "PFN changed in 37",
                f"# {name}: 1 of 412 iterations lost the O_DIRECT data"]
    if check.startswith("stable_writes"):
        return ["# stable_writes=0: 10 pages, 10 swapped out, 10 still under writeback at the "
                "write; 10 of 10 copied (new PFN), 0 lost",
                f"# {name}: 10 of 10 pages copied with stable writes off"]
    if check == "uffd_wp":
        return ["# after read swap-in: present pfn=0x199d soft-dirty mapped-once uffd-wp (pfn before 0x199d)",
                "# after un-protect and write: present pfn=0x199a soft-dirty mapped-once",
                f"# {name}: page copied: exclusivity lost next to the uffd-wp bit"]
    return ["# pfn 0x199d -> 0x199a (copied); now present",
            f"# {name}: the page was copied (new PFN) instead of reused"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--list", required=True)
    p.add_argument("--may-skip", default="")
    p.add_argument("--table", default="")
    p.add_argument("--runner", default="direct", choices=["direct", "kselftest"])
    a = p.parse_args()
    with open(a.list) as f:
        names = [ln.strip() for ln in f if ln.strip()]
    skip = globs(a.may_skip, None)
    fail = []
    if a.variant == "baseline":
        with open(a.table) as f:
            fail = globs(f.read(), ("fail", "any"))

    def match(n, pats):
        return any(fnmatch.fnmatchcase(n, g) for g in pats)

    out = [
        f"[    0.000000] Linux version 6.1.0-cowswap-{a.variant} (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP",
        "[    0.000000] Command line: console=ttyS0 reboot=t panic=-1",
        "[    0.412345] Adding 524284k swap on /dev/vdb.  Priority:-2 extents:1 across:524284k",
        "[    0.431230] debug_vm_pgtable: [debug_vm_pgtable         ]: Validating architecture page table helpers",
        "[    0.502211] Run /init as init process",
        f"COWSWAP-INIT start, page size {PAGE.get(a.arch, 4096)}",
        "COWSWAP-INIT disk cowswap-slow_read: COWSWAP_SLOW_READ_DEV=/dev/vda",
        "COWSWAP-INIT disk cowswap-swap: COWSWAP_SWAP_DEV=/dev/vdb",
        "COWSWAP-INIT disk cowswap-slow_swap: COWSWAP_SLOW_SWAP_DEV=/dev/vdc",
        "COWSWAP-INIT disk cowswap-fast_read: COWSWAP_FAST_READ_DEV=/dev/vdd",
        "COWSWAP-INIT swap on /dev/vdb",
        "COWSWAP-BEGIN swap_exclusive",
        "TAP version 13",
        f"1..{len(names)}",
        f"# page size {PAGE.get(a.arch, 4096)}, root 1, PFNs visible 1, kpageflags 1, "
        f"soft-dirty {0 if match('softdirty/fault', skip) else 1}",
        "# named devices: slow read /dev/vda, fast read /dev/vdd, swap /dev/vdb, slow swap /dev/vdc "
        "(the test makes its own for each one not named); zram yes",
        "[    1.756070] input: ImExPS/2 Generic Explorer Mouse as /devices/platform/i8042/serio1/input/input2",
    ]
    counts = {"pass": 0, "fail": 0, "skip": 0}
    setup = None
    for i, n in enumerate(names, 1):
        s = n.split("/", 1)[1]
        if s != setup:
            setup = s
            dev = {"zram": "/dev/zram0", "stable": "/dev/vdc"}.get(s, "/dev/vdb")
            out.append(f"# setup {s}: swap on {dev} only")
        check = n.split("/", 1)[0]
        if match(n, skip):
            out.append(f"ok {i} # SKIP {n}: {SKIP_WHY.get(check, 'not available here')}")
            counts["skip"] += 1
        elif match(n, fail):
            out += fail_lines(n)
            out.append(f"not ok {i} {n}")
            counts["fail"] += 1
        else:
            if check.startswith("odirect"):
                out.append("# 0 of 8 iterations lost data; 8 raced (swapped out with the read "
                           "in flight), 0 not swapped, 0 read finished early; PFN changed in 0 of 8")
            out.append(f"ok {i} {n}")
            counts["pass"] += 1
    out.append(f"# Totals: pass:{counts['pass']} fail:{counts['fail']} xfail:0 xpass:0 "
               f"skip:{counts['skip']} error:0")
    code = 1 if counts["fail"] else 0
    if a.runner == "kselftest":
        begin = out.index("COWSWAP-BEGIN swap_exclusive")
        test = "selftests: swap_exclusive: swap_exclusive"
        # kernel messages reach the console unprefixed
        inner = [ln if ln.startswith("[") else "# " + ln for ln in out[begin + 1:]]
        out = out[:begin + 1] + ["TAP version 13", "1..1", "# " + test] + inner
        out.append(f"not ok 1 {test} # exit={code}" if code else f"ok 1 {test}")
        code = 0
    out += [f"COWSWAP-END swap_exclusive exit={code}",
            "COWSWAP-DONE",
            "[   41.020113] reboot: Restarting system"]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
