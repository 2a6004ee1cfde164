package aws

import (
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// permissionKind is a statement of a function's resource-based policy (AddPermission).
// Source: terraform-provider-aws internal/service/lambda/permission.go: action, function_name
// and principal required; every argument ForceNew (the resource has no Update); the id is the
// statement id; Delete (RemovePermission) treats ResourceNotFoundException as done.
func permissionKind() *standin.Kind {
	return &standin.Kind{
		Args: lambda.PermissionArgs{},
		ForceNew: []string{"action", "eventSourceToken", "function", "functionUrlAuthType", "principal", "principalOrgId",
			"qualifier", "sourceAccount", "sourceArn", "statementId", "statementIdPrefix"},
		Computed: []string{"statementId", "statementIdPrefix", "qualifier"},
		Required: []string{"action", "function", "principal"},
		Create:   createPermission,
		Delete:   func(*standin.Op, *cloud.Resource) error { return nil },
	}
}

func createPermission(op *standin.Op) error {
	fn := lookupFunction(op.St, standin.Str(op.Inputs, "function"))
	if fn == nil {
		// AddPermission of a function that does not exist (Lambda API reference, AddPermission:
		// ResourceNotFoundException, "The resource specified in the request does not exist").
		return standin.Errorf("ResourceNotFoundException", "Function not found: %s", standin.Str(op.Inputs, "function"))
	}
	sid := standin.Str(op.Inputs, "statementId")
	if sid == "" {
		return standin.Errorf("InvalidParameterValueException", "the stand-in models permissions with a statementId only")
	}
	// One statement id per function policy (Lambda API reference, AddPermission:
	// ResourceConflictException, "The resource already exists").
	if op.St.FindOne(cloud.TypePermission, func(r *cloud.Resource) bool { return r.ID == sid && r.Str("function") == fn.ID }) != nil {
		return standin.Errorf("ResourceConflictException", "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
	}
	op.ID = sid
	return nil
}

// scheduleExpressionPattern is the provider's validation of rotation_rules.schedule_expression.
var scheduleExpressionPattern = regexp.MustCompile(`[0-9A-Za-z\(\)#\?\*\-\/, ]+`)

// secretRotationKind is a secret's rotation configuration (RotateSecret, CancelRotateSecret).
// Source: terraform-provider-aws internal/service/secretsmanager/secret_rotation.go: secret_id
// required and ForceNew; rotation_rules required unless rotation_enabled is false
// (CustomizeDiff), its schedule_expression matched against [0-9A-Za-z\(\)#\?\*\-\/, ]+;
// rotate_immediately defaults to true; the id is the secret's ARN (RotateSecret's answer; the
// stand-in's is "<ARN>/rotation", see rotateSecret);
// Update calls RotateSecret again, Delete CancelRotateSecret. RotateSecret fails with
// AccessDeniedException "Secrets Manager cannot invoke the specified Lambda function" while
// the function's policy does not let secretsmanager.amazonaws.com invoke it (the provider
// retries on it for IAM propagation; the stand-in has none, so it fails at once).
func secretRotationKind() *standin.Kind {
	return &standin.Kind{
		Args:     secretsmanager.SecretRotationArgs{},
		ForceNew: []string{"secretId"},
		Computed: []string{"rotationEnabled"},
		Required: []string{"secretId"},
		Defaults: map[string]any{"rotateImmediately": true},
		Outputs:  []string{"rotationEnabled"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			rules := news["rotationRules"]
			if !rules.IsObject() {
				return []plugin.CheckFailure{{Property: "rotationRules", Reason: "`rotation_rules` is required unless `rotation_enabled` is `false`"}}
			}
			if e := standin.Str(rules.ObjectValue(), "scheduleExpression"); e != "" && !scheduleExpressionPattern.MatchString(e) {
				return []plugin.CheckFailure{{Property: "rotationRules.scheduleExpression", Reason: "invalid value for rotation_rules.0.schedule_expression"}}
			}
			return nil
		},
		Create: rotateSecret,
		Update: func(op *standin.Op, _ *cloud.Resource) error { return rotateSecret(op) },
		Delete: func(*standin.Op, *cloud.Resource) error { return nil },
	}
}

func rotateSecret(op *standin.Op) error {
	secret := standin.Str(op.Inputs, "secretId")
	if op.St.Get(secret) == nil {
		return standin.Errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	if standin.Bool(op.Inputs, "rotateImmediately") {
		// An immediate rotation would run the function now: not modelled.
		return standin.Errorf("InvalidParameterValueException", "the stand-in does not model rotate_immediately = true (a rotation run at configuration)")
	}
	fnArn := standin.Str(op.Inputs, "rotationLambdaArn")
	fn := lookupFunction(op.St, fnArn)
	invokable := fn != nil && op.St.FindOne(cloud.TypePermission, func(r *cloud.Resource) bool {
		return r.Str("function") == fn.ID && r.Str("principal") == "secretsmanager.amazonaws.com" &&
			(r.Str("sourceArn") == "" || r.Str("sourceArn") == secret)
	}) != nil
	if !invokable {
		return standin.Errorf("AccessDeniedException", "Secrets Manager cannot invoke the specified Lambda function.")
	}
	// The provider's id is the secret's ARN (RotateSecret's answer); the stand-in's account keys
	// every resource by its id, and the secret holds that one, so the rotation's carries a
	// suffix. The program reads neither.
	op.ID = secret + "/rotation"
	op.Set("rotationEnabled", true)
	return nil
}
