/* Progressive enhancements for the home page and the dashboard (the pages work without them).
 *
 * - [data-locate]: a "Use my location" form, shown only where the browser can tell where it
 *   is; it reloads the page with ?lat=&lon= so the server lists the quests near that place.
 * - [data-countdown]: a <time datetime> whose words ("closes in 3 hours") the server wrote;
 *   they are brought up to date every minute.
 * - [data-dismiss]: a celebration banner's "Dismiss" form, sent in the background and the
 *   banner removed (without JavaScript the form posts and the page comes back without it).
 */
(function () {
  'use strict';

  var locate = document.querySelector('[data-locate]');
  if (locate && 'geolocation' in navigator) {
    var status = locate.querySelector('[data-locate-status]');
    locate.hidden = false;
    locate.addEventListener('submit', function (event) {
      event.preventDefault();
      status.textContent = 'Finding where you are…';
      navigator.geolocation.getCurrentPosition(function (position) {
        var params = new URLSearchParams(window.location.search);
        params.set('lat', position.coords.latitude.toFixed(5));
        params.set('lon', position.coords.longitude.toFixed(5));
        window.location.search = params.toString();
      }, function () {
        status.textContent = 'Your browser did not share a location. You can follow an area instead.';
      }, {maximumAge: 600000, timeout: 15000});
    });
  }

  var UNITS = [['day', 86400], ['hour', 3600], ['minute', 60]];

  function closesIn(seconds) {
    if (seconds <= 0) { return 'closed'; }
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][1]) {
        var count = Math.floor(seconds / UNITS[i][1]);
        return 'closes in ' + count + ' ' + UNITS[i][0] + (count === 1 ? '' : 's');
      }
    }
    return 'closes in less than a minute';
  }

  var countdowns = document.querySelectorAll('[data-countdown]');
  function tick() {
    var now = Date.now();
    for (var i = 0; i < countdowns.length; i++) {
      var ends = Date.parse(countdowns[i].getAttribute('datetime'));
      if (!isNaN(ends)) {
        var seconds = (ends - now) / 1000;
        countdowns[i].textContent = closesIn(seconds);
        countdowns[i].classList.toggle('urgent', seconds < 86400);
      }
    }
  }
  if (countdowns.length) { window.setInterval(tick, 60000); }

  var dismiss = document.querySelectorAll('[data-dismiss]');
  Array.prototype.forEach.call(dismiss, function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var banner = form.closest('[data-celebration]');
      window.fetch(form.action, {method: 'POST', body: new FormData(form), credentials: 'same-origin',
                                 headers: {'Accept': 'application/json'}})
        .then(function (response) {
          if (response.ok && banner) { banner.remove(); } else { form.submit(); }
        }, function () { form.submit(); });
    });
  });
}());
