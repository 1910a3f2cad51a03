package parley

import "testing"

func TestStatusRules(t *testing.T) {
	tests := []struct {
		old, new string
		delta    int
		outcome  string
		events   []string
	}{
		{"", StatusApproved, 1, ReportDismissed, []string{EventCommentCreated, EventPageCount}},
		{"", StatusPending, 0, "", []string{EventQueueChanged}},
		{StatusPending, StatusApproved, 1, ReportDismissed, []string{EventCommentCreated, EventPageCount, EventQueueChanged}},
		{StatusApproved, StatusRejected, -1, ReportUpheld, []string{EventCommentRemoved, EventPageCount, EventQueueChanged}},
		{StatusApproved, StatusDeleted, -1, ReportUpheld, []string{EventCommentRemoved, EventPageCount, EventQueueChanged}},
		{StatusPending, StatusRejected, 0, ReportUpheld, []string{EventQueueChanged}},
		{StatusApproved, StatusPending, -1, "", []string{EventCommentRemoved, EventPageCount, EventQueueChanged}},
		{StatusApproved, StatusApproved, 0, ReportDismissed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.old+"->"+tt.new, func(t *testing.T) {
			if got := ApprovedDelta(tt.old, tt.new); got != tt.delta {
				t.Errorf("ApprovedDelta = %d, want %d", got, tt.delta)
			}
			if got := ReportOutcome(tt.new); got != tt.outcome {
				t.Errorf("ReportOutcome = %q, want %q", got, tt.outcome)
			}
			evs := StatusEvents("s", 1, 2, tt.old, tt.new)
			if len(evs) != len(tt.events) {
				t.Fatalf("StatusEvents = %v, want types %v", evs, tt.events)
			}
			for i, ev := range evs {
				if ev.Type != tt.events[i] || ev.SiteID != "s" || ev.PageID != 1 || ev.CommentID != 2 {
					t.Errorf("event %d = %+v, want type %s on s/1/2", i, ev, tt.events[i])
				}
			}
		})
	}
}
