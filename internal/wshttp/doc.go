// Package wshttp holds the HTTP rules that the opening handshakes of the
// core package and of package legacy share: header tokens and the
// same-origin policy of servers.
package wshttp
