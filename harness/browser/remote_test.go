//go:build linux

package browser_test

import (
	"bufio"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"rehearsal/harness/browser"
)

// A browser that runs already (a remote pool) is reached by its DevTools URL;
// Close closes our tabs and leaves that browser running.
func TestRemoteBrowser(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(browser.DefaultExecPath, "--headless", "--no-sandbox", "--disable-gpu",
		"--remote-debugging-port=0", "--user-data-dir="+dir, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Debian's chromium-headless-shell is a shell wrapper that does not exec
	// the browser, so killing the wrapper alone would orphan Chromium: kill
	// the whole process group.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if ws, ok := strings.CutPrefix(sc.Text(), "DevTools listening on "); ok {
				found <- ws
				break
			}
		}
		for sc.Scan() { // keep the pipe drained
		}
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the remote browser printed no DevTools URL")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := browser.Launch(ctx, browser.Options{RemoteURL: wsURL, HostRules: map[string]string{"a:80": "b:1"}}); err == nil {
		t.Fatal("HostRules with a remote browser were accepted")
	}
	b, err := browser.Launch(ctx, browser.Options{RemoteURL: wsURL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tab().Navigate(ctx, rawURL+"/"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// The remote browser still serves a new client.
	b2, err := browser.Launch(ctx, browser.Options{RemoteURL: wsURL})
	if err != nil {
		t.Fatalf("the remote browser is gone after Close: %v", err)
	}
	if _, err := b2.NewSession(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
}
