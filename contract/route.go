package contract

import (
	"fmt"
	"strings"
)

// ServiceRoute is how the mapping's network interfaces reach STS, Secrets Manager and Lambda.
// One vocabulary for the whole project: existingvpc's serviceRoute setting takes these values
// (all but aws-side), the option table and the components' arguments carry them, and the
// provisioner reads them from EnvServiceRoute to explain a failed check.
type ServiceRoute string

const (
	// RouteAWSSide means a public broker's mapping, which has no interfaces in a VPC, polls
	// from AWS's side over public endpoints.
	RouteAWSSide ServiceRoute = "aws-side"
	// RouteNAT means the broker's subnets route 0.0.0.0/0 to a NAT gateway.
	RouteNAT ServiceRoute = "nat"
	// RouteEndpoints means interface endpoints with private DNS that the stack creates.
	RouteEndpoints ServiceRoute = "endpoints"
	// RouteExistingEndpoints means interface endpoints with private DNS that the VPC has
	// already: looked up and used, never created.
	RouteExistingEndpoints ServiceRoute = "existing-endpoints"
	// RouteCustomEgress means a default route the user states reaches the internet (a transit
	// gateway, a firewall endpoint, a NAT instance): checked to exist and not to be an internet
	// gateway, not followed.
	RouteCustomEgress ServiceRoute = "custom-egress"
)

// ServiceRoutes are the routes, in the order the docs give them.
var ServiceRoutes = []ServiceRoute{RouteAWSSide, RouteNAT, RouteEndpoints, RouteExistingEndpoints, RouteCustomEgress}

// PrivateRoutes are the routes of a private broker's mapping, whose interfaces have private
// addresses only: every route but aws-side.
var PrivateRoutes = []ServiceRoute{RouteNAT, RouteEndpoints, RouteExistingEndpoints, RouteCustomEgress}

// ToPublicEndpoints says whether the route carries the mapping's calls out of the VPC to the
// services' public addresses (a NAT gateway, or the egress the user states), so the broker's
// group must let 443 out to any address.
func (r ServiceRoute) ToPublicEndpoints() bool { return r == RouteNAT || r == RouteCustomEgress }

// ViaEndpoints says whether the route is interface endpoints, created or found.
func (r ServiceRoute) ViaEndpoints() bool { return r == RouteEndpoints || r == RouteExistingEndpoints }

// ParseServiceRoute validates a route's name.
func ParseServiceRoute(s string) (ServiceRoute, error) {
	for _, r := range ServiceRoutes {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a service route: want %s", s, RouteList(ServiceRoutes))
}

// RouteList names routes for a message: "a, b or c".
func RouteList(routes []ServiceRoute) string {
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = string(r)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
