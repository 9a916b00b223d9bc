#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# bench_report.py: the command line of scripts/cowswap/bench.py (run from anywhere).
import sys

from cowswap.bench import main

sys.exit(main())
