package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// Dialing through the http.Client the rest of a program uses: its cookie
// jar sends the session cookie a login set, and its transport dials.
func ExampleDial_httpClient() {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cr3t", Path: "/"})
	})
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), websocket.MessageText, []byte("hello, session "+cookie.Value))
		c.Close(websocket.StatusNormalClosure, "")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{}}
	if _, err := client.Get(srv.URL + "/login"); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/feed", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	// Output: hello, session s3cr3t
}
