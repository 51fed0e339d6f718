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


  // The hot-spot map: the areas' centroids in grey (labelled), each active hot spot in red, sized by
  // its ticket count, on plain longitude/latitude axes (no tiles, nothing from the internet).
  // Clicking a hot spot scrolls to its entry in the panel below and focuses it.
  function drawHotSpots() {
    var el = document.getElementById("hotspot-map");
    var data = document.getElementById("hotspot-map-data");
    if (!el || !data || !window.echarts) { return; }
    var map = JSON.parse(data.textContent);
    var most = Math.max.apply(null, map.spots.map(function (s) { return s.count; }).concat([1]));
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: {
        trigger: "item",
        renderMode: "richText", // canvas tooltip: the HTML one needs inline styles (CSP)
        formatter: function (p) {
          var s = p.data.spot;
          if (!s) { return p.data.name; }
          return s.title + "\n" + map.district_label + ": " + s.district + "\n" + map.count_label + ": " + s.count;
        }
      },
      grid: { left: 56, right: 40, top: 16, bottom: 28 },
      xAxis: { type: "value", scale: true, axisLabel: { formatter: "{value}°E" }, splitLine: { show: false } },
      yAxis: { type: "value", scale: true, axisLabel: { formatter: "{value}°N" }, splitLine: { show: false } },
      series: [
        {
          name: "areas", type: "scatter", symbolSize: function (v, p) { return p.data.district ? 9 : 5; },
          itemStyle: { color: "#b0b0b0" }, z: 1,
          label: { show: true, position: "right", color: "#777", fontSize: 10, formatter: "{b}" },
          labelLayout: { hideOverlap: true },
          data: map.areas.map(function (a) { return { name: a.name, value: [a.lng, a.lat], district: a.district }; })
        },
        {
          name: "hotspots", type: "scatter", z: 3,
          itemStyle: { color: "#c62828", opacity: 0.8 },
          symbolSize: function (v, p) { return 14 + 26 * Math.sqrt(p.data.spot.count / most); },
          label: { show: true, position: "top", fontWeight: "bold", formatter: function (p) { return p.data.spot.count; } },
          data: map.spots.map(function (s) { return { name: s.title, value: [s.lng, s.lat], spot: s }; })
        }
      ]
    });
    chart.on("click", function (p) {
      if (!p.data || !p.data.spot) { return; }
      var entry = document.getElementById("hotspot-" + p.data.spot.id);
      if (!entry) { return; }
      document.querySelectorAll(".hotspot-picked").forEach(function (e) { e.classList.remove("hotspot-picked"); });
      entry.classList.add("hotspot-picked");
      entry.scrollIntoView({ behavior: "smooth", block: "start" });
      entry.focus({ preventScroll: true });
    });
    chart.on("finished", function () { el.setAttribute("data-rendered", "true"); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sortable();
    drawTrend();
    drawHotSpots();
  });
})();
