// Client for Duplex interop tests, on Node's ws package.
//
// Usage: node node_client.js ws://127.0.0.1:PORT deflate|plain
//
// Talks to the Go test server's endpoints (/echo, /burst, /count, /close) and
// prints one line per result: "extensions VALUE", "ok NAME", "server-closed
// CODE REASON". On the first mismatch it prints "FAIL ..." and exits with 1.
// With deflate it offers client_no_context_takeover and server_max_window_bits=10.
"use strict";
const crypto = require("crypto");
const WebSocket = require("ws");

const [base, mode] = process.argv.slice(2);
const UTF8 = "héllo wörld — 你好 🎉";
const LARGE = 16 << 20;
const BURST = 1000;
const options = {
  perMessageDeflate: mode === "deflate"
    ? { clientNoContextTakeover: true, serverMaxWindowBits: 10, threshold: 0 }
    : false,
  maxPayload: 64 << 20,
};

function fail(msg) {
  console.log("FAIL " + msg);
  process.exit(1);
}

// open connects to path and returns the socket with a queue of
// {data, isBinary} messages and a promise of its close {code, reason}.
function open(path) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, options);
    const inbox = [];
    const waiters = [];
    ws.closed = new Promise((done) => ws.on("close", (code, reason) => {
      for (const w of waiters.splice(0)) w.reject(new Error("closed " + code));
      done({ code, reason: reason.toString() });
    }));
    ws.on("message", (data, isBinary) => {
      const w = waiters.shift();
      if (w) w.resolve({ data, isBinary }); else inbox.push({ data, isBinary });
    });
    ws.recv = () => inbox.length
      ? Promise.resolve(inbox.shift())
      : new Promise((res, rej) => waiters.push({ resolve: res, reject: rej }));
    // ws.extensions names the extensions only; the parameters are in the answer.
    ws.on("upgrade", (res) => { ws.answeredExtensions = res.headers["sec-websocket-extensions"] || ""; });
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

async function main() {
  let ws = await open("/echo");
  console.log("extensions " + ws.answeredExtensions);
  const cases = [
    ["text", "hello"],
    ["utf8", UTF8],
    ["empty-text", ""],
    ["binary", Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ["empty-binary", Buffer.alloc(0)],
    ["large-binary", crypto.randomBytes(LARGE)],
    ["large-text", UTF8.repeat(Math.floor(LARGE / Buffer.byteLength(UTF8)))],
    ["repetitive-text", "duplex says hello; ".repeat(3450).slice(0, 64 << 10)],
    ["random-binary", crypto.randomBytes(1 << 20)],
  ];
  for (const [name, msg] of cases) {
    const binary = typeof msg !== "string";
    ws.send(msg, { binary });
    const { data, isBinary } = await ws.recv();
    const same = binary ? data.equals(msg) : data.toString() === msg;
    if (isBinary !== binary || !same) {
      fail(`${name}: sent ${binary ? "binary" : "text"} of ${msg.length}, got ${isBinary ? "binary" : "text"} of ${data.length}`);
    }
  }
  ws.close(4003, "client says bye");
  await ws.closed;
  console.log("ok messages");

  ws = await open(`/burst?n=${BURST}`);
  for (let i = 0; i < BURST; i++) {
    const { data } = await ws.recv();
    if (data.toString() !== String(i)) fail(`burst-to-client: message ${i} is ${data.toString()}`);
  }
  ws.close(1000);
  await ws.closed;
  console.log("ok burst-to-client");

  ws = await open("/count");
  for (let i = 0; i < BURST; i++) ws.send(String(i));
  ws.send("end");
  const answer = (await ws.recv()).data.toString();
  if (answer !== `ok ${BURST}`) fail(`burst-to-server: the server answered ${answer}`);
  ws.close(1000);
  await ws.closed;
  console.log("ok burst-to-server");

  ws = await open("/close?code=4002&reason=go+says+bye");
  const { code, reason } = await ws.closed;
  console.log(`server-closed ${code} ${reason}`);
}

main().catch((err) => fail(err.stack || String(err)));
