package store

import (
	"context"

	"github.com/parleyhq/parley"
)

// Reader is the part of Store that Store.Snapshot offers inside one
// snapshot: the reads a consistent export needs. Each method is Store's
// method of the same name, with the same results and error codes; a
// Store is a Reader of the current state of the database.
type Reader interface {
	Pages(ctx context.Context, q PageQuery) ([]PageActivity, error)
	PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error)
	PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error)
	Users(ctx context.Context, ids []string) (map[string]*parley.User, error)
}
