#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# build-profile.py: the command line of scripts/cowswap/build_profile.py (run from anywhere).
import sys

from cowswap.build_profile import main

sys.exit(main())
