/* The search page: Pagefind UI over the search shards (the first is primary; the others are
 * merged), with result links relative to where the site is hosted. ?q=woord starts a search.
 * Each result is one fragment (pipeline/site/records.py): its link plays that fragment
 * (#t=START,END) and its filters are the fragment's own (who speaks in it, its ingredients).
 * Each record carries extra index words (dictionary forms, compound parts) after its text in
 * "⟦ ... ⟧"; they are cut from the excerpts here, so users only see the transcript.
 * The search box gets a visible label (Pagefind gives it a placeholder only). */
(function () {
  "use strict";
  var el = document.getElementById("zoeken");
  if (!el || typeof PagefindUI === "undefined") return;
  var root = el.getAttribute("data-root") || "";
  function path(rel) { return new URL(root + rel, location.href).pathname; }
  function clean(excerpt) {
    return (excerpt || "")
      .replace(/\u27e6[^\u27e6\u27e7]*\u27e7/g, " ")
      .replace(/^[^\u27e6]*\u27e7/, "")
      .replace(/\u27e6[^\u27e7]*$/, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  var bundles = (el.getAttribute("data-bundles") || "").split(" ").filter(Boolean).map(path);
  function start() {
    var ui = new PagefindUI({
      element: "#zoeken",
      bundlePath: bundles[0],
      mergeIndex: bundles.slice(1).map(function (b) { return { bundlePath: b }; }),
      baseUrl: path(""),
      showSubResults: false, // each result is one fragment already
      showImages: false,
      excerptLength: 30,
      processResult: function (result) {
        result.excerpt = clean(result.excerpt);
        return result;
      },
      autofocus: !new URLSearchParams(location.search).get("q"),
      translations: {
        placeholder: "Zoek in alle transcripten",
        zero_results: "Niets gevonden voor [SEARCH_TERM]",
        filters_label: "Filters"
      }
    });
    /* Pagefind's search box has only a placeholder: give it a visible label. */
    function label() {
      var input = el.querySelector(".pagefind-ui__search-input");
      if (!input) return false;
      input.id = "zoekveld";
      var text = document.createElement("label");
      text.htmlFor = "zoekveld";
      text.className = "zoeklabel";
      text.textContent = "Zoek in alle transcripten";
      el.parentNode.insertBefore(text, el);
      return true;
    }
    if (!label()) {
      var observer = new MutationObserver(function () { if (label()) observer.disconnect(); });
      observer.observe(el, { childList: true, subtree: true });
    }
    var q = new URLSearchParams(location.search).get("q");
    if (q) ui.triggerSearch(q);
  }
  /* Pagefind's UI asks for the filters and runs the first search at the same time; when the
   * search wins, the filter panel stays empty until the next search. Loading the filters first
   * (the same pagefind.js module the UI imports, so it finds them loaded) keeps the panel
   * there from the first result. */
  import(bundles[0] + "pagefind.js")
    .then(function (pf) {
      return pf.options({ baseUrl: path("") }).then(function () { return pf.filters(); });
    })
    .catch(function () { /* the UI reports a missing index itself */ })
    .then(start);
})();
