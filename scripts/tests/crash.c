// SPDX-License-Identifier: GPL-2.0
/*
 * A test binary that dies of a signal half way through its plan, for
 * checking that the harness reports the crash and the truncated TAP
 * (scripts/test-tooling.sh). Never part of a normal run.
 */
#include <signal.h>
#include <unistd.h>
#include "kselftest.h"

int main(void)
{
	ksft_print_header();
	ksft_set_plan(2);
	ksft_test_result_pass("before_the_crash\n");
	kill(getpid(), SIGSEGV);
	ksft_test_result_pass("never_reached\n");
	ksft_finished();
}
