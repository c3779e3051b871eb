// sohoa web: keyboard shortcuts in the review queue, drag-and-drop uploads, upload progress.
// No framework, no build step; everything the pages need is in this file.
"use strict";

const csrf = () => document.body.dataset.csrf || "";

function typing(event) {
  const t = event.target;
  return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

// -- review queue ---------------------------------------------------------------------------
function setupReview() {
  const grid = document.querySelector(".review-grid");
  if (!grid) return;
  const strip = Array.from(document.querySelectorAll("#page-strip a[data-page]"));
  const current = strip.findIndex((a) => a.classList.contains("on"));
  const submit = (id) => {
    const form = document.getElementById(id);
    const button = form && form.querySelector("button[type=submit]");
    if (button && !button.disabled) form.requestSubmit(button);
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "t") { event.preventDefault(); document.getElementById("type-select").focus(); }
    else if (key === "s") { event.preventDefault(); submit("form-split"); }
    else if (key === "m") { event.preventDefault(); submit("form-merge"); }
    else if (key === "a") { event.preventDefault(); submit("form-accept"); }
    else if (key === "e") { event.preventDefault(); const f = document.querySelector("#form-fields input, #form-fields textarea"); if (f) f.focus(); }
    else if (key === "n") { event.preventDefault(); document.getElementById("next-item").click(); }
    else if ((key === "j" || key === "k") && strip.length) {
      event.preventDefault();
      const next = Math.min(strip.length - 1, Math.max(0, current + (key === "j" ? 1 : -1)));
      if (next !== current) strip[next].click();
    }
  });
  // the type list: Enter submits the change
  const select = document.getElementById("type-select");
  if (select) select.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); submit("form-type"); } });
}

// -- upload ---------------------------------------------------------------------------------
function send(url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    if (onProgress) xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = { detail: xhr.statusText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data); else reject(new Error(data.detail || xhr.statusText));
    };
    xhr.onerror = () => reject(new Error("Mất kết nối tới máy chủ."));
    xhr.send(body);
  });
}

function naturalCompare(a, b) {
  return a.name.localeCompare(b.name, "vi", { numeric: true, sensitivity: "base" });
}

async function uploadFiles(files) {
  const form = document.getElementById("upload-form");
  const status = document.getElementById("upload-status");
  const bar = document.getElementById("upload-bar");
  const base = form.getAttribute("action");
  const dossierId = document.getElementById("dossier-id").value.trim();
  files = Array.from(files).sort(naturalCompare);
  if (!files.length) return;
  bar.hidden = false;
  bar.value = 0;
  try {
    let result;
    if (files.length === 1) {
      const body = new FormData();
      if (dossierId) body.append("dossier_id", dossierId);
      body.append("file", files[0]);
      status.textContent = `Đang gửi ${files[0].name}…`;
      result = await send(base, body, (done, total) => { bar.value = (100 * done) / total; });
    } else {
      if (files.some((f) => /\.(pdf|zip)$/i.test(f.name))) throw new Error("Nhiều tệp cùng lúc: chỉ nhận ảnh trang. PDF hoặc ZIP: gửi từng tệp một.");
      const batch = (await send(`${base}/pages`, new FormData())).batch;
      for (let i = 0; i < files.length; i++) {
        const body = new FormData();
        body.append("file", files[i]);
        status.textContent = `Đang gửi ảnh ${i + 1}/${files.length}: ${files[i].name}`;
        await send(`${base}/pages/${encodeURIComponent(batch)}?seq=${i + 1}`, body);
        bar.value = (100 * (i + 1)) / files.length;
      }
      const body = new FormData();
      if (dossierId) body.append("dossier_id", dossierId);
      result = await send(`${base}/pages/${encodeURIComponent(batch)}/done`, body);
    }
    status.textContent = "Đã nhận. Đang chuyển sang trang tiến độ…";
    window.location.assign(result.progress_url);
  } catch (err) {
    status.textContent = `Không tải lên được: ${err.message}`;
    status.className = "error";
  }
}

// the files under dropped folders (page images of one dossier), depth first
async function filesOf(entries) {
  const out = [];
  const readAll = (reader) => new Promise((resolve, reject) => {
    const all = [];
    const next = () => reader.readEntries((batch) => { if (!batch.length) resolve(all); else { all.push(...batch); next(); } }, reject);
    next();
  });
  for (const entry of entries) {
    if (entry.isFile) out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    else if (entry.isDirectory) out.push(...(await filesOf(await readAll(entry.createReader()))));
  }
  return out.filter((f) => !f.name.startsWith("."));
}

function setupUpload() {
  const drop = document.getElementById("drop");
  if (!drop) return;
  const input = document.getElementById("file-input");
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", async (e) => {
    const entries = Array.from(e.dataTransfer.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (entries.some((en) => en.isDirectory)) uploadFiles(await filesOf(entries)); // a folder of page images
    else uploadFiles(e.dataTransfer.files);
  });
  input.addEventListener("change", () => uploadFiles(input.files));
  document.getElementById("upload-form").addEventListener("submit", (e) => { e.preventDefault(); uploadFiles(input.files); });
}

// -- progress -------------------------------------------------------------------------------
const STATES = {
  queued: (s) => `Đang chờ${s.position ? ` (thứ ${s.position})` : ""}…`,
  processing: (s) => `Đang số hoá: ${s.pages_done}${s.pages ? `/${s.pages}` : ""} trang`,
  done: (s) => `Đã số hoá xong: ${s.pages} trang, ${s.components} thành phần.`,
  failed: (s) => `Số hoá lỗi: ${s.error || ""}`,
  error: (s) => `Dừng lại: ${s.error || ""}`,
  unknown: () => "Không có hồ sơ này.",
};

function setupProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const bar = document.getElementById("page-bar");
  const text = document.getElementById("progress-text");
  const link = document.getElementById("dossier-link");
  async function poll() {
    let s;
    try {
      const r = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
      s = await r.json();
    } catch (e) { setTimeout(poll, 3000); return; }
    bar.max = s.pages || 1;
    bar.value = s.pages_done || 0;
    text.textContent = (STATES[s.state] || STATES.unknown)(s);
    box.dataset.state = s.state;
    if (s.state === "done" || s.state === "failed") { link.hidden = false; return; }
    if (s.state !== "unknown" && s.state !== "error") setTimeout(poll, 1000);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => { setupReview(); setupUpload(); setupProgress(); });
