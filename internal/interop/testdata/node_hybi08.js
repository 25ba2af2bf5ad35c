// Hybi-08 peer for Duplex interop tests, on Node's ws package.
//
// Usage: node node_hybi08.js client ws://127.0.0.1:PORT/echo
//   connects with protocolVersion 8, sends a text and a binary message,
//   prints "echo text VALUE" and "echo binary HEX" for the answers, closes
//   with 1000 and prints "closed CODE".
// Usage: node node_hybi08.js server
//   prints "listening PORT", echoes every message, and prints
//   "version V" for each connection's Sec-WebSocket-Version.
"use strict";
const WebSocket = require("ws");
const [mode, url] = process.argv.slice(2);

if (mode === "client") {
  const ws = new WebSocket(url, { protocolVersion: 8, origin: url.replace(/^ws/, "http") });
  let n = 0;
  ws.on("open", () => {
    ws.send("hybi-08 says hello");
    ws.send(Buffer.from([0, 1, 2, 255]));
  });
  ws.on("message", (data, isBinary) => {
    console.log(isBinary ? "echo binary " + data.toString("hex") : "echo text " + data.toString());
    if (++n === 2) ws.close(1000);
  });
  ws.on("close", (code) => { console.log("closed " + code); process.exit(0); });
  ws.on("error", (err) => { console.log("FAIL " + err.message); process.exit(1); });
} else {
  const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 }, () => {
    console.log("listening " + wss.address().port);
  });
  wss.on("connection", (ws, req) => {
    console.log("version " + req.headers["sec-websocket-version"]);
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}
