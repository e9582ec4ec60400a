/* The /map page (and the home page's small map): draws the problems listed on the page onto a Leaflet map.
 *
 * Everything it needs comes from data- attributes on [data-problem-map] (the GeoJSON URL
 * with the page's filters, the tile URL and attribution, the starting view), so the page
 * has no inline script. Without JavaScript, Leaflet or tiles the map stays hidden and the
 * page's own list is the whole page. Text from the server is only ever set as textContent.
 */
(function () {
  'use strict';

  var STATUS_WORDS = {open: 'Open', confirmed: 'Confirmed', in_progress: 'In progress',
                      fixed: 'Fixed', closed: 'Closed'};

  var el = document.querySelector('[data-problem-map]');
  if (!el || typeof L === 'undefined') { return; }
  var section = el.closest('[data-map-section]');
  var statusLine = section.querySelector('[data-map-status]');
  var data = el.dataset;

  section.hidden = false;
  var map = L.map(el, {keyboard: true}).setView(
    [parseFloat(data.centreLat), parseFloat(data.centreLon)], parseInt(data.zoom, 10) || 13);
  L.tileLayer(data.tileUrl, {attribution: data.attribution, maxZoom: 19}).addTo(map);
  // Clusters where the page loads them (the /map page); a plain layer on the home page's
  // small map, which asks for a few hundred markers and keeps its scripts light.
  var clusters = typeof L.markerClusterGroup === 'function'
    ? L.markerClusterGroup({showCoverageOnHover: false, chunkedLoading: true, disableClusteringAtZoom: 18})
    : L.featureGroup();
  map.addLayer(clusters);

  function statusKey(status) {
    return Object.prototype.hasOwnProperty.call(STATUS_WORDS, status) ? status : 'unknown';
  }

  function words(status) {
    return STATUS_WORDS[status] || String(status || 'Unknown');
  }

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) { n.className = className; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }

  function popup(props) {
    var box = node('div', 'map-popup');
    var title = node('p', 'map-popup-title');
    var link = node('a', null, props.title);
    link.href = props.url;
    title.appendChild(link);
    box.appendChild(title);
    box.appendChild(node('p', null, 'Status: ' + words(props.status)));
    box.appendChild(node('p', null, 'Category: ' + props.category));
    if (props.confirmations_count) {
      box.appendChild(node('p', null, props.confirmations_count + ' more ' +
        (props.confirmations_count === 1 ? 'person sees' : 'people see') + ' this too'));
    }
    return box;
  }

  function marker(feature) {
    var props = feature.properties;
    var lonLat = feature.geometry.coordinates;  // GeoJSON order: [lon, lat]
    var label = props.title + ' (' + words(props.status) + ')';
    var icon = L.divIcon({className: 'map-pin map-pin-' + statusKey(props.status),
                          iconSize: [20, 20], iconAnchor: [10, 10], popupAnchor: [0, -10]});
    return L.marker([lonLat[1], lonLat[0]], {icon: icon, title: label, alt: label, keyboard: true})
      .bindPopup(popup(props));
  }

  function say(text) { statusLine.textContent = text; }

  var loadedWhole = false;  // the first answer held every match: no need to refetch on moves
  var pending = null;

  function viewBox() {
    var b = map.getBounds();
    var west = b.getWest(), east = b.getEast();
    if (east - west >= 360) { return null; }
    var wrap = function (lon) { return ((lon + 540) % 360) - 180; };
    var clamp = function (lat) { return Math.max(-90, Math.min(90, lat)); };
    return [wrap(west), clamp(b.getSouth()), wrap(east), clamp(b.getNorth())]
      .map(function (n) { return n.toFixed(5); }).join(',');
  }

  function load(withinView) {
    var url = new URL(data.geojsonUrl, window.location.href);
    var box = withinView ? viewBox() : null;
    if (box) { url.searchParams.set('bbox', box); }
    if (pending) { pending.abort(); }
    pending = typeof AbortController === 'function' ? new AbortController() : null;
    say('Loading the map…');
    // Without cookies: the GeoJSON is the same public data for everyone, so a signed-in
    // person's map is served from the visitors' page cache too (pagecache.py).
    fetch(url.toString(), {headers: {Accept: 'application/geo+json'}, credentials: 'omit',
                           signal: pending ? pending.signal : undefined})
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (collection) {
        var features = collection.features || [];
        clusters.clearLayers();
        var markers = features.map(marker);
        if (clusters.addLayers) { clusters.addLayers(markers); }  // a cluster group, in chunks
        else { markers.forEach(function (m) { clusters.addLayer(m); }); }
        if (!withinView) {
          loadedWhole = !collection.truncated;
          if (features.length) { map.fitBounds(clusters.getBounds(), {maxZoom: 16, padding: [20, 20]}); }
        }
        var shown = features.length + ' problem' + (features.length === 1 ? '' : 's') + ' on the map';
        say(collection.truncated ? shown + ': the newest ones here. Zoom in or filter to see others.'
                                 : shown + '.');
      })
      .catch(function (error) {
        if (error && error.name === 'AbortError') { return; }
        say('The map could not load its markers. The list below has every problem.');
      });
  }

  var timer = null;
  map.on('moveend', function () {
    if (loadedWhole) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { load(true); }, 300);
  });

  load(false);
}());
