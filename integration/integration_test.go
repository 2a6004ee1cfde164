//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/smoke"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/status"
)

// TestOptions runs every option at once; `-parallel 1` runs them one after another.
func TestOptions(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// Every option is a paid broker for about an hour: the options are named, never implied.
	modes, err := optionsToRun(os.Getenv(envOptions))
	if err != nil {
		t.Fatal(err)
	}
	// Fail before anything is deployed when a prerequisite is missing.
	if _, err := exec.LookPath("pulumi"); err != nil {
		t.Fatal("the Pulumi CLI is not on PATH (docs/operations.md, Prerequisites; scripts/build-pulumi.sh builds the pinned one into .build/pulumi/bin)")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err == nil {
		_, err = awsCfg.Credentials.Retrieve(context.Background())
	}
	if err != nil {
		t.Fatalf("no AWS credentials (the SDK's default chain: environment, profile, SSO, instance role): %v", err)
	}
	env, err := backendEnv(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			testOption(t, root, env, string(mode))
		})
	}
}

// envOptions names the options a run deploys: a comma-separated list, or "all" (make
// integration sets it from STACK or ALL=1).
const envOptions = "ESM_IT_OPTIONS"

func optionsToRun(value string) ([]infra.NetworkMode, error) {
	all := infra.ModeNames()
	if value == "all" {
		return all, nil
	}
	var modes []infra.NetworkMode
	for name := range strings.SplitSeq(value, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(all, infra.NetworkMode(name)) {
			return nil, fmt.Errorf("%s=%q: %q is not an option (one of %v, or all)", envOptions, value, name, all)
		}
		modes = append(modes, infra.NetworkMode(name))
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("%s is unset: name the options to deploy (make integration STACK=<option>, or ALL=1 for every one; each is a paid broker for about an hour)", envOptions)
	}
	return modes, nil
}

// TestOptionsToRun deploys nothing: CI runs it (.ci/run) so the guard above is tested.
func TestOptionsToRun(t *testing.T) {
	if got, err := optionsToRun("nat, isolated"); err != nil || !slices.Equal(got, []infra.NetworkMode{"nat", "isolated"}) {
		t.Errorf(`optionsToRun("nat, isolated") = %v, %v`, got, err)
	}
	if got, err := optionsToRun("all"); err != nil || !slices.Equal(got, infra.ModeNames()) {
		t.Errorf(`optionsToRun("all") = %v, %v`, got, err)
	}
	for _, value := range []string{"", " , ", "nat,typo"} {
		if got, err := optionsToRun(value); err == nil || !strings.Contains(err.Error(), envOptions) {
			t.Errorf("optionsToRun(%q) = %v, %v: want an error naming %s", value, got, err, envOptions)
		}
	}
}

// testOption deploys the option's shipped stack file under a stack name of its own (so it
// never touches a stack of the same option a user deployed), then checks what users rely on.
func testOption(t *testing.T, root string, env map[string]string, mode string) {
	ctx := context.Background()
	stackName := "it-" + mode + "-" + randomHex(3)
	workDir := copyProject(t, root)
	shipped, err := os.ReadFile(filepath.Join(root, "Pulumi."+mode+".yaml")) //nolint:gosec // G304: a shipped stack file, named by the option table
	if err != nil {
		t.Fatal(err)
	}
	if mode == string(infra.ModeExistingVPC) {
		shipped = yourVPC(t, shipped)
	}
	stackFile := filepath.Join(workDir, "Pulumi."+stackName+".yaml")
	if err := os.WriteFile(stackFile, shipped, 0o600); err != nil { //nolint:gosec // G703: the test's own directory and a name it made
		t.Fatal(err)
	}
	raw, err := stackconfig.Read(workDir, stackName)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := infra.ParseConfig(stackName, raw)
	if err != nil {
		t.Fatal(err)
	}
	wsOpts := []auto.LocalWorkspaceOption{auto.EnvVars(env)}
	if strings.HasPrefix(env["PULUMI_BACKEND_URL"], "file://") {
		wsOpts = append(wsOpts, auto.SecretsProvider("passphrase"))
	}
	stack, err := auto.UpsertStackLocalSource(ctx, stackName, workDir, wsOpts...)
	if err != nil {
		t.Fatal(err)
	}
	log := logWriter(t, stackName)
	destroyed := false
	t.Cleanup(func() {
		if destroyed {
			return
		}
		// A failed run still tears down what it built; if even that fails, say how to finish.
		cleanupCtx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		if _, err := stack.Destroy(cleanupCtx, optdestroy.RunProgram(true), optdestroy.Remove(), optdestroy.ProgressStreams(log)); err != nil {
			t.Errorf("tearing down %s failed; finish it with PULUMI_BACKEND_URL=%s pulumi destroy --run-program --stack %s "+
				"(from a checkout holding Pulumi.%s.yaml, a copy of Pulumi.%s.yaml): %v",
				stackName, env["PULUMI_BACKEND_URL"], stackName, stackName, mode, err)
		}
	})

	up, err := stack.Up(ctx, optup.ProgressStreams(log))
	if err != nil {
		t.Fatalf("pulumi up: %v", err)
	}
	out := outputs(up.Outputs)
	checkOutputs(t, mode, cfg.Option(), out)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(out["awsRegion"]))
	if err != nil {
		t.Fatal(err)
	}
	lam := lambda.NewFromConfig(awsCfg)
	checkMappingHealthy(ctx, t, lam, out["eventSourceMappingId"])

	result, err := smoke.Run(ctx, smoke.Config{
		Outputs: smoke.Outputs{
			ProvisionerFunctionName: out["provisionerFunctionName"], ListenerLogGroupName: out["listenerLogGroupName"],
			AWSRegion: out["awsRegion"], NetworkMode: mode,
		},
		RunID: "it-" + randomHex(6), Count: 100, Timeout: 5 * time.Minute,
	}, lam, cloudwatchlogs.NewFromConfig(awsCfg))
	if err != nil {
		t.Fatalf("smoke test: %v", err)
	}
	var report bytes.Buffer
	smoke.Report(&report, result)
	t.Log(report.String())
	if !result.Passed() {
		t.Fatalf("smoke test failed: the listener logged %d of %d messages", result.Seen, result.Expected)
	}

	checkStatusClean(ctx, t, workDir, stackName, up.Outputs)

	// The Lambda archives are deterministic and nothing drifts: a second deployment is a no-op.
	if _, err := stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Diff(), optpreview.ProgressStreams(log)); err != nil {
		t.Errorf("a preview right after the deployment wants changes: %v", err)
	}

	if _, err := stack.Destroy(ctx, optdestroy.RunProgram(true), optdestroy.Remove(), optdestroy.ProgressStreams(log)); err != nil {
		t.Fatalf("pulumi destroy --run-program did not finish on the first try: %v", err)
	}
	destroyed = true
	if mode != string(infra.ModePublic) {
		// The after-delete hook waited for the mapping's interfaces; none may be left. One look,
		// no waiting: any interface found is reported with its id.
		account := strings.Split(out["brokerArn"], ":")[4]
		prefix := eniwait.ESMDescriptionPrefix(account, out["eventSourceMappingId"])
		if err := eniwait.Wait(ctx, ec2.NewFromConfig(awsCfg), prefix, eniwait.Options{Timeout: time.Nanosecond}); err != nil {
			t.Errorf("after the destroy: %v", err)
		}
	}
}

// yourVPC puts the VPC and subnets named by ESM_IT_VPC_ID and ESM_IT_SUBNET_ID (and, if set,
// ESM_IT_SERVICE_ROUTE) into existingvpc's stack file in place of its placeholders; without
// them the option is skipped: the run cannot make up a VPC of yours.
func yourVPC(t *testing.T, file []byte) []byte {
	t.Helper()
	vpcID, subnetID := os.Getenv("ESM_IT_VPC_ID"), os.Getenv("ESM_IT_SUBNET_ID")
	if vpcID == "" || subnetID == "" {
		t.Skip("existingvpc needs a VPC of yours: set ESM_IT_VPC_ID and ESM_IT_SUBNET_ID (and ESM_IT_SERVICE_ROUTE: nat, endpoints or existing-endpoints)")
	}
	text := regexp.MustCompile(`(?m)^(  rabbitmq-esm:vpcId:).*$`).ReplaceAllString(string(file), "${1} "+vpcID)
	text = regexp.MustCompile(`(?m)^(    - )subnet-.*$`).ReplaceAllString(text, "${1}"+subnetID)
	if route := os.Getenv("ESM_IT_SERVICE_ROUTE"); route != "" {
		text = regexp.MustCompile(`(?m)^(  rabbitmq-esm:serviceRoute:).*$`).ReplaceAllString(text, "${1} "+route)
	}
	return []byte(text)
}

// checkOutputs holds the outputs docs/configuration.md lists, per option.
func checkOutputs(t *testing.T, mode string, opt infra.Option, out map[string]string) {
	t.Helper()
	if out["networkMode"] != mode || out["version"] != infra.Version {
		t.Errorf("networkMode output %q, version %q; want %q, %q", out["networkMode"], out["version"], mode, infra.Version)
	}
	for _, key := range []string{"brokerId", "brokerArn", "amqpsEndpoint", "consoleUrl", "credentialsSecretArn", "mappingSecretArn", "deadLetterSecretArn",
		"listenerFunctionName", "listenerLogGroupName", "eventSourceMappingId", "provisionerFunctionName", "awsRegion"} {
		if out[key] == "" {
			t.Errorf("output %s is missing", key)
		}
	}
	if !strings.HasPrefix(out["amqpsEndpoint"], "amqps://") || !strings.HasPrefix(out["brokerArn"], "arn:aws") {
		t.Errorf("amqpsEndpoint %q, brokerArn %q: not an AMQPS URL and an ARN", out["amqpsEndpoint"], out["brokerArn"])
	}
	if hasVPC := out["vpcId"] != ""; hasVPC != (opt.VPC != infra.VPCNone) {
		t.Errorf("vpcId output %q for an option whose VPC is %s", out["vpcId"], opt.VPC)
	}
	if hasEndpoints := out["vpcEndpointIds"] != ""; hasEndpoints != opt.NeedsInterfaceEndpoints() {
		t.Errorf("vpcEndpointIds output %q for an option whose ESM path is %s", out["vpcEndpointIds"], opt.ServiceRoute)
	}
	for key, value := range out {
		if strings.Contains(strings.ToLower(key), "password") || strings.Contains(value, `"password"`) {
			t.Errorf("output %s exposes the password", key)
		}
	}
}

// checkMappingHealthy waits for the mapping to be enabled and wants no PROBLEM from it: the
// symptom of an unreachable STS, Secrets Manager, Lambda or broker.
func checkMappingHealthy(ctx context.Context, t *testing.T, lam *lambda.Client, uuid string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	for {
		m, err := lam.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			t.Fatalf("reading the event source mapping %s: %v", uuid, err)
		}
		state, result := aws.ToString(m.State), aws.ToString(m.LastProcessingResult)
		if strings.HasPrefix(result, "PROBLEM") {
			t.Fatalf("the event source mapping reports %q (state %s)", result, state)
		}
		if state == "Enabled" {
			t.Logf("event source mapping %s: %s, last result %q", uuid, state, result)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event source mapping is still %s after 15 minutes (last result %q)", state, result)
		}
		time.Sleep(15 * time.Second)
	}
}

// checkStatusClean runs make status's check on the deployed stack until it says all is good:
// the monitor has published its figures from beside the broker, the mapping is healthy, no
// alarm fires and the smoke test's messages are consumed. The monitor runs every minute and
// its first figures take a minute or two to reach CloudWatch, so it waits up to ten minutes.
func checkStatusClean(ctx context.Context, t *testing.T, workDir, stackName string, outs auto.OutputMap) {
	t.Helper()
	values := map[string]any{}
	for key, out := range outs {
		values[key] = out.Value
	}
	raw, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(workDir, "outputs.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var screen bytes.Buffer
		exit := status.Run(ctx, []string{"--stack", stackName, "--outputs-file", file}, &screen, &screen)
		if exit == status.ExitOK {
			t.Logf("make status:\n%s", screen.String())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("make status still exits %d after 10 minutes:\n%s", exit, screen.String())
		}
		time.Sleep(30 * time.Second)
	}
}

// outputs flattens the stack outputs to strings (arrays and maps as their Go rendering, enough
// to tell present from absent).
func outputs(m auto.OutputMap) map[string]string {
	out := make(map[string]string, len(m))
	for key, v := range m {
		switch value := v.Value.(type) {
		case string:
			out[key] = value
		case nil:
		default:
			out[key] = fmt.Sprint(value)
		}
	}
	return out
}

// backendEnv is where the stacks' state goes: PULUMI_BACKEND_URL as set, or the project's local
// backend with its passphrase, created as scripts/pulumi.sh creates them.
func backendEnv(root string) (map[string]string, error) {
	if url := os.Getenv("PULUMI_BACKEND_URL"); url != "" {
		return map[string]string{"PULUMI_BACKEND_URL": url}, nil
	}
	state := filepath.Join(root, ".pulumi-state")
	if err := os.MkdirAll(state, 0o750); err != nil {
		return nil, err
	}
	env := map[string]string{"PULUMI_BACKEND_URL": "file://" + state}
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") != "" || os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") != "" {
		return env, nil
	}
	passphrase := filepath.Join(root, ".pulumi-passphrase")
	if info, err := os.Stat(passphrase); err != nil || info.Size() == 0 {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		if err := os.WriteFile(passphrase, []byte(base64.StdEncoding.EncodeToString(secret)+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	env["PULUMI_CONFIG_PASSPHRASE_FILE"] = passphrase
	return env, nil
}

// copyProject copies the project's files (those git tracks or would track) to a directory of
// the test's own, so that the stack files the run creates never land in the checkout.
func copyProject(t *testing.T, root string) string {
	t.Helper()
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output() //nolint:gosec,noctx // G204: fixed git arguments and the project's own path
	if err != nil {
		t.Fatalf("listing the project's files with git: %v", err)
	}
	dir := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if err := copyFile(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(from, to string) error {
	in, err := os.Open(from) //nolint:gosec // G304: a file of this project, listed by git
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // deleted in the working tree but not yet in git's index
		}
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm()) //nolint:gosec // G304: inside the test's directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// logWriter streams the Pulumi CLI's progress into the test log, a line at a time, each
// prefixed with the stack (the options run in parallel).
func logWriter(t *testing.T, stack string) io.Writer {
	return &lineLogger{t: t, prefix: stack + ": "}
}

type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(l.prefix + string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
