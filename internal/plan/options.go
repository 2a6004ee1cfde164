package plan

import "github.com/rabbitmq-esm/rabbitmq-esm/infra"

// Options names the networking options in the docs' order, for the lists the Makefile, CI and
// the workflows would otherwise restate. With asShipped, only the options whose stack file
// deploys as it is: an option in the user's own VPC waits for their ids (existingvpc ships
// placeholders).
func Options(asShipped bool) []string {
	var names []string
	for _, mode := range infra.ModeNames() {
		if asShipped && infra.Options[mode].VPC == infra.VPCExisting {
			continue
		}
		names = append(names, string(mode))
	}
	return names
}
