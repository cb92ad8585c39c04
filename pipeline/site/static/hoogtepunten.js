/* Vlinder highlights ("Hoogtepunten"): a link with data-start and data-end plays that part of
 * the episode. vlinder.js seeks to data-start and plays (as for every timestamp); this stops
 * the audio at data-end, unless the listener moves elsewhere in the meantime. */
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  if (!audio) return;
  var range = null;

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-start]");
    if (!a) return;
    var start = parseFloat(a.getAttribute("data-start"));
    var end = parseFloat(a.getAttribute("data-end"));
    range = isNaN(start) || isNaN(end) || end <= start ? null : { start: start, end: end };
    document.querySelectorAll(".hoogtepunt.speelt").forEach(function (el) {
      el.classList.remove("speelt");
    });
    if (range && a.classList.contains("hoogtepunt")) a.classList.add("speelt");
  }, true);

  function stop() {
    range = null;
    document.querySelectorAll(".hoogtepunt.speelt").forEach(function (el) {
      el.classList.remove("speelt");
    });
  }

  audio.addEventListener("timeupdate", function () {
    if (range && audio.currentTime >= range.end) {
      audio.pause();
      stop();
    }
  });
  audio.addEventListener("seeked", function () {
    /* the listener moved outside the highlight: let the audio play on */
    if (range && (audio.currentTime < range.start - 1 || audio.currentTime > range.end)) stop();
  });
})();
