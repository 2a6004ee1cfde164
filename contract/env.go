package contract

// Read by the provisioner and, for dead-lettering, by the listener.
const (
	// EnvBrokerSecretArn is the Secrets Manager secret with the broker user, {"username","password"}.
	EnvBrokerSecretArn = "BROKER_SECRET_ARN"
	// EnvBrokerEndpoint is the broker's AMQPS endpoint, amqps://b-….mq.<region>.amazonaws.com:5671.
	EnvBrokerEndpoint = "BROKER_ENDPOINT"
	// EnvBrokerVHost is the virtual host of the queue and its dead-letter exchange and queue.
	EnvBrokerVHost = "BROKER_VHOST"
	// EnvDeliveryLimit is the queue's number of deliveries before a message is dead-lettered.
	EnvDeliveryLimit = "DELIVERY_LIMIT"
)

// The stack's broker users (issue 23; docs/broker-users.md). Each secret holds one user,
// {"username","password"}, and only the role that logs in as it may read it.
const (
	// EnvBrokerManagementURL is the broker's management HTTP API, https://b-….mq.<region>.amazonaws.com
	// (Amazon MQ serves it on port 443 of the broker's endpoint). Read by the provisioner and
	// the rotator, which manage users through it.
	EnvBrokerManagementURL = "BROKER_MANAGEMENT_URL"
	// EnvMappingSecretArn is the event source mapping's secret (its BASIC_AUTH): read on the
	// queue only. Read by the provisioner, which creates the user, and the rotator.
	EnvMappingSecretArn = "MAPPING_SECRET_ARN"
	// EnvDeadLetterSecretArn is the listener's dead-letter user's secret: write on the
	// dead-letter exchange only. Read by the listener, the provisioner and the rotator.
	EnvDeadLetterSecretArn = "DEAD_LETTER_SECRET_ARN" //nolint:gosec // G101: a variable's name, not a credential
)

// UserCloneSuffix names the second user of a role: rotation alternates between <name> and
// <name>-clone, which have the same grant (docs/broker-users.md, "Rotation"). The program
// refuses user names whose pairs meet.
const UserCloneSuffix = "-clone"

// Read by the provisioner only.
const (
	// EnvQueueName is the queue the event source mapping consumes.
	EnvQueueName = "QUEUE_NAME"
	// EnvNetworkMode is the stack's networking option, which the diagnosis names in its hints.
	EnvNetworkMode = "NETWORK_MODE"
	// EnvServiceRoute is how the mapping reaches STS, Secrets Manager and Lambda.
	EnvServiceRoute = "SERVICE_ROUTE"
	// EnvEngineVersion is the broker's RabbitMQ version, major.minor ("3.13", "4.2"): the
	// dead-letter queue's arguments depend on it.
	EnvEngineVersion = "ENGINE_VERSION"
)

// Read by the listener only.
const (
	// EnvListenerLogBodies adds each message's body to its log line ("true").
	EnvListenerLogBodies = "LISTENER_LOG_BODIES"
)
