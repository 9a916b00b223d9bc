#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# distro_fix_report.py: the command line of scripts/cowswap/distro_fix.py (run from anywhere).
import sys

from cowswap.distro_fix import main

sys.exit(main())
