package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit code for failures that have already been reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// zitadel/oidc announces each route it registers on the global logger;
	// a person running `rehearsal up` or `doctor` needs warnings, not that.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
