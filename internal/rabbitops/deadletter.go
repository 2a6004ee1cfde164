package rabbitops

// Headers of a message the listener dead-letters itself. Lambda's RabbitMQ mapping has no
// partial-batch response: a failed invocation returns the whole batch, and the quorum queue
// counts a delivery against every message in it. So the listener does not fail the batch for
// a message that can never succeed; it publishes that message, with these headers, to the
// queue's dead-letter exchange and acknowledges the rest.
//
// RabbitMQ's own dead-lettering (the delivery limit, the last resort) adds x-death and
// x-first-death-* / x-last-death-* headers instead; a dead letter carries one set or the other.
const (
	// HeaderError is the error that made the message fail, as the listener logged it.
	HeaderError = "x-listener-error"
	// HeaderFailedAt is when it failed, RFC 3339 in UTC.
	HeaderFailedAt = "x-listener-failed-at"
	// HeaderQueue and HeaderVHost are where the message was consumed from.
	HeaderQueue = "x-listener-queue"
	HeaderVHost = "x-listener-vhost"
	// HeaderRedriveCount counts how many times a redrive moved the message back to its queue.
	HeaderRedriveCount = "x-redrive-count"
)

// DeadLetterHeaders are the headers a redrive removes before the message goes back to its
// queue: the listener's, RabbitMQ's dead-lettering history and the quorum queue's delivery
// count, so that the message starts afresh.
var DeadLetterHeaders = []string{
	HeaderError, HeaderFailedAt, HeaderQueue, HeaderVHost,
	"x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
	"x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-delivery-count",
}
