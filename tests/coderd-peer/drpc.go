package main

// DRPC (storj.io/drpc v0.0.33) framing, written by hand because there is no
// Debian package for it, and the server side of the one RPC coderd offers a
// workspace-updates client: /coder.tailnet.v2.Tailnet/WorkspaceUpdates.
//
// A frame is: control byte (bit7 control, bits6..1 kind, bit0 done), varint
// stream id, varint message id, varint length, data. A packet is one or more
// frames with the same ids and kind; senders cut packets into 64 KiB frames
// with done set only on the last. See /work/shared/docs/coderd-protocol.md §3
// and the transcripts in /work/shared/fixtures/drpc/.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	kindInvoke         = 1
	kindMessage        = 2
	kindError          = 3
	kindCancel         = 4
	kindClose          = 5
	kindCloseSend      = 6
	kindInvokeMetadata = 7

	drpcSplitSize = 64 << 10 // drpcwire.SplitData with n=0
	drpcMaxPacket = 4 << 20  // coder's drpcsdk.MaxMessageSize, the reader's cap

	workspaceUpdatesMethod = "/coder.tailnet.v2.Tailnet/WorkspaceUpdates"
)

func appendFrame(b []byte, kind byte, done bool, sid, mid uint64, data []byte) []byte {
	c := kind << 1
	if done {
		c |= 1
	}
	b = append(b, c)
	b = protowire.AppendVarint(b, sid)
	b = protowire.AppendVarint(b, mid)
	b = protowire.AppendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// appendPacket cuts data into 64 KiB frames like drpcwire.SplitData; an empty
// packet is one empty frame with done set.
func appendPacket(b []byte, kind byte, sid, mid uint64, data []byte) []byte {
	for {
		n := len(data)
		if n > drpcSplitSize {
			n = drpcSplitSize
		}
		done := n == len(data)
		b = appendFrame(b, kind, done, sid, mid, data[:n])
		data = data[n:]
		if done {
			return b
		}
	}
}

func marshalError(code uint64, msg string) []byte {
	b := make([]byte, 8, 8+len(msg))
	binary.BigEndian.PutUint64(b, code)
	return append(b, msg...)
}

type frame struct {
	kind     byte
	done     bool
	control  bool
	sid, mid uint64
	data     []byte
}

func readFrame(r *bufio.Reader, max int) (frame, error) {
	var f frame
	c, err := r.ReadByte()
	if err != nil {
		return f, err
	}
	f.control = c&0x80 != 0
	f.kind = (c >> 1) & 0x3f
	f.done = c&1 != 0
	if f.sid, err = binary.ReadUvarint(r); err != nil {
		return f, unexpectedEOF(err)
	}
	if f.mid, err = binary.ReadUvarint(r); err != nil {
		return f, unexpectedEOF(err)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return f, unexpectedEOF(err)
	}
	if n > uint64(max) {
		return f, fmt.Errorf("drpc: frame of %d bytes exceeds the %d byte cap", n, max)
	}
	f.data = make([]byte, n)
	if _, err := io.ReadFull(r, f.data); err != nil {
		return f, unexpectedEOF(err)
	}
	return f, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

type packet struct {
	kind     byte
	sid, mid uint64
	data     []byte
}

// packetReader assembles frames into packets with drpcwire.Reader's rules:
// a frame with a new id drops the unfinished packet, ids must not go
// backwards, the kind must not change inside a packet, packets are capped.
type packetReader struct {
	r        *bufio.Reader
	max      int
	cur      *packet
	lastSid  uint64
	lastMid  uint64
	anyFrame bool
}

func newPacketReader(r io.Reader) *packetReader {
	return &packetReader{r: bufio.NewReaderSize(r, 64<<10), max: drpcMaxPacket}
}

func (pr *packetReader) next() (packet, error) {
	for {
		f, err := readFrame(pr.r, pr.max)
		if err != nil {
			return packet{}, err
		}
		if f.control && f.kind != kindCancel {
			continue // "ignore if unknown": no other control frames exist
		}
		if pr.anyFrame && (f.sid < pr.lastSid || (f.sid == pr.lastSid && f.mid < pr.lastMid)) {
			return packet{}, errors.New("drpc: id monotonicity violation")
		}
		pr.anyFrame, pr.lastSid, pr.lastMid = true, f.sid, f.mid
		if pr.cur != nil && (pr.cur.sid != f.sid || pr.cur.mid != f.mid) {
			pr.cur = nil
		}
		if pr.cur == nil {
			pr.cur = &packet{kind: f.kind, sid: f.sid, mid: f.mid}
		} else if pr.cur.kind != f.kind {
			return packet{}, errors.New("drpc: packet kind change")
		}
		pr.cur.data = append(pr.cur.data, f.data...)
		if len(pr.cur.data) > pr.max {
			return packet{}, errors.New("drpc: packet exceeds the maximum size")
		}
		if f.done {
			p := *pr.cur
			pr.cur = nil
			return p, nil
		}
	}
}

// drpcWriter numbers the server's packets 1, 2, 3... on the client's stream id
// and writes each packet with one Write (yamux cuts it by window).
type drpcWriter struct {
	mu  sync.Mutex
	w   io.Writer
	sid uint64
	mid uint64
}

func (dw *drpcWriter) send(kind byte, data []byte) error {
	dw.mu.Lock()
	defer dw.mu.Unlock()
	dw.mid++
	_, err := dw.w.Write(appendPacket(nil, kind, dw.sid, dw.mid, data))
	return err
}
