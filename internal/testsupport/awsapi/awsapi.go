// Package awsapi is a loopback stand-in of the four AWS calls make status makes — Lambda
// GetEventSourceMapping, CloudWatch GetMetricData and DescribeAlarms, CloudWatch Logs
// FilterLogEvents — each over the wire protocol the pinned SDK speaks (BEHAVIOURS.md names the
// sources). Point the SDK at it with Env's variables. A request it does not model is refused
// with an error the SDK parses and a message that says so: nothing is answered by guess.
package awsapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Mapping is an event source mapping as GetEventSourceMapping reports it.
type Mapping struct {
	UUID, State, StateTransitionReason, LastProcessingResult string
	LastModified                                             time.Time
}

// Point is one datapoint of a metric.
type Point struct {
	Time  time.Time
	Value float64
}

// Alarm is a metric alarm as DescribeAlarms reports it.
type Alarm struct {
	Name, State, Reason string
	Updated             time.Time
}

// LogEvent is one line of a log group.
type LogEvent struct {
	Time    time.Time
	Stream  string
	Message string
}

// AWS is the account the stand-ins answer from. Set its fields before the first call.
type AWS struct {
	Mappings map[string]Mapping
	// Metrics are the datapoints of Namespace, dimension Stack=StackValue, by metric name.
	Namespace, StackValue string
	Metrics               map[string][]Point
	Alarms                []Alarm
	// Logs are the log groups' events, by group name.
	Logs map[string][]LogEvent
	// Deny names operations (GetEventSourceMapping, GetMetricData, DescribeAlarms,
	// FilterLogEvents) answered with the service's access-denied error.
	Deny map[string]bool

	mu    sync.Mutex
	calls []string
}

// Calls returns the operations answered so far, in order.
func (a *AWS) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

func (a *AWS) record(op string) {
	a.mu.Lock()
	a.calls = append(a.calls, op)
	a.mu.Unlock()
}

// Start serves the three services on loopback until the test ends and returns the environment
// that points the SDK at them, with static credentials (the stand-ins do not check signatures).
func (a *AWS) Start(t testing.TB) map[string]string {
	t.Helper()
	lambdaSrv := httptest.NewServer(http.HandlerFunc(a.serveLambda))
	cwSrv := httptest.NewServer(http.HandlerFunc(a.serveCloudWatch))
	logsSrv := httptest.NewServer(http.HandlerFunc(a.serveLogs))
	t.Cleanup(func() { lambdaSrv.Close(); cwSrv.Close(); logsSrv.Close() })
	return map[string]string{ //nolint:gosec // G101: the stand-ins' own placeholder credentials, checked by nothing
		"AWS_ENDPOINT_URL_LAMBDA":          lambdaSrv.URL,
		"AWS_ENDPOINT_URL_CLOUDWATCH":      cwSrv.URL,
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": logsSrv.URL,
		"AWS_ACCESS_KEY_ID":                "AKIDSTANDIN",
		"AWS_SECRET_ACCESS_KEY":            "standin",
		"AWS_SESSION_TOKEN":                "",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		"AWS_EC2_METADATA_DISABLED":        "true",
		// One attempt: a refusal must show at once, not after the SDK's retries.
		"AWS_MAX_ATTEMPTS": "1",
	}
}

// --- Lambda: REST-JSON (restJson1), GET /2015-03-31/event-source-mappings/{UUID}.

func (a *AWS) serveLambda(w http.ResponseWriter, r *http.Request) {
	uuid, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/event-source-mappings/")
	if r.Method != http.MethodGet || !ok || uuid == "" || strings.Contains(uuid, "/") {
		restJSONError(w, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("the stand-in Lambda answers GET /2015-03-31/event-source-mappings/{UUID} only, not %s %s", r.Method, r.URL.Path))
		return
	}
	a.record("GetEventSourceMapping")
	if a.Deny["GetEventSourceMapping"] {
		restJSONError(w, http.StatusForbidden, "AccessDeniedException",
			"User: arn:aws:iam::123456789012:user/operator is not authorized to perform: lambda:GetEventSourceMapping on resource: arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"+uuid)
		return
	}
	m, found := a.Mappings[uuid]
	if !found {
		restJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
		return
	}
	body := map[string]any{"UUID": m.UUID, "State": m.State, "StateTransitionReason": m.StateTransitionReason,
		"LastModified": float64(m.LastModified.UnixMilli()) / 1000}
	if m.LastProcessingResult != "" {
		body["LastProcessingResult"] = m.LastProcessingResult
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// restJSONError answers in restJson1's error shape: the code in X-Amzn-ErrorType, the message
// in the body.
func restJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": message})
}

// --- CloudWatch: Smithy RPC v2 CBOR, POST /service/GraniteServiceVersion20100801/operation/{Op}.

func (a *AWS) serveCloudWatch(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/")
	if r.Method != http.MethodPost || !ok || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		cborError(w, http.StatusBadRequest, "InvalidAction", "InvalidAction",
			fmt.Sprintf("the stand-in CloudWatch speaks rpc-v2-cbor at /service/GraniteServiceVersion20100801/operation/{Op} only, not %s %s", r.Method, r.URL.Path))
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		cborError(w, http.StatusBadRequest, "InvalidParameterValue", "InvalidParameterValue", err.Error())
		return
	}
	in := cbor.Map{}
	if len(raw) > 0 {
		v, err := cbor.Decode(raw)
		m, isMap := v.(cbor.Map)
		if err != nil || !isMap {
			cborError(w, http.StatusBadRequest, "SerializationException", "SerializationException", fmt.Sprintf("the body is no CBOR map: %v", err))
			return
		}
		in = m
	}
	if op != "GetMetricData" && op != "DescribeAlarms" {
		cborError(w, http.StatusBadRequest, "InvalidAction", "InvalidAction", "the stand-in CloudWatch answers GetMetricData and DescribeAlarms only, not "+op)
		return
	}
	a.record(op)
	if a.Deny[op] {
		// CloudWatch is awsQuery-compatible: the query code travels in X-Amzn-Query-Error.
		cborError(w, http.StatusForbidden, "AccessDeniedException", "AccessDenied;Sender",
			"User: arn:aws:iam::123456789012:user/operator is not authorized to perform: cloudwatch:"+op+" on resource: arn:aws:cloudwatch:us-east-1:123456789012:alarm:*")
		return
	}
	var out cbor.Map
	if op == "GetMetricData" {
		out, err = a.getMetricData(in)
	} else {
		out, err = a.describeAlarms(in)
	}
	if err != nil {
		cborError(w, http.StatusBadRequest, "InvalidParameterValue", "InvalidParameterValue;Sender", err.Error())
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(out))
}

func cborError(w http.ResponseWriter, status int, typ, queryError, message string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", queryError)
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(message)}))
}

func str(v cbor.Value) string { s, _ := v.(cbor.String); return string(s) }

// timestamp reads a CBOR epoch-seconds timestamp (tag 1).
func timestamp(v cbor.Value) (time.Time, bool) {
	tag, ok := v.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, false
	}
	switch n := tag.Value.(type) {
	case cbor.Float64:
		return time.UnixMilli(int64(float64(n) * 1000)), true
	case cbor.Uint:
		return time.Unix(int64(n), 0), true //nolint:gosec // G115: an epoch second
	}
	return time.Time{}, false
}

func epoch(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}

// getMetricData answers MetricStat queries of the namespace and Stack dimension: each
// metric's points in [StartTime, EndTime), newest first (ScanBy TimestampDescending, the
// default). Expressions, other dimensions and paging are refused.
func (a *AWS) getMetricData(in cbor.Map) (cbor.Map, error) {
	start, ok1 := timestamp(in["StartTime"])
	end, ok2 := timestamp(in["EndTime"])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("StartTime and EndTime are required timestamps")
	}
	if sb := str(in["ScanBy"]); sb != "" && sb != "TimestampDescending" {
		return nil, fmt.Errorf("the stand-in models ScanBy TimestampDescending only, not %s", sb)
	}
	if in["NextToken"] != nil {
		return nil, fmt.Errorf("the stand-in does not model paging")
	}
	queries, _ := in["MetricDataQueries"].(cbor.List)
	results := cbor.List{}
	for _, qv := range queries {
		q, _ := qv.(cbor.Map)
		stat, _ := q["MetricStat"].(cbor.Map)
		if stat == nil || q["Expression"] != nil {
			return nil, fmt.Errorf("query %s: the stand-in models MetricStat queries only", str(q["Id"]))
		}
		metric, _ := stat["Metric"].(cbor.Map)
		dims, _ := metric["Dimensions"].(cbor.List)
		if str(metric["Namespace"]) != a.Namespace || len(dims) != 1 {
			return nil, fmt.Errorf("query %s: the stand-in knows namespace %s with the one dimension Stack", str(q["Id"]), a.Namespace)
		}
		dim, _ := dims[0].(cbor.Map)
		var times, values cbor.List
		if str(dim["Name"]) == "Stack" && str(dim["Value"]) == a.StackValue {
			points := slices.Clone(a.Metrics[str(metric["MetricName"])])
			slices.SortFunc(points, func(x, y Point) int { return y.Time.Compare(x.Time) })
			for _, p := range points {
				if !p.Time.Before(start) && p.Time.Before(end) {
					times, values = append(times, epoch(p.Time)), append(values, cbor.Float64(p.Value))
				}
			}
		}
		results = append(results, cbor.Map{"Id": q["Id"], "Label": metric["MetricName"], "Timestamps": times,
			"Values": values, "StatusCode": cbor.String("Complete")})
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

// describeAlarms answers by AlarmNames and StateValue: the metric alarms among the names,
// in the state when one is given.
func (a *AWS) describeAlarms(in cbor.Map) (cbor.Map, error) {
	for key := range in {
		if !slices.Contains([]string{"AlarmNames", "StateValue", "MaxRecords"}, key) {
			return nil, fmt.Errorf("the stand-in does not model DescribeAlarms' %s", key)
		}
	}
	names, _ := in["AlarmNames"].(cbor.List)
	state := str(in["StateValue"])
	alarms := cbor.List{}
	for _, al := range a.Alarms {
		if !slices.ContainsFunc(names, func(n cbor.Value) bool { return str(n) == al.Name }) || state != "" && al.State != state {
			continue
		}
		alarms = append(alarms, cbor.Map{"AlarmName": cbor.String(al.Name), "StateValue": cbor.String(al.State),
			"StateReason": cbor.String(al.Reason), "StateUpdatedTimestamp": epoch(al.Updated)})
	}
	return cbor.Map{"MetricAlarms": alarms, "CompositeAlarms": cbor.List{}}, nil
}

// --- CloudWatch Logs: AWS JSON 1.1, X-Amz-Target Logs_20140328.FilterLogEvents.

func (a *AWS) serveLogs(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target != "Logs_20140328.FilterLogEvents" {
		jsonError(w, "InvalidOperationException", "the stand-in CloudWatch Logs answers Logs_20140328.FilterLogEvents only, not "+target)
		return
	}
	var in struct {
		LogGroupName  string  `json:"logGroupName"`
		StartTime     int64   `json:"startTime"`
		EndTime       int64   `json:"endTime"`
		FilterPattern string  `json:"filterPattern"`
		Limit         int     `json:"limit"`
		NextToken     *string `json:"nextToken"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		jsonError(w, "InvalidParameterException", "the stand-in does not model this request: "+err.Error())
		return
	}
	a.record("FilterLogEvents")
	if a.Deny["FilterLogEvents"] {
		jsonError(w, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: logs:FilterLogEvents")
		return
	}
	terms, err := orTerms(in.FilterPattern)
	if err != nil || in.NextToken != nil {
		jsonError(w, "InvalidParameterException", fmt.Sprintf("the stand-in does not model this filter or paging: %v", err))
		return
	}
	events, found := a.Logs[in.LogGroupName]
	if !found {
		jsonError(w, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	out := []map[string]any{}
	for i, e := range events {
		ms := e.Time.UnixMilli()
		if ms < in.StartTime || in.EndTime != 0 && ms > in.EndTime ||
			len(terms) > 0 && !slices.ContainsFunc(terms, func(t string) bool { return strings.Contains(e.Message, t) }) {
			continue
		}
		out = append(out, map[string]any{"logStreamName": e.Stream, "timestamp": ms, "ingestionTime": ms,
			"message": e.Message, "eventId": fmt.Sprint(i)})
		if in.Limit > 0 && len(out) == in.Limit {
			break
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"events": out, "searchedLogStreams": []any{}})
}

// orTerms reads the one filter-pattern form modelled: terms each prefixed with ?, matched
// case-sensitively anywhere in the line, any of them; a term may be double-quoted.
func orTerms(pattern string) ([]string, error) {
	var terms []string
	rest := strings.TrimSpace(pattern)
	for rest != "" {
		if !strings.HasPrefix(rest, "?") {
			return nil, fmt.Errorf("pattern %q: only ?term alternatives are modelled", pattern)
		}
		rest = rest[1:]
		var term string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("pattern %q: unterminated quote", pattern)
			}
			term, rest = rest[1:end+1], rest[end+2:]
		} else {
			term, rest, _ = strings.Cut(rest, " ")
		}
		terms = append(terms, term)
		rest = strings.TrimSpace(rest)
	}
	return terms, nil
}

func jsonError(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
