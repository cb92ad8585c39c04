/* The search page: Pagefind UI over the search shards (the first is primary; the others are
 * merged), with result links relative to where the site is hosted. ?q=woord starts a search. */
(function () {
  "use strict";
  var el = document.getElementById("zoeken");
  if (!el || typeof PagefindUI === "undefined") return;
  var root = el.getAttribute("data-root") || "";
  function path(rel) { return new URL(root + rel, location.href).pathname; }
  var bundles = (el.getAttribute("data-bundles") || "").split(" ").filter(Boolean).map(path);
  var ui = new PagefindUI({
    element: "#zoeken",
    bundlePath: bundles[0],
    mergeIndex: bundles.slice(1).map(function (b) { return { bundlePath: b }; }),
    baseUrl: path(""),
    showSubResults: true,
    showImages: false,
    excerptLength: 30,
    autofocus: !new URLSearchParams(location.search).get("q"),
    translations: {
      placeholder: "Zoek in alle transcripten",
      zero_results: "Niets gevonden voor [SEARCH_TERM]",
      filters_label: "Filters"
    }
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
