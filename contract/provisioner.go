package contract

import "time"

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
	// ActionUsers ensures the stack's broker users, as the administrator: each from its own
	// secret, with exactly its grant; a second run changes nothing.
	ActionUsers = "users"
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
	RunID     string             `json:"runId"`
	Published int                `json:"published"`
	Messages  []PublishedMessage `json:"messages"`
}

// RedriveResponse is what the redrive did, or in a dry run would do.
type RedriveResponse struct {
	RedriveResult
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

// UsersResponse is what ActionUsers found and changed, one entry per broker user.
type UsersResponse struct {
	VHost string       `json:"vhost"`
	Users []UserResult `json:"users"`
}

// UserResult is one broker user: its role and what the run changed.
type UserResult struct {
	// Role is the user's job (mapping-consumer, dead-letter-publisher).
	Role string `json:"role"`
	User string `json:"user"`
	// Created, PasswordSet, TagsSet and PermissionsSet say what changed; none on a second run.
	Created        bool `json:"created,omitempty"`
	PasswordSet    bool `json:"passwordSet,omitempty"`
	TagsSet        bool `json:"tagsSet,omitempty"`
	PermissionsSet bool `json:"permissionsSet,omitempty"`
	// ConnectionsClosed counts the user's connections closed because its permissions changed.
	ConnectionsClosed int `json:"connectionsClosed,omitempty"`
}

// PublishedMessage is one message a publish sent and the broker confirmed.
type PublishedMessage struct {
	MessageID   string    `json:"messageId"`
	PublishedAt time.Time `json:"publishedAt"`
}

// RedriveListLimit is how many messages a result lists: enough to recognise a batch, small
// enough for a Lambda response.
const RedriveListLimit = 100

// RedriveResult is what a redrive did (rabbitops.Redrive's result).
type RedriveResult struct {
	Queue           string `json:"queue"`
	DeadLetterQueue string `json:"deadLetterQueue"`
	DryRun          bool   `json:"dryRun,omitempty"`
	// Found is how many messages the dead-letter queue held when the redrive started.
	Found int `json:"found"`
	Moved int `json:"moved"`
	// Remaining is how many of those the redrive set out to move (Found, capped by Max) are
	// still to move: after a stop, a rerun with Max = Remaining moves exactly them. In a dry
	// run it is how many would move.
	Remaining int `json:"remaining"`
	// Stopped says the context ended the run before Remaining reached 0.
	Stopped bool `json:"stopped,omitempty"`
	// Messages are the first RedriveListLimit moved (or, in a dry run, that would move).
	Messages []RedrivenMessage `json:"messages"`
}

// RedrivenMessage is one message of a redrive.
type RedrivenMessage struct {
	MessageID string `json:"messageId"`
	// Error is why it was dead-lettered: the listener's error, or RabbitMQ's reason
	// (delivery_limit, rejected, expired, maxlen) for its own dead-lettering.
	Error string `json:"error,omitempty"`
	// RedriveCount counts this move too (in a dry run: the moves before).
	RedriveCount int64 `json:"redriveCount"`
}
