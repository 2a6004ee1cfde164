package infra

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// The rules of Amazon MQ, Lambda, CloudWatch Logs and RabbitMQ on the values that the stack's
// settings and the components' arguments take. Each function says what is wrong with a value,
// or "": ParseConfig names the setting, a component its argument.

var (
	brokerNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)
	usernamePattern     = regexp.MustCompile(`^[A-Za-z0-9._-]{2,100}$`)
	instanceTypePattern = regexp.MustCompile(`^mq\.[a-z0-9]+\.[a-z0-9]+$`)
	engineVersionRE     = regexp.MustCompile(`^(\d+)\.(\d+)$`)
	// CloudWatch Logs accepts only these retention periods.
	logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

func brokerNameProblem(name string) string {
	if !brokerNamePattern.MatchString(name) {
		return "must be 1-50 letters, digits, '-' or '_'"
	}
	return ""
}

func usernameProblem(name string) string {
	switch {
	case !usernamePattern.MatchString(name):
		return "must be 2-100 letters, digits, '-', '.' or '_'"
	case strings.EqualFold(name, "guest"):
		return "is reserved by RabbitMQ; choose another name"
	}
	return ""
}

func deploymentModeProblem(mode DeploymentMode) string {
	if mode != SingleInstance && mode != ClusterMultiAZ {
		return "must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ"
	}
	return ""
}

func engineVersionProblem(version string) string {
	if m := engineVersionRE.FindStringSubmatch(version); len(m) != 3 || !atLeast(m[1], m[2], 3, 13) {
		return "must be a RabbitMQ major.minor version of 3.13 or later, such as 3.13 or 4.2: " +
			"Amazon MQ upgrades the patch version itself (autoMinorVersionUpgrade is always on)"
	}
	return ""
}

// instanceTypeProblem: Amazon MQ runs mq.t3.micro as a single instance only, and RabbitMQ 4 on
// mq.m7g only.
func instanceTypeProblem(instanceType string, mode DeploymentMode, engineVersion string) string {
	switch {
	case !instanceTypePattern.MatchString(instanceType):
		return "must be an Amazon MQ instance type such as mq.t3.micro, mq.m5.large or mq.m7g.large"
	case instanceType == "mq.t3.micro" && mode == ClusterMultiAZ:
		return "supports SINGLE_INSTANCE only; use mq.m5.large or larger for CLUSTER_MULTI_AZ (or deploy SINGLE_INSTANCE)"
	case engineMajor(engineVersion) >= 4 && !strings.HasPrefix(instanceType, "mq.m7g."):
		return fmt.Sprintf("cannot run RabbitMQ %s: Amazon MQ runs RabbitMQ 4 on mq.m7g instance types only "+
			"(mq.m7g.medium, mq.m7g.large, ...); choose one, or RabbitMQ 3.13", engineVersion)
	}
	return ""
}

func virtualHostProblem(vhost string) string {
	if len(vhost) == 0 || len(vhost) > 255 || strings.ContainsFunc(vhost, isControl) {
		return "must be 1-255 bytes without control characters (RabbitMQ's default virtual host is /)"
	}
	return ""
}

func batchSizeProblem(size int) string {
	return outside(size, 1, 10000, "must be a whole number from 1 to 10000 (the ESM's limit for Amazon MQ)")
}

// batchingWindowProblem: 0, like no window at all, leaves it to AWS.
func batchingWindowProblem(seconds int) string {
	return outside(seconds, 0, 300, "must be a whole number of seconds from 1 to 300, or 0 (the default) to leave it to AWS: 0.5 s for Amazon MQ")
}

func deliveryLimitProblem(limit int) string {
	return outside(limit, 1, 100, "must be a whole number of deliveries from 1 to 100 before a message is dead-lettered")
}

// outside is problem when n is not from low to high, else "".
func outside(n, low, high int, problem string) string {
	if n < low || n > high {
		return problem
	}
	return ""
}

func logRetentionProblem(days int) string {
	if !slices.Contains(logRetentionValues, days) {
		return "must be a retention CloudWatch Logs accepts: " + intList(logRetentionValues)
	}
	return ""
}

// serviceRouteProblem: a public broker's mapping polls from AWS's side; a private broker's
// interfaces have private addresses only.
func serviceRouteProblem(route ServiceRoute, private bool) string {
	switch {
	case !slices.Contains(contract.ServiceRoutes, route):
		return "must be " + contract.RouteList(contract.ServiceRoutes)
	case private && route == RouteAWSSide:
		return "is a public broker's; the interfaces of a private broker's mapping have private addresses only and reach " +
			"STS, Secrets Manager and Lambda through " + contract.RouteList(contract.PrivateRoutes)
	case !private && route != RouteAWSSide:
		return fmt.Sprintf("is a private broker's; a public broker's mapping polls from AWS's side: %s", RouteAWSSide)
	}
	return ""
}

func atLeast(major, minor string, wantMajor, wantMinor int) bool {
	ma, _ := strconv.Atoi(major)
	mi, _ := strconv.Atoi(minor)
	return ma > wantMajor || (ma == wantMajor && mi >= wantMinor)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func intList(values []int) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}
