package provisioner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// stackUser is one broker user the stack needs: its role and the secret it lives in.
type stackUser struct {
	role      rabbitadmin.Role
	secretArn string
	setting   string // the environment variable that names the secret
	creds     rabbitops.Credentials
	grant     rabbitadmin.Grant
}

// users ensures the stack's broker users as the administrator (BROKER_SECRET_ARN): each from its
// own secret, with exactly rabbitadmin.PermissionsFor's grant and tags. It checks everything
// before it changes anything, and changes only what differs: a second run changes nothing. The
// secret's user is the one in AWSCURRENT; once rotation has made its pair (docs/broker-users.md,
// "Rotation"), the other user of the pair gets the same grant, its password left to rotation.
func (p *Provisioner) users(ctx context.Context) (contract.UsersResponse, error) {
	var missing []string
	for name, value := range map[string]string{
		contract.EnvBrokerManagementURL: p.Env.ManagementURL, contract.EnvMappingSecretArn: p.Env.MappingSecretArn,
		contract.EnvDeadLetterSecretArn: p.Env.DeadLetterSecretArn, contract.EnvMonitorSecretArn: p.Env.MonitorSecretArn,
	} {
		if value == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return contract.UsersResponse{}, fmt.Errorf("users: %s not set: the program sets them with the stack's broker users", strings.Join(missing, ", "))
	}
	admin, err := p.credentials(ctx)
	if err != nil {
		return contract.UsersResponse{}, err
	}
	objects := rabbitadmin.Objects{Queue: p.Env.Queue, DeadLetterExchange: p.topology().DeadLetterExchange()}
	wanted := []*stackUser{
		{role: rabbitadmin.RoleMappingConsumer, secretArn: p.Env.MappingSecretArn, setting: contract.EnvMappingSecretArn},
		{role: rabbitadmin.RoleDeadLetterPublisher, secretArn: p.Env.DeadLetterSecretArn, setting: contract.EnvDeadLetterSecretArn},
		{role: rabbitadmin.RoleMonitor, secretArn: p.Env.MonitorSecretArn, setting: contract.EnvMonitorSecretArn},
	}
	var problems []string
	owner := map[string]string{admin.Username: "the administrator's (" + contract.EnvBrokerSecretArn + ")"}
	for _, u := range wanted {
		if u.creds, err = rabbitops.ReadCredentials(ctx, p.Secrets, u.secretArn); err != nil {
			return contract.UsersResponse{}, fmt.Errorf("the %s user (%s): %w", u.role, u.setting, err)
		}
		if u.grant, err = rabbitadmin.PermissionsFor(u.role, objects); err != nil {
			problems = append(problems, err.Error())
		}
		// The pair's other user is the same role's: it must not be anyone else's either.
		for _, name := range []string{u.creds.Username, rabbitadmin.Alternate(u.creds.Username)} {
			if other, taken := owner[name]; taken {
				problems = append(problems, fmt.Sprintf("the %s user's secret (%s) names user %q, already %s: "+
					"each job logs in as a user of its own, and the administrator keeps its own name", u.role, u.setting, name, other))
			}
			owner[name] = "the " + string(u.role) + " user's (" + u.setting + ")"
		}
	}
	if len(problems) > 0 {
		return contract.UsersResponse{}, errors.New("users: " + strings.Join(problems, "; "))
	}
	roots, err := rabbitops.CAPool(p.CAFile)
	if err != nil {
		return contract.UsersResponse{}, err
	}
	client, err := rabbitadmin.New(p.Env.ManagementURL, admin.Username, admin.Password, roots)
	if err != nil {
		return contract.UsersResponse{}, fmt.Errorf("users (%s): %w", contract.EnvBrokerManagementURL, err)
	}
	exists, err := client.VHostExists(ctx, p.Env.VHost)
	if err != nil {
		return contract.UsersResponse{}, err
	}
	if !exists {
		return contract.UsersResponse{}, fmt.Errorf("users: virtual host %q does not exist on the broker (setting virtualHost): "+
			"create it first, or set virtualHost to one that exists (Amazon MQ creates \"/\")", p.Env.VHost)
	}
	resp := contract.UsersResponse{VHost: p.Env.VHost}
	const reason = "the provisioner changed this user's permissions; connect again"
	for _, u := range wanted {
		e, err := client.EnsureUserState(ctx, p.Env.VHost, u.creds.Username, u.creds.Password, u.grant, reason)
		resp.Users = append(resp.Users, result(u.role, u.creds.Username, e))
		if err != nil {
			return resp, err
		}
		pair := rabbitadmin.Alternate(u.creds.Username)
		if _, found, err := client.GetUser(ctx, pair); err != nil {
			return resp, err
		} else if !found {
			continue
		}
		e, err = client.EnsureUserState(ctx, p.Env.VHost, pair, "", u.grant, reason)
		resp.Users = append(resp.Users, result(u.role, pair, e))
		if err != nil {
			return resp, err
		}
	}
	return resp, nil
}

func result(role rabbitadmin.Role, user string, e rabbitadmin.Ensured) contract.UserResult {
	return contract.UserResult{Role: string(role), User: user, Created: e.Created, PasswordSet: e.PasswordSet, TagsSet: e.TagsSet,
		PermissionsSet: e.PermissionsSet, ConnectionsClosed: e.ConnectionsClosed}
}
