// The Duplex chat page. It joins /chat?room=NAME on the server that served
// it and exchanges text messages holding one JSON object each:
//   {"name": "ann", "text": "hello", "time": "2025-06-01T12:00:00.000Z"}
// The server relays them unchanged to everyone in the room, the sender too.
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

  function setStatus(state, text, detail) {
    status.dataset.state = state;
    statusText.textContent = text;
    status.title = detail || text;
    sendButton.disabled = state !== "open";
  }

  function chatURL(r) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/chat?room=" + encodeURIComponent(r);
  }

  function connect(r) {
    clearTimeout(retryTimer);
    if (ws) {
      ws.onclose = null;
      ws.close(1000, "changing room");
    }
    if (r !== room) joined = false;
    room = r;
    setStatus("connecting", "connecting to #" + r + "…");
    const sock = new WebSocket(chatURL(r));
    ws = sock;
    sock.onopen = () => {
      sock.wasOpen = true;
      retry = 0;
      setStatus("open", "connected to #" + r);
      notice(joined ? "Reconnected to #" + r : "You joined #" + r + " as " + nameInput.value.trim());
      joined = true;
    };
    sock.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        show({ name: "", text: "[binary message]", time: "" });
        return;
      }
      let m = null;
      try { m = JSON.parse(ev.data); } catch (_) { /* not JSON: shown raw */ }
      if (m && typeof m === "object" && typeof m.text === "string") {
        show({ name: String(m.name || ""), text: m.text, time: String(m.time || "") });
      } else {
        show({ name: "", text: ev.data, time: "" });
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      const why = "closed with " + ev.code + (ev.reason ? ": " + ev.reason : "");
      const wait = Math.min(1000 * 2 ** retry, 10000);
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
