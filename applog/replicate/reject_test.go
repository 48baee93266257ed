package replicate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"scuttle/applog"
	"scuttle/topology/testkit"
)

// Wire builders for hand-made peers.

func wireFrame(typ byte, payload []byte) []byte {
	return append(appendFrameHeader(nil, typ, len(payload)), payload...)
}

func wireHello(v uint64) []byte { return wireFrame(frameHello, binary.AppendUvarint(nil, v)) }

func wireHeads(hs ...head) []byte {
	var p []byte
	for _, h := range hs {
		p = appendID(p, h.ID)
		p = binary.AppendUvarint(p, h.Head)
	}
	return wireFrame(frameHeads, p)
}

func wireHeadsEnd() []byte { return wireFrame(frameHeadsEnd, nil) }

// wireRecords frames recs as seqs first… of log id, with the signed flags
// the fake records themselves carry.
func wireRecords(id applog.ID, first uint64, recs ...[]byte) []byte {
	p := appendID(nil, id)
	p = binary.AppendUvarint(p, first)
	for _, r := range recs {
		p = appendRecord(p, r, fakeSigned(r))
	}
	return wireFrame(frameRecords, p)
}

// wireRecordsFlagged is wireRecords with every signed flag set to signed.
func wireRecordsFlagged(id applog.ID, first uint64, signed bool, recs ...[]byte) []byte {
	p := appendID(nil, id)
	p = binary.AppendUvarint(p, first)
	for _, r := range recs {
		p = appendRecord(p, r, signed)
	}
	return wireFrame(frameRecords, p)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestReject(t *testing.T) {
	x, y := testID("x"), testID("y")
	lx := build(x, 1100, 5) // signed at 5, 10, 15, …
	lu := build(x, 1100, 0) // signed only at 1100
	ly := build(y, 20, 5)   // another log
	start := cat(wireHello(Version), wireHeadsEnd())
	forged := bytes.Clone(lx[14]) // seq 15, signed
	forged[len(forged)-1] ^= 1
	reordered := [][]byte{lx[0], lx[1], lx[2], lx[3], lx[4], lx[6], lx[5], lx[7], lx[8], lx[9]}
	oversized := binary.AppendUvarint(nil, MaxFrameSize+1)

	tests := []struct {
		name  string
		input []byte
		want  error // errors.Is
		held  int   // records of x the victim holds after
		eof   bool  // the peer closes after its input (else it waits for the victim to)
	}{
		{"forged signature", cat(start, wireRecords(x, 1, lx[:10]...), wireRecords(x, 11, append(lx[10:14:14], forged)...)), applog.ErrSignature, 10, false},
		{"gap", cat(start, wireRecords(x, 1, lx[:10]...), wireRecords(x, 16, lx[15:20]...)), ErrProtocol, 10, false},
		{"gap at start", cat(start, wireRecords(x, 2, lx[1:10]...)), ErrProtocol, 0, false},
		{"reordered", cat(start, wireRecords(x, 1, reordered...)), applog.ErrGap, 5, false},
		{"reordered across frames", cat(start, wireRecords(x, 1, lx[:7]...), wireRecords(x, 7, lx[7:10]...)), ErrProtocol, 5, false},
		{"oversized frame", cat(start, wireRecords(x, 1, lx[:10]...), oversized), ErrFrameSize, 10, false},
		{"garbage first", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ErrMalformed, 0, true},
		{"garbage later", cat(start, wireRecords(x, 1, lx[:10]...), []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}), ErrMalformed, 10, false},
		{"unknown frame type", cat(start, wireFrame(200, []byte{1, 2})), ErrMalformed, 0, false},
		{"empty frame", cat(start, []byte{0}), ErrMalformed, 0, false},
		{"fork proof that does not check", cat(start, wireFrame(frameFork, []byte("SCTLFRK\x01 not a proof"))), ErrMalformed, 0, false},
		{"empty fork frame", cat(start, wireFrame(frameFork, nil)), ErrMalformed, 0, false},
		{"fork frame in a version 1 session", cat(wireHello(1), wireHeadsEnd(), wireFrame(frameFork, nil)), ErrMalformed, 0, false},
		{"fork frame before heads end", cat(wireHello(Version), wireFrame(frameFork, nil)), ErrProtocol, 0, false},
		{"future version, accepted", cat(wireFrame(frameHello, []byte{Version + 1, 9, 9}), wireHeadsEnd(), wireRecords(x, 1, lx[:10]...)), io.EOF, 10, true},
		{"version 0", cat(wireHello(0), wireHeadsEnd()), ErrVersion, 0, false},
		{"records before heads end", cat(wireHello(Version), wireRecords(x, 1, lx[:5]...)), ErrProtocol, 0, false},
		{"second hello", cat(start, wireHello(Version)), ErrProtocol, 0, false},
		{"unsigned run too long", cat(start, wireRecords(x, 1, lu[:applog.MaxSignedRun+1]...)), ErrProtocol, 0, false},
		{"interleaved unsigned run", cat(start, wireRecords(x, 1, lx[:7]...), wireRecords(y, 1, ly[:5]...)), ErrProtocol, 5, false},
		{"lying signed flag", cat(start, wireRecordsFlagged(x, 1, true, lx[:3]...)), applog.ErrUnsigned, 0, false},
		{"ends inside a run", cat(start, wireRecords(x, 1, lx[:8]...)), ErrProtocol, 5, true},
		{"bad log id", cat(start, wireFrame(frameRecords, append(appendID(nil, "NOT-AN-ID"), 1, 2, 1, 1))), ErrMalformed, 0, false},
		{"record length past the end", cat(start, wireFrame(frameRecords, append(appendID(nil, x), 1, 200, 1))), ErrMalformed, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckLeaks(t)
			victim := newFake()
			if !tc.eof {
				// Something of its own, which must stay. (With eof, the
				// victim has nothing to send, so that the peer's close
				// cannot fail a write before the input is read.)
				victim.appendN(y, 20, 5)
			}
			before := victim.snapshot()
			vc, pc := net.Pipe()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- Serve(ctx, vc, victim, &Options{Peer: "evil"}) }()
			pr := bufio.NewReader(pc)
			if tc.eof {
				// Read the victim's hello and heads first, so that it has
				// nothing left to write when the peer closes.
				var buf []byte
				for typ := byte(0); typ != frameHeadsEnd; {
					var err error
					if typ, _, buf, err = readFrame(pr, buf); err != nil {
						t.Fatalf("victim's heads: %v", err)
					}
				}
			}
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				io.Copy(io.Discard, pr) // until the victim closes
			}()
			pc.Write(tc.input) // may fail once the victim closes: fine
			if tc.eof {
				pc.Close()
			} else {
				defer pc.Close()
			}
			err := recvErr(t, errc, "Serve")
			<-drained
			if !errors.Is(err, tc.want) {
				t.Errorf("Serve: got %v, want %v", err, tc.want)
			}
			t.Log(err)
			want := before
			if tc.held > 0 {
				want[x] = lx[:tc.held]
			}
			if d := equalLogs(victim.snapshot(), want); d != "" {
				t.Errorf("victim's logs: %s", d)
			}
		})
	}
}

// TestRejectClosesConn: a bad frame closes the connection at once, even
// while the peer keeps it open.
func TestRejectClosesConn(t *testing.T) {
	testkit.CheckLeaks(t)
	victim := newFake()
	vc, pc := net.Pipe()
	defer pc.Close()
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), vc, victim, nil) }()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, pc)
	}()
	pc.Write(cat(wireHello(Version), wireHeadsEnd(), binary.AppendUvarint(nil, MaxFrameSize+1)))
	select {
	case <-drained: // EOF: the victim closed
	case <-time.After(waitTimeout):
		t.Fatal("connection not closed after an oversized frame")
	}
	if err := <-errc; !errors.Is(err, ErrFrameSize) {
		t.Fatalf("Serve: got %v, want ErrFrameSize", err)
	}
}

// byteConn is a connection whose peer sent in, and that discards what is
// written to it.
type byteConn struct{ io.Reader }

func (byteConn) Write(p []byte) (int, error) { return len(p), nil }
func (byteConn) Close() error                { return nil }

// FuzzServe runs a session whose peer sends arbitrary bytes: Serve must
// return (no panic, no hang), with an error of this package or the
// store's, and the store must hold only what its Insert accepted.
func FuzzServe(f *testing.F) {
	x := testID("x")
	lx := build(x, 30, 5)
	start := cat(wireHello(Version), wireHeads(head{x, 3}), wireHeadsEnd())
	f.Add(cat(start, wireRecords(x, 1, lx[:10]...), wireRecords(x, 11, lx[10:20]...)))
	f.Add(cat(start, wireRecords(x, 4, lx[3:12]...)))
	f.Add(cat(start, wireRecords(x, 1, lx[:7]...), wireRecords(testID("y"), 1, lx[:5]...)))
	f.Add(cat(start, wireRecordsFlagged(x, 1, true, lx[:3]...)))
	f.Add(wireHello(0))
	f.Add(cat(start, wireGet(part{Kind: partBlock, Index: 1}), wireGet(part{Kind: partManifest})))
	f.Add(cat(start, wireFrame(frameData, append(appendPart(nil, part{Kind: partBlock}), 1))))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := newFake()
		load(st, map[applog.ID][][]byte{x: lx}, map[applog.ID]int{x: 5})
		err := Serve(context.Background(), byteConn{bytes.NewReader(data)}, st, nil)
		if err == nil {
			t.Fatal("Serve returned nil")
		}
		for id, l := range st.snapshot() {
			// Re-insert into an empty store: the fake's Insert checks the
			// seqs, chain and signatures.
			if n, err := newFake().Insert(id, l); err != nil || n != len(l) {
				t.Fatalf("log %s holds an invalid chain: %d of %d, %v", id.Short(), n, len(l), err)
			}
		}
	})
}

// FuzzServeDB is FuzzServe against a real database in a temp dir: after
// a session of arbitrary bytes the database verifies clean (framing,
// chains, signatures), and every record it holds came verbatim from the
// peer. The author's key is fixed, so that the seeds mean the same in
// every fuzzing process.
func FuzzServeDB(f *testing.F) {
	adir := f.TempDir()
	if err := os.WriteFile(filepath.Join(adir, "key"), ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), 0o600); err != nil {
		f.Fatal(err)
	}
	author := openDB(f, adir)
	appendEntries(f, author, 30, 5)
	x := author.ID()
	lx, _ := dbRecords(f, author, x, 1, 30)
	start := cat(wireHello(Version), wireHeads(head{x, 3}), wireHeadsEnd())
	f.Add(cat(start, wireRecords(x, 1, lx[:10]...), wireRecords(x, 11, lx[10:20]...)))
	f.Add(cat(start, wireRecords(x, 4, lx[3:12]...)))
	f.Add(cat(start, wireRecords(x, 1, lx[:7]...), wireRecords(testID("y"), 1, lx[:5]...)))
	f.Add(cat(start, wireRecordsFlagged(x, 1, true, lx[:3]...)))
	f.Add(wireHello(0))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := applog.Open(t.TempDir(), &applog.Options{LockWait: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := Serve(context.Background(), byteConn{bytes.NewReader(data)}, FromDB(db), nil); err == nil {
			t.Fatal("Serve returned nil")
		}
		var probs []error
		if err := db.Verify(func(err error) { probs = append(probs, err) }); err != nil || len(probs) > 0 {
			t.Fatalf("Verify: %v %v", err, probs)
		}
		for id, h := range db.Heads() {
			if id == db.ID() {
				continue
			}
			got, _ := dbRecords(t, db, id, 1, h)
			for i, r := range got {
				if !bytes.Contains(data, r) {
					t.Fatalf("log %s seq %d is not a record the peer sent", id.Short(), i+1)
				}
			}
		}
	})
}
