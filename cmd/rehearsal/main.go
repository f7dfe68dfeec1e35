// Command rehearsal runs failure rehearsals for OAuth 2.0 / OpenID Connect
// systems and serves the reference stack by hand.
//
//	rehearsal up         start the reference stack and keep it running until Ctrl-C
//	rehearsal doctor     check this machine can run the suites
//	rehearsal list       print the scenario catalogue
//	rehearsal validate   check scenario files without running them
//	rehearsal run        run scenario files (incident files) against a target
//	rehearsal selfcheck  prove every named defect is caught by its rehearsals
//	rehearsal report     turn run reports into JUnit, HTML and a flake trend
//
// Import rule: cmd may import anything in this module; nothing imports cmd.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit code for failures that have already been reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "rehearsal",
		Short:         "Failure rehearsals for OAuth 2.0 / OpenID Connect systems",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(upCmd(), doctorCmd())
	for _, add := range extraCommands {
		root.AddCommand(add())
	}
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "rehearsal:", err)
		os.Exit(2)
	}
}

// extraCommands are registered by the other files of this package.
var extraCommands []func() *cobra.Command
