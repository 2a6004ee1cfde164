// Package secretsfake is an in-memory Secrets Manager for tests of rotation and of the clients
// that re-read a rotated secret. It answers the five calls a rotation function makes with the
// AWS SDK's own input and output types, and keeps versions and staging labels the way AWS
// documents them:
//
//   - RotateSecret first creates the version named by the rotation's token with AWSPENDING and no
//     value, then invokes the function's four steps; it refuses to start while AWSPENDING sits on
//     a version other than AWSCURRENT's, "a previous rotation request is still in progress"
//     (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html).
//   - GetSecretValue with VersionId and VersionStage needs both to name the same version; a
//     version without a value is not found
//     (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
//   - PutSecretValue with a ClientRequestToken that names an existing version fills it if it has
//     no value, does nothing if it holds the same value, and fails otherwise; a staging label it
//     attaches leaves any other version; without VersionStages it gets AWSCURRENT
//     (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
//   - UpdateSecretVersionStage moves a label; moving one that another version holds needs
//     RemoveFromVersionId; moving AWSCURRENT puts AWSPREVIOUS on the version it left
//     (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
//
// It also serves AWSCURRENT as a rabbitops.SecretReader (SecretString), as the listener, the
// provisioner and the local bridge read their secret.
package secretsfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The staging labels Secrets Manager gives a meaning to.
const (
	Current  = "AWSCURRENT"
	Pending  = "AWSPENDING"
	Previous = "AWSPREVIOUS"
)

type version struct {
	id     string
	value  *string
	stages []string
}

type secret struct {
	arn      string
	rotation bool
	versions []*version // in creation order
}

// Secrets is the in-memory service. Its zero value is not usable: use New.
type Secrets struct {
	mu      sync.Mutex
	secrets map[string]*secret
	// Unavailable, when set, makes every call fail as an unreachable endpoint would.
	unavailable bool
	reads       map[string]int
}

// New returns an empty service.
func New() *Secrets { return &Secrets{secrets: map[string]*secret{}, reads: map[string]int{}} }

func token() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// Create makes secret name with value in AWSCURRENT and returns its ARN; rotation says whether
// a rotation function is configured (DescribeSecret's RotationEnabled).
func (s *Secrets) Create(name, value string, rotation bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-" + token()[:6]
	s.secrets[arn] = &secret{arn: arn, rotation: rotation, versions: []*version{{id: token(), value: &value, stages: []string{Current}}}}
	return arn
}

// SetUnavailable makes every later call fail (true) or succeed again (false).
func (s *Secrets) SetUnavailable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = down
}

// Reads counts the SecretString calls for arn.
func (s *Secrets) Reads(arn string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[arn]
}

// Stages returns each version's labels, by version id.
func (s *Secrets) Stages(arn string) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	if sec := s.secrets[arn]; sec != nil {
		for _, v := range sec.versions {
			out[v.id] = slices.Clone(v.stages)
		}
	}
	return out
}

func notFound(format string, args ...any) error {
	return &types.ResourceNotFoundException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func invalid(format string, args ...any) error {
	return &types.InvalidRequestException{Message: aws.String(fmt.Sprintf(format, args...))}
}

// lookup is the secret id's secret; the caller holds mu.
func (s *Secrets) lookup(id *string) (*secret, error) {
	if s.unavailable {
		return nil, errors.New("dial tcp: connect: connection refused (secretsfake: unavailable)")
	}
	if id == nil {
		return nil, invalid("SecretId is required")
	}
	sec := s.secrets[*id]
	if sec == nil {
		return nil, notFound("Secrets Manager can't find the specified secret %s", *id)
	}
	return sec, nil
}

func (sec *secret) byID(id string) *version {
	for _, v := range sec.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (sec *secret) byStage(stage string) *version {
	for _, v := range sec.versions {
		if slices.Contains(v.stages, stage) {
			return v
		}
	}
	return nil
}

// attach moves stage to v from whichever version holds it; moving AWSCURRENT puts AWSPREVIOUS
// on the version it left.
func (sec *secret) attach(v *version, stage string) {
	from := sec.byStage(stage)
	if from == v {
		return
	}
	if from != nil {
		from.stages = slices.DeleteFunc(from.stages, func(s string) bool { return s == stage })
		if stage == Current {
			sec.attach(from, Previous)
		}
	}
	v.stages = append(v.stages, stage)
}

// DescribeSecret returns RotationEnabled and VersionIdsToStages.
func (s *Secrets) DescribeSecret(_ context.Context, in *sm.DescribeSecretInput, _ ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	out := &sm.DescribeSecretOutput{ARN: aws.String(sec.arn), RotationEnabled: aws.Bool(sec.rotation), VersionIdsToStages: map[string][]string{}}
	for _, v := range sec.versions {
		if len(v.stages) > 0 {
			out.VersionIdsToStages[v.id] = slices.Clone(v.stages)
		}
	}
	return out, nil
}

// GetSecretValue returns the version VersionId and VersionStage name (AWSCURRENT when neither).
func (s *Secrets) GetSecretValue(_ context.Context, in *sm.GetSecretValueInput, _ ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case in.VersionId != nil:
		v = sec.byID(*in.VersionId)
		if v != nil && in.VersionStage != nil && !slices.Contains(v.stages, *in.VersionStage) {
			v = nil
		}
	case in.VersionStage != nil:
		v = sec.byStage(*in.VersionStage)
	default:
		v = sec.byStage(Current)
	}
	if v == nil || v.value == nil {
		return nil, notFound("Secrets Manager can't find the specified secret value for VersionId: %s, VersionStage: %s",
			aws.ToString(in.VersionId), aws.ToString(in.VersionStage))
	}
	return &sm.GetSecretValueOutput{ARN: aws.String(sec.arn), VersionId: aws.String(v.id), SecretString: aws.String(*v.value),
		VersionStages: slices.Clone(v.stages)}, nil
}

// PutSecretValue stores a version, idempotently for the same token and value.
func (s *Secrets) PutSecretValue(_ context.Context, in *sm.PutSecretValueInput, _ ...func(*sm.Options)) (*sm.PutSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.SecretString == nil {
		return nil, invalid("SecretString is required (secretsfake)")
	}
	id := aws.ToString(in.ClientRequestToken)
	if id == "" {
		id = token()
	}
	v := sec.byID(id)
	switch {
	case v == nil:
		v = &version{id: id}
		sec.versions = append(sec.versions, v)
		v.value = aws.String(*in.SecretString)
	case v.value == nil:
		v.value = aws.String(*in.SecretString)
	case *v.value != *in.SecretString:
		return nil, &types.ResourceExistsException{Message: aws.String("A resource with the ID you requested already exists: version " + id + " holds another value")}
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{Current}
	}
	for _, stage := range stages {
		sec.attach(v, stage)
	}
	return &sm.PutSecretValueOutput{ARN: aws.String(sec.arn), VersionId: aws.String(v.id), VersionStages: slices.Clone(v.stages)}, nil
}

// UpdateSecretVersionStage moves VersionStage to MoveToVersionId (or only removes it).
func (s *Secrets) UpdateSecretVersionStage(_ context.Context, in *sm.UpdateSecretVersionStageInput, _ ...func(*sm.Options)) (*sm.UpdateSecretVersionStageOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	stage := aws.ToString(in.VersionStage)
	holder := sec.byStage(stage)
	if in.RemoveFromVersionId != nil && (holder == nil || holder.id != *in.RemoveFromVersionId) {
		return nil, invalid("the staging label %s is not attached to version %s", stage, *in.RemoveFromVersionId)
	}
	if in.MoveToVersionId == nil {
		if holder != nil && in.RemoveFromVersionId != nil {
			holder.stages = slices.DeleteFunc(holder.stages, func(s string) bool { return s == stage })
		}
		return &sm.UpdateSecretVersionStageOutput{ARN: aws.String(sec.arn)}, nil
	}
	to := sec.byID(*in.MoveToVersionId)
	if to == nil {
		return nil, notFound("no version %s", *in.MoveToVersionId)
	}
	if holder != nil && holder != to && in.RemoveFromVersionId == nil {
		return nil, invalid("the staging label %s is attached to version %s: give RemoveFromVersionId to move it", stage, holder.id)
	}
	sec.attach(to, stage)
	return &sm.UpdateSecretVersionStageOutput{ARN: aws.String(sec.arn)}, nil
}

// GetRandomPassword returns PasswordLength (default 32) letters and digits.
func (s *Secrets) GetRandomPassword(_ context.Context, in *sm.GetRandomPasswordInput, _ ...func(*sm.Options)) (*sm.GetRandomPasswordOutput, error) {
	s.mu.Lock()
	down := s.unavailable
	s.mu.Unlock()
	if down {
		return nil, errors.New("dial tcp: connect: connection refused (secretsfake: unavailable)")
	}
	n := int(aws.ToInt64(in.PasswordLength))
	if n == 0 {
		n = 32
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	for i := range raw {
		raw[i] = alphabet[int(raw[i])%len(alphabet)]
	}
	return &sm.GetRandomPasswordOutput{RandomPassword: aws.String(string(raw))}, nil
}

// SecretString returns AWSCURRENT's value, as a client of the secret reads it.
func (s *Secrets) SecretString(ctx context.Context, arn string) (string, error) {
	s.mu.Lock()
	s.reads[arn]++
	s.mu.Unlock()
	out, err := s.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", err
	}
	return *out.SecretString, nil
}

// Step is one invocation of a rotation function: the event Secrets Manager sends it.
type Step func(ctx context.Context, secretID, clientRequestToken, step string) error

// Steps are the four steps, in the order Secrets Manager invokes them.
var Steps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

// RotateSecret rotates arn as Secrets Manager does: it puts AWSPENDING on a new, empty version
// named by clientRequestToken ("" for a fresh one), then invokes fn for each step, stopping at
// the first error (the step's own, which names it), which it returns with the token (a retry passes the same token). It refuses
// to start while another version than AWSCURRENT's holds AWSPENDING.
func (s *Secrets) RotateSecret(ctx context.Context, arn, clientRequestToken string, fn Step) (string, error) {
	s.mu.Lock()
	sec, err := s.lookup(&arn)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	if !sec.rotation {
		s.mu.Unlock()
		return "", invalid("rotation is not enabled for %s", arn)
	}
	if clientRequestToken == "" {
		clientRequestToken = token()
	}
	if p := sec.byStage(Pending); p != nil && p.id != clientRequestToken && !slices.Contains(p.stages, Current) {
		s.mu.Unlock()
		return "", invalid("a previous rotation isn't complete: version %s holds AWSPENDING; retry it with its token, or remove the label", p.id)
	}
	if v := sec.byID(clientRequestToken); v == nil {
		v = &version{id: clientRequestToken}
		sec.versions = append(sec.versions, v)
		sec.attach(v, Pending)
	}
	s.mu.Unlock()
	for _, step := range Steps {
		if err := fn(ctx, arn, clientRequestToken, step); err != nil {
			return clientRequestToken, err
		}
	}
	return clientRequestToken, nil
}
