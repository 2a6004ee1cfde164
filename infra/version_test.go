package infra

import (
	"os"
	"regexp"
	"testing"
)

// Version is CHANGELOG.md's latest release, and the changelog keeps an Unreleased section above
// it, as Keep a Changelog lays one out.
func TestVersionIsTheChangelogsLatestRelease(t *testing.T) {
	changelog, err := os.ReadFile("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := regexp.MustCompile(`(?m)^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$`).FindAllSubmatch(changelog, -1)
	if len(headings) < 2 || string(headings[0][1]) != "Unreleased" {
		t.Fatalf("CHANGELOG.md: want \"## [Unreleased]\" and then the releases, found %q", headings)
	}
	latest := headings[1]
	if string(latest[1]) != Version || len(latest[2]) == 0 {
		t.Errorf("CHANGELOG.md's latest release is %q (dated %q); infra.Version is %s", latest[1], latest[2], Version)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version) {
		t.Errorf("Version %q is not major.minor.patch", Version)
	}
}
