// Package rabbitadmin manages a RabbitMQ broker's users through its management HTTP API, the
// only place users, permissions and tags exist: Amazon MQ creates one administrator and its own
// API never touches RabbitMQ users again. Amazon MQ serves the management API over HTTPS on
// port 443 of the broker's endpoint; for a private broker that is reachable only from inside
// the VPC, which is why the provisioner, beside the broker, is the one to call it.
//
// The client speaks net/http only (no AMQP client). docs/broker-users.md says which user needs
// which permission and where that comes from; PermissionsFor is the one place the rule lives.
package rabbitadmin

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RequestTimeout bounds one request when the caller's context has no earlier deadline.
const RequestTimeout = 30 * time.Second

// Client calls one broker's management API as one user.
type Client struct {
	base     string // https://host:port/, always ending in /
	username string
	password string
	http     *http.Client
}

// New returns a client of the management API at endpoint, https://host[:port][/] (Amazon MQ's
// console URL, port 443 when none is given), logging in as username. roots verify the broker's
// certificate (rabbitops.CAPool reads them from a PEM file); nil uses the system roots (right
// for Amazon MQ). The password never appears in an error.
func New(endpoint, username, password string, roots *x509.CertPool) (*Client, error) {
	host, err := endpointHost(endpoint)
	if err != nil {
		return nil, err
	}
	if username == "" || password == "" {
		return nil, fmt.Errorf("management API %s: a username and a password are needed", host)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	return &Client{
		base:     "https://" + host + "/",
		username: username,
		password: password,
		http: &http.Client{
			Timeout:   RequestTimeout,
			Transport: &http.Transport{TLSClientConfig: tlsConfig, Proxy: http.ProxyFromEnvironment},
			// The API never redirects; following one could send the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// CheckEndpoint tells what is wrong with endpoint as New's, nil if nothing: a function checks
// its setting once at start-up.
func CheckEndpoint(endpoint string) error {
	_, err := endpointHost(endpoint)
	return err
}

func endpointHost(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("management API endpoint %q: want https://host[:port]/ without credentials or path "+
			"(Amazon MQ serves the API over HTTPS only)", redacted(endpoint))
	}
	return u.Host, nil
}

// redacted is endpoint without any password it carries.
func redacted(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// Error is the broker's refusal of a request: what was asked, the HTTP status and the
// broker's own answer ({"error","reason"} of the management API).
type Error struct {
	What   string // what the request was for, as "creating user \"events-mapping\""
	Method string
	Path   string
	Status int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: the broker answered %s %s with HTTP %d: %s", e.What, e.Method, e.Path, e.Status, e.Reason)
}

// IsStatus tells whether err is the broker's answer with HTTP status code.
func IsStatus(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == code
}

// do sends one request; out, when not nil, receives the JSON answer. A status outside 2xx is
// an *Error; one of the statuses in ok is not an error and leaves out untouched.
func (c *Client) do(ctx context.Context, what, method, path string, in, out any, header http.Header, ok ...int) (int, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	req.SetBasicAuth(c.username, c.password)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %s %s: %w", what, method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s: reading the answer to %s %s: %w", what, method, path, err)
	}
	for _, code := range ok {
		if resp.StatusCode == code {
			return resp.StatusCode, nil
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, &Error{What: what, Method: method, Path: path, Status: resp.StatusCode, Reason: reason(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: the answer to %s %s is not the JSON expected: %w", what, method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// reason is the broker's explanation in an error answer.
func reason(body []byte) string {
	var e struct {
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Error != "" || e.Reason != "") {
		return strings.TrimSpace(e.Error + ": " + e.Reason)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(no body)"
	}
	return s
}

// esc is one path segment: a virtual host "/" is "%2F", as the API wants.
func esc(segment string) string { return url.PathEscape(segment) }

// PutUser creates user, or replaces its password and tags if it exists. The password goes to
// the broker as is, over TLS, and the broker hashes it. No tags (nil) is a user that cannot
// open the management API at all.
func (c *Client) PutUser(ctx context.Context, user, password string, tags []string) error {
	if user == "" || password == "" {
		return fmt.Errorf("creating a broker user: a name and a password are needed (user %q)", user)
	}
	in := map[string]any{"password": password, "tags": strings.Join(tags, ",")}
	_, err := c.do(ctx, fmt.Sprintf("creating user %q", user), http.MethodPut, "api/users/"+esc(user), in, nil, nil)
	return err
}

// DeleteUser deletes user; the broker closes its connections. A user that does not exist is
// not an error.
func (c *Client) DeleteUser(ctx context.Context, user string) error {
	_, err := c.do(ctx, fmt.Sprintf("deleting user %q", user), http.MethodDelete, "api/users/"+esc(user), nil, nil, nil, http.StatusNotFound)
	return err
}

// User is a broker user as the API describes it.
type User struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// userRecord is GET /api/users/{name}: tags are a list from 3.9 on, a comma-separated
// string before.
type userRecord struct {
	Name             string          `json:"name"`
	PasswordHash     string          `json:"password_hash"`
	HashingAlgorithm string          `json:"hashing_algorithm"`
	Tags             json.RawMessage `json:"tags"`
}

func (r userRecord) tags() []string {
	var list []string
	if json.Unmarshal(r.Tags, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(r.Tags, &s) == nil && s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

// GetUser returns user, and whether it exists.
func (c *Client) GetUser(ctx context.Context, user string) (User, bool, error) {
	r, found, err := c.user(ctx, user)
	return User{Name: r.Name, Tags: r.tags()}, found, err
}

func (c *Client) user(ctx context.Context, user string) (userRecord, bool, error) {
	var r userRecord
	code, err := c.do(ctx, fmt.Sprintf("reading user %q", user), http.MethodGet, "api/users/"+esc(user), nil, &r, nil, http.StatusNotFound)
	return r, err == nil && code != http.StatusNotFound, err
}

// SetTags replaces user's tags and keeps its password. The API has no call for tags alone: a
// PUT without a password leaves the user with none, so the PUT carries the password hash the
// broker holds.
func (c *Client) SetTags(ctx context.Context, user string, tags []string) error {
	r, found, err := c.user(ctx, user)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("setting the tags of user %q", user)
	if !found {
		return fmt.Errorf("%s: no such user", what)
	}
	in := map[string]any{"password_hash": r.PasswordHash, "hashing_algorithm": r.HashingAlgorithm, "tags": strings.Join(tags, ",")}
	_, err = c.do(ctx, what, http.MethodPut, "api/users/"+esc(user), in, nil, nil)
	return err
}

// SetPermissions gives user p in vhost, replacing what it had there.
func (c *Client) SetPermissions(ctx context.Context, vhost, user string, p Permissions) error {
	in := map[string]string{"configure": p.Configure, "write": p.Write, "read": p.Read}
	what := fmt.Sprintf("setting the permissions of user %q in virtual host %q to %s", user, vhost, p)
	_, err := c.do(ctx, what, http.MethodPut, "api/permissions/"+esc(vhost)+"/"+esc(user), in, nil, nil)
	return err
}

// ClearPermissions removes user's permissions in vhost: it can no longer open a connection
// to it. None to remove is not an error.
func (c *Client) ClearPermissions(ctx context.Context, vhost, user string) error {
	what := fmt.Sprintf("clearing the permissions of user %q in virtual host %q", user, vhost)
	_, err := c.do(ctx, what, http.MethodDelete, "api/permissions/"+esc(vhost)+"/"+esc(user), nil, nil, nil, http.StatusNotFound)
	return err
}

// EnsureUser makes user exist with password and g in vhost, whatever it had before.
func (c *Client) EnsureUser(ctx context.Context, vhost, user, password string, g Grant) error {
	if err := c.PutUser(ctx, user, password, g.Tags); err != nil {
		return err
	}
	return c.SetPermissions(ctx, vhost, user, g.Permissions)
}

// VHostExists tells whether the broker has virtual host vhost. The API answers it to an
// administrator only.
func (c *Client) VHostExists(ctx context.Context, vhost string) (bool, error) {
	code, err := c.do(ctx, fmt.Sprintf("looking up virtual host %q", vhost), http.MethodGet, "api/vhosts/"+esc(vhost), nil, nil, nil, http.StatusNotFound)
	return err == nil && code != http.StatusNotFound, err
}

// Queue is a queue's figures as the API gives them, from the broker's statistics (refreshed
// every few seconds). A figure the answer leaves out is nil, never 0: a queue declared a moment
// ago has no figures yet (tested), message_stats appears only once something was published to
// or delivered from the queue, and a broker that collects no message rates (4.x with metrics
// collection off) never gives it. The fields are those of rabbitmq-server's
// deps/rabbitmq_management/priv/www/doc/stats.html ("/api/queues/(vhost)/(name)": rabbitmqctl
// list_queues' fields plus message_stats; "message_stats objects": publish, deliver_get;
// "_details objects": rate, the change per second over the most recent sampling interval).
type Queue struct {
	Name                   string        `json:"name"`
	MessagesReady          *int          `json:"messages_ready"`
	MessagesUnacknowledged *int          `json:"messages_unacknowledged"`
	Consumers              *int          `json:"consumers"`
	MessageStats           *MessageStats `json:"message_stats"`
}

// MessageStats are the queue's message counts' details; only those with activity appear.
type MessageStats struct {
	// PublishDetails are of messages published to the queue.
	PublishDetails *RateDetails `json:"publish_details"`
	// DeliverGetDetails are of deliveries to consumers and basic.get answers, acknowledged or not.
	DeliverGetDetails *RateDetails `json:"deliver_get_details"`
}

// RateDetails is a count's _details object, of which only the rate is asked for.
type RateDetails struct {
	Rate *float64 `json:"rate"`
}

// PublishRate is the messages published to the queue per second, nil when the broker gave none.
func (q Queue) PublishRate() *float64 {
	if q.MessageStats == nil || q.MessageStats.PublishDetails == nil {
		return nil
	}
	return q.MessageStats.PublishDetails.Rate
}

// DeliverGetRate is the deliveries and basic.get answers per second, nil when the broker gave none.
func (q Queue) DeliverGetRate() *float64 {
	if q.MessageStats == nil || q.MessageStats.DeliverGetDetails == nil {
		return nil
	}
	return q.MessageStats.DeliverGetDetails.Rate
}

// String shows the figures, "-" for one the broker left out.
func (q Queue) String() string {
	count := func(n *int) string {
		if n == nil {
			return "-"
		}
		return strconv.Itoa(*n)
	}
	rate := func(r *float64) string {
		if r == nil {
			return "-"
		}
		return strconv.FormatFloat(*r, 'f', -1, 64) + "/s"
	}
	return fmt.Sprintf("%s: ready %s, unacked %s, consumers %s, publish %s, deliver/get %s", q.Name,
		count(q.MessagesReady), count(q.MessagesUnacknowledged), count(q.Consumers), rate(q.PublishRate()), rate(q.DeliverGetRate()))
}

// GetQueue returns queue's figures in vhost, and whether it exists.
func (c *Client) GetQueue(ctx context.Context, vhost, queue string) (Queue, bool, error) {
	var q Queue
	code, err := c.do(ctx, fmt.Sprintf("reading queue %q in virtual host %q", queue, vhost), http.MethodGet,
		"api/queues/"+esc(vhost)+"/"+esc(queue)+"?columns=name,messages_ready,messages_unacknowledged,consumers,"+
			"message_stats.publish_details.rate,message_stats.deliver_get_details.rate",
		nil, &q, nil, http.StatusNotFound)
	return q, err == nil && code != http.StatusNotFound, err
}

// Connection is a client connection as the API lists it.
type Connection struct {
	Name  string `json:"name"`
	User  string `json:"user"`
	VHost string `json:"vhost"`
}

// UserConnections lists user's open connections. The list is the broker's statistics, which
// can lag a connection's opening by a few seconds.
func (c *Client) UserConnections(ctx context.Context, user string) ([]Connection, error) {
	var all []Connection
	if _, err := c.do(ctx, fmt.Sprintf("listing the connections of user %q", user), http.MethodGet,
		"api/connections?columns=name,user,vhost", nil, &all, nil); err != nil {
		return nil, err
	}
	var mine []Connection
	for _, conn := range all {
		if conn.User == user {
			mine = append(mine, conn)
		}
	}
	return mine, nil
}

// CloseConnection closes the connection named name; the client sees CONNECTION_FORCED with
// reason. One already gone is not an error.
func (c *Client) CloseConnection(ctx context.Context, name, reason string) error {
	_, err := c.do(ctx, fmt.Sprintf("closing connection %q", name), http.MethodDelete, "api/connections/"+esc(name),
		nil, nil, http.Header{"X-Reason": {reason}}, http.StatusNotFound)
	return err
}

// CloseUserConnections closes every open connection of user and returns how many it closed.
func (c *Client) CloseUserConnections(ctx context.Context, user, reason string) (int, error) {
	conns, err := c.UserConnections(ctx, user)
	if err != nil {
		return 0, err
	}
	for i, conn := range conns {
		if err := c.CloseConnection(ctx, conn.Name, reason); err != nil {
			return i, err
		}
	}
	return len(conns), nil
}
