// Package brokertest gives tests the real RabbitMQ broker that `scripts/test-broker.sh`
// starts (TLS on 5671 with a throwaway CA, plain AMQP on 5672, the management HTTP API over
// HTTPS on 15671 with the same CA).
//
// Tests that need the broker call Require, or RequireManagement for its HTTP API as well. Without a broker they skip with a loud message on a
// developer's machine, and fail when CI=true: in CI a skipped broker test would hide a broken
// data path.
package brokertest

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
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
	EnvMgmtURL  = "ESM_TEST_MGMT_URL"  // https://localhost:15671/, the management HTTP API (same CA)
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
	if missing := unset(EnvAMQPURL, EnvAMQPSURL, EnvCAFile); len(missing) > 0 {
		stop(t, missing)
		return Broker{}
	}
	u, err := url.Parse(b.AMQPSURL)
	if err != nil || u.User == nil {
		t.Fatalf("%s is not an amqps://user:password@host:port/ URL", EnvAMQPSURL)
	}
	b.TLSEndpoint, b.Username = "amqps://"+u.Host, u.User.Username()
	b.Password, _ = u.User.Password()
	return b
}

// RequireManagement returns the broker's management HTTP API, https://localhost:15671/ (its
// certificate is the one CAFile verifies; Username and Password are an administrator's), or
// stops the test as Require does.
func RequireManagement(t testing.TB) (Broker, string) {
	t.Helper()
	if missing := unset(EnvAMQPURL, EnvAMQPSURL, EnvCAFile, EnvMgmtURL); len(missing) > 0 {
		stop(t, missing)
		return Broker{}, ""
	}
	b := Require(t)
	mgmt := os.Getenv(EnvMgmtURL)
	if u, err := url.Parse(mgmt); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Fatalf("%s=%q is not an https://host:port/ URL", EnvMgmtURL, mgmt)
	}
	return b, mgmt
}

// Roots is the pool of CAFile, which verifies the broker's certificate on AMQPS and on the
// management API; it stops the test if the file holds no certificate.
func (b Broker) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(b.CAFile)
	if err != nil {
		t.Fatalf("reading the test CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no PEM certificate", b.CAFile)
	}
	return pool
}

// ClosedAddress is a loopback host:port nothing listens on: a broker, an API or a service
// endpoint that refuses connections.
func ClosedAddress(t testing.TB) string {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// unset lists the variables among names that are empty.
func unset(names ...string) []string {
	var missing []string
	for _, name := range names {
		if os.Getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	return missing
}

// stop skips the test loudly, or fails it in CI.
func stop(t testing.TB, missing []string) {
	t.Helper()
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
