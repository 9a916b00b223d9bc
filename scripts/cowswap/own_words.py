# SPDX-License-Identifier: GPL-2.0
"""own_words.py <upstream tree> <patch>...: check that the comments the
series adds are our own words, not lines of the upstream implementation.

Every comment line a patch adds ("+" lines, text after /*, * or //) that
is at least MIN_CHARS long once whitespace is squeezed is looked up,
verbatim, in the upstream version of the files the patches touch.
Layout diagrams (rows with four or more '|') are skipped: they restate
which bit is which, a fact both must agree on; so are SPDX license tags,
which every new file must carry in the same words. Exit status 1 and one line
per match when any comment is found upstream.
"""
import os
import re
import sys

MIN_CHARS = 20


def squeeze(text):
    return re.sub(r"\s+", " ", text).strip()


def comment_text(line):
    m = re.search(r"(/\*+|^\s*\*+(?!/)|//)(.*)", line)
    if not m:
        return None
    return squeeze(m.group(2).replace("*/", ""))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: own_words.py <upstream tree> <patch>...")
    tree, patches = sys.argv[1], sys.argv[2:]
    added, touched = [], set()
    for p in patches:
        with open(p, errors="replace") as f:
            for line in f:
                if line.startswith("+++ b/"):
                    touched.add(line[6:].strip())
                elif line.startswith("+") and not line.startswith("+++"):
                    t = comment_text(line[1:])
                    if (t and len(t) >= MIN_CHARS and t.count("|") < 4
                            and not t.startswith("SPDX-License-Identifier:")):
                        added.append((os.path.basename(p), t))
    upstream = []
    for path in sorted(touched):
        try:
            with open(os.path.join(tree, path), errors="replace") as f:
                upstream.append(" ".join(comment_text(ln) or "" for ln in f))
        except FileNotFoundError:
            pass
    upstream = squeeze(" ".join(upstream))
    found = [(p, t) for p, t in added if t in upstream]
    for p, t in found:
        print(f"{p}: comment found verbatim upstream: {t}")
    print(f"{len(added)} comment lines of {MIN_CHARS}+ characters added in "
          f"{len(touched)} files; {len(found)} found verbatim upstream")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
