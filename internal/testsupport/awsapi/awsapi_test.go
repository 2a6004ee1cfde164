package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func sdkConfig(t *testing.T, a *AWS) aws.Config {
	t.Helper()
	for k, v := range a.Start(t) {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestErrorsAreTheServicesOwn: the SDK parses each refusal into the error type or code the
// real service sends.
func TestErrorsAreTheServicesOwn(t *testing.T) {
	a := &AWS{Namespace: "NS", Deny: map[string]bool{"DescribeAlarms": true}, Logs: map[string][]LogEvent{}}
	cfg := sdkConfig(t, a)
	ctx := context.Background()

	_, err := lambda.NewFromConfig(cfg).GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String("missing")})
	var notFound *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("an unknown mapping: %v", err)
	}
	_, err = cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || apiErr.ErrorFault() != smithy.FaultClient {
		t.Errorf("a denied DescribeAlarms: %v", err)
	}
	_, err = cloudwatchlogs.NewFromConfig(cfg).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/none")})
	var noGroup *logtypes.ResourceNotFoundException
	if !errors.As(err, &noGroup) {
		t.Errorf("an unknown log group: %v", err)
	}
}

// TestRefusesWhatItDoesNotModel: a request outside the model fails, saying so.
func TestRefusesWhatItDoesNotModel(t *testing.T) {
	a := &AWS{Namespace: "NS", StackValue: "s", Logs: map[string][]LogEvent{"g": nil}}
	cfg := sdkConfig(t, a)
	ctx := context.Background()
	cw, logs := cloudwatch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	now := time.Now()
	for name, call := range map[string]func() error{
		"an expression query": func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}}})
			return err
		},
		"another namespace": func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors")}}}}})
			return err
		},
		"an alarm prefix": func() error {
			_, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("x")})
			return err
		},
		"another CloudWatch operation": func() error {
			_, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
			return err
		},
		"a JSON filter pattern": func() error {
			_, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.level = "ERROR" }`)})
			return err
		},
		"another Logs operation": func() error {
			_, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "the stand-in") {
			t.Errorf("%s: %v, want a refusal that names the stand-in", name, err)
		}
	}
}

// TestAnswers: what the SDK decodes is what the account holds — the mapping's fields, the
// newest point first within the window, the alarms in the state asked, the lines matching a
// term.
func TestAnswers(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	a := &AWS{
		Mappings:  map[string]Mapping{"u": {UUID: "u", State: "Disabled", StateTransitionReason: "EVENT_SOURCE_AUTHN_ERROR", LastModified: now}},
		Namespace: "NS", StackValue: "s",
		Metrics: map[string][]Point{"Q": {{now.Add(-2 * time.Minute), 1}, {now.Add(-time.Minute), 2}, {now.Add(-time.Hour), 9}}},
		Alarms:  []Alarm{{Name: "a", State: "ALARM", Reason: "r", Updated: now}, {Name: "b", State: "OK", Updated: now}},
		Logs: map[string][]LogEvent{"g": {{now.Add(-time.Minute), "s", `{"level":"ERROR"}`}, {now.Add(-time.Minute), "s", `{"level":"INFO"}`},
			{now.Add(-time.Minute), "s", "Task timed out after 3.00 seconds"}}},
	}
	cfg := sdkConfig(t, a)
	ctx := context.Background()

	m, err := lambda.NewFromConfig(cfg).GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String("u")})
	if err != nil || aws.ToString(m.StateTransitionReason) != "EVENT_SOURCE_AUTHN_ERROR" || aws.ToString(m.State) != "Disabled" || !aws.ToTime(m.LastModified).Equal(now) {
		t.Errorf("mapping %+v, %v", m, err)
	}
	cw := cloudwatch.NewFromConfig(cfg)
	md, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("NS"), MetricName: aws.String("Q"), Dimensions: []cwtypes.Dimension{{Name: aws.String("Stack"), Value: aws.String("s")}}}}}}})
	if err != nil || len(md.MetricDataResults) != 1 || len(md.MetricDataResults[0].Values) != 2 || md.MetricDataResults[0].Values[0] != 2 ||
		!md.MetricDataResults[0].Timestamps[0].Equal(now.Add(-time.Minute)) {
		t.Errorf("metric data %+v, %v", md, err)
	}
	al, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a", "b"}, StateValue: cwtypes.StateValueAlarm})
	if err != nil || len(al.MetricAlarms) != 1 || aws.ToString(al.MetricAlarms[0].AlarmName) != "a" || aws.ToString(al.MetricAlarms[0].StateReason) != "r" {
		t.Errorf("alarms %+v, %v", al, err)
	}
	ev, err := cloudwatchlogs.NewFromConfig(cfg).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"),
		StartTime: aws.Int64(now.Add(-time.Hour).UnixMilli()), FilterPattern: aws.String(`?ERROR ?"Task timed out"`)})
	if err != nil || len(ev.Events) != 2 {
		t.Errorf("log events %+v, %v", ev, err)
	}
	if got := strings.Join(a.Calls(), ","); got != "GetEventSourceMapping,GetMetricData,DescribeAlarms,FilterLogEvents" {
		t.Errorf("calls %s", got)
	}
}
