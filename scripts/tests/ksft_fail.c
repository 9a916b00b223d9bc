// SPDX-License-Identifier: GPL-2.0
/*
 * A test binary that always fails, for checking that the harness turns
 * a KSFT_FAIL into a failed run (scripts/test-tooling.sh). Never part of
 * a normal run.
 */
#include "kselftest.h"

int main(void)
{
	ksft_print_header();
	ksft_set_plan(1);
	ksft_test_result_fail("deliberate_failure\n");
	ksft_finished();
}
