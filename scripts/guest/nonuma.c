// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for libnuma, linked into 6.1's vm/ksm_tests by initramfs.sh
 * (VMTESTS=1) only where the record's compiler has no static libnuma
 * (the cross compilers: Debian packages libnuma-dev for the host only).
 *
 * It says what libnuma says on a kernel without CONFIG_NUMA: NUMA is not
 * available (numa_available() < 0). ksm_tests then leaves
 * merge_across_nodes alone, as with the real library on our kernels. Its
 * NUMA test (-N) is not run with this stand-in (vmtests.list: lib=numa
 * makes it a SKIP); the calls only that test makes stop the program.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

int numa_available(void)
{
	return -1;
}

static void no_numa(const char *fn)
{
	fprintf(stderr, "%s: ksm_tests is linked with cowswap's no-NUMA stand-in for libnuma\n", fn);
	exit(1);
}

int numa_max_node(void)
{
	no_numa(__func__);
	return -1;
}

int numa_num_configured_nodes(void)
{
	no_numa(__func__);
	return 0;
}

long long numa_node_size(int node, long long *freep)
{
	(void)node;
	(void)freep;
	no_numa(__func__);
	return -1;
}

void *numa_alloc_onnode(size_t size, int node)
{
	(void)size;
	(void)node;
	no_numa(__func__);
	return NULL;
}

void numa_free(void *mem, size_t size)
{
	(void)mem;
	(void)size;
	no_numa(__func__);
}
