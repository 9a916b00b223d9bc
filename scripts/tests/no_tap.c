// SPDX-License-Identifier: GPL-2.0
/*
 * A test binary that says something but never speaks TAP, for checking
 * that the harness calls such a run an error instead of counting it as
 * "nothing failed" (scripts/test-tooling.sh). Never part of a normal run.
 */
#include <stdio.h>

int main(void)
{
	printf("all good, trust me\n");
	return 0;
}
