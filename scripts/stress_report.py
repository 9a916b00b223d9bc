#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# stress_report.py: the command line of scripts/cowswap/stress.py (run from anywhere).
import sys

from cowswap.stress import main

sys.exit(main())
