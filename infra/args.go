package infra

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// BrokerConnection is a broker as its clients reach it: all the EventSource and the
// Provisioner need of it. Broker.Connection gives the one of a broker the Broker component
// created; for any other Amazon MQ for RabbitMQ broker, fill it in from the broker's ARN,
// endpoint and credentials secret (examples/existing-broker).
type BrokerConnection struct {
	// Arn of the broker: the mapping's event source, and what the listener's role may
	// describe (mq:DescribeBroker). Required.
	Arn pulumi.StringInput
	// Endpoint is the broker's AMQPS endpoint, amqps://b-….mq.<region>.amazonaws.com:5671.
	// Required by the Provisioner. Default for the EventSource: none, and then the listener
	// does not dead-letter on the broker (the queue's delivery limit alone ends a failing
	// message, with its batch).
	Endpoint pulumi.StringInput
	// SecretArn is the Secrets Manager secret holding {"username","password"} of a broker
	// user: the provisioner's, and without Users also the mapping's BASIC_AUTH and the
	// listener's. Required.
	SecretArn pulumi.StringInput
	// CredentialsVersion changes whenever the credentials do; the Provisioner declares the
	// queue again when it changes. Default: none.
	CredentialsVersion pulumi.StringInput
	// Private is where a private broker's endpoints are, and so where the mapping puts its
	// network interfaces and the functions run. Default: nil, a public broker.
	Private *BrokerPlacement
	// Users are the broker's least-privilege users, each in a secret of its own: the Provisioner
	// creates them as SecretArn's user, the mapping and the listener log in as them. Default:
	// nil, and SecretArn's user does every job (a broker whose users you manage yourself).
	Users *BrokerUsers
	// DependsOn are the resources to wait for before the broker can be reached: the broker,
	// its credentials and its security group's rules. Default: none (a broker that exists).
	DependsOn []pulumi.Resource
}

// BrokerUsers are a broker's users for the mapping, the listener's dead-lettering and the monitor
// (docs/broker-users.md), each {"username","password"} in a Secrets Manager secret.
type BrokerUsers struct {
	// ManagementURL is the broker's management HTTP API, https://b-….mq.<region>.amazonaws.com
	// (the console URL), through which the Provisioner creates the users. Required.
	ManagementURL pulumi.StringInput
	// MappingSecretArn is the mapping's user's secret, its BASIC_AUTH. Required.
	MappingSecretArn pulumi.StringInput
	// DeadLetterSecretArn is the listener's dead-letter user's secret. Required.
	DeadLetterSecretArn pulumi.StringInput
	// MonitorSecretArn is the monitor's user's secret. Required.
	MonitorSecretArn pulumi.StringInput
	// Versions changes whenever a user's secret gets a new version from the program (a new
	// name); the Provisioner's users action runs again then. Default: none.
	Versions pulumi.StringInput
}

// mappingSecret is the secret the mapping logs in with: its user's, or SecretArn's.
func (b BrokerConnection) mappingSecret() pulumi.StringInput {
	if b.Users != nil {
		return b.Users.MappingSecretArn
	}
	return b.SecretArn
}

// deadLetterSecret is the secret the listener dead-letters with: its user's, or SecretArn's.
func (b BrokerConnection) deadLetterSecret() pulumi.StringInput {
	if b.Users != nil {
		return b.Users.DeadLetterSecretArn
	}
	return b.SecretArn
}

// BrokerPlacement is where a private broker's endpoints are. The mapping creates its network
// interfaces there, with the same security groups, whatever it is told: so they must admit
// AMQPS (5671) from themselves and let their members reach STS, Secrets Manager and Lambda on
// 443, through a NAT gateway or interface endpoints.
type BrokerPlacement struct {
	// SubnetIDs of the broker's endpoints. Required.
	SubnetIDs pulumi.StringArrayInput
	// SecurityGroupIDs of the broker's endpoints. Required.
	SecurityGroupIDs pulumi.StringArrayInput
}

// Queue is the queue the mapping consumes, as the Provisioner declares it: a quorum queue that
// dead-letters a message after DeliveryLimit deliveries to <Name>.dlx and <Name>.dlq.
type Queue struct {
	// Name of the queue. Required.
	Name string
	// VirtualHost of the queue and its dead-letter exchange and queue, "/" for RabbitMQ's
	// default one. Required.
	VirtualHost string
	// DeliveryLimit is how many deliveries a message gets before it is dead-lettered, 1-100.
	// Required.
	DeliveryLimit int
}

// ArgError is one invalid argument of a component: the argument as its Args struct names it,
// the value given and what is allowed.
type ArgError struct {
	Arg     string
	Value   string
	Allowed string
}

func (e *ArgError) Error() string { return fmt.Sprintf("%s = %q: %s", e.Arg, e.Value, e.Allowed) }

// ArgsError lists every invalid argument of one component. A component checks its arguments
// before it registers anything, so nothing exists when it is returned.
type ArgsError struct {
	// Component is the type token, Name the name the component was given.
	Component, Name string
	Problems        []*ArgError
}

func (e *ArgsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid arguments for %s %q (nothing was registered):", e.Component, e.Name)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// argCheck collects the problems of one component's arguments, each named from its Args type
// ("EventSourceArgs.BatchSize").
type argCheck struct {
	args     string
	problems []*ArgError
}

// bad records a problem, if there is one.
func (c *argCheck) bad(arg, value, problem string) {
	if problem != "" {
		c.problems = append(c.problems, &ArgError{Arg: c.args + "." + arg, Value: value, Allowed: problem})
	}
}

// required records a missing input.
func (c *argCheck) required(arg string, given bool, what string) {
	if !given {
		c.bad(arg, "", "is required: "+what)
	}
}

// err is the problems found, as an *ArgsError, or nil.
func (c *argCheck) err(component, name string) error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ArgsError{Component: typeToken(component), Name: name, Problems: c.problems}
}

// checkArgs runs a component's checks on its arguments; nil arguments are one problem.
func checkArgs[A any](component, name string, args *A, check func(*argCheck, *A)) error {
	c := &argCheck{args: component + "Args"}
	if args == nil {
		c.problems = append(c.problems, &ArgError{Arg: c.args, Value: "nil", Allowed: "the arguments are required"})
	} else {
		check(c, args)
	}
	return c.err(component, name)
}

// check checks a connection; the Provisioner needs the endpoint, the EventSource does not.
func (b BrokerConnection) check(c *argCheck, arg string, needEndpoint bool) {
	c.required(arg+".Arn", given(b.Arn), "the broker's ARN, the mapping's event source")
	c.required(arg+".SecretArn", given(b.SecretArn), `the ARN of the secret holding {"username","password"} of a broker user`)
	if needEndpoint {
		c.required(arg+".Endpoint", given(b.Endpoint), "the broker's AMQPS endpoint, amqps://b-….mq.<region>.amazonaws.com:5671")
	}
	if u := b.Users; u != nil {
		c.required(arg+".Users.ManagementURL", given(u.ManagementURL), "the broker's management API, https://b-….mq.<region>.amazonaws.com")
		c.required(arg+".Users.MappingSecretArn", given(u.MappingSecretArn), `the ARN of the secret holding {"username","password"} of the mapping's user`)
		c.required(arg+".Users.DeadLetterSecretArn", given(u.DeadLetterSecretArn), `the ARN of the secret holding {"username","password"} of the dead-letter user`)
		c.required(arg+".Users.MonitorSecretArn", given(u.MonitorSecretArn), `the ARN of the secret holding {"username","password"} of the monitor's user`)
	}
	if p := b.Private; p != nil {
		c.required(arg+".Private.SubnetIDs", givenArray(p.SubnetIDs), "the subnets of the private broker's endpoints")
		c.required(arg+".Private.SecurityGroupIDs", givenArray(p.SecurityGroupIDs), "the security groups of the private broker's endpoints")
	}
}

// given: an input is set, and not to a known empty string.
func given(in pulumi.StringInput) bool {
	if s, known := in.(pulumi.String); known {
		return s != ""
	}
	return in != nil
}

// givenArray: an input is set, and not to a known empty list.
func givenArray(in pulumi.StringArrayInput) bool {
	if a, known := in.(pulumi.StringArray); known {
		return len(a) > 0
	}
	return in != nil
}

// check checks a queue against RabbitMQ's rules and the dead-lettering's.
func (q Queue) check(c *argCheck, arg string) {
	c.bad(arg+".Name", q.Name, contract.QueueNameProblem(q.Name))
	c.bad(arg+".VirtualHost", q.VirtualHost, virtualHostProblem(q.VirtualHost))
	c.bad(arg+".DeliveryLimit", strconv.Itoa(q.DeliveryLimit), deliveryLimitProblem(q.DeliveryLimit))
}

// checkArchive checks a built function.
func checkArchive(c *argCheck, arg string, a lambdabuild.Artifact) {
	c.required(arg, a.ZipPath != "" && a.SHA256 != "", "a function built by lambdabuild (ZipPath and SHA256)")
}
