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
    timestamps and are returned before the mended line.

    Two kinds of text before a timestamp are not a cut line of /init.
    Whatever precedes the kernel's first message was printed before the
    kernel's console existed (x86's setup code ends with "Probing EDD
    (edd=off to disable)... o" and no newline): it stays a line of its
    own. And the kernel's own unstamped text, cut by a message and never
    finished (pseries' "Linux ppc64le" banner, "#1 SMP Mon Dec  "), is
    never joined with a COWSWAP- marker line, which /init always starts
    on a line of its own; else both would be glued to the front of
    /init's first line, "COWSWAP-INIT start"."""
    out, head, kernel = [], None, False
    for ln in text.split("\n"):
        if STAMP.match(ln):
            kernel = True
            out.append(ln)
            continue
        if head is not None:
            if ln.startswith("COWSWAP-"):
                out.append(head)
            else:
                ln = head + ln
            head = None
        m = MID_STAMP.search(ln)
        if m:
            if kernel:
                head = ln[:m.start()]
            else:
                out.append(ln[:m.start()])
            kernel = True
            out.append(ln[m.start():])
            continue
        out.append(ln)
    if head is not None:
        out.append(head)
    return out


def plain(text):
    """lines() without the timestamps."""
    return [STAMP.sub("", ln) for ln in lines(text)]
