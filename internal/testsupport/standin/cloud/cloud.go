// Package cloud is the stand-in AWS account behind the stand-in provider plugins and the fake
// EC2 endpoint: what exists (seeded from internal/simaccount), which names are taken, and the
// network interfaces Lambda leaves behind. It is a test double, never deployed.
//
// The account lives in one JSON file in a directory (STANDIN_CLOUD_DIR) so that every process
// of a run sees the same account: the aws plugin the engine starts for each command, and the
// test process that serves the fake EC2 API the deletion hooks call. A file lock serialises
// them.
package cloud

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// EnvDir names the directory of the account's state; the plugins refuse to start without it.
const EnvDir = "STANDIN_CLOUD_DIR"

// Resource is one thing in the account: its Pulumi type token, its id and its properties as
// AWS would describe them (plain values: secrets revealed, archives as their hash).
type Resource struct {
	Type  string         `json:"type"`
	ID    string         `json:"id"`
	Props map[string]any `json:"props"`
}

// Str reads a string property.
func (r *Resource) Str(key string) string {
	s, _ := r.Props[key].(string)
	return s
}

// Strs reads a list-of-strings property.
func (r *Resource) Strs(key string) []string {
	return toStrings(r.Props[key])
}

// Bool reads a boolean property.
func (r *Resource) Bool(key string) bool {
	b, _ := r.Props[key].(bool)
	return b
}

// Obj reads an object property.
func (r *Resource) Obj(key string) map[string]any {
	m, _ := r.Props[key].(map[string]any)
	return m
}

// ENI is a network interface. Lambda makes them for a mapping of a private broker and for a
// VPC-attached function, and removes them some time after their owner is deleted, with the
// owner's role: if that role is deleted first, they are orphaned and stay.
type ENI struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	SubnetID    string   `json:"subnetId"`
	VpcID       string   `json:"vpcId"`
	Groups      []string `json:"groups"`
	// InterfaceType is "lambda" for Lambda's, "vpc_endpoint" for an interface endpoint's.
	InterfaceType string `json:"interfaceType"`
	// Owner is the id of the resource that made it (mapping uuid, function name, endpoint id).
	Owner string `json:"owner"`
	// RoleArn is the role Lambda removes it with; empty for an endpoint's.
	RoleArn string `json:"roleArn,omitempty"`
	// VanishAt is set when the owner is deleted: the interface is gone from then on.
	VanishAt *time.Time `json:"vanishAt,omitempty"`
	// Orphaned: the role went before Lambda removed it, so it stays until someone deletes it.
	Orphaned bool `json:"orphaned,omitempty"`
}

// Exists says whether the interface still exists at t.
func (e *ENI) Exists(t time.Time) bool {
	return e.Orphaned || e.VanishAt == nil || t.Before(*e.VanishAt)
}

// DeletedEndpoint is an interface endpoint as DescribeVpcEndpoints lists it after its
// deletion: its last properties, in state deleted (EC2 API reference, VpcEndpoint.State:
// "… | Deleting | Deleted | …"; the describe filter vpc-endpoint-state takes deleted).
type DeletedEndpoint struct {
	Endpoint  *Resource `json:"endpoint"`
	DeletedAt time.Time `json:"deletedAt"`
}

// DeletedEndpointListed is how long the stand-in lists a deleted endpoint. AWS documents
// no duration ("for a while"); an hour outlasts any run of the suite.
const DeletedEndpointListed = time.Hour

// ListedDeletedEndpoints are the deleted endpoints EC2 still lists at now.
func (st *State) ListedDeletedEndpoints(now time.Time) []*Resource {
	var out []*Resource
	for _, d := range st.DeletedEndpoints {
		if now.Before(d.DeletedAt.Add(DeletedEndpointListed)) {
			out = append(out, d.Endpoint)
		}
	}
	return out
}

// Settings steer the account's timing; tests change them between commands.
type Settings struct {
	// ENILinger is how long Lambda's interfaces outlive their deleted owner. Real AWS: minutes,
	// up to ~35 at P99; the stand-in's default is short so the suite stays fast.
	ENILinger Duration `json:"eniLinger"`
	// ESMENIDescription is how Lambda describes an Amazon MQ mapping's interfaces, with
	// {account} and {uuid} filled in. Empty: as seen in the field (ESMENIDescriptionSeen); no
	// AWS document states it, so tests reword it.
	ESMENIDescription string `json:"esmEniDescription,omitempty"`
}

// ESMENIDescriptionSeen is the description Lambda gives an Amazon MQ mapping's interfaces in
// the field (before the suffix that tells them apart).
const ESMENIDescriptionSeen = "AWS Lambda VPC ENI-armq-{account}-{uuid}"

// ESMENIDescriptionOf is the description of the mapping uuid's interfaces under the settings.
func (s Settings) ESMENIDescriptionOf(uuid string) string {
	template := cmp.Or(s.ESMENIDescription, ESMENIDescriptionSeen)
	return strings.NewReplacer("{account}", simaccount.AccountID, "{uuid}", uuid).Replace(template)
}

// Duration is a time.Duration that reads and writes as text ("8s").
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the duration from text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	d.Duration = v
	return err
}

// Event is one change the account saw, for tests that check the order of things.
type Event struct {
	Time time.Time `json:"time"`
	// Op is create, update, delete or refuse.
	Op     string `json:"op"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Detail string `json:"detail,omitempty"`
}

// State is the whole account.
type State struct {
	Seq       int                  `json:"seq"`
	Resources map[string]*Resource `json:"resources"`
	ENIs      []*ENI               `json:"enis"`
	// DeletedEndpoints are interface endpoints deleted from the account, which
	// DescribeVpcEndpoints goes on listing, in state deleted, for DeletedEndpointListed.
	DeletedEndpoints []DeletedEndpoint `json:"deletedEndpoints,omitempty"`
	Settings         Settings          `json:"settings"`
	Events           []Event           `json:"events"`
}

// Store is the account in its directory.
type Store struct{ dir string }

// Open returns the account kept in dir, creating it (with its default VPC) on first use.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("%s is not set: the stand-in AWS keeps its account in that directory", EnvDir)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // G703: the directory the test run chose
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// Dir is the account's directory, for STANDIN_CLOUD_DIR.
func (s *Store) Dir() string { return s.dir }

// OpenFromEnv opens the account named by STANDIN_CLOUD_DIR.
func OpenFromEnv() (*Store, error) { return Open(os.Getenv(EnvDir)) }

// Update runs fn on the account under the lock and saves what it changed, unless it fails.
func (s *Store) Update(fn func(*State) error) error {
	return s.locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
		return s.save(st)
	})
}

// View runs fn on a snapshot of the account.
func (s *Store) View(fn func(*State)) error {
	return s.locked(func() error {
		st, err := s.load()
		if err != nil {
			return err
		}
		fn(st)
		return nil
	})
}

func (s *Store) locked(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(s.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	return fn()
}

func (s *Store) path() string { return filepath.Join(s.dir, "account.json") }

func (s *Store) load() (*State, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return Seeded(), nil
	}
	if err != nil {
		return nil, err
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("reading the stand-in account %s: %w", s.path(), err)
	}
	return st, nil
}

func (s *Store) save(st *State) error {
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	tmp := s.path() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path())
}

// Seeded is the account as simaccount declares it, as AWS would hold it: each VPC with its
// internet gateway, route tables and routes, subnets and their associations, the user's NAT
// gateway and its address, and the default security groups with their rules. The default VPC
// is as AWS hands it over (Amazon VPC User Guide, "Default VPCs"); EmptyDefaultSecurityGroup
// models the accounts that removed its group's rules.
func Seeded() *State {
	st := &State{Resources: map[string]*Resource{}, Settings: Settings{ENILinger: Duration{8 * time.Second}}}
	put := func(typ, id string, props map[string]any) {
		st.Resources[id] = &Resource{Type: typ, ID: id, Props: props}
	}
	for _, v := range simaccount.VPCs {
		props := map[string]any{"cidrBlock": v.CIDR, "default": v.Default, "enableDnsSupport": true, "enableDnsHostnames": true}
		if !v.Default && v.MainRouteTable != "" {
			props["mainRouteTableId"] = v.MainRouteTable
		}
		if v.Owner != simaccount.AccountID {
			props["ownerId"] = v.Owner
		}
		put(TypeVPC, v.ID, props)
	}
	put(TypeInternetGateway, simaccount.DefaultIGWID, map[string]any{"vpcId": simaccount.DefaultVPCID})
	put(TypeInternetGateway, simaccount.UserIGW, map[string]any{"vpcId": simaccount.UserVPCID})
	for _, t := range simaccount.RouteTables {
		props := map[string]any{"vpcId": t.VPC}
		if t.Main {
			props["main"] = true
		}
		put(TypeRouteTable, t.ID, props)
		if t.DefaultRoute != "" {
			put(TypeRoute, t.ID+"_0.0.0.0/0", map[string]any{"routeTableId": t.ID, "destinationCidrBlock": "0.0.0.0/0",
				simaccount.RouteTargetProperty(t.DefaultRoute): t.DefaultRoute})
		}
	}
	for _, s := range simaccount.Subnets {
		props := map[string]any{"vpcId": s.VPC, "availabilityZone": s.Zone, "cidrBlock": s.CIDR}
		if s.Default {
			props["defaultForAz"], props["mapPublicIpOnLaunch"] = true, true
		}
		if v, _ := simaccount.FindVPC(s.VPC); v.Owner != simaccount.AccountID {
			props["ownerId"] = v.Owner
		}
		put(TypeSubnet, s.ID, props)
		if s.RouteTable != "" {
			put(TypeRouteTableAssociation, "rtbassoc-"+strings.TrimPrefix(s.ID, "subnet-"), map[string]any{"subnetId": s.ID, "routeTableId": s.RouteTable})
		}
	}
	put(TypeEIP, simaccount.UserEIP, map[string]any{"domain": "vpc", "allocationId": simaccount.UserEIP, "publicIp": simaccount.UserEIPAddress})
	put(TypeNATGateway, simaccount.UserNATGateway, map[string]any{"subnetId": simaccount.UserPublicSubnet, "allocationId": simaccount.UserEIP,
		"connectivityType": "public"})
	for _, g := range simaccount.DefaultGroups {
		put(TypeSecurityGroup, g.ID, map[string]any{"vpcId": g.VPC, "name": "default", "description": "default VPC security group"})
		for _, r := range g.Rules {
			props := map[string]any{"securityGroupId": g.ID, "ipProtocol": r.Protocol}
			if r.Group != "" {
				props["referencedSecurityGroupId"] = r.Group
			} else {
				props["cidrIpv4"] = r.CIDR
			}
			typ := TypeIngressRule
			if r.Egress {
				typ = TypeEgressRule
			}
			put(typ, r.ID, props)
		}
	}
	return st
}

// The resource types the account models, as Pulumi names them.
const (
	TypeVPC                   = "aws:ec2/vpc:Vpc"
	TypeSubnet                = "aws:ec2/subnet:Subnet"
	TypeRouteTable            = "aws:ec2/routeTable:RouteTable"
	TypeRouteTableAssociation = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	TypeRoute                 = "aws:ec2/route:Route"
	TypeInternetGateway       = "aws:ec2/internetGateway:InternetGateway"
	TypeEIP                   = "aws:ec2/eip:Eip"
	TypeNATGateway            = "aws:ec2/natGateway:NatGateway"
	TypeSecurityGroup         = "aws:ec2/securityGroup:SecurityGroup"
	TypeIngressRule           = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	TypeEgressRule            = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	TypeVPCEndpoint           = "aws:ec2/vpcEndpoint:VpcEndpoint"
	TypeBroker                = "aws:mq/broker:Broker"
	TypeSecret                = "aws:secretsmanager/secret:Secret"
	TypeSecretVersion         = "aws:secretsmanager/secretVersion:SecretVersion"
	TypeLogGroup              = "aws:cloudwatch/logGroup:LogGroup"
	TypeRole                  = "aws:iam/role:Role"
	TypeRolePolicy            = "aws:iam/rolePolicy:RolePolicy"
	TypeFunction              = "aws:lambda/function:Function"
	TypeEventSourceMapping    = "aws:lambda/eventSourceMapping:EventSourceMapping"
	TypeInvocation            = "aws:lambda/invocation:Invocation"
	TypePermission            = "aws:lambda/permission:Permission"
	TypeSecretRotation        = "aws:secretsmanager/secretRotation:SecretRotation"
	TypeEventRule             = "aws:cloudwatch/eventRule:EventRule"
	TypeEventTarget           = "aws:cloudwatch/eventTarget:EventTarget"
	TypeMetricAlarm           = "aws:cloudwatch/metricAlarm:MetricAlarm"
	TypeDashboard             = "aws:cloudwatch/dashboard:Dashboard"
	TypeTopic                 = "aws:sns/topic:Topic"
	TypeTopicSubscription     = "aws:sns/topicSubscription:TopicSubscription"
)

// NewID returns a fresh id with an AWS-like prefix ("sg-", "subnet-").
func (st *State) NewID(prefix string) string {
	st.Seq++
	return fmt.Sprintf("%s%017x", prefix, st.Seq)
}

// Record notes an event.
func (st *State) Record(op, typ, id, detail string) {
	st.Events = append(st.Events, Event{Time: time.Now(), Op: op, Type: typ, ID: id, Detail: detail})
}

// Get returns a resource by id, or nil.
func (st *State) Get(id string) *Resource { return st.Resources[id] }

// Find returns the resources of a type that match, sorted by id.
func (st *State) Find(typ string, match func(*Resource) bool) []*Resource {
	var out []*Resource
	for _, r := range st.Resources {
		if r.Type == typ && (match == nil || match(r)) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Resource) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// FindOne returns the first resource of a type that matches, or nil.
func (st *State) FindOne(typ string, match func(*Resource) bool) *Resource {
	if found := st.Find(typ, match); len(found) > 0 {
		return found[0]
	}
	return nil
}

// LiveENIs are the interfaces that exist now.
func (st *State) LiveENIs(now time.Time) []*ENI {
	var out []*ENI
	for _, e := range st.ENIs {
		if e.Exists(now) {
			out = append(out, e)
		}
	}
	return out
}

// AddENIs makes one interface per subnet for owner, as Lambda (or an endpoint) does.
func (st *State) AddENIs(owner, description, interfaceType, roleArn string, subnetIDs, groups []string) {
	for _, subnet := range subnetIDs {
		vpc := ""
		if s := st.Get(subnet); s != nil {
			vpc = s.Str("vpcId")
		}
		id := st.NewID("eni-")
		desc := description
		if interfaceType == "lambda" {
			desc += "-" + id[len(id)-8:]
		}
		st.ENIs = append(st.ENIs, &ENI{ID: id, Description: desc, SubnetID: subnet, VpcID: vpc, Groups: slices.Clone(groups),
			InterfaceType: interfaceType, Owner: owner, RoleArn: roleArn})
	}
}

// ReleaseENIs starts the removal of owner's interfaces: they vanish after linger (at once
// for zero).
func (st *State) ReleaseENIs(owner string, now time.Time, linger time.Duration) {
	at := now.Add(linger)
	for _, e := range st.ENIs {
		if e.Owner == owner && e.VanishAt == nil {
			e.VanishAt = &at
		}
	}
}

// OrphanENIs marks as orphaned every interface still being removed with role, which is about
// to be deleted: Lambda can no longer remove them.
func (st *State) OrphanENIs(roleArn string, now time.Time) []string {
	var ids []string
	for _, e := range st.ENIs {
		if e.RoleArn == roleArn && e.Exists(now) {
			e.Orphaned = true
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
