// Package contract is what the Pulumi program and the project's Lambda functions agree on. Both
// sides import it, so neither can change it alone:
//
//   - the names of the environment variables the program sets and the functions read (the Env
//     constants, env.go);
//   - the queue-name rule (queue.go);
//   - the provisioner function's actions, requests and responses (provisioner.go): what the
//     program's deploy-time invocations, the smoke test and the redrive command send to it
//     and read back.
package contract
