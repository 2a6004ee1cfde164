package provisioner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

// secretsByArn serves one secret per ARN, as Secrets Manager's AWSCURRENT.
type secretsByArn map[string]string

func (s secretsByArn) SecretString(_ context.Context, arn string) (string, error) {
	v, ok := s[arn]
	if !ok {
		return "", errors.New("ResourceNotFoundException: no secret " + arn)
	}
	return v, nil
}

func (s secretsByArn) put(arn string, c rabbitops.Credentials) {
	raw, _ := json.Marshal(c) //nolint:gosec // G117: the test's generated credentials
	s[arn] = string(raw)
}

const (
	adminArn      = "arn:aws:secretsmanager:us-east-1:123456789012:secret:admin"       //nolint:gosec // G101: a fake ARN
	mappingArn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mapping"     //nolint:gosec // G101: a fake ARN
	deadLetterArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dead-letter" //nolint:gosec // G101: a fake ARN
	monitorArn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:monitor"     //nolint:gosec // G101: a fake ARN
)

// randomID is 12 random characters (crypto/rand's base32 alphabet, lower-cased).
func randomID(*testing.T) string { return strings.ToLower(rand.Text()[:12]) }

// withUsers is a provisioner with the users action's settings, its secrets holding fresh user
// names, and the administrator's management client to look at the result.
func withUsers(t *testing.T) (*Provisioner, secretsByArn, *rabbitadmin.Client) {
	t.Helper()
	p, _ := provisioner(t, contract.RouteEndpoints)
	b, mgmt := brokertest.RequireManagement(t)
	secrets := secretsByArn{}
	secrets.put(adminArn, rabbitops.Credentials{Username: b.Username, Password: b.Password})
	id := randomID(t)
	secrets.put(mappingArn, rabbitops.Credentials{Username: "esm-mapping-" + id, Password: "pw-" + randomID(t)})
	secrets.put(deadLetterArn, rabbitops.Credentials{Username: "esm-dlq-" + id, Password: "pw-" + randomID(t)})
	secrets.put(monitorArn, rabbitops.Credentials{Username: "esm-monitor-" + id, Password: "pw-" + randomID(t)})
	p.Env.SecretArn, p.Env.MappingSecretArn, p.Env.DeadLetterSecretArn, p.Env.MonitorSecretArn, p.Env.ManagementURL = adminArn, mappingArn, deadLetterArn, monitorArn, mgmt
	p.Env.Queue = "esm.users+p*" + id // needs escaping in the grant
	p.Secrets = secrets
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, b.Roots(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, u := range []string{"esm-mapping-" + id, "esm-dlq-" + id, "esm-monitor-" + id} {
			_ = admin.DeleteUser(context.Background(), u)
			_ = admin.DeleteUser(context.Background(), rabbitadmin.Alternate(u))
		}
	})
	if _, err := p.Handle(t.Context(), contract.Request{Action: contract.ActionDeclare}); err != nil {
		t.Fatal(err)
	}
	return p, secrets, admin
}

func credsOf(t *testing.T, s secretsByArn, arn string) rabbitops.Credentials {
	t.Helper()
	c, err := rabbitops.ReadCredentials(t.Context(), s, arn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUsersCreatesEachUserOnceWithItsGrant: the first run creates the three users with exactly
// PermissionsFor's grant and tags (the monitor's: the monitoring tag, an entry that grants
// nothing); the second changes nothing; a widened grant is put back and the
// user's open connection is closed, so that it reconnects under the narrow one.
func TestUsersCreatesEachUserOnceWithItsGrant(t *testing.T) {
	p, secrets, admin := withUsers(t)
	ctx := t.Context()
	out, err := p.Handle(ctx, contract.Request{Action: contract.ActionUsers})
	if err != nil {
		t.Fatal(err)
	}
	first := out.(contract.UsersResponse)
	if len(first.Users) != 3 || !first.Users[0].Created || !first.Users[1].Created || !first.Users[2].Created || !first.Users[0].PermissionsSet ||
		first.Users[2].Role != string(rabbitadmin.RoleMonitor) {
		t.Fatalf("first run: %+v, want the mapping's, the dead-letter and the monitor's users created", first)
	}
	objects := rabbitadmin.Objects{Queue: p.Env.Queue, DeadLetterExchange: p.topology().DeadLetterExchange()}
	for _, c := range []struct {
		role rabbitadmin.Role
		arn  string
	}{{rabbitadmin.RoleMappingConsumer, mappingArn}, {rabbitadmin.RoleDeadLetterPublisher, deadLetterArn}, {rabbitadmin.RoleMonitor, monitorArn}} {
		want, _ := rabbitadmin.PermissionsFor(c.role, objects)
		user := credsOf(t, secrets, c.arn).Username
		got, found, err := admin.GetPermissions(ctx, "/", user)
		if err != nil || !found || got != want.Permissions {
			t.Errorf("%s: permissions %s (found %v, %v), want %s", c.role, got, found, err, want.Permissions)
		}
		if u, _, _ := admin.GetUser(ctx, user); !slices.Equal(u.Tags, want.Tags) {
			t.Errorf("%s: tags %v, want %v", c.role, u.Tags, want.Tags)
		}
	}
	out, err = p.Handle(ctx, contract.Request{Action: contract.ActionUsers})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.(contract.UsersResponse).Users {
		if u.Created || u.PasswordSet || u.TagsSet || u.PermissionsSet || u.ConnectionsClosed > 0 {
			t.Errorf("second run changed %+v, want nothing", u)
		}
	}
	t.Logf("second run: %+v", out)

	// Someone widens the mapping's grant and the user connects under it.
	mapping := credsOf(t, secrets, mappingArn)
	if err := admin.SetPermissions(ctx, "/", mapping.Username, rabbitadmin.Permissions{Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	conn, err := rabbitops.Dial(ctx, p.Env.Endpoint, mapping, "/", p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	awaitListed(t, admin, mapping.Username)
	out, err = p.Handle(ctx, contract.Request{Action: contract.ActionUsers})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(contract.UsersResponse).Users[0]
	if !got.PermissionsSet || got.ConnectionsClosed != 1 || got.PasswordSet {
		t.Errorf("after the grant was widened: %+v, want the grant set back and one connection closed", got)
	}
	select {
	case e := <-closed:
		t.Logf("the mapping user's connection: %v", e)
	case <-time.After(10 * time.Second):
		t.Error("the mapping user's connection is still open")
	}
}

// awaitListed waits for the broker's statistics to list a connection of user.
func awaitListed(t *testing.T, admin *rabbitadmin.Client, user string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if conns, err := admin.UserConnections(t.Context(), user); err == nil && len(conns) > 0 {
			return
		}
	}
	t.Fatalf("no connection of %s listed after 15s", user)
}

// TestUsersUpdatesPasswordAndThePair: a new password in the secret reaches the broker; once
// rotation has made the pair's other user, it gets the same grant and keeps its password.
func TestUsersUpdatesPasswordAndThePair(t *testing.T) {
	p, secrets, admin := withUsers(t)
	ctx := t.Context()
	if _, err := p.Handle(ctx, contract.Request{Action: contract.ActionUsers}); err != nil {
		t.Fatal(err)
	}
	mapping := credsOf(t, secrets, mappingArn)
	clone := rabbitops.Credentials{Username: rabbitadmin.Alternate(mapping.Username), Password: "clone-" + randomID(t)}
	if err := admin.EnsureUser(ctx, "/", clone.Username, clone.Password, rabbitadmin.Grant{Permissions: rabbitadmin.Permissions{Read: ".*"}}); err != nil {
		t.Fatal(err)
	}
	mapping.Password = "new-" + randomID(t)
	secrets.put(mappingArn, mapping)
	out, err := p.Handle(ctx, contract.Request{Action: contract.ActionUsers})
	if err != nil {
		t.Fatal(err)
	}
	users := out.(contract.UsersResponse).Users
	if len(users) != 4 || !users[0].PasswordSet || users[0].PermissionsSet || users[1].User != clone.Username ||
		!users[1].PermissionsSet || users[1].PasswordSet {
		t.Fatalf("users: %+v, want the mapping's password set and its clone's grant narrowed", users)
	}
	for _, c := range []rabbitops.Credentials{mapping, clone} {
		conn, err := rabbitops.Dial(ctx, p.Env.Endpoint, c, "/", p.CAFile)
		if err != nil {
			t.Errorf("logging in as %s: %v", c.Username, err)
			continue
		}
		_ = conn.Close()
	}
	want, _ := rabbitadmin.PermissionsFor(rabbitadmin.RoleMappingConsumer, rabbitadmin.Objects{Queue: p.Env.Queue, DeadLetterExchange: p.topology().DeadLetterExchange()})
	if got, _, _ := admin.GetPermissions(ctx, "/", clone.Username); got != want.Permissions {
		t.Errorf("the clone's permissions: %s, want %s", got, want.Permissions)
	}
}

// TestUsersRefusesBeforeChangingAnything: a user named like the administrator, two jobs
// sharing a user, a missing virtual host and missing settings are refused, naming the setting,
// and no user is created.
func TestUsersRefusesBeforeChangingAnything(t *testing.T) {
	p, secrets, admin := withUsers(t)
	ctx := t.Context()
	adminUser := credsOf(t, secrets, adminArn).Username
	dl, mon := credsOf(t, secrets, deadLetterArn), credsOf(t, secrets, monitorArn)
	check := func(name string, mutate func(p *Provisioner, s secretsByArn), wants ...string) {
		t.Helper()
		q, s := *p, secretsByArn{}
		for k, v := range secrets {
			s[k] = v
		}
		q.Secrets = s
		mutate(&q, s)
		_, err := q.Handle(ctx, contract.Request{Action: contract.ActionUsers})
		if err == nil {
			t.Errorf("%s: accepted", name)
			return
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", name, err, w)
			}
		}
		for _, u := range []string{dl.Username, mon.Username} {
			if _, found, _ := admin.GetUser(ctx, u); found {
				t.Errorf("%s: user %s was created before the refusal", name, u)
			}
		}
		t.Logf("REFUSED %s: %v", name, err)
	}
	check("the mapping's user named as the administrator", func(_ *Provisioner, s secretsByArn) {
		s.put(mappingArn, rabbitops.Credentials{Username: adminUser, Password: "x"})
	}, `"`+adminUser+`"`, "administrator", contract.EnvMappingSecretArn)
	check("the mapping's user the administrator's pair", func(_ *Provisioner, s secretsByArn) {
		s.put(mappingArn, rabbitops.Credentials{Username: adminUser + rabbitadmin.CloneSuffix, Password: "x"})
	}, "administrator", contract.EnvMappingSecretArn)
	check("both jobs as one user", func(_ *Provisioner, s secretsByArn) {
		s.put(mappingArn, dl)
	}, contract.EnvDeadLetterSecretArn, contract.EnvMappingSecretArn)
	check("the monitor as the mapping's pair", func(_ *Provisioner, s secretsByArn) {
		s.put(monitorArn, rabbitops.Credentials{Username: credsOf(t, s, mappingArn).Username + rabbitadmin.CloneSuffix, Password: "x"})
	}, contract.EnvMonitorSecretArn, contract.EnvMappingSecretArn)
	check("a virtual host that does not exist", func(q *Provisioner, _ secretsByArn) {
		q.Env.VHost = "esm-no-such-vhost-" + randomID(t)
	}, "virtualHost", "does not exist")
	check("no management URL", func(q *Provisioner, _ secretsByArn) {
		q.Env.ManagementURL, q.Env.DeadLetterSecretArn, q.Env.MonitorSecretArn = "", "", ""
	}, contract.EnvBrokerManagementURL, contract.EnvDeadLetterSecretArn, contract.EnvMonitorSecretArn)
}
