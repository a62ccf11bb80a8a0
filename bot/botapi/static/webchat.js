// Loket web chat: talks to /webchat/* and renders messages from text + entities,
// the way Telegram clients do. No HTML from the bot is ever inserted as markup.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const empty = document.getElementById("empty");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendBtn = document.getElementById("send");
  const statusEl = document.getElementById("status");
  const toast = document.getElementById("toast");
  const rows = new Map(); // message_id -> row element
  let seq = 0;
  let typingTimer = null;
  let toastTimer = null;

  const SAFE_URL = /^(https?:|tg:|mailto:)/i;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function entityNode(entity, text) {
    switch (entity.type) {
      case "bold": return el("strong");
      case "italic": return el("em");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": { const pre = el("pre"); pre.appendChild(el("code")); return pre; }
      case "blockquote": case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const span = el("span", "spoiler");
        span.addEventListener("click", () => span.classList.add("shown"));
        return span;
      }
      case "text_link": case "url": {
        const href = entity.type === "url" ? text : entity.url;
        const target = /^[a-z]+:/i.test(href) ? href : "http://" + href;
        if (!SAFE_URL.test(target)) return el("span");
        const a = el("a");
        a.href = target; a.target = "_blank"; a.rel = "noopener noreferrer";
        return a;
      }
      case "bot_command": {
        const span = el("span", "cmd");
        span.addEventListener("click", () => sendText(text));
        return span;
      }
      default: return el("span");
    }
  }

  // Build nested DOM for text[start:end) from entities sorted by offset, longest first.
  function build(parent, text, start, end, entities) {
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const e = entities[i];
      if (e.offset < pos) { i++; continue; }
      if (e.offset >= end) break;
      if (e.offset > pos) parent.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      const eEnd = Math.min(e.offset + e.length, end);
      const inner = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < eEnd) { inner.push(entities[j]); j++; }
      const node = entityNode(e, text.slice(e.offset, eEnd));
      build(node.tagName === "PRE" ? node.firstChild : node, text, e.offset, eEnd, inner);
      parent.appendChild(node);
      pos = eEnd;
      i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }

  function renderText(container, text, entities) {
    const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
    build(container, text || "", 0, (text || "").length, sorted);
  }

  function renderMessage(m) {
    const row = el("div", "row " + m.from);
    const bubble = el("div", "bubble");
    if (m.deleted) {
      bubble.classList.add("deleted");
      bubble.textContent = "Pesan dihapus";
    } else {
      if (m.kind === "photo" && m.file_id) {
        const img = el("img");
        img.src = "/webchat/file/" + encodeURIComponent(m.file_id);
        img.alt = "Foto";
        bubble.appendChild(img);
      } else if (m.kind === "document") {
        const a = el("a", null, "📄 " + (m.file_name || "Dokumen"));
        a.href = "/webchat/file/" + encodeURIComponent(m.file_id || "");
        a.target = "_blank"; a.rel = "noopener";
        bubble.appendChild(a);
        if (m.text) bubble.appendChild(document.createElement("br"));
      }
      renderText(bubble, m.text, m.entities);
    }
    row.appendChild(bubble);
    if (!m.deleted && m.buttons && m.buttons.length) {
      const kb = el("div", "keyboard");
      for (const buttons of m.buttons) {
        const krow = el("div", "krow");
        for (const b of buttons) {
          if (b.url && SAFE_URL.test(b.url)) {
            const a = el("a", "kbtn", b.text + " ↗");
            a.href = b.url; a.target = "_blank"; a.rel = "noopener noreferrer";
            krow.appendChild(a);
          } else {
            const btn = el("button", "kbtn", b.text);
            btn.type = "button";
            if (b.data) btn.addEventListener("click", () => press(m.message_id, b.data, btn));
            else btn.disabled = true;
            krow.appendChild(btn);
          }
        }
        kb.appendChild(krow);
      }
      row.appendChild(kb);
    }
    const time = new Date(m.date * 1000);
    const meta = el("div", "meta",
      (m.edited ? "diedit · " : "") + time.toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" }));
    row.appendChild(meta);
    return row;
  }

  function upsert(m) {
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const row = renderMessage(m);
    const old = rows.get(m.message_id);
    if (old) { log.replaceChild(row, old); } else { log.appendChild(row); }
    rows.set(m.message_id, row);
    empty.hidden = true;
    if (!old || stick) log.scrollTop = log.scrollHeight;
  }

  function showToast(text, alert) {
    toast.textContent = text;
    toast.className = "toast" + (alert ? " alert" : "");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, alert ? 6000 : 2500);
  }

  function showTyping() {
    statusEl.textContent = "mengetik…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { statusEl.textContent = "bot lokal"; }, 5000);
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    return res.json();
  }

  async function sendText(text) {
    text = text.trim();
    if (!text) return;
    sendBtn.disabled = true;
    try {
      const r = await post("/webchat/send", { text });
      if (!r.ok) showToast(r.error || "Gagal mengirim", false);
    } catch (e) {
      showToast("Server tidak dapat dihubungi", false);
    } finally {
      sendBtn.disabled = false;
    }
  }

  async function press(messageId, data, btn) {
    btn.disabled = true;
    try {
      const r = await post("/webchat/press", { message_id: messageId, data });
      if (!r.ok) showToast("Tombol ini sudah tidak berlaku", false);
    } catch (e) {
      showToast("Server tidak dapat dihubungi", false);
    } finally {
      setTimeout(() => { btn.disabled = false; }, 800);
    }
  }

  async function poll() {
    for (;;) {
      try {
        const res = await fetch("/webchat/history?after=" + seq);
        const data = await res.json();
        if (data.seq < seq) { seq = 0; continue; }
        for (const m of data.messages) {
          upsert(m);
          if (m.from === "bot") { statusEl.textContent = "bot lokal"; }
        }
        for (const n of data.notices) {
          if (n.kind === "action") showTyping();
          else showToast(n.text, n.kind === "alert");
        }
        seq = data.seq;
      } catch (e) {
        statusEl.textContent = "menyambung ulang…";
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    input.value = "";
    input.style.height = "";
    sendText(text);
    input.focus();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  });
  document.getElementById("start").addEventListener("click", () => sendText("/start"));

  fetch("/webchat/info").then((r) => r.json()).then((info) => {
    document.getElementById("bot-name").textContent = info.bot.first_name;
    document.title = info.bot.first_name + " — obrolan lokal";
  }).catch(() => {});
  poll();
})();
