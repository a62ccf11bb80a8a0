// The console's only script: the preview chat and the line numbers of the flow editor. It posts the edited YAML,
// the citizen's words (or a pressed button) and the sandboxed conversation state to the
// server, which runs them through the same engine the bot uses; nothing is stored.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function bubble(log, text, who) {
  const div = document.createElement("div");
  div.className = "bubble " + who;
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
  return div;
}

function setupPreview() {
  const form = document.getElementById("preview-form");
  if (!form) return;
  const log = document.getElementById("preview-log");
  const input = document.getElementById("preview-text");
  const editor = document.getElementById("source");
  let state = null;

  async function send(body) {
    const response = await fetch(form.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({
        file: form.dataset.file, content: editor.value, state: state, ...body,
      }),
    });
    const data = await response.json();
    if (data.errors) {
      bubble(log, "Alur belum valid:\n" + data.errors.join("\n"), "bot error");
      return;
    }
    state = data.state;
    for (const message of data.messages) {
      const div = bubble(log, (message.title ? message.title + "\n" : "") + message.text, "bot");
      for (const button of message.buttons) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.label;
        b.addEventListener("click", () => {
          bubble(log, button.label, "me");
          send({ payload: button.payload });
        });
        div.appendChild(document.createElement("br"));
        div.appendChild(b);
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    bubble(log, text, "me");
    input.value = "";
    send({ text: text });
  });
  const reset = document.getElementById("preview-reset");
  if (reset) reset.addEventListener("click", () => { state = null; log.textContent = ""; });
}

// The YAML editor's line numbers: a gutter beside the textarea (wrap="off", so one text line
// is one row), renumbered on every edit and scrolled with the text. No editor library.
function setupGutter() {
  const editor = document.getElementById("source");
  const gutter = document.getElementById("gutter");
  if (!editor || !gutter) return;
  let shown = -1;
  function renumber() {
    const count = editor.value.split("\n").length;
    if (count !== shown) {
      const numbers = [];
      for (let i = 1; i <= count; i++) numbers.push(i);
      // One blank row more than the text: room for the textarea's horizontal scrollbar.
      gutter.textContent = numbers.join("\n") + "\n ";
      shown = count;
    }
    gutter.scrollTop = editor.scrollTop;
  }
  editor.addEventListener("input", renumber);
  editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; });
  renumber();
  // An error in the list jumps to its line.
  for (const item of document.querySelectorAll("#errors li[data-line]")) {
    item.addEventListener("click", () => {
      const line = Number(item.dataset.line);
      const lines = editor.value.split("\n");
      const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
      editor.focus();
      editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
      editor.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(editor).lineHeight));
      renumber();
    });
  }
}

// The announcements page shows live progress: while one is queued or sending it reloads
// every few seconds, unless a new announcement is being typed.
function setupRefresh() {
  const marker = document.querySelector("[data-refresh]");
  if (!marker) return;
  setTimeout(() => {
    const draft = document.getElementById("announcement-text");
    if (!draft || draft.value.trim() === "") window.location.replace(window.location.pathname);
    else setupRefresh();
  }, Number(marker.dataset.refresh) * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  setupPreview();
  setupGutter();
  setupRefresh();
});
