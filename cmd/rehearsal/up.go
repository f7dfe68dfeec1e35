package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"rehearsal/harness/config"
	"rehearsal/harness/embedded"
)

// upLine is the first line `rehearsal up` prints, for scripts.
type upLine struct {
	SPA     string            `json:"spa"`
	Issuer  string            `json:"issuer"`
	API     string            `json:"api"`
	Control map[string]string `json:"control"`
	Links   map[string]string `json:"links"`
	Toxi    string            `json:"toxiproxy"`
	Defects []string          `json:"defects"`
}

func upCmd() *cobra.Command {
	var (
		defectList []string
		jsonOnly   bool
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the reference stack (AS, API, SPA) on loopback and keep it running until Ctrl-C",
		Long: `Start the reference stack on 127.0.0.1 with free ports, every link going through
toxiproxy and the HTTP fault proxy, exactly as the suites run it. The first line printed is
JSON: {"spa","issuer","api","control":{"as","api","spa"},...}. Open the SPA URL in a browser and
sign in as alice / alice-password. Ctrl-C stops everything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := embedded.BundlePresent(); err != nil {
				return err
			}
			var logger *slog.Logger
			if verbose {
				logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
			}
			// As for the suites, REHEARSAL_DEFECTS names defects too.
			defects := config.SplitList(os.Getenv("REHEARSAL_DEFECTS"))
			for _, d := range defectList {
				defects = append(defects, config.SplitList(d)...)
			}
			st, err := embedded.Start(ctx, embedded.Options{Loopback: true, Defects: defects, Logger: logger})
			if err != nil {
				return err
			}
			defer st.Close(ctx)
			u := st.URLs()
			asCtl, apiCtl, spaCtl := st.ControlURLs()
			line := upLine{SPA: u.SPA, Issuer: u.Issuer, API: u.API,
				Control: map[string]string{"as": asCtl, "api": apiCtl, "spa": spaCtl},
				Links:   map[string]string{}, Toxi: st.Network().ToxiproxyURL(), Defects: defects}
			if line.Defects == nil {
				line.Defects = []string{}
			}
			for _, l := range st.Network().Links() {
				line.Links[l.Name()] = l.Addr()
			}
			b, _ := json.Marshal(line)
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			if !jsonOnly {
				fmt.Fprintf(cmd.OutOrStdout(), `
The reference stack is up.
  SPA      %s   (open it in a browser, click "Sign in")
  user     alice / alice-password   (or bob / bob-password)
  issuer   %s
  API      %s
  control  AS %s   API %s   SPA %s   (docs/control-api.md)
  toxiproxy API %s   (links: spa, as, api, jwks)
Examples:
  # expire access tokens: move both clocks, the AS's and the API's, past the lifetime
  curl -s -XPOST %s/clock/advance -d '{"by":"10m"}'; curl -s -XPOST %s/clock/advance -d '{"by":"10m"}'
  curl -s -XPOST %s/keys/rotate-now -d '{}'           # emergency key rotation
Press Ctrl-C to stop.
`, u.SPA, u.Issuer, u.API, asCtl, apiCtl, spaCtl, line.Toxi, asCtl, apiCtl, asCtl)
			}
			<-ctx.Done()
			stopCtx, cancel := contextWithTimeout(10 * time.Second)
			defer cancel()
			if err := st.Close(stopCtx); err != nil {
				return fmt.Errorf("stopping the stack: %w", err)
			}
			if !jsonOnly {
				fmt.Fprintln(cmd.ErrOrStderr(), "stopped.")
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&defectList, "defect", nil, "switch on a named defect (repeatable, or comma-separated; added to REHEARSAL_DEFECTS; names in docs/defects.md)")
	cmd.Flags().BoolVar(&jsonOnly, "json", false, "print only the JSON line")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every server's lines to stderr")
	return cmd
}
