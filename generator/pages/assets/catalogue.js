/*
 * Partner Playbook: the task catalogue's filters (generator/pages/templates/catalogue.md.j2).
 *
 * Loaded on every page; does nothing where there is no catalogue. Plain ES2017, no dependency, no request: the
 * tasks are the table's rows, so the page works opened from disk (the offline bundle) as well as served.
 *
 * The filters live in the URL's hash (#role=mvm&stage=onboard&source=imap&flag=optional&q=hybrid): it works
 * from file://, never reloads the page, and a copied link opens the same view. Rows are shown and hidden with
 * their `hidden` attribute; each row's facts and lowercase text are read once, so a filter change over
 * thousands of rows only compares strings and writes the rows whose visibility changes.
 */
(function () {
  "use strict";

  var FIELDS = ["role", "stage", "source", "flag", "q"];
  var TYPING_DELAY = 100; // ms of quiet typing before the rows follow the search box

  function start() {
    var root = document.querySelector(".playbook-catalogue");
    if (!root || root.getAttribute("data-catalogue-ready") === "true") {
      return;
    }
    var form = root.querySelector("form");
    var body = root.querySelector("tbody");
    if (!form || !body) {
      return;
    }
    root.setAttribute("data-catalogue-ready", "true");

    var fields = {};
    FIELDS.forEach(function (name) {
      fields[name] = form.elements.namedItem(name);
    });
    var count = root.querySelector("[data-catalogue-count]");
    var clears = root.querySelectorAll("[data-catalogue-clear]"); // the form's, and the one under an empty result
    var empty = root.querySelector("[data-catalogue-empty]");

    // What search matches besides the number and title: the owner's name as the role filter spells it
    // ("Migration Velocity Manager (MVM)"), so the acronym finds a role's tasks too.
    var roleLabels = {};
    Array.prototype.forEach.call(fields.role.options, function (option) {
      roleLabels[option.value] = option.textContent;
    });

    var rows = Array.prototype.map.call(body.rows, function (tr) {
      var sources = tr.getAttribute("data-sources") || "all";
      var titleCell = tr.cells[1];
      var title = titleCell && titleCell.firstChild ? titleCell.firstChild.textContent : "";
      var number = tr.cells[0] ? tr.cells[0].textContent : "";
      var role = tr.getAttribute("data-role") || "";
      return {
        element: tr,
        shown: !tr.hidden,
        role: role,
        stage: tr.getAttribute("data-stage") || "",
        sources: sources === "all" ? null : sources.split(" "), // null: every source
        optional: tr.hasAttribute("data-optional"),
        ifApplicable: tr.hasAttribute("data-if-applicable"),
        text: (number + " " + title + " " + (roleLabels[role] || role)).toLowerCase(),
      };
    });

    function optionValue(select, value) {
      for (var i = 0; i < select.options.length; i += 1) {
        if (select.options[i].value === value) {
          return value;
        }
      }
      return "";
    }

    /** The filters as the form shows them. */
    function currentState() {
      return {
        role: fields.role.value,
        stage: fields.stage.value,
        source: fields.source.value,
        flag: fields.flag.value,
        q: fields.q.value.trim(),
      };
    }

    /** A hash of ours holds `key=value` pairs or nothing; `#task-catalogue` (a heading's permalink) does not. */
    function isStateHash(hash) {
      return hash === "" || hash === "#" || hash.indexOf("=") !== -1;
    }

    function readHash() {
      var params = new URLSearchParams(location.hash.replace(/^#/, ""));
      ["role", "stage", "source", "flag"].forEach(function (name) {
        fields[name].value = optionValue(fields[name], params.get(name) || "");
      });
      fields.q.value = params.get("q") || "";
    }

    function writeHash(state) {
      var params = new URLSearchParams();
      FIELDS.forEach(function (name) {
        if (state[name]) {
          params.set(name, state[name]);
        }
      });
      var hash = params.toString();
      var url = location.href.split("#")[0] + (hash ? "#" + hash : "");
      if (url !== location.href) {
        history.replaceState(history.state, "", url);
      }
    }

    function matches(row, state, words) {
      if (state.role && row.role !== state.role) {
        return false;
      }
      if (state.stage && row.stage !== state.stage) {
        return false;
      }
      if (state.source && row.sources !== null && row.sources.indexOf(state.source) === -1) {
        return false;
      }
      if (state.flag === "optional" && !row.optional) {
        return false;
      }
      if (state.flag === "if-applicable" && !row.ifApplicable) {
        return false;
      }
      for (var i = 0; i < words.length; i += 1) {
        if (row.text.indexOf(words[i]) === -1) {
          return false;
        }
      }
      return true;
    }

    /** Shows the rows that match; only rows whose visibility changes are written to, and nothing is measured. */
    function apply(state) {
      var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      for (var i = 0; i < rows.length; i += 1) {
        var row = rows[i];
        var show = matches(row, state, words);
        if (show !== row.shown) {
          row.element.hidden = !show;
          row.shown = show;
        }
        if (show) {
          shown += 1;
        }
      }
      var noun = rows.length === 1 ? "task" : "tasks";
      var text = "Showing " + shown + " of " + rows.length + " " + noun;
      if (count && count.textContent !== text) {
        count.textContent = text;
      }
      if (empty && empty.hidden !== (shown > 0)) {
        empty.hidden = shown > 0;
      }
      root.setAttribute("data-catalogue-shown", String(shown));
    }

    var pending = null;

    function update() {
      if (pending !== null) {
        clearTimeout(pending);
        pending = null;
      }
      var state = currentState();
      apply(state);
      writeHash(state);
    }

    form.addEventListener("change", function (event) {
      if (event.target !== fields.q) {
        update();
      }
    });
    fields.q.addEventListener("input", function () {
      if (pending !== null) {
        clearTimeout(pending);
      }
      pending = setTimeout(update, TYPING_DELAY);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault(); // Enter in the search box: filter now, never load another page
      update();
    });
    Array.prototype.forEach.call(clears, function (clear) {
      clear.addEventListener("click", function () {
        FIELDS.forEach(function (name) {
          fields[name].value = "";
        });
        update();
        fields.q.focus();
      });
    });
    // A link to another view opened in the same tab, or the hash edited by hand.
    window.addEventListener("hashchange", function () {
      if (document.contains(root) && isStateHash(location.hash)) {
        readHash();
        apply(currentState());
      }
    });

    if (isStateHash(location.hash)) {
      readHash();
    }
    apply(currentState());
    form.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // Material's instant navigation, if a site turns it on, swaps pages without loading scripts again.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  }
})();
