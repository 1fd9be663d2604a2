// The patient's PHQ-9 trajectory, drawn with uPlot from the page itself: the points are the
// rows of the scores table (#scores), the markers the infusion list (#infusions), the lines
// the figure's data-* attributes. Nothing is fetched and nothing runs inline (the page's
// CSP forbids it). After drawing, the figure's data-points lists what was plotted as
// [[epoch seconds, total], ...], so a test can compare it with the table.
(function () {
  "use strict";
  var BANDS = [
    [0, 5, "rgba(46, 125, 50, 0.10)"],
    [5, 10, "rgba(158, 157, 36, 0.12)"],
    [10, 15, "rgba(239, 108, 0, 0.12)"],
    [15, 20, "rgba(216, 67, 21, 0.14)"],
    [20, 27, "rgba(183, 28, 28, 0.16)"]
  ];
  var MARKERS = {
    series_start: { color: "#1b1b1b", width: 2, dash: [] },
    in_series: { color: "#8a8a8a", width: 1, dash: [] },
    booster: { color: "#6a1b9a", width: 2, dash: [6, 4] }
  };
  var LINES = {
    baseline: { color: "#424242", dash: [2, 3], label: "baseline" },
    response: { color: "#1565c0", dash: [8, 4], label: "response" },
    remission: { color: "#2e7d32", dash: [8, 4], label: "remission" }
  };

  function seconds(text) {
    // Stored as UTC with microseconds; Date.parse is only sure of milliseconds.
    return Date.parse(text.replace(/(\.\d{3})\d+/, "$1")) / 1000;
  }

  function number(text) {
    return text === undefined || text === "" ? null : Number(text);
  }

  function draw(figure, holder) {
    var rows = document.querySelectorAll("#scores tbody tr[data-at]");
    var xs = [], totals = [], selfHarm = [];
    Array.prototype.forEach.call(rows, function (row) {
      var total = Number(row.dataset.total);
      xs.push(seconds(row.dataset.at));
      totals.push(total);
      selfHarm.push(number(row.dataset.item9) >= 1 ? total : null);
    });
    var infusions = Array.prototype.map.call(
      document.querySelectorAll("#infusions li[data-at]"),
      function (item) { return { x: seconds(item.dataset.at), role: item.dataset.role }; }
    );
    var lines = [];
    ["baseline", "response", "remission"].forEach(function (name) {
      var value = number(figure.dataset[name]);
      if (value !== null) { lines.push({ y: value, style: LINES[name] }); }
    });
    var all = xs.concat(infusions.map(function (i) { return i.x; }));
    var low = Math.min.apply(null, all), high = Math.max.apply(null, all);
    var pad = Math.max((high - low) * 0.03, 86400);

    function background(u) {
      var ctx = u.ctx, box = u.bbox;
      ctx.save();
      BANDS.forEach(function (band) {
        var top = u.valToPos(band[1], "y", true), bottom = u.valToPos(band[0], "y", true);
        ctx.fillStyle = band[2];
        ctx.fillRect(box.left, top, box.width, bottom - top);
      });
      ctx.restore();
    }

    function markers(u) {
      var ctx = u.ctx, box = u.bbox;
      ctx.save();
      infusions.forEach(function (infusion) {
        var style = MARKERS[infusion.role] || MARKERS.in_series;
        var x = Math.round(u.valToPos(infusion.x, "x", true));
        ctx.strokeStyle = style.color;
        ctx.lineWidth = style.width * devicePixelRatio;
        ctx.setLineDash(style.dash.map(function (d) { return d * devicePixelRatio; }));
        ctx.beginPath();
        ctx.moveTo(x, box.top);
        ctx.lineTo(x, box.top + box.height);
        ctx.stroke();
      });
      lines.forEach(function (line) {
        var y = Math.round(u.valToPos(line.y, "y", true));
        ctx.strokeStyle = line.style.color;
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash(line.style.dash.map(function (d) { return d * devicePixelRatio; }));
        ctx.beginPath();
        ctx.moveTo(box.left, y);
        ctx.lineTo(box.left + box.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = line.style.color;
        ctx.font = 11 * devicePixelRatio + "px system-ui, sans-serif";
        ctx.textAlign = "right";
        ctx.fillText(line.style.label + " " + line.y, box.left + box.width - 4, y - 4);
      });
      ctx.restore();
    }

    var plot = new uPlot({
      width: Math.max(holder.clientWidth, 320),
      height: 320,
      scales: {
        x: { time: true, range: function () { return [low - pad, high + pad]; } },
        y: { range: [0, 27] }
      },
      axes: [{}, { label: "PHQ-9 total", values: function (u, ticks) { return ticks; } }],
      series: [
        {},
        { label: "PHQ-9 total", stroke: "#1f4e9c", width: 2, points: { show: true, size: 7 } },
        {
          label: "item 9 answered 1 or more",
          stroke: "#b00020",
          width: 0,
          paths: function () { return null; },
          points: { show: true, size: 13, width: 3, stroke: "#b00020", fill: "#ffffff" }
        }
      ],
      hooks: { drawClear: [background], draw: [markers] }
    }, [xs, totals, selfHarm], holder);
    var plotted = plot.data[0].map(function (x, i) { return [x, plot.data[1][i]]; });
    figure.dataset.points = JSON.stringify(plotted);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var figure = document.getElementById("trajectory");
    var holder = document.getElementById("chart");
    if (figure && holder && typeof uPlot === "function") {
      draw(figure, holder);
    }
  });
})();
