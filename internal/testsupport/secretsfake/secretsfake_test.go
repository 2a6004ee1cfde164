package secretsfake

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestStagingLabelsMoveAsAWSDocumentsThem: a rotation's version starts empty with AWSPENDING;
// moving AWSCURRENT needs RemoveFromVersionId and puts AWSPREVIOUS on the version it left; a
// token's value cannot change; a second rotation waits for an unfinished one.
func TestStagingLabelsMoveAsAWSDocumentsThem(t *testing.T) {
	ctx := context.Background()
	s := New()
	arn := s.Create("x", "v1", true)
	first := ""
	for id, stages := range s.Stages(arn) {
		if slices.Contains(stages, Current) {
			first = id
		}
	}
	var nf *types.ResourceNotFoundException
	token, err := s.RotateSecret(ctx, arn, "", func(ctx context.Context, id, token, step string) error {
		switch step {
		case "createSecret":
			if _, err := s.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &id, VersionId: &token, VersionStage: aws.String(Pending)}); !errors.As(err, &nf) {
				t.Errorf("the empty pending version: %v, want ResourceNotFoundException", err)
			}
			_, err := s.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: &id, ClientRequestToken: &token, SecretString: aws.String("v2"), VersionStages: []string{Pending}})
			return err
		case "finishSecret":
			in := &sm.UpdateSecretVersionStageInput{SecretId: &id, VersionStage: aws.String(Current), MoveToVersionId: &token}
			if _, err := s.UpdateSecretVersionStage(ctx, in); err == nil {
				t.Error("moved AWSCURRENT without RemoveFromVersionId")
			}
			in.RemoveFromVersionId = &first
			_, err := s.UpdateSecretVersionStage(ctx, in)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stages := s.Stages(arn)
	if !slices.Contains(stages[token], Current) || !slices.Contains(stages[token], Pending) || !slices.Equal(stages[first], []string{Previous}) {
		t.Errorf("after the rotation: %v", stages)
	}
	if v, _ := s.SecretString(ctx, arn); v != "v2" {
		t.Errorf("AWSCURRENT = %q", v)
	}
	if _, err := s.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: &arn, ClientRequestToken: &token, SecretString: aws.String("v3")}); err == nil {
		t.Error("changed the value of an existing version")
	}
	if _, err := s.RotateSecret(ctx, arn, "", func(context.Context, string, string, string) error { return errors.New("broken") }); err == nil {
		t.Fatal("a failing step did not fail the rotation")
	}
	if _, err := s.RotateSecret(ctx, arn, "", func(context.Context, string, string, string) error { return nil }); err == nil {
		t.Error("a rotation started while another holds AWSPENDING")
	}
}
