/* Vlinder show notes: play the episode from a moment, or one fragment of it.
 * - a link with data-start (a timestamp) seeks the audio there and plays; with data-end too
 *   (a fragment) it stops at the fragment's end;
 * - a URL with #t=754 (seconds, or m:ss / h:mm:ss) or a fragment anchor (#f12) opens the page
 *   at that moment; #t=START,END (the media-fragment form Podlove and Podigee use) plays from
 *   START and stops at END. The audio is set to START, and when the browser blocks autoplay a
 *   button offers "Speel af vanaf m:ss";
 * - while playing, the current fragment of the transcript is highlighted;
 * - "Deel dit fragment" copies the fragment's link (#t=START,END), "Deel vanaf hier" the link
 *   to the moment the player is at (#t=START).
 * Without JavaScript every timestamp is still a link to the fragment in the transcript. */
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  if (!audio) return;
  var button = document.getElementById("speel-vanaf");
  var buttonBox = button ? button.parentElement : null;
  var fragments = Array.prototype.slice.call(document.querySelectorAll(".fragment[data-start]"));
  var starts = fragments.map(function (f) { return parseFloat(f.getAttribute("data-start")); });
  var current = null;
  var pending = null;
  var stopAt = null; // the end of the fragment being played, in seconds

  function fmt(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  function parseTime(value) {
    var parts = value.split(":").map(parseFloat);
    if (parts.some(isNaN)) return null;
    return parts.reduce(function (acc, p) { return acc * 60 + p; }, 0);
  }

  /* The part a hash points at, {start, end} (end null: play on); null when none.
   * "#t=754", "#t=12:34", "#t=27,40", "#t=0:27,0:40", "#f12" or "#s3". An end not after the
   * start is ignored. */
  function hashRange(hash) {
    var h = decodeURIComponent((hash || "").replace(/^#/, ""));
    if (!h) return null;
    var m = /^t=([0-9:.]+)(?:,([0-9:.]+))?$/.exec(h);
    if (m) {
      var start = parseTime(m[1]);
      if (start === null) return null;
      var end = m[2] ? parseTime(m[2]) : null;
      return { start: start, end: end !== null && end > start ? end : null };
    }
    var el = document.getElementById(h);
    var box = el && el.closest(".fragment[data-start]");
    return box ? { start: parseFloat(box.getAttribute("data-start")), end: null } : null;
  }

  function fragmentAt(t) {
    var found = -1;
    for (var i = 0; i < starts.length; i++) {
      if (starts[i] <= t + 0.05) found = i; else break;
    }
    return found >= 0 ? fragments[found] : null;
  }

  function highlight(t) {
    var f = fragmentAt(t);
    if (f === current) return;
    if (current) current.classList.remove("speelt");
    if (f) f.classList.add("speelt");
    current = f;
  }

  function showButton(t) {
    if (!buttonBox) return;
    button.querySelector(".speel-vanaf-tijd").textContent = fmt(t);
    buttonBox.hidden = false;
  }

  function hideButton() {
    if (buttonBox) buttonBox.hidden = true;
  }

  function tryPlay(t) {
    var p;
    try { p = audio.play(); } catch (e) { showButton(t); return; }
    if (p && typeof p.then === "function") {
      p.then(hideButton, function () { showButton(t); });
    }
  }

  function seek(t, play, end) {
    stopAt = end || null;
    pending = t;
    function go() {
      if (pending === null) return;
      var target = pending;
      pending = null;
      audio.currentTime = target;
      highlight(target);
      if (play) tryPlay(target); else showButton(target);
    }
    if (audio.readyState >= 1) go();
    else {
      audio.addEventListener("loadedmetadata", go, { once: true });
      if (audio.preload === "none") audio.load();
    }
  }

  function reveal(t) {
    var f = fragmentAt(t);
    if (f && f.scrollIntoView) f.scrollIntoView({ block: "center" });
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-start]");
    if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var t = parseFloat(a.getAttribute("data-start"));
    if (isNaN(t)) return;
    var end = parseFloat(a.getAttribute("data-end") || "");
    end = end > t ? end : null;
    ev.preventDefault();
    var span = a.getAttribute("data-start") + (end ? "," + a.getAttribute("data-end") : "");
    if (history.replaceState) history.replaceState(null, "", "#t=" + span);
    seek(t, true, end);
  });

  /* Sharing: copy a link to the clipboard; where the browser does not allow that, show the
   * link selected, ready to copy. The status line says what happened. */
  var status = document.querySelector(".deel-melding");
  function say(text) { if (status) status.textContent = text; }
  function shareLink(span) {
    return location.href.replace(/#.*$/, "") + "#t=" + span;
  }
  function share(span, what) {
    var link = shareLink(span);
    function fallback() {
      window.prompt("Kopieer de link naar " + what + ":", link);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link).then(function () {
        say("Link naar " + what + " gekopieerd: " + link);
      }, fallback);
    } else {
      fallback();
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-deel]"), function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      share(b.getAttribute("data-deel").replace(/^#t=/, ""), "dit fragment");
    });
  });
  var fromHere = document.getElementById("deel-vanaf-hier");
  if (fromHere) {
    fromHere.hidden = false;
    fromHere.addEventListener("click", function () {
      var t = Math.floor(audio.currentTime || 0);
      share(String(t), "dit moment (" + fmt(t) + ")");
    });
  }

  if (button) {
    button.addEventListener("click", function () {
      audio.play().then(hideButton, function () {});
    });
  }
  audio.addEventListener("play", hideButton);
  audio.addEventListener("timeupdate", function () {
    highlight(audio.currentTime);
    if (stopAt !== null && audio.currentTime >= stopAt) {
      stopAt = null;
      audio.pause();
    }
  });
  /* Seeking away from the fragment by hand plays on: the stop belonged to the fragment. */
  audio.addEventListener("seeking", function () {
    if (stopAt !== null && pending === null && (audio.currentTime > stopAt + 0.5)) stopAt = null;
  });

  function fromHash(play) {
    var r = hashRange(location.hash);
    if (r === null) return;
    if (/^#t=/.test(location.hash)) reveal(r.start);
    seek(r.start, play, r.end);
  }
  window.addEventListener("hashchange", function () { fromHash(true); });
  fromHash(true);
})();
