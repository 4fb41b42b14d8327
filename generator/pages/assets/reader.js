/*
 * Partner Playbook: what helps a reader on the move, with no request and no dependency, served or from disk.
 *
 * - A runbook's ticked boxes survive a reload (generator/pages/templates/runbook.md.j2). The ticks are kept in the
 *   browser's local storage, one entry per runbook (keyed by the page's path, so it works opened from disk too),
 *   as the task numbers ticked. Where storage is refused (private windows, file:// in some browsers, a full
 *   quota) the boxes still tick; they are only forgotten on reload.
 * - The task index's jump box opens a task's page from its number (generator/pages/templates/tasks_index.md.j2): the
 *   form is hidden until this script shows it, and holds the page's address pattern as the site was built.
 */
(function () {
  "use strict";

  var PREFIX = "partner-playbook:runbook:";

  function storage() {
    try {
      var store = window.localStorage;
      var probe = PREFIX + "probe";
      store.setItem(probe, "1");
      store.removeItem(probe);
      return store;
    } catch (error) {
      return null;
    }
  }

  function read(store, key) {
    try {
      var saved = JSON.parse(store.getItem(key) || "[]");
      return Array.isArray(saved) ? saved.map(String) : [];
    } catch (error) {
      return [];
    }
  }

  function start() {
    var boxes = document.querySelectorAll("input.runbook-check[data-task]");
    if (!boxes.length) {
      return;
    }
    var store = storage();
    if (!store) {
      return;
    }
    var key = PREFIX + window.location.pathname;
    var ticked = read(store, key);
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.getAttribute("data-runbook-ready") === "true") {
        return;
      }
      box.setAttribute("data-runbook-ready", "true");
      box.checked = ticked.indexOf(box.getAttribute("data-task")) !== -1;
      box.addEventListener("change", function () {
        var now = Array.prototype.filter
          .call(boxes, function (each) {
            return each.checked;
          })
          .map(function (each) {
            return each.getAttribute("data-task");
          });
        try {
          if (now.length) {
            store.setItem(key, JSON.stringify(now));
          } else {
            store.removeItem(key);
          }
        } catch (error) {
          // storage full or withdrawn meanwhile: the tick stays on screen, it is only not remembered
        }
      });
    });
  }

  function startJump() {
    var form = document.querySelector("form.playbook-jump");
    if (!form || form.getAttribute("data-jump-ready") === "true") {
      return;
    }
    form.setAttribute("data-jump-ready", "true");
    var input = form.querySelector("input[name=task]");
    var message = form.querySelector("[data-jump-message]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var number = (input.value || "").trim().replace(/^0+(?=\d)/, "");
      if (!/^\d{1,9}$/.test(number)) {
        message.textContent = "Type a task number, such as 3306.";
        input.focus();
        return;
      }
      // The sample task's link as the engine wrote it (tasks/3306/, or tasks/3306.html offline), its number
      // swapped for the one typed.
      var sample = form.querySelector("a[data-task-sample]");
      var id = sample.getAttribute("data-task-sample");
      var at = sample.href.lastIndexOf(id);
      window.location.href = sample.href.slice(0, at) + number + sample.href.slice(at + id.length);
    });
    form.hidden = false;
  }

  // The MkDocs plugin makes each acronym focusable as it writes the page (the theme shows its tooltip on focus,
  // and a tap focuses it); engines that run no plugin, such as Zensical, leave that to this script.
  function focusableAcronyms() {
    document.querySelectorAll("abbr[title]:not([tabindex])").forEach(function (acronym) {
      acronym.setAttribute("tabindex", "0");
    });
  }

  function startAll() {
    start();
    startJump();
    focusableAcronyms();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
  // Material's instant navigation, if a site turns it on, swaps pages without loading scripts again.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(startAll);
  }
})();
