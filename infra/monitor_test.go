package infra

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
)

// checkMonitor: the monitor runs where the provisioner runs, with its own secret only, may
// describe this mapping only, learns exactly what contract names, and EventBridge runs it every
// minute through a permission that only its rule may use.
func checkMonitor(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	fn, err := m.One("aws:lambda/function:Function", "monitor")
	if err != nil {
		t.Fatal(err)
	}
	provisioner, err := m.One("aws:lambda/function:Function", "provisioner")
	if err != nil {
		t.Fatal(err)
	}
	esm, err := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
	if err != nil {
		t.Fatal(err)
	}
	stackName := "rabbitmq-esm-" + tc.stack
	if got := fn.Inputs["name"].StringValue(); got != stackName+"-monitor" {
		t.Errorf("monitor function name = %q, want %s-monitor (the mapping's guard tags name it before it exists)", got, stackName)
	}
	if a, b := fn.Inputs["vpcConfig"], provisioner.Inputs["vpcConfig"]; !a.DeepEquals(b) {
		t.Errorf("monitor vpcConfig = %v, want the provisioner's %v (it reaches the private management API from there)", a, b)
	}
	if !slices.Equal(fn.AfterDeleteHooks, provisioner.AfterDeleteHooks) {
		t.Errorf("monitor after-delete hooks = %v, want the provisioner's %v", fn.AfterDeleteHooks, provisioner.AfterDeleteHooks)
	}
	secrets := secretArns(t, m)
	env := map[string]string{}
	for k, v := range fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue() {
		env[string(k)] = v.StringValue()
	}
	wantEnv := map[string]string{
		"BROKER_MANAGEMENT_URL": "https://" + offline.BrokerID + ".mq.us-east-1.amazonaws.com", "MONITOR_SECRET_ARN": secrets.monitor,
		"BROKER_VHOST": "/", "QUEUE_NAME": "events", "EVENT_SOURCE_MAPPING_UUID": esm.Outputs["uuid"].StringValue(), "METRICS_STACK": stackName,
	}
	if !maps.Equal(env, wantEnv) {
		t.Errorf("monitor environment = %v, want exactly %v", env, wantEnv)
	}

	statements := rolePolicy(t, m, "monitor")
	logGroup, err := m.One("aws:cloudwatch/logGroup:LogGroup", "monitor")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]policyStatement{
		"WriteOwnLogs":           {Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logGroup.Outputs["arn"].StringValue() + ":*"}},
		"ReadMonitorCredentials": {Sid: "ReadMonitorCredentials", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{secrets.monitor}},
		"DescribeOwnMapping":     {Sid: "DescribeOwnMapping", Effect: "Allow", Action: []string{"lambda:GetEventSourceMapping"}, Resource: []string{esm.Outputs["arn"].StringValue()}},
	}
	if !tc.publicBroker {
		want["ManageOwnNetworkInterfaces"] = rolePolicy(t, m, "provisioner")["ManageOwnNetworkInterfaces"]
	}
	if got, wantJSON := mustJSON(t, statements), mustJSON(t, want); got != wantJSON {
		t.Errorf("monitor policy = %s\nwant exactly %s", got, wantJSON)
	}

	rule, err := m.One("aws:cloudwatch/eventRule:EventRule", "monitor-schedule")
	if err != nil {
		t.Fatal(err)
	}
	if got := rule.Inputs["scheduleExpression"].StringValue(); got != "rate(1 minute)" {
		t.Errorf("monitor schedule = %q, want rate(1 minute)", got)
	}
	target, err := m.One("aws:cloudwatch/eventTarget:EventTarget", "monitor-schedule")
	if err != nil {
		t.Fatal(err)
	}
	if target.Inputs["rule"].StringValue() != rule.Outputs["name"].StringValue() || target.Inputs["arn"].StringValue() != fn.Outputs["arn"].StringValue() {
		t.Errorf("schedule target = %v, want the rule %s invoking %s", target.Inputs, rule.Outputs["name"], fn.Outputs["arn"])
	}
	permission, err := m.One("aws:lambda/permission:Permission", "monitor-invoke-schedule")
	if err != nil {
		t.Fatal(err)
	}
	in := permission.Inputs
	if in["principal"].StringValue() != "events.amazonaws.com" || in["sourceArn"].StringValue() != rule.Outputs["arn"].StringValue() ||
		in["function"].StringValue() != fn.Outputs["name"].StringValue() || in["action"].StringValue() != "lambda:InvokeFunction" {
		t.Errorf("schedule permission = %v, want events.amazonaws.com invoking the monitor from its rule only", in)
	}
	if !dependsOn(target, "aws:lambda/permission:Permission rabbitmq-esm-monitor-invoke-schedule") {
		t.Error("the schedule targets the monitor before EventBridge may invoke it")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkAlarms: every alarm of the table exists under its name, notifies the topic (the stack's
// own, or topicArn) both when it fires and when it clears, says what to do, and reads the
// stack's own metrics; the dashboard shows them all.
func checkAlarms(t *testing.T, m *offline.Account, tc optionCase, topicArn string) {
	t.Helper()
	topics := m.ByType("aws:sns/topic:Topic")
	switch {
	case topicArn == "" && len(topics) != 1:
		t.Fatalf("want the stack's own topic, got %d topics", len(topics))
	case topicArn == "":
		topicArn = topics[0].Outputs["arn"].StringValue()
	case len(topics) != 0:
		t.Errorf("alarmTopicArn is given, yet the stack creates %d topics", len(topics))
	}
	stackName := "rabbitmq-esm-" + tc.stack
	listener, err := m.One("aws:lambda/function:Function", "events-listener")
	if err != nil {
		t.Fatal(err)
	}
	wantDimension := map[string]string{"Stack": stackName, "FunctionName": listener.Outputs["name"].StringValue(), "Broker": stackName}
	var names, arns []string
	for _, a := range m.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		in := a.Inputs
		name := in["name"].StringValue()
		names = append(names, name)
		arns = append(arns, a.Outputs["arn"].StringValue())
		for _, key := range []resource.PropertyKey{"alarmActions", "okActions"} {
			if got := offline.Strings(in[key]); !slices.Equal(got, []string{topicArn}) {
				t.Errorf("%s %s = %v, want [%s]", name, key, got, topicArn)
			}
		}
		description := in["alarmDescription"].StringValue()
		if !strings.Contains(description, "make status STACK="+tc.stack) && !strings.Contains(description, "make redrive STACK="+tc.stack) &&
			!strings.Contains(description, "instanceType") && !strings.Contains(description, "Lambda console") {
			t.Errorf("%s says nothing to do: %q", name, description)
		}
		if !strings.Contains(description, "docs/operations.md#alarms") || len(description) > 1024 {
			t.Errorf("%s description (%d characters, CloudWatch takes 1024) does not point to docs/operations.md#alarms: %q", name, len(description), description)
		}
		if _, single := in["metricName"]; single {
			t.Errorf("%s sets metricName as well as metric queries", name)
		}
		returned := 0
		for _, q := range in["metricQueries"].ArrayValue() {
			query := q.ObjectValue()
			if query["returnData"].BoolValue() {
				returned++
			}
			if metric, ok := query["metric"]; ok {
				for dim, value := range metric.ObjectValue()["dimensions"].ObjectValue() {
					if value.StringValue() != wantDimension[string(dim)] {
						t.Errorf("%s reads %s = %s, want %s", name, dim, value.StringValue(), wantDimension[string(dim)])
					}
				}
			}
		}
		if returned != 1 {
			t.Errorf("%s returns %d values, want one", name, returned)
		}
	}
	var want []string
	for _, spec := range alarmSpecs {
		want = append(want, stackName+"-"+spec.name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("alarms = %v, want %v", names, want)
	}
	dashboard, err := m.One("aws:cloudwatch/dashboard:Dashboard", "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Widgets []struct {
			Type       string
			Properties struct{ Alarms []string }
		}
	}
	if err := json.Unmarshal([]byte(dashboard.Inputs["dashboardBody"].StringValue()), &body); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	slices.Sort(arns)
	if len(body.Widgets) == 0 || body.Widgets[0].Type != "alarm" || !slices.Equal(slices.Sorted(slices.Values(body.Widgets[0].Properties.Alarms)), arns) {
		t.Errorf("the dashboard's first widget = %+v, want the alarms' states %v", body.Widgets[0], arns)
	}
	if got := dashboard.Inputs["dashboardName"].StringValue(); got != stackName {
		t.Errorf("dashboard name = %q, want %s", got, stackName)
	}
}

// A topic of the user's takes the place of the stack's: no topic is created and every alarm
// notifies the one given; an e-mail address is subscribed to it.
func TestAlarmsNotifyTheTopicGiven(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:ops-alerts"
	for _, tc := range optionCases {
		if tc.stack != "isolated" {
			continue
		}
		raw := shipped(t, tc.stack)
		raw[ProjectName+":alarmTopicArn"] = topic
		raw[ProjectName+":alarmEmail"] = "ops@example.com"
		m := &offline.Account{}
		outputs, err := run(t, tc.stack, raw, m)
		if err != nil {
			t.Fatal(err)
		}
		checkAlarms(t, m, tc, topic)
		subscription, err := m.One("aws:sns/topicSubscription:TopicSubscription", "alarms-email")
		if err != nil {
			t.Fatal(err)
		}
		if in := subscription.Inputs; in["topic"].StringValue() != topic || in["protocol"].StringValue() != "email" || in["endpoint"].StringValue() != "ops@example.com" {
			t.Errorf("subscription = %v, want ops@example.com by email to %s", in, topic)
		}
		if outputs["alarmTopicArn"] != topic {
			t.Errorf("alarmTopicArn output = %v, want %s", outputs["alarmTopicArn"], topic)
		}
	}
}

// Without alarmEmail, nothing is subscribed.
func TestNoEmailNoSubscription(t *testing.T) {
	m := &offline.Account{}
	if _, err := run(t, "nat", shipped(t, "nat"), m); err != nil {
		t.Fatal(err)
	}
	if n := len(m.ByType("aws:sns/topicSubscription:TopicSubscription")); n != 0 {
		t.Errorf("%d subscriptions without alarmEmail", n)
	}
}

// The thresholds reach the alarms: each setting its own alarm.
func TestAlarmThresholdsFollowTheSettings(t *testing.T) {
	raw := shipped(t, "public")
	for key, value := range map[string]string{"alarmStalledMinutes": "9", "alarmBacklogMessages": "250", "alarmBrokerMemoryPercent": "70",
		"alarmBrokerDiskFreeMultiple": "3"} {
		raw[ProjectName+":"+key] = value
	}
	m := &offline.Account{}
	if _, err := run(t, "public", raw, m); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{ // threshold, evaluation periods
		"mapping-not-consuming": {1, 9}, "backlog": {250, 5}, "dead-letters": {1, 1}, "listener-errors": {1, 1},
		"listener-throttles": {1, 1}, "broker-memory": {70, 1}, "broker-disk": {3, 1}, "monitor-silent": {1, 3},
	}
	for _, a := range m.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		short := strings.TrimPrefix(a.Inputs["name"].StringValue(), "rabbitmq-esm-public-")
		got := [2]float64{a.Inputs["threshold"].NumberValue(), a.Inputs["evaluationPeriods"].NumberValue()}
		if got != want[short] {
			t.Errorf("%s threshold and periods = %v, want %v", short, got, want[short])
		}
	}
}

// Each alarm setting is checked, and the error names the key, the value and what is allowed.
func TestAlarmSettingsAreValidated(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"alarmTopicArn", "ops-alerts", "must be the ARN of a standard SNS topic"},
		{"alarmTopicArn", "arn:aws:sqs:us-east-1:123456789012:ops", "must be the ARN of a standard SNS topic"},
		{"alarmEmail", "ops at example.com", "must be one e-mail address"},
		{"alarmStalledMinutes", "0", "must be a whole number from 1 to 60"},
		{"alarmStalledMinutes", "61", "must be a whole number from 1 to 60"},
		{"alarmBacklogMessages", "0", "must be a whole number from 1 to 100000000"},
		{"alarmBrokerMemoryPercent", "100", "must be a whole number from 1 to 99"},
		{"alarmBrokerDiskFreeMultiple", "0", "must be a whole number from 1 to 100"},
		{"monitorUsername", "esm-mapping-clone", `shares the name "esm-mapping" with the mapping's user`},
	} {
		raw := map[string]string{ProjectName + ":networkMode": "public", ProjectName + ":" + tc.key: tc.value}
		_, err := ParseConfig("public", raw)
		var cfgErr *ConfigError
		if !errors.As(err, &cfgErr) || len(cfgErr.Problems) != 1 {
			t.Errorf("%s = %q: got %v, want one problem", tc.key, tc.value, err)
			continue
		}
		p := cfgErr.Problems[0]
		if p.Key != tc.key || p.Value != tc.value || !strings.Contains(p.Allowed, tc.want) {
			t.Errorf("%s = %q: problem %v, want the key, the value and %q", tc.key, tc.value, p, tc.want)
		}
	}
	for key, value := range map[string]string{"alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops_alerts-1", "alarmEmail": "ops+mq@example.co.uk"} {
		if _, err := ParseConfig("public", map[string]string{ProjectName + ":networkMode": "public", ProjectName + ":" + key: value}); err != nil {
			t.Errorf("%s = %q refused: %v", key, value, err)
		}
	}
}

// The docs' table is the alarms' table: one row per alarm, every threshold setting a setting.
func TestAlarmDocsFollowTheTable(t *testing.T) {
	docs := AlarmDocs()
	if len(docs) != len(alarmSpecs) {
		t.Fatalf("%d rows for %d alarms", len(docs), len(alarmSpecs))
	}
	keys := map[string]bool{}
	for _, s := range settings() {
		keys[s.key] = true
	}
	for i, spec := range alarmSpecs {
		for _, key := range []string{spec.thresholdSetting, spec.periodsSetting} {
			if key != "" && !keys[key] {
				t.Errorf("%s names %s, which is no setting", spec.name, key)
			}
		}
		if !strings.HasSuffix(docs[i].Name, spec.name) || docs[i].Action == "" || docs[i].Meaning == "" {
			t.Errorf("row %d = %+v", i, docs[i])
		}
	}
	if got := docs[1].Fires; got != "> `alarmBacklogMessages` (default 1000)" {
		t.Errorf("the backlog row fires %q", got)
	}
}
