// Package brokertest gives tests the real RabbitMQ broker that `scripts/test-broker.sh`
// starts (TLS on 5671 with a throwaway CA, plain AMQP on 5672).
//
// Tests that need the broker call Require. Without a broker they skip with a loud message on a
// developer's machine, and fail when CI=true: in CI a skipped broker test would hide a broken
// data path.
package brokertest

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The environment variables scripts/test-broker.sh prints as `export` lines.
const (
	EnvAMQPURL  = "ESM_TEST_AMQP_URL"  // amqp://user:pass@127.0.0.1:5672/
	EnvAMQPSURL = "ESM_TEST_AMQPS_URL" // amqps://user:pass@localhost:5671/
	EnvCAFile   = "ESM_TEST_CA_FILE"   // PEM file of the throwaway CA that signed the broker's certificate
)

// Broker is how a test reaches the local broker.
type Broker struct {
	// AMQPURL is plain AMQP 0-9-1 on 5672, with credentials, vhost "/".
	AMQPURL string
	// AMQPSURL is AMQP over TLS on 5671 (as on Amazon MQ), with credentials, vhost "/".
	AMQPSURL string
	// CAFile is the PEM CA bundle that verifies the broker's TLS certificate.
	CAFile string
	// TLSEndpoint is AMQPSURL without credentials, amqps://localhost:5671, the form Amazon MQ
	// gives its endpoints; Username and Password are the credentials apart.
	TLSEndpoint, Username, Password string
}

// Require returns the local broker or stops the test: a loud skip locally, a failure in CI.
func Require(t testing.TB) Broker {
	t.Helper()
	b := Broker{
		AMQPURL:  os.Getenv(EnvAMQPURL),
		AMQPSURL: os.Getenv(EnvAMQPSURL),
		CAFile:   os.Getenv(EnvCAFile),
	}
	var missing []string
	for name, value := range map[string]string{EnvAMQPURL: b.AMQPURL, EnvAMQPSURL: b.AMQPSURL, EnvCAFile: b.CAFile} {
		if value == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		u, err := url.Parse(b.AMQPSURL)
		if err != nil || u.User == nil {
			t.Fatalf("%s is not an amqps://user:password@host:port/ URL", EnvAMQPSURL)
		}
		b.TLSEndpoint, b.Username = "amqps://"+u.Host, u.User.Username()
		b.Password, _ = u.User.Password()
		return b
	}
	msg := fmt.Sprintf("REAL-BROKER TEST NOT RUN: %s unset. Run the tests with `make test`, which starts "+
		"a local RabbitMQ through scripts/test-broker.sh (install it first: apt-get install rabbitmq-server).",
		strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " In CI this is a failure, not a skip.")
	}
	fmt.Fprintln(os.Stderr, "\n!!!!! "+msg+"\n")
	t.Skip(msg)
	return Broker{}
}
