// Package redrive is cmd/redrive: moving dead letters from <queue>.dlq back to <queue>, through
// a stack's provisioner or from here.
package redrive

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deployed"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/sdksecrets"
)

type options struct {
	stack, region, url, queue, vhost, caFile string
	direct, dryRun                           bool
	max                                      int
}

// Run parses the command's arguments and redrives. --help returns flag.ErrHelp, after the
// usage is written to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.stack, "stack", "", "the deployed stack whose dead letters to move, through its provisioner function (private brokers too)")
	fs.BoolVar(&o.direct, "direct", false, "with --stack: connect from here with the stack's amqpsEndpoint and credentials secret (a public broker, or from inside the VPC)")
	fs.StringVar(&o.region, "region", "", "with --stack: AWS region (default: the stack's awsRegion output)")
	fs.StringVar(&o.url, "url", "", "instead of --stack: broker URL amqps://user@host:5671 or amqp://user@host:5672 (password from AMQP_PASSWORD, or in the URL)")
	fs.StringVar(&o.queue, "queue", "", "with --url: the queue whose <queue>.dlq to redrive")
	fs.StringVar(&o.vhost, "vhost", "/", "with --url: virtual host")
	fs.StringVar(&o.caFile, "ca-file", "", "with --url or --direct: PEM CA bundle that verifies the broker's certificate (default: the system roots)")
	fs.IntVar(&o.max, "max", 0, "move at most this many (0: every message the dead-letter queue holds at the start)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "list what would move (message ids and errors) and move nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: redrive --stack <name> [--direct] | --url amqps://user@host:5671 --queue <queue>  [--max N] [--dry-run]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := o.check(set, fs.Args()); err != nil {
		return err
	}

	var res contract.RedriveResult
	var err error
	if o.url != "" {
		res, err = o.fromURL(ctx)
	} else {
		res, err = o.fromStack(ctx, stdout)
	}
	return summarise(stdout, res, err)
}

// summarise prints what a run did, when it did anything, and turns a stop into an error that
// says how to resume: with the count left rather than afresh, which would also take the
// messages that failed again since.
func summarise(w io.Writer, res contract.RedriveResult, err error) error {
	if err == nil || res.Moved > 0 {
		report(w, res)
	}
	if err == nil && res.Stopped && res.Remaining > 0 {
		err = fmt.Errorf("stopped with %d still to move: rerun with --max %d to move exactly those", res.Remaining, res.Remaining)
	}
	return err
}

// check refuses flags that would be silently ignored in the chosen mode.
func (o options) check(set map[string]bool, rest []string) error {
	var problems []string
	refuse := func(names []string, why string) {
		for _, name := range names {
			if set[name] {
				problems = append(problems, "--"+name+" "+why)
			}
		}
	}
	switch {
	case (o.stack == "") == (o.url == ""):
		problems = append(problems, "give either --stack <name> or --url amqps://user@host:5671 with --queue")
	case o.stack != "":
		refuse([]string{"queue", "vhost"}, "goes with --url: with --stack the stack's own queue and virtual host are redriven")
		if !o.direct {
			refuse([]string{"ca-file"}, "goes with --direct or --url: the provisioner verifies the broker itself")
		}
	default:
		if o.queue == "" {
			problems = append(problems, "--queue is required with --url")
		}
		refuse([]string{"direct", "region"}, "goes with --stack")
	}
	if o.max < 0 {
		problems = append(problems, fmt.Sprintf("--max %d: must be 0 (all) or more", o.max))
	}
	if len(rest) > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", rest))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (o options) redriveOptions() rabbitops.RedriveOptions {
	return rabbitops.RedriveOptions{Max: o.max, DryRun: o.dryRun}
}

// fromURL redrives a broker reachable from here. The URL is never echoed: it may hold the
// password.
func (o options) fromURL(ctx context.Context) (contract.RedriveResult, error) {
	u, err := url.Parse(o.url)
	if err != nil || u.Host == "" || u.User.Username() == "" {
		return contract.RedriveResult{}, errors.New("--url: want amqps://user@host:5671 or amqp://user@host:5672, the password in AMQP_PASSWORD")
	}
	creds := rabbitops.Credentials{Username: u.User.Username()}
	creds.Password, _ = u.User.Password()
	if pw := os.Getenv("AMQP_PASSWORD"); pw != "" {
		creds.Password = pw
	}
	return o.redriveFrom(ctx, u.Scheme+"://"+u.Host, creds, rabbitops.Topology{Queue: o.queue, VHost: o.vhost})
}

func (o options) redriveFrom(ctx context.Context, endpoint string, creds rabbitops.Credentials, t rabbitops.Topology) (contract.RedriveResult, error) {
	conn, err := rabbitops.Dial(ctx, endpoint, creds, t.VHost, o.caFile)
	if err != nil {
		return contract.RedriveResult{}, err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return contract.RedriveResult{}, err
	}
	return rabbitops.Redrive(ctx, ch, t, o.redriveOptions())
}

// stackOutputs are the outputs of a deployed stack a redrive needs.
type stackOutputs struct {
	ProvisionerFunctionName string `json:"provisionerFunctionName"`
	AWSRegion               string `json:"awsRegion"`
	AMQPSEndpoint           string `json:"amqpsEndpoint"`
	CredentialsSecretArn    string `json:"credentialsSecretArn"`
	QueueName               string `json:"queueName"`
	VirtualHost             string `json:"virtualHost"`
}

func (o options) fromStack(ctx context.Context, progress io.Writer) (contract.RedriveResult, error) {
	var outs stackOutputs
	if err := deployed.ReadOutputs(ctx, o.stack, &outs); err != nil {
		return contract.RedriveResult{}, err
	}
	var missing []string
	for name, v := range map[string]string{"provisionerFunctionName": outs.ProvisionerFunctionName, "awsRegion": outs.AWSRegion,
		"amqpsEndpoint": outs.AMQPSEndpoint, "credentialsSecretArn": outs.CredentialsSecretArn, "queueName": outs.QueueName, "virtualHost": outs.VirtualHost} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return contract.RedriveResult{}, fmt.Errorf("stack %s has no output %s: is it deployed (make up)?", o.stack, strings.Join(missing, ", "))
	}
	region := outs.AWSRegion
	if o.region != "" {
		region = o.region
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return contract.RedriveResult{}, err
	}
	if o.direct {
		creds, err := rabbitops.ReadCredentials(ctx, sdksecrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)}, outs.CredentialsSecretArn)
		if err != nil {
			return contract.RedriveResult{}, err
		}
		return o.redriveFrom(ctx, outs.AMQPSEndpoint, creds, rabbitops.Topology{Queue: outs.QueueName, VHost: outs.VirtualHost})
	}
	return viaProvisioner(ctx, lambda.NewFromConfig(awsCfg), outs.ProvisionerFunctionName, o.redriveOptions(), progress)
}

// invokeTimeout outlasts any invocation: Lambda runs a function for at most 15 minutes.
const invokeTimeout = 16 * time.Minute

// viaProvisioner invokes the provisioner's redrive until the messages the first invocation
// found have moved. Each invocation stops short of the function's timeout and says how many
// are left; the next one is capped at that number, so messages that failed again meanwhile
// are not moved again.
func viaProvisioner(ctx context.Context, lam deployed.Invoker, function string, opts rabbitops.RedriveOptions, progress io.Writer) (contract.RedriveResult, error) {
	var total contract.RedriveResult
	for call := 1; ; call++ {
		var resp contract.RedriveResponse
		// The invocation runs to its end whatever happens here: wait for its answer on
		// Ctrl-C rather than lose the count.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invokeTimeout)
		err := deployed.Invoke(callCtx, lam, function, contract.Request{Action: contract.ActionRedrive, Max: opts.Max, DryRun: opts.DryRun}, &resp)
		cancel()
		if err != nil {
			return total, err
		}
		r := resp.RedriveResult
		if call == 1 {
			total = r
		} else {
			total.Moved += r.Moved
			total.Remaining, total.Stopped = r.Remaining, r.Stopped
			total.Messages = append(total.Messages, r.Messages[:min(len(r.Messages), contract.RedriveListLimit-len(total.Messages))]...)
		}
		if r.DryRun || r.Remaining == 0 {
			return total, nil
		}
		// A stop is not an error: the result says how to resume.
		select {
		case <-ctx.Done():
			total.Stopped = true
			return total, nil
		default:
		}
		if r.Moved == 0 {
			return total, fmt.Errorf("the provisioner's invocation %d moved nothing before its time ran out; %d still to move", call, r.Remaining)
		}
		fmt.Fprintf(progress, "moved %d so far, %d to go: invoking the provisioner again\n", total.Moved, r.Remaining)
		opts.Max = r.Remaining
	}
}

func report(w io.Writer, r contract.RedriveResult) {
	listed := r.Moved
	if r.DryRun {
		listed = r.Remaining
		fmt.Fprintf(w, "dry run: %s holds %d messages; a redrive would move %d to %s\n", r.DeadLetterQueue, r.Found, r.Remaining, r.Queue)
	} else {
		fmt.Fprintf(w, "%s -> %s: %d found, %d moved, %d still to move\n", r.DeadLetterQueue, r.Queue, r.Found, r.Moved, r.Remaining)
	}
	for _, m := range r.Messages {
		id := m.MessageID
		if id == "" {
			id = "(no message id)"
		}
		fmt.Fprintf(w, "  %s  redrives: %d  %s\n", id, m.RedriveCount, m.Error)
	}
	if n := listed - len(r.Messages); n > 0 {
		fmt.Fprintf(w, "  and %d more\n", n)
	}
}
