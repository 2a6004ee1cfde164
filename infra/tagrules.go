package infra

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
)

// The keys of the tags the program puts on every resource (stackTags), which user tags may
// not replace; nor the mapping's own (eniwait.GuardTags).
const (
	tagProject     = "project"
	tagStack       = "stack"
	tagNetworkMode = "networkMode"
)

var reservedTagKeys = []string{tagProject, tagStack, tagNetworkMode, eniwait.GuardGroupsTag, eniwait.GuardFunctionsTag}

const maxUserTags = 40 // AWS allows 50 per resource; the program adds its own and awsx adds Name

func tagProblems(tags map[string]string) []*SettingError {
	var p []*SettingError
	if len(tags) > maxUserTags {
		p = append(p, &SettingError{Key: "tags", Value: fmt.Sprintf("%d tags", len(tags)), Allowed: fmt.Sprintf("at most %d tags (AWS allows 50 per resource and the program adds its own)", maxUserTags)})
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "" || len(k) > 128:
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag keys must be 1-128 characters"})
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag keys must not start with aws: (reserved by AWS)"})
		case slices.Contains(reservedTagKeys, k):
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "is a tag the program sets itself (" + strings.Join(reservedTagKeys, ", ") +
				"): the deletion hooks find this stack's security groups and interfaces by them"})
		case len(tags[k]) > 256:
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag values must be at most 256 characters"})
		}
	}
	return p
}
