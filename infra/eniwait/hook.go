package eniwait

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// HookSettings come from the stack's configuration: the aws provider's region and profile,
// so the hook calls EC2 as the stack's resources were managed, and the wait's timeout.
type HookSettings struct {
	// Region of the stack (aws:region). Empty: the region in the deleted resource's ARN.
	Region string
	// Profile of the stack (aws:profile). Empty: the default credential chain.
	Profile string
	// Timeout of the wait. Default 45 minutes.
	Timeout time.Duration
	// NewClient makes the EC2 client for a region. Default: aws-sdk-go-v2 with Profile.
	NewClient func(ctx context.Context, region string) (API, error)
	// Options are passed to Wait (tests shorten the delays). Timeout above takes precedence.
	Options Options
}

func (s HookSettings) client(ctx context.Context, region string) (API, error) {
	if s.NewClient != nil {
		return s.NewClient(ctx, region)
	}
	loaders := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if s.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(s.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS credentials for region %s: %w", region, err)
	}
	return ec2.NewFromConfig(cfg), nil
}

// target is what one deleted resource leaves behind: interfaces with a description prefix,
// narrowed to some security groups, given by id or found by their tags.
type target struct {
	prefix    string
	region    string
	groups    []string
	groupTags map[string]string
	// lambdaInterfaces matches by interface type rather than by description.
	lambdaInterfaces bool
	guard            *Guard
}

// The tags on a mapping from which its after-delete hook builds a Guard. Their values are
// lists separated by spaces (AWS tag values admit no comma).
const (
	GuardGroupsTag    = "eni-wait:security-groups"
	GuardFunctionsTag = "eni-wait:functions"
)

// GuardTags are the mapping's tags that let its hook find its interfaces without relying on
// their description: the broker's security groups, which must be the stack's own (see Guard),
// and the other VPC-attached functions in them. The mapping's own function is known from its
// outputs and need not be named.
func GuardTags(groups, functions pulumi.StringArrayInput) pulumi.StringMap {
	join := func(list []string) string { return strings.Join(list, " ") }
	return pulumi.StringMap{
		GuardGroupsTag:    groups.ToStringArrayOutput().ApplyT(join).(pulumi.StringOutput),
		GuardFunctionsTag: functions.ToStringArrayOutput().ApplyT(join).(pulumi.StringOutput),
	}
}

// NewESMHook registers an after-delete hook for an Amazon MQ event source mapping: it reads
// the mapping's uuid and function ARN from its last outputs and waits until the mapping's
// interfaces are gone: those with the description Lambda gives them and, if the mapping has
// GuardTags, every Lambda interface in the broker's groups that belongs to no function.
func NewESMHook(ctx *pulumi.Context, name string, s HookSettings) (*pulumi.ResourceHook, error) {
	return newHook(ctx, name, s, func(args *pulumi.ResourceHookArgs) (target, error) {
		old := args.OldOutputs
		uuid, fnArn := str(old, "uuid"), str(old, "functionArn")
		arn, err := parseARN(fnArn)
		if err != nil || uuid == "" {
			return target{}, fmt.Errorf("the deleted mapping's outputs lack uuid or a function ARN (uuid %q, functionArn %q)", uuid, fnArn)
		}
		t := target{prefix: ESMDescriptionPrefix(arn.account, uuid), region: arn.region}
		if tags, ok := old["tags"]; ok && tags.IsObject() {
			groups := strings.Fields(str(tags.ObjectValue(), GuardGroupsTag))
			if len(groups) > 0 {
				functions := append(strings.Fields(str(tags.ObjectValue(), GuardFunctionsTag)), arn.resource)
				t.guard = &Guard{SecurityGroupIDs: groups, ExceptFunctions: functions}
			}
		}
		return t, nil
	})
}

// NewFunctionHook registers an after-delete hook for a VPC-attached Lambda function: it waits
// until the interfaces of the function, in its security groups, are gone.
func NewFunctionHook(ctx *pulumi.Context, name string, s HookSettings) (*pulumi.ResourceHook, error) {
	return newHook(ctx, name, s, func(args *pulumi.ResourceHookArgs) (target, error) {
		old := args.OldOutputs
		fnName, fnArn := str(old, "name"), str(old, "arn")
		arn, err := parseARN(fnArn)
		if err != nil || fnName == "" {
			return target{}, fmt.Errorf("the deleted function's outputs lack its name or ARN (name %q, arn %q)", fnName, fnArn)
		}
		var groups []string
		if vpc, ok := old["vpcConfig"]; ok && vpc.IsObject() {
			if ids, ok := vpc.ObjectValue()["securityGroupIds"]; ok && ids.IsArray() {
				for _, id := range ids.ArrayValue() {
					if id.IsString() {
						groups = append(groups, id.StringValue())
					}
				}
			}
		}
		return target{prefix: FunctionDescriptionPrefix(fnName), region: arn.region, groups: groups}, nil
	})
}

// NewGroupHook registers a before-delete hook for a security group that Lambda's interfaces
// carry: it waits until no interface Lambda made carries the group any more.
//
// The mapping's own after-delete hook normally did that already. But the engine removes a
// mapping from the state even when that hook fails (a timeout), so a rerun of the destroy
// would no longer wait for that mapping; this hook, on the group every such interface
// carries, still does, before the group's deletion would fail with DependencyViolation.
func NewGroupHook(ctx *pulumi.Context, name string, s HookSettings) (*pulumi.ResourceHook, error) {
	return newHook(ctx, name, s, func(args *pulumi.ResourceHookArgs) (target, error) {
		if args.ID == "" {
			return target{}, fmt.Errorf("the security group has no id")
		}
		t := target{lambdaInterfaces: true, groups: []string{string(args.ID)}}
		if arn, err := parseARN(str(args.OldOutputs, "arn")); err == nil {
			t.region = arn.region
		}
		return t, nil
	})
}

// NewTaggedGroupsHook registers a before-delete hook for what Lambda removes its interfaces
// with — a function's role and its policy: it waits until no interface Lambda made carries a
// security group that has all of tags. Deleted first, the role or its EC2 permissions would
// leave those interfaces orphaned, and the group's deletion would fail for good.
//
// The groups are found by their tags when the hook runs, because the role does not know them
// and a group already deleted needs no wait. The region is the stack's (Settings.Region).
func NewTaggedGroupsHook(ctx *pulumi.Context, name string, s HookSettings, tags map[string]string) (*pulumi.ResourceHook, error) {
	if len(tags) == 0 {
		return nil, fmt.Errorf("hook %s: no tags to find the security groups by", name)
	}
	return newHook(ctx, name, s, func(*pulumi.ResourceHookArgs) (target, error) {
		if s.Region == "" {
			return target{}, fmt.Errorf("aws:region is not set, so the security groups tagged %v cannot be looked up", tags)
		}
		return target{lambdaInterfaces: true, groupTags: tags}, nil
	})
}

func newHook(ctx *pulumi.Context, name string, s HookSettings, find func(*pulumi.ResourceHookArgs) (target, error)) (*pulumi.ResourceHook, error) {
	return ctx.RegisterResourceHook(name, func(args *pulumi.ResourceHookArgs) error {
		t, err := find(args)
		if err != nil {
			return fmt.Errorf("%s: %w", args.Name, err)
		}
		region := s.Region
		if region == "" {
			region = t.region
		}
		background := context.Background()
		api, err := s.client(background, region)
		if err != nil {
			return err
		}
		opts := s.Options
		if s.Timeout != 0 {
			opts.Timeout = s.Timeout
		}
		opts.Logf = func(format string, a ...any) {
			_ = ctx.Log.Info(args.Name+": "+fmt.Sprintf(format, a...), nil)
		}
		if t.groupTags != nil {
			if t.groups, err = groupsTagged(background, api, t.groupTags); err != nil {
				return err
			}
			if len(t.groups) == 0 {
				opts.Logf("no security group tagged %v remains: no interface of Lambda's to wait for", t.groupTags)
				return nil
			}
		}
		opts.SecurityGroupIDs = t.groups
		opts.LambdaInterfaces = t.lambdaInterfaces
		opts.Guard = t.guard
		return Wait(background, api, t.prefix, opts)
	}, nil)
}

func str(m resource.PropertyMap, key resource.PropertyKey) string {
	if v, ok := m[key]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

type arnParts struct{ region, account, resource string }

// parseARN reads region, account and the resource's name from
// "arn:aws:lambda:<region>:<account>:function:<name>".
func parseARN(arn string) (arnParts, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[3] == "" || parts[4] == "" {
		return arnParts{}, fmt.Errorf("%q is not an ARN with a region and an account", arn)
	}
	// "function:<name>[:<qualifier>]"; other resource types keep what follows the account.
	resource := parts[5]
	if kind, rest, ok := strings.Cut(resource, ":"); ok && kind == "function" {
		resource, _, _ = strings.Cut(rest, ":")
	}
	return arnParts{region: parts[3], account: parts[4], resource: resource}, nil
}
