package aws

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// eniCreateAction is what Lambda needs the function's role to allow before it makes interfaces
// in a VPC for the function or its mappings.
// Source: Lambda developer guide, "Process Amazon MQ messages with Lambda"; AWS SAM "MQ" event
// page (execution role must include ec2:CreateNetworkInterface); Lambda VPC configuration page.
const eniCreateAction = "ec2:CreateNetworkInterface"

func functionKind() *standin.Kind {
	return &standin.Kind{
		Args:     lambda.FunctionArgs{},
		ForceNew: []string{"name", "packageType"},
		Computed: []string{"packageType", "architectures", "loggingConfig", "sourceCodeHash", "ephemeralStorage", "tracingConfig"},
		AutoName: "name", AutoNameMax: 64,
		Required: []string{"role"},
		Outputs:  []string{"arn", "invokeArn", "qualifiedArn", "version", "lastModified"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			var f []plugin.CheckFailure
			if m := standin.Num(news, "memorySize"); m != 0 && (m < 128 || m > 10240) {
				f = append(f, plugin.CheckFailure{Property: "memorySize", Reason: fmt.Sprintf("expected memory_size to be in the range (128 - 10240), got %v", m)})
			}
			if t := standin.Num(news, "timeout"); t != 0 && (t < 1 || t > 900) {
				f = append(f, plugin.CheckFailure{Property: "timeout", Reason: fmt.Sprintf("expected timeout to be in the range (1 - 900), got %v", t)})
			}
			return f
		},
		Create: createFunction,
		Update: func(op *standin.Op, old *cloud.Resource) error {
			op.Set("lastModified", op.Now.UTC().Format("2006-01-02T15:04:05.000+0000"))
			return placeFunction(op, old.ID)
		},
		Delete: func(op *standin.Op, old *cloud.Resource) error {
			op.St.ReleaseENIs(old.ID, op.Now, op.Linger)
			return nil
		},
	}
}

func createFunction(op *standin.Op) error {
	name := standin.Str(op.Inputs, "name")
	if op.St.Get(name) != nil {
		return standin.Errorf("ResourceConflictException", "Function already exist: %s", name)
	}
	if role, _ := functionRole(op.St, standin.Str(op.Inputs, "role"), ""); role == nil {
		return standin.Errorf("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
	}
	if !standin.Has(op.Inputs, "code") {
		return standin.Errorf("InvalidParameterValueException", "Function code is required")
	}
	if err := placeFunction(op, name); err != nil {
		return err
	}
	op.ID = name
	fnArn := arn("lambda", "function:"+name)
	op.Set("arn", fnArn)
	op.Set("invokeArn", "arn:aws:apigateway:"+simaccount.Region+":lambda:path/2015-03-31/functions/"+fnArn+"/invocations")
	op.Set("qualifiedArn", fnArn+":$LATEST")
	op.Set("version", "$LATEST")
	op.Set("lastModified", op.Now.UTC().Format("2006-01-02T15:04:05.000+0000"))
	return nil
}

// placeFunction makes a VPC-attached function's interfaces, one per subnet, as Lambda does
// with the function's role (which must allow it, or the call fails).
func placeFunction(op *standin.Op, name string) error {
	vpcConfig, _ := standin.Plain(op.Inputs["vpcConfig"]).(map[string]any)
	subnets, _ := vpcConfig["subnetIds"].([]any)
	groups, _ := vpcConfig["securityGroupIds"].([]any)
	op.St.ReleaseENIs(name, op.Now, 0)
	if len(subnets) == 0 {
		return nil
	}
	roleArn := standin.Str(op.Inputs, "role")
	if _, allowed := functionRole(op.St, roleArn, eniCreateAction); !allowed {
		return standin.Errorf("InvalidParameterValueException", "The provided execution role does not have permissions to call CreateNetworkInterface on EC2")
	}
	subnetIDs, groupIDs := strs(subnets), strs(groups)
	if err := checkPlacementAnyZones(op.St, subnetIDs, groupIDs); err != nil {
		return err
	}
	op.St.AddENIs(name, "AWS Lambda VPC ENI-"+name, "lambda", roleArn, subnetIDs, groupIDs)
	return nil
}

func checkPlacementAnyZones(st *cloud.State, subnets, groups []string) error {
	for _, id := range subnets {
		if st.Get(id) == nil {
			return standin.Errorf("InvalidParameterValueException", "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound (%s)", id)
		}
	}
	for _, id := range groups {
		if st.Get(id) == nil {
			return standin.Errorf("InvalidParameterValueException", "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound (%s)", id)
		}
	}
	return nil
}

func strs(list []any) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// lookupFunction finds a function by name or ARN.
func lookupFunction(st *cloud.State, ref string) *cloud.Resource {
	return st.FindOne(cloud.TypeFunction, func(r *cloud.Resource) bool { return r.ID == ref || r.Str("arn") == ref })
}

func mappingKind() *standin.Kind {
	return &standin.Kind{
		Args: lambda.EventSourceMappingArgs{},
		// The Terraform provider's ForceNew attributes of aws_lambda_event_source_mapping.
		ForceNew: []string{"eventSourceArn", "queues", "startingPosition", "startingPositionTimestamp", "topics",
			"selfManagedEventSource", "selfManagedKafkaEventSourceConfig", "amazonManagedKafkaEventSourceConfig"},
		Computed: []string{"batchSize", "maximumBatchingWindowInSeconds", "functionResponseTypes", "enabled"},
		Required: []string{"functionName"},
		Outputs:  []string{"uuid", "functionArn", "state", "lastModified", "arn"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			var f []plugin.CheckFailure
			if b := standin.Num(news, "batchSize"); b != 0 && (b < 1 || b > 10000) {
				f = append(f, plugin.CheckFailure{Property: "batchSize", Reason: fmt.Sprintf("expected batch_size to be in the range (1 - 10000), got %v", b)})
			}
			if w := standin.Num(news, "maximumBatchingWindowInSeconds"); w < 0 || w > 300 {
				f = append(f, plugin.CheckFailure{Property: "maximumBatchingWindowInSeconds", Reason: fmt.Sprintf("expected maximum_batching_window_in_seconds to be in the range (0 - 300), got %v", w)})
			}
			return f
		},
		Create: createMapping,
		Update: func(op *standin.Op, _ *cloud.Resource) error {
			if lookupFunction(op.St, standin.Str(op.Inputs, "functionName")) == nil {
				return standin.Errorf("ResourceNotFoundException", "Function not found: %s", standin.Str(op.Inputs, "functionName"))
			}
			op.Set("lastModified", op.Now.UTC().Format("2006-01-02T15:04:05Z"))
			return nil
		},
		// Lambda reports the mapping deleted at once and removes its interfaces later.
		Delete: func(op *standin.Op, old *cloud.Resource) error {
			op.St.ReleaseENIs(old.ID, op.Now, op.Linger)
			return nil
		},
	}
}

func createMapping(op *standin.Op) error {
	in := op.Inputs
	fn := lookupFunction(op.St, standin.Str(in, "functionName"))
	if fn == nil {
		return standin.Errorf("ResourceNotFoundException", "Function not found: %s", standin.Str(in, "functionName"))
	}
	broker := op.St.FindOne(cloud.TypeBroker, func(r *cloud.Resource) bool { return r.Str("arn") == standin.Str(in, "eventSourceArn") })
	if broker == nil {
		return standin.Errorf("InvalidParameterValueException", "The event source %s does not exist", standin.Str(in, "eventSourceArn"))
	}
	if standin.Str(in, "queues") == "" {
		return standin.Errorf("InvalidParameterValueException", "Queues are required for an Amazon MQ event source")
	}
	access := map[string]string{}
	if list, ok := standin.Plain(in["sourceAccessConfigurations"]).([]any); ok {
		for _, c := range list {
			m, _ := c.(map[string]any)
			t, _ := m["type"].(string)
			u, _ := m["uri"].(string)
			access[t] = u
		}
	}
	if op.St.Get(access["BASIC_AUTH"]) == nil {
		return standin.Errorf("InvalidParameterValueException", "The BASIC_AUTH secret %q does not exist", access["BASIC_AUTH"])
	}
	op.ID = uuidFrom(op.St.NewID("esm"))
	roleArn := fn.Str("role")
	if !broker.Bool("publiclyAccessible") {
		// For a private broker, the mapping's interfaces go into the broker's subnets with the
		// broker's groups, made with the function's role.
		if _, allowed := functionRole(op.St, roleArn, eniCreateAction); !allowed {
			return standin.Errorf("InvalidParameterValueException", "The function execution role does not have permissions to call CreateNetworkInterface on EC2")
		}
		op.St.AddENIs(op.ID, op.St.Settings.ESMENIDescriptionOf(op.ID), "lambda", roleArn, broker.Strs("subnetIds"), broker.Strs("securityGroups"))
	}
	op.Set("uuid", op.ID)
	op.Set("arn", arn("lambda", "event-source-mapping:"+op.ID))
	op.Set("functionArn", fn.Str("arn"))
	op.Set("state", "Enabled")
	op.Set("stateTransitionReason", "USER_INITIATED")
	op.Set("lastModified", op.Now.UTC().Format("2006-01-02T15:04:05Z"))
	if !standin.Has(in, "batchSize") {
		op.Set("batchSize", 100)
	}
	return nil
}

// createInvocation runs the provisioner as the stand-in can: "declare" answers with the
// topology the function's environment names; "diagnose" works out from the account whether
// the function, placed where the mapping's interfaces are, reaches STS, Secrets Manager,
// Lambda and the broker, and logs in with the secret's credentials. A failed diagnosis is a
// function error, as the real provisioner's is.
func createInvocation(op *standin.Op) error {
	fn := lookupFunction(op.St, standin.Str(op.Inputs, "functionName"))
	if fn == nil {
		return standin.Errorf("ResourceNotFoundException", "Function not found: %s", standin.Str(op.Inputs, "functionName"))
	}
	var req contract.Request
	if err := json.Unmarshal([]byte(standin.Str(op.Inputs, "input")), &req); err != nil {
		return fmt.Errorf("lambda function (%s) returned error: invalid input: %w", fn.ID, err)
	}
	env := map[string]string{}
	if e, ok := fn.Obj("environment")["variables"].(map[string]any); ok {
		for k, v := range e {
			env[k], _ = v.(string)
		}
	}
	var result any
	switch req.Action {
	case contract.ActionDeclare:
		limit, _ := strconv.Atoi(env["DELIVERY_LIMIT"])
		result = contract.DeclareResponse{Queue: env["QUEUE_NAME"], VHost: env["BROKER_VHOST"], DeadLetterQueue: env["QUEUE_NAME"] + ".dlq", DeliveryLimit: limit,
			EngineVersion: env["ENGINE_VERSION"]}
	case contract.ActionDiagnose:
		report := diagnose(op.St, fn, env)
		if !report.OK {
			b, _ := json.MarshalIndent(report, "", "  ")
			return fmt.Errorf(`lambda function (%s) returned error: ({"errorMessage":"the event source mapping's path is broken; diagnosis:\n%s","errorType":"errorString"})`, fn.ID, b)
		}
		result = report
	case contract.ActionUsers:
		users, err := ensureUsers(op.St, env)
		if err != nil {
			return fmt.Errorf(`lambda function (%s) returned error: ({"errorMessage":%q,"errorType":"errorString"})`, fn.ID, err.Error())
		}
		result = users
	default:
		return fmt.Errorf(`lambda function (%s) returned error: ({"errorMessage":"unknown action %q"})`, fn.ID, req.Action)
	}
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	op.ID = fn.ID + "_$LATEST_" + standin.Hash(standin.Str(op.Inputs, "input"))
	op.Set("result", string(b))
	return nil
}

// ensureUsers answers the provisioner's users action as internal/provisioner/users.go does
// (the function the stand-in plays): the three variables are required, the administrator logs
// in with BROKER_SECRET_ARN's credentials, and each user is the one its secret names. The
// broker's RabbitMQ users are not modelled: Amazon MQ's API neither lists nor changes them
// (docs/broker-users.md), so nothing the stand-in's account holds would show them.
func ensureUsers(st *cloud.State, env map[string]string) (contract.UsersResponse, error) {
	var missing []string
	for _, name := range []string{contract.EnvBrokerManagementURL, contract.EnvDeadLetterSecretArn, contract.EnvMappingSecretArn} {
		if env[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return contract.UsersResponse{}, fmt.Errorf("users: %s not set: the program sets them with the stack's broker users", strings.Join(missing, ", "))
	}
	if ok, detail := login(st, brokerAt(st, env[contract.EnvBrokerEndpoint]), env[contract.EnvBrokerSecretArn]); !ok {
		return contract.UsersResponse{}, fmt.Errorf("users: logging in as the administrator: %s", detail)
	}
	resp := contract.UsersResponse{VHost: env[contract.EnvBrokerVHost]}
	users := []struct{ role, arn string }{{"mapping-consumer", env[contract.EnvMappingSecretArn]}, {"dead-letter-publisher", env[contract.EnvDeadLetterSecretArn]}}
	// The monitor's user, where the program names its secret (0.5.0 on; the provisioner an
	// earlier program deployed knows no such user).
	if monitor := env[contract.EnvMonitorSecretArn]; monitor != "" {
		users = append(users, struct{ role, arn string }{"monitor", monitor})
	}
	for _, u := range users {
		creds, err := secretCredentials(st, u.arn)
		if err != nil {
			return contract.UsersResponse{}, fmt.Errorf("the %s user: %w", u.role, err)
		}
		resp.Users = append(resp.Users, contract.UserResult{Role: u.role, User: creds.Username, Created: true, PasswordSet: true, PermissionsSet: true})
	}
	return resp, nil
}

// secretCredentials reads {"username","password"} from a secret's latest version.
func secretCredentials(st *cloud.State, secretArn string) (struct{ Username, Password string }, error) {
	var creds struct{ Username, Password string }
	versions := st.Find(cloud.TypeSecretVersion, func(r *cloud.Resource) bool { return r.Str("secretId") == secretArn })
	if len(versions) == 0 {
		return creds, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT (%s)", secretArn)
	}
	if err := json.Unmarshal([]byte(versions[len(versions)-1].Str("secretString")), &creds); err != nil {
		return creds, fmt.Errorf("the secret %s is not JSON", secretArn)
	}
	return creds, nil
}

// brokerAt is the broker whose first AMQPS endpoint is endpoint.
func brokerAt(st *cloud.State, endpoint string) *cloud.Resource {
	return st.FindOne(cloud.TypeBroker, func(r *cloud.Resource) bool {
		instances, _ := r.Props["instances"].([]any)
		if len(instances) == 0 {
			return false
		}
		first, _ := instances[0].(map[string]any)
		endpoints, _ := first["endpoints"].([]any)
		return len(endpoints) > 0 && endpoints[0] == endpoint
	})
}

func diagnose(st *cloud.State, fn *cloud.Resource, env map[string]string) contract.DiagnoseResponse {
	vpcConfig := fn.Obj("vpcConfig")
	subnets, _ := vpcConfig["subnetIds"].([]any)
	groups, _ := vpcConfig["securityGroupIds"].([]any)
	broker := brokerAt(st, env["BROKER_ENDPOINT"])
	report := contract.DiagnoseResponse{OK: true}
	for _, c := range st.Reach(strs(subnets), strs(groups), broker, []string{"sts", "secretsmanager", "lambda"}) {
		check := contract.Check{Name: c.Name, OK: c.OK, Address: c.Address, Private: c.Private, Detail: c.Detail}
		if c.Name == "broker" && c.OK {
			check.OK, check.Detail = login(st, broker, env["BROKER_SECRET_ARN"])
		}
		report.Checks = append(report.Checks, check)
		report.OK = report.OK && check.OK
	}
	return report
}

// login checks the secret's credentials against the broker's admin user, as an AMQPS login
// would: Amazon MQ keeps the password the broker was created with.
func login(st *cloud.State, broker *cloud.Resource, secretArn string) (bool, string) {
	if broker == nil {
		return false, "not checked: no broker at the function's BROKER_ENDPOINT"
	}
	creds, err := secretCredentials(st, secretArn)
	if err != nil {
		return false, "not checked: " + err.Error()
	}
	users, _ := broker.Props["users"].([]any)
	for _, u := range users {
		user, _ := u.(map[string]any)
		if user["username"] == creds.Username && user["password"] == creds.Password {
			return true, fmt.Sprintf("AMQPS login as %q", creds.Username)
		}
	}
	return false, fmt.Sprintf("ACCESS_REFUSED: login as %q refused by the broker", creds.Username)
}
