// Package eniwait waits until the network interfaces Lambda created for an event source
// mapping (or a VPC-attached function) are gone.
//
// Lambda reports a mapping deleted while its interfaces still exist, and removes them
// asynchronously with the function's role. If the role, its EC2 permissions, the security
// group or the subnets go first, the interfaces are orphaned and the deletion of the group
// and subnets fails with DependencyViolation. Waiting here, in an after-delete resource hook,
// holds everything the mapping depended on until the interfaces are gone.
package eniwait

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// API is the EC2 calls the waits need; *ec2.Client satisfies it.
type API interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// LambdaDescriptionPrefix starts the description of every interface Lambda makes in a VPC,
// for a mapping or for a function.
const LambdaDescriptionPrefix = "AWS Lambda VPC ENI-"

// ESMDescriptionPrefix is the description Lambda gives an Amazon MQ mapping's interfaces
// ("AWS Lambda VPC ENI-armq-<account>-<mapping uuid>-<suffix>").
func ESMDescriptionPrefix(accountID, esmUUID string) string {
	return LambdaDescriptionPrefix + "armq-" + accountID + "-" + esmUUID
}

// FunctionDescriptionPrefix is the description of a VPC-attached function's interfaces:
// "AWS Lambda VPC ENI-<function name>", with or without a suffix (both forms are seen). No
// separator is required after the name, so both match; the hook also filters on the function's
// security groups, which keeps another function whose name extends ours out.
func FunctionDescriptionPrefix(functionName string) string {
	return LambdaDescriptionPrefix + functionName
}

// Options tune Wait. Zero values take the defaults.
type Options struct {
	// Timeout is how long to wait in all. Default 45 minutes: Lambda usually needs a few, up to
	// ~35 at P99 (the Terraform provider waits at least 45).
	Timeout time.Duration
	// InitialDelay between polls, doubled up to MaxDelay. Defaults 5 s and 30 s.
	InitialDelay, MaxDelay time.Duration
	// SecurityGroupIDs narrow the search to interfaces carrying one of these groups.
	SecurityGroupIDs []string
	// LambdaInterfaces matches by EC2's interface type "lambda" instead of a description
	// (Wait's prefix is then empty): it does not depend on how Lambda words the description.
	LambdaInterfaces bool
	// Guard, if set, also waits for Lambda's interfaces in its groups that belong to none of
	// its functions: what the description prefix is meant to find, however Lambda words it.
	Guard *Guard
	// Logf reports progress. Default: silent.
	Logf func(format string, args ...any)
	// Sleep waits between polls. Default: a timer that honours ctx (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Timeout == 0 {
		o.Timeout = 45 * time.Minute
	}
	if o.InitialDelay == 0 {
		o.InitialDelay = 5 * time.Second
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 30 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Guard describes, without relying on descriptions, the interfaces a mapping leaves: Lambda
// made them (EC2 interface type "lambda") and they carry the broker's security groups. Other
// Lambda interfaces in those groups belong to the VPC-attached functions beside the broker,
// which outlive the mapping; they are told apart by the description Lambda gives a function's
// interfaces, which names the function (FunctionDescriptionPrefix), and left out.
//
// A guard is only sound where the groups are the stack's own: in a group shared with other
// workloads (the default VPC's default group) their functions' interfaces would hold the wait.
type Guard struct {
	// SecurityGroupIDs are the broker's groups, which the mapping's interfaces carry.
	SecurityGroupIDs []string
	// ExceptFunctions name the functions whose interfaces carry the same groups.
	ExceptFunctions []string
}

// TimeoutError lists the interfaces left when the wait gave up, with the manual fix.
type TimeoutError struct {
	// What names the interfaces waited for; Filter is the same as aws ec2 CLI filters.
	What, Filter string
	Remaining    []string
	Waited       time.Duration
	// LastErr is the last transient API error, if the final poll failed.
	LastErr error
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	if len(e.Remaining) > 0 {
		fmt.Fprintf(&b, "%d network interface(s) %s still exist after %s: %s.", len(e.Remaining), e.What,
			e.Waited.Round(time.Second), strings.Join(e.Remaining, ", "))
	} else {
		fmt.Fprintf(&b, "could not confirm within %s that the network interfaces %s are gone", e.Waited.Round(time.Second), e.What)
	}
	if e.LastErr != nil {
		fmt.Fprintf(&b, " (last error: %v)", e.LastErr)
	}
	fmt.Fprintf(&b, "\nThey keep the security group and subnets in use, so deleting those would fail with DependencyViolation. "+
		"Lambda normally removes them within minutes. To remove them yourself:\n"+
		"  aws ec2 describe-network-interfaces --filters %s "+
		"--query 'NetworkInterfaces[].[NetworkInterfaceId,Status,Attachment.AttachmentId]' --output text\n"+
		"  aws ec2 detach-network-interface --force --attachment-id <attachment id>   # only for those still in-use\n"+
		"  aws ec2 delete-network-interface --network-interface-id <id>\n"+
		"then run the destroy again: pulumi destroy --run-program", e.Filter)
	return b.String()
}

// Wait polls until no interface with the description prefix (or, with LambdaInterfaces, of
// Lambda's type) in the security groups remains, with a capped
// exponential backoff. Throttling and other transient API errors are retried; permanent ones
// (no permission, bad request) end the wait at once.
//
// A description prefix that matches nothing on the first poll is reported in the log: Lambda
// either removed the interfaces already or words their descriptions otherwise, and only a
// Guard (or the groups' own hooks) can then tell which.
func Wait(ctx context.Context, api API, prefix string, opts Options) error {
	opts.defaults()
	start := opts.Now()
	delay := opts.InitialDelay
	var remaining []string
	for poll := 1; ; poll++ {
		ids, described, err := list(ctx, api, prefix, opts)
		if err == nil && poll == 1 && prefix != "" && described == 0 {
			opts.Logf("%s", nothingDescribed(prefix, opts))
		}
		switch {
		case err != nil && !transient(err):
			return fmt.Errorf("listing the network interfaces %s: %w", what(prefix, opts), err)
		case err != nil:
			opts.Logf("listing network interfaces failed (will retry): %v", err)
		case len(ids) == 0:
			opts.Logf("no network interface %s remains (after %s)", what(prefix, opts), opts.Now().Sub(start).Round(time.Second))
			return nil
		default:
			remaining = ids
			opts.Logf("waiting for %d network interface(s) to be deleted: %s (%s elapsed)", len(ids), strings.Join(ids, ", "),
				opts.Now().Sub(start).Round(time.Second))
		}
		waited := opts.Now().Sub(start)
		if waited >= opts.Timeout {
			return &TimeoutError{What: what(prefix, opts), Filter: cliFilters(prefix, opts), Remaining: remaining, Waited: waited, LastErr: err}
		}
		// The last sleep is cut short so that the final poll falls on the deadline: the whole
		// timeout is spent waiting, not the timeout less one backoff step.
		if err := opts.Sleep(ctx, min(delay, opts.Timeout-waited)); err != nil {
			return fmt.Errorf("waiting for the network interfaces %s: %w", what(prefix, opts), err)
		}
		delay = min(2*delay, opts.MaxDelay)
	}
}

// nothingDescribed says what a wait does when no interface has the description it expects.
func nothingDescribed(prefix string, opts Options) string {
	msg := fmt.Sprintf("no network interface described %q exists: Lambda has removed them already, or describes them otherwise", prefix+"*")
	if g := opts.Guard; g != nil {
		return msg + fmt.Sprintf("; the wait also covers every Lambda interface in %s that belongs to none of %s",
			strings.Join(g.SecurityGroupIDs, ", "), strings.Join(g.ExceptFunctions, ", "))
	}
	groups := "<security group>"
	if len(opts.SecurityGroupIDs) > 0 {
		groups = strings.Join(opts.SecurityGroupIDs, ",")
	}
	return msg + "; nothing else identifies them here, so the wait ends. Lambda interfaces left behind keep their " +
		"security group and subnets in use; list them with: aws ec2 describe-network-interfaces " +
		"--filters Name=interface-type,Values=lambda Name=group-id,Values=" + groups
}

// what names the interfaces a wait is for, in messages.
func what(prefix string, opts Options) string {
	w := fmt.Sprintf("described %q", prefix+"*")
	if opts.LambdaInterfaces {
		w = "made by Lambda (interface type lambda)"
	}
	if len(opts.SecurityGroupIDs) > 0 {
		w += " in " + strings.Join(opts.SecurityGroupIDs, ", ")
	}
	if g := opts.Guard; g != nil {
		w += fmt.Sprintf(", or made by Lambda in %s for none of %s", strings.Join(g.SecurityGroupIDs, ", "), strings.Join(g.ExceptFunctions, ", "))
	}
	return w
}

// cliFilters are the same filters for the aws CLI (a guard's are the groups' with the
// interface type; the functions' interfaces among them are to be left alone).
func cliFilters(prefix string, opts Options) string {
	f := fmt.Sprintf("'Name=description,Values=%s*'", prefix)
	if opts.LambdaInterfaces {
		f = "Name=interface-type,Values=lambda"
	}
	if len(opts.SecurityGroupIDs) > 0 {
		f += " Name=group-id,Values=" + strings.Join(opts.SecurityGroupIDs, ",")
	}
	if g := opts.Guard; g != nil {
		f += fmt.Sprintf(" (and: Name=interface-type,Values=lambda Name=group-id,Values=%s, except those described %s)",
			strings.Join(g.SecurityGroupIDs, ","), strings.Join(functionPrefixes(g.ExceptFunctions), "*, ")+"*")
	}
	return f
}

func functionPrefixes(names []string) []string {
	prefixes := make([]string, len(names))
	for i, n := range names {
		prefixes[i] = FunctionDescriptionPrefix(n)
	}
	return prefixes
}

// list returns the ids of the interfaces the wait is for, and how many of them have the
// description prefix (when one is given).
func list(ctx context.Context, api API, prefix string, opts Options) (ids []string, described int, err error) {
	filters := []types.Filter{{Name: aws.String("description"), Values: []string{prefix + "*"}}}
	if opts.LambdaInterfaces {
		filters = []types.Filter{lambdaType}
	}
	if groups := opts.SecurityGroupIDs; len(groups) > 0 {
		filters = append(filters, types.Filter{Name: aws.String("group-id"), Values: groups})
	}
	// The filter is a wildcard match; check the prefix exactly as well.
	ids, err = describe(ctx, api, filters, func(description string) bool { return strings.HasPrefix(description, prefix) })
	if err != nil || opts.Guard == nil {
		return ids, len(ids), err
	}
	described = len(ids)
	except := functionPrefixes(opts.Guard.ExceptFunctions)
	guarded, err := describe(ctx, api, []types.Filter{lambdaType, {Name: aws.String("group-id"), Values: opts.Guard.SecurityGroupIDs}},
		func(description string) bool {
			return !slices.ContainsFunc(except, func(p string) bool { return strings.HasPrefix(description, p) })
		})
	if err != nil {
		return nil, 0, err
	}
	ids = append(ids, guarded...)
	slices.Sort(ids)
	return slices.Compact(ids), described, nil
}

var lambdaType = types.Filter{Name: aws.String("interface-type"), Values: []string{"lambda"}}

// describe returns the ids of the interfaces that pass the filters and keep, all pages, sorted.
func describe(ctx context.Context, api API, filters []types.Filter, keep func(description string) bool) ([]string, error) {
	in := &ec2.DescribeNetworkInterfacesInput{Filters: filters}
	var ids []string
	for {
		out, err := api.DescribeNetworkInterfaces(ctx, in)
		if err != nil {
			return nil, err
		}
		for i := range out.NetworkInterfaces {
			eni := &out.NetworkInterfaces[i]
			if keep(aws.ToString(eni.Description)) {
				ids = append(ids, aws.ToString(eni.NetworkInterfaceId))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(ids)
	return ids, nil
}

// groupsTagged returns the ids of the security groups that have all of tags, all pages.
func groupsTagged(ctx context.Context, api API, tags map[string]string) ([]string, error) {
	in := &ec2.DescribeSecurityGroupsInput{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String("tag:" + k), Values: []string{tags[k]}})
	}
	var ids []string
	for {
		out, err := api.DescribeSecurityGroups(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("looking up the security groups tagged %v: %w", tags, err)
		}
		for _, g := range out.SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(ids)
	return ids, nil
}

// transient uses the AWS SDK's own classification of retryable and throttling errors.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}
