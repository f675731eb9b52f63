// Draws every chart of the page with vega-embed (inlined above). No network: the specs carry their data.
// Colours of text and axes come from the page's CSS (dark mode and print), so each chart is drawn once.
(function () {
  "use strict";
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var config = {
    background: "transparent",
    view: { stroke: null },
    font: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal" },
    legend: { labelFontSize: 11 },
    title: { fontSize: 12, fontWeight: 600, anchor: "start" },
    header: { labelFontSize: 12, labelFontWeight: 600 },
    range: { category: ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"] }
  };
  var charts = Array.prototype.slice.call(document.querySelectorAll(".chart"));
  var done = 0;
  function finished() {
    done += 1;
    if (done >= charts.length) {
      document.documentElement.setAttribute("data-charts", "ready");
    }
  }
  if (!charts.length) { document.documentElement.setAttribute("data-charts", "ready"); }
  charts.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.id + "-spec").textContent);
    window.vegaEmbed(el, spec, { renderer: "svg", actions: false, config: config, tooltip: { theme: dark ? "dark" : "light" } })
      .then(finished)
      .catch(function (err) {
        el.classList.add("chart-error");
        el.textContent = "This chart could not be drawn: " + err;
        console.error("llmscope chart " + el.id + ": " + err);
        finished();
      });
  });
})();
