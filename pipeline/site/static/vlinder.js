/* Vlinder show notes: play the episode from a moment.
 * - a link with data-start (a timestamp) seeks the audio there and plays;
 * - a URL with #t=754 (seconds, or mm:ss) or a fragment anchor (#f12) opens the page at that
 *   moment: the audio is set to it, and when the browser blocks autoplay a button offers
 *   "Speel af vanaf mm:ss";
 * - while playing, the current fragment of the transcript is highlighted.
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

  /* The moment a hash points at: "#t=754", "#t=12:34", "#f12" or "#s3"; null otherwise. */
  function hashTime(hash) {
    var h = decodeURIComponent((hash || "").replace(/^#/, ""));
    if (!h) return null;
    var m = /^t=([0-9:.]+)/.exec(h);
    if (m) return parseTime(m[1]);
    var el = document.getElementById(h);
    var box = el && el.closest(".fragment[data-start]");
    return box ? parseFloat(box.getAttribute("data-start")) : null;
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

  function seek(t, play) {
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
    ev.preventDefault();
    if (history.replaceState) history.replaceState(null, "", "#t=" + a.getAttribute("data-start"));
    seek(t, true);
  });

  if (button) {
    button.addEventListener("click", function () {
      audio.play().then(hideButton, function () {});
    });
  }
  audio.addEventListener("play", hideButton);
  audio.addEventListener("timeupdate", function () { highlight(audio.currentTime); });

  function fromHash(play) {
    var t = hashTime(location.hash);
    if (t === null) return;
    if (/^#t=/.test(location.hash)) reveal(t);
    seek(t, play);
  }
  window.addEventListener("hashchange", function () { fromHash(true); });
  fromHash(true);
})();
