package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, typ, data string
}

// openStream connects to the article's stream and returns a channel of its
// events; the stream closes when ctx is done.
func openStream(t *testing.T, ctx context.Context, e *env, lastID string) <-chan sseEvent {
	t.Helper()
	return openStreamOf(t, ctx, e, articleURL, lastID)
}

// openStreamOf connects to the stream of the thread of pageURL.
func openStreamOf(t *testing.T, ctx context.Context, e *env, pageURL, lastID string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/stream?site=news&url="+escape(pageURL), nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
	}
	ch := make(chan sseEvent, 1000)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.typ != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch
}

// next returns the next event of one of the given types, failing after d.
func next(t *testing.T, ch <-chan sseEvent, d time.Duration, types ...string) sseEvent {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream closed")
			}
			for _, typ := range types {
				if ev.typ == typ {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within %s", types, d)
		}
	}
}

func TestStreamLiveAndResume(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	r.post("first", nil) // the page exists

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := openStream(t, ctx, e, "")
	ready := next(t, ch, 2*time.Second, "ready")
	id := r.post("live one", nil).json(t)["comment"].(map[string]any)["id"].(float64)
	ev := next(t, ch, 2*time.Second, "comment.created")
	if !strings.Contains(ev.data, fmt.Sprintf(`"comment_id":%d`, int64(id))) {
		t.Fatalf("created event %+v, want comment %v", ev, id)
	}
	count := next(t, ch, 2*time.Second, "page.count")
	if !strings.Contains(count.data, `"page_count":2`) {
		t.Fatalf("count event %+v", count)
	}
	lastSeen := count.id
	cancel() // the reader drops off
	if ready.id == "" || lastSeen == "" {
		t.Fatal("events carry no ids")
	}

	want := map[string]bool{}
	for i := 0; i < 20; i++ {
		c := e.reader(fmt.Sprint("R", i)).post(fmt.Sprintf("missed %d", i), nil).json(t)["comment"].(map[string]any)
		want[fmt.Sprintf(`"comment_id":%d`, int64(c["id"].(float64)))] = true
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	ch2 := openStream(t, ctx2, e, lastSeen)
	got := 0
	for got < 20 {
		ev := next(t, ch2, 3*time.Second, "comment.created")
		key := ev.data[strings.Index(ev.data, `"comment_id"`):]
		key = strings.TrimSuffix(key, "}")
		if !want[key] {
			t.Fatalf("resumed stream sent %s: not one of the 20 missed comments, or sent twice", ev.data)
		}
		delete(want, key)
		got++
	}
	// Nothing else arrives: a new comment is the next created event.
	nid := r.post("after", nil).json(t)["comment"].(map[string]any)["id"].(float64)
	ev = next(t, ch2, 2*time.Second, "comment.created")
	if !strings.Contains(ev.data, fmt.Sprintf(`"comment_id":%d`, int64(nid))) {
		t.Fatalf("after resume got %s, want comment %v", ev.data, nid)
	}
}

func TestStreamBeforeFirstComment(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := openStream(t, ctx, e, "")
	next(t, ch, 2*time.Second, "ready")
	e.reader("Ann").post("the first comment creates the page", nil)
	next(t, ch, 2*time.Second, "comment.created")
}
