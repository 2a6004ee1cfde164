// Package rabbitops holds the AMQP operations the project performs on the broker: connect the
// way Amazon MQ requires (AMQPS, credentials from the Secrets Manager secret), declare the
// queue topology the event source mapping consumes, and publish with publisher confirms.
package rabbitops

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Credentials are the broker user, in the JSON shape of the Secrets Manager secret the ESM
// reads ({"username","password"}).
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// DialTimeout bounds the TCP connection, the TLS handshake and the AMQP handshake.
const DialTimeout = 10 * time.Second

// Dial connects to endpoint — "amqps://host:5671" as Amazon MQ gives it, or "amqp://host:port"
// — on vhost. caFile is a PEM bundle that verifies the broker's certificate; "" uses the
// system roots (right for Amazon MQ). The password never appears in an error.
func Dial(ctx context.Context, endpoint string, creds Credentials, vhost, caFile string) (*amqp.Connection, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "amqps" && u.Scheme != "amqp") || u.Host == "" {
		return nil, fmt.Errorf("broker endpoint %q: want amqps://host:port or amqp://host:port", endpoint)
	}
	if u.User != nil {
		return nil, fmt.Errorf("broker endpoint %s://%s: give the credentials separately, not in the URL", u.Scheme, u.Host)
	}
	cfg := amqp.Config{
		Vhost:     vhost,
		SASL:      []amqp.Authentication{&amqp.PlainAuth{Username: creds.Username, Password: creds.Password}},
		Heartbeat: 10 * time.Second,
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: DialTimeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The deadline covers the TLS and AMQP handshakes; amqp091 clears it afterwards.
			if err := conn.SetDeadline(time.Now().Add(DialTimeout)); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	if u.Scheme == "amqps" {
		roots, err := CAPool(caFile)
		if err != nil {
			return nil, err
		}
		cfg.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname(), RootCAs: roots}
	}
	conn, err := amqp.DialConfig(u.Scheme+"://"+u.Host+"/", cfg)
	if err != nil {
		var amqpErr *amqp.Error
		if errors.As(err, &amqpErr) && amqpErr.Code == amqp.AccessRefused {
			return nil, fmt.Errorf("connecting to %s as %q on vhost %q: access refused (wrong credentials, or no permission on the vhost): %w",
				u.Host, creds.Username, vhost, err)
		}
		return nil, fmt.Errorf("connecting to %s as %q on vhost %q: %w", u.Host, creds.Username, vhost, err)
	}
	return conn, nil
}

// CAPool reads the PEM bundle caFile, the CA that verifies the broker's certificate; "" is nil,
// the system roots (right for Amazon MQ). The management API client takes the same pool.
func CAPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile) //nolint:gosec // G304: the operator's CA bundle path
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	return pool, nil
}
