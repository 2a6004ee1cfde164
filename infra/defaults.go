package infra

import "strconv"

// applyDefaults gives every key the stack did not set its schema default (as the CLI does),
// then resolves the automatic ones from the settings they depend on.
func (c *Config) applyDefaults() {
	for _, s := range settings() {
		if _, set := c.given[s.key]; !set && !s.required {
			_ = s.parse(c, s.schemaDefault)
		}
	}
	if c.InstanceType == automaticString {
		c.InstanceType = defaultInstanceType(c.DeploymentMode, c.EngineVersion)
	}
	if c.BrokerName == automaticString {
		c.BrokerName = truncate(ProjectName+"-"+c.Stack, maxBrokerName)
	}
	if w := c.MaxBatchingWindowSeconds; w != nil && *w == 0 {
		c.MaxBatchingWindowSeconds = nil
	}
}

// defaultInstanceType is the cheapest type Amazon MQ runs the engine and deployment mode on:
// RabbitMQ 4 runs only on mq.m7g (mq.m7g.medium is for testing, like mq.t3.micro for 3.13),
// and mq.t3.micro runs SINGLE_INSTANCE only.
func defaultInstanceType(mode DeploymentMode, engineVersion string) string {
	switch {
	case engineMajor(engineVersion) >= 4 && mode == ClusterMultiAZ:
		return "mq.m7g.large"
	case engineMajor(engineVersion) >= 4:
		return "mq.m7g.medium"
	case mode == ClusterMultiAZ:
		return "mq.m5.large"
	}
	return "mq.t3.micro"
}

// engineMajor is the major version of a valid engine version, 0 for an invalid one.
func engineMajor(version string) int {
	m := engineVersionRE.FindStringSubmatch(version)
	if len(m) != 3 {
		return 0
	}
	major, _ := strconv.Atoi(m[1])
	return major
}

const maxBrokerName = 50

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
