#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# report.py: the command line of scripts/cowswap/report.py (run from anywhere). Debian's
# python3 on purpose: python3-matplotlib is installed for it.
import sys

from cowswap.report import main

sys.exit(main())
