// Package webhook tells a site's endpoints of what happens on the site:
// comment.created, comment.updated, comment.moderated, report.created,
// reader.banned and page.closed, as signed JSON posts (or Slack-compatible
// messages).
//
// Delivery runs from the outbox. Queue is a durable consumer of the event
// log (events.Broker.Durable, its position in the consumers table): for each
// batch of events it builds the bodies and queues one delivery per event and
// endpoint, in one unit of work, which the store keeps unique so a batch
// consumed twice (a crash before the position was stored) queues nothing
// twice. A Sender claims due deliveries with a lease, posts them through the
// guarded outbound client (internal/outbound: no loopback, private,
// link-local or metadata address unless the operator allows it, redirects
// checked again), and stores each attempt's outcome; a failed delivery is
// retried with exponential backoff for 24 hours or 25 attempts
// (Sender.MaxAttempts), whichever ends first, then failed: a dead letter in
// the endpoint's log that a site admin may queue again. A sender killed mid-post
// leaves its claims to lapse, and any instance takes them up again: a
// delivery may arrive twice, never not at all, and carries its id
// (Parley-Delivery) for the receiver to tell.
//
// Every post is signed as Stripe signs its webhooks: the header
//
//	Parley-Signature: t=1765108800,v1=5257a869e7ec…
//
// holds the Unix time of the attempt and the hex HMAC-SHA256, keyed with the
// endpoint's secret, of the time, a dot and the body. Verify checks it, and
// refuses a time outside the replay window (Tolerance).
package webhook
