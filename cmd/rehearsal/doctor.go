package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"rehearsal/harness/browser"
	"rehearsal/harness/config"
	"rehearsal/harness/embedded"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the suites (browser, SPA bundle, settings, stack)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			failed := 0
			check := func(name string, err error) {
				if err != nil {
					failed++
					fmt.Fprintf(out, "FAIL  %-14s %v\n", name, err)
					return
				}
				fmt.Fprintf(out, "ok    %s\n", name)
			}
			raw := config.FromEnv()
			if raw.Target == "embedded" {
				raw.KnownDefects = embedded.KnownDefects()
			}
			cfg, err := raw.Validate()
			check("settings", err)
			check("spa bundle", embedded.BundlePresent())
			_, err = exec.LookPath("xmllint")
			if err != nil {
				err = fmt.Errorf("xmllint not found (only the JUnit schema test needs it): apt-get install -y libxml2-utils")
			}
			check("xmllint", err)
			if cfg != nil {
				bctx, cancel := context.WithTimeout(ctx, cfg.Timeouts.Stack)
				b, err := browser.Launch(bctx, browser.Options{ExecPath: cfg.Chromium, RemoteURL: cfg.BrowserURL})
				if err == nil {
					err = b.Close()
				}
				cancel()
				check("browser", err)
				sctx, cancel := context.WithTimeout(ctx, cfg.Timeouts.Stack)
				st, err := embedded.Start(sctx, embedded.Options{Defects: cfg.Defects, ToxiproxyURL: cfg.ToxiproxyURL})
				if err == nil {
					err = st.Close(sctx)
				}
				cancel()
				check("embedded stack", err)
			}
			if failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
}
