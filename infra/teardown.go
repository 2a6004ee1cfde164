package infra

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EnvTeardown marks a run of the program that tears the stack down: `make destroy`
// (scripts/pulumi.sh) sets it for `pulumi destroy --run-program`. The engine runs the whole
// program on such a destroy (so that the deletion hooks exist) and tells the program nothing of
// it (sdk/go/common/resource/plugin RunInfo has no such field), so without this mark a check
// that guards a deploy — a route the user removed since, a private hosted zone associated since,
// an emptied default security group — would stop the destroy of a stack whose account changed.
const EnvTeardown = "RABBITMQ_ESM_TEARDOWN"

// tearingDown says whether this run is a destroy (EnvTeardown set to 1 or true).
func tearingDown() bool {
	v := os.Getenv(EnvTeardown)
	return v == "1" || v == "true"
}

// refusals collects the checks that failed and guard a deploy only: a deploy stops on them
// before anything is registered; a teardown warns and goes on, since deleting the stack's
// resources needs none of what they check. It also collects the warnings of a deploy: what
// a look-up could not check, and advice that does not stop it.
type refusals struct {
	errs     []error
	warnings []string
}

// warn records a warning for a deploy (a teardown has no use for it).
func (r *refusals) warn(msg string) { r.warnings = append(r.warnings, msg) }

// Warnings are what the look-ups could not check, or advise, which a deploy logs before it
// registers anything (the offline plan shows them too).
func (f Facts) Warnings() []string { return slices.Clone(f.refused.warnings) }

// add records a refusal; nil is none.
func (r *refusals) add(err error) {
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

// settle is what the run does with the refusals: nothing when there are none; on a teardown,
// one warning each; otherwise the deploy's warnings, then the error that stops the deploy,
// every refusal in it.
func (r *refusals) settle(ctx *pulumi.Context, teardown bool) error {
	for _, msg := range r.warnings {
		if teardown {
			break
		}
		if err := ctx.Log.Warn(msg, nil); err != nil {
			return err
		}
	}
	if len(r.errs) == 0 {
		return nil
	}
	if !teardown {
		return fmt.Errorf("%w\n(Tearing the stack down? `make destroy STACK=%s` runs `pulumi destroy --run-program` with %s=1, "+
			"under which these checks, which guard a deploy only, warn instead.)", errors.Join(r.errs...), ctx.Stack(), EnvTeardown)
	}
	for _, err := range r.errs {
		if logErr := ctx.Log.Warn("tearing down, so not refused (it guards a deploy only): "+err.Error(), nil); logErr != nil {
			return logErr
		}
	}
	return nil
}
