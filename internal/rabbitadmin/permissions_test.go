package rabbitadmin

import (
	"regexp"
	"strings"
	"testing"
)

// TestExactMatchesTheNameAlone: the expression matches its name and no other, whatever the
// name holds, under Go's regexp, whose syntax for these escapes is PCRE's (RabbitMQ's re).
// The real broker's answer is in the tests of rabbitadmin_test.go.
func TestExactMatchesTheNameAlone(t *testing.T) {
	for _, name := range []string{"events", "orders.v1", "a+b", "a*b", "a.b+c*d?e(f)[g]{h}|i^j$k\\l", "ünïcode.q"} {
		re := regexp.MustCompile(Exact(name))
		if !re.MatchString(name) {
			t.Errorf("Exact(%q) = %q does not match the name", name, Exact(name))
		}
		for _, other := range []string{name + ".dlq", name + ".dlx", "x" + name, name[:len(name)-1], strings.ReplaceAll(name, ".", "X"), strings.ReplaceAll(name, "+", ""), ""} {
			if other != name && re.MatchString(other) {
				t.Errorf("Exact(%q) = %q also matches %q", name, Exact(name), other)
			}
		}
	}
	if got, want := Exact("a.b+c*d"), `^a\.b\+c\*d$`; got != want {
		t.Errorf("Exact(a.b+c*d) = %q, want %q", got, want)
	}
}

func TestPermissionsFor(t *testing.T) {
	objs := Objects{Queue: "events.v1+x*", DeadLetterExchange: "events.v1+x*.dlx"}
	for _, tc := range []struct {
		role Role
		want Grant
	}{
		{RoleMappingConsumer, Grant{Permissions: Permissions{Configure: "", Write: "", Read: `^events\.v1\+x\*$`}}},
		{RoleDeadLetterPublisher, Grant{Permissions: Permissions{Configure: "", Write: `^events\.v1\+x\*\.dlx$`, Read: ""}}},
		{RoleMonitor, Grant{Tags: []string{"monitoring"}}},
	} {
		got, err := PermissionsFor(tc.role, objs)
		if err != nil {
			t.Errorf("%s: %v", tc.role, err)
			continue
		}
		if got.Permissions != tc.want.Permissions || strings.Join(got.Tags, ",") != strings.Join(tc.want.Tags, ",") {
			t.Errorf("%s: got %+v, want %+v", tc.role, got, tc.want)
		}
	}
}

func TestPermissionsForRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		role Role
		objs Objects
		want string
	}{
		{RoleMappingConsumer, Objects{}, `queue name "" must be 1-`},
		{RoleMappingConsumer, Objects{Queue: "amq.events"}, "must not start with amq."},
		{RoleDeadLetterPublisher, Objects{Queue: "events"}, `dead-letter exchange "" must be a name of the stack's own`},
		{RoleDeadLetterPublisher, Objects{Queue: "events", DeadLetterExchange: "amq.direct"}, `dead-letter exchange "amq.direct"`},
		{"admin", Objects{Queue: "events"}, `broker user role "admin": want one of [mapping-consumer dead-letter-publisher monitor]`},
	} {
		_, err := PermissionsFor(tc.role, tc.objs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PermissionsFor(%s, %+v) = %v, want an error containing %q", tc.role, tc.objs, err, tc.want)
		}
	}
}
