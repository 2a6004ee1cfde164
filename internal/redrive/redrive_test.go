package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/provisioner"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

// deadLettered declares a fresh topology on the local broker and dead-letters n messages the
// way the queue does (rejected without requeue); the queues are deleted when the test ends.
func deadLettered(t *testing.T, n int) (brokertest.Broker, *amqp.Channel, rabbitops.Topology) {
	t.Helper()
	b := brokertest.Require(t)
	conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, rabbitops.Credentials{Username: b.Username, Password: b.Password}, "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	top := rabbitops.Topology{Queue: fmt.Sprintf("redrive-cmd-%d", time.Now().UnixNano()), VHost: "/", DeliveryLimit: 5}
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(top.Queue, false, false, false)
		_, _ = ch.QueueDelete(top.DeadLetterQueue(), false, false, false)
		_ = ch.ExchangeDelete(top.DeadLetterExchange(), false, false)
	})
	if err := rabbitops.Declare(ch, top); err != nil {
		t.Fatal(err)
	}
	if _, err := rabbitops.Publish(context.Background(), ch, top, "dead", n); err != nil {
		t.Fatal(err)
	}
	for range n {
		d, ok, err := ch.Get(top.Queue, false)
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		if err := d.Reject(false); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); depth(t, ch, top.DeadLetterQueue()) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages never reached %s", n, top.DeadLetterQueue())
		}
	}
	return b, ch, top
}

func depth(t *testing.T, ch *amqp.Channel, queue string) int {
	t.Helper()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

func TestDirectRedriveOnTheRealBroker(t *testing.T) {
	b, ch, top := deadLettered(t, 3)
	t.Setenv("AMQP_PASSWORD", b.Password)
	args := []string{"--url", "amqps://" + b.Username + "@" + strings.TrimPrefix(b.TLSEndpoint, "amqps://"), "--ca-file", b.CAFile, "--queue", top.Queue}

	var out, errOut strings.Builder
	if err := Run(context.Background(), append(args, "--dry-run"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run: "+top.DeadLetterQueue()+" holds 3 messages; a redrive would move 3") ||
		!strings.Contains(out.String(), "dead-000002  redrives: 0  dead-lettered by RabbitMQ: rejected") {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	if n := depth(t, ch, top.Queue); n != 0 {
		t.Errorf("the dry run moved %d messages", n)
	}

	out.Reset()
	if err := Run(context.Background(), append(args, "--max", "2"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3 found, 2 moved, 0 still to move") || !strings.Contains(out.String(), "redrives: 1") {
		t.Errorf("redrive printed:\n%s", out.String())
	}
	if depth(t, ch, top.Queue) != 2 || depth(t, ch, top.DeadLetterQueue()) != 1 {
		t.Errorf("after moving 2 of 3: %d in the queue, %d dead letters", depth(t, ch, top.Queue), depth(t, ch, top.DeadLetterQueue()))
	}

	if strings.Contains(out.String()+errOut.String(), b.Password) {
		t.Error("the password was printed")
	}
}

func TestAStopSaysHowToResume(t *testing.T) {
	var out strings.Builder
	res := contract.RedriveResult{Queue: "events", DeadLetterQueue: "events.dlq", Found: 10, Moved: 3, Remaining: 7, Stopped: true,
		Messages: []contract.RedrivenMessage{{MessageID: "a", RedriveCount: 1}, {RedriveCount: 2, Error: "boom"}}}
	err := summarise(&out, res, nil)
	if err == nil || !strings.Contains(err.Error(), "rerun with --max 7") {
		t.Errorf("a stopped run: %v", err)
	}
	want := "events.dlq -> events: 10 found, 3 moved, 7 still to move\n  a  redrives: 1  \n  (no message id)  redrives: 2  boom\n  and 1 more\n"
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestFlagsOfTheOtherModeAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give either --stack <name> or --url"},
		{[]string{"--stack", "isolated", "--url", "amqp://u@h:5672"}, "give either"},
		{[]string{"--stack", "isolated", "--queue", "events"}, "--queue goes with --url"},
		{[]string{"--stack", "isolated", "--vhost", "/x"}, "--vhost goes with --url"},
		{[]string{"--stack", "isolated", "--ca-file", "ca.pem"}, "--ca-file goes with --direct or --url"},
		{[]string{"--url", "amqp://u@h:5672"}, "--queue is required with --url"},
		{[]string{"--url", "amqp://u@h:5672", "--queue", "q", "--direct"}, "--direct goes with --stack"},
		{[]string{"--url", "amqp://u@h:5672", "--queue", "q", "--region", "eu-west-1"}, "--region goes with --stack"},
		{[]string{"--stack", "isolated", "--max", "-1"}, "--max -1: must be 0 (all) or more"},
		{[]string{"--stack", "isolated", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"--url", "amqps://:secret-pw@", "--queue", "q"}, "--url: want amqps://user@host:5671"},
	} {
		var out, errOut strings.Builder
		err := Run(context.Background(), tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: want %q, got %v", tc.args, tc.want, err)
		} else if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%q: the error shows the password: %v", tc.args, err)
		}
	}
}

func TestHelpShowsOnlyTheToolsFlags(t *testing.T) {
	var out, errOut strings.Builder
	if err := Run(context.Background(), []string{"--help"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(errOut.String(), -1) {
		names = append(names, m[1])
	}
	if want := []string{"ca-file", "direct", "dry-run", "max", "queue", "region", "stack", "url", "vhost"}; !slices.Equal(names, want) {
		t.Errorf("--help lists %v, want %v:\n%s", names, want, errOut.String())
	}
}

type secret string

func (s secret) SecretString(context.Context, string) (string, error) { return string(s), nil }

// provisionerLambda plays Lambda running the real provisioner: each invocation gets a
// deadline window past the provisioner's margin, so a long redrive takes several invocations.
type provisionerLambda struct {
	p      *provisioner.Provisioner
	window time.Duration
	calls  []contract.Request
}

func (f *provisionerLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	var req contract.Request
	if err := json.Unmarshal(in.Payload, &req); err != nil {
		return nil, err
	}
	f.calls = append(f.calls, req)
	ctx, cancel := context.WithTimeout(ctx, provisioner.RedriveMargin+f.window)
	defer cancel()
	resp, err := f.p.Handle(ctx, req)
	if err != nil {
		return &lambda.InvokeOutput{FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":` + strconv.Quote(err.Error()) + `}`)}, nil
	}
	payload, err := json.Marshal(resp)
	return &lambda.InvokeOutput{Payload: payload}, err
}

func TestRedriveThroughTheProvisionerTakesAsManyInvocationsAsItNeeds(t *testing.T) {
	// Enough messages that moving them one confirm at a time outlasts one window on any machine,
	// and a window long enough that a loaded machine still dials, logs in and moves some in it.
	const total = 1000
	b, ch, top := deadLettered(t, total)
	creds, _ := json.Marshal(rabbitops.Credentials{Username: b.Username, Password: b.Password}) //nolint:gosec // G117: the test broker's generated credentials
	lam := &provisionerLambda{window: 500 * time.Millisecond, p: &provisioner.Provisioner{
		Env:     provisioner.Env{SecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:test", Endpoint: b.TLSEndpoint, VHost: "/", Queue: top.Queue, DeliveryLimit: 5}, //nolint:gosec // G101: a fake ARN
		Secrets: secret(creds), CAFile: b.CAFile,
	}}
	var progress strings.Builder
	res, err := viaProvisioner(context.Background(), lam, "provisioner", rabbitops.RedriveOptions{}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != total || res.Moved != total || res.Remaining != 0 || len(res.Messages) != contract.RedriveListLimit {
		t.Errorf("result: found %d, moved %d, remaining %d, %d listed", res.Found, res.Moved, res.Remaining, len(res.Messages))
	}
	if len(lam.calls) < 2 || lam.calls[0].Max != 0 || lam.calls[1].Max == 0 {
		t.Errorf("invocations %+v: want several, the later ones capped at what the last left", lam.calls)
	}
	seen := map[string]bool{}
	for {
		d, ok, err := ch.Get(top.Queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if seen[d.MessageId] {
			t.Errorf("%s moved twice", d.MessageId)
		}
		seen[d.MessageId] = true
	}
	if len(seen) != total {
		t.Errorf("the queue holds %d distinct messages, want %d", len(seen), total)
	}
	t.Logf("%d invocations; %s", len(lam.calls), progress.String())
}
