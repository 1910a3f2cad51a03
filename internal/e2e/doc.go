// Package e2e holds Parley's end-to-end tests: they start Parley on a
// loopback port with a temporary data directory and drive it the way
// readers, moderators and operators do — over HTTP, with SIGKILL, and with a
// headless Chromium on the demo page.
//
// Parley runs in the test process (startServer: server.Open, Serve and
// Close, exactly what `parley serve` runs), unless the test is about the
// process: what survives a SIGKILL runs the real binary, built once, as a
// child (startProcess, through server.StartProcess, which `parley bench`
// uses too), and operators' commands such as `parley user add` run it too.
//
// The package has no code outside its tests.
package e2e
