// The officers' inbox (issue 15): the list and the open ticket's thread are refreshed when
// the server's event stream says the tickets changed. The forms are outside #live, so a
// reply being typed is never replaced.
"use strict";

function setupInbox() {
  const live = document.getElementById("live");
  if (!live) return;
  let pending = false;
  let again = false; // a change announced while a fetch was under way: fetch once more
  async function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    try {
      do {
        again = false;
        const response = await fetch(live.dataset.url, { credentials: "same-origin" });
        if (response.ok) {
          live.innerHTML = await response.text();
          live.dataset.version = String(Number(live.dataset.version || "0") + 1);
        }
      } while (again);
    } finally {
      pending = false;
    }
  }
  const events = new EventSource(live.dataset.events);
  events.onmessage = () => { refresh(); };
  live.dataset.stream = "connecting";
  // What changed between the page's rendering and the stream's start is fetched once the
  // stream is open; every later change is announced by the stream.
  events.onopen = () => { live.dataset.stream = "open"; refresh(); };
}

document.addEventListener("DOMContentLoaded", setupInbox);
