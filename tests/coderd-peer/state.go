package main

// The workspace set a fake coderd serves, the WorkspaceUpdate diffs between two
// sets (computed the way coderd's produceUpdate does), and the hand-written
// protobuf encoding of tailnet.proto's WorkspaceUpdate (no code generation:
// only four small messages are involved).

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

type uuid [16]byte

func (u uuid) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func parseUUID(s string) (uuid, error) {
	var u uuid
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || (len(s) != 32 && len(s) != 36) {
		return u, fmt.Errorf("invalid UUID %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("invalid UUID %q: %v", s, err)
	}
	return u, nil
}

// Workspace_Status values from tailnet.proto.
var statusNames = []string{"UNKNOWN", "PENDING", "STARTING", "RUNNING", "STOPPING",
	"STOPPED", "FAILED", "CANCELING", "CANCELED", "DELETING", "DELETED"}

// parseStatus accepts a status name (any case) or its number; "" means RUNNING,
// the common case in tests.
func parseStatus(s string) (int32, error) {
	if s == "" {
		return 3, nil
	}
	for i, n := range statusNames {
		if strings.EqualFold(n, s) {
			return int32(i), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return int32(n), nil
	}
	return 0, fmt.Errorf("unknown workspace status %q", s)
}

func statusName(s int32) string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return strconv.Itoa(int(s))
}

type agent struct {
	ID   uuid
	Name string
}

type workspace struct {
	ID     uuid
	Name   string
	Status int32
	Agents []agent
}

// snapshot is an immutable workspace set. Order is kept so that messages are
// deterministic (coderd iterates a map, so its order is random; clients must
// not depend on order either way).
type snapshot struct {
	workspaces []workspace
	byID       map[uuid]int
}

func newSnapshot(ws []workspace) (*snapshot, error) {
	s := &snapshot{workspaces: ws, byID: make(map[uuid]int, len(ws))}
	agents := map[uuid]bool{}
	for i, w := range ws {
		if _, dup := s.byID[w.ID]; dup {
			return nil, fmt.Errorf("duplicate workspace id %s", w.ID)
		}
		s.byID[w.ID] = i
		for _, a := range w.Agents {
			if agents[a.ID] {
				return nil, fmt.Errorf("duplicate agent id %s", a.ID)
			}
			agents[a.ID] = true
		}
	}
	return s, nil
}

var emptySnapshot, _ = newSnapshot(nil)

// update is a decoded/encodable WorkspaceUpdate.
type update struct {
	upsertedWorkspaces []workspace // Agents unused
	upsertedAgents     []agentRef
	deletedWorkspaces  []workspace
	deletedAgents      []agentRef
}

type agentRef struct {
	ID          uuid
	Name        string
	WorkspaceID uuid
}

func (u *update) empty() bool {
	return len(u.upsertedWorkspaces)+len(u.upsertedAgents)+len(u.deletedWorkspaces)+len(u.deletedAgents) == 0
}

// diff follows coderd's produceUpdate (coderd/workspaceupdates.go):
//   - a new workspace is upserted together with all its agents;
//   - a workspace whose name or status changed is upserted (without agents);
//   - agents of a kept workspace: new or changed (same id, other name) ones are
//     upserted, removed ones deleted (with id, name and workspace_id);
//   - a removed workspace is deleted (id, name, status) and so are its agents.
//
// One deliberate difference: coderd diffs agents as (id, name) pairs, so a
// renamed agent shows up both upserted (new name) and deleted (old name) in the
// same message. Here a renamed agent is only upserted, which is what a client
// applying "upserts then deletes" needs to keep it.
func diff(old, cur *snapshot) *update {
	u := &update{}
	for _, nw := range cur.workspaces {
		oi, exists := old.byID[nw.ID]
		if !exists {
			u.upsertedWorkspaces = append(u.upsertedWorkspaces, nw)
			for _, a := range nw.Agents {
				u.upsertedAgents = append(u.upsertedAgents, agentRef{a.ID, a.Name, nw.ID})
			}
			continue
		}
		ow := old.workspaces[oi]
		if ow.Name != nw.Name || ow.Status != nw.Status {
			u.upsertedWorkspaces = append(u.upsertedWorkspaces, nw)
		}
		oldAgents := make(map[uuid]string, len(ow.Agents))
		for _, a := range ow.Agents {
			oldAgents[a.ID] = a.Name
		}
		newAgents := make(map[uuid]bool, len(nw.Agents))
		for _, a := range nw.Agents {
			newAgents[a.ID] = true
			if name, ok := oldAgents[a.ID]; !ok || name != a.Name {
				u.upsertedAgents = append(u.upsertedAgents, agentRef{a.ID, a.Name, nw.ID})
			}
		}
		for _, a := range ow.Agents {
			if !newAgents[a.ID] {
				u.deletedAgents = append(u.deletedAgents, agentRef{a.ID, a.Name, nw.ID})
			}
		}
	}
	for _, ow := range old.workspaces {
		if _, exists := cur.byID[ow.ID]; exists {
			continue
		}
		u.deletedWorkspaces = append(u.deletedWorkspaces, ow)
		for _, a := range ow.Agents {
			u.deletedAgents = append(u.deletedAgents, agentRef{a.ID, a.Name, ow.ID})
		}
	}
	return u
}

// Protobuf (tailnet.proto):
//   WorkspaceUpdate { 1 repeated Workspace upserted_workspaces; 2 repeated Agent upserted_agents;
//                     3 repeated Workspace deleted_workspaces; 4 repeated Agent deleted_agents }
//   Workspace { 1 bytes id; 2 string name; 3 Status status }
//   Agent     { 1 bytes id; 2 string name; 3 bytes workspace_id }
// proto3 leaves out fields holding their default value; Go's marshaller writes
// fields in number order, and so do we (the DRPC fixtures show the same bytes).

func appendWorkspaceMsg(b []byte, w *workspace) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, w.ID[:])
	if w.Name != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, w.Name)
	}
	if w.Status != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(w.Status))
	}
	return b
}

func appendAgentMsg(b []byte, a *agentRef) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, a.ID[:])
	if a.Name != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, a.Name)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, a.WorkspaceID[:])
	return b
}

func (u *update) marshal() []byte {
	var b, tmp []byte
	embed := func(field protowire.Number, msg []byte) {
		b = protowire.AppendTag(b, field, protowire.BytesType)
		b = protowire.AppendBytes(b, msg)
	}
	for i := range u.upsertedWorkspaces {
		tmp = appendWorkspaceMsg(tmp[:0], &u.upsertedWorkspaces[i])
		embed(1, tmp)
	}
	for i := range u.upsertedAgents {
		tmp = appendAgentMsg(tmp[:0], &u.upsertedAgents[i])
		embed(2, tmp)
	}
	for i := range u.deletedWorkspaces {
		tmp = appendWorkspaceMsg(tmp[:0], &u.deletedWorkspaces[i])
		embed(3, tmp)
	}
	for i := range u.deletedAgents {
		tmp = appendAgentMsg(tmp[:0], &u.deletedAgents[i])
		embed(4, tmp)
	}
	return b
}

// decodeOwnerID reads WorkspaceUpdatesRequest { 1 bytes workspace_owner_id }.
// It returns the raw field (any length) so a wrong length can be reported.
func decodeOwnerID(b []byte) ([]byte, error) {
	var owner []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			owner = append([]byte(nil), v...)
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return owner, nil
}

// generate builds the deterministic state of POST /generate (see README.md):
//
//	workspace i:        00000000-0000-4000-8000-IIIIIIIIIIII   (12 hex digits of i)
//	agent k of ws i:    a0000000-0000-4KKK-8000-IIIIIIIIIIII   (3 hex digits of k)
//	agent address:      fd60:627a:a42b:4KKK:8000:IIII:IIII:IIII (UUID bytes 6..15)
func generate(n, k int, prefix string) ([]workspace, error) {
	if n < 0 || n >= 1<<48 || k < 0 || k > 4095 {
		return nil, fmt.Errorf("need 0 <= workspaces < 2^48 and 0 <= agents <= 4095")
	}
	ws := make([]workspace, n)
	for i := 0; i < n; i++ {
		w := &ws[i]
		w.Name = prefix + "-" + strconv.Itoa(i)
		w.Status = 3 // RUNNING
		w.ID = genUUID(0x00, 0x4000, uint64(i))
		w.Agents = make([]agent, k)
		for j := 0; j < k; j++ {
			name := "a" + strconv.Itoa(j)
			if k == 1 {
				name = "main"
			}
			w.Agents[j] = agent{ID: genUUID(0xa0, 0x4000|uint16(j), uint64(i)), Name: name}
		}
	}
	return ws, nil
}

func genUUID(first byte, b67 uint16, i uint64) uuid {
	var u uuid
	u[0] = first
	u[6], u[7] = byte(b67>>8), byte(b67)
	u[8] = 0x80
	for j := 0; j < 6; j++ {
		u[15-j] = byte(i >> (8 * j))
	}
	return u
}
