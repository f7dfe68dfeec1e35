//go:build !linux

package browser

import "os/exec"

// processAttrs leaves the command as it is: Pdeathsig and the /proc scan
// exist only on Linux, the platform the suite runs on.
func processAttrs(*exec.Cmd) {}

func killProcessGroup(int) {}

func killUsing(string) {}

// ProcessesUsing is only implemented on Linux.
func ProcessesUsing(string) []int { return nil }
