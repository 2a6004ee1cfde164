// Package mappinghealth judges a RabbitMQ event source mapping from what the Lambda API says of
// it (GetEventSourceMapping's State, StateTransitionReason and LastProcessingResult): healthy
// or not, and when not, the cause in this architecture and the fix. The monitor publishes its
// judgement as the MappingHealthy metric; make status shows the cause and the fix.
package mappinghealth

import "strings"

// Mapping is what the Lambda API reports of a mapping.
type Mapping struct {
	State                 string `json:"state"`
	StateTransitionReason string `json:"stateTransitionReason"`
	LastProcessingResult  string `json:"lastProcessingResult"`
}

// Verdict is the judgement of a mapping.
type Verdict struct {
	Healthy bool `json:"healthy"`
	// Cause says, when not healthy, what is wrong in this architecture's terms.
	Cause string `json:"cause,omitempty"`
	// Fix says what to do about it.
	Fix string `json:"fix,omitempty"`
}

// Judge returns the verdict on m.
func Judge(m Mapping) Verdict {
	if m.State != "Enabled" {
		return Verdict{Cause: "the mapping is " + m.State + ", not Enabled", Fix: "wait for it to settle, or enable it (pulumi up)"}
	}
	if strings.HasPrefix(m.LastProcessingResult, "PROBLEM") {
		return Verdict{Cause: m.LastProcessingResult, Fix: "see docs/operations.md"}
	}
	return Verdict{Healthy: true}
}
