package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHelpShowsOnlyTheToolsFlags: not glog's, which the Pulumi SDK's dependencies register on
// the global flag set.
func TestHelpShowsOnlyTheToolsFlags(t *testing.T) {
	var out, errOut strings.Builder
	if code := cli([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("--help exits %d: %s", code, errOut.String())
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z_-]+)`).FindAllStringSubmatch(errOut.String(), -1) {
		names = append(names, m[1])
	}
	if want := []string{"json", "stack", "write-docs"}; !slices.Equal(names, want) {
		t.Errorf("--help lists %v, want %v:\n%s", names, want, errOut.String())
	}
	if code := cli([]string{"--logtostderr"}, &out, &errOut); code != 2 {
		t.Errorf("glog's --logtostderr: exit %d, want 2 (no such flag)", code)
	}
}
