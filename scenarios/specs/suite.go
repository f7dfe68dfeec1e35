package specs

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"rehearsal/harness/browser"
	"rehearsal/harness/config"
	"rehearsal/harness/embedded"
	"rehearsal/harness/pages"
	"rehearsal/harness/redact"
	"rehearsal/reports/ginkgoreport"
	"rehearsal/scenarios"
	"rehearsal/scenarios/run"
)

// Source picks the scenarios a suite runs, from the validated configuration.
type Source func(cfg *config.Config) ([]*scenarios.Scenario, error)

// Catalogue is the embedded catalogue.
func Catalogue(*config.Config) ([]*scenarios.Scenario, error) { return scenarios.Catalogue() }

// Incidents are the incident files named by REHEARSAL_SCENARIOS (files or
// directories). With none named, the suite has no specs.
func Incidents(cfg *config.Config) ([]*scenarios.Scenario, error) {
	var all []*scenarios.Scenario
	for _, p := range cfg.ScenarioDirs {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var scs []*scenarios.Scenario
		if fi.IsDir() {
			scs, err = scenarios.LoadDir(os.DirFS(p), ".")
			for _, sc := range scs {
				sc.Pos.File = filepath.Join(p, sc.Pos.File)
			}
		} else {
			scs, err = scenarios.ParseFile(p)
		}
		if err != nil {
			return nil, err
		}
		all = append(all, scs...)
	}
	return all, scenarios.Validate(all)
}

var _ fs.FS // LoadDir takes an fs.FS

// RunSuite is a suite's whole bootstrap: validate the configuration (every
// problem at once), declare the scenarios' specs, build the per-process
// environment in BeforeSuite, write the reports after the suite, run.
func RunSuite(t *testing.T, name string, raw *config.Raw, source Source) {
	RegisterFailHandler(Fail)
	if raw.Target == "embedded" {
		raw.KnownDefects = embedded.KnownDefects()
	}
	cfg, err := raw.Validate()
	if err != nil {
		t.Fatal(err)
	}
	scs, err := source(cfg)
	if err != nil {
		t.Fatalf("%s: cannot load scenarios:\n%v", name, err)
	}
	SetTimeoutScale(cfg.Timeouts.Scale)
	var env *run.Env
	Register(scs, Options{
		Env:         func() *run.Env { return env },
		EvidenceDir: func() string { return filepath.Join(cfg.OutDir, "evidence") },
		Repro:       func(sc *scenarios.Scenario) string { return reproCommand(name, cfg, sc) },
	})

	BeforeSuite(func(ctx SpecContext) {
		// zitadel's OP logs through slog's default logger; keep only warnings.
		slog.SetDefault(slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if len(scs) == 0 {
			return
		}
		st, err := embedded.Start(ctx, embedded.Options{Defects: cfg.Defects, ToxiproxyURL: cfg.ToxiproxyURL})
		Expect(err).NotTo(HaveOccurred(), "start the embedded reference stack")
		DeferCleanup(func(ctx SpecContext) {
			Expect(st.Close(ctx)).To(Succeed(), "stop the embedded reference stack")
		}, NodeTimeout(cfg.Timeouts.Stack))
		b, err := browser.Launch(ctx, browser.Options{ExecPath: cfg.Chromium, RemoteURL: cfg.BrowserURL, HostRules: st.HostRules()})
		Expect(err).NotTo(HaveOccurred(), "launch Chromium")
		DeferCleanup(func() { Expect(b.Close()).To(Succeed(), "close Chromium") })
		env = &run.Env{
			Target: st, Browser: b, UI: pages.New(nil), Timeouts: cfg.Timeouts, Redactor: redact.New(),
			Logf: func(format string, args ...any) { fmt.Fprintf(GinkgoWriter, format+"\n", args...) },
		}
	}, NodeTimeout(cfg.Timeouts.Stack))

	ReportAfterSuite(name+" reports", func(r Report) {
		dir := filepath.Join(cfg.OutDir, name)
		Expect(ginkgoreport.WriteAll(r, dir, ginkgoreport.Options{Title: "rehearsal " + name})).To(Succeed())
	})

	suiteCfg, reporterCfg := GinkgoConfiguration()
	if suiteCfg.Timeout == 0 || suiteCfg.Timeout > cfg.Timeouts.Spec*200 {
		suiteCfg.Timeout = cfg.Timeouts.Spec * 200
	}
	RunSpecs(t, "rehearsal "+name, suiteCfg, reporterCfg)
}

// reproCommand is the one line that reruns one scenario of this suite.
func reproCommand(suite string, cfg *config.Config, sc *scenarios.Scenario) string {
	seed := GinkgoRandomSeed()
	var env []string
	if len(cfg.Defects) > 0 {
		env = append(env, "REHEARSAL_DEFECTS="+strings.Join(cfg.Defects, ","))
	}
	// Settings that change what a rerun does travel with it.
	if cfg.Timeouts.Scale != 1 {
		env = append(env, "REHEARSAL_TIMEOUT_SCALE="+strconv.FormatFloat(cfg.Timeouts.Scale, 'g', -1, 64))
	}
	if cfg.ToxiproxyURL != "" {
		env = append(env, "REHEARSAL_TOXIPROXY_URL="+cfg.ToxiproxyURL)
	}
	if cfg.Target != "embedded" {
		env = append(env, "REHEARSAL_TARGET="+cfg.Target)
	}
	if suite == "incidents" && sc.Pos.File != "" {
		return strings.TrimSpace(strings.Join(env, " ") + fmt.Sprintf(" go run ./cmd/rehearsal run %s --seed=%d --focus=%q", sc.Pos.File, seed, sc.Key()))
	}
	return strings.TrimSpace(strings.Join(env, " ") + fmt.Sprintf(" go tool ginkgo --focus=%q --seed=%d ./suites/%s", FocusRegexp(sc), seed, suite))
}

var _ = context.Background
