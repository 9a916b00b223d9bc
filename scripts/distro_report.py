#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# distro_report.py: the command line of scripts/cowswap/distro.py (run from anywhere).
import sys

from cowswap.distro import main

sys.exit(main())
