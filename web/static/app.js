// Sanad dashboard: keyboard shortcuts and the live queue (issue 16 item 6). A progressive
// enhancement only: every page works the same without this file, and the CSP allows no
// other script (script-src 'self', nothing inline). It never changes anything itself: the
// only request it makes is the queue's own GET /queue/changes, which the server does not
// count as activity (an open queue still logs out when idle).
//   j / k   next / previous case in the queue (or section on a case page)
//   o, Enter open the chosen case          c  claim it (or this case)
//   x       tick it for a bulk action       r  write to the reporter (case page)
//   /       search                          ?  show or hide this list
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-case]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("main section[id]"));
  var current = -1;

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function choose(index) {
    if (!rows.length) { return; }
    if (current >= 0 && rows[current]) { rows[current].classList.remove("chosen"); rows[current].removeAttribute("aria-current"); }
    current = Math.max(0, Math.min(rows.length - 1, index));
    var row = rows[current];
    row.classList.add("chosen");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a[href^='/cases/']") || row.querySelector("button, input");
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  function section(step) {
    if (!sections.length) { return; }
    var y = window.scrollY + 10, index = 0;
    sections.forEach(function (s, i) { if (s.offsetTop <= y) { index = i; } });
    var next = sections[Math.max(0, Math.min(sections.length - 1, index + step))];
    next.scrollIntoView({ block: "start" });
    var heading = next.querySelector("h2");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
  }

  function click(selector, scope) {
    var el = (scope || document).querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  var help = document.getElementById("shortcuts");
  if (help) { document.documentElement.classList.add("has-shortcuts"); }

  // The live queue: every data-every seconds, ask how many cases of this view arrived or
  // changed since the page was loaded; when some did, say so (role=status) with a link that
  // loads the queue again. The rows are not replaced under the caseworker's hand.
  var live = document.getElementById("live");
  if (live && window.fetch) {
    var every = Math.max(1, parseFloat(live.getAttribute("data-every")) || 20) * 1000;
    var poll = function () {
      fetch(live.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store",
                                              headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }  // logged out: stop
          return response.json();
        })
        .then(function (data) {
          if (data.changed > 0) {
            live.querySelector(".live-text").textContent = data.text;
            live.hidden = false;
            document.title = document.title.replace(/^\(\d+\+?\) /, "");
            document.title = "(" + (data.changed > 99 ? "99+" : data.changed) + ") " + document.title;
          }
          window.setTimeout(poll, every);
        })
        .catch(function () { /* the page stays as it was loaded */ });
    };
    window.setTimeout(poll, every);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key, row = rows[current];
    if (key === "j" || key === "k") {
      if (rows.length) { choose(current < 0 ? 0 : current + (key === "j" ? 1 : -1)); } else { section(key === "j" ? 1 : -1); }
    } else if ((key === "o" || key === "Enter") && row) {
      if (!click("a[href^='/cases/']", row)) { return; }
    } else if (key === "c") {
      if (!(row ? click("button.claim", row) : click("button.claim"))) { return; }
    } else if (key === "x" && row) {
      if (!click("input[type=checkbox][name=refs]", row)) { return; }
    } else if (key === "r") {
      var box = document.getElementById("reply-text");
      if (!box) { return; }
      box.scrollIntoView({ block: "center" }); box.focus();
    } else if (key === "/") {
      var search = document.getElementById("q");
      if (!search) { return; }
      search.focus(); search.select();
    } else if (key === "?" && help) {
      help.hidden = !help.hidden;
    } else {
      return;
    }
    event.preventDefault();
  });
})();
