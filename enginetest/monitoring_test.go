package enginetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// checkMonitoring: the up deployed the monitor (beside the provisioner, run every minute by its
// rule), the alarms (each notifying the stack's topic when it fires and when it clears) and the
// dashboard, and the stack's outputs name them.
func (h *harness) checkMonitoring(t *testing.T, acct *account, stack string) {
	t.Helper()
	st := acct.view(t)
	name := "rabbitmq-esm-" + stack
	monitor := st.FindOne(cloud.TypeFunction, func(r *cloud.Resource) bool { return r.ID == name+"-monitor" })
	if monitor == nil {
		t.Fatalf("no monitor function %s-monitor in the account", name)
	}
	provisioner := st.FindOne(cloud.TypeFunction, func(r *cloud.Resource) bool {
		env, _ := r.Obj("environment")["variables"].(map[string]any)
		return env["NETWORK_MODE"] != nil
	})
	if provisioner == nil || fmt.Sprint(monitor.Obj("vpcConfig")) != fmt.Sprint(provisioner.Obj("vpcConfig")) {
		t.Errorf("the monitor runs in %v, want the provisioner's place", monitor.Obj("vpcConfig"))
	}
	rule := st.FindOne(cloud.TypeEventRule, func(r *cloud.Resource) bool { return r.Str("scheduleExpression") == "rate(1 minute)" })
	if rule == nil || st.FindOne(cloud.TypeEventTarget, func(r *cloud.Resource) bool { return r.Str("rule") == rule.ID && r.Str("arn") == monitor.Str("arn") }) == nil {
		t.Errorf("no rule running the monitor every minute (rule %v)", rule)
	}
	if st.FindOne(cloud.TypePermission, func(r *cloud.Resource) bool {
		return r.Str("function") == monitor.ID && r.Str("principal") == "events.amazonaws.com" && rule != nil && r.Str("sourceArn") == rule.Str("arn")
	}) == nil {
		t.Error("EventBridge may not invoke the monitor from its rule")
	}
	topic := st.FindOne(cloud.TypeTopic, nil)
	if topic == nil {
		t.Fatal("no alarm topic in the account")
	}
	alarms := st.Find(cloud.TypeMetricAlarm, nil)
	var names []string
	for _, a := range alarms {
		names = append(names, a.ID)
		if !slices.Equal(a.Strs("alarmActions"), []string{topic.ID}) || !slices.Equal(a.Strs("okActions"), []string{topic.ID}) {
			t.Errorf("alarm %s notifies %v / %v, want the topic %s both ways", a.ID, a.Strs("alarmActions"), a.Strs("okActions"), topic.ID)
		}
	}
	if st.FindOne(cloud.TypeDashboard, func(r *cloud.Resource) bool { return r.ID == name }) == nil {
		t.Errorf("no dashboard %s", name)
	}

	out := h.run(t, acct, stack, "stack output --json", "pulumi", "stack", "output", "--json", "--stack", stack).must(t, "stack output")
	var outputs struct {
		AlarmNames          []string `json:"alarmNames"`
		AlarmTopicArn       string   `json:"alarmTopicArn"`
		DashboardName       string   `json:"dashboardName"`
		MetricsNamespace    string   `json:"metricsNamespace"`
		MetricsStack        string   `json:"metricsStack"`
		MonitorFunctionName string   `json:"monitorFunctionName"`
		MonitorLogGroupName string   `json:"monitorLogGroupName"`
		MonitorSecretArn    string   `json:"monitorSecretArn"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &outputs); err != nil {
		t.Fatalf("stack output: %v", err)
	}
	slices.Sort(names)
	got := slices.Sorted(slices.Values(outputs.AlarmNames))
	if len(names) != 8 || !slices.Equal(got, names) || outputs.AlarmTopicArn != topic.ID || outputs.DashboardName != name ||
		outputs.MetricsNamespace != "RabbitMQ-ESM" || outputs.MetricsStack != name || outputs.MonitorFunctionName != monitor.ID ||
		outputs.MonitorLogGroupName == "" || st.Get(outputs.MonitorSecretArn) == nil {
		t.Errorf("monitoring outputs = %+v; the account holds alarms %v, topic %s", outputs, names, topic.ID)
	}
}
