package main

// The fake coderd itself: its shared state (workspaces, failure overrides,
// statistics, live connections and subscriptions), the coderd HTTP API, the
// tailnet websocket + yamux server, and the WorkspaceUpdates RPC.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"nhooyr.io/websocket"
)

type options struct {
	token             string
	userID            uuid
	keepAliveInterval time.Duration
	writeTimeout      time.Duration
	splitWrites       int
	wsPingInterval    time.Duration
	strictOwner       bool
	verbose           bool
}

type peer struct {
	opts options

	mu       sync.Mutex
	username string
	suffix   string
	failures map[string]int // "tailnet", "users/me", "connection", "all" -> status
	state    *snapshot
	subs     map[*subscriber]bool
	conns    map[*tailConn]bool
	stats    stats
	connLog  []*connInfo
	nextConn int
}

type stats struct {
	TailnetConnections int    `json:"tailnet_connections"`
	TailnetRequests    int    `json:"tailnet_requests"`
	UsersMeRequests    int    `json:"users_me_requests"`
	ConnectionRequests int    `json:"connection_requests"`
	ActiveStreams      int    `json:"active_streams"`
	MessagesSent       int    `json:"messages_sent"`
	LastOwnerID        string `json:"last_owner_id"`
	LastVersion        string `json:"last_version"`
	OriginSeen         bool   `json:"origin_seen"`
	TokenHeaderSeen    bool   `json:"token_header_seen"`
	WSPongs            int    `json:"ws_pongs"`
	// For benchmarks (bench/coder-figures): the last WorkspaceUpdate Message
	// sent on any stream, its DRPC body size and the unix-nanosecond times
	// just before its first write and just after its final write returned
	// (yamux hands a write back once it is on the TLS connection).
	LastMessageBytes     int   `json:"last_message_bytes"`
	LastMessageStartNs   int64 `json:"last_message_start_unix_ns"`
	LastMessageWrittenNs int64 `json:"last_message_written_unix_ns"`
	// Not in the brief's list, but handy when a test goes wrong.
	ActiveConnections int        `json:"active_connections"`
	Connections       []connInfo `json:"connections"`
}

// connInfo is recorded for every GET /api/v2/tailnet, upgraded or not.
type connInfo struct {
	N           int    `json:"n"`
	Version     string `json:"version"`
	Origin      bool   `json:"origin"`
	TokenHeader bool   `json:"token_header"`
	Status      int    `json:"status"` // 101 when upgraded
	OwnerID     string `json:"owner_id,omitempty"`
	Remote      string `json:"remote"`
}

func newPeer(o options, username, suffix string) *peer {
	return &peer{
		opts:     o,
		username: username,
		suffix:   suffix,
		failures: map[string]int{},
		state:    emptySnapshot,
		subs:     map[*subscriber]bool{},
		conns:    map[*tailConn]bool{},
	}
}

func (p *peer) logf(format string, args ...interface{}) {
	if p.opts.verbose {
		log.Printf(format, args...)
	}
}

// ---- coderd responses --------------------------------------------------------

type validation struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

type response struct {
	Message     string       `json:"message"`
	Detail      string       `json:"detail,omitempty"`
	Validations []validation `json:"validations,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

var versionError = response{
	Message: "Unknown or unsupported API version",
	Validations: []validation{{Field: "version",
		Detail: "server is at version 2.2, behind requested minor version 2.3"}},
}

// writeFailure answers with the body coderd gives for that status.
func writeFailure(w http.ResponseWriter, status int) {
	switch status {
	case 400:
		writeJSON(w, status, versionError)
	case 401:
		writeJSON(w, status, response{
			Message: "You are signed out or your session has expired. Please sign in again to continue.",
			Detail:  "API key is invalid."})
	case 403: // coder/websocket's origin rejection is plain text
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "forbidden")
	case 404:
		writeJSON(w, status, response{Message: "Route not found."})
	case 409:
		writeJSON(w, status, response{Message: "Non-browser connections are disabled for your deployment."})
	case 500:
		writeJSON(w, status, response{Message: "Internal error.", Detail: "database unreachable"})
	default:
		writeJSON(w, status, response{Message: "Injected failure.", Detail: "status " + strconv.Itoa(status)})
	}
}

// failureFor returns the injected status for a path, 0 if none.
func (p *peer) failureFor(path string) int {
	if s := p.failures[path]; s != 0 {
		return s
	}
	return p.failures["all"]
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, response{Message: "Route not found."})
		return
	}
	switch path {
	case "/api/v2/users/me":
		p.handleUsersMe(w, r)
	case "/api/v2/workspaceagents/connection":
		p.handleConnectionInfo(w, r)
	case "/api/v2/tailnet":
		p.handleTailnet(w, r)
	default:
		writeJSON(w, http.StatusNotFound, response{Message: "Route not found."})
	}
}

func (p *peer) tokenOK(r *http.Request) bool {
	return r.Header.Get("Coder-Session-Token") == p.opts.token
}

// admit answers a request that must fail (an injected status, else a bad token: 401, as
// coderd's API key middleware does) and says whether the handler goes on.
func (p *peer) admit(w http.ResponseWriter, r *http.Request, fail int) bool {
	if fail != 0 {
		writeFailure(w, fail)
		return false
	}
	if !p.tokenOK(r) {
		writeFailure(w, 401)
		return false
	}
	return true
}

func (p *peer) handleUsersMe(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.stats.UsersMeRequests++
	fail, name := p.failureFor("users/me"), p.username
	p.mu.Unlock()
	if !p.admit(w, r, fail) {
		return
	}
	writeJSON(w, 200, struct {
		ID              string   `json:"id"`
		Username        string   `json:"username"`
		Email           string   `json:"email"`
		Name            string   `json:"name"`
		Status          string   `json:"status"`
		OrganizationIDs []string `json:"organization_ids"`
		Roles           []string `json:"roles"`
	}{p.opts.userID.String(), name, name + "@example.com", "", "active", []string{}, []string{}})
}

func (p *peer) handleConnectionInfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.stats.ConnectionRequests++
	fail, suffix := p.failureFor("connection"), p.suffix
	p.mu.Unlock()
	if !p.admit(w, r, fail) {
		return
	}
	writeJSON(w, 200, struct {
		DERPMap                  *struct{} `json:"derp_map"`
		DERPForceWebSockets      bool      `json:"derp_force_websockets"`
		DisableDirectConnections bool      `json:"disable_direct_connections"`
		HostnameSuffix           string    `json:"hostname_suffix"`
	}{nil, false, false, suffix})
}

// versionOK is apiversion.Validate for a server at 2.6.
func versionOK(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil && ma == 2 && mi >= 0 && mi <= 6
}

// ---- the tailnet connection ---------------------------------------------------

type rawConnKey struct{}

// tailConn is one upgraded /api/v2/tailnet connection.
type tailConn struct {
	info   *connInfo // guarded by peer.mu
	ws     *websocket.Conn
	raw    net.Conn // the TCP connection under TLS and the websocket
	fc     *freezeConn
	sess   *yamux.Session
	cancel context.CancelFunc
}

func (p *peer) handleTailnet(w http.ResponseWriter, r *http.Request) {
	version := r.URL.Query().Get("version")
	if version == "" {
		version = "2.0" // coderd's default
	}
	p.mu.Lock()
	p.nextConn++
	info := connInfo{
		N:           p.nextConn,
		Version:     version,
		Origin:      r.Header.Get("Origin") != "",
		TokenHeader: r.Header.Get("Coder-Session-Token") != "",
		Remote:      r.RemoteAddr,
	}
	p.stats.TailnetRequests++
	p.stats.LastVersion = version
	p.stats.OriginSeen = p.stats.OriginSeen || info.Origin
	p.stats.TokenHeaderSeen = info.TokenHeader
	ip := &info
	p.connLog = append(p.connLog, ip)
	fail := p.failureFor("tailnet")
	p.mu.Unlock()
	setStatus := func(s int) { p.mu.Lock(); ip.Status = s; p.mu.Unlock() }

	switch {
	case fail != 0:
		setStatus(fail)
		writeFailure(w, fail)
		return
	case !p.tokenOK(r):
		setStatus(401)
		writeFailure(w, 401)
		return
	case !versionOK(version):
		setStatus(400)
		writeFailure(w, 400)
		return
	}

	// Like coderd: websocket.Accept with nil options (no subprotocol, no
	// compression, Origin must match Host or be absent).
	rec := &statusRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(rec, r, nil)
	if err != nil {
		setStatus(rec.status) // 403 for a foreign Origin, 426 or 400 for a bad handshake
		p.logf("websocket accept: %v", err)
		return
	}
	setStatus(101)
	// Debian's nhooyr 1.8.7 caps a read message at 32 KiB and its NetConn does
	// not lift that (coder/websocket 1.8.13 does); the client may send
	// messages of any size.
	ws.SetReadLimit(1 << 40)

	// The request context ends when this handler returns, and with it the
	// NetConn, so the handler stays until the connection is over.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var nc net.Conn = websocket.NetConn(ctx, ws, websocket.MessageBinary)
	if p.opts.splitWrites > 0 {
		nc = &splitConn{Conn: nc, n: p.opts.splitWrites}
	}
	fc := newFreezeConn(nc)

	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	if p.opts.verbose {
		cfg.LogOutput = log.Writer()
	}
	cfg.KeepAliveInterval = p.opts.keepAliveInterval
	cfg.ConnectionWriteTimeout = p.opts.writeTimeout
	sess, err := yamux.Server(fc, cfg)
	if err != nil {
		p.logf("yamux: %v", err)
		_ = ws.Close(websocket.StatusInternalError, "yamux")
		return
	}
	raw, _ := r.Context().Value(rawConnKey{}).(net.Conn)
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	tc := &tailConn{info: ip, ws: ws, raw: raw, fc: fc, sess: sess, cancel: cancel}

	p.mu.Lock()
	p.stats.TailnetConnections++
	p.conns[tc] = true
	p.mu.Unlock()
	p.logf("tailnet connection %d from %s (version %s)", info.N, r.RemoteAddr, version)
	defer func() {
		p.mu.Lock()
		delete(p.conns, tc)
		p.mu.Unlock()
		p.logf("tailnet connection %d ended", info.N)
	}()

	if p.opts.wsPingInterval > 0 {
		go p.heartbeat(ctx, tc)
	}
	go func() {
		for {
			st, err := sess.AcceptStream()
			if err != nil {
				return
			}
			go p.serveStream(tc, st)
		}
	}()
	<-sess.CloseChan()
	// A frozen connection must keep its websocket (and so this handler) alive
	// until thawed: returning would cancel the context and close the socket.
	fc.waitThawed()
}

// heartbeat pings the websocket like coderd's httpapi.Heartbeat. A failed
// ping ends the heartbeat only, as in coderd.
func (p *peer) heartbeat(ctx context.Context, tc *tailConn) {
	t := time.NewTicker(p.opts.wsPingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tc.sess.CloseChan():
			return
		case <-t.C:
		}
		if tc.fc.isFrozen() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := tc.ws.Ping(pctx)
		cancel()
		if err != nil {
			p.logf("websocket ping: %v", err)
			return
		}
		p.mu.Lock()
		p.stats.WSPongs++
		p.mu.Unlock()
	}
}

// statusRecorder notes the status websocket.Accept answers with when it
// refuses; it must still hijack for a successful upgrade.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	return h.Hijack()
}

// ---- WorkspaceUpdates --------------------------------------------------------

type subscriber struct {
	mu      sync.Mutex
	queue   []*snapshot // states not yet diffed, oldest first
	notify  chan struct{}
	control chan controlCmd
}

type controlCmd struct {
	kind byte // kindError or kindClose
	code uint64
	msg  string
}

// setState replaces the workspace set; every subscriber gets the change queued.
func (p *peer) setState(s *snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
	for sub := range p.subs {
		sub.mu.Lock()
		sub.queue = append(sub.queue, s)
		sub.mu.Unlock()
		select {
		case sub.notify <- struct{}{}:
		default:
		}
	}
}

// serveStream serves DRPC on one yamux stream: one RPC, then the stream is
// closed (Coder's client opens a new yamux stream for every RPC anyway).
func (p *peer) serveStream(tc *tailConn, st *yamux.Stream) {
	defer st.Close()
	pr := newPacketReader(st)
	var method string
	var dw *drpcWriter
	var req []byte
	for req == nil {
		pk, err := pr.next()
		if err != nil {
			p.logf("drpc: stream %d: %v", st.StreamID(), err)
			return
		}
		switch pk.kind {
		case kindInvokeMetadata:
		case kindInvoke:
			method = string(pk.data)
			dw = &drpcWriter{w: st, sid: pk.sid}
			// drpcmux looks the method up before reading the request.
			if method != workspaceUpdatesMethod {
				_ = dw.send(kindError, marshalError(0, fmt.Sprintf("protocol error: unknown rpc: %q", method)))
				drain(pr)
				return
			}
		case kindMessage:
			if dw == nil {
				p.logf("drpc: message before invoke")
				return
			}
			req = pk.data
		default: // CloseSend, Close, Cancel before the request: nothing to serve
			return
		}
	}

	owner, err := decodeOwnerID(req)
	ownerStr := ""
	if err == nil && len(owner) == 16 {
		ownerStr = uuid(*(*[16]byte)(owner)).String()
	}
	p.mu.Lock()
	p.stats.LastOwnerID = ownerStr
	tc.info.OwnerID = ownerStr
	p.mu.Unlock()
	if ownerStr == "" {
		// coderd's uuid.FromBytes fails after `defer stream.Close()`: a bare Close.
		_ = dw.send(kindClose, nil)
		drain(pr)
		return
	}

	// The rest of the client's packets: CloseSend is expected; Cancel, Close,
	// EOF or an error end the RPC.
	clientGone := make(chan struct{})
	go func() {
		defer close(clientGone)
		for {
			pk, err := pr.next()
			if err != nil || pk.kind == kindCancel || pk.kind == kindClose {
				return
			}
		}
	}()

	sub := &subscriber{notify: make(chan struct{}, 1), control: make(chan controlCmd, 1)}
	p.mu.Lock()
	cur := p.state
	p.subs[sub] = true
	p.stats.ActiveStreams++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.subs, sub)
		p.stats.ActiveStreams--
		p.mu.Unlock()
	}()
	frozenOwner := p.opts.strictOwner && ownerStr != p.opts.userID.String()
	if frozenOwner {
		cur = emptySnapshot // another user's id: an empty set, never updated
	}

	send := func(u *update) bool {
		body := u.marshal()
		started := time.Now().UnixNano()
		if err := dw.send(kindMessage, body); err != nil {
			p.logf("drpc: send: %v", err)
			return false
		}
		written := time.Now().UnixNano()
		p.mu.Lock()
		p.stats.MessagesSent++
		p.stats.LastMessageBytes = len(body)
		p.stats.LastMessageStartNs = started
		p.stats.LastMessageWrittenNs = written
		p.mu.Unlock()
		return true
	}
	// The first message is always sent, even when empty (coderd's sub.start).
	if !send(diff(emptySnapshot, cur)) {
		return
	}
	prev := cur
	for {
		select {
		case <-sub.notify:
			sub.mu.Lock()
			q := sub.queue
			sub.queue = nil
			sub.mu.Unlock()
			if frozenOwner {
				continue
			}
			for _, s := range q {
				if u := diff(prev, s); !u.empty() && !send(u) {
					return
				}
				prev = s
			}
		case cmd := <-sub.control:
			var body []byte
			if cmd.kind == kindError {
				body = marshalError(cmd.code, cmd.msg)
			}
			_ = dw.send(cmd.kind, body)
			return
		case <-clientGone:
			return
		case <-tc.sess.CloseChan():
			return
		}
	}
}

// drain reads and drops the client's remaining frames so that its writes do
// not block, until it closes the stream.
func drain(pr *packetReader) {
	go func() {
		for {
			if _, err := pr.next(); err != nil {
				return
			}
		}
	}()
}

// ---- connection wrappers ---------------------------------------------------

// splitConn cuts every Write into pieces of at most n bytes; on a websocket
// NetConn each piece becomes its own binary message, so yamux headers and
// bodies arrive split across messages.
type splitConn struct {
	net.Conn
	n int
}

func (c *splitConn) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		k := len(b)
		if k > c.n {
			k = c.n
		}
		m, err := c.Conn.Write(b[:k])
		written += m
		if err != nil {
			return written, err
		}
		b = b[k:]
	}
	return written, nil
}

// freezeConn lets /freeze stop all reading and writing on a connection while
// the TCP connection stays open: the peer then looks hung, not gone. Close is
// held back too, so that yamux's own keepalive failure does not close the
// socket while frozen.
type freezeConn struct {
	net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
}

func newFreezeConn(c net.Conn) *freezeConn {
	fc := &freezeConn{Conn: c}
	fc.cond = sync.NewCond(&fc.mu)
	return fc
}

func (fc *freezeConn) setFrozen(v bool) {
	fc.mu.Lock()
	fc.frozen = v
	fc.mu.Unlock()
	fc.cond.Broadcast()
}

func (fc *freezeConn) isFrozen() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.frozen
}

func (fc *freezeConn) waitThawed() {
	fc.mu.Lock()
	for fc.frozen {
		fc.cond.Wait()
	}
	fc.mu.Unlock()
}

func (fc *freezeConn) Read(b []byte) (int, error) {
	fc.waitThawed()
	n, err := fc.Conn.Read(b)
	// A read already under way when the freeze came: hold its data back too.
	fc.waitThawed()
	return n, err
}

func (fc *freezeConn) Write(b []byte) (int, error) {
	fc.waitThawed()
	return fc.Conn.Write(b)
}

func (fc *freezeConn) Close() error {
	fc.waitThawed()
	return fc.Conn.Close()
}
