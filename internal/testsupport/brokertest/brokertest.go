// Package brokertest gives tests the real RabbitMQ broker that `scripts/test-broker.sh`
// starts (TLS on 5671 with a throwaway CA, plain AMQP on 5672).
//
// Tests that need the broker call Require. Without a broker they skip with a loud message on a
// developer's machine, and fail when CI=true: in CI a skipped broker test would hide a broken
// data path.
package brokertest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The environment variables scripts/test-broker.sh prints as `export` lines.
const (
	EnvAMQPURL  = "ESM_TEST_AMQP_URL"  // amqp://user:pass@127.0.0.1:5672/
	EnvAMQPSURL = "ESM_TEST_AMQPS_URL" // amqps://user:pass@localhost:5671/
	EnvCAFile   = "ESM_TEST_CA_FILE"   // PEM file of the throwaway CA that signed the broker's certificate
)

// EnvSkipLog names a file to which each real-broker test that skips appends a line, its package
// directory and name: `make test` sets it and, after the tests, says how many skipped.
const EnvSkipLog = "ESM_TEST_SKIP_LOG"

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
	for _, v := range [][2]string{{EnvAMQPURL, b.AMQPURL}, {EnvAMQPSURL, b.AMQPSURL}, {EnvCAFile, b.CAFile}} {
		if v[1] == "" {
			missing = append(missing, v[0])
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
	if err := logSkip(t.Name()); err != nil {
		fmt.Fprintf(os.Stderr, "!!!!! could not record the skip in %s: %v\n", EnvSkipLog, err)
	}
	t.Skip(msg)
	return Broker{}
}

// logSkip appends the skipped test to the file EnvSkipLog names, if it names one. Test binaries
// run side by side: one short append each keeps the lines whole.
func logSkip(test string) error {
	path := os.Getenv(EnvSkipLog)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600) //nolint:gosec // G304: the file make test names
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %s\n", packageDir(), test)
	return errors.Join(err, f.Close())
}

// packageDir is the test's package directory (its working directory) relative to its module,
// as ./listener/handler.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
