package infra

import (
	"fmt"
	"regexp"
	"strconv"
)

// AlarmSettings are where the stack's alarms notify, and when they fire.
type AlarmSettings struct {
	// TopicArn is an SNS topic of the user's that the alarms notify; empty: the stack creates one.
	TopicArn string
	// Email subscribes an address to the stack's topic (the address confirms it); empty: none.
	Email string
	// Thresholds say when the alarms fire.
	Thresholds AlarmThresholds
}

// AlarmThresholds are the alarms' thresholds that the stack's settings choose.
type AlarmThresholds struct {
	// StalledMinutes is how many consecutive minutes without a consumer, or with the mapping
	// unhealthy, fire the "not consuming" alarm: 1-60 (alarmStalledMinutes).
	StalledMinutes int
	// BacklogMessages is the ready messages above which, for five minutes, the backlog alarm
	// fires: at least 1 (alarmBacklogMessages).
	BacklogMessages int
	// BrokerMemoryPercent is the share of RabbitMQ's memory limit above which the memory alarm
	// fires: 1-99 (alarmBrokerMemoryPercent). At 100 RabbitMQ blocks every publisher.
	BrokerMemoryPercent int
	// BrokerDiskFreeMultiple: the disk alarm fires when the free disk falls below this many
	// times RabbitMQ's free-disk limit, 1-100 (alarmBrokerDiskFreeMultiple). Below 1× RabbitMQ
	// blocks every publisher.
	BrokerDiskFreeMultiple int
}

var (
	// An SNS topic's ARN (Amazon SNS API reference, CreateTopic: a standard topic's name is 1-256
	// letters, digits, hyphens and underscores).
	snsTopicARNPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	// An address SNS can deliver to: one @ with something either side, a dot in the domain.
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
)

// problems checks the alarm settings, naming each key as the user writes it.
func (a AlarmSettings) problems() []*SettingError {
	var p []*SettingError
	bad := func(key, value, allowed string) {
		if allowed != "" {
			p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
		}
	}
	if a.TopicArn != "" && !snsTopicARNPattern.MatchString(a.TopicArn) {
		bad("alarmTopicArn", a.TopicArn, "must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account id>:<name> "+
			"(the name 1-256 letters, digits, '-' or '_'), e.g. arn:aws:sns:us-east-1:123456789012:ops-alerts; "+
			"or leave it unset and the stack creates a topic of its own")
	}
	if a.Email != "" && !emailPattern.MatchString(a.Email) {
		bad("alarmEmail", a.Email, "must be one e-mail address, e.g. ops@example.com (SNS sends it a confirmation first); or leave it unset")
	}
	t := a.Thresholds
	bad("alarmStalledMinutes", strconv.Itoa(t.StalledMinutes), rangeProblem(t.StalledMinutes, 1, 60, "minutes"))
	bad("alarmBacklogMessages", strconv.Itoa(t.BacklogMessages), rangeProblem(t.BacklogMessages, 1, 100_000_000, "messages"))
	bad("alarmBrokerMemoryPercent", strconv.Itoa(t.BrokerMemoryPercent), rangeProblem(t.BrokerMemoryPercent, 1, 99,
		"per cent of RabbitMQ's memory limit (at 100 RabbitMQ already blocks every publisher)"))
	bad("alarmBrokerDiskFreeMultiple", strconv.Itoa(t.BrokerDiskFreeMultiple), rangeProblem(t.BrokerDiskFreeMultiple, 1, 100,
		"times RabbitMQ's free-disk limit (below 1× RabbitMQ already blocks every publisher)"))
	return p
}

// rangeProblem says what is wrong with v outside [low, high], or "".
func rangeProblem(v, low, high int, unit string) string {
	if v < low || v > high {
		return fmt.Sprintf("must be a whole number from %d to %d (%s)", low, high, unit)
	}
	return ""
}
