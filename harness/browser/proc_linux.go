//go:build linux

package browser

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// processAttrs puts Chromium in its own process group, so Close can kill it
// and every helper it forked at once, and asks the kernel to SIGKILL it when
// the thread that started it dies. chromedp starts the browser from a
// goroutine locked to its OS thread for the browser's whole life, so that
// thread dies exactly when this process dies (Ctrl-C, ginkgo's SIGKILL after
// its interrupt grace, a crash). Chromium's helpers notice the death of the
// main process through their IPC channels and exit on their own.
func processAttrs(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = new(syscall.SysProcAttr)
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// killProcessGroup SIGKILLs the process group led by pid, if any is left.
func killProcessGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// killUsing SIGKILLs every process whose command line holds
// --user-data-dir=dir, looking again until a few passes find nothing, since a
// helper can fork while the browser dies. The directory is unique to one
// Launch, so this never touches another browser.
func killUsing(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		if len(ProcessesUsing(dir)) == 0 {
			quiet++
		} else {
			quiet = 0
			for _, pid := range processesWithArg(want) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ProcessesUsing lists the live processes started with --user-data-dir=dir.
// Tests use it to prove that Close leaves nothing behind.
func ProcessesUsing(dir string) []int {
	return processesWithArg([]byte("--user-data-dir=" + dir))
}

func processesWithArg(want []byte) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if isZombie(e.Name()) {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// isZombie reports whether the process has exited but not been reaped; it
// holds no resources and cannot be killed again.
func isZombie(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
