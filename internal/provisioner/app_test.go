package provisioner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/provisioner/diagnose"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

// fakeSecrets serves the secret the ESM reads, or an error.
type fakeSecrets struct {
	value string
	err   error
	calls int
}

func (f *fakeSecrets) SecretString(context.Context, string) (string, error) {
	f.calls++
	return f.value, f.err
}

// localServices starts a TLS server on loopback per service, standing in for the regional
// endpoints, and returns targets pointing at them plus a TLS config trusting them.
func localServices(t *testing.T) ([]diagnose.Target, *tls.Config) {
	t.Helper()
	pool := x509.NewCertPool()
	var targets []diagnose.Target
	for _, name := range []string{"sts", "secretsmanager", "lambda"} {
		srv := httptest.NewTLSServer(nil)
		t.Cleanup(srv.Close)
		pool.AddCert(srv.Certificate())
		u, _ := url.Parse(srv.URL)
		_, port, _ := net.SplitHostPort(u.Host)
		// httptest's certificate is for example.com and 127.0.0.1; "localhost" resolves the
		// way a service name does.
		targets = append(targets, diagnose.Target{Name: name, Address: "127.0.0.1:" + port})
	}
	return targets, &tls.Config{RootCAs: pool}
}

func provisioner(t *testing.T, mode contract.ServiceRoute) (*Provisioner, *fakeSecrets) {
	t.Helper()
	b := brokertest.Require(t)
	secret, _ := json.Marshal(rabbitops.Credentials{Username: b.Username, Password: b.Password}) //nolint:gosec // G117: the test broker's generated credentials
	secrets := &fakeSecrets{value: string(secret)}
	targets, tlsConfig := localServices(t)
	queue := fmt.Sprintf("provisioner-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	p := &Provisioner{
		Env: Env{SecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:test", Endpoint: b.TLSEndpoint, //nolint:gosec // G101: a fake ARN
			VHost: "/", Queue: queue, DeliveryLimit: 5, EngineVersion: "3.13", NetworkMode: "isolated", Route: mode, Region: "us-east-1"},
		Secrets: secrets, CAFile: b.CAFile, Targets: targets, TLSConfig: tlsConfig, CheckTimeout: 2 * time.Second,
	}
	t.Cleanup(func() { deleteTopology(p) })
	return p, secrets
}

func deleteTopology(p *Provisioner) {
	conn, ch, err := p.channel(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	top := p.topology()
	_, _ = ch.QueueDelete(top.Queue, false, false, false)
	_, _ = ch.QueueDelete(top.DeadLetterQueue(), false, false, false)
	_ = ch.ExchangeDelete(top.DeadLetterExchange(), false, false)
}

func TestDeclareIsIdempotentAndPublishConfirms(t *testing.T) {
	p, secrets := provisioner(t, contract.RouteEndpoints)
	ctx := context.Background()
	for range 2 {
		out, err := p.Handle(ctx, contract.Request{Action: contract.ActionDeclare})
		if err != nil {
			t.Fatal(err)
		}
		if d := out.(contract.DeclareResponse); d.Queue != p.Env.Queue || d.DeadLetterQueue != p.Env.Queue+".dlq" || d.DeliveryLimit != 5 ||
			d.EngineVersion != "3.13" || len(d.Warnings) > 0 {
			t.Errorf("declare response = %+v", d)
		}
	}
	if secrets.calls != 2 {
		t.Errorf("secret read %d times, want once per request", secrets.calls)
	}
	out, err := p.Handle(ctx, contract.Request{Action: contract.ActionPublish, Count: 25, RunID: "smoke1"})
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(contract.PublishResponse)
	if resp.Published != 25 || resp.Messages[24].MessageID != "smoke1-000024" || resp.Messages[0].PublishedAt.IsZero() {
		t.Errorf("publish response = %d messages, last %+v", resp.Published, resp.Messages[len(resp.Messages)-1])
	}
}

// TestRedriveThroughTheProvisioner dead-letters messages the way the queue does (rejected
// without requeue), then redrives them through Handle: a dry run, a capped run, and a run
// that starts too close to the function's timeout to take any message.
func TestRedriveThroughTheProvisioner(t *testing.T) {
	p, _ := provisioner(t, contract.RouteEndpoints)
	ctx := context.Background()
	if _, err := p.Handle(ctx, contract.Request{Action: contract.ActionDeclare}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Handle(ctx, contract.Request{Action: contract.ActionPublish, Count: 5, RunID: "dead"}); err != nil {
		t.Fatal(err)
	}
	conn, ch, err := p.channel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 5 {
		d, ok, err := ch.Get(p.Env.Queue, false)
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		if err := d.Reject(false); err != nil {
			t.Fatal(err)
		}
	}
	redrive := func(ctx context.Context, req contract.Request) contract.RedriveResponse {
		t.Helper()
		req.Action = contract.ActionRedrive
		out, err := p.Handle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return out.(contract.RedriveResponse)
	}

	dry := redrive(ctx, contract.Request{DryRun: true})
	if !dry.DryRun || dry.Found != 5 || dry.Moved != 0 || dry.Remaining != 5 || len(dry.Messages) != 5 ||
		dry.Messages[0].Error != "dead-lettered by RabbitMQ: rejected" {
		t.Errorf("dry run = %+v", dry)
	}
	capped := redrive(ctx, contract.Request{Max: 2})
	if capped.Found != 5 || capped.Moved != 2 || capped.Remaining != 0 || capped.Messages[1].RedriveCount != 1 {
		t.Errorf("redrive of 2 = %+v", capped)
	}
	late, cancel := context.WithTimeout(ctx, RedriveMargin-time.Second)
	defer cancel()
	if r := redrive(late, contract.Request{}); !r.Stopped || r.Moved != 0 || r.Remaining != 3 {
		t.Errorf("a redrive inside the timeout's margin = %+v, want it stopped before the first message", r)
	}
	rest := redrive(ctx, contract.Request{})
	if rest.Moved != 3 || rest.Remaining != 0 {
		t.Errorf("redrive of the rest = %+v", rest)
	}
	if q, err := ch.QueueDeclarePassive(p.Env.Queue, true, false, false, false, nil); err != nil || q.Messages != 5 {
		t.Errorf("the queue holds %d messages after the redrive, want 5 (%v)", q.Messages, err)
	}
}

func TestDeclareRefusesConflictingQueue(t *testing.T) {
	p, _ := provisioner(t, contract.RouteEndpoints)
	conn, ch, err := p.channel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := ch.QueueDeclare(p.Env.Queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	_, err = p.Handle(context.Background(), contract.Request{Action: contract.ActionDeclare})
	if !errors.Is(err, rabbitops.ErrQueueConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
}

// TestDeclareKeepsDeadLetterQueueWithOtherArguments: a dead-letter queue declared before its
// arguments depended on the engine version (here with another delivery limit) does not fail
// the deployment; the response warns, and the main queue is declared.
func TestDeclareKeepsDeadLetterQueueWithOtherArguments(t *testing.T) {
	p, _ := provisioner(t, contract.RouteEndpoints)
	conn, ch, err := p.channel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dlq := p.topology().DeadLetterQueue()
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(20)}); err != nil {
		t.Fatal(err)
	}
	out, err := p.Handle(context.Background(), contract.Request{Action: contract.ActionDeclare})
	if err != nil {
		t.Fatal(err)
	}
	d := out.(contract.DeclareResponse)
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], dlq) || !strings.Contains(d.Warnings[0], "delete it") {
		t.Errorf("declare response warnings = %q", d.Warnings)
	}
	if q, err := ch.QueueDeclarePassive(p.Env.Queue, true, false, false, false, nil); err != nil || q.Name != p.Env.Queue {
		t.Errorf("the main queue was not declared: %v", err)
	}
	rendered, _ := json.Marshal(d)
	if !strings.Contains(string(rendered), `"warnings":[`) {
		t.Errorf("the response does not carry the warnings: %s", rendered)
	}
}

func TestDiagnosePassesAgainstLocalBroker(t *testing.T) {
	p, _ := provisioner(t, contract.RouteAWSSide)
	out, err := p.Handle(context.Background(), contract.Request{Action: contract.ActionDiagnose})
	if err != nil {
		t.Fatal(err)
	}
	report := out.(contract.DiagnoseResponse)
	var names []string
	for _, c := range report.Checks {
		names = append(names, c.Name)
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
	if !report.OK || strings.Join(names, ",") != "sts,secretsmanager,lambda,broker" {
		t.Errorf("report = %+v", report)
	}
}

func TestDiagnoseNamesTheMissingPiece(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		route   contract.ServiceRoute
		breakIt func(p *Provisioner, s *fakeSecrets)
		failed  string
		hint    string
	}{
		{"secrets manager endpoint unreachable", contract.RouteEndpoints,
			func(p *Provisioner, _ *fakeSecrets) { p.Targets[1].Address = brokertest.ClosedAddress(t) },
			"secretsmanager", "secretsmanager endpoint exists in this VPC with private DNS on"},
		{"the VPC's own lambda endpoint unreachable", contract.RouteExistingEndpoints,
			func(p *Provisioner, _ *fakeSecrets) { p.Targets[2].Address = brokertest.ClosedAddress(t) },
			"lambda", "lambda endpoint exists in this VPC with private DNS on"},
		{"no NAT route to STS", contract.RouteNAT,
			func(p *Provisioner, _ *fakeSecrets) { p.Targets[0].Address = brokertest.ClosedAddress(t) },
			"sts", "route 0.0.0.0/0 to a NAT gateway"},
		{"broker port closed", contract.RouteEndpoints,
			func(p *Provisioner, _ *fakeSecrets) { p.Env.Endpoint = "amqps://" + brokertest.ClosedAddress(t) },
			"broker", "must admit 5671 from itself"},
		{"wrong credentials", contract.RouteEndpoints,
			func(_ *Provisioner, s *fakeSecrets) {
				s.value = `{"username":"esm-test","password":"wrong-password-123"}`
			},
			"broker", "credentials secret must match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, secrets := provisioner(t, tc.route)
			tc.breakIt(p, secrets)
			_, err := p.Handle(ctx, contract.Request{Action: contract.ActionDiagnose})
			if err == nil {
				t.Fatal("the diagnosis passed")
			}
			report := p.diagnose(ctx)
			for _, c := range report.Checks {
				if (c.Name == tc.failed) == c.OK {
					t.Errorf("check %s ok=%v; want only %s to fail (%s)", c.Name, c.OK, tc.failed, c.Detail)
				}
				if c.Name == tc.failed && !strings.Contains(c.Hint, tc.hint) {
					t.Errorf("hint for %s = %q, want it to mention %q", c.Name, c.Hint, tc.hint)
				}
			}
			if strings.Contains(err.Error(), "wrong-password-123") {
				t.Error("the report leaks the password")
			}
		})
	}
}

func TestLoadEnvNamesEveryProblem(t *testing.T) {
	_, err := LoadEnv(func(name string) string {
		return map[string]string{"DELIVERY_LIMIT": "zero", "SERVICE_ROUTE": "vpn"}[name]
	})
	if err == nil {
		t.Fatal("accepted an empty environment")
	}
	for _, name := range []string{"BROKER_SECRET_ARN", "BROKER_ENDPOINT", "QUEUE_NAME", "DELIVERY_LIMIT", "SERVICE_ROUTE", "AWS_REGION", "ENGINE_VERSION"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestLoadEnvEngineVersion(t *testing.T) {
	env := map[string]string{ //nolint:gosec // G101: a fake ARN
		"BROKER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "BROKER_ENDPOINT": "amqps://b-1.mq.us-east-1.amazonaws.com:5671",
		"BROKER_VHOST": "/", "QUEUE_NAME": "events", "DELIVERY_LIMIT": "5", "NETWORK_MODE": "isolated", "SERVICE_ROUTE": "endpoints",
		"AWS_REGION": "us-east-1",
	}
	for version, ok := range map[string]bool{"3.13": true, "4.2": true, "4.3": true, "4.0": true, "3.12": false, "4": false, "latest": false, "": false} {
		env["ENGINE_VERSION"] = version
		e, err := LoadEnv(func(name string) string { return env[name] })
		if ok && (err != nil || e.EngineVersion != version || (&Provisioner{Env: e}).topology().EngineVersion != version) {
			t.Errorf("ENGINE_VERSION=%q: %v, read %q", version, err, e.EngineVersion)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), `ENGINE_VERSION="`+version+`"`)) {
			t.Errorf("ENGINE_VERSION=%q: want an error naming the variable, got %v", version, err)
		}
	}
}

func TestUnknownActionAndBadPublish(t *testing.T) {
	p := &Provisioner{}
	if _, err := p.Handle(context.Background(), contract.Request{Action: "drop"}); err == nil || !strings.Contains(err.Error(), "unknown action") ||
		!strings.Contains(err.Error(), contract.ActionRedrive) {
		t.Errorf("unknown action: %v", err)
	}
	if _, err := p.Handle(context.Background(), contract.Request{Action: contract.ActionPublish, Count: 0}); err == nil {
		t.Error("publish without a count succeeded")
	}
}
