// The Duplex chat page. It joins /chat?room=NAME on the server that served
// it and exchanges text messages holding one JSON object each:
//   {"name": "ann", "text": "hello", "time": "2025-06-01T12:00:00.000Z"}
// The server relays them unchanged to everyone in the room, the sender too.
//
// It offers the subprotocol duplex.chat.v2: the server then wraps each
// message as {"pos": "EPOCH:SEQ", "text": "..."}. When the connection drops,
// the page reconnects by itself (exponential backoff with jitter) with
// &since=<the last position it saw>, and the server first sends what the
// page missed (or {"reset": true, "pos": ...} when its history does not
// reach back). The page marks the gap it filled, or the reset, and drops
// any message at or before a position it has shown.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const roomInput = $("room"), nameInput = $("name"), textInput = $("text");
  const list = $("messages"), empty = $("empty");
  const status = $("status"), statusText = $("status-text");
  const sendButton = $("send");

  const params = new URLSearchParams(location.search);
  roomInput.value = params.get("room") || localStorage.getItem("duplex.room") || "lobby";
  nameInput.value = params.get("name") || localStorage.getItem("duplex.name") ||
    "guest-" + Math.floor(1000 + Math.random() * 9000);

  let ws = null;
  let room = "";
  let retry = 0;
  let retryTimer = 0;
  let joined = false; // the room was open at least once since the last join
  // The position of the last message shown, "EPOCH:SEQ" (duplex.chat.v2).
  let lastPos = "";
  // While a reconnection recovers missed messages: the marker that counts
  // them and the time the socket opened (messages sent before it count).
  let gap = null;

  function setStatus(state, text, detail) {
    status.dataset.state = state;
    statusText.textContent = text;
    status.title = detail || text;
    sendButton.disabled = state !== "open";
  }

  function chatURL(r) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const since = lastPos ? "&since=" + encodeURIComponent(lastPos) : "";
    return scheme + "//" + location.host + "/chat?room=" + encodeURIComponent(r) + since;
  }

  // parsePos splits "EPOCH:SEQ"; it returns null for anything else.
  function parsePos(p) {
    const i = typeof p === "string" ? p.lastIndexOf(":") : -1;
    if (i <= 0) return null;
    const seq = Number(p.slice(i + 1));
    return Number.isSafeInteger(seq) ? { epoch: p.slice(0, i), seq: seq } : null;
  }

  // seen reports whether the message at pos was shown already.
  function seen(pos) {
    const p = parsePos(pos), last = parsePos(lastPos);
    return p !== null && last !== null && p.epoch === last.epoch && p.seq <= last.seq;
  }

  // showText shows one chat message as the server relayed it.
  function showText(data) {
    let m = null;
    try { m = JSON.parse(data); } catch (_) { /* not JSON: shown raw */ }
    if (m && typeof m === "object" && typeof m.text === "string") {
      m = { name: String(m.name || ""), text: m.text, time: String(m.time || "") };
    } else {
      m = { name: "", text: data, time: "" };
    }
    show(m);
    return m;
  }

  // countMissed adds m to the gap marker when it was sent before the
  // reconnection; the first later message ends the recovery.
  function countMissed(m) {
    if (!gap) return;
    const sent = Date.parse(m.time);
    if (isNaN(sent) || sent > gap.openedAt) {
      gap = null;
      return;
    }
    gap.n++;
    gap.el.hidden = false;
    gap.el.textContent = gap.n + (gap.n === 1 ? " message" : " messages") + " while you were away";
  }

  // receiveV2 handles one duplex.chat.v2 message.
  function receiveV2(data) {
    let e = null;
    try { e = JSON.parse(data); } catch (_) { /* not an envelope */ }
    if (!e || typeof e !== "object") {
      showText(data);
      return;
    }
    if (e.reset === true) {
      gap = null;
      const p = document.createElement("p");
      p.className = "notice reset";
      p.textContent = "Messages sent while you were away could not be recovered; the room goes on from here.";
      append(p);
      lastPos = typeof e.pos === "string" ? e.pos : "";
      return;
    }
    if (seen(e.pos)) return; // shown already
    if (typeof e.pos === "string") lastPos = e.pos;
    if (typeof e.text === "string") {
      countMissed(showText(e.text));
    } else {
      gap = null;
      show({ name: "", text: "[binary message]", time: "" });
    }
  }

  function connect(r) {
    clearTimeout(retryTimer);
    if (ws) {
      ws.onclose = null;
      ws.close(1000, "changing room");
    }
    if (r !== room) {
      joined = false;
      lastPos = ""; // positions belong to a room
    }
    room = r;
    setStatus("connecting", "connecting to #" + r + "…");
    const sock = new WebSocket(chatURL(r), ["duplex.chat.v2"]);
    ws = sock;
    sock.onopen = () => {
      sock.wasOpen = true;
      retry = 0;
      setStatus("open", "connected to #" + r);
      notice(joined ? "Reconnected to #" + r : "You joined #" + r + " as " + nameInput.value.trim());
      gap = null;
      if (joined && lastPos && sock.protocol === "duplex.chat.v2") {
        const el = document.createElement("p");
        el.className = "notice gap";
        el.hidden = true; // until a missed message arrives
        append(el);
        gap = { el: el, n: 0, openedAt: Date.now() };
      }
      joined = true;
    };
    sock.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        show({ name: "", text: "[binary message]", time: "" });
      } else if (sock.protocol === "duplex.chat.v2") {
        receiveV2(ev.data);
      } else {
        showText(ev.data);
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      const why = "closed with " + ev.code + (ev.reason ? ": " + ev.reason : "");
      // Exponential backoff with jitter: somewhere in the upper half of
      // the step, so that a server's clients do not all come back at once.
      const step = Math.min(1000 * 2 ** retry, 10000);
      const wait = step / 2 + Math.random() * step / 2;
      retry++;
      if (sock.wasOpen) notice("Disconnected (" + why + ")");
      setStatus("closed", "offline, retrying in " + Math.round(wait / 1000) + "s", why);
      retryTimer = setTimeout(() => connect(room), wait);
    };
  }

  const palette = ["#4f5bd5", "#d6457a", "#1f9d8a", "#d9822b", "#7b4fd5", "#2b8ad9", "#5a9d1f", "#c2410c"];
  function colorOf(name) {
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return palette[h % palette.length];
  }

  function timeOf(iso) {
    const d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function append(el) {
    const stick = atBottom();
    empty.hidden = true;
    list.appendChild(el);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function notice(text) {
    const p = document.createElement("p");
    p.className = "notice";
    p.textContent = text;
    append(p);
  }

  function show(m) {
    const name = m.name.trim() || "anonymous";
    const row = document.createElement("div");
    row.className = "msg" + (m.name && m.name === nameInput.value.trim() ? " mine" : "");
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.style.background = colorOf(name);
    avatar.textContent = name.slice(0, 1);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const meta = document.createElement("div");
    meta.className = "meta";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = name;
    const when = document.createElement("time");
    when.textContent = timeOf(m.time);
    if (m.time) when.dateTime = m.time;
    meta.append(who, when);
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = m.text;
    bubble.append(meta, body);
    row.append(avatar, bubble);
    append(row);
  }

  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const r = roomInput.value.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(r)) {
      roomInput.setCustomValidity("Use 1 to 64 letters, digits, - or _");
      roomInput.reportValidity();
      return;
    }
    roomInput.setCustomValidity("");
    localStorage.setItem("duplex.room", r);
    localStorage.setItem("duplex.name", nameInput.value.trim());
    if (r !== room || !ws || ws.readyState > WebSocket.OPEN) connect(r);
  });

  $("send-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = textInput.value;
    if (!text.trim() || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ name: nameInput.value.trim(), text: text, time: new Date().toISOString() }));
    textInput.value = "";
    textInput.focus();
  });

  setStatus("idle", "not connected");
  connect(roomInput.value.trim());
})();
