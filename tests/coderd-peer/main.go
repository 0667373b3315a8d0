// Command coderd-peer is a fake coderd for coderdns's integration tests: the
// /api/v2/tailnet WorkspaceUpdates stream (websocket -> yamux -> DRPC), built
// from the libraries coderd uses, plus a control API to drive scenarios.
// See README.md in this folder.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func main() {
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("coderd-peer: ")
	var (
		listen      = flag.String("listen", "127.0.0.1:0", "address of the coderd API (port 0 = pick one)")
		control     = flag.String("control", "127.0.0.1:0", "address of the control API (port 0 = pick one)")
		tlsDir      = flag.String("tls-dir", "", "directory to write ca.pem into (required unless --plain-http)")
		plainHTTP   = flag.Bool("plain-http", false, "serve plain HTTP instead of HTTPS")
		untrusted   = flag.Bool("untrusted", false, "serve a certificate signed by a CA other than the one in ca.pem")
		username    = flag.String("username", "alice", "username of /api/v2/users/me")
		userID      = flag.String("user-id", "497f6eca-6276-4993-bfeb-53cbbbba6f08", "user id of /api/v2/users/me")
		suffix      = flag.String("hostname-suffix", "coder", "hostname_suffix of /api/v2/workspaceagents/connection")
		keepAlive   = flag.Duration("keepalive-interval", 30*time.Second, "yamux KeepAliveInterval")
		writeTO     = flag.Duration("write-timeout", 10*time.Second, "yamux ConnectionWriteTimeout (also the ping answer deadline)")
		splitWrites = flag.Int("split-writes", 0, "if > 0, cut every write into websocket messages of at most N bytes")
		wsPing      = flag.Duration("ws-ping-interval", 0, "ping the websocket this often (coderd: 15s; 0 = never)")
		strictOwner = flag.Bool("strict-owner", false, "a WorkspaceUpdates request for an owner other than --user-id gets an empty set")
		lifeline    = flag.Bool("stdin-lifeline", false, "exit when standard input reaches EOF (so a crashed test leaves no peer behind)")
		verbose     = flag.Bool("verbose", false, "log connections and errors to stderr")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: coderd-peer [flags]\nThe expected session token is read from $CODER_PEER_TOKEN (default \"peer-token\").\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	uid, err := parseUUID(*userID)
	if err != nil {
		log.Fatalf("--user-id: %v", err)
	}
	if *splitWrites < 0 || *keepAlive <= 0 || *writeTO <= 0 {
		log.Fatal("--split-writes must be >= 0, --keepalive-interval and --write-timeout > 0")
	}
	// The token comes from the environment so that it does not show in ps.
	token := os.Getenv("CODER_PEER_TOKEN")
	if token == "" {
		token = "peer-token"
	}

	p := newPeer(options{
		token:             token,
		userID:            uid,
		keepAliveInterval: *keepAlive,
		writeTimeout:      *writeTO,
		splitWrites:       *splitWrites,
		wsPingInterval:    *wsPing,
		strictOwner:       *strictOwner,
		verbose:           *verbose,
	}, *username, *suffix)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if !*plainHTTP {
		if *tlsDir == "" {
			log.Fatal("--tls-dir is required unless --plain-http")
		}
		cert, err := makeCerts(*tlsDir, *untrusted)
		if err != nil {
			log.Fatal(err)
		}
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{cert},
			// No "h2": the websocket upgrade hijacks an HTTP/1.1 connection.
			NextProtos: []string{"http/1.1"},
			MinVersion: tls.VersionTLS12,
		})
	}
	cln, err := net.Listen("tcp", *control)
	if err != nil {
		log.Fatal(err)
	}

	serve(p, ln, cln)

	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "ready https=%d control=%d\n", ln.Addr().(*net.TCPAddr).Port, cln.Addr().(*net.TCPAddr).Port)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}

	if *lifeline {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	select {}
}

// serve runs the coderd API on ln and the control API on cln.
func serve(p *peer, ln, cln net.Listener) {
	api := &http.Server{
		Handler: p,
		// Keep the accepted connection so /drop?how=reset can reach the TCP socket.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, rawConnKey{}, c)
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	if p.opts.verbose {
		api.ErrorLog = log.Default()
	}
	go func() { log.Fatal(api.Serve(ln)) }()
	go func() { log.Fatal((&http.Server{Handler: p.controlHandler()}).Serve(cln)) }()
}

// makeCerts makes a CA and writes it to dir/ca.pem (its key to dir/ca.key, 0600),
// or reuses the pair when both are there already, so that a peer restarted with the
// same --tls-dir (coderd coming back) is trusted by a client that read ca.pem once. It
// returns a fresh leaf for 127.0.0.1, ::1 and localhost. With untrusted, the leaf is
// signed by a second CA that is written nowhere, so a client trusting ca.pem rejects it.
func makeCerts(dir string, untrusted bool) (tls.Certificate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return tls.Certificate{}, err
	}
	ca, caKey, err := loadCA(dir)
	if err != nil {
		if ca, caKey, err = makeCA("coderd-peer test CA"); err != nil {
			return tls.Certificate{}, err
		}
		keyDER, err := x509.MarshalECPrivateKey(caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := writeFileAtomically(filepath.Join(dir, "ca.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
			return tls.Certificate{}, err
		}
		if err := writeFileAtomically(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
			return tls.Certificate{}, err
		}
	}
	if untrusted {
		if ca, caKey, err = makeCA("coderd-peer untrusted CA"); err != nil {
			return tls.Certificate{}, err
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func makeCA(name string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func randSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// loadCA reads dir/ca.pem and dir/ca.key written by an earlier start.
func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, nil, err
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		return nil, nil, fmt.Errorf("%s: not PEM", dir)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func writeFileAtomically(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
