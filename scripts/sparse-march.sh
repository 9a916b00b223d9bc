#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse-march.sh <sparse arguments>: sparse, as kbuild's CHECK, with
# riscv's multi-letter ISA extensions taken off -march. Debian 12's
# sparse 0.6.4 knows the single-letter ones only and stops at kbuild's
# "-march=rv64imac_zicsr_zifencei" ("invalid argument to '-march':
# '_zicsr_zifencei'"), on every file. For sparse, -march only sets
# predefined macros; the kernel's C code does not test the __riscv_zicsr
# or __riscv_zifencei ones. Every other argument, and every other
# architecture's command line, is passed on unchanged.
args=()
for a in "$@"; do
	case $a in
	-march=rv*_*) a=${a%%_*} ;;
	esac
	args+=("$a")
done
exec "${SPARSE:-sparse}" "${args[@]}"
