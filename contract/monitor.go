package contract

// The monitor (issue 24; docs/operations.md): a scheduled function beside the broker that
// reads the queue's figures from the management API and the mapping's state from the Lambda
// API, and publishes them as CloudWatch metrics in Embedded Metric Format log lines. The
// program's alarms and dashboard, the monitor and make status all read these names.

// Read by the monitor (and, for EnvMonitorSecretArn, by the provisioner, which creates the
// user, and the rotator).
const (
	// EnvMonitorSecretArn is the monitor's broker user's secret: the monitoring tag and a
	// permission entry that grants nothing (docs/broker-users.md).
	EnvMonitorSecretArn = "MONITOR_SECRET_ARN" //nolint:gosec // G101: a variable's name, not a credential
	// EnvMappingUUID is the event source mapping whose state the monitor reports.
	EnvMappingUUID = "EVENT_SOURCE_MAPPING_UUID"
	// EnvMetricsStack is the value of the MetricDimensionStack dimension of every metric:
	// <project>-<stack>, one per stack in an account and region.
	EnvMetricsStack = "METRICS_STACK"
)

// MetricNamespace is the CloudWatch namespace of the monitor's metrics.
const MetricNamespace = "RabbitMQ-ESM"

// MetricDimensionStack is the one dimension of every monitor metric; its value is
// EnvMetricsStack's.
const MetricDimensionStack = "Stack"

// The monitor's metrics, each published once a minute. The queue's figures come from the
// management API (GET /api/queues/{vhost}/{name}); a figure the broker did not answer is
// left out, never published as 0.
const (
	// MetricQueueReady is the queue's messages ready for delivery (Count).
	MetricQueueReady = "QueueReady"
	// MetricQueueUnacked is the queue's messages delivered and not yet acknowledged (Count):
	// the batch the mapping has in flight.
	MetricQueueUnacked = "QueueUnacked"
	// MetricQueueConsumers is the queue's consumers (Count): the mapping's pollers; 0 means
	// nothing is consuming.
	MetricQueueConsumers = "QueueConsumers"
	// MetricQueuePublishRate is the rate of messages published to the queue (Count/Second).
	MetricQueuePublishRate = "QueuePublishRate"
	// MetricQueueDeliverRate is the rate of deliveries from the queue, acknowledged or not
	// (Count/Second).
	MetricQueueDeliverRate = "QueueDeliverRate"
	// MetricDeadLetterReady is the dead-letter queue's messages (Count): each one a message the
	// listener failed on DELIVERY_LIMIT times.
	MetricDeadLetterReady = "DeadLetterReady"
	// MetricMappingHealthy is 1 when the mapping is enabled and its last state change and
	// processing result name no problem, else 0 (internal/mappinghealth judges).
	MetricMappingHealthy = "MappingHealthy"
	// MetricMonitorErrors is how many of the monitor's sources (the broker's management API,
	// the Lambda API) failed to answer this minute: 0 when all did. Always published, so its
	// absence means the monitor itself is not running.
	MetricMonitorErrors = "MonitorErrors"
)
