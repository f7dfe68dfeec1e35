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
// Import rule: scenarios (and scenarios/specs), harness and reports packages;
// never fixtures (what the command needs of the reference stack, such as the
// SPA bundle check, goes through harness/embedded) and never suites. Nothing
// imports cmd.
package main
