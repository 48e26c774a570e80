// Draws the week-over-week rates (from the json_script block) with the vendored Chart.js.
// Without JavaScript the table below the chart carries the same figures.
(function () {
  if (typeof window.Chart === "undefined") return;
  var source = document.getElementById("trend-data");
  var canvas = document.getElementById("trend-chart");
  if (!source || !canvas) return;
  var data = JSON.parse(source.textContent);
  canvas.parentElement.hidden = false;
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Compliance rate (%)", data: data.rate, borderColor: "#005ea2", backgroundColor: "#005ea2", tension: 0.2, spanGaps: true },
        { label: "On time (%)", data: data.on_time, borderColor: "#00a91c", backgroundColor: "#00a91c", borderDash: [6, 4], tension: 0.2, spanGaps: true }
      ]
    },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { min: 0, max: 100 } } }
  });
  canvas.dataset.drawn = "true";
})();
