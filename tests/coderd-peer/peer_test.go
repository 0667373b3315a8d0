package main

// End-to-end tests of the peer with a Go client built like Coder's own
// (websocket.Dial -> NetConn -> yamux.Client -> DRPC on stream 1), plus a check
// of the DRPC framing against the storj.io/drpc transcripts in shared/.
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go test ./tests/coderd-peer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/protobuf/encoding/protowire"
	"nhooyr.io/websocket"
)

const testOwner = "497f6eca-6276-4993-bfeb-53cbbbba6f08"

type env struct {
	p      *peer
	base   string // https://127.0.0.1:PORT
	ctl    string // http://127.0.0.1:PORT
	client *http.Client
	rawErr syncBuffer // read errors of the client's TCP connections
}

// recConn notes how the client's TCP connection ended (EOF or reset).
type recConn struct {
	net.Conn
	e *env
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		fmt.Fprintf(&c.e.rawErr, "%v\n", err)
	}
	return n, err
}

func startPeer(t *testing.T, mod func(*options)) *env {
	t.Helper()
	o := options{token: "peer-token", userID: mustUUID(testOwner), keepAliveInterval: 30 * time.Second, writeTimeout: 10 * time.Second}
	if mod != nil {
		mod(&o)
	}
	p := newPeer(o, "alice", "coder")
	dir := t.TempDir()
	cert, err := makeCerts(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(p, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}), cln)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	e := &env{
		p:    p,
		base: fmt.Sprintf("https://%s", ln.Addr()),
		ctl:  fmt.Sprintf("http://%s", cln.Addr()),
	}
	e.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &recConn{c, e}, nil
		},
	}}
	return e
}

func mustUUID(s string) uuid {
	u, err := parseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

func (e *env) control(t *testing.T, path, body string) string {
	t.Helper()
	resp, err := http.Post(e.ctl+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("control %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

func (e *env) stats(t *testing.T) stats {
	t.Helper()
	resp, err := http.Get(e.ctl + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// statsWhen polls /stats until ready says yes or 5 s pass, and returns the last. The peer
// counts a message once its write has returned, which can be after the client has read it.
func (e *env) statsWhen(t *testing.T, ready func(stats) bool) stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := e.stats(t)
		if ready(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) get(t *testing.T, path string, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.base+path, nil)
	if token != "" {
		req.Header.Set("Coder-Session-Token", token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("Content-Type")
}

// tunnel is the client side of one tailnet connection with one
// WorkspaceUpdates stream open.
type tunnel struct {
	ws   *websocket.Conn
	sess *yamux.Session
	st   *yamux.Stream
	pr   *packetReader
}

func (e *env) dial(t *testing.T, cfg *yamux.Config) *tunnel {
	return e.dialLog(t, cfg, io.Discard)
}

func (e *env) dialLog(t *testing.T, cfg *yamux.Config, logTo io.Writer) *tunnel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := strings.Replace(e.base, "https", "wss", 1) + "/api/v2/tailnet?version=2.3"
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient: e.client,
		HTTPHeader: http.Header{"Coder-Session-Token": {"peer-token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 40) // see peer.go: 1.8.7's 32 KiB default
	if cfg == nil {
		cfg = yamux.DefaultConfig()
	}
	cfg.LogOutput = logTo
	sess, err := yamux.Client(websocket.NetConn(context.Background(), ws, websocket.MessageBinary), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	tn := &tunnel{ws: ws, sess: sess, st: st, pr: newPacketReader(st)}
	tn.pr.max = 1 << 30
	t.Cleanup(func() { sess.Close() })
	return tn
}

// invoke sends the 72 bytes of coderd-protocol.md §8 L4.
func (tn *tunnel) invoke(t *testing.T, method string) {
	t.Helper()
	owner := mustUUID(testOwner)
	req := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), owner[:])
	b := appendPacket(nil, kindInvoke, 1, 1, []byte(method))
	b = appendPacket(b, kindMessage, 1, 2, req)
	b = appendPacket(b, kindCloseSend, 1, 3, nil)
	if method == workspaceUpdatesMethod {
		want := "0301012a2f636f6465722e7461696c6e65742e76322e5461696c6e65742f576f726b737061636555706461746573" +
			"050102120a10497f6eca62764993bfeb53cbbbba6f08" + "0d010300"
		if hex.EncodeToString(b) != want {
			t.Fatalf("request bytes differ from the doc:\n%x", b)
		}
	}
	if _, err := tn.st.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (tn *tunnel) next(t *testing.T) (packet, error) {
	t.Helper()
	type res struct {
		p   packet
		err error
	}
	ch := make(chan res, 1)
	go func() { p, err := tn.pr.next(); ch <- res{p, err} }()
	select {
	case r := <-ch:
		return r.p, r.err
	case <-time.After(30 * time.Second):
		t.Fatal("timeout waiting for a DRPC packet")
		return packet{}, nil
	}
}

func (tn *tunnel) update(t *testing.T) *update {
	t.Helper()
	p, err := tn.next(t)
	if err != nil {
		t.Fatal(err)
	}
	if p.kind != kindMessage {
		t.Fatalf("want a Message, got kind %d %q", p.kind, p.data)
	}
	u, err := unmarshalUpdate(p.data)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func unmarshalUpdate(b []byte) (*update, error) {
	u := &update{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return nil, errors.New("bad WorkspaceUpdate")
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errors.New("bad WorkspaceUpdate")
		}
		b = b[n:]
		f := map[protowire.Number][]byte{}
		var status int32
		for len(v) > 0 {
			fn, ft, n := protowire.ConsumeTag(v)
			v = v[n:]
			if ft == protowire.VarintType {
				x, n := protowire.ConsumeVarint(v)
				status, v = int32(x), v[n:]
				continue
			}
			x, n := protowire.ConsumeBytes(v)
			f[fn], v = x, v[n:]
		}
		var id, wid uuid
		copy(id[:], f[1])
		copy(wid[:], f[3])
		switch num {
		case 1, 3:
			w := workspace{ID: id, Name: string(f[2]), Status: status}
			if num == 1 {
				u.upsertedWorkspaces = append(u.upsertedWorkspaces, w)
			} else {
				u.deletedWorkspaces = append(u.deletedWorkspaces, w)
			}
		case 2, 4:
			a := agentRef{ID: id, Name: string(f[2]), WorkspaceID: wid}
			if num == 2 {
				u.upsertedAgents = append(u.upsertedAgents, a)
			} else {
				u.deletedAgents = append(u.deletedAgents, a)
			}
		}
	}
	return u, nil
}

// ---- tests ---------------------------------------------------------------

func TestDRPCFixtures(t *testing.T) {
	dir := "../../Fixtures/drpc"
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("no Fixtures/drpc in the repository: %v", err)
	}
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var h strings.Builder
		for _, line := range strings.Split(string(raw), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			h.WriteString(strings.Join(strings.Fields(line), ""))
		}
		b, err := hex.DecodeString(h.String())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Server side: our packets must be the reference bytes.
	ws := mustUUID("01020304-0506-0708-090a-0b0c0d0e0f10")
	snap, _ := newSnapshot([]workspace{{ID: ws, Name: "dev", Status: 3,
		Agents: []agent{{ID: mustUUID("a1b2c3d4-e5f6-4711-8899-aabbccddeeff"), Name: "main"}}}})
	first := diff(emptySnapshot, snap).marshal()
	// The reference handler's second message deletes the workspace only.
	second := (&update{deletedWorkspaces: snap.workspaces}).marshal()
	want := read("snapshot-then-diff.server-to-client.hex")
	got := appendPacket(nil, kindMessage, 1, 1, first)
	got = appendPacket(got, kindMessage, 1, 2, second)
	got = appendPacket(got, kindCloseSend, 1, 3, nil)
	if !bytes.Equal(got, want) {
		t.Errorf("snapshot-then-diff:\n got %x\nwant %x", got, want)
	}
	big := make([]byte, 150000)
	for i := range big {
		big[i] = byte(i)
	}
	if got, want := appendPacket(appendPacket(nil, kindMessage, 1, 1, big), kindCloseSend, 1, 2, nil),
		read("large-message.server-to-client.hex"); !bytes.Equal(got, want) {
		t.Errorf("large-message differs (%d vs %d bytes)", len(got), len(want))
	}
	got = appendPacket(nil, kindError, 1, 1, marshalError(0, `protocol error: unknown rpc: "/coder.tailnet.v2.Tailnet/NoSuchMethod"`))
	if want := read("unknown-rpc.server-to-client.hex"); !bytes.HasPrefix(want, got) {
		t.Errorf("unknown-rpc:\n got %x\nwant %x", got, want)
	}
	got = appendPacket(nil, kindMessage, 1, 1, first)
	got = appendPacket(got, kindError, 1, 2, marshalError(0, "subscribe failed"))
	if want := read("handler-error.server-to-client.hex"); !bytes.HasPrefix(want, got) {
		t.Errorf("handler-error:\n got %x\nwant %x", got, want)
	}
	// Client side: our reader must parse the reference request.
	pr := newPacketReader(bytes.NewReader(read("snapshot-then-diff.client-to-server.hex")))
	for i, kind := range []byte{kindInvoke, kindMessage, kindCloseSend} {
		p, err := pr.next()
		if err != nil || p.kind != kind || p.mid != uint64(i+1) {
			t.Fatalf("client packet %d: %+v %v", i, p, err)
		}
	}
}

func TestHTTPAPI(t *testing.T) {
	e := startPeer(t, nil)
	code, body, ct := e.get(t, "/api/v2/users/me", "peer-token")
	if code != 200 || !strings.Contains(body, `"id":"`+testOwner+`","username":"alice"`) || ct != "application/json" {
		t.Errorf("users/me: %d %s %s", code, body, ct)
	}
	code, body, _ = e.get(t, "/api/v2/users/me", "wrong")
	if code != 401 || body != `{"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"API key is invalid."}` {
		t.Errorf("bad token: %d %s", code, body)
	}
	e.control(t, "/suffix?value=corp", "")
	e.control(t, "/username?value=bob", "")
	if code, body, _ = e.get(t, "/api/v2/workspaceagents/connection", "peer-token"); code != 200 ||
		body != `{"derp_map":null,"derp_force_websockets":false,"disable_direct_connections":false,"hostname_suffix":"corp"}` {
		t.Errorf("connection: %d %s", code, body)
	}
	if _, body, _ = e.get(t, "/api/v2/users/me", "peer-token"); !strings.Contains(body, `"username":"bob"`) {
		t.Errorf("username not changed: %s", body)
	}
	if code, body, _ = e.get(t, "/api/v2/nope", "peer-token"); code != 404 || body != `{"message":"Route not found."}` {
		t.Errorf("404: %d %s", code, body)
	}
	if code, body, _ = e.get(t, "/api/v2/tailnet?version=2.7", "peer-token"); code != 400 || !strings.Contains(body, "behind requested minor version 2.3") {
		t.Errorf("version: %d %s", code, body)
	}
	for _, c := range []struct {
		status int
		body   string
	}{
		{409, `{"message":"Non-browser connections are disabled for your deployment."}`},
		{500, `{"message":"Internal error.","detail":"database unreachable"}`},
		{403, `forbidden`},
	} {
		e.control(t, fmt.Sprintf("/fail?path=tailnet&status=%d", c.status), "")
		if code, body, _ = e.get(t, "/api/v2/tailnet?version=2.3", "peer-token"); code != c.status || body != c.body {
			t.Errorf("fail %d: %d %s", c.status, code, body)
		}
	}
	e.control(t, "/fail?path=all&status=401", "")
	if code, _, _ = e.get(t, "/api/v2/users/me", "peer-token"); code != 401 {
		t.Errorf("fail all: %d", code)
	}
	e.control(t, "/fail?path=all&status=0", "")
	if code, _, _ = e.get(t, "/api/v2/users/me", "peer-token"); code != 200 {
		t.Errorf("fail cleared: %d", code)
	}
	s := e.stats(t)
	if s.TailnetRequests != 4 || s.TailnetConnections != 0 || s.UsersMeRequests != 5 || !s.TokenHeaderSeen || s.OriginSeen || s.LastVersion != "2.3" {
		t.Errorf("stats: %+v", s)
	}
}

func TestWorkspaceUpdates(t *testing.T) {
	e := startPeer(t, nil)
	tn := e.dial(t, nil)
	tn.invoke(t, workspaceUpdatesMethod)
	if u := tn.update(t); !u.empty() {
		t.Fatalf("first message of an empty set: %+v", u)
	}
	const wsID, a1, a2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	e.control(t, "/state", `{"workspaces":[{"id":"`+wsID+`","name":"dev","status":"RUNNING","agents":[{"id":"`+a1+`","name":"main"}]}]}`)
	u := tn.update(t)
	if len(u.upsertedWorkspaces) != 1 || u.upsertedWorkspaces[0].Name != "dev" || u.upsertedWorkspaces[0].Status != 3 ||
		len(u.upsertedAgents) != 1 || u.upsertedAgents[0].WorkspaceID.String() != wsID || u.upsertedAgents[0].Name != "main" {
		t.Fatalf("upsert: %+v", u)
	}
	// Status change and an agent swapped: workspace upserted, agent upserted + deleted.
	e.control(t, "/state", `{"workspaces":[{"id":"`+wsID+`","name":"dev","status":"stopped","agents":[{"id":"`+a2+`","name":"b"}]}]}`)
	u = tn.update(t)
	if len(u.upsertedWorkspaces) != 1 || u.upsertedWorkspaces[0].Status != 5 || len(u.upsertedAgents) != 1 ||
		u.upsertedAgents[0].ID.String() != a2 || len(u.deletedAgents) != 1 || u.deletedAgents[0].ID.String() != a1 {
		t.Fatalf("change: %+v", u)
	}
	// The same state again sends nothing; then deleting the workspace.
	e.control(t, "/state", `{"workspaces":[{"id":"`+wsID+`","name":"dev","status":"stopped","agents":[{"id":"`+a2+`","name":"b"}]}]}`)
	e.control(t, "/state", `{"workspaces":[]}`)
	u = tn.update(t)
	if len(u.deletedWorkspaces) != 1 || u.deletedWorkspaces[0].Name != "dev" || len(u.deletedAgents) != 1 || u.deletedAgents[0].WorkspaceID.String() != wsID {
		t.Fatalf("delete: %+v", u)
	}
	s := e.statsWhen(t, func(s stats) bool { return s.MessagesSent >= 4 })
	if s.ActiveStreams != 1 || s.MessagesSent != 4 || s.LastOwnerID != testOwner || s.TailnetConnections != 1 {
		t.Errorf("stats: %+v", s)
	}

	e.control(t, "/drpc-error?code=12&message=workspace+updates+not+supported", "")
	p, err := tn.next(t)
	if err != nil || p.kind != kindError || binary.BigEndian.Uint64(p.data) != 12 || string(p.data[8:]) != "workspace updates not supported" {
		t.Fatalf("drpc-error: %+v %v", p, err)
	}
	if _, err := tn.next(t); err != io.EOF {
		t.Fatalf("after the error the stream should be closed (FIN): %v", err)
	}

	// A second stream on the same session, ended by /drpc-close.
	st, err := tn.sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	tn2 := &tunnel{ws: tn.ws, sess: tn.sess, st: st, pr: newPacketReader(st)}
	tn2.invoke(t, workspaceUpdatesMethod)
	tn2.update(t)
	e.control(t, "/drpc-close", "")
	if p, err := tn2.next(t); err != nil || p.kind != kindClose || p.mid != 2 {
		t.Fatalf("drpc-close: %+v %v", p, err)
	}

	// Unknown method.
	st, _ = tn.sess.OpenStream()
	tn3 := &tunnel{ws: tn.ws, sess: tn.sess, st: st, pr: newPacketReader(st)}
	tn3.invoke(t, "/coder.tailnet.v2.Tailnet/Coordinate")
	if p, err := tn3.next(t); err != nil || p.kind != kindError || p.mid != 1 ||
		string(p.data[8:]) != `protocol error: unknown rpc: "/coder.tailnet.v2.Tailnet/Coordinate"` {
		t.Fatalf("unknown rpc: %+v %v", p, err)
	}
}

func TestLargeSnapshot(t *testing.T) {
	e := startPeer(t, nil)
	e.control(t, "/generate?workspaces=100000&agents=1&prefix=ws", "")
	tn := e.dial(t, nil)
	tn.invoke(t, workspaceUpdatesMethod)
	start := time.Now()
	u := tn.update(t)
	if len(u.upsertedWorkspaces) != 100000 || len(u.upsertedAgents) != 100000 {
		t.Fatalf("got %d workspaces, %d agents", len(u.upsertedWorkspaces), len(u.upsertedAgents))
	}
	t.Logf("snapshot of %d bytes in %v", len(u.marshal()), time.Since(start))
	w := u.upsertedWorkspaces[12345]
	a := u.upsertedAgents[12345]
	if w.Name != "ws-12345" || w.ID.String() != "00000000-0000-4000-8000-000000003039" ||
		a.ID.String() != "a0000000-0000-4000-8000-000000003039" || a.Name != "main" || a.WorkspaceID != w.ID {
		t.Fatalf("scheme: %v %v %v", w.Name, w.ID, a.ID)
	}
	// Two agents per workspace: a0, a1, and the addresses differ.
	e.control(t, "/generate?workspaces=3&agents=2&prefix=x", "")
	// 99997 workspaces deleted with their agents; 3 renamed; agent 0 keeps its
	// id (renamed main -> a0), agent 1 is new.
	u = tn.update(t)
	if len(u.deletedWorkspaces) != 99997 || len(u.upsertedWorkspaces) != 3 || len(u.upsertedAgents) != 6 || len(u.deletedAgents) != 99997 {
		t.Fatalf("regenerate: %d %d %d %d", len(u.deletedWorkspaces), len(u.upsertedWorkspaces), len(u.upsertedAgents), len(u.deletedAgents))
	}
	if got := u.upsertedAgents[3].ID.String(); got != "a0000000-0000-4001-8000-000000000001" || u.upsertedAgents[3].Name != "a1" {
		t.Fatalf("agent (1,1): %s %s", got, u.upsertedAgents[3].Name)
	}
}

func TestSplitWrites(t *testing.T) {
	e := startPeer(t, func(o *options) { o.splitWrites = 5 })
	e.control(t, "/generate?workspaces=50&agents=2", "")
	tn := e.dial(t, nil)
	tn.invoke(t, workspaceUpdatesMethod)
	if u := tn.update(t); len(u.upsertedAgents) != 100 {
		t.Fatalf("got %d agents", len(u.upsertedAgents))
	}
}

func TestDrops(t *testing.T) {
	for _, how := range []string{"websocket", "reset", "midframe", "goaway"} {
		t.Run(how, func(t *testing.T) {
			e := startPeer(t, nil)
			var yamuxLog syncBuffer
			tn := e.dialLog(t, nil, &yamuxLog)
			tn.invoke(t, workspaceUpdatesMethod)
			tn.update(t)
			e.control(t, "/drop?how="+how, "")
			defer func() { t.Logf("client yamux log: %s", yamuxLog.String()) }()
			_, err := tn.next(t)
			if err == nil {
				t.Fatal("stream still alive")
			}
			t.Logf("client sees: %v", err)
			select {
			case <-tn.sess.CloseChan():
			case <-time.After(10 * time.Second):
				t.Fatal("session not closed")
			}
			time.Sleep(100 * time.Millisecond)
			raw := e.rawErr.String()
			t.Logf("client TCP read error: %s", raw)
			if reset := strings.Contains(raw, "reset by peer"); reset != (how == "reset" || how == "midframe") {
				t.Errorf("TCP ended with %q", raw)
			}
		})
	}
}

func TestFreeze(t *testing.T) {
	e := startPeer(t, nil)
	cfg := yamux.DefaultConfig()
	cfg.ConnectionWriteTimeout = 500 * time.Millisecond
	cfg.EnableKeepAlive = false
	tn := e.dial(t, cfg)
	tn.invoke(t, workspaceUpdatesMethod)
	tn.update(t)
	if _, err := tn.sess.Ping(); err != nil {
		t.Fatal(err)
	}
	e.control(t, "/freeze", "")
	if _, err := tn.sess.Ping(); err != yamux.ErrTimeout {
		t.Fatalf("ping while frozen: %v", err)
	}
	e.control(t, "/generate?workspaces=1", "")
	tn2 := e.dial(t, nil) // a new connection is served normally
	tn2.invoke(t, workspaceUpdatesMethod)
	if u := tn2.update(t); len(u.upsertedWorkspaces) != 1 {
		t.Fatal("new connection during freeze")
	}
	e.control(t, "/thaw", "")
	if u := tn.update(t); len(u.upsertedWorkspaces) != 1 {
		t.Fatal("no update after thaw")
	}
}

func TestWSPing(t *testing.T) {
	e := startPeer(t, func(o *options) { o.wsPingInterval = 50 * time.Millisecond })
	tn := e.dial(t, nil)
	tn.invoke(t, workspaceUpdatesMethod)
	tn.update(t)
	deadline := time.Now().Add(5 * time.Second)
	for e.stats(t).WSPongs < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no pongs counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// While frozen, the peer's own yamux keepalive fails, but the socket must stay
// open (a hung server, not a closed one) until /thaw, which then closes it.
func TestFreezeOutlivesKeepalive(t *testing.T) {
	e := startPeer(t, func(o *options) {
		o.keepAliveInterval = 100 * time.Millisecond
		o.writeTimeout = 100 * time.Millisecond
	})
	cfg := yamux.DefaultConfig()
	cfg.EnableKeepAlive = false
	tn := e.dial(t, cfg)
	tn.invoke(t, workspaceUpdatesMethod)
	tn.update(t)
	e.control(t, "/freeze", "")
	select {
	case <-tn.sess.CloseChan():
		t.Fatal("session closed while frozen")
	case <-time.After(1500 * time.Millisecond):
	}
	if s := e.stats(t); s.ActiveConnections != 1 {
		t.Fatalf("active connections while frozen: %d", s.ActiveConnections)
	}
	e.control(t, "/thaw", "")
	select {
	case <-tn.sess.CloseChan():
	case <-time.After(5 * time.Second):
		t.Fatal("session not closed after thaw (its keepalive had failed)")
	}
}
