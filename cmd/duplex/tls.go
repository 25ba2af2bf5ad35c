package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// clientTLS is the client configuration of --insecure (any certificate is
// accepted) or --cacert FILE (the server's certificate must be signed by
// one of the PEM certificates in FILE, or be one of them); nil means the
// system's roots.
func clientTLS(insecure bool, caFile string) (*tls.Config, error) {
	switch {
	case insecure && caFile != "":
		return nil, usagef("--insecure and --cacert exclude each other")
	case insecure:
		return &tls.Config{InsecureSkipVerify: true}, nil
	case caFile != "":
		pemBytes, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usagef("bad --cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, usagef("bad --cacert %q: no PEM certificate in it", caFile)
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	return nil, nil
}

// certificateHint adds to a failed TLS verification the flags that get
// past it; other errors come back as they are.
func certificateHint(err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return fmt.Errorf("%w; trust the server's certificate with --cacert FILE, or skip the check with --insecure", err)
	}
	return err
}

// writeCertificate writes the leaf certificate of cert in PEM to a new file
// in the temporary directory and returns the file's name.
func writeCertificate(cert tls.Certificate) (string, error) {
	f, err := os.CreateTemp("", "duplex-self-signed-*.pem")
	if err != nil {
		return "", err
	}
	err = pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// fingerprint is the SHA-256 digest of a DER certificate, as browsers and
// openssl x509 -fingerprint -sha256 show it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// serverTLS returns the TLS configuration for the --tls-cert/--tls-key pair, or
// for a certificate made now (--tls-self-signed), or nil for plain HTTP.
func serverTLS(certFile, keyFile string, selfSigned bool) (*tls.Config, error) {
	switch {
	case selfSigned:
		cert, err := selfSignedCert(time.Now())
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case certFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the TLS certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}

// selfSignedCert makes an ECDSA P-256 certificate for localhost, 127.0.0.1 and
// ::1, valid for a day from now.
func selfSignedCert(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"duplex self-signed"}, CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
