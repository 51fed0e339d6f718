/* KPI dashboard: the trend chart (Apache ECharts, vendored) and the sortable ranking table. No build step. */
(function () {
  "use strict";

  function drawTrend() {
    var el = document.getElementById("kpi-trend");
    var data = document.getElementById("kpi-trend-data");
    if (!el || !data || !window.echarts) { return; }
    var trend = JSON.parse(data.textContent);
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: {
        trigger: "axis",
        renderMode: "richText", // drawn on the canvas: the HTML tooltip would need inline style attributes (CSP)
        valueFormatter: function (v) { return v === null || v === undefined ? trend.no_data : v + "%"; }
      },
      legend: { top: 0, type: "scroll" },
      grid: { left: 44, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: trend.labels, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: trend.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
      })
    });
    // Marks the chart drawn (animation over), for the browser test and for anyone waiting on it.
    chart.on("finished", function () { el.setAttribute("data-rendered", "true"); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // Sorting: click (or Enter/Space on) a heading's button; ascending, then descending. No data sorts last.
  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var column = headers.indexOf(th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.querySelector("button").getAttribute("data-sort-type") === "number";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length === headers.length; });
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute("data-sort") || "";
      var y = b.cells[column].getAttribute("data-sort") || "";
      if (x === "" || y === "") { return x === y ? 0 : (x === "" ? 1 : -1); }
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function sortable() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      table.querySelectorAll("thead th button").forEach(function (button) {
        button.addEventListener("click", function () { sortBy(table, button.parentNode); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sortable();
    drawTrend();
  });
})();
