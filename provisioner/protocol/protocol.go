// Package protocol is the provisioner function's request and response types: what the Pulumi
// program's deploy-time invocations, the smoke test and the redrive command send and read.
package protocol

import "rabbitmq-esm/lambdakit/rabbitops"

// The actions the provisioner performs.
const (
	// ActionDeclare declares the queue, its dead-letter exchange and queue.
	ActionDeclare = "declare"
	// ActionDiagnose checks each of the ESM's dependencies from where its interfaces sit.
	ActionDiagnose = "diagnose"
	// ActionPublish publishes Count persistent messages of run RunID, with confirms.
	ActionPublish = "publish"
	// ActionRedrive moves dead-lettered messages back to the queue (at most Max; DryRun lists
	// them instead). It stops short of the function's timeout: Remaining says what is left.
	ActionRedrive = "redrive"
)

// Request is the invocation payload.
type Request struct {
	Action string `json:"action"`
	// Count of messages to publish (publish only; 1-10000).
	Count int `json:"count,omitempty"`
	// RunID marks the published messages (publish only): ids are <runId>-<6-digit seq>.
	RunID string `json:"runId,omitempty"`
	// Max caps how many dead letters a redrive moves; 0 moves all (redrive only).
	Max int `json:"max,omitempty"`
	// DryRun lists the dead letters a redrive would move, moving none (redrive only).
	DryRun bool `json:"dryRun,omitempty"`
}

// DeclareResponse describes the declared topology.
type DeclareResponse struct {
	Queue           string `json:"queue"`
	VHost           string `json:"vhost"`
	DeadLetterQueue string `json:"deadLetterQueue"`
	DeliveryLimit   int    `json:"deliveryLimit"`
	// EngineVersion is the RabbitMQ version the topology was declared for.
	EngineVersion string `json:"engineVersion,omitempty"`
	// Warnings say what the declaration kept as it found it and what that puts at risk, such
	// as a dead-letter queue declared before its arguments depended on the engine version.
	Warnings []string `json:"warnings,omitempty"`
}

// PublishResponse lists the confirmed messages.
type PublishResponse struct {
	RunID     string                `json:"runId"`
	Published int                   `json:"published"`
	Messages  []rabbitops.Published `json:"messages"`
}

// RedriveResponse is what the redrive did, or in a dry run would do.
type RedriveResponse struct {
	rabbitops.RedriveResult
}

// DiagnoseResponse is the diagnosis report: one check per dependency of the ESM.
type DiagnoseResponse struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Check is the outcome for one dependency.
type Check struct {
	// Name is sts, secretsmanager, lambda or broker.
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Address is the host:port the check reached (the resolved IP address).
	Address string `json:"address,omitempty"`
	// Private says the address is private: an interface endpoint rather than a public one.
	Private bool `json:"private"`
	// Detail says what happened.
	Detail string `json:"detail"`
	// Hint names, on failure, what this option needs and is probably missing.
	Hint string `json:"hint,omitempty"`
}
