package cloud

import (
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

func TestLeftByAmazonMQListsOnlyGroupsOfDeletedBrokers(t *testing.T) {
	st := Seeded()
	st.Resources["b-live"] = &Resource{Type: TypeBroker, ID: "b-live", Props: map[string]any{}}
	st.AddBrokerLogGroup("b-live")
	st.AddBrokerLogGroup("b-gone")
	st.Record("delete", TypeBroker, "b-gone", "broker")
	st.Resources["/program/group"] = &Resource{Type: TypeLogGroup, ID: "/program/group", Props: map[string]any{"name": "/program/group"}}
	left := st.LeftByAmazonMQ()
	if len(left) != 1 || left[0].ID != BrokerLogGroupName("b-gone") || left[0].Props["retentionInDays"] != nil {
		t.Fatalf("left: %+v", left)
	}
}

func TestAccountChangeHelpersRefuseWhatDoesNotExist(t *testing.T) {
	st := Seeded()
	if _, err := st.EmptyDefaultSecurityGroup("vpc-missing"); err == nil {
		t.Error("emptied the default group of a missing VPC")
	}
	if err := st.SetDNSHostnames("vpc-missing", false); err == nil || !strings.Contains(err.Error(), "InvalidVpcID.NotFound") {
		t.Errorf("DNS hostnames of a missing VPC: %v", err)
	}
	if _, err := st.AssociatePrivateZone("sts.us-east-1.amazonaws.com", "vpc-missing"); err == nil {
		t.Error("a zone was associated with a missing VPC")
	}
	if err := st.DeleteEndpoint("vpce-missing", time.Now()); err == nil || !strings.Contains(err.Error(), "InvalidVpcEndpointId.NotFound") {
		t.Errorf("deleting a missing endpoint: %v", err)
	}
	removed, err := st.EmptyDefaultSecurityGroup(simaccount.UserVPCID)
	if err != nil || len(removed) != 2 {
		t.Fatalf("the user's default group: %v %v", removed, err)
	}
	if again, _ := st.EmptyDefaultSecurityGroup(simaccount.UserVPCID); len(again) != 0 {
		t.Errorf("emptied twice: %v", again)
	}
	if z := st.PrivateZonesOf(simaccount.UserVPCID); len(z) != 0 {
		t.Errorf("zones before any: %v", z)
	}
	own, _ := st.AssociatePrivateZone("Example.Internal.", simaccount.UserVPCID)
	shared, _ := st.AssociateSharedZone("other.internal", simaccount.UserVPCID)
	if z := st.PrivateZonesOf(simaccount.UserVPCID); len(z) != 2 || st.Get(own).Str("name") != "example.internal" ||
		st.Get(shared).Str("ownerAccount") != simaccount.OtherAccountID {
		t.Errorf("zones: %v", z)
	}
}
