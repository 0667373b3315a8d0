package main

// The control API: plain HTTP on loopback, used by the integration tests to
// set the workspace set and to inject failures. See README.md.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"nhooyr.io/websocket"
)

func (p *peer) controlHandler() http.Handler {
	mux := http.NewServeMux()
	post := func(path string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				http.Error(w, "POST only", http.StatusMethodNotAllowed)
				return
			}
			if err := h(w, r); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, "ok\n")
		})
	}
	post("/generate", p.ctlGenerate)
	post("/fail", p.ctlFail)
	post("/drop", p.ctlDrop)
	post("/freeze", func(w http.ResponseWriter, r *http.Request) error { p.setFrozen(true); return nil })
	post("/thaw", func(w http.ResponseWriter, r *http.Request) error { p.setFrozen(false); return nil })
	post("/drpc-error", p.ctlDRPCError)
	post("/drpc-close", func(w http.ResponseWriter, r *http.Request) error {
		p.endStreams(controlCmd{kind: kindClose})
		return nil
	})
	post("/suffix", func(w http.ResponseWriter, r *http.Request) error {
		p.mu.Lock()
		p.suffix = r.URL.Query().Get("value")
		p.mu.Unlock()
		return nil
	})
	post("/username", func(w http.ResponseWriter, r *http.Request) error {
		p.mu.Lock()
		p.username = r.URL.Query().Get("value")
		p.mu.Unlock()
		return nil
	})
	post("/reset-stats", func(w http.ResponseWriter, r *http.Request) error {
		p.mu.Lock()
		active := p.stats.ActiveStreams
		p.stats = stats{ActiveStreams: active}
		p.connLog = nil
		p.mu.Unlock()
		return nil
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		s := p.stats
		s.ActiveConnections = len(p.conns)
		s.Connections = make([]connInfo, len(p.connLog))
		for i, c := range p.connLog {
			s.Connections[i] = *c
		}
		p.mu.Unlock()
		writeJSON(w, 200, s)
	})
	mux.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			p.ctlPost(w, r, p.ctlState)
			return
		}
		p.mu.Lock()
		s := p.state
		p.mu.Unlock()
		writeJSON(w, 200, stateToJSON(s))
	})
	return mux
}

func (p *peer) ctlPost(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) {
	if err := h(w, r); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

type jsonAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type jsonWorkspace struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Status string      `json:"status"`
	Agents []jsonAgent `json:"agents"`
}

type jsonState struct {
	Workspaces []jsonWorkspace `json:"workspaces"`
}

func stateToJSON(s *snapshot) jsonState {
	out := jsonState{Workspaces: []jsonWorkspace{}}
	for _, w := range s.workspaces {
		jw := jsonWorkspace{ID: w.ID.String(), Name: w.Name, Status: statusName(w.Status), Agents: []jsonAgent{}}
		for _, a := range w.Agents {
			jw.Agents = append(jw.Agents, jsonAgent{a.ID.String(), a.Name})
		}
		out.Workspaces = append(out.Workspaces, jw)
	}
	return out
}

func (p *peer) ctlState(w http.ResponseWriter, r *http.Request) error {
	var js jsonState
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		return fmt.Errorf("bad state JSON: %v", err)
	}
	ws := make([]workspace, 0, len(js.Workspaces))
	for _, jw := range js.Workspaces {
		id, err := parseUUID(jw.ID)
		if err != nil {
			return err
		}
		st, err := parseStatus(jw.Status)
		if err != nil {
			return err
		}
		w := workspace{ID: id, Name: jw.Name, Status: st}
		for _, ja := range jw.Agents {
			aid, err := parseUUID(ja.ID)
			if err != nil {
				return err
			}
			w.Agents = append(w.Agents, agent{ID: aid, Name: ja.Name})
		}
		ws = append(ws, w)
	}
	s, err := newSnapshot(ws)
	if err != nil {
		return err
	}
	p.setState(s)
	return nil
}

func (p *peer) ctlGenerate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("workspaces"))
	if err != nil {
		return fmt.Errorf("workspaces=N is required")
	}
	k := 1
	if v := q.Get("agents"); v != "" {
		if k, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("bad agents=%q", v)
		}
	}
	prefix := q.Get("prefix")
	if prefix == "" {
		prefix = "ws"
	}
	ws, err := generate(n, k, prefix)
	if err != nil {
		return err
	}
	s, err := newSnapshot(ws)
	if err != nil {
		return err
	}
	p.setState(s)
	return nil
}

func (p *peer) ctlFail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	path := q.Get("path")
	switch path {
	case "tailnet", "users/me", "connection", "all":
	default:
		return fmt.Errorf("path must be tailnet, users/me, connection or all")
	}
	status, err := strconv.Atoi(q.Get("status"))
	if err != nil || (status != 0 && (status < 400 || status > 599)) {
		return fmt.Errorf("status must be 0 (clear) or 400..599")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == 0 {
		if path == "all" {
			p.failures = map[string]int{} // clears every override
		} else {
			delete(p.failures, path)
		}
		return nil
	}
	p.failures[path] = status
	return nil
}

func (p *peer) currentConns() []*tailConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*tailConn, 0, len(p.conns))
	for c := range p.conns {
		out = append(out, c)
	}
	return out
}

func (p *peer) setFrozen(v bool) {
	for _, c := range p.currentConns() {
		c.fc.setFrozen(v)
	}
}

// resetTCP makes the kernel answer with RST instead of FIN.
func resetTCP(c net.Conn) {
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	if c != nil {
		_ = c.Close()
	}
}

func (p *peer) ctlDrop(w http.ResponseWriter, r *http.Request) error {
	how := r.URL.Query().Get("how")
	switch how {
	case "websocket", "reset", "midframe", "goaway":
	default:
		return fmt.Errorf("how must be websocket, reset, midframe or goaway")
	}
	for _, c := range p.currentConns() {
		c := c
		switch how {
		case "websocket":
			// Close handshake with status 1000; waits up to 5 s for the echo.
			go func() { _ = c.ws.Close(websocket.StatusNormalClosure, "") }()
		case "reset":
			resetTCP(c.raw)
		case "midframe":
			// The first 6 of the 12 bytes of a yamux Data header (version 0,
			// type 0, flags 0, then half of the stream id), then RST.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = c.ws.Write(ctx, websocket.MessageBinary, []byte{0, 0, 0, 0, 0, 0})
			cancel()
			time.Sleep(50 * time.Millisecond) // let it leave before the RST
			resetTCP(c.raw)
		case "goaway":
			// GoAway (code 0, normal), then close the session, which closes
			// the websocket with status 1000.
			go func() {
				_ = c.sess.GoAway()
				time.Sleep(50 * time.Millisecond)
				_ = c.sess.Close()
			}()
		}
		// A frozen connection would otherwise never notice.
		c.fc.setFrozen(false)
	}
	return nil
}

func (p *peer) ctlDRPCError(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	code := uint64(0)
	if v := q.Get("code"); v != "" {
		c, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("bad code=%q", v)
		}
		code = c
	}
	msg := q.Get("message")
	if msg == "" {
		msg = "injected error"
	}
	p.endStreams(controlCmd{kind: kindError, code: code, msg: msg})
	return nil
}

func (p *peer) endStreams(cmd controlCmd) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for sub := range p.subs {
		select {
		case sub.control <- cmd:
		default: // already being ended
		}
	}
}
