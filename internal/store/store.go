// Package store defines the persistence contract of Parley. Each backend
// (sqlite/, postgres/) implements Store with its own SQL, and storetest/ is
// the conformance suite every backend must pass unchanged.
//
// Business rules do not live in a backend: visibility, sorting and paging of
// threads are computed once, in this package (thread.go), from the rows a
// backend returns. A backend keeps the invariants that need a transaction:
// per-page numbering, the approved-comment count, vote totals, one report per
// reader and comment, and the event log written with every change.
package store

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// Store is the persistence contract. Every method is safe for concurrent use.
// A use case that writes more than one row (its change, its audit entry,
// its events) writes them through Update, in one unit of work; the write
// methods of Store that Tx repeats are units of one operation, implemented
// by the same code.
// Methods return *parley.Error values with code ENotFound, EConflict or
// EInvalid as documented; anything else is an internal error (wrapped).
type Store interface {
	// Close releases the store's resources; in-flight writes are finished first.
	Close() error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	// Update runs fn as one unit of work: every write fn makes through tx
	// (rows, audit entries, events) commits together, or, when fn returns
	// an error or the commit fails, none does, and Update returns that
	// error. It returns the id of the newest event the unit recorded, 0
	// when it recorded none, for the caller to wait until this instance
	// has delivered it (read-your-writes).
	//
	// fn runs where the backend commits: on SQLite the single writer
	// goroutine, on PostgreSQL the instance's group-commit goroutine, in
	// a transaction shared with other callers' units. So
	// fn must be quick and must not block: no scoring, rendering or
	// network; the caller computes everything before. fn may be run more
	// than once (PostgreSQL runs a unit again when it lost a deadlock, and
	// runs a batch again, a savepoint per unit, when one of its units failed), so
	// it must hand results back only through variables that a second run
	// sets again; the values that tx methods assign (ids, numbers) are
	// meaningful only once Update has returned nil. tx is valid only until
	// fn returns and for fn's goroutine only.
	Update(ctx context.Context, fn func(tx Tx) error) (last int64, err error)

	// ConsumerPosition returns the id of the last event the durable
	// consumer name has consumed. ENotFound for a consumer never stored.
	ConsumerPosition(ctx context.Context, name string) (int64, error)
	// SetConsumerPosition stores the position of the durable consumer
	// name, creating it. While a consumer's position was stored within
	// ConsumerMaxAge, the backend's pruning of the event log keeps every
	// event after it; a consumer silent for longer no longer holds events
	// back. DeleteConsumer forgets one.
	SetConsumerPosition(ctx context.Context, name string, pos int64) error
	// DeleteConsumer forgets a durable consumer; an unknown one is no error.
	DeleteConsumer(ctx context.Context, name string) error

	// CreateSite stores a new site and records parley.EventSiteUpdated in
	// the same transaction, which tells every running instance to allow
	// the site's origins. EConflict if the id exists.
	CreateSite(ctx context.Context, s *parley.Site) error
	// UpdateSite replaces the site's fields (not its id or creation time)
	// and records parley.EventSiteUpdated in the same transaction, which
	// tells every instance to drop what it cached of the site. ENotFound.
	UpdateSite(ctx context.Context, s *parley.Site) error
	// Site returns one site. ENotFound.
	Site(ctx context.Context, id string) (*parley.Site, error)
	// Sites returns every site ordered by id.
	Sites(ctx context.Context) ([]*parley.Site, error)

	// EnsurePage returns the page of siteID with the canonical url, creating
	// it with the title when missing, and updating the title when title is
	// non-empty and differs. ENotFound when the site does not exist.
	EnsurePage(ctx context.Context, siteID, url, title string) (*parley.Page, error)
	// Page returns the page of siteID with the canonical url. ENotFound.
	Page(ctx context.Context, siteID, url string) (*parley.Page, error)
	// PageByID returns one page. ENotFound.
	PageByID(ctx context.Context, id int64) (*parley.Page, error)
	// UpdatePage stores the page's title, closed flag and policy. ENotFound.
	UpdatePage(ctx context.Context, p *parley.Page) error
	// Counts returns the approved-comment count of each of the canonical
	// urls of siteID that has a page; urls without a page are absent.
	Counts(ctx context.Context, siteID string, urls []string) (map[string]int, error)
	// Pages lists the pages of q.SiteID for moderators, newest activity
	// first (see PageActivity), then by id descending: at most q.Limit
	// (default 50), starting after q.After when it is set. q.Search, when
	// set, keeps the pages whose URL or title contains it, ignoring the
	// case of ASCII letters at least.
	Pages(ctx context.Context, q PageQuery) ([]PageActivity, error)
	// SetPageSettings stores a page's closed flag and policy override (not
	// its title) and returns the settings it replaced, read in the same
	// transaction. When they changed it records parley.EventPageUpdated
	// in that transaction; when they did not it records nothing. ENotFound.
	SetPageSettings(ctx context.Context, pageID int64, s PageSettings) (old PageSettings, err error)

	// CreateUser stores a new user. EConflict if the id exists.
	CreateUser(ctx context.Context, u *parley.User) error
	// UpdateUser stores the user's name, e-mail, role, site and ban. ENotFound.
	UpdateUser(ctx context.Context, u *parley.User) error
	// User returns one user. ENotFound.
	User(ctx context.Context, id string) (*parley.User, error)
	// Users returns the users with the ids, in one query, keyed by id, each
	// as User returns it. Unknown ids are absent and a repeated id is read
	// once; no ids give an empty map.
	Users(ctx context.Context, ids []string) (map[string]*parley.User, error)

	// CreateComment stores a new comment and assigns its ID, RootID, Number
	// (the page's next number: unique and increasing per page under any
	// number of concurrent writers, never reused) and Created (when zero).
	// The parent and quoted comment, when set, must be on the same page
	// (EInvalid otherwise); the page must exist (ENotFound). An approved
	// comment increments the page count. The events of
	// parley.StatusEvents(site, page, id, "", status) are recorded in the
	// same transaction.
	CreateComment(ctx context.Context, c *parley.Comment) error
	// Comment returns one comment. ENotFound.
	Comment(ctx context.Context, id int64) (*parley.Comment, error)
	// PageComments returns every comment of a page, in any status, ordered by
	// number. Thread (in this package) builds readers' views from it.
	PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error)
	// EditComment replaces a comment's text and HTML and sets Edited to at,
	// recording a comment.updated event. ENotFound.
	EditComment(ctx context.Context, id int64, text, html string, at time.Time) error
	// SetStatus changes a comment's status and reasons and returns the old
	// status; it keeps the page count right and records
	// parley.StatusEvents(site, page, id, old, status). When seen is true the
	// comment is marked as seen by a moderator, and its open reports are
	// resolved: upheld when status is rejected or deleted, dismissed when
	// approved. When the status stays the same but the comment newly
	// becomes seen or reports are resolved, queue.changed is recorded, as
	// the comment leaves a queue. ENotFound.
	SetStatus(ctx context.Context, id int64, status string, reasons []parley.Reason, seen bool) (old string, err error)
	// SetFeatured pins or unpins a comment, recording comment.updated. ENotFound.
	SetFeatured(ctx context.Context, id int64, featured bool) error

	// AddReport stores a report; a reader's repeated report of the same
	// comment is not stored again and returns created=false with no error.
	// ENotFound when the comment does not exist. Records queue.changed
	// when the report is created, nothing for a repeated one.
	AddReport(ctx context.Context, r *parley.Report) (created bool, err error)
	// Reports returns a comment's reports, oldest first.
	Reports(ctx context.Context, commentID int64) ([]*parley.Report, error)
	// PageReports returns the reports of every comment of a page, in any
	// status, in one query: keyed by comment id, each comment's reports
	// oldest first, as Reports returns them. Comments without reports are
	// absent; a page without reports, or no such page, gives an empty map.
	PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error)

	// Vote records a reader's vote (value 0 withdraws it), keeps the
	// comment's score equal to the sum of its votes, records
	// comment.updated when the score changed, and returns the new score.
	// ENotFound when the comment does not exist.
	Vote(ctx context.Context, v parley.Vote) (score int, err error)
	// Votes returns a reader's non-zero votes on a page's comments.
	Votes(ctx context.Context, pageID int64, userID string) (map[int64]int, error)

	// Activity counts a poster's recent comments, for flood control.
	Activity(ctx context.Context, q ActivityQuery) (Activity, error)
	// History summarises a reader's moderated comments, for trust.
	History(ctx context.Context, userID string, recent int) (History, error)
	// PostContext answers, together, the reads behind a new comment: the
	// page (EnsurePage), the poster's sanction on the site (Sanction),
	// their History and their Activity. The answer is what those calls
	// would give one after the other; a backend whose reads cost a round
	// trip each makes them in one (ReadPostContext makes them one by one).
	PostContext(ctx context.Context, q PostQuery) (PostContext, error)

	// Queue lists comments for moderators, with their reports. The work
	// queues (pending, reported, unmoderated) are ordered by priority:
	// the weight of the open reports (the sum of ReporterWeight over
	// their reporters' records), then toxicity, both descending, then the
	// oldest first; the approved and rejected queues newest first.
	// EInvalid for an unknown queue.
	Queue(ctx context.Context, q QueueQuery) ([]*QueueItem, error)

	// QueueCounts returns the number of comments in each queue of siteID
	// ("" for every site), keyed by queue name; every queue is present.
	QueueCounts(ctx context.Context, siteID string) (map[string]int, error)

	// SetPassword stores the password hash of a user (the service hashes;
	// the store never sees a password). ENotFound.
	SetPassword(ctx context.Context, userID, hash string) error
	// Credentials returns the moderator or admin whose e-mail address is
	// email, exactly as stored (the service stores addresses lower-cased),
	// with their password hash. ENotFound when no staff member has it. Two
	// staff members cannot share an address: CreateUser and UpdateUser
	// return EConflict.
	Credentials(ctx context.Context, email string) (*parley.User, string, error)
	// StaffUsers returns the moderators and admins ordered by e-mail.
	StaffUsers(ctx context.Context) ([]*parley.User, error)

	// CreateStaffSession stores a new moderator session. EConflict when
	// the token hash exists; ENotFound when the user does not.
	CreateStaffSession(ctx context.Context, s *StaffSession) error
	// StaffSession returns a session by its token hash, revoked and
	// expired ones included (the caller judges them). ENotFound.
	StaffSession(ctx context.Context, tokenHash string) (*StaffSession, error)
	// RevokeStaffSessions revokes the session with tokenHash, or when
	// tokenHash is "" every session of userID, and returns how many were
	// open. Revoking a revoked or unknown session is not an error.
	RevokeStaffSessions(ctx context.Context, userID, tokenHash string) (int, error)
	// PruneStaffSessions deletes the sessions that expired before the
	// time, and revoked ones, and returns how many it deleted.
	PruneStaffSessions(ctx context.Context, before time.Time) (int, error)

	// RevokeReaderSession records that the reader session whose cookie
	// hashes to tokenHash has ended (signed out, or signed in over); it is
	// kept until expires, when the cookie would expire anyway. Revoking it
	// again is not an error. ENotFound when the user does not exist.
	RevokeReaderSession(ctx context.Context, tokenHash, userID string, expires time.Time) error
	// SessionUser returns, in one read, for the reader session of every
	// request: the user id names, and whether RevokeReaderSession ended
	// the session whose cookie hashes to tokenHash. ENotFound.
	SessionUser(ctx context.Context, id, tokenHash string) (*parley.User, bool, error)
	// PruneReaderSessions deletes the revocations that expired before the
	// time and returns how many it deleted.
	PruneReaderSessions(ctx context.Context, before time.Time) (int, error)

	// Sanction returns a reader's sanction on a site: the zero Sanction
	// (with UserID and SiteID set) when they have none.
	Sanction(ctx context.Context, userID, siteID string) (Sanction, error)
	// SetSanction stores a reader's sanction on a site, replacing the
	// previous one. ENotFound when the user or the site does not exist.
	SetSanction(ctx context.Context, s Sanction) error

	// AddAction records a moderator action in the audit log and assigns
	// its ID and Created (when zero). Entries are never changed.
	AddAction(ctx context.Context, a *Action) error
	// Actions lists audit entries, newest first, of a comment, a user (as
	// the target), or a site, whichever fields of q are set (all must
	// match). EInvalid when none is set.
	Actions(ctx context.Context, q ActionQuery) ([]*Action, error)

	// AddNote stores a moderator's note on a reader and assigns its ID and
	// Created (when zero). ENotFound when the reader or site does not exist.
	AddNote(ctx context.Context, n *Note) error
	// Notes returns the notes on a reader for one site, newest first.
	Notes(ctx context.Context, userID, siteID string) ([]*Note, error)

	// ReporterRecords returns the report record of each of the readers
	// that exists, in one query; unknown ids are absent from the map.
	ReporterRecords(ctx context.Context, userIDs []string) (map[string]ReporterRecord, error)
	// ReportsAgainst returns the reports created at or after q.Since on
	// the comments of q.AuthorID or on the page q.PageID, oldest first,
	// at most 1,000. EInvalid unless exactly one of the two is set.
	ReportsAgainst(ctx context.Context, q ReportQuery) ([]*parley.Report, error)

	// EventsSince returns up to limit events with ID > after, oldest first.
	EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error)
	// LastEventID returns the newest event's ID, 0 when there is none.
	LastEventID(ctx context.Context) (int64, error)

	// Snapshot calls fn with a Reader whose reads all see one snapshot of
	// the database, taken when Snapshot is called: what commits afterwards
	// is not seen, however long fn takes, and writes through the store go
	// on meanwhile. The Reader is valid until fn returns and is for fn's
	// goroutine only. Snapshot returns fn's error as it is. A snapshot
	// holds a connection, and keeps the database from discarding the row
	// versions it sees, for as long as fn runs: it is for long,
	// consistent reads (an export), not for a request.
	Snapshot(ctx context.Context, fn func(r Reader) error) error

	// Import stores a batch of comments from another system and their
	// authors in one transaction (see ImportBatch): each comment is
	// numbered and counted like CreateComment, its source id recorded, and
	// a comment whose source id the site has imported before is left as it
	// is (Existing), so running an import again adds nothing. Every page
	// that received comments gets one parley.EventPageUpdated, and the site
	// one parley.EventQueueChanged when a comment is not approved, instead
	// of the events of each comment. ENotFound when a comment's page is
	// not a page of b.SiteID; EInvalid for an unknown status.
	Import(ctx context.Context, b *ImportBatch) (ImportResult, error)

	// Per-site tuned toxicity models (see SiteModel) and the moderator
	// decisions they are tuned on.

	// SaveSiteModel stores m as the current model of m.SiteID, replacing
	// the version m.Version (0 when the site has none yet), and records
	// parley.EventSiteModel in the same transaction, which tells every
	// instance to load it. On success m.Version is the new version (the
	// replaced one plus 1) and m.Created is set when zero. EConflict when
	// the site's current version is not m.Version (someone saved
	// meanwhile); ENotFound when the site does not exist.
	SaveSiteModel(ctx context.Context, m *SiteModel) error
	// SiteModel returns the current model of a site. ENotFound when the
	// site has none.
	SiteModel(ctx context.Context, siteID string) (*SiteModel, error)
	// SiteModelVersions returns the current version of every site's
	// model, keyed by site id; sites without a model are absent.
	SiteModelVersions(ctx context.Context) (map[string]int64, error)
	// Decisions returns, for each comment of q.SiteID with audit entries
	// whose action is one of q.Actions, the newest such entry's action,
	// with the comment's text and the text of the comment it quotes: the
	// q.Limit (default 1,000) comments decided most recently, ordered by
	// that entry, oldest first. EInvalid when q.Actions is empty.
	Decisions(ctx context.Context, q DecisionQuery) ([]Decision, error)

	// Single sign-on and reserved names (issue 11).

	// SiteSSO returns a site's single sign-on settings: the zero SiteSSO,
	// with SiteID set, when it has none. ENotFound when the site does not
	// exist.
	SiteSSO(ctx context.Context, siteID string) (parley.SiteSSO, error)
	// SetSiteSSO replaces a site's single sign-on settings (Updated set
	// when zero) and records parley.EventSiteUpdated in the same
	// transaction, which tells every instance to forget them. ENotFound.
	SetSiteSSO(ctx context.Context, s parley.SiteSSO) error
	// UseTokenID records that the SSO token with id jti of siteID was
	// used, until expires: EConflict when the id was recorded before and
	// had not expired at now (a replay), whichever instance recorded it.
	// ENotFound when the site does not exist.
	UseTokenID(ctx context.Context, siteID, jti string, expires, now time.Time) error
	// PruneTokenIDs deletes the token ids that expired before the time
	// and returns how many it deleted.
	PruneTokenIDs(ctx context.Context, before time.Time) (int, error)
	// UsersByRole returns the users with any of the roles, ordered by id;
	// no roles give none.
	UsersByRole(ctx context.Context, roles []string) ([]*parley.User, error)

	// Bans that stick (issue 14): see BanMark.

	// BanMarks returns the marks in force at now (Expires after now) of
	// siteID's bans and of the bans on every site (SiteID ""), oldest
	// first, at most limit (default and most 10,000).
	BanMarks(ctx context.Context, siteID string, now time.Time, limit int) ([]BanMark, error)
	// PruneBanMarks deletes the marks that expired before the time and
	// returns how many it deleted.
	PruneBanMarks(ctx context.Context, before time.Time) (int, error)
	// AuthorComments returns q.AuthorID's comments, in any status, created
	// at or after q.Since on the pages of q.SiteID (every site when ""),
	// newest first, at most q.Limit.
	AuthorComments(ctx context.Context, q AuthorQuery) ([]*parley.Comment, error)
	// SearchComments returns the comments of q.SiteID that match q, in
	// any status but deleted, newest first (see CommentSearch).
	SearchComments(ctx context.Context, q CommentSearch) ([]*parley.Comment, error)
	// Workload returns siteID's workload from since on (see SiteStats).
	Workload(ctx context.Context, siteID string, since time.Time) (SiteStats, error)

	// Idempotency returns the stored outcome of the write made with the
	// idempotency key (see Idempotency and Tx.SaveIdempotency). ENotFound.
	Idempotency(ctx context.Context, key []byte) (*Idempotency, error)
	// PruneIdempotency deletes the idempotency keys created before the
	// time and returns how many it deleted.
	PruneIdempotency(ctx context.Context, before time.Time) (int, error)
	// Webhooks (issue 12; see Webhook and Delivery).

	// CreateWebhook stores a new endpoint and assigns its ID and Created
	// (when zero). ENotFound when the site does not exist.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// Webhook returns one endpoint. ENotFound.
	Webhook(ctx context.Context, id int64) (*Webhook, error)
	// Webhooks returns the endpoints of siteID ("" for every site) by id.
	Webhooks(ctx context.Context, siteID string) ([]*Webhook, error)
	// DeleteWebhook deletes an endpoint and its deliveries. ENotFound.
	DeleteWebhook(ctx context.Context, id int64) error
	// Deliveries returns the deliveries of an endpoint, newest first, at
	// most limit (default 50).
	Deliveries(ctx context.Context, webhookID int64, limit int) ([]*Delivery, error)
	// ClaimDeliveries returns up to limit pending deliveries due at now
	// (NextAttempt at or before it), the oldest due first, ordered by id,
	// and sets their
	// NextAttempt to until in the same statement: no other caller, on any
	// instance, claims them again before until, and a sender that dies
	// with a claim leaves the delivery due again at until.
	ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*Delivery, error)
	// FinishDelivery stores the outcome of an attempt: Attempts plus one,
	// the state, the status, error and latency, and NextAttempt (pending)
	// or Finished (delivered or failed). ENotFound when the delivery is
	// gone (its endpoint was deleted).
	FinishDelivery(ctx context.Context, r DeliveryResult) error
	// PruneDeliveries deletes the deliveries that were delivered or given
	// up before the time (pending ones stay) and returns how many.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
	// The mail queue, notification settings and link tokens (mail.go).
	Mail
	// OpenID Connect sign-in (issue 11).

	// SiteOIDC returns a site's OpenID Connect settings: the zero
	// SiteOIDC, with SiteID set, when it has none. ENotFound when the
	// site does not exist.
	SiteOIDC(ctx context.Context, siteID string) (parley.SiteOIDC, error)
	// SetSiteOIDC replaces a site's OpenID Connect settings (Updated set
	// when zero) and records parley.EventSiteUpdated in the same
	// transaction. ENotFound.
	SetSiteOIDC(ctx context.Context, s parley.SiteOIDC) error
	// CreateOIDCLogin stores a sign-in in progress (Created set when
	// zero). EConflict when its key hash exists; ENotFound when its site
	// does not.
	CreateOIDCLogin(ctx context.Context, l *OIDCLogin) error
	// TakeOIDCLogin deletes the sign-in with the key hash and returns it:
	// each is taken once, by one caller on one instance. ENotFound when
	// there is none, or when it had expired at now (it is deleted all
	// the same).
	TakeOIDCLogin(ctx context.Context, keyHash string, now time.Time) (*OIDCLogin, error)
	// PruneOIDCLogins deletes the sign-ins that expired before the time
	// and returns how many it deleted.
	PruneOIDCLogins(ctx context.Context, before time.Time) (int, error)

	// A reader's own data (issue 11).

	// ReaderRows returns the rows about one user that the user tables do
	// not hold: every comment they wrote (any status, oldest first), their
	// votes, the reports they filed and their sanctions. ENotFound when
	// the user does not exist.
	ReaderRows(ctx context.Context, userID string) (*ReaderRows, error)
	// SiteErasure returns how a site treats the comments of a reader who
	// is erased: ErasureAnonymise (the default) or ErasureRemove.
	// ENotFound when the site does not exist.
	SiteErasure(ctx context.Context, siteID string) (string, error)
	// SetSiteErasure stores how a site treats an erased reader's
	// comments. ENotFound; EInvalid for an unknown mode.
	SetSiteErasure(ctx context.Context, siteID, mode string) error
}

// ReaderRows are the rows about one reader outside the users table.
type ReaderRows struct {
	Comments  []*parley.Comment
	Votes     []parley.Vote
	Reports   []*parley.Report
	Sanctions []Sanction
}

// How a site treats an erased reader's comments.
const (
	ErasureAnonymise = "anonymise" // kept, by "a former reader"
	ErasureRemove    = "remove"    // removed (status deleted, text gone)
)

// Erasure asks to erase a user (Tx.EraseUser).
type Erasure struct {
	UserID string
	// Name is the author name the kept comments show afterwards.
	Name string
	// RemoveSites are the sites whose comments by the user are removed;
	// on every other site they are kept, anonymised.
	RemoveSites map[string]bool
}

// Erased counts what an erasure changed.
type Erased struct {
	Removed, Anonymised, Votes, Reports int
	Sites                               []string // the sites whose comments changed, ordered
}

// OIDCLogin is an OpenID Connect sign-in in progress, or the one-time
// ticket it ended with. Its key is a hash of the secret the browser holds
// (the state, the ticket), so a copy of the database continues none.
type OIDCLogin struct {
	KeyHash  string
	SiteID   string
	Purpose  string // OIDCReader, OIDCModerator, OIDCTicket
	Binder   string // hash of the binding cookie of the browser that began it
	Nonce    string
	Verifier string // PKCE code verifier
	Origin   string // the embedding page's origin, for a reader
	UserID   string // a ticket's reader
	Created  time.Time
	Expires  time.Time
}

// Purposes of an OIDCLogin.
const (
	OIDCReader    = "reader"
	OIDCModerator = "moderator"
	OIDCTicket    = "ticket"
)

// Tx is the view of one unit of work (see Store.Update). Its write methods
// behave as the Store methods of the same name, except that nothing is
// committed until the unit is; its reads see the unit's own writes. It
// takes no context: the unit's is Update's.
type Tx interface {
	// Comment returns one comment as the unit sees it. ENotFound.
	Comment(id int64) (*parley.Comment, error)
	// User returns one user as the unit sees it, for a unit that changes
	// the user: UpdateUser writes every field, so a unit must start from
	// the row as it is inside the unit, not as read before it, or it undoes
	// what another unit changed meanwhile (a rename racing a ban). On
	// PostgreSQL it locks the row (FOR UPDATE) until the unit's batch
	// commits; SQLite's single writer serialises units already. ENotFound.
	User(id string) (*parley.User, error)

	CreateSite(s *parley.Site) error
	UpdateSite(s *parley.Site) error
	SetPageSettings(pageID int64, s PageSettings) (old PageSettings, err error)
	CreateUser(u *parley.User) error
	UpdateUser(u *parley.User) error
	CreateComment(c *parley.Comment) error
	EditComment(id int64, text, html string, at time.Time) error
	SetStatus(id int64, status string, reasons []parley.Reason, seen bool) (old string, err error)
	SetFeatured(id int64, featured bool) error
	AddReport(r *parley.Report) (created bool, err error)
	Vote(v parley.Vote) (score int, err error)
	SetSanction(s Sanction) error
	AddAction(a *Action) error
	AddNote(n *Note) error
	SetSiteSSO(s parley.SiteSSO) error
	// SetSiteErasure stores how a site treats an erased reader's
	// comments, in the unit (an admin's change and its audit entry
	// commit together). ENotFound; EInvalid for an unknown mode.
	SetSiteErasure(siteID, mode string) error
	// AddBanMarks stores marks, assigning their IDs and Created (when
	// zero). ENotFound when a mark's banned reader does not exist.
	AddBanMarks(ms []BanMark) error
	// EndBanMarks makes the marks of bannedID's ban on siteID ("": the
	// ban on every site) that are in force at at expire at at, and
	// returns how many it ended.
	EndBanMarks(siteID, bannedID string, at time.Time) (int, error)
	// SaveIdempotency stores the outcome of the unit's write under its
	// idempotency key (Created set when zero), committing with the
	// write. EConflict when the key is stored already (the unit must
	// then fail, so that the write is not made twice); ENotFound when the
	// site does not exist (SiteID "" names none).
	SaveIdempotency(r *Idempotency) error
	// AddDeliveries queues deliveries (State pending, NextAttempt and
	// Created set when zero) and assigns their IDs; a delivery of an event
	// already queued for the same endpoint is not stored again (its ID
	// stays 0), so a durable consumer that handles a batch of events twice
	// queues each once. It returns how many it stored. ENotFound when an
	// endpoint does not exist.
	AddDeliveries(ds ...*Delivery) (added int, err error)
	// CreateWebhook is Store.CreateWebhook in the unit (with its audit
	// entry). ENotFound when the site does not exist.
	CreateWebhook(w *Webhook) error
	// DeleteWebhook is Store.DeleteWebhook in the unit. ENotFound.
	DeleteWebhook(id int64) error
	// RetryDelivery queues a delivery that was given up (failed) again,
	// due at at: pending, no attempts, a new retry period from at (its
	// Created), its latest outcome kept until the next attempt. ENotFound
	// when webhookID has no such delivery, EConflict when it is not
	// failed.
	RetryDelivery(webhookID, id int64, at time.Time) error
	MailTx
	SetSiteOIDC(s parley.SiteOIDC) error
	// EraseUser removes a user and their personal data in the unit: each
	// of their comments loses its author id, IP hash and name (Name
	// instead) and, on e.RemoveSites, its text, becoming deleted (page
	// counts kept right); replies keep their place in the thread. Their
	// votes are withdrawn (scores kept right), their reports, notes,
	// sanctions, sessions and sign-ins deleted, and audit entries about
	// them keep what was done and when, not whom nor the moderator's
	// words (their note). The events of every changed comment are
	// recorded. ENotFound when the user does not exist.
	EraseUser(e Erasure) (Erased, error)

	// Record adds events of the use case's own to the log, after those
	// the unit's writes recorded.
	Record(evs ...parley.Event) error
}

// ConsumerMaxAge bounds how long the event log is kept for a durable
// consumer that stopped storing its position (see SetConsumerPosition).
const ConsumerMaxAge = 30 * 24 * time.Hour

// ActivityQuery asks how much a poster wrote recently.
type ActivityQuery struct {
	AuthorID  string
	IPHash    string    // "" to skip the per-IP count
	Since     time.Time // count comments created at or after Since
	Text      string    // look for this exact text by AuthorID ...
	TextSince time.Time // ... created at or after TextSince
	// Cap bounds the counts: when > 0 a count stops at Cap (enough to
	// compare with a flood limit without visiting a prolific poster's every
	// comment); when < 0 nothing is counted and only Duplicate is answered.
	Cap int
}

// Activity is the answer to an ActivityQuery.
type Activity struct {
	ByAuthor  int  // comments by AuthorID since Since
	ByIP      int  // comments from IPHash since Since
	Duplicate bool // AuthorID wrote Text since TextSince
}

// PostQuery asks for what the moderation of a new comment reads.
type PostQuery struct {
	SiteID, URL, Title string // the page, as EnsurePage takes it
	// UserID is the poster's user, "" for none: then the Sanction and
	// History are zero and not read.
	UserID   string
	Recent   int // statuses in History.Recent
	Activity ActivityQuery
}

// PostContext is the answer to a PostQuery.
type PostContext struct {
	Page     *parley.Page
	Sanction Sanction
	History  History
	Activity Activity
}

// PostReader is the part of Store that ReadPostContext uses.
type PostReader interface {
	EnsurePage(ctx context.Context, siteID, url, title string) (*parley.Page, error)
	Sanction(ctx context.Context, userID, siteID string) (Sanction, error)
	History(ctx context.Context, userID string, recent int) (History, error)
	Activity(ctx context.Context, q ActivityQuery) (Activity, error)
}

// ReadPostContext answers q with one call of r per read, for a backend
// whose reads are cheap one by one.
func ReadPostContext(ctx context.Context, r PostReader, q PostQuery) (PostContext, error) {
	var pc PostContext
	var err error
	if pc.Page, err = r.EnsurePage(ctx, q.SiteID, q.URL, q.Title); err != nil {
		return pc, err
	}
	if q.UserID != "" {
		if pc.Sanction, err = r.Sanction(ctx, q.UserID, q.SiteID); err != nil {
			return pc, err
		}
		if pc.History, err = r.History(ctx, q.UserID, q.Recent); err != nil {
			return pc, err
		}
	}
	pc.Activity, err = r.Activity(ctx, q.Activity)
	return pc, err
}

// History summarises a reader's comments for the trust rules.
type History struct {
	Approved      int      // comments currently approved
	Rejected      int      // comments currently rejected
	Pending       int      // comments currently pending
	ReportsUpheld int      // reports against the reader's comments that were upheld
	Recent        []string // statuses of their newest moderated comments (approved or rejected), newest first
}

// Queue names.
const (
	QueuePending  = "pending"  // held comments
	QueueReported = "reported" // comments with open reports, any status but deleted
	QueueRejected = "rejected"
	QueueApproved = "approved"    // recently approved
	QueueUnseen   = "unmoderated" // approved, never seen by a moderator
)

// QueueQuery selects a moderation queue.
type QueueQuery struct {
	SiteID   string // "" for every site
	Queue    string // one of the Queue names
	PageID   int64  // 0 for every page
	AuthorID string // "" for every author
	Limit    int    // default 50
	Offset   int
}

// QueueItem is one comment in a moderation queue.
type QueueItem struct {
	Comment      *parley.Comment
	Page         *parley.Page
	Reports      []*parley.Report // open reports, oldest first
	Reporters    int              // distinct readers with open reports
	ReportWeight float64          // the open reports' weight (see Queue)
}

// QueueNames lists every moderation queue.
var QueueNames = []string{QueuePending, QueueReported, QueueUnseen, QueueRejected, QueueApproved}

// ReporterWeight is how much a reader's report counts, from their record:
// the share of their decided reports that moderators upheld, smoothed so
// that a reader without decided reports weighs 0.5 and each outcome moves
// it gradually: (upheld+1)/(upheld+dismissed+2). Backends order the queues
// by the same formula in SQL.
func ReporterWeight(upheld, dismissed int) float64 {
	return float64(upheld+1) / float64(upheld+dismissed+2)
}

// StaffSession is a moderator's signed-in browser. Only a hash of the
// session token is stored, so a copy of the database opens no session.
type StaffSession struct {
	TokenHash string
	UserID    string
	Created   time.Time
	Expires   time.Time
	Revoked   bool
}

// Sanction is a moderator's restriction of one reader on one site; a ban
// on every site is parley.User.BannedUntil, which only an admin sets.
type Sanction struct {
	UserID         string
	SiteID         string
	SuspendedUntil time.Time // zero when not suspended; far future for a site ban
	Premoderated   bool      // every comment of the reader on the site is held
	Updated        time.Time
}

// Suspended reports whether the sanction forbids writing at time now.
func (s Sanction) Suspended(now time.Time) bool {
	return !s.SuspendedUntil.IsZero() && now.Before(s.SuspendedUntil)
}

// Action is one entry of the audit log: a moderator's action, what it
// targeted, and the changed fields before and after.
type Action struct {
	ID        int64
	ActorID   string // the staff user; "" for the admin token
	ActorName string // as the actor was named at the time
	Action    string // e.g. "approve", "reject", "feature", "suspend", "policy"
	CommentID int64  // 0 when the action is not on a comment
	UserID    string // the reader concerned (a comment's author), "" for none
	SiteID    string
	Note      string // the moderator's reason
	Before    []byte // JSON object of the changed fields before, nil for none
	After     []byte // JSON object of the changed fields after, nil for none
	Created   time.Time
}

// ActionQuery selects audit entries; set at least one of its filters.
type ActionQuery struct {
	CommentID int64
	UserID    string
	SiteID    string
	Limit     int // default 100
}

// Note is a moderator's note on a reader, visible to the moderators of its site.
type Note struct {
	ID         int64
	UserID     string // the reader
	SiteID     string
	AuthorID   string // the moderator; "" for the admin token
	AuthorName string
	Text       string
	Created    time.Time
}

// ReporterRecord is a reader's record as a reporter, and their age.
type ReporterRecord struct {
	Made      int // reports made
	Upheld    int // of them, upheld by a moderator
	Dismissed int // of them, dismissed
	Joined    time.Time
}

// Weight is ReporterWeight of the record.
func (r ReporterRecord) Weight() float64 { return ReporterWeight(r.Upheld, r.Dismissed) }

// ReportQuery selects recent reports against one author or one page.
type ReportQuery struct {
	AuthorID string
	PageID   int64
	Since    time.Time
}
