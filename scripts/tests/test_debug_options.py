# SPDX-License-Identifier: GPL-2.0
"""cowswap.debug_options: the debug options table of docs/stress.md says
what a .config has, not what debug.config asked for."""
import contextlib
import io
import os
import tempfile
import unittest

from cowswap import debug_options

# An arm-like debug .config: KASAN out of line, DEBUG_PAGEALLOC as
# poisoning (no ARCH_SUPPORTS_DEBUG_PAGEALLOC), no PAGE_TABLE_CHECK.
POISONING = """\
CONFIG_SLUB=y
# CONFIG_SLAB is not set
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_OUTLINE=y
# CONFIG_KASAN_INLINE is not set
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_VM=y
CONFIG_DEBUG_PAGEALLOC=y
CONFIG_PAGE_POISONING=y
CONFIG_KFENCE=y
# CONFIG_PAGE_TABLE_CHECK is not set
"""


class TestDebugOptions(unittest.TestCase):
    def cells(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".config", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return dict(zip(debug_options.COLUMNS,
                        debug_options.row("rec", debug_options.read_config(f.name), 2)))

    def test_poisoning_is_not_unmapping(self):
        c = self.cells(POISONING)
        self.assertEqual(c["DEBUG_PAGEALLOC"], "yes (poisons)")
        self.assertEqual(c["KASAN"], "yes (outline)")
        self.assertEqual(c["PAGE_TABLE_CHECK"], "no")
        self.assertEqual(c["slab"], "SLUB")

    def test_unmapping_and_page_table_check(self):
        c = self.cells(POISONING.replace("CONFIG_PAGE_POISONING=y", "CONFIG_ARCH_SUPPORTS_DEBUG_PAGEALLOC=y")
                       .replace("# CONFIG_PAGE_TABLE_CHECK is not set",
                                "CONFIG_PAGE_TABLE_CHECK=y\nCONFIG_PAGE_TABLE_CHECK_ENFORCED=y"))
        self.assertEqual(c["DEBUG_PAGEALLOC"], "yes (unmaps)")
        self.assertEqual(c["PAGE_TABLE_CHECK"], "yes (enforced)")

    def test_options_not_set_are_no(self):
        # "# CONFIG_X is not set" lines and absent options alike
        c = self.cells("CONFIG_SLAB=y\n# CONFIG_KASAN is not set\nCONFIG_DEBUG_SPINLOCK=y\n")
        self.assertEqual([c["KASAN"], c["DEBUG_VM"], c["DEBUG_PAGEALLOC"], c["KFENCE"]], ["no"] * 4)
        self.assertEqual(c["lockdep"], "no (spinlock checks)")
        self.assertEqual(c["slab"], "SLAB")

    def test_missing_config_fails(self):
        err = io.StringIO()
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(err):
            rc = debug_options.main([f"hppa={d}/.config"])
        self.assertEqual(rc, 1)
        self.assertIn("missing", err.getvalue())

    def test_record_cpus(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, ".config")
            with open(path, "w") as f:
                f.write(POISONING)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = debug_options.main([f"m68k={path}", f"armhf={path}"])
        self.assertEqual(rc, 0)
        lines = out.getvalue().splitlines()
        # m68k's QEMU_ARGS have no -smp: one CPU; armhf boots two
        self.assertTrue(lines[2].startswith("| m68k | 1 |"), lines[2])
        self.assertTrue(lines[3].startswith("| armhf | 2 |"), lines[3])


if __name__ == "__main__":
    unittest.main()
