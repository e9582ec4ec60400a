// Live campaign progress: the page already shows the state at load (it works without
// JavaScript); this keeps the bar, the text and the milestones current from the
// campaign's Server-Sent Events stream, and shows the celebration when a milestone is new.
(function () {
  "use strict";
  var section = document.querySelector("[data-live-progress]");
  if (!section || !window.EventSource) { return; }
  var bar = section.querySelector("[data-progress-bar]");
  var text = section.querySelector("[data-progress-text]");
  var banner = section.querySelector("[data-celebration]");
  var known = {};
  section.querySelectorAll("[data-milestone].reached").forEach(function (item) {
    known[item.getAttribute("data-milestone")] = true;
  });

  function celebrate(percent) {
    banner.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = percent === 100 ? "Goal reached!" : percent + "% reached!";
    p.appendChild(strong);
    p.appendChild(document.createTextNode(" Thank you, everyone who helped."));
    banner.appendChild(p);
    banner.hidden = false;
  }

  function show(state) {
    bar.max = state.goal;
    bar.value = Math.min(state.count, state.goal);
    bar.textContent = state.count + " of " + state.goal;
    text.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = state.text;
    text.appendChild(strong);
    text.appendChild(document.createTextNode(" (" + state.percent + "%)"));
    state.milestones.forEach(function (m) {
      var item = section.querySelector('[data-milestone="' + m.percent + '"]');
      if (!item) { return; }
      item.classList.add("reached");
      item.classList.remove("ahead");
      item.querySelector("[data-milestone-text]").textContent = "reached " + new Date(m.reached_at).toLocaleString();
      if (!known[m.percent]) {
        known[m.percent] = true;
        section.querySelectorAll("[data-milestone].recent").forEach(function (old) { old.classList.remove("recent"); });
        item.classList.add("recent");
        celebrate(m.percent);
      }
    });
  }

  var source = new EventSource(section.getAttribute("data-stream-url"));
  source.addEventListener("state", function (event) {
    try { show(JSON.parse(event.data)); } catch (e) { /* a malformed event: wait for the next */ }
  });
}());
