/* The community workspace: its map (grids and buildings from onemap's vector tiles, narrowed by the key's row
   filter), its figure tiles (/kpis for the community), the download link and the task forms. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("om-config").textContent);
  var ws = window.onemapWorkspace = {cfg: cfg, drawn: {}, problems: []};

  function withKey(path, params) {
    var q = new URLSearchParams(params || {});
    Object.keys(cfg.auth || {}).forEach(function (k) { q.set(k, cfg.auth[k]); });
    var s = q.toString();
    // behind a reverse proxy the server lives under cfg.root (its path prefix): server paths start with it
    if (cfg.root && path.charAt(0) === "/" && path.indexOf(cfg.root + "/") !== 0) path = cfg.root + path;
    return s ? path + (path.indexOf("?") >= 0 ? "&" : "?") + s : path;
  }

  function fmt(v, key) {
    if (v === null || v === undefined) return "–";
    if (key && /rate$/.test(key)) return (v * 100).toFixed(1) + "%";
    return Math.round(v).toLocaleString("zh-CN");
  }

  function sum(values) {
    return Object.keys(values || {}).reduce(function (s, k) { return /rate$/.test(k) ? s : s + values[k]; }, 0);
  }

  function mark(name) {
    ws.drawn[name] = true;
    var el = document.querySelector('[data-panel="' + name + '"]');
    if (el) el.setAttribute("data-drawn", "1");
    if (ws.drawn.map && ws.drawn.tiles) document.documentElement.setAttribute("data-onemap-ready", "1");
  }

  document.getElementById("om-download").setAttribute("href", withKey(cfg.download));

  var map = L.map("om-map", {attributionControl: false, preferCanvas: true, zoomSnap: 1  /* VectorGrid's canvas hit test assumes unscaled tiles */});
  var b = cfg.bounds;
  map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [10, 10], animate: false});
  function layer(id, style, pane) {
    return L.vectorGrid.protobuf(withKey("/collections/" + id + "/tiles/WebMercatorQuad/{z}/{x}/{y}"), {
      rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, maxZoom: 22,
      vectorTileLayerStyles: new Proxy({}, {get: function () { return style; }})
    });
  }
  if (cfg.layers.indexOf("grids") >= 0) {
    var grids = layer("grids", {fill: true, fillColor: "#12407a", fillOpacity: 0.25, color: "#5fb3f0", weight: 1.5});
    grids.on("load", function () { mark("map"); });
    grids.addTo(map);
  } else {
    mark("map");
  }
  if (cfg.layers.indexOf("buildings") >= 0) {
    layer("buildings", {fill: true, fillColor: "#f4a259", fillOpacity: 0.7, stroke: true, color: "#e09a2d", weight: 0.5})
      .addTo(map);
  }

  fetch(withKey("/kpis", {code: cfg.code})).then(function (r) {
    if (!r.ok) throw new Error("/kpis: HTTP " + r.status);
    return r.json();
  }).then(function (data) {
    var html = [];
    cfg.tiles.forEach(function (t) {
      var fig = data.figures[t[0]];
      if (!fig) return;
      var v = t[1] ? fig.total[t[1]] || 0 : sum(fig.total);
      html.push('<div class="om-tile" data-figure="' + t[0] + '" data-value="' + v + '"><div class="v">' +
                fmt(v, t[1]) + '</div><div class="l">' + t[2] + "<small>" + t[3] + "</small></div></div>");
    });
    document.getElementById("om-tiles").innerHTML = '<div class="om-tiles">' + html.join("") + "</div>";
    mark("tiles");
  }).catch(function (e) { ws.problems.push(String(e)); mark("tiles"); });

  // Task forms post JSON and reload the page to show the new state.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-post]"), function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      // empty fields are left out: an assignee is asked only of case tasks
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.value !== "") body[el.name] = el.value;
      });
      fetch(withKey(form.getAttribute("data-post")), {method: "POST", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json"}}).then(function (r) {
        return r.json().then(function (j) {
          var out = form.querySelector(".om-note");
          if (r.ok) { location.reload(); } else if (out) { out.textContent = j.detail || ("HTTP " + r.status); }
        });
      });
    });
  });
})();
