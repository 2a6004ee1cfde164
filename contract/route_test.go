package contract

import (
	"strings"
	"testing"
)

func TestParseServiceRoute(t *testing.T) {
	for _, r := range ServiceRoutes {
		if got, err := ParseServiceRoute(string(r)); got != r || err != nil {
			t.Errorf("ParseServiceRoute(%q) = %q, %v", r, got, err)
		}
	}
	_, err := ParseServiceRoute("internet")
	if err == nil || !strings.Contains(err.Error(), "want aws-side, nat, endpoints, existing-endpoints or custom-egress") {
		t.Errorf("an unknown route: %v", err)
	}
}
