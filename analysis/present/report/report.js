// Figures drawn inside a closed <details> have no width yet: redraw them when it opens.
// (Inlined into the page by analysis.report.document.)
document.querySelectorAll("details").forEach(function (block) {
  block.addEventListener("toggle", function () {
    if (block.open) block.querySelectorAll(".js-plotly-plot").forEach(function (plot) { Plotly.Plots.resize(plot); });
  });
});
