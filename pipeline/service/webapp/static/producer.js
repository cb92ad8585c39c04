// Producer area: upload with a progress bar, live job progress (server-sent events).
"use strict";

(function () {
  const base = document.body.dataset.base || "";
  const csrf = document.body.dataset.csrf || "";

  function setupUpload() {
    const form = document.getElementById("upload");
    if (!form) return;
    const input = document.getElementById("file");
    const zone = document.getElementById("dropzone");
    const chosen = document.getElementById("chosen");
    const box = document.getElementById("upload-progress");
    const bar = box.querySelector(".bar span");
    const text = document.getElementById("upload-text");
    const errorBox = document.getElementById("upload-error");
    const maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;

    function showChosen() {
      const f = input.files && input.files[0];
      chosen.textContent = f ? f.name + " (" + (f.size / 1048576).toFixed(1) + " MB)" : "";
    }
    function fail(message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
      box.hidden = true;
      form.querySelector("button[type=submit]").disabled = false;
    }
    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach((name) =>
      zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((name) =>
      zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => {
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        showChosen();
      }
    });

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      errorBox.hidden = true;
      const f = input.files && input.files[0];
      if (!f) { fail("Kies een opname om te uploaden."); return; }
      if (f.size > maxBytes) {
        fail("Het bestand is te groot: de grens is " + form.dataset.maxMb + " MB (instelling server.max_upload_mb).");
        return;
      }
      // Fields first, the file last: the server checks them before it stores a byte.
      const data = new FormData();
      for (const el of form.elements) {
        if (el.name && el.name !== "file") data.append(el.name, el.value);
      }
      data.append("file", f, f.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      const started = Date.now();
      xhr.upload.addEventListener("progress", (ev) => {
        if (!ev.lengthComputable) return;
        const pct = Math.floor((ev.loaded / ev.total) * 100);
        bar.style.width = pct + "%";
        const secs = (Date.now() - started) / 1000;
        const rate = ev.loaded / Math.max(secs, 0.001);
        const left = rate > 0 ? Math.round((ev.total - ev.loaded) / rate) : 0;
        text.textContent = "Uploaden: " + pct + "%" + (pct < 100 ? " (nog ongeveer " + left + " s)" : "; bestand controleren…");
      });
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201 && body.url) {
          text.textContent = "Upload klaar; de verwerking begint.";
          window.location.href = body.url;
        } else if (xhr.status === 401) {
          window.location.href = base + "/login";
        } else {
          fail(body.error || "Uploaden mislukt (" + xhr.status + ").");
        }
      });
      xhr.addEventListener("error", () => fail("Uploaden mislukt: de verbinding is verbroken."));
      box.hidden = false;
      bar.style.width = "0%";
      text.textContent = "Uploaden…";
      form.querySelector("button[type=submit]").disabled = true;
      xhr.send(data);
    });
  }

  function setupJob() {
    const box = document.getElementById("job");
    if (!box) return;
    const order = ["queued", "ingest", "transcribe", "tag", "publish", "done"];
    function paint(job) {
      document.getElementById("job-state").textContent =
        job.state_label.charAt(0).toUpperCase() + job.state_label.slice(1);
      document.getElementById("job-stage").textContent = job.stage_label;
      document.getElementById("job-eta").textContent = job.eta_text ? "(" + job.eta_text + ")" : "";
      document.getElementById("job-bar").style.width = job.percent + "%";
      document.getElementById("job-percent").textContent = job.percent;
      const at = order.indexOf(job.stage);
      box.querySelectorAll("li[data-stage]").forEach((li) => {
        const i = order.indexOf(li.dataset.stage);
        li.className = job.state === "done" || i < at ? "done" : i === at ? "current" : "";
      });
      const err = document.getElementById("job-error");
      err.textContent = job.error;
      err.hidden = !job.error;
      if (job.state === "done") {
        document.getElementById("job-done").hidden = false;
        document.getElementById("job-episode").href = job.episode_url;
      }
      box.dataset.state = job.state;
    }
    const initial = box.dataset.state;
    paint({
      state: initial, state_label: document.getElementById("job-state").textContent.toLowerCase(),
      stage: box.dataset.stage, stage_label: document.getElementById("job-stage").textContent,
      eta_text: document.getElementById("job-eta").textContent, percent: document.getElementById("job-percent").textContent,
      error: document.getElementById("job-error").textContent.trim(), episode_url: document.getElementById("job-episode").getAttribute("href"),
    });
    if (box.dataset.finished === "true" || !window.EventSource) return;
    const source = new EventSource(box.dataset.events);
    source.onmessage = (ev) => {
      const job = JSON.parse(ev.data);
      paint(job);
      if (job.finished) {
        source.close();
        if (job.state === "failed") window.location.reload();  // shows the retry button
      }
    };
  }

  function setupBusyButtons() {
    document.querySelectorAll("button[data-busy]").forEach((button) => {
      button.form.addEventListener("submit", () => {
        button.disabled = true;
        button.textContent = button.dataset.busy;
      });
    });
  }

  function setupTagRemoval() {
    document.querySelectorAll("[data-remove-row]").forEach((button) => {
      button.addEventListener("click", () => {
        const row = button.closest("[data-row]");
        if (row) row.remove();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupUpload();
    setupJob();
    setupBusyButtons();
    setupTagRemoval();
    setupPlayAlong();
  });
  /* The transcript editor plays along: a line's time plays the audio from there, the line
   * being played is highlighted, the line the producer works on is remembered ("plek") so
   * that after saving the page opens there again (#segment-N). */
  function setupPlayAlong() {
    const audio = document.getElementById("editor-audio");
    const form = document.getElementById("transcript-form");
    if (!audio || !form) return;
    const rows = Array.from(form.querySelectorAll(".segment[data-start]"));
    const starts = rows.map((r) => parseFloat(r.dataset.start));
    const place = document.getElementById("plek");
    let current = null;
    function rowAt(t) {
      let found = null;
      for (let i = 0; i < rows.length; i++) {
        if (starts[i] <= t + 0.05) found = rows[i]; else break;
      }
      return found;
    }
    function highlight(t) {
      const row = rowAt(t);
      if (row === current) return;
      if (current) current.classList.remove("speelt");
      if (row) {
        row.classList.add("speelt");
        if (!audio.paused && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
      }
      current = row;
    }
    function seek(t, play) {
      const go = () => {
        audio.currentTime = t;
        highlight(t);
        if (play) audio.play().catch(() => {});
      };
      if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, { once: true });
    }
    form.addEventListener("click", (e) => {
      const b = e.target.closest && e.target.closest("button.speel");
      if (!b) return;
      e.preventDefault();
      place.value = b.closest(".segment").dataset.id;
      seek(parseFloat(b.dataset.start), true);
    });
    form.addEventListener("focusin", (e) => {
      const row = e.target.closest && e.target.closest(".segment");
      if (row) place.value = row.dataset.id;
    });
    audio.addEventListener("timeupdate", () => highlight(audio.currentTime));
    const m = /^#segment-(\d+)$/.exec(location.hash);
    const row = m && document.getElementById("segment-" + m[1]);
    if (row) {
      place.value = m[1];
      const input = row.querySelector("input[name^=seg_]");
      input.focus({ preventScroll: true });
      window.addEventListener("load", () => input.focus({ preventScroll: true }), { once: true });
      row.scrollIntoView({ block: "center" });
      seek(parseFloat(row.dataset.start), false);
    }
  }
})();
