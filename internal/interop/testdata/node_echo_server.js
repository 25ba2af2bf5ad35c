// Echo server for Duplex interop tests, on Node's ws package.
//
// Usage: node node_echo_server.js deflate|plain
//
// Prints "listening PORT" once it listens on 127.0.0.1, then "closed CODE
// REASON" each time a connection ends. Echoes every message with its type;
// the text message "close:CODE:REASON" makes it close with that code. With
// deflate it asks for client_no_context_takeover and a 2^10-byte server window.
"use strict";
const { WebSocketServer } = require("ws");

const perMessageDeflate = process.argv[2] === "deflate"
  ? { clientNoContextTakeover: true, serverMaxWindowBits: 10, threshold: 0 }
  : false;
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate, maxPayload: 64 << 20 });
wss.on("listening", () => console.log("listening " + wss.address().port));
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    if (!isBinary) {
      const text = data.toString();
      if (text.startsWith("close:")) {
        const [code, ...reason] = text.slice("close:".length).split(":");
        ws.close(Number(code), reason.join(":"));
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on("close", (code, reason) => console.log(`closed ${code} ${reason.toString()}`));
});
