// Package rotation is the rotation function of the stack's broker secrets: Secrets Manager
// invokes it with the four steps createSecret, setSecret, testSecret and finishSecret of one
// rotation, and it moves the secret's staging labels AWSPENDING, AWSCURRENT and AWSPREVIOUS
// as AWS documents for a rotation function
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html,
// and the generic template it points to:
// https://github.com/aws-samples/aws-secrets-manager-rotation-lambdas/blob/master/SecretsManagerRotationTemplate/lambda_function.py).
//
// The mapping's, the dead-letter and the monitor's users rotate by ALTERNATING USERS
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html):
// each role has two broker users with the same grant, <name> and <name>-clone, and a rotation
// sets a new password on the one AWSCURRENT does not name, then makes it current. The user
// AWSCURRENT named keeps its password until the next rotation, so the mapping, which keeps its
// connection and reads its secret again only when it reconnects, never holds a password the
// broker no longer accepts while it is connected. The next rotation changes that user's password
// and closes its connections: the mapping reconnects with AWSCURRENT.
//
// The administrator rotates as a SINGLE USER (Amazon MQ created it; a second administrator
// would double what a leak gives away): setSecret changes its password through the
// management API, testSecret logs in with it. Until finishSecret moves AWSCURRENT, the
// secret's current value is the old password: a provisioner run in that window fails and its
// retry after the rotation succeeds. setSecret logs in with AWSPENDING, AWSCURRENT or
// AWSPREVIOUS, whichever works, so a retried rotation finds its way whatever step it died in.
package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// SecretsManager is what rotation calls of Secrets Manager; the AWS SDK's *secretsmanager.Client
// is one.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *sm.DescribeSecretInput, optFns ...func(*sm.Options)) (*sm.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, optFns ...func(*sm.Options)) (*sm.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *sm.PutSecretValueInput, optFns ...func(*sm.Options)) (*sm.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *sm.UpdateSecretVersionStageInput, optFns ...func(*sm.Options)) (*sm.UpdateSecretVersionStageOutput, error)
	GetRandomPassword(ctx context.Context, in *sm.GetRandomPasswordInput, optFns ...func(*sm.Options)) (*sm.GetRandomPasswordOutput, error)
}

// The staging labels.
const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"
)

// The steps.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// Event is what Secrets Manager invokes the function with.
type Event struct {
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
	// RotationToken is sent since 2024 for cross-account rotation; unused here.
	RotationToken string `json:"RotationToken,omitempty"`
}

// Env is the function's configuration, from the environment the Pulumi program sets.
type Env struct {
	AdminSecretArn      string // BROKER_SECRET_ARN: the administrator, rotated as a single user
	MappingSecretArn    string // MAPPING_SECRET_ARN
	DeadLetterSecretArn string // DEAD_LETTER_SECRET_ARN
	MonitorSecretArn    string // MONITOR_SECRET_ARN
	Endpoint            string // BROKER_ENDPOINT, amqps://…:5671: testSecret logs in there
	ManagementURL       string // BROKER_MANAGEMENT_URL
	VHost               string // BROKER_VHOST
	Queue               string // QUEUE_NAME: the grants name it
}

// LoadEnv reads and validates the environment; every problem names its variable.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		AdminSecretArn: getenv(contract.EnvBrokerSecretArn), MappingSecretArn: getenv(contract.EnvMappingSecretArn),
		DeadLetterSecretArn: getenv(contract.EnvDeadLetterSecretArn), MonitorSecretArn: getenv(contract.EnvMonitorSecretArn),
		Endpoint: getenv(contract.EnvBrokerEndpoint), ManagementURL: getenv(contract.EnvBrokerManagementURL), VHost: getenv(contract.EnvBrokerVHost),
		Queue: getenv(contract.EnvQueueName),
	}
	var missing []string
	for name, value := range map[string]string{
		contract.EnvBrokerSecretArn: e.AdminSecretArn, contract.EnvMappingSecretArn: e.MappingSecretArn,
		contract.EnvDeadLetterSecretArn: e.DeadLetterSecretArn, contract.EnvMonitorSecretArn: e.MonitorSecretArn, contract.EnvBrokerEndpoint: e.Endpoint,
		contract.EnvBrokerManagementURL: e.ManagementURL, contract.EnvBrokerVHost: e.VHost, contract.EnvQueueName: e.Queue,
	} {
		if value == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Env{}, errors.New("rotator configuration: " + strings.Join(missing, ", ") + " not set")
	}
	return e, nil
}

// Rotator handles the rotation events of the stack's four secrets.
type Rotator struct {
	Env     Env
	Secrets SecretsManager
	// CAFile verifies the broker's certificate (AMQPS and the management API); "" uses the
	// system roots (Amazon MQ).
	CAFile string
	// Logf reports each step's outcome, never a password. Default: silent.
	Logf func(format string, args ...any)
}

// role is what the secret's user does; "" is the administrator.
func (r *Rotator) role(secretID string) (rabbitadmin.Role, bool, error) {
	switch secretID {
	case r.Env.AdminSecretArn:
		return "", false, nil
	case r.Env.MappingSecretArn:
		return rabbitadmin.RoleMappingConsumer, true, nil
	case r.Env.DeadLetterSecretArn:
		return rabbitadmin.RoleDeadLetterPublisher, true, nil
	case r.Env.MonitorSecretArn:
		return rabbitadmin.RoleMonitor, true, nil
	}
	return "", false, fmt.Errorf("secret %s is none of the stack's (%s, %s, %s, %s): this function rotates only those",
		secretID, contract.EnvBrokerSecretArn, contract.EnvMappingSecretArn, contract.EnvDeadLetterSecretArn, contract.EnvMonitorSecretArn)
}

func (r *Rotator) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// Handle performs one step. Secrets Manager retries a step that fails; every step can be run
// again without harm.
func (r *Rotator) Handle(ctx context.Context, ev Event) error {
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return errors.New("the event has no SecretId or ClientRequestToken")
	}
	role, alternating, err := r.role(ev.SecretID)
	if err != nil {
		return err
	}
	// As AWS's template: the token must name a version of this rotation, AWSPENDING and not
	// yet AWSCURRENT (a step invoked again after finishSecret has nothing to do).
	d, err := r.Secrets.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: &ev.SecretID})
	if err != nil {
		return fmt.Errorf("describing %s: %w", ev.SecretID, err)
	}
	if !aws.ToBool(d.RotationEnabled) {
		return fmt.Errorf("secret %s is not enabled for rotation", ev.SecretID)
	}
	stages, ok := d.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("secret version %s has no stage for rotation of secret %s", ev.ClientRequestToken, ev.SecretID)
	}
	if slices.Contains(stages, stageCurrent) {
		r.logf("%s: version %s is already AWSCURRENT", ev.Step, ev.ClientRequestToken)
		return nil
	}
	if !slices.Contains(stages, stagePending) {
		return fmt.Errorf("secret version %s is not AWSPENDING for rotation of secret %s", ev.ClientRequestToken, ev.SecretID)
	}
	switch ev.Step {
	case StepCreate:
		err = r.create(ctx, ev, alternating)
	case StepSet:
		err = r.set(ctx, ev, role, alternating)
	case StepTest:
		err = r.test(ctx, ev, role, alternating)
	case StepFinish:
		err = r.finish(ctx, ev, d.VersionIdsToStages)
	default:
		return fmt.Errorf("unknown step %q: want %s, %s, %s or %s", ev.Step, StepCreate, StepSet, StepTest, StepFinish)
	}
	if err != nil {
		return fmt.Errorf("%s of %s: %w", ev.Step, ev.SecretID, err)
	}
	r.logf("%s of %s (version %s): done", ev.Step, ev.SecretID, ev.ClientRequestToken)
	return nil
}

// get reads one version of secretID as credentials; a version that is not there is
// (zero, false, nil).
func (r *Rotator) get(ctx context.Context, secretID, versionID, stage string) (rabbitops.Credentials, bool, error) {
	in := &sm.GetSecretValueInput{SecretId: &secretID, VersionStage: &stage}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := r.Secrets.GetSecretValue(ctx, in)
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return rabbitops.Credentials{}, false, nil
	}
	if err != nil {
		return rabbitops.Credentials{}, false, fmt.Errorf("reading %s of %s: %w", stage, secretID, err)
	}
	var c rabbitops.Credentials
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c) != nil || c.Username == "" || c.Password == "" {
		return rabbitops.Credentials{}, false, fmt.Errorf(`%s of %s does not hold {"username","password"} JSON`, stage, secretID)
	}
	return c, true, nil
}

func (r *Rotator) must(ctx context.Context, secretID, versionID, stage string) (rabbitops.Credentials, error) {
	c, found, err := r.get(ctx, secretID, versionID, stage)
	if err == nil && !found {
		err = fmt.Errorf("%s of %s has no value", stage, secretID)
	}
	return c, err
}

// create puts the new credentials in AWSPENDING: the other user of the pair for an
// alternating role, the same user for the administrator, with a new password either way.
func (r *Rotator) create(ctx context.Context, ev Event, alternating bool) error {
	current, err := r.must(ctx, ev.SecretID, "", stageCurrent)
	if err != nil {
		return err
	}
	if _, found, err := r.get(ctx, ev.SecretID, ev.ClientRequestToken, stagePending); err != nil || found {
		return err
	}
	pw, err := r.Secrets.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{
		// Letters and digits: nothing to escape in a URL, a shell or the management API's JSON.
		PasswordLength: aws.Int64(40), ExcludePunctuation: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("generating a password: %w", err)
	}
	next := rabbitops.Credentials{Username: current.Username, Password: aws.ToString(pw.RandomPassword)}
	if alternating {
		next.Username = rabbitadmin.Alternate(current.Username)
	}
	raw, err := json.Marshal(next) //nolint:gosec // G117: the secret's value is the credentials
	if err != nil {
		return err
	}
	_, err = r.Secrets.PutSecretValue(ctx, &sm.PutSecretValueInput{
		SecretId: &ev.SecretID, ClientRequestToken: &ev.ClientRequestToken, SecretString: aws.String(string(raw)),
		VersionStages: []string{stagePending},
	})
	if err != nil {
		return fmt.Errorf("storing AWSPENDING: %w", err)
	}
	r.logf("createSecret: AWSPENDING of %s names user %q", ev.SecretID, next.Username)
	return nil
}

// admin is the management API as the administrator. Rotating the administrator itself, it
// logs in with whichever of AWSPENDING, AWSCURRENT and AWSPREVIOUS the broker accepts (a
// retried setSecret may find the password already changed).
func (r *Rotator) admin(ctx context.Context, token string) (*rabbitadmin.Client, rabbitops.Credentials, error) {
	roots, err := rabbitops.CAPool(r.CAFile)
	if err != nil {
		return nil, rabbitops.Credentials{}, err
	}
	candidates := []struct{ version, stage string }{{"", stageCurrent}}
	if token != "" {
		candidates = []struct{ version, stage string }{{token, stagePending}, {"", stageCurrent}, {"", stagePrevious}}
	}
	var tried []string
	for _, c := range candidates {
		creds, found, err := r.get(ctx, r.Env.AdminSecretArn, c.version, c.stage)
		if err != nil {
			return nil, rabbitops.Credentials{}, err
		}
		if !found {
			continue
		}
		client, err := rabbitadmin.New(r.Env.ManagementURL, creds.Username, creds.Password, roots)
		if err != nil {
			return nil, rabbitops.Credentials{}, fmt.Errorf("%s: %w", contract.EnvBrokerManagementURL, err)
		}
		ok, err := client.Authenticates(ctx, creds.Username, creds.Password)
		if err != nil {
			return nil, rabbitops.Credentials{}, err
		}
		if ok {
			return client, creds, nil
		}
		tried = append(tried, c.stage)
	}
	return nil, rabbitops.Credentials{}, fmt.Errorf("the broker accepts none of the administrator's passwords (%s tried)", strings.Join(tried, ", "))
}

// set makes the broker accept AWSPENDING. An alternating role's pending user gets the new
// password and exactly its grant, and its connections, made with the password it had until
// now, are closed: their clients reconnect with AWSCURRENT. The administrator gets the new
// password.
func (r *Rotator) set(ctx context.Context, ev Event, role rabbitadmin.Role, alternating bool) error {
	pending, err := r.must(ctx, ev.SecretID, ev.ClientRequestToken, stagePending)
	if err != nil {
		return err
	}
	current, err := r.must(ctx, ev.SecretID, "", stageCurrent)
	if err != nil {
		return err
	}
	if !alternating {
		if pending.Username != current.Username {
			return fmt.Errorf("AWSPENDING names user %q, AWSCURRENT %q: the administrator rotates as a single user", pending.Username, current.Username)
		}
		client, as, err := r.admin(ctx, ev.ClientRequestToken)
		if err != nil {
			return err
		}
		if as.Password == pending.Password {
			return nil // a retry: already set
		}
		if err := client.SetPassword(ctx, pending.Username, pending.Password); err != nil {
			return err
		}
		r.logf("setSecret: the administrator %q has its new password", pending.Username)
		return nil
	}
	if pending.Username != rabbitadmin.Alternate(current.Username) {
		return fmt.Errorf("AWSPENDING names user %q, AWSCURRENT %q: alternating rotation wants the pair %q and %q",
			pending.Username, current.Username, current.Username, rabbitadmin.Alternate(current.Username))
	}
	client, admin, err := r.admin(ctx, "")
	if err != nil {
		return err
	}
	if pending.Username == admin.Username || current.Username == admin.Username {
		return fmt.Errorf("user %q is the administrator's: the %s user must be a user of its own", admin.Username, role)
	}
	grant, err := rabbitadmin.PermissionsFor(role, rabbitadmin.Objects{Queue: r.Env.Queue, DeadLetterExchange: rabbitops.Topology{Queue: r.Env.Queue}.DeadLetterExchange()})
	if err != nil {
		return err
	}
	const reason = "rotation: this user's password changed; connect again with the secret's AWSCURRENT"
	e, err := client.EnsureUserState(ctx, r.Env.VHost, pending.Username, pending.Password, grant, reason)
	if err != nil {
		return err
	}
	// Always, not only when the password changed: a retry must still close what the failed
	// attempt left open.
	n, err := client.CloseUserConnections(ctx, pending.Username, reason)
	if err != nil {
		return err
	}
	closed := e.ConnectionsClosed + n
	r.logf("setSecret: user %q (%s): %+v; %d connections closed", pending.Username, role, e, closed)
	return nil
}

// test logs in with AWSPENDING over AMQPS, on the stack's virtual host, as the secret's
// clients will; for the administrator and the monitor also on the management API, which the
// provisioner and the monitor use. For the monitor, the AMQP login proves its entry in the
// virtual host (without one the API keeps the queues from it), the API login its tag.
func (r *Rotator) test(ctx context.Context, ev Event, role rabbitadmin.Role, alternating bool) error {
	pending, err := r.must(ctx, ev.SecretID, ev.ClientRequestToken, stagePending)
	if err != nil {
		return err
	}
	conn, err := rabbitops.Dial(ctx, r.Env.Endpoint, pending, r.Env.VHost, r.CAFile)
	if err != nil {
		return err
	}
	_ = conn.Close()
	if alternating && role != rabbitadmin.RoleMonitor {
		return nil
	}
	roots, err := rabbitops.CAPool(r.CAFile)
	if err != nil {
		return err
	}
	client, err := rabbitadmin.New(r.Env.ManagementURL, pending.Username, pending.Password, roots)
	if err != nil {
		return err
	}
	ok, err := client.Authenticates(ctx, pending.Username, pending.Password)
	if err != nil {
		return err
	}
	if !ok {
		who := "the administrator"
		if alternating {
			who = "the " + string(role) + " user"
		}
		return fmt.Errorf("the management API refuses %s %q with AWSPENDING", who, pending.Username)
	}
	return nil
}

// finish moves AWSCURRENT to the token's version; Secrets Manager puts AWSPREVIOUS on the
// version it leaves.
func (r *Rotator) finish(ctx context.Context, ev Event, versions map[string][]string) error {
	var current string
	for id, stages := range versions {
		if slices.Contains(stages, stageCurrent) {
			current = id
		}
	}
	in := &sm.UpdateSecretVersionStageInput{SecretId: &ev.SecretID, VersionStage: aws.String(stageCurrent), MoveToVersionId: &ev.ClientRequestToken}
	if current != "" {
		in.RemoveFromVersionId = &current
	}
	if _, err := r.Secrets.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("moving AWSCURRENT to version %s: %w", ev.ClientRequestToken, err)
	}
	return nil
}
