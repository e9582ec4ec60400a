// Keeps an event's scoreboard live: the table is rendered by the server at load (no
// JavaScript needed); this listens to the board's Server-Sent Events stream and redraws the
// table from each whole new state. Text is set with textContent only, never as HTML.
(function () {
  "use strict";
  var box = document.querySelector(".event-board[data-stream]");
  if (!box || !window.EventSource) { return; }
  var table = box.querySelector("table");
  var status = box.querySelector(".board-status");

  function cell(tag, text, scope) {
    var el = document.createElement(tag);
    if (scope) { el.setAttribute("scope", scope); }
    el.textContent = text;
    return el;
  }

  function hidden(text) {
    var span = document.createElement("span");
    span.className = "visually-hidden";
    span.textContent = text;
    return span;
  }

  function solvedCell(done) {
    var td = document.createElement("td");
    if (done) {
      var mark = document.createElement("span");
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = "\u2713";
      td.appendChild(mark);
    }
    td.appendChild(hidden(done ? "solved" : "not solved"));
    return td;
  }

  function draw(state) {
    var head = document.createElement("tr");
    ["Rank", "Entry", "Points"].forEach(function (name) { head.appendChild(cell("th", name, "col")); });
    state.quests.forEach(function (quest) { head.appendChild(cell("th", quest.title, "col")); });
    table.tHead.replaceChildren(head);
    var rows = state.rows.map(function (row) {
      var tr = document.createElement("tr");
      tr.appendChild(cell("td", String(row.rank)));
      tr.appendChild(cell("td", row.name));
      tr.appendChild(cell("td", String(row.points)));
      state.quests.forEach(function (quest) { tr.appendChild(solvedCell(row.solved.indexOf(quest.id) !== -1)); });
      return tr;
    });
    if (!rows.length) {
      var empty = document.createElement("tr");
      var td = cell("td", "No entries yet.");
      td.colSpan = 3 + state.quests.length;
      empty.appendChild(td);
      rows = [empty];
    }
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
    if (state.view === "final") { status.textContent = "Final results."; }
    else if (state.view === "live" && box.dataset.view !== "live") { status.textContent = "Live."; }
  }

  var source = new EventSource(box.dataset.stream);
  source.addEventListener("state", function (event) { draw(JSON.parse(event.data)); });

  function at(moment, action) {
    var wait = Date.parse(moment) - Date.now() + 1000;
    if (!isNaN(wait) && wait > 0 && wait < 2147483647) { window.setTimeout(action, wait); }
  }

  // From the freeze the public stream goes quiet until the end: say why the board stands still.
  if (box.dataset.freezeAt) {
    at(box.dataset.freezeAt, function () {
      status.textContent = "The scoreboard is frozen: it shows the standings at the freeze. " +
        "Final results are revealed at the end.";
    });
  }
  // At the end the frozen board gives way to the results: load the page again to see them.
  at(box.dataset.endsAt, function () { source.close(); window.location.reload(); });
})();
