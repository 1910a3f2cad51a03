package service

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
)

// ImportOptions says where an import goes and how.
type ImportOptions struct {
	SiteID string
	Source string // the format (importer.Formats), kept with every comment
	// Moderate runs the site's moderation pipeline on imported comments
	// that the source had approved, and holds or rejects what it would.
	// Without it imported comments keep the status the old system gave
	// them: they were moderated there.
	Moderate bool
	// BatchSize is how many comments go to the store in one transaction;
	// default 1,000.
	BatchSize int
	// TempDir holds the spool file of prepared comments (default os.TempDir).
	TempDir string
}

// ImportReport tells what an import did.
type ImportReport struct {
	Source       string
	Pages        int            // pages that received comments, or settings (Parley's own export)
	Read         int            // comments read from the export
	Imported     int            // comments stored
	Existing     int            // comments imported by an earlier run, left as they were
	Skipped      map[string]int // comments not stored, by reason
	ByStatus     map[string]int // comments stored, by Parley status
	Held         int            // held or rejected by the site's pipeline (Moderate)
	Truncated    int            // comments cut to MaxTextBytes
	UsersCreated int
	Warnings     []string // the first maxWarnings warnings
	WarningCount int
	Elapsed      time.Duration
}

const maxWarnings = 50

func (r *ImportReport) warn(format string, args ...any) {
	r.WarningCount++
	if len(r.Warnings) < maxWarnings {
		r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
	}
}

func (r *ImportReport) skip(reason string) { r.Skipped[reason]++ }

// importPage is a page of the export.
type importPage struct {
	key, url, title string
	closed, deleted bool
	bad             bool   // its URL is not an article URL
	policy          []byte // its policy override, checked against the site's policy; nil for none
	page            *parley.Page
}

// importEntry is what an import keeps in memory of each comment (about a
// hundred bytes); the rest waits in the spool file until its batch.
type importEntry struct {
	src, parentSrc, quoteSrc string
	parent                   int32 // index of the parent in this export, -1 for none
	page                     int32
	status                   string
	created                  int64 // Unix nanoseconds
	off                      int64 // in the spool
	n                        int32
	replies                  bool
	state                    uint8 // entryPending, entrySkipped, entryQueued
}

const (
	entryPending = iota
	entrySkipped
	entryQueued
)

// spooled is a comment prepared for storing, kept in the spool file.
type spooled struct {
	Text      string
	Name      string
	AuthorKey string
	Email     string
	Edited    time.Time
	Score     int
	Featured  bool
	Toxicity  float64
	Reasons   []importer.Reason
	Reports   []importer.Report
	Truncated bool
}

// Import stores the comments an export holds on a site. It reads the
// export once, converting each comment (HTML to markdown, names and
// e-mail addresses cleaned, text capped at MaxTextBytes) into a spool file
// and keeping only a small index in memory; then it writes the comments
// page by page in the order they were written, a parent before its
// replies, in batches of one transaction each (store.Import), so each page
// is numbered chronologically. Stored HTML is always rendered here from
// the markdown: imported HTML is never stored.
//
// Statuses: approved and pending are kept; spam is stored as rejected; a
// deleted comment is stored as a placeholder when it has replies and
// skipped when not (Parley's own export keeps every comment as it was).
// A reply to a spam comment, or to one that is not in the export nor
// imported before, becomes a top-level comment. Running the same import
// again stores nothing new.
func (s *Service) Import(ctx context.Context, rd importer.Reader, opt ImportOptions) (*ImportReport, error) {
	start := time.Now()
	rep := &ImportReport{Source: opt.Source, Skipped: map[string]int{}, ByStatus: map[string]int{}}
	if opt.Source == "" {
		return nil, parley.Errorf(parley.EInvalid, "an import needs its source")
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	site, err := s.store.Site(ctx, opt.SiteID)
	if err != nil {
		return nil, err
	}
	spool, err := os.CreateTemp(opt.TempDir, "parley-import-*")
	if err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()

	im := &importRun{s: s, site: site, opt: opt, rep: rep, spool: spool, pageIdx: map[string]int32{}, byID: map[string]int32{}}
	if err := im.read(ctx, rd); err != nil {
		return rep, err
	}
	if err := im.write(ctx); err != nil {
		im.wait() // the batch in flight, if any, finishes before the spool goes
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// importRun is one import in progress.
type importRun struct {
	s     *Service
	site  *parley.Site
	opt   ImportOptions
	rep   *ImportReport
	spool *os.File

	pages   []*importPage
	pageIdx map[string]int32
	entries []importEntry
	byID    map[string]int32

	users    map[string]bool // user ids created or found in this run
	batch    *store.ImportBatch
	inflight chan batchResult // the batch being stored, nil when none
	// reports waiting for their comment's batch (Parley's own export)
	reports map[*store.ImportedComment][]importer.Report
}

// page returns the index of the page with the key, adding a placeholder
// for a page the export has not announced (yet).
func (im *importRun) page(key string) int32 {
	if i, ok := im.pageIdx[key]; ok {
		return i
	}
	i := int32(len(im.pages))
	im.pages = append(im.pages, &importPage{key: key})
	im.pageIdx[key] = i
	return i
}

// read reads the export into the spool and the index.
func (im *importRun) read(ctx context.Context, rd importer.Reader) error {
	w := bufio.NewWriterSize(im.spool, 1<<20)
	var off int64
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := rd.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch {
		case rec.Warning != "":
			im.rep.warn("%s", rec.Warning)
		case rec.Page != nil:
			p := im.pages[im.page(rec.Page.Key)]
			if rec.Page.URL != "" && p.url == "" && !p.bad {
				u, err := parley.CanonicalURL(rec.Page.URL, im.site.IgnoreParams)
				if err != nil {
					p.bad = true
					im.rep.warn("page %q: %s", rec.Page.URL, parley.ErrorMessage(err))
				}
				p.url = u
			}
			if t := cleanTitle(rec.Page.Title); t != "" {
				p.title = t
				if t != strings.Join(strings.Fields(strings.ToValidUTF8(rec.Page.Title, "")), " ") {
					im.rep.warn("page %q: its title was cut to %d characters", rec.Page.URL, MaxTitle)
				}
			}
			p.closed = p.closed || rec.Page.Closed
			p.deleted = p.deleted || rec.Page.Deleted
			if len(rec.Page.Policy) > 0 {
				if err := im.pagePolicy(p, rec.Page); err != nil {
					return err
				}
			}
		case rec.Comment != nil:
			im.rep.Read++
			c := rec.Comment
			if _, dup := im.byID[c.ID]; dup {
				im.rep.skip("the same id twice in the export")
				continue
			}
			e := importEntry{src: c.ID, parentSrc: c.ParentID, quoteSrc: c.QuoteID, parent: -1,
				page: im.page(c.PageKey), status: c.Status, off: off}
			if !c.Created.IsZero() {
				e.created = c.Created.UnixNano()
			}
			sp := im.prepare(c)
			if sp.Text == "" && c.Status != importer.StatusDeleted {
				im.rep.skip("no text")
				e.state = entrySkipped
			}
			b, err := json.Marshal(sp)
			if err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("import spool: %w", err)
			}
			e.n = int32(len(b))
			off += int64(len(b))
			im.byID[c.ID] = int32(len(im.entries))
			im.entries = append(im.entries, e)
		}
	}
	return w.Flush()
}

// pagePolicy keeps the policy override of a page of the export when it is
// one this site can apply: read as strictly as "parley page policy --set"
// reads one, and checked against the site's policy as UpdatePage checks
// it. An override that is not is left out with a warning; the page and
// its comments are imported without it.
func (im *importRun) pagePolicy(p *importPage, src *importer.Page) error {
	var o moderation.PolicyOverride
	dec := json.NewDecoder(bytes.NewReader(src.Policy))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil || dec.More() {
		why := "more than one JSON value"
		if err != nil {
			why = err.Error()
		}
		im.rep.warn("page %q: its policy override was not imported: it is not a policy override this version knows: %s", src.URL, why)
		return nil
	}
	b, err := checkOverride(im.site, o)
	if parley.ErrorCode(err) == parley.EInvalid {
		im.rep.warn("page %q: its policy override was not imported: %s", src.URL, parley.ErrorMessage(err))
		return nil
	} else if err != nil {
		return fmt.Errorf("page %q: %w", src.URL, err)
	}
	p.policy = b
	return nil
}

// prepare converts a comment as the source has it into what Parley stores.
func (im *importRun) prepare(c *importer.Comment) *spooled {
	text := c.Body
	if c.HTML {
		text = importer.Markdown(text)
	}
	text, cut := cleanImportedText(text)
	sp := &spooled{Text: text, Name: cleanImportedName(c.Author.Name), Email: importedEmail(c.Author.Email),
		Edited: c.Edited, Score: c.Score, Featured: c.Featured, Toxicity: c.Toxicity, Reasons: c.Reasons,
		Reports: c.Reports, Truncated: cut || c.Truncated}
	sp.AuthorKey = authorKey(c.Author)
	if utf8.RuneCountInString(strings.Join(strings.Fields(c.Author.Name), " ")) > MaxNameRunes {
		im.rep.warn("comment %s: its author's name was cut to %d characters", c.ID, MaxNameRunes)
	}
	if sp.Truncated {
		im.rep.Truncated++
		im.rep.warn("comment %s was cut to %d bytes", c.ID, MaxTextBytes)
	}
	if c.Created.IsZero() {
		im.rep.warn("comment %s has no valid time: given the time of the import", c.ID)
	}
	return sp
}

// write stores the comments: page by page, oldest first, a parent before
// its replies.
func (im *importRun) write(ctx context.Context) error {
	keepDeleted := im.opt.Source == importer.FormatParley
	for i := range im.entries {
		e := &im.entries[i]
		if p, ok := im.byID[e.parentSrc]; ok && e.parentSrc != "" {
			e.parent = p
			im.entries[p].replies = true
		}
	}
	order := make([]int32, 0, len(im.entries))
	now := time.Now().UnixNano()
	for i := range im.entries {
		e := &im.entries[i]
		if e.created == 0 {
			e.created = now
		}
		p := im.pages[e.page]
		switch {
		case e.state == entrySkipped:
			continue
		case p.url == "" || p.bad:
			im.rep.skip("no page with a valid URL")
		case p.deleted:
			im.rep.skip("its page was deleted on the source")
		case e.status == importer.StatusDeleted && !e.replies && !keepDeleted:
			im.rep.skip("deleted, without replies")
		default:
			order = append(order, int32(i))
			continue
		}
		e.state = entrySkipped
	}
	// A reply to spam, to a skipped comment or to one on another page
	// becomes top-level; one to a comment not in the export may find it
	// among earlier imports.
	for _, i := range order {
		e := &im.entries[i]
		if e.parent < 0 {
			continue
		}
		p := &im.entries[e.parent]
		if p.status == importer.StatusSpam || p.state == entrySkipped || p.page != e.page {
			e.parent, e.parentSrc = -1, ""
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		ea, eb := &im.entries[a], &im.entries[b]
		return cmp.Or(cmp.Compare(ea.page, eb.page), cmp.Compare(ea.created, eb.created))
	})

	im.users = map[string]bool{}
	im.reports = map[*store.ImportedComment][]importer.Report{}
	im.batch = &store.ImportBatch{SiteID: im.site.ID}
	waiting := map[int32][]int32{}
	var queue func(i int32) error
	queue = func(i int32) error {
		if err := im.add(ctx, i); err != nil {
			return err
		}
		ws := waiting[i]
		delete(waiting, i)
		for _, w := range ws {
			if err := queue(w); err != nil {
				return err
			}
		}
		return nil
	}
	for _, i := range order {
		e := &im.entries[i]
		if e.parent >= 0 && im.entries[e.parent].state != entryQueued {
			waiting[e.parent] = append(waiting[e.parent], i) // a reply dated before its parent
			continue
		}
		if err := queue(i); err != nil {
			return err
		}
	}
	// What still waits is in a cycle of parents: make its first top-level.
	for len(waiting) > 0 {
		var first int32 = -1
		for p, ws := range waiting {
			if len(ws) > 0 && (first < 0 || ws[0] < first) {
				first = ws[0]
			}
			_ = p
		}
		for p, ws := range waiting {
			waiting[p] = slices.DeleteFunc(ws, func(w int32) bool { return w == first })
			if len(waiting[p]) == 0 {
				delete(waiting, p)
			}
		}
		e := &im.entries[first]
		e.parent, e.parentSrc = -1, ""
		im.rep.warn("comment %s is in a cycle of replies: made top-level", e.src)
		if err := queue(first); err != nil {
			return err
		}
	}
	if err := im.flush(ctx); err != nil {
		return err
	}
	if err := im.wait(); err != nil {
		return err
	}
	// Parley's own export also lists the pages a moderator closed or gave
	// an override before anyone commented: they are made with their
	// settings. (Other sources' threads without comments are not made.)
	if im.opt.Source == importer.FormatParley {
		for _, p := range im.pages {
			if p.page == nil && p.url != "" && !p.bad && !p.deleted && (p.closed || len(p.policy) > 0) {
				if err := im.ensurePage(ctx, p); err != nil {
					return err
				}
			}
		}
	}
	for _, p := range im.pages {
		if p.page != nil {
			im.rep.Pages++
		}
	}
	return nil
}

// add queues one comment in the batch, storing the batch when full.
func (im *importRun) add(ctx context.Context, i int32) error {
	e := &im.entries[i]
	e.state = entryQueued
	buf := make([]byte, e.n)
	if _, err := im.spool.ReadAt(buf, e.off); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	var sp spooled
	if err := json.Unmarshal(buf, &sp); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	p := im.pages[e.page]
	if p.page == nil {
		if err := im.ensurePage(ctx, p); err != nil {
			return err
		}
	}
	authorID := im.user(sp.AuthorKey, sp.Name, sp.Email)
	c := &parley.Comment{
		PageID: p.page.ID, AuthorID: authorID, AuthorName: sp.Name, Text: sp.Text, HTML: im.s.render.Render(sp.Text),
		Created: time.Unix(0, e.created).UTC(), Edited: sp.Edited, Score: sp.Score, Featured: sp.Featured,
		Toxicity: sp.Toxicity, Seen: true,
	}
	for _, r := range sp.Reasons {
		c.Reasons = append(c.Reasons, parley.Reason{Rule: r.Rule, Message: r.Message})
	}
	switch e.status {
	case importer.StatusApproved, importer.StatusRejected, importer.StatusDeleted:
		c.Status = e.status
	case importer.StatusSpam:
		c.Status = parley.StatusRejected
		c.Reasons = []parley.Reason{{Rule: "import", Message: "marked as spam on " + im.opt.Source}}
	default:
		c.Status, c.Seen = parley.StatusPending, false
	}
	if im.opt.Moderate && c.Status == parley.StatusApproved {
		dec, err := im.moderate(p.page, sp.Text)
		if err != nil {
			return err
		}
		if dec.Status != parley.StatusApproved {
			c.Status, c.Reasons, c.Seen = dec.Status, dec.Reasons, false
			im.rep.Held++
		}
		c.Toxicity = dec.Toxicity
	}
	ic := &store.ImportedComment{Comment: c, Source: im.opt.Source, SourceID: e.src, ParentSourceID: e.parentSrc, QuoteSourceID: e.quoteSrc}
	im.batch.Comments = append(im.batch.Comments, ic)
	if len(sp.Reports) > 0 {
		for _, r := range sp.Reports {
			r.Reporter.ID = im.user(authorKey(r.Reporter), cleanImportedName(r.Reporter.Name), importedEmail(r.Reporter.Email))
			im.reports[ic] = append(im.reports[ic], r)
		}
	}
	if len(im.batch.Comments) >= im.opt.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// user returns the id of the reader an author key stands for, adding the
// user to the batch the first time. Ids are derived from the site, the
// source and the key, so a second run finds the same users.
func (im *importRun) user(key, name, email string) string {
	sum := sha256.Sum256([]byte(im.site.ID + "\x00" + im.opt.Source + "\x00" + key))
	id := "imp_" + base64.RawURLEncoding.EncodeToString(sum[:15])
	if !im.users[id] {
		im.users[id] = true
		im.batch.Users = append(im.batch.Users, &parley.User{ID: id, Name: name, Email: email, Role: parley.RoleReader})
	}
	return id
}

// ensurePage creates or finds the page and gives it the settings the
// source had: closed when the source had it closed (an import never
// reopens a page), and the source's policy override when the page has none
// here (an import never replaces an override a moderator set here). A
// change of settings is in the site's audit trail, as UpdatePage's are.
func (im *importRun) ensurePage(ctx context.Context, p *importPage) error {
	page, err := im.s.store.EnsurePage(ctx, im.site.ID, p.url, p.title)
	if err != nil {
		return fmt.Errorf("page %s: %w", p.url, err)
	}
	old := store.PageSettings{Closed: page.Closed, Policy: page.Policy}
	next := store.PageSettings{Closed: page.Closed || p.closed, Policy: page.Policy}
	if len(p.policy) > 0 {
		switch {
		case len(page.Policy) == 0:
			next.Policy = p.policy
		case !bytes.Equal(page.Policy, p.policy):
			im.rep.warn("page %s keeps the policy override it has here: the export's was not applied", p.url)
		}
	}
	if before, after := pageDiff(old, next); len(after) > 0 {
		before["page"], after["page"] = p.url, p.url
		actor := Actor{Admin: true, User: &parley.User{Name: "import (" + im.opt.Source + ")"}}
		e, err := im.s.entry(actor, store.Action{Action: AuditPage, SiteID: im.site.ID,
			Note: "settings of the page in the " + im.opt.Source + " export"}, before, after)
		if err != nil {
			return err
		}
		err = im.s.update(ctx, func(tx store.Tx) error {
			if _, err := tx.SetPageSettings(page.ID, next); err != nil {
				return err
			}
			return tx.AddAction(e)
		})
		if err != nil {
			return fmt.Errorf("settings of page %s: %w", p.url, err)
		}
		page.Closed, page.Policy = next.Closed, next.Policy
	}
	p.page = page
	return nil
}

// moderate runs the site's pipeline on an imported comment. Its author
// counts as an established reader (a "pre_new" site does not hold every
// imported comment as a newcomer's); rules on the text and the model apply.
func (im *importRun) moderate(page *parley.Page, text string) (parley.Decision, error) {
	pipe, _, err := im.s.pipeline(im.site, page)
	if err != nil {
		return parley.Decision{}, err
	}
	in := moderation.Input{Text: text, Trust: moderation.Trust{Approved: 10}, Scorer: im.s.scorer(im.site.ID)}
	return pipe.Decide(in), nil
}

// flush hands the batch to a goroutine that stores it, after the batch
// before it has been stored: the next batch is prepared (rendered,
// moderated) while this one is written, and batches still commit in order,
// so a reply's parent is stored before it.
func (im *importRun) flush(ctx context.Context) error {
	if err := im.wait(); err != nil {
		return err
	}
	b, reports := im.batch, im.reports
	if len(b.Comments) == 0 && len(b.Users) == 0 {
		return nil
	}
	im.batch = &store.ImportBatch{SiteID: b.SiteID}
	im.reports = map[*store.ImportedComment][]importer.Report{}
	done := make(chan batchResult, 1)
	im.inflight = done
	go func() { done <- im.store(ctx, b, reports) }() // exits once the batch is stored or failed
	return nil
}

// wait waits for the batch being stored and counts it in the report.
func (im *importRun) wait() error {
	if im.inflight == nil {
		return nil
	}
	r := <-im.inflight
	im.inflight = nil
	if r.err != nil {
		return r.err
	}
	im.rep.UsersCreated += r.res.UsersCreated
	im.rep.Imported += r.res.Created
	im.rep.Existing += r.res.Existing
	for st, n := range r.byStatus {
		im.rep.ByStatus[st] += n
	}
	return nil
}

// batchResult is what storing one batch did.
type batchResult struct {
	res      store.ImportResult
	byStatus map[string]int
	err      error
}

// store stores a batch, then the reports on its new comments.
func (im *importRun) store(ctx context.Context, b *store.ImportBatch, reports map[*store.ImportedComment][]importer.Report) batchResult {
	res, err := im.s.store.Import(ctx, b)
	if err != nil {
		return batchResult{err: fmt.Errorf("import: %w", err)}
	}
	out := batchResult{res: res, byStatus: map[string]int{}}
	for _, ic := range b.Comments {
		if ic.Existing {
			continue
		}
		out.byStatus[ic.Comment.Status]++
		for _, r := range reports[ic] {
			if !parley.ValidReportReason(r.Reason) {
				r.Reason = "other"
			}
			rp := &parley.Report{CommentID: ic.Comment.ID, ReporterID: r.Reporter.ID, Reason: r.Reason, Note: r.Note, Created: r.Created}
			if _, err := im.s.store.AddReport(ctx, rp); err != nil {
				return batchResult{err: fmt.Errorf("import report: %w", err)}
			}
		}
	}
	return out
}

// authorKey identifies an author within a source: the source's id, else
// the e-mail address, else the name.
func authorKey(a importer.Author) string {
	switch {
	case a.ID != "":
		return "id:" + a.ID
	case importedEmail(a.Email) != "":
		return "email:" + importedEmail(a.Email)
	case a.Name != "":
		return "name:" + cleanImportedName(a.Name)
	}
	return "anonymous"
}

// truncMark ends a comment cut to MaxTextBytes.
const truncMark = " […]"

// cleanImportedText is cleanText for imported text, which is repaired
// rather than refused: invalid UTF-8 and NULs replaced, line endings
// normalised, and a text over MaxTextBytes cut (reported as cut).
func cleanImportedText(text string) (string, bool) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRightFunc(text, unicode.IsSpace)
	text = strings.TrimLeft(text, "\n")
	if strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || isInvisible(r) }) == "" {
		return "", false
	}
	if len(text) <= MaxTextBytes {
		return text, false
	}
	n := MaxTextBytes - len(truncMark)
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + truncMark, true
}

// cleanImportedName is cleanName for an imported author, repaired rather
// than refused: control and invisible characters dropped, spaces
// collapsed, cut at MaxNameRunes; "Reader" when nothing is left.
func cleanImportedName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isInvisible(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > MaxNameRunes {
		name = strings.TrimSpace(string([]rune(name)[:MaxNameRunes]))
	}
	if name == "" {
		return "Reader"
	}
	return name
}

// cleanTitle is a page title as Parley keeps it: one line, at most MaxTitle.
func cleanTitle(t string) string {
	t = strings.Join(strings.Fields(strings.ToValidUTF8(t, "")), " ")
	if utf8.RuneCountInString(t) > MaxTitle {
		t = string([]rune(t)[:MaxTitle])
	}
	return t
}

// importedEmail returns the address when it is one, lower-cased, else "".
func importedEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>\" ") {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return ""
	}
	return strings.ToLower(s)
}
