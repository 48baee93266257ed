"use strict";
// The shared worker: one stream of /events for every tab of this chat's
// page in this browser, so that tabs do not use up the browser's six
// connections to the host. It keeps the last lines and the state, and
// replays them to each tab that connects. Peer strings are data here:
// the tabs insert them as text.

const maxLines = 2000; // as many as a tab shows
const ports = new Set();
let source = null;
let lines = [];
let state = null;
let error = "";

function broadcast(m) {
  for (const p of ports) p.postMessage(m);
}

function open() {
  error = "";
  source = new EventSource("/events");
  source.addEventListener("reset", () => {
    lines = [];
    broadcast({ t: "reset" });
  });
  source.addEventListener("state", (e) => {
    state = JSON.parse(e.data);
    broadcast({ t: "state", state });
  });
  source.addEventListener("line", (e) => {
    const line = JSON.parse(e.data);
    lines.push(line);
    if (lines.length > maxLines) lines.shift();
    broadcast({ t: "line", line });
  });
  source.onopen = () => {
    error = "";
    broadcast({ t: "error", text: "" });
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      source = null; // a tab that connects next tries again
      error = "the chat refused the stream (too many open, or signed out): reload to try again";
    } else {
      error = "lost the chat: reconnecting…";
    }
    broadcast({ t: "error", text: error });
  };
}

onconnect = (e) => {
  const port = e.ports[0];
  ports.add(port);
  port.onmessage = (m) => {
    if (m.data && m.data.t === "bye") ports.delete(port);
  };
  port.postMessage({ t: "reset" });
  if (state) port.postMessage({ t: "state", state });
  for (const line of lines) port.postMessage({ t: "line", line });
  if (error) port.postMessage({ t: "error", text: error });
  if (!source) open();
};
