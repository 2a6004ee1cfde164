// Package mappinghealth judges a RabbitMQ event source mapping from what the Lambda API says of
// it (GetEventSourceMapping's State, StateTransitionReason and LastProcessingResult): healthy
// or not, and when not, the cause in this architecture and the fix. The monitor publishes its
// judgement as the MappingHealthy metric; make status shows the cause and the fix; make docs
// renders Table into docs/operations.md.
package mappinghealth

import (
	"slices"
	"strings"
)

// Mapping is what the Lambda API reports of a mapping.
type Mapping struct {
	State                 string `json:"state"`
	StateTransitionReason string `json:"stateTransitionReason"`
	LastProcessingResult  string `json:"lastProcessingResult"`
}

// Verdict is the judgement of a mapping.
type Verdict struct {
	Healthy bool `json:"healthy"`
	// Field and Value name what the verdict rests on, verbatim (Value may be an AWS text the
	// table does not know).
	Field string `json:"field,omitempty"`
	Value string `json:"value,omitempty"`
	// Meaning is what AWS says the value means ("not documented here" for a value the table
	// does not know).
	Meaning string `json:"meaning,omitempty"`
	// Cause says, when not healthy, what is wrong in this architecture's terms.
	Cause string `json:"cause,omitempty"`
	// Fix says what to do about it.
	Fix string `json:"fix,omitempty"`
	// Source names where the meaning comes from.
	Source string `json:"source,omitempty"`
}

// The fields a row matches.
const (
	FieldState      = "State"
	FieldTransition = "StateTransitionReason"
	FieldResult     = "LastProcessingResult"
)

// Row is one value Lambda reports, what it means, and what to do.
type Row struct {
	Field string
	// Value is matched exactly, or as a prefix when Prefix is set.
	Value  string
	Prefix bool
	// Contains, when set, must also appear in the value (case-insensitively): it tells apart
	// the PROBLEM texts.
	Contains []string
	Benign   bool
	Meaning  string
	Cause    string
	Fix      string
	Source   string
}

func (r Row) matches(field, value string) bool {
	if r.Field != field {
		return false
	}
	if !r.Prefix && value != r.Value || r.Prefix && !strings.HasPrefix(value, r.Value) {
		return false
	}
	lower := strings.ToLower(value)
	return len(r.Contains) == 0 || slices.ContainsFunc(r.Contains, func(s string) bool { return strings.Contains(lower, s) })
}

// Sources of the table.
const (
	srcMQErrors = "Lambda developer guide, Troubleshoot Amazon MQ event source mapping errors " +
		"(https://docs.aws.amazon.com/lambda/latest/dg/services-mq-errors.html)"
	srcAPI = "Lambda API reference, EventSourceMappingConfiguration, State " +
		"(https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html)"
	srcCLI = "AWS CLI reference, lambda get-event-source-mapping and create-event-source-mapping examples " +
		"(https://docs.aws.amazon.com/cli/latest/reference/lambda/get-event-source-mapping.html)"
	// Lambda documents the PROBLEM texts for Kafka mappings only; Amazon MQ's are not published.
	// These rows match the Kafka wording, which the mapping's poller shares.
	srcKafka = "Lambda developer guide, Troubleshoot Kafka event source mapping errors " +
		"(https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-troubleshoot.html): Kafka's texts; " +
		"Amazon MQ's are not documented"
)

// The fixes several rows share.
const (
	fixNetwork = "check the path from the broker's subnets to STS, Secrets Manager and Lambda for the stack's " +
		"networkMode: make plan STACK=<stack> draws it, and the stack's diagnosis output (the provisioner's " +
		"check at deploy time) says which hop failed; a public broker needs none of it"
	fixAuthn = "the mapping logs in as the broker user of the mappingUsername setting (esm-mapping, or " +
		"esm-mapping-clone after a rotation) with the secret of output mappingSecretArn: " +
		"run pulumi up (make up), which re-runs the provisioner's users action and sets the user's password " +
		"from the secret again; if the secret was rotated, check the rotation's last run (the rotator's log)"
	fixUnknown = "read the value as written; check the mapping in the Lambda console, the listener's log " +
		"(listenerLogGroupName) and docs/operations.md; pulumi up restores what the program declares"
)

// Table is every value the judgement knows, in the order docs/operations.md shows it.
var Table = []Row{
	{Field: FieldTransition, Value: "USER_INITIATED", Benign: true,
		Meaning: "the last state change was made by a user (a create, update or enable)",
		Source:  srcCLI},
	{Field: FieldTransition, Value: "User action", Benign: true,
		Meaning: "the last state change was made by a user (the older wording)",
		Source:  srcCLI},
	{Field: FieldTransition, Value: "EVENT_SOURCE_AUTHN_ERROR",
		Meaning: "Lambda failed to authenticate the event source",
		Cause:   "the broker refused the mapping's login: its broker user (mappingUsername) and the secret mappingSecretArn disagree, or the user is gone",
		Fix:     fixAuthn,
		Source:  srcMQErrors},
	{Field: FieldTransition, Value: "EVENT_SOURCE_AUTHZ_ERROR",
		Meaning: "Lambda does not have the required permissions to access the event source",
		Cause: "either the mapping's broker user lacks read on the queue in the stack's virtual host (it has read on ^<queue>$ " +
			"and nothing else, docs/broker-users.md), or the listener's role lacks mq:DescribeBroker or " +
			"secretsmanager:GetSecretValue on the mapping's secret",
		Fix: "run pulumi up: the provisioner's users action sets the user's permissions again and the program restores the " +
			"role's policy; check that the queue and virtual host outputs (queueName, virtualHost) name what the broker has",
		Source: srcMQErrors},
	{Field: FieldTransition, Value: "ESM_CONFIG_NOT_VALID",
		Meaning: "the event source mapping configuration is not valid",
		Cause:   "the mapping's queue, virtual host or secret (its source access configurations) names something that does not exist, or was changed outside the program",
		Fix:     "run pulumi preview to see the drift and pulumi up to restore the mapping as the program declares it",
		Source:  srcMQErrors},
	{Field: FieldTransition, Value: "FUNCTION_CONFIG_NOT_VALID",
		Meaning: "the function's configuration is not valid",
		Cause: "the listener (listenerFunctionName) cannot be invoked as configured: its role, its permissions or its timeout " +
			"(a mapping of Amazon MQ takes functions of at most 14 minutes) were changed outside the program",
		Fix:    "run pulumi up to restore the listener and its role; check the function's state in the Lambda console",
		Source: srcMQErrors},
	{Field: FieldResult, Value: "OK", Benign: true,
		Meaning: "the last poll delivered its batch",
		Source:  srcCLI},
	{Field: FieldResult, Value: "No records processed", Benign: true,
		Meaning: "the mapping polls; nothing to deliver yet",
		Source:  srcCLI},
	{Field: FieldResult, Value: "PROBLEM", Prefix: true, Contains: []string{"connection error", "timed out", "timeout"},
		Meaning: "the mapping could not connect",
		Cause:   "from where the mapping's interfaces sit, the broker, STS, Secrets Manager or Lambda cannot be reached",
		Fix:     fixNetwork,
		Source:  srcKafka},
	{Field: FieldResult, Value: "PROBLEM", Prefix: true, Contains: []string{"credentials", "authentication"},
		Meaning: "the broker refused the mapping's credentials",
		Cause:   "the mapping's broker user (mappingUsername) and the secret mappingSecretArn disagree",
		Fix:     fixAuthn,
		Source:  srcKafka},
	{Field: FieldResult, Value: "PROBLEM", Prefix: true, Contains: []string{"not authorized", "authorization", "permission"},
		Meaning: "the mapping lacks a permission",
		Cause:   "the mapping's broker user lacks read on the queue, or the listener's role lacks a permission the mapping needs",
		Fix:     "run pulumi up: the provisioner's users action and the program restore both",
		Source:  srcKafka},
}

// States judge the State itself once no reason or result explains it; Enabled is the healthy
// one.
var States = []Row{
	{Field: FieldState, Value: "Enabled", Benign: true, Meaning: "the mapping polls the queue", Source: srcAPI},
	{Field: FieldState, Value: "Creating", Meaning: "the mapping is being created", Cause: "the mapping is not polling yet", Fix: "wait a minute and look again", Source: srcAPI},
	{Field: FieldState, Value: "Enabling", Meaning: "the mapping is being enabled", Cause: "the mapping is not polling yet", Fix: "wait a minute and look again", Source: srcAPI},
	{Field: FieldState, Value: "Updating", Meaning: "the mapping is being updated", Cause: "the mapping is settling after a change", Fix: "wait a minute and look again", Source: srcAPI},
	{Field: FieldState, Value: "Disabling", Meaning: "the mapping is being disabled", Cause: "someone is disabling the mapping: nothing will be consumed", Fix: "run pulumi up, which enables it again", Source: srcAPI},
	{Field: FieldState, Value: "Disabled", Meaning: "the mapping is disabled", Cause: "the mapping was disabled: nothing is consumed", Fix: "run pulumi up, which enables it again", Source: srcAPI},
	{Field: FieldState, Value: "Deleting", Meaning: "the mapping is being deleted", Cause: "the mapping is going away: nothing will be consumed", Fix: "if that is not a make destroy, run pulumi up to create it again", Source: srcAPI},
}

// Unknown is the judgement of a value no row knows: not healthy, shown verbatim.
var Unknown = Row{Meaning: "not documented here", Cause: "Lambda reports a value this project does not know", Fix: fixUnknown}

// Judge returns the verdict on m: a Lambda-initiated transition first (it says why Lambda
// stopped the mapping), then a PROBLEM result, then a state other than Enabled. A value the
// table does not know is unhealthy unless benign by the table.
func Judge(m Mapping) Verdict {
	if v, ok := judgeField(FieldTransition, m.StateTransitionReason); ok && !v.Healthy {
		return v
	}
	if v, ok := judgeField(FieldResult, m.LastProcessingResult); ok && !v.Healthy {
		return v
	}
	v := lookUp(States, FieldState, m.State)
	if v.Healthy {
		v.Meaning = "the mapping is enabled and reports no problem"
	}
	return v
}

// lookUp returns the verdict of the first row of rows that matches value, else Unknown's.
func lookUp(rows []Row, field, value string) Verdict {
	for _, r := range rows {
		if r.matches(field, value) {
			return Verdict{Healthy: r.Benign, Field: field, Value: value, Meaning: r.Meaning, Cause: r.Cause, Fix: r.Fix, Source: r.Source}
		}
	}
	return Verdict{Field: field, Value: value, Meaning: Unknown.Meaning, Cause: Unknown.Cause + " as " + field + ": " + value, Fix: Unknown.Fix}
}

// judgeField looks value up; ok is false for an empty value, which says nothing.
func judgeField(field, value string) (Verdict, bool) {
	if value == "" {
		return Verdict{}, false
	}
	return lookUp(Table, field, value), true
}
