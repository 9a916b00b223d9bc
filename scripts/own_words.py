#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# own_words.py: the command line of scripts/cowswap/own_words.py (run from anywhere).
import sys

from cowswap.own_words import main

sys.exit(main())
