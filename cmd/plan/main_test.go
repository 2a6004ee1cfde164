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
	if want := []string{"as-shipped", "json", "list", "stack", "write-docs"}; !slices.Equal(names, want) {
		t.Errorf("--help lists %v, want %v:\n%s", names, want, errOut.String())
	}
	if code := cli([]string{"--logtostderr"}, &out, &errOut); code != 2 {
		t.Errorf("glog's --logtostderr: exit %d, want 2 (no such flag)", code)
	}
}

// --list is what .ci/run loops over and the preview workflow's matrix is made of.
func TestList(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--list"}, "public\ndefaultvpc\nnat\nisolated\npublicsubnet\nexistingvpc\n"},
		{[]string{"--list", "--as-shipped", "--json"}, `["public","defaultvpc","nat","isolated","publicsubnet"]` + "\n"},
	} {
		var out, errOut strings.Builder
		if code := cli(tc.args, &out, &errOut); code != 0 || out.String() != tc.want {
			t.Errorf("%v: exit %d, %q (%s), want %q", tc.args, code, out.String(), errOut.String(), tc.want)
		}
	}
}
