// Package integration deploys every networking option to a real AWS account, proves the data
// path end to end and tears it down again. Its tests build only with the integration tag and
// cost money (a broker per option for about an hour; NAT gateways and interface endpoints
// where the option has them):
//
//	go test -tags integration -timeout 4h -v ./integration/
//	go test -tags integration -timeout 2h -v -run 'TestOptions/^isolated$' ./integration/
//
// `make integration STACK=<option>` runs one; every option at once takes ALL=1. Make runs them
// on make up's state backend (eval "$(scripts/pulumi.sh env)"), so that a run cut short can be
// finished with `pulumi destroy --run-program`. They need the Pulumi CLI and AWS credentials (the
// standard AWS SDK chain, AWS_REGION unneeded: each stack file sets aws:region). Run with go
// test directly, the state goes to PULUMI_BACKEND_URL, or else to the project's local backend
// (.pulumi-state). existingvpc runs
// only in a VPC of yours, named by ESM_IT_VPC_ID and ESM_IT_SUBNET_ID (ESM_IT_SERVICE_ROUTE:
// its serviceRoute, endpoints unless set); without them it is skipped.
package integration
