package plan

import (
	"fmt"
	"regexp"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
)

// The README holds each option's diagram between these markers, in a mermaid code block.
func beginMarker(stack string) string { return "<!-- plan:diagram:" + stack + " -->" }
func endMarker(stack string) string   { return "<!-- /plan:diagram:" + stack + " -->" }

// DiagramBlock is the README text for one option's diagram, markers included.
func DiagramBlock(stack, mermaid string) string {
	return beginMarker(stack) + "\n```mermaid\n" + mermaid + "```\n" + endMarker(stack)
}

// ReplaceDiagram puts the diagram of stack into readme between its markers.
func ReplaceDiagram(readme, stack, mermaid string) (string, error) {
	re := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(beginMarker(stack)) + `.*?` + regexp.QuoteMeta(endMarker(stack)))
	if !re.MatchString(readme) {
		return "", fmt.Errorf("README has no %s ... %s block", beginMarker(stack), endMarker(stack))
	}
	block := DiagramBlock(stack, mermaid)
	return re.ReplaceAllLiteralString(readme, block), nil
}

// Diagrams puts every option's diagram, as the program in projectDir plans it, into readme.
func Diagrams(projectDir, readme string) (string, error) {
	for _, mode := range infra.ModeNames() {
		p, err := Make(projectDir, string(mode))
		if err != nil {
			return "", err
		}
		if readme, err = ReplaceDiagram(readme, string(mode), p.Mermaid); err != nil {
			return "", err
		}
	}
	return readme, nil
}
