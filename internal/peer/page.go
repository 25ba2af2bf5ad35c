package peer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// OpenPage starts browser p (Chromium or Firefox) headless, with a fresh
// profile in t.TempDir, on the page at rawURL, and stops it when the test
// ends or after timeout. certDER, when not nil, is the server's self-signed
// certificate, which the browser then accepts for the URL's host and port:
// Chromium ignores certificate errors, Firefox gets an override for that
// certificate in its profile. The page reports to the test through the
// test's own server; OpenPage only runs the browser. The test is skipped (or
// failed in CI) when the browser is missing.
func OpenPage(t testing.TB, p Peer, rawURL string, certDER []byte, timeout time.Duration) {
	t.Helper()
	f := Require(t, p)
	if f.Path == "" {
		return
	}
	profile := t.TempDir()
	var args []string
	switch p {
	case Chromium:
		for _, name := range chromiumFlags {
			args = append(args, "--"+name)
		}
		args = append(args, "--user-data-dir="+profile)
		if certDER != nil {
			args = append(args, "--ignore-certificate-errors")
		}
	case Firefox:
		if err := firefoxProfile(profile, rawURL, certDER); err != nil {
			t.Fatalf("peer %s: %v", p, err)
		}
		args = []string{"--headless", "--no-remote", "--profile", profile}
	default:
		t.Fatalf("peer %s is not a browser", p)
	}
	args = append(args, rawURL)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, f.Path, args...)
	// A home of its own keeps the browser out of the user's settings and caches.
	cmd.Env = append(os.Environ(), "HOME="+profile, "MOZ_CRASHREPORTER_DISABLE=1")
	out := &lockedWriter{mu: new(sync.Mutex), w: new(strings.Builder)}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("peer %s: start %s: %v", p, f.Path, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			out.mu.Lock()
			t.Logf("peer %s output:\n%s", p, out.w)
			out.mu.Unlock()
		}
	})
}

// firefoxPrefs turn off what Firefox would fetch on its own, so that the
// only network use is the test's loopback server, and HTTP/3.
const firefoxPrefs = `user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("browser.ping-centre.telemetry", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.blocklist.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.http.http3.enable", false);
user_pref("network.http.http2.websockets", true);
user_pref("security.OCSP.enabled", 0);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("browser.region.network.url", "");
user_pref("geo.provider.network.url", "");
`

// firefoxProfile writes the prefs and, for certDER, a certificate override
// for the page's host and port into a fresh profile directory.
func firefoxProfile(dir, rawURL string, certDER []byte) error {
	if err := os.WriteFile(filepath.Join(dir, "user.js"), []byte(firefoxPrefs), 0o600); err != nil {
		return err
	}
	if certDER == nil {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(certDER)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	// The format of Firefox's cert_override.txt: host:port:originAttributes,
	// the hash algorithm's OID (SHA-256), the certificate's fingerprint.
	override := "# PSM Certificate Override Settings file\n# This is a generated file!  Do not edit.\n" +
		host + ":" + port + ":\tOID.2.16.840.1.101.3.4.2.1\t" + strings.Join(hexes, ":") + "\t\n"
	return os.WriteFile(filepath.Join(dir, "cert_override.txt"), []byte(override), 0o600)
}
