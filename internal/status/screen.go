package status

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// printScreen writes the report as one screen: each section, then what needs attention and what
// could not be found out.
func printScreen(w io.Writer, r Report) {
	fmt.Fprintf(w, "stack %s: networkMode %s, region %s\n\n", r.Stack, r.NetworkMode, r.Region)

	fmt.Fprintln(w, "Mapping")
	if m := r.Mapping; m != nil {
		fmt.Fprintf(w, "  %-22s %s\n", "UUID", m.UUID)
		fmt.Fprintf(w, "  %-22s %s (last changed %s UTC)\n", "State", m.State, m.LastModified.UTC().Format(time.DateTime))
		fmt.Fprintf(w, "  %-22s %s\n", "StateTransitionReason", orNone(m.StateTransitionReason))
		fmt.Fprintf(w, "  %-22s %s\n", "LastProcessingResult", orNone(m.LastProcessingResult))
		v := m.Verdict
		if v.Healthy {
			fmt.Fprintf(w, "  %-22s healthy: %s\n", "verdict", v.Meaning)
		} else {
			fmt.Fprintf(w, "  %-22s NEEDS ATTENTION (%s %s)\n", "verdict", v.Field, v.Value)
			fmt.Fprintf(w, "  %-22s %s\n", "meaning", v.Meaning)
			fmt.Fprintf(w, "  %-22s %s\n", "cause", v.Cause)
			fmt.Fprintf(w, "  %-22s %s\n", "fix", v.Fix)
			if v.Source != "" {
				fmt.Fprintf(w, "  %-22s %s\n", "source", v.Source)
			}
		}
	} else {
		fmt.Fprintln(w, "  unknown: GetEventSourceMapping failed (below)")
	}
	if d := r.Diagnosis; d != nil {
		fmt.Fprintln(w, "  the deploy-time diagnosis of the mapping's path (the stack's diagnosis output):")
		for _, c := range d.Checks {
			where := c.Address
			if c.Private {
				where += " (private)"
			}
			if c.OK {
				fmt.Fprintf(w, "    %-15s ok      %s\n", c.Name, where)
			} else {
				fmt.Fprintf(w, "    %-15s FAILED  %s\n", c.Name, strings.TrimSuffix(c.Detail+" — "+c.Hint, " — "))
			}
		}
	}

	fmt.Fprintln(w)
	if q := r.Queue; q != nil {
		fmt.Fprintf(w, "Queue %s, virtual host %s\n", q.Queue, q.VirtualHost)
		if q.Silent {
			fmt.Fprintf(w, "  the monitor is silent: no %s in the last %s\n", contract.MetricMonitorErrors, metricsWindow)
		}
		if !q.Latest.IsZero() {
			fmt.Fprintf(w, "  the monitor's figures of %s UTC, %s old\n", q.Latest.UTC().Format(time.TimeOnly), time.Duration(q.AgeSeconds)*time.Second)
			f := func(name string) string {
				if v := q.Figures[name]; v != nil {
					return fmt.Sprintf("%g", *v)
				}
				return "—"
			}
			fmt.Fprintf(w, "  ready %s  unacked %s  consumers %s  published %s/s  delivered %s/s\n",
				f(contract.MetricQueueReady), f(contract.MetricQueueUnacked), f(contract.MetricQueueConsumers),
				f(contract.MetricQueuePublishRate), f(contract.MetricQueueDeliverRate))
			fmt.Fprintf(w, "  dead letters (%s) %s\n", q.DeadLetterQueue, f(contract.MetricDeadLetterReady))
			fmt.Fprintf(w, "  MappingHealthy %s  MonitorErrors %s\n", f(contract.MetricMappingHealthy), f(contract.MetricMonitorErrors))
		}
		if q.DashboardName != "" {
			fmt.Fprintf(w, "  dashboard: %s\n", q.DashboardName)
		}
	} else {
		fmt.Fprintln(w, "Queue: unknown, GetMetricData failed (below)")
	}

	fmt.Fprintln(w)
	switch a := r.Alarms; {
	case a == nil && slices.ContainsFunc(r.Unknown, func(u string) bool { return strings.HasPrefix(u, "cloudwatch DescribeAlarms") }):
		fmt.Fprintln(w, "Alarms: unknown, DescribeAlarms failed (below)")
	case a == nil:
		fmt.Fprintln(w, "Alarms: the stack has no alarmNames output (deployed before its alarms: make up adds them)")
	case len(a.Firing) == 0:
		fmt.Fprintf(w, "Alarms: none of %d in ALARM\n", a.Watched)
	default:
		fmt.Fprintf(w, "Alarms: %d of %d in ALARM\n", len(a.Firing), a.Watched)
		for _, f := range a.Firing {
			fmt.Fprintf(w, "  %s since %s: %s\n", f.Name, f.Since.UTC().Format(time.DateTime), f.Reason)
		}
	}

	fmt.Fprintln(w)
	switch l := r.Listener; {
	case l == nil:
		fmt.Fprintln(w, "Listener errors: unknown, FilterLogEvents failed (below)")
	case l.Count == 0:
		fmt.Fprintf(w, "Listener errors (%s, last %s): none\n", l.LogGroup, logsWindow)
	default:
		fmt.Fprintf(w, "Listener errors (%s, last %s): %d, the last %d:\n", l.LogGroup, logsWindow, l.Count, len(l.Last))
		for _, line := range l.Last {
			fmt.Fprintf(w, "  %s %s\n", line.Time.Format(time.TimeOnly), line.Message)
		}
	}

	fmt.Fprintln(w)
	if len(r.Attention) > 0 {
		fmt.Fprintln(w, "Needs attention:")
		for _, a := range r.Attention {
			fmt.Fprintln(w, "  - "+a)
		}
	}
	if len(r.Unknown) > 0 {
		fmt.Fprintln(w, "Could not find out (the call and its error):")
		for _, u := range r.Unknown {
			fmt.Fprintln(w, "  - "+u)
		}
	}
	if len(r.Attention) == 0 && len(r.Unknown) == 0 {
		fmt.Fprintln(w, "All good.")
	}
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
