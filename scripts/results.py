#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# results.py: the command line of scripts/cowswap/results.py (run from anywhere).
import sys

from cowswap.results import main

sys.exit(main())
