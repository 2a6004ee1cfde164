package aws

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// getBroker is the aws_mq_broker data source (terraform-provider-aws v5,
// internal/service/mq/broker_data_source.go): ListBrokers filtered by broker_id and broker_name
// (which conflict), exactly one match (tfresource.AssertSingleValueResult), then DescribeBroker.
// The failures are tfresource.SingularDataSourceFindError's for "MQ Broker".
func getBroker(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	id, name := standin.Str(args, "brokerId"), standin.Str(args, "brokerName")
	if id != "" && name != "" {
		return nil, fmt.Errorf(`"broker_id": conflicts with broker_name`)
	}
	if standin.Has(args, "tags") {
		return nil, fmt.Errorf("the stand-in does not model getBroker's tags argument")
	}
	found := st.Find(cloud.TypeBroker, func(r *cloud.Resource) bool {
		return (id == "" || r.ID == id) && (name == "" || r.Str("brokerName") == name)
	})
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no matching MQ Broker found")
	case 1:
	default:
		return nil, fmt.Errorf("multiple MQ Brokers matched; use additional constraints to reduce matches to a single MQ Broker")
	}
	b := found[0]
	or := func(key string, def any) any {
		if v, ok := b.Props[key]; ok && v != nil {
			return v
		}
		return def
	}
	logs, _ := b.Props["logs"].(map[string]any)
	general, _ := logs["general"].(bool)
	tags := b.Obj("tags")
	if tags == nil {
		tags = map[string]any{}
	}
	// DescribeBroker reports what the broker runs (pending modifications aside), and no
	// RabbitMQ users (the resource's user diff suppression says so: "User list is not returned
	// back after creation").
	users := []any{}
	if b.Str("engineType") != "RabbitMQ" {
		list, _ := b.Props["users"].([]any)
		for _, u := range list {
			m, _ := u.(map[string]any)
			groups, _ := m["groups"].([]any)
			if groups == nil {
				groups = []any{}
			}
			users = append(users, map[string]any{"username": m["username"], "consoleAccess": m["consoleAccess"] == true,
				"groups": groups, "replicationUser": m["replicationUser"] == true})
		}
	}
	return map[string]any{
		"id": b.ID, "brokerId": b.ID, "brokerName": b.Str("brokerName"), "arn": b.Str("arn"),
		"authenticationStrategy": or("authenticationStrategy", "simple"), "autoMinorVersionUpgrade": b.Bool("autoMinorVersionUpgrade"),
		"configuration": or("configuration", map[string]any{"id": "", "revision": 0.0}), "deploymentMode": b.Str("deploymentMode"),
		"encryptionOptions": []any{map[string]any{"kmsKeyId": "", "useAwsOwnedKey": true}},
		"engineType":        b.Str("engineType"), "engineVersion": b.Str("engineVersion"), "hostInstanceType": b.Str("hostInstanceType"),
		"instances": or("instances", []any{}), "ldapServerMetadatas": []any{},
		"logs":                       map[string]any{"general": general, "audit": false},
		"maintenanceWindowStartTime": or("maintenanceWindowStartTime", map[string]any{"dayOfWeek": "", "timeOfDay": "", "timeZone": ""}),
		"publiclyAccessible":         b.Bool("publiclyAccessible"), "securityGroups": or("securityGroups", []any{}),
		"storageType": or("storageType", "ebs"), "subnetIds": or("subnetIds", []any{}), "tags": tags, "users": users,
	}, nil
}
