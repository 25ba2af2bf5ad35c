// permessage-deflate client for Duplex interop tests, on Node's ws package.
//
// Usage: node node_deflate_client.js ws://127.0.0.1:PORT/echo
//
// Offers permessage-deflate with ws's defaults (threshold 0, so that every
// message is compressed), prints "extensions VALUE" (the server's answer),
// then sends three rounds of a short UTF-8 text, 64 KiB of repetitive text and
// 1 MiB of random bytes, each checked against its echo, and prints "ok". On a
// mismatch it prints "FAIL ..." and exits with 1.
"use strict";
const crypto = require("crypto");
const WebSocket = require("ws");

function fail(msg) {
  console.log("FAIL " + msg);
  process.exit(1);
}

const ws = new WebSocket(process.argv[2], { perMessageDeflate: { threshold: 0 }, maxPayload: 64 << 20 });
const messages = [
  "héllo wörld — 你好 🎉",
  "duplex says hello; ".repeat(3450).slice(0, 64 << 10),
  crypto.randomBytes(1 << 20),
];
let sent = 0;
function sendNext() {
  const msg = messages[sent % messages.length];
  ws.send(msg, { binary: typeof msg !== "string" });
}
ws.on("upgrade", (res) => console.log("extensions " + (res.headers["sec-websocket-extensions"] || "")));
ws.on("open", sendNext);
ws.on("message", (data, isBinary) => {
  const msg = messages[sent % messages.length];
  const binary = typeof msg !== "string";
  const same = binary ? data.equals(msg) : data.toString() === msg;
  if (isBinary !== binary || !same) fail(`message ${sent}: got ${isBinary ? "binary" : "text"} of ${data.length}`);
  sent++;
  if (sent < 3 * messages.length) sendNext(); else ws.close(1000);
});
ws.on("close", (code) => {
  if (sent < 3 * messages.length) fail(`closed with ${code} after ${sent} messages`);
  console.log("ok");
});
ws.on("error", (err) => fail(err.message));
