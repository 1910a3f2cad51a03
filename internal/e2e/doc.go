// Package e2e holds Parley's end-to-end tests: they build the real parley
// binary once, start it on a loopback port with a temporary data directory,
// and drive it the way readers, moderators and operators do — over HTTP, with
// SIGKILL, and with a headless Chromium on the demo page.
//
// The package has no code outside its tests.
package e2e
