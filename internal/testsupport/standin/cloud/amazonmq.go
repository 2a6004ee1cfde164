package cloud

import (
	"slices"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// BrokerLogGroupName is the log group Amazon MQ publishes a broker's general logs to (Amazon MQ
// developer guide, "Configuring Amazon MQ for ActiveMQ logs", "Understanding the structure of
// logging in CloudWatch Logs": /aws/amazonmq/broker/<broker-id>/general).
func BrokerLogGroupName(brokerID string) string {
	return "/aws/amazonmq/broker/" + brokerID + "/general"
}

// AmazonMQ marks, in a log group's createdBy, the groups Amazon MQ made itself.
const AmazonMQ = "amazonmq"

// AddBrokerLogGroup is Amazon MQ creating a broker's general log group when its general logs
// are on (same page: Amazon MQ creates the group, with the caller's logs:CreateLogGroup, when
// the broker is created or rebooted). It sets no retention. A group of that name that already
// exists is used as it is.
func (st *State) AddBrokerLogGroup(brokerID string) {
	name := BrokerLogGroupName(brokerID)
	if st.Get(name) != nil {
		return
	}
	st.Resources[name] = &Resource{Type: TypeLogGroup, ID: name, Props: map[string]any{
		"name": name, "arn": "arn:aws:logs:" + simaccount.Region + ":" + simaccount.AccountID + ":log-group:" + name,
		"brokerId": brokerID, "createdBy": AmazonMQ,
	}}
}

// LeftByAmazonMQ lists the general log groups Amazon MQ made for brokers that have since been
// deleted: deleting a broker does not delete its log group, so a destroy leaves them.
func (st *State) LeftByAmazonMQ() []*Resource {
	var deleted []string
	for _, e := range st.Events {
		if e.Op == "delete" && e.Type == TypeBroker {
			deleted = append(deleted, e.ID)
		}
	}
	return st.Find(TypeLogGroup, func(r *Resource) bool {
		id := r.Str("brokerId")
		return r.Str("createdBy") == AmazonMQ && st.Get(id) == nil && slices.Contains(deleted, id)
	})
}
