package cloud

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// client is the real AWS SDK pointed at the stand-in EC2, as the hooks reach it.
func client(t *testing.T, store *Store) (*ec2.Client, *EC2API) {
	t.Helper()
	api := &EC2API{Store: store}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return ec2.New(ec2.Options{
		Region: simaccount.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("standin", "standin", ""),
	}), api
}

func TestEC2ReportsLingeringInterfacesUntilTheyVanish(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := store.Update(func(st *State) error {
		st.AddENIs("uuid-1", "AWS Lambda VPC ENI-armq-123456789012-uuid-1", "lambda", "role", []string{simaccount.DefaultSubnetID("us-east-1a")}, []string{simaccount.DefaultSGID})
		st.AddENIs("vpce-1", "VPC Endpoint Interface vpce-1", "vpc_endpoint", "", []string{simaccount.DefaultSubnetID("us-east-1a")}, []string{simaccount.DefaultSGID})
		st.ReleaseENIs("uuid-1", now, 300*time.Millisecond)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, api := client(t, store)
	describe := func() []types.NetworkInterface {
		out, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
			{Name: aws.String("description"), Values: []string{"AWS Lambda VPC ENI-*"}},
			{Name: aws.String("group-id"), Values: []string{simaccount.DefaultSGID}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NetworkInterfaces
	}
	first := describe()
	if len(first) != 1 || !strings.HasPrefix(aws.ToString(first[0].Description), "AWS Lambda VPC ENI-armq-") ||
		aws.ToString(first[0].Groups[0].GroupId) != simaccount.DefaultSGID || first[0].Status != types.NetworkInterfaceStatusAvailable {
		t.Fatalf("first look: %+v", first)
	}
	time.Sleep(400 * time.Millisecond)
	if left := describe(); len(left) != 0 {
		t.Fatalf("the released interface is still reported: %+v", left)
	}
	if calls := api.Calls(); len(calls) != 2 || len(calls[0].Found) != 1 || len(calls[1].Found) != 0 {
		t.Errorf("calls recorded: %+v", calls)
	}

	_, err = c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.status"), Values: []string{"attached"}},
	}})
	if err == nil || !strings.Contains(err.Error(), "does not model the filter") {
		t.Errorf("an unmodelled filter was answered: %v", err)
	}
	if _, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err == nil {
		t.Error("an unmodelled action was answered")
	}
}

func TestEC2FindsGroupsByTag(t *testing.T) {
	store, _ := Open(t.TempDir())
	_ = store.Update(func(st *State) error {
		st.Resources["sg-1"] = &Resource{Type: TypeSecurityGroup, ID: "sg-1", Props: map[string]any{"vpcId": "vpc-1", "tags": map[string]any{"stack": "nat", "project": "p"}}}
		st.Resources["sg-2"] = &Resource{Type: TypeSecurityGroup, ID: "sg-2", Props: map[string]any{"vpcId": "vpc-1", "tags": map[string]any{"stack": "isolated", "project": "p"}}}
		return nil
	})
	c, _ := client(t, store)
	out, err := c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("tag:project"), Values: []string{"p"}}, {Name: aws.String("tag:stack"), Values: []string{"nat"}},
	}})
	if err != nil || len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != "sg-1" {
		t.Fatalf("groups tagged stack=nat: %+v, %v", out, err)
	}
}

func TestOrphanedInterfacesNeverVanish(t *testing.T) {
	st := Seeded()
	now := time.Now()
	st.AddENIs("uuid-1", "AWS Lambda VPC ENI-armq-x", "lambda", "arn:role", []string{simaccount.DefaultSubnetID("us-east-1a")}, []string{simaccount.DefaultSGID})
	st.ReleaseENIs("uuid-1", now, time.Second)
	if ids := st.OrphanENIs("arn:role", now); len(ids) != 1 {
		t.Fatalf("orphaned %v", ids)
	}
	if len(st.LiveENIs(now.Add(time.Hour))) != 1 {
		t.Error("an orphaned interface vanished by itself")
	}
}

// TestReach: the stand-in's diagnosis follows routes, endpoints and security group rules.
func TestReach(t *testing.T) {
	st := Seeded()
	put := func(typ, id string, props map[string]any) {
		st.Resources[id] = &Resource{Type: typ, ID: id, Props: props}
	}
	put(TypeVPC, "vpc-1", map[string]any{"cidrBlock": "10.0.0.0/16", "enableDnsSupport": true, "enableDnsHostnames": true})
	put(TypeSubnet, "subnet-1", map[string]any{"vpcId": "vpc-1", "cidrBlock": "10.0.0.0/24", "availabilityZone": "us-east-1a"})
	put(TypeSecurityGroup, "sg-b", map[string]any{"vpcId": "vpc-1"})
	broker := &Resource{Type: TypeBroker, ID: "b-1", Props: map[string]any{"subnetIds": []any{"subnet-1"}, "securityGroups": []any{"sg-b"}}}
	st.Resources["b-1"] = broker
	reach := func() map[string]Check {
		out := map[string]Check{}
		for _, c := range st.Reach([]string{"subnet-1"}, []string{"sg-b"}, broker, []string{"sts"}) {
			out[c.Name] = c
		}
		return out
	}
	if c := reach(); c["sts"].OK || !strings.Contains(c["sts"].Detail, "no route out") || c["broker"].OK {
		t.Fatalf("an isolated subnet without endpoints or rules reached something: %+v", c)
	}
	put(TypeVPCEndpoint, "vpce-1", map[string]any{"vpcId": "vpc-1", "serviceName": "com.amazonaws.us-east-1.sts", "privateDnsEnabled": true,
		"subnetIds": []any{"subnet-1"}, "securityGroupIds": []any{"sg-e"}})
	put(TypeSecurityGroup, "sg-e", map[string]any{"vpcId": "vpc-1"})
	if c := reach(); c["sts"].OK {
		t.Fatal("an endpoint whose group admits nothing was reached")
	}
	put(TypeEgressRule, "r1", map[string]any{"securityGroupId": "sg-b", "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "referencedSecurityGroupId": "sg-e"})
	put(TypeIngressRule, "r2", map[string]any{"securityGroupId": "sg-e", "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": "10.0.0.0/16"})
	put(TypeIngressRule, "r3", map[string]any{"securityGroupId": "sg-b", "ipProtocol": "tcp", "fromPort": 5671.0, "toPort": 5671.0, "referencedSecurityGroupId": "sg-b"})
	put(TypeEgressRule, "r4", map[string]any{"securityGroupId": "sg-b", "ipProtocol": "tcp", "fromPort": 5671.0, "toPort": 5671.0, "referencedSecurityGroupId": "sg-b"})
	if c := reach(); !c["sts"].OK || !c["sts"].Private || !c["broker"].OK {
		t.Fatalf("the endpoint and the broker are not reached with the rules in place: %+v", c)
	}
}
