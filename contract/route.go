package contract

import "fmt"

// ServiceRoute is how the mapping's network interfaces reach STS, Secrets Manager and Lambda:
// the program decides it (the option table, EnvServiceRoute) and the provisioner's diagnosis
// explains a failed check by it.
type ServiceRoute string

const (
	// RouteAWSSide means a public broker's mapping polls from AWS's side, over public endpoints.
	RouteAWSSide ServiceRoute = "aws-side"
	// RouteNATGateway means a NAT gateway route in the broker's subnets.
	RouteNATGateway ServiceRoute = "nat-gateway"
	// RouteInterfaceEndpoints means interface VPC endpoints with private DNS in the broker's VPC.
	RouteInterfaceEndpoints ServiceRoute = "interface-endpoints"
	// RouteCustomEgress means a default route out of the broker's VPC that the user states
	// carries the calls to the services' public addresses (a transit gateway, a firewall
	// endpoint, a NAT instance): checked to exist and not to be an internet gateway, not
	// followed.
	RouteCustomEgress ServiceRoute = "custom-egress"
)

// ServiceRoutes are the routes, in the order the docs give them.
var ServiceRoutes = []ServiceRoute{RouteAWSSide, RouteNATGateway, RouteInterfaceEndpoints, RouteCustomEgress}

// ToPublicEndpoints says whether the route carries the mapping's calls out of the VPC to the
// services' public addresses (a NAT gateway, or the egress the user states), so the broker's
// group must let 443 out to any address.
func (r ServiceRoute) ToPublicEndpoints() bool { return r == RouteNATGateway || r == RouteCustomEgress }

// ParseServiceRoute validates a route's name.
func ParseServiceRoute(s string) (ServiceRoute, error) {
	for _, r := range ServiceRoutes {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a service route: want aws-side, nat-gateway, interface-endpoints or custom-egress", s)
}
