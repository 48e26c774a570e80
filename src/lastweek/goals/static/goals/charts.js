// Draws each key result's check-in history (from the json_script blocks) with the vendored Chart.js.
// Without JavaScript the check-in tables on the page carry the same figures.
(function () {
  if (typeof window.Chart === "undefined") return;
  document.querySelectorAll(".goals-chart canvas").forEach(function (canvas) {
    var id = canvas.id.replace("chart-", "chart-data-");
    var source = document.getElementById(id);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var labels = data.points.map(function (point) { return point[0]; });
    canvas.parentElement.hidden = false;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: data.label + (data.unit ? " (" + data.unit + ")" : ""), data: data.points.map(function (p) { return p[1]; }), borderColor: "#005ea2", tension: 0.2 },
          { label: "Target", data: labels.map(function () { return data.target; }), borderColor: "#00a91c", borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { suggestedMin: Math.min(data.start, data.target) } } }
    });
  });
})();
