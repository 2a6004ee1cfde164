// Package provisioner is the provisioner function: it reads the broker credentials as the ESM does,
// then declares the queue, diagnoses the ESM's path, publishes test messages, redrives dead
// letters or ensures the stack's broker users.
package provisioner

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/provisioner/diagnose"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// Env is the function's configuration, from the environment the Pulumi program sets.
type Env struct {
	SecretArn     string // BROKER_SECRET_ARN
	Endpoint      string // BROKER_ENDPOINT, amqps://b-….mq.<region>.amazonaws.com:5671
	VHost         string // BROKER_VHOST
	Queue         string // QUEUE_NAME
	DeliveryLimit int    // DELIVERY_LIMIT
	EngineVersion string // ENGINE_VERSION, the broker's RabbitMQ major.minor: 3.13 or later
	NetworkMode   string // NETWORK_MODE
	Route         contract.ServiceRoute
	Region        string // AWS_REGION, set by Lambda
	// The users action's settings; the other actions need none of them.
	ManagementURL       string // BROKER_MANAGEMENT_URL
	MappingSecretArn    string // MAPPING_SECRET_ARN
	DeadLetterSecretArn string // DEAD_LETTER_SECRET_ARN
	MonitorSecretArn    string // MONITOR_SECRET_ARN
}

// LoadEnv reads and validates the environment; every problem names its variable.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		SecretArn: getenv(contract.EnvBrokerSecretArn), Endpoint: getenv(contract.EnvBrokerEndpoint), VHost: getenv(contract.EnvBrokerVHost),
		Queue: getenv(contract.EnvQueueName), NetworkMode: getenv(contract.EnvNetworkMode), Region: getenv("AWS_REGION"),
		ManagementURL: getenv(contract.EnvBrokerManagementURL), MappingSecretArn: getenv(contract.EnvMappingSecretArn),
		DeadLetterSecretArn: getenv(contract.EnvDeadLetterSecretArn), MonitorSecretArn: getenv(contract.EnvMonitorSecretArn),
	}
	var problems []string
	for name, value := range map[string]string{
		contract.EnvBrokerSecretArn: e.SecretArn, contract.EnvBrokerEndpoint: e.Endpoint, contract.EnvBrokerVHost: e.VHost,
		contract.EnvQueueName: e.Queue, contract.EnvNetworkMode: e.NetworkMode, "AWS_REGION": e.Region,
	} {
		if value == "" {
			problems = append(problems, name+" is not set")
		}
	}
	limit, err := strconv.Atoi(getenv(contract.EnvDeliveryLimit))
	if err != nil || limit < 1 {
		problems = append(problems, fmt.Sprintf("%s=%q: must be a whole number of at least 1", contract.EnvDeliveryLimit, getenv(contract.EnvDeliveryLimit)))
	}
	e.DeliveryLimit = limit
	e.EngineVersion = getenv(contract.EnvEngineVersion)
	if major, minor, err := rabbitops.ParseEngineVersion(e.EngineVersion); err != nil || major < 3 || (major == 3 && minor < 13) {
		problems = append(problems, fmt.Sprintf("%s=%q: must be a RabbitMQ version major.minor of 3.13 or later, such as 3.13 or 4.2",
			contract.EnvEngineVersion, e.EngineVersion))
	}
	if e.Route, err = contract.ParseServiceRoute(getenv(contract.EnvServiceRoute)); err != nil {
		problems = append(problems, contract.EnvServiceRoute+"="+err.Error())
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Env{}, errors.New("provisioner configuration: " + strings.Join(problems, "; "))
	}
	return e, nil
}

// Provisioner handles the function's requests.
type Provisioner struct {
	Env     Env
	Secrets rabbitops.SecretReader
	// CAFile verifies the broker's certificate; "" uses the system roots (Amazon MQ).
	CAFile string
	// Targets are the service endpoints diagnose checks. Default: the region's.
	Targets []diagnose.Target
	// TLSConfig verifies the service endpoints; nil uses the system roots.
	TLSConfig *tls.Config
	// CheckTimeout bounds each diagnose check. Default 3 s: long enough for a cold ENI, short
	// enough that four failing checks stay well inside the function's timeout.
	CheckTimeout time.Duration
}

func (p *Provisioner) topology() rabbitops.Topology {
	return rabbitops.Topology{Queue: p.Env.Queue, VHost: p.Env.VHost, DeliveryLimit: p.Env.DeliveryLimit, EngineVersion: p.Env.EngineVersion}
}

// Handle performs one request. A failed declaration or diagnosis is an error whose message
// carries the report, so that the deployment that invoked it fails and shows why.
func (p *Provisioner) Handle(ctx context.Context, req contract.Request) (any, error) {
	switch req.Action {
	case contract.ActionDeclare:
		return p.declare(ctx)
	case contract.ActionDiagnose:
		report := p.diagnose(ctx)
		if !report.OK {
			rendered, _ := json.MarshalIndent(report, "", "  ")
			return nil, fmt.Errorf("the event source mapping's path is broken; diagnosis:\n%s", rendered)
		}
		return report, nil
	case contract.ActionPublish:
		return p.publish(ctx, req)
	case contract.ActionRedrive:
		return p.redrive(ctx, req)
	case contract.ActionUsers:
		return p.users(ctx)
	}
	return nil, fmt.Errorf("unknown action %q: want %s, %s, %s, %s or %s", req.Action,
		contract.ActionDeclare, contract.ActionDiagnose, contract.ActionPublish, contract.ActionRedrive, contract.ActionUsers)
}

func (p *Provisioner) credentials(ctx context.Context) (rabbitops.Credentials, error) {
	return rabbitops.ReadCredentials(ctx, p.Secrets, p.Env.SecretArn)
}

// connection connects with the secret's credentials; close it.
func (p *Provisioner) connection(ctx context.Context) (*amqp.Connection, error) {
	creds, err := p.credentials(ctx)
	if err != nil {
		return nil, err
	}
	return rabbitops.Dial(ctx, p.Env.Endpoint, creds, p.Env.VHost, p.CAFile)
}

// channel connects with the secret's credentials and opens a channel; close the connection.
func (p *Provisioner) channel(ctx context.Context) (*amqp.Connection, *amqp.Channel, error) {
	conn, err := p.connection(ctx)
	if err != nil {
		return nil, nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	return conn, ch, nil
}

// declare declares the topology. A dead-letter queue found with other arguments is kept and
// reported in Warnings, which the deployment shows in the declare invocation's result.
func (p *Provisioner) declare(ctx context.Context) (contract.DeclareResponse, error) {
	conn, err := p.connection(ctx)
	if err != nil {
		return contract.DeclareResponse{}, err
	}
	defer conn.Close()
	t := p.topology()
	warnings, err := rabbitops.DeclareOn(conn, t)
	if err != nil {
		if len(warnings) > 0 {
			err = fmt.Errorf("%w (warnings: %s)", err, strings.Join(warnings, "; "))
		}
		return contract.DeclareResponse{}, err
	}
	return contract.DeclareResponse{Queue: t.Queue, VHost: t.VHost, DeadLetterQueue: t.DeadLetterQueue(), DeliveryLimit: t.DeliveryLimit,
		EngineVersion: t.EngineVersion, Warnings: warnings}, nil
}

const maxPublish = 10000

func (p *Provisioner) publish(ctx context.Context, req contract.Request) (contract.PublishResponse, error) {
	if req.Count < 1 || req.Count > maxPublish || req.RunID == "" {
		return contract.PublishResponse{}, fmt.Errorf("publish needs a runId and a count from 1 to %d (got %q, %d)", maxPublish, req.RunID, req.Count)
	}
	conn, ch, err := p.channel(ctx)
	if err != nil {
		return contract.PublishResponse{}, err
	}
	defer conn.Close()
	published, err := rabbitops.Publish(ctx, ch, p.topology(), req.RunID, req.Count)
	if err != nil {
		return contract.PublishResponse{}, err
	}
	return contract.PublishResponse{RunID: req.RunID, Published: len(published), Messages: published}, nil
}

// RedriveMargin is how long before the function's timeout a redrive stops taking messages:
// the message in flight gets its confirm timeout (10 s) and the answer still goes out, so the
// function is never killed between a confirm and its acknowledgement.
const RedriveMargin = 15 * time.Second

func (p *Provisioner) redrive(ctx context.Context, req contract.Request) (contract.RedriveResponse, error) {
	conn, ch, err := p.channel(ctx)
	if err != nil {
		return contract.RedriveResponse{}, err
	}
	defer conn.Close()
	stop := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		stop, cancel = context.WithDeadline(ctx, deadline.Add(-RedriveMargin))
		defer cancel()
	}
	res, err := rabbitops.Redrive(stop, ch, p.topology(), rabbitops.RedriveOptions{Max: req.Max, DryRun: req.DryRun})
	if err != nil {
		// A Lambda error carries no payload: the counts go into the message.
		return contract.RedriveResponse{}, fmt.Errorf("%w (moved %d before this; %d still to move)", err, res.Moved, res.Remaining)
	}
	return contract.RedriveResponse{RedriveResult: res}, nil
}

// diagnose checks the three services, then the credentials and the broker with them.
func (p *Provisioner) diagnose(ctx context.Context) contract.DiagnoseResponse {
	timeout := p.CheckTimeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	targets := p.Targets
	if targets == nil {
		targets = diagnose.ServiceTargets(p.Env.Region)
	}
	report := contract.DiagnoseResponse{OK: true}
	for _, t := range targets {
		report.Checks = append(report.Checks, diagnose.CheckTarget(ctx, t, p.Env.Route, p.Env.NetworkMode, timeout, p.TLSConfig))
	}

	broker := contract.Check{Name: "broker", Address: p.Env.Endpoint}
	checkCtx, cancel := context.WithTimeout(ctx, 3*timeout)
	defer cancel()
	if creds, err := p.credentials(checkCtx); err != nil {
		broker.Detail = "not checked: " + err.Error()
		broker.Hint = "the secret could not be read; see the secretsmanager check"
	} else if conn, err := rabbitops.Dial(checkCtx, p.Env.Endpoint, creds, p.Env.VHost, p.CAFile); err != nil {
		broker.Detail = err.Error()
		broker.Hint = diagnose.BrokerHint(p.Env.Route, p.Env.NetworkMode)
	} else {
		_ = conn.Close()
		broker.OK = true
		broker.Detail = fmt.Sprintf("AMQPS login as %q on vhost %q", creds.Username, p.Env.VHost)
	}
	report.Checks = append(report.Checks, broker)
	for _, c := range report.Checks {
		report.OK = report.OK && c.OK
	}
	return report
}
