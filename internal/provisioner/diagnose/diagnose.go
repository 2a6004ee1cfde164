// Package diagnose checks, from where it runs, each dependency of the Lambda event source
// mapping's poll loop — STS, Secrets Manager, Lambda and the broker — and says, for each one
// that fails, which piece of the networking option is probably missing.
package diagnose

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// Target is one AWS service endpoint to check.
type Target struct {
	Name    string // sts, secretsmanager, lambda
	Address string // host:port
}

// ServiceTargets are the regional endpoints the ESM calls.
func ServiceTargets(region string) []Target {
	var out []Target
	for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
		out = append(out, Target{Name: svc, Address: fmt.Sprintf("%s.%s.amazonaws.com:443", svc, region)})
	}
	return out
}

// CheckTarget resolves the target, connects and completes a TLS handshake within timeout.
// tlsConfig nil verifies against the system roots.
func CheckTarget(ctx context.Context, t Target, route contract.ServiceRoute, mode string, timeout time.Duration, tlsConfig *tls.Config) contract.Check {
	c := contract.Check{Name: t.Name}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		c.Detail = fmt.Sprintf("cannot resolve %s: %v", host, err)
		c.Hint = serviceHint(t.Name, route, mode)
		return c
	}
	ip := ips[0].IP
	c.Address = net.JoinHostPort(ip.String(), port)
	// Loopback counts as private: it is what a test stands in for an endpoint with.
	c.Private = ip.IsPrivate() || ip.IsLoopback()
	var cfg tls.Config
	if tlsConfig != nil {
		cfg = *tlsConfig.Clone()
	}
	cfg.ServerName = host
	cfg.MinVersion = tls.VersionTLS12
	dialer := tls.Dialer{NetDialer: &net.Dialer{}, Config: &cfg}
	conn, err := dialer.DialContext(ctx, "tcp", c.Address)
	if err != nil {
		c.Detail = fmt.Sprintf("TCP/TLS to %s (%s) failed within %s: %v", host, c.Address, timeout, err)
		c.Hint = serviceHint(t.Name, route, mode)
		if route.ViaEndpoints() && !c.Private {
			c.Hint = fmt.Sprintf("%s resolved to the public address %s: the %s interface endpoint is missing or its private DNS is off, "+
				"and in networkMode %s the ESM's interfaces cannot reach public addresses", host, ip, t.Name, mode)
		}
		return c
	}
	_ = conn.Close()
	c.OK = true
	c.Detail = fmt.Sprintf("TLS handshake with %s at %s", host, c.Address)
	if route.ViaEndpoints() && !c.Private {
		c.Detail += "; note: a public address, not the interface endpoint this option relies on (is there a NAT or proxy?)"
	}
	return c
}

func serviceHint(name string, route contract.ServiceRoute, mode string) string {
	switch {
	case route.ViaEndpoints():
		return fmt.Sprintf("networkMode %s reaches %s through an interface endpoint: check that the %s endpoint exists in this VPC with "+
			"private DNS on (which needs the VPC's DNS support and hostnames) and that its security group admits 443 from the broker's group, "+
			"and that the broker's group allows egress 443 to it", mode, name, name)
	case route == contract.RouteNAT:
		return fmt.Sprintf("networkMode %s reaches %s through a NAT gateway: check that the broker's subnets route 0.0.0.0/0 to a NAT gateway "+
			"(in a public subnet with an internet gateway) and that the broker's security group allows egress 443", mode, name)
	case route == contract.RouteCustomEgress:
		return fmt.Sprintf("networkMode %s reaches %s through the egress serviceRoute custom-egress states (the broker's subnets' 0.0.0.0/0 "+
			"route to a transit gateway, firewall or instance, which the program did not follow): check that the path beyond that route "+
			"reaches the internet (a NAT gateway in an egress VPC, the firewall's rules for HTTPS) and that the broker's security group "+
			"allows egress 443", mode, name)
	default:
		return fmt.Sprintf("networkMode %s reaches %s over the public internet from AWS's side; a failure here is unexpected: retry, "+
			"and check the service's health in the region", mode, name)
	}
}

// BrokerHint explains a failed broker check for the option.
func BrokerHint(route contract.ServiceRoute, mode string) string {
	if route == contract.RouteAWSSide {
		return fmt.Sprintf("networkMode %s uses a public broker: check the broker is running and the credentials secret matches its user", mode)
	}
	return fmt.Sprintf("networkMode %s: the ESM's interfaces carry the broker's security group, which must admit 5671 from itself "+
		"(self-referencing rule) and allow egress 5671 to itself; for an authentication error, the credentials secret must match the "+
		"broker's user", mode)
}
