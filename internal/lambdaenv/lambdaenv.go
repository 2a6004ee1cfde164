// Package lambdaenv is the contract between the Pulumi program and the project's Lambda
// functions: the names of the environment variables the program sets and the functions read.
// Both sides use these constants, so a renamed variable cannot leave one side behind.
package lambdaenv

// Read by the provisioner and, for dead-lettering, by the listener.
const (
	// BrokerSecretArn is the Secrets Manager secret with the broker user, {"username","password"}.
	BrokerSecretArn = "BROKER_SECRET_ARN"
	// BrokerEndpoint is the broker's AMQPS endpoint, amqps://b-….mq.<region>.amazonaws.com:5671.
	BrokerEndpoint = "BROKER_ENDPOINT"
	// BrokerVHost is the virtual host of the queue and its dead-letter exchange and queue.
	BrokerVHost = "BROKER_VHOST"
	// DeliveryLimit is the queue's number of deliveries before a message is dead-lettered.
	DeliveryLimit = "DELIVERY_LIMIT"
)

// Read by the provisioner only.
const (
	// QueueName is the queue the event source mapping consumes.
	QueueName = "QUEUE_NAME"
	// NetworkMode is the stack's networking option, which the diagnosis names in its hints.
	NetworkMode = "NETWORK_MODE"
	// ServiceRoute is how the mapping reaches STS, Secrets Manager and Lambda.
	ServiceRoute = "SERVICE_ROUTE"
	// EngineVersion is the broker's RabbitMQ version, major.minor ("3.13", "4.2"): the
	// dead-letter queue's arguments depend on it.
	EngineVersion = "ENGINE_VERSION"
)

// Read by the listener only.
const (
	// ListenerLogBodies adds each message's body to its log line ("true").
	ListenerLogBodies = "LISTENER_LOG_BODIES"
)
