// Package config reads the suite's settings from flags and REHEARSAL_*
// environment variables, validates them up front and reports every problem at
// once, and owns the named timeouts (one scale factor for slow machines).
//
// Import rule: standard library only. Plain Go, no Ginkgo.
package config
