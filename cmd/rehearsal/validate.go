package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rehearsal/scenarios"
)

func init() { extraCommands = append(extraCommands, validateCmd) }

func validateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check scenario files strictly without running them",
		Long: `Parse scenario files (directories are searched for *.yaml and *.yml) with the
same strict parser the suites use, and check that every id+variant appears once
across all of them. Every problem is printed as

  file:line: what was wrong; what was expected

Exit status: 0 when every file is valid, 1 when any problem was found, 2 when a
path cannot be read.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := loadScenarioFiles(args)
			if probs := scenarios.Problems(err); len(probs) > 0 {
				for _, p := range probs {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) found\n", len(probs))
				return exitError{1}
			}
			if err != nil {
				return err
			}
			files, _ := scenarioPaths(args)
			ready := 0
			for _, s := range scs {
				if s.Status != scenarios.StatusDraft {
					ready++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d scenario(s) in %d file(s), %d ready, %d draft\n",
				len(scs), len(files), ready, len(scs)-ready)
			return nil
		},
	}
}
