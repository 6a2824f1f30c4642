/* Draw each report chart from the JSON the page carries beside its canvas (Django's json_script).
   The table next to each chart holds the same figures; this script only draws. */
(function () {
  "use strict";

  function percent(value) {
    return value === null || value === undefined ? "—" : value.toFixed(2) + "%";
  }

  function heat(value) {
    const strength = value === null || value === undefined ? 0 : Math.min(1, value / 100);
    return "rgba(178, 34, 34, " + (0.06 + 0.94 * strength).toFixed(3) + ")";
  }

  function axisTitle(text) {
    return text ? { display: true, text: text } : { display: false };
  }

  function seriesConfig(spec) {
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        spanGaps: true,
        scales: {
          x: { title: axisTitle(spec.x_label) },
          y: { beginAtZero: true, title: axisTitle(spec.y_label) },
        },
      },
    };
  }

  function matrixConfig(spec) {
    const across = spec.columns.length;
    const down = spec.rows.length;
    return {
      type: "matrix",
      data: {
        datasets: [
          {
            data: spec.cells,
            backgroundColor: (context) => heat(context.raw && context.raw.v),
            borderColor: "#ffffff",
            borderWidth: 1,
            width: ({ chart }) => (chart.chartArea || { width: 0 }).width / across - 1,
            height: ({ chart }) => (chart.chartArea || { height: 0 }).height / down - 1,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => "",
              label: (context) => context.raw.y + " → " + context.raw.x + ": " + percent(context.raw.v),
            },
          },
        },
        scales: {
          x: { type: "category", labels: spec.columns, position: "top", offset: true, grid: { display: false }, title: axisTitle(spec.x_label) },
          y: { type: "category", labels: spec.rows.slice().reverse(), offset: true, grid: { display: false }, title: axisTitle(spec.y_label) },
        },
      },
    };
  }

  function draw(canvas) {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    // eslint-disable-next-line no-undef
    new Chart(canvas, spec.type === "matrix" ? matrixConfig(spec) : seriesConfig(spec));
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
