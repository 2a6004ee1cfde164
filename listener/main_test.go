package main

import "testing"

func TestProcsForFollowsLambdasCPUShare(t *testing.T) {
	for _, tc := range []struct{ memoryMB, available, want int }{
		{128, 2, 1},   // a fraction of a vCPU: one P, though the sandbox shows two CPUs
		{1769, 2, 1},  // one vCPU
		{1770, 2, 2},  // more than one: two
		{3008, 2, 2},  // two
		{10240, 6, 6}, // six, the most Lambda gives
		{10240, 2, 2}, // never more than the available Ps
		{1770, 1, 1},  // GOMAXPROCS limited already (a cgroup quota)
	} {
		if got := procsFor(tc.memoryMB, tc.available); got != tc.want {
			t.Errorf("procsFor(%d MB, %d available) = %d, want %d", tc.memoryMB, tc.available, got, tc.want)
		}
	}
}
