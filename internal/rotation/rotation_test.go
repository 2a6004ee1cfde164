package rotation

// These tests rotate against the real RabbitMQ of scripts/test-broker.sh and an in-memory
// Secrets Manager (internal/testsupport/secretsfake) that keeps the staging labels as AWS
// documents them.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/secretsfake"
)

// randomID is 10 random characters (crypto/rand's base32 alphabet, lower-cased).
func randomID(testing.TB) string { return strings.ToLower(rand.Text()[:10]) }

func value(t testing.TB, c rabbitops.Credentials) string {
	t.Helper()
	raw, err := json.Marshal(c) //nolint:gosec // G117: the test's generated credentials
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// Fixture is a stack's four users on the test broker, their secrets in the fake, and the
// rotator. The administrator is one of the test's own, so that rotating it leaves the broker's.
type Fixture struct {
	B       brokertest.Broker
	Root    *rabbitadmin.Client // the test broker's own administrator
	Secrets *secretsfake.Secrets
	R       *Rotator
	Top     rabbitops.Topology
}

// NewFixture declares a topology and creates the stack's users as the provisioner does.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	b, mgmt := brokertest.RequireManagement(t)
	root, err := rabbitadmin.New(mgmt, b.Username, b.Password, b.Roots(t))
	if err != nil {
		t.Fatal(err)
	}
	id := randomID(t)
	f := &Fixture{B: b, Root: root, Secrets: secretsfake.New(), Top: rabbitops.Topology{Queue: "esm.rot+" + id, VHost: "/", DeliveryLimit: 5}}
	conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, rabbitops.Credentials{Username: b.Username, Password: b.Password}, "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := rabbitops.Declare(ch, f.Top); err != nil {
		t.Fatal(err)
	}
	admin := rabbitops.Credentials{Username: "esm-rot-admin-" + id, Password: "a-" + randomID(t)}
	mapping := rabbitops.Credentials{Username: "esm-rot-map-" + id, Password: "m-" + randomID(t)}
	dead := rabbitops.Credentials{Username: "esm-rot-dlq-" + id, Password: "d-" + randomID(t)}
	monitor := rabbitops.Credentials{Username: "esm-rot-mon-" + id, Password: "o-" + randomID(t)}
	ctx := context.Background()
	if err := root.EnsureUser(ctx, "/", admin.Username, admin.Password,
		rabbitadmin.Grant{Tags: []string{"administrator"}, Permissions: rabbitadmin.Permissions{Configure: ".*", Write: ".*", Read: ".*"}}); err != nil {
		t.Fatal(err)
	}
	objects := rabbitadmin.Objects{Queue: f.Top.Queue, DeadLetterExchange: f.Top.DeadLetterExchange()}
	for role, c := range map[rabbitadmin.Role]rabbitops.Credentials{
		rabbitadmin.RoleMappingConsumer: mapping, rabbitadmin.RoleDeadLetterPublisher: dead, rabbitadmin.RoleMonitor: monitor,
	} {
		g, err := rabbitadmin.PermissionsFor(role, objects)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.EnsureUser(ctx, "/", c.Username, c.Password, g); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, u := range []string{admin.Username, mapping.Username, dead.Username, monitor.Username} {
			_ = root.DeleteUser(context.Background(), u)
			_ = root.DeleteUser(context.Background(), rabbitadmin.Alternate(u))
		}
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(f.Top.Queue, false, false, false)
			_, _ = ch.QueueDelete(f.Top.DeadLetterQueue(), false, false, false)
			_ = ch.ExchangeDelete(f.Top.DeadLetterExchange(), false, false)
		}
		_ = conn.Close()
	})
	f.R = &Rotator{
		Env: Env{
			AdminSecretArn:      f.Secrets.Create("admin", value(t, admin), true),
			MappingSecretArn:    f.Secrets.Create("mapping", value(t, mapping), true),
			DeadLetterSecretArn: f.Secrets.Create("dead-letter", value(t, dead), true),
			MonitorSecretArn:    f.Secrets.Create("monitor", value(t, monitor), true),
			Endpoint:            b.TLSEndpoint, ManagementURL: mgmt, VHost: "/", Queue: f.Top.Queue,
		},
		Secrets: f.Secrets, CAFile: b.CAFile, Logf: t.Logf,
	}
	return f
}

// Rotate runs one rotation of arn through Secrets Manager's four steps.
func (f *Fixture) Rotate(ctx context.Context, arn string) error {
	_, err := f.Secrets.RotateSecret(ctx, arn, "", f.step(f.R))
	return err
}

func (f *Fixture) step(r *Rotator) secretsfake.Step {
	return func(ctx context.Context, id, token, step string) error {
		return r.Handle(ctx, Event{SecretID: id, ClientRequestToken: token, Step: step})
	}
}

// Stage reads one labelled version of arn.
func (f *Fixture) Stage(t testing.TB, arn, stage string) rabbitops.Credentials {
	t.Helper()
	c, err := f.R.must(t.Context(), arn, "", stage)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *Fixture) login(c rabbitops.Credentials) error {
	conn, err := rabbitops.Dial(context.Background(), f.B.TLSEndpoint, c, "/", f.B.CAFile)
	if err == nil {
		_ = conn.Close()
	}
	return err
}

// AwaitListed waits for the broker's statistics to list a connection of user: a connection
// younger than the statistics interval (5 s by default) is not listed, so not closed.
func (f *Fixture) AwaitListed(t testing.TB, user string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if conns, err := f.Root.UserConnections(context.Background(), user); err == nil && len(conns) > 0 {
			return
		}
	}
	t.Fatalf("no connection of %s listed after 15s", user)
}

func TestAlternatingUsersKeepTheConnectedClientUntilTheNextRotation(t *testing.T) {
	f := NewFixture(t)
	ctx := t.Context()
	arn := f.R.Env.MappingSecretArn
	first := f.Stage(t, arn, "AWSCURRENT")
	conn, err := rabbitops.Dial(ctx, f.B.TLSEndpoint, first, "/", f.B.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	f.AwaitListed(t, first.Username)

	if err := f.Rotate(ctx, arn); err != nil {
		t.Fatal(err)
	}
	second := f.Stage(t, arn, "AWSCURRENT")
	if second.Username != first.Username+rabbitadmin.CloneSuffix || f.Stage(t, arn, "AWSPREVIOUS") != first {
		t.Fatalf("after one rotation AWSCURRENT names %q and AWSPREVIOUS is not the first value", second.Username)
	}
	if conn.IsClosed() {
		t.Fatal("the first rotation closed the connection of the user that was current")
	}
	for _, c := range []rabbitops.Credentials{first, second} {
		if err := f.login(c); err != nil {
			t.Errorf("after one rotation, %s cannot log in: %v", c.Username, err)
		}
	}
	objects := rabbitadmin.Objects{Queue: f.Top.Queue, DeadLetterExchange: f.Top.DeadLetterExchange()}
	want, _ := rabbitadmin.PermissionsFor(rabbitadmin.RoleMappingConsumer, objects)
	if got, _, _ := f.Root.GetPermissions(ctx, "/", second.Username); got != want.Permissions {
		t.Errorf("the clone's permissions: %s, want %s", got, want.Permissions)
	}

	if err := f.Rotate(ctx, arn); err != nil {
		t.Fatal(err)
	}
	third := f.Stage(t, arn, "AWSCURRENT")
	if third.Username != first.Username || third.Password == first.Password {
		t.Fatalf("after two rotations AWSCURRENT names %q, want %q with a new password", third.Username, first.Username)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != amqp.ConnectionForced {
			t.Errorf("the connection closed with %v, want CONNECTION_FORCED", e)
		}
		t.Logf("the second rotation closed the old connection: %v", e)
	case <-time.After(10 * time.Second):
		t.Error("the second rotation left the connection made with the first password open")
	}
	if err := f.login(first); err == nil || !strings.Contains(err.Error(), "access refused") {
		t.Errorf("the first password after two rotations: %v, want access refused", err)
	} else {
		t.Logf("REFUSED the first password after two rotations: %v", err)
	}
	for _, c := range []rabbitops.Credentials{second, third} {
		if err := f.login(c); err != nil {
			t.Errorf("after two rotations, %s (AWSPREVIOUS or AWSCURRENT) cannot log in: %v", c.Username, err)
		}
	}
	// A step invoked again after the rotation has nothing to do.
	stages := f.Secrets.Stages(arn)
	for id, labels := range stages {
		if strings.Contains(strings.Join(labels, ","), "AWSCURRENT") {
			if err := f.R.Handle(ctx, Event{SecretID: arn, ClientRequestToken: id, Step: StepSet}); err != nil {
				t.Errorf("setSecret again on the current version: %v", err)
			}
		}
	}
	if got := f.Stage(t, arn, "AWSCURRENT"); got != third {
		t.Error("a repeated step changed AWSCURRENT")
	}
}

func TestAdministratorRotatesAsASingleUser(t *testing.T) {
	f := NewFixture(t)
	ctx := t.Context()
	arn := f.R.Env.AdminSecretArn
	old := f.Stage(t, arn, "AWSCURRENT")
	if err := f.Rotate(ctx, arn); err != nil {
		t.Fatal(err)
	}
	now := f.Stage(t, arn, "AWSCURRENT")
	if now.Username != old.Username || now.Password == old.Password {
		t.Fatalf("AWSCURRENT names %q after rotating %q, want the same user with a new password", now.Username, old.Username)
	}
	if ok, err := f.Root.Authenticates(ctx, now.Username, now.Password); err != nil || !ok {
		t.Errorf("the management API with the new password: %v, %v", ok, err)
	}
	if ok, err := f.Root.Authenticates(ctx, old.Username, old.Password); err != nil || ok {
		t.Errorf("the management API still takes the old password: %v, %v", ok, err)
	}
	if u, _, _ := f.Root.GetUser(ctx, now.Username); strings.Join(u.Tags, ",") != "administrator" {
		t.Errorf("the administrator's tags after rotation: %v", u.Tags)
	}
	// The other secrets rotate with the rotated administrator.
	if err := f.Rotate(ctx, f.R.Env.DeadLetterSecretArn); err != nil {
		t.Fatal(err)
	}
	if err := f.login(f.Stage(t, f.R.Env.DeadLetterSecretArn, "AWSCURRENT")); err != nil {
		t.Error(err)
	}
}

// TestMonitorRotatesAsAnAlternatingUser: the monitor's secret alternates between its pair as
// the mapping's does, each new AWSCURRENT with the monitoring tag and nothing granted, and
// reading the queue's figures through the management API; testSecret refuses a pending user the
// API does not let in.
func TestMonitorRotatesAsAnAlternatingUser(t *testing.T) {
	f := NewFixture(t)
	ctx := t.Context()
	arn := f.R.Env.MonitorSecretArn
	first := f.Stage(t, arn, "AWSCURRENT")
	want, _ := rabbitadmin.PermissionsFor(rabbitadmin.RoleMonitor, rabbitadmin.Objects{})
	for i, wantUser := range []string{rabbitadmin.Alternate(first.Username), first.Username} {
		if err := f.Rotate(ctx, arn); err != nil {
			t.Fatal(err)
		}
		now := f.Stage(t, arn, "AWSCURRENT")
		if now.Username != wantUser || now.Password == first.Password {
			t.Fatalf("rotation %d: AWSCURRENT names %q, want %q with a new password", i+1, now.Username, wantUser)
		}
		u, _, err := f.Root.GetUser(ctx, now.Username)
		p, _, err2 := f.Root.GetPermissions(ctx, "/", now.Username)
		if err != nil || err2 != nil || !slices.Equal(u.Tags, want.Tags) || p != want.Permissions {
			t.Errorf("rotation %d: %s has tags %v and %s (%v, %v), want %v and %s", i+1, now.Username, u.Tags, p, err, err2, want.Tags, want.Permissions)
		}
		c, err := rabbitadmin.New(f.R.Env.ManagementURL, now.Username, now.Password, f.B.Roots(t))
		if err != nil {
			t.Fatal(err)
		}
		if q, found, err := c.GetQueue(ctx, "/", f.Top.Queue); err != nil || !found {
			t.Errorf("rotation %d: the monitor reading the queue as %s: found %v, %v", i+1, now.Username, found, err)
		} else {
			t.Logf("rotation %d: %s reads %v", i+1, now.Username, q)
		}
	}

	f.failTestSecret(t, arn, "management API refuses the monitor user", func(ctx context.Context, pending string) error {
		return f.Root.SetTags(ctx, pending, nil)
	})
}

// TestAFailedRotationLeavesTheLastWorkingCredentialsCurrent: the broker unreachable at
// setSecret, or refusing AWSPENDING at testSecret, stops the rotation before finishSecret;
// AWSCURRENT still logs in, and a retry with the same token completes once the cause is gone.
func TestAFailedRotationLeavesTheLastWorkingCredentialsCurrent(t *testing.T) {
	f := NewFixture(t)
	ctx := t.Context()
	for _, arn := range []string{f.R.Env.MappingSecretArn, f.R.Env.AdminSecretArn} {
		before := f.Stage(t, arn, "AWSCURRENT")
		broken := *f.R
		broken.Env.ManagementURL = "https://" + brokertest.ClosedAddress(t) + "/"
		token, err := f.Secrets.RotateSecret(ctx, arn, "", f.step(&broken))
		if err == nil || !strings.HasPrefix(err.Error(), "setSecret") {
			t.Fatalf("rotating %s with the broker unreachable: %v, want a failed setSecret", before.Username, err)
		}
		t.Logf("FAILED as expected: %v", err)
		if got := f.Stage(t, arn, "AWSCURRENT"); got != before {
			t.Errorf("%s: AWSCURRENT changed by a failed rotation", before.Username)
		}
		if err := f.login(before); err != nil {
			t.Errorf("%s: AWSCURRENT no longer logs in after a failed setSecret: %v", before.Username, err)
		}
		if err := f.Rotate(ctx, arn); err == nil || !strings.Contains(err.Error(), "previous rotation") {
			t.Errorf("a new rotation while the failed one holds AWSPENDING: %v", err)
		}
		if _, err := f.Secrets.RotateSecret(ctx, arn, token, f.step(f.R)); err != nil {
			t.Fatalf("retrying the rotation with its token: %v", err)
		}
		if err := f.login(f.Stage(t, arn, "AWSCURRENT")); err != nil {
			t.Errorf("after the retry: %v", err)
		}
	}

	// The mapping's pending user refuses AWSPENDING at testSecret: someone changed its password
	// between the steps.
	f.failTestSecret(t, f.R.Env.MappingSecretArn, "access refused", func(ctx context.Context, pending string) error {
		return f.Root.SetPassword(ctx, pending, "not-the-pending-one")
	})
}

// failTestSecret rotates arn with tamper run on the pending user just before testSecret, and
// requires the rotation to fail there saying want, with AWSCURRENT unchanged and still logging in.
func (f *Fixture) failTestSecret(t testing.TB, arn, want string, tamper func(ctx context.Context, pending string) error) {
	t.Helper()
	before := f.Stage(t, arn, "AWSCURRENT")
	_, err := f.Secrets.RotateSecret(t.Context(), arn, "", func(ctx context.Context, id, token, step string) error {
		if step == StepTest {
			if err := tamper(ctx, rabbitadmin.Alternate(before.Username)); err != nil {
				return err
			}
		}
		return f.R.Handle(ctx, Event{SecretID: id, ClientRequestToken: token, Step: step})
	})
	if err == nil || !strings.HasPrefix(err.Error(), "testSecret") || !strings.Contains(err.Error(), want) {
		t.Fatalf("rotation tampered with before testSecret: %v, want a failed testSecret that says %q", err, want)
	}
	t.Logf("FAILED as expected: %v", err)
	if got := f.Stage(t, arn, "AWSCURRENT"); got != before {
		t.Error("AWSCURRENT changed by a rotation that failed its test")
	}
	if err := f.login(before); err != nil {
		t.Errorf("AWSCURRENT no longer logs in after a failed testSecret: %v", err)
	}
}

func TestEventsAndSettingsAreChecked(t *testing.T) {
	if _, err := LoadEnv(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "MAPPING_SECRET_ARN") || !strings.Contains(err.Error(), "MONITOR_SECRET_ARN") ||
		!strings.Contains(err.Error(), "BROKER_MANAGEMENT_URL") {
		t.Errorf("LoadEnv of nothing: %v", err)
	}
	f := NewFixture(t)
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:other", ClientRequestToken: "t", Step: StepCreate}, "none of the stack's"}, //nolint:gosec // G101: a fake ARN
		{Event{SecretID: f.R.Env.MappingSecretArn, ClientRequestToken: "no-such-version", Step: StepCreate}, "has no stage for rotation"},
		{Event{SecretID: f.R.Env.MappingSecretArn, Step: StepCreate}, "no SecretId or ClientRequestToken"},
	} {
		if err := f.R.Handle(t.Context(), c.ev); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.ev, err, c.want)
		}
	}
}
