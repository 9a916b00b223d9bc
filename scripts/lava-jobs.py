#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# lava-jobs.py: the command line of scripts/cowswap/lava.py (run from anywhere).
import sys

from cowswap.lava import main

sys.exit(main())
