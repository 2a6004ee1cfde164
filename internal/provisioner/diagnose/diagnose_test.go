package diagnose

import (
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// TestEveryPrivateRouteHasItsHint: a private route that fell through to the public broker's
// hint would send the reader to the service's health page instead of their network.
func TestEveryPrivateRouteHasItsHint(t *testing.T) {
	want := map[contract.ServiceRoute]string{
		contract.RouteNAT:               "through a NAT gateway",
		contract.RouteEndpoints:         "through an interface endpoint",
		contract.RouteExistingEndpoints: "through an interface endpoint",
		contract.RouteCustomEgress:      "serviceRoute custom-egress",
	}
	for _, r := range contract.PrivateRoutes {
		if h := serviceHint("sts", r, "existingvpc"); !strings.Contains(h, want[r]) || want[r] == "" {
			t.Errorf("route %s: hint %q, want it to say %q", r, h, want[r])
		}
	}
	if h := serviceHint("sts", contract.RouteAWSSide, "public"); !strings.Contains(h, "from AWS's side") {
		t.Errorf("aws-side: hint %q", h)
	}
}
