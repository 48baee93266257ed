"use strict";
// The page: lines and state come from the shared worker (worker.js), or
// from a stream of this tab's own where there is no SharedWorker; typed
// lines go to POST /type. Every string of the chat is inserted as text
// (textContent), never as markup.

performance.mark("scuttle-script");
const maxShown = 2000; // lines kept in the page
const $ = (id) => document.getElementById(id);
let firstShown = false;
let streamError = "";
let sendError = "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function two(n) {
  return String(n).padStart(2, "0");
}

// hhmm returns the local time of ms (Unix milliseconds) as HH:MM.
function hhmm(ms) {
  if (!ms) return "--:--";
  const d = new Date(ms);
  return two(d.getHours()) + ":" + two(d.getMinutes());
}

function showError() {
  const text = sendError || streamError;
  $("error").textContent = text;
  $("error").hidden = !text;
}

function showLine(l) {
  const list = $("lines");
  const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  const li = el("li", l.info ? "info" : l.own ? "own" : "peer");
  // As the terminal shows them: "#ROOM alice> " in a private room,
  // "alice → bob> " for a private message.
  if (l.room || l.to) li.classList.add("private");
  let from = l.info ? "info" : l.from;
  if (l.room) from = l.room + " " + from;
  if (l.to) from += " \u2192 " + l.to;
  li.append(el("span", "time", hhmm(l.time)));
  li.append(el("span", "from", from));
  li.append(el("span", "text", l.text));
  if (l.image && /^[a-z2-7]{52}$/.test(l.image)) {
    // An image the chat holds complete: a content id, from this server
    // only (CSP img-src 'self'), the one URL the page makes.
    const img = el("img", "image");
    img.src = "/image/" + l.image;
    img.alt = l.text;
    li.append(img);
  }
  if (l.log) li.title = l.log;
  list.append(li);
  while (list.childElementCount > maxShown) list.firstElementChild.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
  if (!firstShown) {
    firstShown = true;
    performance.mark("scuttle-first-line");
  }
}

function showState(s) {
  $("me").textContent = s.me;
  document.title = s.me + " · scuttle chat";
  const peers = s.peers === 1 ? "1 peer" : s.peers + " peers";
  $("status").textContent = [s.room || "public room", s.private ? "private network" : "public network", peers].join(" · ");
  $("who").replaceChildren(
    ...s.who.map((p) => {
      const li = el("li", p.connected ? "here" : "away", p.name);
      li.append(" ", el("span", "when", p.connected ? "here" : "seen " + hhmm(p.since)));
      li.append(el("span", "key", p.log));
      return li;
    }),
  );
  $("names").replaceChildren(
    ...s.names.map((n) => {
      const li = el("li", n.own ? "own" : "", n.name + (n.own ? " (you)" : ""));
      li.append(" ", el("span", "how", n.how));
      li.append(el("span", "key", n.log));
      return li;
    }),
  );
}

function handle(m) {
  switch (m.t) {
    case "reset":
      $("lines").replaceChildren();
      break;
    case "line":
      showLine(m.line);
      break;
    case "state":
      showState(m.state);
      break;
    case "error":
      streamError = m.text;
      showError();
      break;
  }
}

// ownStream is this tab's own stream, where there is no SharedWorker.
function ownStream() {
  const source = new EventSource("/events");
  source.addEventListener("reset", () => handle({ t: "reset" }));
  source.addEventListener("state", (e) => handle({ t: "state", state: JSON.parse(e.data) }));
  source.addEventListener("line", (e) => handle({ t: "line", line: JSON.parse(e.data) }));
  source.onopen = () => handle({ t: "error", text: "" });
  source.onerror = () =>
    handle({
      t: "error",
      text:
        source.readyState === EventSource.CLOSED
          ? "the chat refused the stream (too many open, or signed out): reload to try again"
          : "lost the chat: reconnecting…",
    });
}

function connect() {
  if (typeof SharedWorker !== "function") {
    ownStream();
    return;
  }
  const w = new SharedWorker("/worker.js", { name: "scuttle" });
  w.port.onmessage = (e) => handle(e.data);
  w.port.start();
  addEventListener("pagehide", () => w.port.postMessage({ t: "bye" }));
  addEventListener("pageshow", (e) => {
    if (e.persisted) location.reload(); // the worker forgot this tab at pagehide
  });
}

$("say").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("line");
  const line = input.value;
  if (!line.trim()) return;
  input.value = ""; // at once: the next line can be typed while this one goes
  try {
    const r = await fetch("/type", {
      method: "POST",
      body: line,
      headers: { "Content-Type": "text/plain;charset=utf-8" },
    });
    sendError = r.ok ? "" : await r.text();
  } catch (err) {
    sendError = "could not send the line: " + err.message;
  }
  if (sendError && input.value === "") input.value = line; // not sent: give it back
  showError();
});

connect();
