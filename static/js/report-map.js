/* The report form's location picker (templates/maps/_picker.html).
 *
 * - Clicking or tapping the map (or pressing Enter on it: the pin goes to its centre) fills
 *   the form's latitude and longitude fields and drops a pin; typing in the fields moves it.
 * - "Use my location" asks the browser where it is (shown only where that is possible).
 * - When latitude, longitude and category are all set, "Is it one of these?" lists the
 *   unresolved problems already reported nearby (GET /api/v1/problems/nearby), each with
 *   its distance and a link to its page, where "I see this too" confirms it.
 * Without JavaScript the picker stays hidden and the form's own fields do the job.
 */
(function () {
  'use strict';

  var STATUS_WORDS = {open: 'open', confirmed: 'confirmed', in_progress: 'in progress',
                      fixed: 'fixed', closed: 'closed'};
  var DECIMALS = 5;  // about a metre

  var root = document.querySelector('[data-map-picker]');
  if (!root || typeof L === 'undefined') { return; }
  var data = root.dataset;
  var latInput = document.getElementById(data.latInput || 'lat');
  var lonInput = document.getElementById(data.lonInput || 'lon');
  var categoryInput = document.getElementById(data.categoryInput || 'category');
  if (!latInput || !lonInput) { return; }

  var mapEl = root.querySelector('[data-picker-map]');
  var locateButton = root.querySelector('[data-locate]');
  var statusLine = root.querySelector('[data-picker-status]');
  var nearby = root.querySelector('[data-nearby]');
  var nearbyList = root.querySelector('[data-nearby-list]');

  root.hidden = false;
  var map = L.map(mapEl, {keyboard: true}).setView(
    [parseFloat(data.centreLat), parseFloat(data.centreLon)], parseInt(data.zoom, 10) || 13);
  L.tileLayer(data.tileUrl, {attribution: data.attribution, maxZoom: 19}).addTo(map);
  var pin = null;

  function say(text) { statusLine.textContent = text; }

  function readNumber(input, limit) {
    var text = input.value.trim();
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) { return null; }
    var value = parseFloat(text);
    return Math.abs(value) <= limit ? value : null;
  }

  function readPoint() {
    var lat = readNumber(latInput, 90), lon = readNumber(lonInput, 180);
    return lat === null || lon === null ? null : L.latLng(lat, lon);
  }

  function placePin(latLng) {
    if (pin) {
      pin.setLatLng(latLng);
    } else {
      pin = L.marker(latLng, {title: 'The problem is here', alt: 'The problem is here', keyboard: false})
        .addTo(map);
    }
  }

  function choose(latLng) {
    latLng = latLng.wrap();
    latInput.value = latLng.lat.toFixed(DECIMALS);
    lonInput.value = latLng.lng.toFixed(DECIMALS);
    placePin(latLng);
    say('Location set to ' + latInput.value + ', ' + lonInput.value + '.');
    checkNearby();
  }

  map.on('click', function (event) { choose(event.latlng); });
  mapEl.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && event.target === mapEl) {
      event.preventDefault();  // never submit the form from the map
      choose(map.getCenter());
    }
  });

  function fieldsChanged() {
    var point = readPoint();
    if (point) {
      placePin(point);
      map.panTo(point);
    }
    checkNearby();
  }
  [latInput, lonInput].forEach(function (input) { input.addEventListener('change', fieldsChanged); });
  if (categoryInput) { categoryInput.addEventListener('change', checkNearby); }

  // --- Use my location ---------------------------------------------------------------------
  if (locateButton && 'geolocation' in navigator && window.isSecureContext !== false) {
    locateButton.hidden = false;
    locateButton.addEventListener('click', function () {
      say('Finding your location…');
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        map.setView(here, Math.max(map.getZoom(), 17));
        choose(here);
      }, function () {
        say('Your location is not available. Click the map or type the coordinates instead.');
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  // --- Is it one of these? -----------------------------------------------------------------
  var timer = null;
  var pending = null;

  function distance(metres) {
    if (metres < 1000) { return 'about ' + Math.max(1, Math.round(metres)) + ' m away'; }
    return 'about ' + (metres / 1000).toFixed(1) + ' km away';
  }

  function item(problem) {
    var li = document.createElement('li');
    var link = document.createElement('a');
    link.href = data.problemUrl + encodeURIComponent(problem.id);
    link.textContent = problem.title;
    li.appendChild(link);
    var words = STATUS_WORDS[problem.status] || String(problem.status || '');
    li.appendChild(document.createTextNode(' · ' + words + ' · ' + distance(Number(problem.distance_m))));
    return li;
  }

  function show(items) {
    nearbyList.replaceChildren.apply(nearbyList, items.map(item));
    nearby.hidden = items.length === 0;
    if (items.length) {
      say(items.length === 1 ? 'One problem like this was already reported nearby: is it yours?'
                             : items.length + ' problems like this were already reported nearby: is it one of these?');
    }
  }

  function fetchNearby(point, category) {
    var url = new URL(data.nearbyUrl, window.location.href);
    url.searchParams.set('lat', point.lat.toFixed(DECIMALS));
    url.searchParams.set('lon', point.lng.toFixed(DECIMALS));
    url.searchParams.set('category', category);
    if (pending) { pending.abort(); }
    pending = typeof AbortController === 'function' ? new AbortController() : null;
    fetch(url.toString(), {headers: {Accept: 'application/json'}, credentials: 'same-origin',
                           signal: pending ? pending.signal : undefined})
      .then(function (response) { return response.ok ? response.json() : {items: []}; })
      .then(function (body) { show(Array.isArray(body.items) ? body.items : []); })
      .catch(function (error) {
        if (!error || error.name !== 'AbortError') { show([]); }  // the form works regardless
      });
  }

  function checkNearby() {
    window.clearTimeout(timer);
    var point = readPoint();
    var category = categoryInput ? categoryInput.value : '';
    if (!point || !category) { show([]); return; }
    timer = window.setTimeout(function () { fetchNearby(point, category); }, 400);
  }

  // A form shown again (say, with an error) keeps its place: start from it.
  var start = readPoint();
  if (start) {
    placePin(start);
    map.setView(start, Math.max(map.getZoom(), 16));
    checkNearby();
  }
}());
