package infra

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// brokerUser is one of the stack's broker users, as a setting (or an argument) names it.
type brokerUser struct {
	key, name, role string
}

// userPairProblems checks the administrator's and the job users' names: each a valid name,
// short enough for its rotation pair (<name>-clone), and no two pairs sharing a name. A job
// user named like the administrator would log in with the administrator's grant, and the
// rotation of one would change the other's password. problem is called once per bad name.
func userPairProblems(users []brokerUser, problem func(key, value, allowed string)) {
	for i, u := range users {
		if msg := usernameProblem(u.name); msg != "" {
			problem(u.key, u.name, msg)
			continue
		}
		if i > 0 && len(u.name)+len(contract.UserCloneSuffix) > 100 {
			problem(u.key, u.name, fmt.Sprintf("must leave room for its rotation pair %q: at most %d characters", u.name+contract.UserCloneSuffix, 100-len(contract.UserCloneSuffix)))
			continue
		}
		for _, other := range users[:i] {
			if shared := sharedPairName(u.name, other.name); shared != "" {
				problem(u.key, u.name, fmt.Sprintf("shares the name %q with the %s (%s %q) or its rotation pair (%s): each job logs in as users of its own; choose another name",
					shared, other.role, other.key, other.name, pairText(other.name)))
				break
			}
		}
	}
}

// pair is the two users rotation alternates between: name and name-clone.
func pair(name string) [2]string {
	base := strings.TrimSuffix(name, contract.UserCloneSuffix)
	return [2]string{base, base + contract.UserCloneSuffix}
}

func pairText(name string) string {
	p := pair(name)
	return p[0] + ", " + p[1]
}

// sharedPairName is a name both pairs hold, or "".
func sharedPairName(a, b string) string {
	for _, x := range pair(a) {
		for _, y := range pair(b) {
			if x == y {
				return x
			}
		}
	}
	return ""
}

// brokerUserProblems checks the settings that name the stack's broker users.
func brokerUserProblems(admin, mapping, deadLetter, monitor string) []*SettingError {
	var p []*SettingError
	userPairProblems([]brokerUser{
		{key: "adminUsername", name: admin, role: "administrator"},
		{key: "mappingUsername", name: mapping, role: "mapping's user"},
		{key: "deadLetterUsername", name: deadLetter, role: "dead-letter user"},
		{key: "monitorUsername", name: monitor, role: "monitor's user"},
	}, func(key, value, allowed string) {
		p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
	})
	return p
}

// Secrets Manager's schedule expressions (RotationRulesType, AWS Secrets Manager API
// reference: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html):
// "rate(12 hours)" or "rate(10 days)", "as often as every four hours"; days between rotations
// 1-1000 (AutomaticallyAfterDays' range, which DescribeSecret derives from the schedule); or a
// cron() expression of six fields; at most 256 characters of [0-9A-Za-z()#?*-/, ].
var (
	rateExpression     = regexp.MustCompile(`^rate\(([0-9]+) (hours?|days?)\)$`)
	cronExpression     = regexp.MustCompile(`^cron\(([^()]+)\)$`)
	scheduleCharacters = regexp.MustCompile(`^[0-9A-Za-z()#?*\-/, ]+$`)
)

const (
	minRotationHours = 4
	maxRotationDays  = 1000
)

// rotationScheduleProblem checks credentialRotation: off, or a schedule Secrets Manager takes.
func rotationScheduleProblem(schedule string) string {
	const allowed = "must be off (no rotation), rate(N days) with N from 1 to 1000, rate(N hours) with N of at least 4, or a cron() expression of six fields, " +
		"as Secrets Manager takes them (e.g. rate(30 days), rate(12 hours), cron(0 4 ? * SUN *))"
	if schedule == RotationOff {
		return ""
	}
	if len(schedule) > 256 || !scheduleCharacters.MatchString(schedule) {
		return allowed
	}
	if m := rateExpression.FindStringSubmatch(schedule); m != nil {
		n, err := strconv.Atoi(m[1])
		switch {
		case err != nil:
			return allowed
		case strings.HasPrefix(m[2], "hour") && n < minRotationHours:
			return fmt.Sprintf("rotates every %d hours: Secrets Manager rotates a secret at most every %d hours; "+allowed, n, minRotationHours)
		case strings.HasPrefix(m[2], "hour") && n > maxRotationDays*24, strings.HasPrefix(m[2], "day") && (n < 1 || n > maxRotationDays):
			return fmt.Sprintf("is outside Secrets Manager's range of 1 to %d days; "+allowed, maxRotationDays)
		}
		return ""
	}
	if m := cronExpression.FindStringSubmatch(schedule); len(m) == 2 && len(strings.Fields(m[1])) == 6 {
		return ""
	}
	return allowed
}
