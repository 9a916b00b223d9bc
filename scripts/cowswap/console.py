# SPDX-License-Identifier: GPL-2.0
"""A guest's serial console, read the way every report here needs it.

The kernel and /init share one serial console. A kernel message can
arrive while /init is half way through a line; the console then shows

    ok 53 stable_wri[   52.266023] Adding 65532k swap on ... SSFS
    tes_off_reuses/stable

and a reader that takes lines as they come sees neither the TAP line
nor a kernel message that starts its line. lines() puts such a message
on its own line and joins the interrupted line's two halves again.
"""

import re

# printk's timestamp at the start of a line, "[    1.234567] "
STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
# ... and in the middle of one: printk always prints six decimals.
MID_STAMP = re.compile(r"\[\s*\d+\.\d{6}\] ")


def read(path):
    """A console log's text, undecodable bytes replaced, CRs removed."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r", "")


def lines(text):
    """The log's lines with every interrupted line mended.

    A line that does not start with a timestamp but has one inside was
    cut by a kernel message: its head waits for the next line that is
    not a kernel message (the rest of what /init wrote, empty when the
    message came right before the newline). Kernel messages keep their
    timestamps and are returned before the mended line."""
    out, head = [], None
    for ln in text.split("\n"):
        if STAMP.match(ln):
            out.append(ln)
            continue
        if head is not None:
            ln, head = head + ln, None
        m = MID_STAMP.search(ln)
        if m:
            head = ln[:m.start()]
            out.append(ln[m.start():])
            continue
        out.append(ln)
    if head is not None:
        out.append(head)
    return out


def plain(text):
    """lines() without the timestamps."""
    return [STAMP.sub("", ln) for ln in lines(text)]
