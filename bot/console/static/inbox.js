// The officers' inbox (issue 15): the list and the open ticket's thread are refreshed when
// the server's event stream says the tickets changed. The forms are outside #live, so a
// reply being typed is never replaced.
"use strict";

function setupInbox() {
  const live = document.getElementById("live");
  if (!live) return;
  let pending = false;
  async function refresh() {
    if (pending) return;
    pending = true;
    try {
      const response = await fetch(live.dataset.url, { credentials: "same-origin" });
      if (response.ok) {
        live.innerHTML = await response.text();
        live.dataset.version = String(Number(live.dataset.version || "0") + 1);
      }
    } finally {
      pending = false;
    }
  }
  const events = new EventSource(live.dataset.events);
  events.onmessage = () => { refresh(); };
  live.dataset.stream = "connecting";
  events.onopen = () => { live.dataset.stream = "open"; };
}

document.addEventListener("DOMContentLoaded", setupInbox);
