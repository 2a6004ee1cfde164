package cloud

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EC2API serves the one EC2 action the deletion hooks call, DescribeNetworkInterfaces, over
// the EC2 query protocol the AWS SDKs speak, from the account. Point a program at it with
// AWS_ENDPOINT_URL_EC2. It refuses every other action and every filter it does not model, so
// a hook that starts asking something new fails loudly.
type EC2API struct {
	Store *Store

	mu    sync.Mutex
	calls []EC2Call
}

// EC2Call is one call as answered.
type EC2Call struct {
	Time time.Time
	// Action is DescribeNetworkInterfaces or DescribeSecurityGroups.
	Action  string
	Filters map[string][]string
	// Found are the ids of the interfaces returned.
	Found []string
}

// Calls returns the calls answered so far.
func (a *EC2API) Calls() []EC2Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

func (a *EC2API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		ec2Error(w, "MalformedQueryString", err.Error())
		return
	}
	switch action := r.Form.Get("Action"); action {
	case "DescribeNetworkInterfaces":
	case "DescribeSecurityGroups":
		a.describeSecurityGroups(w, r)
		return
	default:
		ec2Error(w, "UnsupportedOperation", fmt.Sprintf("the stand-in EC2 answers DescribeNetworkInterfaces and DescribeSecurityGroups only, not %q", action))
		return
	}
	if r.Form.Get("NetworkInterfaceId.1") != "" {
		ec2Error(w, "UnsupportedOperation", "the stand-in EC2 does not model NetworkInterfaceId look-ups")
		return
	}
	filters := queryFilters(r)
	for name := range filters {
		if !slices.Contains([]string{"description", "group-id", "subnet-id", "vpc-id", "interface-type", "status"}, name) {
			ec2Error(w, "InvalidParameterValue", fmt.Sprintf("the stand-in EC2 does not model the filter %q", name))
			return
		}
	}

	var found []*ENI
	err := a.Store.View(func(st *State) {
		for _, e := range st.LiveENIs(time.Now()) {
			if eniMatches(e, filters) {
				found = append(found, e)
			}
		}
	})
	if err != nil {
		ec2Error(w, "InternalError", err.Error())
		return
	}
	ids := make([]string, len(found))
	for i, e := range found {
		ids[i] = e.ID
	}
	a.mu.Lock()
	a.calls = append(a.calls, EC2Call{Time: time.Now(), Action: "DescribeNetworkInterfaces", Filters: filters, Found: ids})
	a.mu.Unlock()

	resp := describeNetworkInterfacesResponse{Xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: strconv.Itoa(len(ids))}
	for _, e := range found {
		item := eniItem{ID: e.ID, SubnetID: e.SubnetID, VpcID: e.VpcID, Description: e.Description, Status: "in-use",
			InterfaceType: e.InterfaceType, RequesterManaged: true, RequesterID: "AROAEXAMPLE:lambda"}
		if e.VanishAt != nil || e.Orphaned {
			item.Status = "available"
		}
		for _, g := range e.Groups {
			item.Groups = append(item.Groups, groupItem{ID: g})
		}
		resp.Interfaces = append(resp.Interfaces, item)
	}
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(resp)
}

// queryFilters reads Filter.N.Name and Filter.N.Value.M from a query.
func queryFilters(r *http.Request) map[string][]string {
	filters := map[string][]string{}
	for i := 1; ; i++ {
		name := r.Form.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			return filters
		}
		for j := 1; ; j++ {
			v := r.Form.Get(fmt.Sprintf("Filter.%d.Value.%d", i, j))
			if v == "" {
				break
			}
			filters[name] = append(filters[name], v)
		}
	}
}

// describeSecurityGroups answers look-ups by tag (tag:<key>), id and VPC.
func (a *EC2API) describeSecurityGroups(w http.ResponseWriter, r *http.Request) {
	filters := queryFilters(r)
	for name := range filters {
		if !strings.HasPrefix(name, "tag:") && name != "group-id" && name != "vpc-id" {
			ec2Error(w, "InvalidParameterValue", fmt.Sprintf("the stand-in EC2 does not model the filter %q", name))
			return
		}
	}
	resp := describeSecurityGroupsResponse{Xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: "standin"}
	err := a.Store.View(func(st *State) {
		for _, g := range st.Find(TypeSecurityGroup, nil) {
			tags, _ := g.Props["tags"].(map[string]any)
			ok := true
			for name, values := range filters {
				var have string
				switch name {
				case "group-id":
					have = g.ID
				case "vpc-id":
					have = g.Str("vpcId")
				default:
					have, _ = tags[strings.TrimPrefix(name, "tag:")].(string)
				}
				ok = ok && slices.Contains(values, have)
			}
			if ok {
				resp.Groups = append(resp.Groups, sgItem{ID: g.ID, Name: g.Str("name"), VpcID: g.Str("vpcId")})
			}
		}
	})
	if err != nil {
		ec2Error(w, "InternalError", err.Error())
		return
	}
	a.mu.Lock()
	a.calls = append(a.calls, EC2Call{Time: time.Now(), Action: "DescribeSecurityGroups", Filters: filters})
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(resp)
}

type describeSecurityGroupsResponse struct {
	XMLName   xml.Name `xml:"DescribeSecurityGroupsResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Groups    []sgItem `xml:"securityGroupInfo>item"`
}

type sgItem struct {
	ID    string `xml:"groupId"`
	Name  string `xml:"groupName"`
	VpcID string `xml:"vpcId"`
}

// eniMatches applies EC2's filter semantics: every filter must match, any of its values; a
// value may hold * and ? wildcards.
func eniMatches(e *ENI, filters map[string][]string) bool {
	status := "in-use"
	if e.VanishAt != nil || e.Orphaned {
		status = "available"
	}
	for name, values := range filters {
		var have []string
		switch name {
		case "description":
			have = []string{e.Description}
		case "group-id":
			have = e.Groups
		case "subnet-id":
			have = []string{e.SubnetID}
		case "vpc-id":
			have = []string{e.VpcID}
		case "interface-type":
			have = []string{e.InterfaceType}
		case "status":
			have = []string{status}
		}
		if !slices.ContainsFunc(values, func(pattern string) bool {
			return slices.ContainsFunc(have, func(h string) bool { ok, _ := path.Match(pattern, h); return ok })
		}) {
			return false
		}
	}
	return true
}

type describeNetworkInterfacesResponse struct {
	XMLName    xml.Name  `xml:"DescribeNetworkInterfacesResponse"`
	Xmlns      string    `xml:"xmlns,attr"`
	RequestID  string    `xml:"requestId"`
	Interfaces []eniItem `xml:"networkInterfaceSet>item"`
}

type eniItem struct {
	ID               string      `xml:"networkInterfaceId"`
	SubnetID         string      `xml:"subnetId"`
	VpcID            string      `xml:"vpcId"`
	Description      string      `xml:"description"`
	Status           string      `xml:"status"`
	InterfaceType    string      `xml:"interfaceType"`
	RequesterID      string      `xml:"requesterId"`
	RequesterManaged bool        `xml:"requesterManaged"`
	Groups           []groupItem `xml:"groupSet>item"`
}

type groupItem struct {
	ID string `xml:"groupId"`
}

func ec2Error(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = fmt.Fprintf(w, "<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>standin</RequestID></Response>",
		code, xmlEscape(message))
}

func xmlEscape(s string) string {
	var b []byte
	buf := xmlBuffer{&b}
	_ = xml.EscapeText(buf, []byte(s))
	return string(b)
}

type xmlBuffer struct{ b *[]byte }

func (x xmlBuffer) Write(p []byte) (int, error) { *x.b = append(*x.b, p...); return len(p), nil }
