package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// interruptGrace is how long a child gets after SIGINT (Ginkgo runs its
// cleanup nodes: faults removed, browser and stack stopped) before its whole
// process group is killed.
const interruptGrace = 45 * time.Second

// runChild runs cmd in its own process group, bounded by ctx. When ctx ends
// (Ctrl-C, SIGTERM or the timeout) the group gets SIGINT, then SIGKILL after
// interruptGrace; after the child exits, whatever is left of its group is
// killed, so nothing keeps running. It returns the child's exit code (-1 if
// it did not start or was killed by a signal) and an error for anything but a
// plain non-zero exit.
func runChild(ctx context.Context, cmd *exec.Cmd) (int, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(interruptGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()
	err := cmd.Wait()
	close(done)
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group; ESRCH when none
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, ctxErr(ctx)
	case errors.As(err, &ee):
		if ctx.Err() != nil {
			return ee.ExitCode(), ctxErr(ctx)
		}
		return ee.ExitCode(), nil
	default:
		return -1, err
	}
}

func ctxErr(ctx context.Context) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out: %w", ctx.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return nil
}
