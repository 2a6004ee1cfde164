package infra

import "testing"

// Secrets Manager takes these (RotationRulesType: "rate(12 hours) or rate(10 days)", "as often
// as every four hours", 1-1000 days; cron() expressions of six fields).
func TestRotationSchedulesSecretsManagerTakes(t *testing.T) {
	for _, ok := range []string{"off", "rate(30 days)", "rate(1 day)", "rate(1000 days)", "rate(4 hours)", "rate(12 hours)", "cron(0 4 ? * SUN *)", "cron(0 16 1,15 * ? *)"} {
		if msg := rotationScheduleProblem(ok); msg != "" {
			t.Errorf("%s refused: %s", ok, msg)
		}
	}
	for _, bad := range []string{"", "rate(0 days)", "rate(3 hours)", "rate(1001 days)", "rate(30 minutes)", "rate(30days)", "cron(0 4 * * ?)", "Off", "cron(0 4 ? * SUN *); rm"} {
		if rotationScheduleProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestUserPairsMustNotMeet(t *testing.T) {
	for _, tc := range []struct {
		mapping, deadLetter, monitor, wantKey string
	}{
		{"esm-mapping", "esm-dead-letter", "esm-monitor", ""},
		{"esmadmin", "esm-dead-letter", "esm-monitor", "mappingUsername"},
		{"esm-mapping", "esmadmin-clone", "esm-monitor", "deadLetterUsername"},
		{"esm-mapping-clone", "esm-mapping", "esm-monitor", "deadLetterUsername"},
		{"esm-mapping", "esm-mapping", "esm-monitor", "deadLetterUsername"},
		{"esm-mapping", "esm-dead-letter", "esm-mapping-clone", "monitorUsername"},
		{"esm-mapping", "esm-dead-letter", "esmadmin", "monitorUsername"},
	} {
		p := brokerUserProblems("esmadmin", tc.mapping, tc.deadLetter, tc.monitor)
		switch {
		case tc.wantKey == "" && len(p) > 0:
			t.Errorf("%s/%s refused: %v", tc.mapping, tc.deadLetter, p[0])
		case tc.wantKey != "" && (len(p) != 1 || p[0].Key != tc.wantKey):
			t.Errorf("%s/%s: problems %v, want one naming %s", tc.mapping, tc.deadLetter, p, tc.wantKey)
		}
	}
}
