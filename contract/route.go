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
)

// ServiceRoutes are the routes, in the order the docs give them.
var ServiceRoutes = []ServiceRoute{RouteAWSSide, RouteNATGateway, RouteInterfaceEndpoints}

// ParseServiceRoute validates a route's name.
func ParseServiceRoute(s string) (ServiceRoute, error) {
	for _, r := range ServiceRoutes {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a service route: want aws-side, nat-gateway or interface-endpoints", s)
}
