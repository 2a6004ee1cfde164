package contract

import (
	"fmt"
	"strings"
)

// MaxQueueName is the longest queue name the topology takes: RabbitMQ's limit of 255 bytes,
// less the suffix of the dead-letter exchange and queue named after it.
const MaxQueueName = 255 - len(".dlx")

// QueueNameProblem says what is wrong with a queue name, or "". The Pulumi program checks it
// before it creates anything and the provisioner before it declares anything: one rule, here so
// the program links no AMQP client for it.
func QueueNameProblem(name string) string {
	switch {
	case name == "" || len(name) > MaxQueueName:
		return fmt.Sprintf("must be 1-%d bytes (RabbitMQ allows 255, and the dead-letter exchange and queue add .dlx and .dlq)", MaxQueueName)
	case strings.HasPrefix(name, "amq."):
		return "must not start with amq. (RabbitMQ reserves that prefix)"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "must not contain control characters"
	}
	return ""
}
