/* Live updates over Server-Sent Events: FixQuestLive.subscribe(url, onState).
 *
 * Pages show the state at load time without JavaScript; this only keeps them current.
 * onState(state, event) gets each "state" event's JSON (the whole state, so a missed one
 * does not matter). The browser's EventSource reconnects by itself after a dropped
 * connection, sending Last-Event-ID; when it gives up (the server answered 503 because it
 * holds as many streams as it may, or the login expired) we open a new one later, with a
 * growing delay, and pass the last id we saw as ?lastEventId= so nothing is missed.
 * A hidden tab closes its stream and opens it again when shown (resuming the same way):
 * browsers allow about six HTTP/1.1 connections to a site, and each open stream holds one
 * (and one server thread), so background tabs must not keep them.
 * Text from the server is only ever set as textContent.
 *
 * Also wires the header's unread-notifications count: a link with
 * data-live-notifications="<stream url>" whose text is "Notifications (n)", and on the
 * inbox page ([data-live-inbox]) lists the unread notifications that arrived after it loaded.
 */
(function () {
  'use strict';

  var FIRST_DELAY = 2000;
  var MAX_DELAY = 5 * 60 * 1000;

  function withLastId(url, lastId) {
    if (!lastId) { return url; }
    return url + (url.indexOf('?') === -1 ? '?' : '&') + 'lastEventId=' + encodeURIComponent(lastId);
  }

  function subscribe(url, onState) {
    var source = null;
    var timer = null;
    var stopped = false;
    var lastId = '';
    var delay = FIRST_DELAY;

    function open() {
      timer = null;
      if (stopped || source || document.hidden) { return; }
      source = new EventSource(withLastId(url, lastId));
      source.addEventListener('state', function (event) {
        delay = FIRST_DELAY;
        if (event.lastEventId) { lastId = event.lastEventId; }
        var state;
        try { state = JSON.parse(event.data); } catch (e) { return; }
        onState(state, event);
      });
      source.addEventListener('error', function () {
        if (stopped || !source || source.readyState !== EventSource.CLOSED) { return; }  // the browser retries itself
        source = null;
        timer = window.setTimeout(open, delay + Math.random() * 1000);
        delay = Math.min(delay * 2, MAX_DELAY);
      });
    }

    function shut() {
      window.clearTimeout(timer);
      timer = null;
      if (source) { source.close(); source = null; }
    }

    if (!window.EventSource) { return {close: function () {}}; }
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) { shut(); } else if (!timer) { open(); }
    });
    open();
    return {
      close: function () {
        stopped = true;
        shut();
      }
    };
  }

  window.FixQuestLive = {subscribe: subscribe};

  // The inbox page's "Just in" list: unread notifications newer than the page, from the
  // same stream as the header's count (one stream per tab).
  var inbox = document.querySelector('[data-live-inbox]');

  function showJustIn(latest) {
    if (!inbox || !Array.isArray(latest)) { return; }
    var since = Date.parse(inbox.getAttribute('data-since'));
    var fresh = latest.filter(function (item) {
      return item.unread && Date.parse(item.at) > since && /^\/[^/\\]/.test(String(item.url));
    });
    var list = inbox.querySelector('ul');
    list.replaceChildren.apply(list, fresh.map(function (item) {
      var li = document.createElement('li');
      var link = document.createElement('a');
      link.href = item.url;
      link.textContent = item.title;
      li.appendChild(link);
      return li;
    }));
    inbox.hidden = fresh.length === 0;
  }

  var unread = document.querySelector('a[data-live-notifications]');
  if (unread) {
    subscribe(unread.getAttribute('data-live-notifications'), function (state) {
      if (typeof state.unread === 'number') { unread.textContent = 'Notifications (' + state.unread + ')'; }
      showJustIn(state.latest);
    });
  }
}());
