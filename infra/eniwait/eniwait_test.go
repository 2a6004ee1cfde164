package eniwait

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// fakeEC2 answers DescribeNetworkInterfaces from a script: one entry per call, the last one
// repeated. An entry is either an error or pages of descriptions ("id=description").
type fakeEC2 struct {
	script []step
	calls  []*ec2.DescribeNetworkInterfacesInput
	region string
	// tagged are the groups DescribeSecurityGroups finds; groupQueries its filters, by call.
	tagged       []string
	groupQueries [][]types.Filter
}

func (f *fakeEC2) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	f.groupQueries = append(f.groupQueries, in.Filters)
	out := &ec2.DescribeSecurityGroupsOutput{}
	for _, id := range f.tagged {
		out.SecurityGroups = append(out.SecurityGroups, types.SecurityGroup{GroupId: aws.String(id)})
	}
	return out, nil
}

type step struct {
	err   error
	pages [][]string
}

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	copied := *in
	f.calls = append(f.calls, &copied)
	pollIndex := 0
	for _, c := range f.calls {
		if c.NextToken == nil {
			pollIndex++
		}
	}
	s := f.script[min(pollIndex, len(f.script))-1]
	if s.err != nil {
		return nil, s.err
	}
	page := 0
	if in.NextToken != nil {
		if _, err := fmt.Sscan(*in.NextToken, &page); err != nil {
			return nil, err
		}
	}
	out := &ec2.DescribeNetworkInterfacesOutput{}
	if len(s.pages) > 0 {
		for _, e := range s.pages[page] {
			id, desc, _ := strings.Cut(e, "=")
			out.NetworkInterfaces = append(out.NetworkInterfaces, types.NetworkInterface{NetworkInterfaceId: aws.String(id), Description: aws.String(desc)})
		}
		if page+1 < len(s.pages) {
			out.NextToken = aws.String(fmt.Sprint(page + 1))
		}
	}
	return out, nil
}

func (f *fakeEC2) polls() int {
	n := 0
	for _, c := range f.calls {
		if c.NextToken == nil {
			n++
		}
	}
	return n
}

// fakeClock advances only when the wait sleeps; onSleep, if set, runs at each sleep (the
// interfaces' fake moves on to its next poll).
type fakeClock struct {
	now     time.Time
	sleeps  []time.Duration
	onSleep func()
}

func (c *fakeClock) options() Options {
	return Options{
		Now: func() time.Time { return c.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			c.sleeps = append(c.sleeps, d)
			c.now = c.now.Add(d)
			if c.onSleep != nil {
				c.onSleep()
			}
			return nil
		},
	}
}

// logInto is a Logf that appends each line to logs.
func logInto(logs *[]string) func(string, ...any) {
	return func(f string, a ...any) { *logs = append(*logs, fmt.Sprintf(f, a...)) }
}

const prefix = "AWS Lambda VPC ENI-armq-123456789012-0f1e2d3c"

func TestVanishAfterSomePolls(t *testing.T) {
	api := &fakeEC2{script: []step{
		{pages: [][]string{{"eni-1=" + prefix + "-a", "eni-2=" + prefix + "-b"}}},
		{pages: [][]string{{"eni-2=" + prefix + "-b"}}},
		{pages: [][]string{{"eni-2=" + prefix + "-b"}}},
		{},
	}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	var logs []string
	opts := clock.options()
	opts.Logf = logInto(&logs)
	if err := Wait(context.Background(), api, prefix, opts); err != nil {
		t.Fatal(err)
	}
	if api.polls() != 4 {
		t.Errorf("%d polls, want 4", api.polls())
	}
	if got := fmt.Sprint(clock.sleeps); got != "[5s 10s 20s]" {
		t.Errorf("backoff = %s, want doubling from 5s", got)
	}
	if !strings.Contains(logs[0], "2 network interface(s)") || !strings.Contains(logs[0], "eni-1, eni-2") || !strings.Contains(logs[len(logs)-1], "remains") {
		t.Errorf("progress = %q", logs)
	}
	f := api.calls[0].Filters[0]
	if aws.ToString(f.Name) != "description" || f.Values[0] != prefix+"*" {
		t.Errorf("filter = %s %v", aws.ToString(f.Name), f.Values)
	}
}

func TestNeverVanishTimesOutListingIDs(t *testing.T) {
	api := &fakeEC2{script: []step{{pages: [][]string{{"eni-9=" + prefix + "-z", "eni-3=" + prefix + "-y"}}}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	opts := clock.options()
	opts.Timeout = 3 * time.Minute
	err := Wait(context.Background(), api, prefix, opts)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("want a TimeoutError, got %v", err)
	}
	if strings.Join(te.Remaining, ",") != "eni-3,eni-9" || te.Waited > 3*time.Minute {
		t.Errorf("timeout error = %+v", te)
	}
	msg := err.Error()
	for _, want := range []string{"eni-3, eni-9", "aws ec2 delete-network-interface", "detach-network-interface", "pulumi destroy --run-program", "DependencyViolation"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, d := range clock.sleeps {
		if d > 30*time.Second {
			t.Errorf("slept %s, over the 30s cap", d)
		}
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	api := &fakeEC2{script: []step{{err: throttled}, {err: throttled}, {}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	if err := Wait(context.Background(), api, prefix, clock.options()); err != nil {
		t.Fatal(err)
	}
	if api.polls() != 3 {
		t.Errorf("%d polls, want 3", api.polls())
	}
}

func TestPermanentErrorsAreReported(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}
	api := &fakeEC2{script: []step{{err: denied}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	err := Wait(context.Background(), api, prefix, clock.options())
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") || api.polls() != 1 {
		t.Errorf("err = %v after %d polls; want the error at once", err, api.polls())
	}
}

func TestPaginationAndExactPrefix(t *testing.T) {
	api := &fakeEC2{script: []step{
		{pages: [][]string{{"eni-1=" + prefix + "-a"}, {"eni-2=" + prefix + "-b", "eni-x=AWS Lambda VPC ENI-other"}}},
		{},
	}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	var logs []string
	opts := clock.options()
	opts.Logf = logInto(&logs)
	if err := Wait(context.Background(), api, prefix, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs[0], "eni-1, eni-2") || strings.Contains(logs[0], "eni-x") {
		t.Errorf("first poll saw %q; want both pages and only the prefix's interfaces", logs[0])
	}
}

func TestHooksUnderMocks(t *testing.T) {
	api := &fakeEC2{script: []step{{pages: [][]string{{"eni-1=x"}}}, {}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	settings := HookSettings{
		Timeout: time.Minute,
		Options: clock.options(),
		NewClient: func(_ context.Context, region string) (API, error) {
			api.region = region
			return api, nil
		},
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		esmHook, err := NewESMHook(ctx, "esm-eni-wait", settings)
		if err != nil {
			return err
		}
		if esmHook.Name != "esm-eni-wait" {
			return fmt.Errorf("hook name %q", esmHook.Name)
		}
		old := resource.NewPropertyMapFromMap(map[string]any{
			"uuid": "0f1e2d3c", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:listener",
		})
		if err := esmHook.Callback(&pulumi.ResourceHookArgs{Name: "mapping", OldOutputs: old}); err != nil {
			return err
		}
		if api.region != "eu-west-1" || api.calls[0].Filters[0].Values[0] != prefix+"*" {
			return fmt.Errorf("waited in %s for %v", api.region, api.calls[0].Filters[0].Values)
		}
		if err := esmHook.Callback(&pulumi.ResourceHookArgs{Name: "mapping", OldOutputs: resource.PropertyMap{}}); err == nil {
			return errors.New("a mapping without outputs was accepted")
		}

		fnHook, err := NewFunctionHook(ctx, "fn-eni-wait", HookSettings{Region: "us-east-2", NewClient: settings.NewClient, Options: clock.options()})
		if err != nil {
			return err
		}
		// Both forms of a function interface's description are seen: with and without a suffix.
		api.calls, api.script = nil, []step{
			{pages: [][]string{{"eni-5=AWS Lambda VPC ENI-provisioner-abc"}}},
			{pages: [][]string{{"eni-6=AWS Lambda VPC ENI-provisioner-abc-0a1b2c3d"}}},
			{},
		}
		oldFn := resource.NewPropertyMapFromMap(map[string]any{
			"name": "provisioner-abc", "arn": "arn:aws:lambda:eu-west-1:123456789012:function:provisioner-abc",
			"vpcConfig": map[string]any{"securityGroupIds": []any{"sg-1"}},
		})
		if err := fnHook.Callback(&pulumi.ResourceHookArgs{Name: "fn", OldOutputs: oldFn}); err != nil {
			return err
		}
		filters := api.calls[0].Filters
		if api.region != "us-east-2" || filters[0].Values[0] != "AWS Lambda VPC ENI-provisioner-abc*" || filters[1].Values[0] != "sg-1" {
			return fmt.Errorf("function wait: region %s, filters %v %v", api.region, filters[0].Values, filters[1].Values)
		}
		if api.polls() != 3 {
			return fmt.Errorf("function wait ended after %d polls; want 3 (each form of description waited for, then none)", api.polls())
		}
		return nil
	}, pulumi.WithMocks("project", "stack", noResources{}))
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupHooks: the group's own hook waits for every Lambda interface carrying the group; the
// roles' hook finds the groups by their tags, and has nothing to wait for once they are gone.
func TestGroupHooks(t *testing.T) {
	api := &fakeEC2{script: []step{{pages: [][]string{{"eni-1=AWS Lambda VPC ENI-armq-123456789012-uuid-abc"}}}, {}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	settings := HookSettings{Region: "us-east-1", Options: clock.options(),
		NewClient: func(context.Context, string) (API, error) { return api, nil }}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		group, err := NewGroupHook(ctx, "group-wait", settings)
		if err != nil {
			return err
		}
		if err := group.Callback(&pulumi.ResourceHookArgs{Name: "sg", ID: "sg-9"}); err != nil {
			return err
		}
		filters := api.calls[0].Filters
		// By interface type, not by description: no AWS document states the description.
		if *filters[0].Name != "interface-type" || filters[0].Values[0] != "lambda" || filters[1].Values[0] != "sg-9" || api.polls() != 2 {
			return fmt.Errorf("group wait: filters %v %v after %d polls", filters[0].Values, filters[1].Values, api.polls())
		}
		if err := group.Callback(&pulumi.ResourceHookArgs{Name: "sg"}); err == nil {
			return errors.New("a group without an id was accepted")
		}

		roles, err := NewTaggedGroupsHook(ctx, "roles-wait", settings, map[string]string{"stack": "nat", "project": "p"})
		if err != nil {
			return err
		}
		api.calls, api.script, api.tagged = nil, []step{{}}, []string{"sg-7"}
		if err := roles.Callback(&pulumi.ResourceHookArgs{Name: "role"}); err != nil {
			return err
		}
		q := api.groupQueries[0]
		if len(q) != 2 || *q[0].Name != "tag:project" || q[0].Values[0] != "p" || *q[1].Name != "tag:stack" || api.calls[0].Filters[1].Values[0] != "sg-7" {
			return fmt.Errorf("roles wait: group query %v, interface filters %v", q, api.calls[0].Filters)
		}
		api.calls, api.tagged = nil, nil
		if err := roles.Callback(&pulumi.ResourceHookArgs{Name: "role"}); err != nil || len(api.calls) != 0 {
			return fmt.Errorf("with no tagged group left the roles' wait polled %d times (%w)", len(api.calls), err)
		}
		if _, err := NewTaggedGroupsHook(ctx, "no-tags", settings, nil); err == nil {
			return errors.New("a tagged-groups hook without tags was accepted")
		}
		return nil
	}, pulumi.WithMocks("project", "stack", noResources{}))
	if err != nil {
		t.Fatal(err)
	}
}

type noResources struct{}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return "", nil, fmt.Errorf("unexpected resource %s", args.TypeToken)
}

func (noResources) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %s", args.Token)
}

// interfacesEC2 answers DescribeNetworkInterfaces from a set of interfaces, applying the
// filters as EC2 does (description wildcards, interface type, group); each interface exists
// for a number of polls.
type interfacesEC2 struct {
	fakeEC2
	enis []fakeENI
	poll int
}

type fakeENI struct {
	id, description, kind string
	groups                []string
	// polls is how many polls still see it; -1: always.
	polls int
}

func (f *interfacesEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.calls = append(f.calls, in)
	out := &ec2.DescribeNetworkInterfacesOutput{}
	for _, e := range f.enis {
		if e.polls != -1 && f.poll >= e.polls {
			continue
		}
		if matchesFilters(e, in.Filters) {
			out.NetworkInterfaces = append(out.NetworkInterfaces, types.NetworkInterface{NetworkInterfaceId: aws.String(e.id), Description: aws.String(e.description)})
		}
	}
	return out, nil
}

func matchesFilters(e fakeENI, filters []types.Filter) bool {
	for _, f := range filters {
		ok := false
		for _, v := range f.Values {
			switch aws.ToString(f.Name) {
			case "description":
				ok = ok || strings.HasPrefix(e.description, strings.TrimSuffix(v, "*"))
			case "interface-type":
				ok = ok || e.kind == v
			case "group-id":
				ok = ok || slices.Contains(e.groups, v)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestGuardFindsInterfacesDescribedOtherwise: were Lambda to describe a mapping's interfaces
// otherwise, the guard still waits for them (Lambda's, in the broker's group, of no function),
// leaves the functions' interfaces and other groups' alone, and the log says what happened.
func TestGuardFindsInterfacesDescribedOtherwise(t *testing.T) {
	api := &interfacesEC2{enis: []fakeENI{
		{id: "eni-esm-a", description: "AWS Lambda VPC ENI-mq-0f1e2d3c-a", kind: "lambda", groups: []string{"sg-broker"}, polls: 3},
		{id: "eni-esm-b", description: "AWS Lambda VPC ENI-mq-0f1e2d3c-b", kind: "lambda", groups: []string{"sg-broker"}, polls: 2},
		{id: "eni-listener", description: "AWS Lambda VPC ENI-listener-1a2b3c4", kind: "lambda", groups: []string{"sg-broker"}, polls: -1},
		{id: "eni-provisioner", description: "AWS Lambda VPC ENI-provisioner-5d6e7f8-0a1b", kind: "lambda", groups: []string{"sg-broker"}, polls: -1},
		{id: "eni-endpoint", description: "VPC Endpoint Interface vpce-1", kind: "vpc_endpoint", groups: []string{"sg-broker"}, polls: -1},
		{id: "eni-other", description: "AWS Lambda VPC ENI-mq-99", kind: "lambda", groups: []string{"sg-other"}, polls: -1},
	}}
	clock := &fakeClock{now: time.Unix(0, 0), onSleep: func() { api.poll++ }}
	opts := clock.options()
	var logs []string
	opts.Logf = logInto(&logs)
	opts.Guard = &Guard{SecurityGroupIDs: []string{"sg-broker"}, ExceptFunctions: []string{"provisioner-5d6e7f8", "listener-1a2b3c4"}}
	if err := Wait(context.Background(), api, prefix, opts); err != nil {
		t.Fatal(err)
	}
	if api.poll != 3 {
		t.Errorf("the wait ended after %d polls; want 3 (until both interfaces described otherwise were gone)", api.poll+1)
	}
	joined := strings.Join(logs, "\n")
	for _, want := range []string{"describes them otherwise", "eni-esm-a, eni-esm-b", "belongs to none of provisioner-5d6e7f8, listener-1a2b3c4"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the log lacks %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "eni-listener") || strings.Contains(joined, "eni-provisioner") || strings.Contains(joined, "eni-other") || strings.Contains(joined, "eni-endpoint") {
		t.Errorf("the wait counted interfaces that are not the mapping's:\n%s", joined)
	}
}

// TestWithoutGuardSaysWhatItCannotSee: with only the description to go by (the default VPC's
// shared group), a description that matches nothing ends the wait, and the log says so and how
// to look for what may be left.
func TestWithoutGuardSaysWhatItCannotSee(t *testing.T) {
	api := &interfacesEC2{enis: []fakeENI{{id: "eni-esm-a", description: "AWS Lambda VPC ENI-mq-0f1e2d3c-a", kind: "lambda", groups: []string{"sg-default"}, polls: -1}}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	opts := clock.options()
	var logs []string
	opts.Logf = logInto(&logs)
	if err := Wait(context.Background(), api, prefix, opts); err != nil {
		t.Fatal(err)
	}
	if len(clock.sleeps) != 0 || !strings.Contains(logs[0], "nothing else identifies them here, so the wait ends") ||
		!strings.Contains(logs[0], "Name=interface-type,Values=lambda") {
		t.Errorf("slept %v; log %q", clock.sleeps, logs)
	}
}

// TestESMHookReadsItsGuardFromTheMappingsTags: GuardTags on the mapping become the hook's
// guard, with the mapping's own function added to the functions left alone.
func TestESMHookReadsItsGuardFromTheMappingsTags(t *testing.T) {
	api := &interfacesEC2{enis: []fakeENI{
		{id: "eni-esm", description: "reworded", kind: "lambda", groups: []string{"sg-broker"}, polls: 2},
		{id: "eni-listener", description: "AWS Lambda VPC ENI-listener-1a2b3c4", kind: "lambda", groups: []string{"sg-broker"}, polls: -1},
		{id: "eni-provisioner", description: "AWS Lambda VPC ENI-provisioner-5d6e7f8", kind: "lambda", groups: []string{"sg-broker"}, polls: -1},
	}}
	clock := &fakeClock{now: time.Unix(0, 0), onSleep: func() { api.poll++ }}
	opts := clock.options()
	settings := HookSettings{Timeout: time.Minute, Options: opts, NewClient: func(context.Context, string) (API, error) { return api, nil }}
	var tags map[string]any
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		hook, err := NewESMHook(ctx, "esm-eni-wait", settings)
		if err != nil {
			return err
		}
		resolved := make(chan map[string]string, 1)
		GuardTags(pulumi.StringArray{pulumi.String("sg-broker")}, pulumi.StringArray{pulumi.String("provisioner-5d6e7f8")}).
			ToStringMapOutput().ApplyT(func(m map[string]string) map[string]string { resolved <- m; return m })
		tags = map[string]any{}
		for k, v := range <-resolved {
			tags[k] = v
		}
		old := resource.NewPropertyMapFromMap(map[string]any{
			"uuid": "0f1e2d3c", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:listener-1a2b3c4", "tags": tags,
		})
		return hook.Callback(&pulumi.ResourceHookArgs{Name: "mapping", OldOutputs: old})
	}, pulumi.WithMocks("project", "stack", noResources{}))
	if err != nil {
		t.Fatal(err)
	}
	if tags[GuardGroupsTag] != "sg-broker" || tags[GuardFunctionsTag] != "provisioner-5d6e7f8" {
		t.Errorf("GuardTags = %v", tags)
	}
	if api.poll != 2 {
		t.Errorf("the hook ended after %d polls; want 2 (until the interface described otherwise was gone, the functions' left alone)", api.poll+1)
	}
}
