package mappinghealth

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryRowJudges runs every row of the table and of the states through Judge with a value it matches: the
// verdict carries the row's meaning, cause, fix and source, and is healthy only for a benign row.
func TestEveryRowJudges(t *testing.T) {
	examples := map[string]string{
		"PROBLEM/connection error": "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets Manager if authentication is required.",
		"PROBLEM/credentials":      "PROBLEM: Invalid credentials. Check your username and password.",
		"PROBLEM/not authorized":   "PROBLEM: Lambda is not authorized to read the queue.",
	}
	for _, r := range append(slices.Clone(Table), States...) {
		value := r.Value
		if r.Prefix {
			value = examples[r.Value+"/"+r.Contains[0]]
		}
		t.Run(r.Field+"="+value, func(t *testing.T) {
			m := Mapping{State: "Enabled", StateTransitionReason: "USER_INITIATED", LastProcessingResult: "OK"}
			switch r.Field {
			case FieldTransition:
				m.StateTransitionReason = value
				if !r.Benign {
					m.State = "Disabled" // Lambda disables the mapping it gives up on
				}
			case FieldResult:
				m.LastProcessingResult = value
			default:
				m.State = value
			}
			v := Judge(m)
			if r.Benign {
				if !v.Healthy {
					t.Fatalf("a benign %s %q judged unhealthy: %+v", r.Field, value, v)
				}
				return
			}
			if v.Healthy || v.Field != r.Field || v.Value != value || v.Meaning != r.Meaning || v.Cause != r.Cause || v.Fix != r.Fix || v.Source != r.Source {
				t.Errorf("verdict %+v, want the row %+v", v, r)
			}
			if v.Cause == "" || v.Fix == "" || v.Source == "" {
				t.Errorf("a problem row without cause, fix or source: %+v", r)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		m       Mapping
		healthy bool
		field   string
		want    string // in the cause or fix
	}{
		{"enabled and polling", Mapping{"Enabled", "USER_INITIATED", "No records processed"}, true, FieldState, ""},
		{"enabled, no result yet", Mapping{"Enabled", "USER_INITIATED", ""}, true, FieldState, ""},
		{"disabled by a user", Mapping{"Disabled", "USER_INITIATED", "OK"}, false, FieldState, "pulumi up"},
		{"settling", Mapping{"Updating", "USER_INITIATED", "OK"}, false, FieldState, "wait"},
		{"an unknown state", Mapping{"Paused", "USER_INITIATED", "OK"}, false, FieldState, "State: Paused"},
		{"the transition says more than the state", Mapping{"Disabled", "EVENT_SOURCE_AUTHN_ERROR", "OK"}, false, FieldTransition, "mappingSecretArn"},
		{"a problem while enabled", Mapping{"Enabled", "USER_INITIATED", "PROBLEM: Connection error."}, false, FieldResult, "make plan"},
		{"an unknown transition", Mapping{"Disabled", "SOMETHING_NEW", "OK"}, false, FieldTransition, "SOMETHING_NEW"},
		{"an unknown PROBLEM", Mapping{"Enabled", "USER_INITIATED", "PROBLEM: Something else"}, false, FieldResult, "PROBLEM: Something else"},
		{"an unknown result is not taken for benign", Mapping{"Enabled", "USER_INITIATED", "Records dropped"}, false, FieldResult, "Records dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(tc.m)
			if v.Healthy != tc.healthy || v.Field != tc.field || !strings.Contains(v.Cause+v.Fix, tc.want) {
				t.Errorf("Judge(%+v) = %+v; want healthy %v on %s mentioning %q", tc.m, v, tc.healthy, tc.field, tc.want)
			}
			if !v.Healthy && v.Meaning == "" {
				t.Errorf("an unhealthy verdict without meaning: %+v", v)
			}
			if strings.HasPrefix(tc.name, "an unknown") && v.Meaning != "not documented here" {
				t.Errorf("an unknown value's meaning: %q", v.Meaning)
			}
		})
	}
}
