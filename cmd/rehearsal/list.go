package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"rehearsal/scenarios"
)

func init() { extraCommands = append(extraCommands, listCmd) }

func listCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [FILE|DIR...]",
		Short: "Print the scenario catalogue (or the scenarios in incident files)",
		Long: `Print one line per scenario: id, variant, status, title and the defects it catches.
With no arguments, the embedded catalogue; with files or directories, the incident
files in them (which must parse: see rehearsal validate).

--json prints an array of {id, variant, title, labels, catches, status}; variant is
"" for a row without variants and status is "ready" or "draft".`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var scs []*scenarios.Scenario
			var err error
			if len(args) == 0 {
				scs, err = scenarios.Catalogue()
			} else {
				scs, err = loadScenarioFiles(args)
			}
			if probs := scenarios.Problems(err); len(probs) > 0 {
				for _, p := range probs {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				return exitError{1}
			}
			if err != nil {
				return err
			}
			return writeList(cmd, scenarios.List(scs), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: an array of {id, variant, title, labels, catches, status}")
	return cmd
}

func writeList(cmd *cobra.Command, list []scenarios.Summary, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		entries := make([]listEntry, len(list))
		for i, s := range list {
			entries[i] = listEntry{ID: s.ID, Variant: s.Variant, Title: s.Title,
				Labels: s.Labels, Catches: s.Catches, Status: statusOf(s)}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVARIANT\tSTATUS\tTITLE\tCATCHES")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, orDash(s.Variant), statusOf(s), s.Title, orDash(strings.Join(s.Catches, ",")))
	}
	return tw.Flush()
}

// listEntry is one element of `list --json`: scenarios.Summary with the
// variant and status always present, so consumers need no defaults.
type listEntry struct {
	ID      string   `json:"id"`
	Variant string   `json:"variant"` // "" when the row has no variants
	Title   string   `json:"title"`
	Labels  []string `json:"labels"`
	Catches []string `json:"catches"`
	Status  string   `json:"status"` // "ready" or "draft"
}

func statusOf(s scenarios.Summary) string {
	if s.Status == "" {
		return scenarios.StatusReady
	}
	return s.Status
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
