// Instructor page of `lowcost-capture serve`: polls the session summary every 2 s and the
// audit while it runs. Relative URLs keep the instructor token.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  let lastChange = -1;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function table(node, header, rows) {
    node.textContent = "";
    const head = element("tr");
    header.forEach(function (cell) { head.appendChild(element("th", "", cell)); });
    node.appendChild(head);
    rows.forEach(function (row) {
      const line = element("tr");
      row.forEach(function (cell) { line.appendChild(element("td", "", String(cell))); });
      node.appendChild(line);
    });
  }

  function tile(item, withProblems) {
    const entry = element("li", "tile split-" + (item.split || "none") + " outcome-" + item.outcome);
    if (item.thumb) {
      const picture = element("img");
      picture.src = "thumb/" + item.id + ".jpg";
      picture.alt = item.label + " photo by " + item.student;
      picture.loading = "lazy";
      entry.appendChild(picture);
    }
    entry.appendChild(element("p", "caption", item.student + " · " + item.label));
    if (withProblems) {
      entry.appendChild(element("p", "caption bad", item.title));
      item.problems.forEach(function (text) { entry.appendChild(element("p", "caption", text)); });
    }
    return entry;
  }

  function render(summary) {
    const outcomes = summary.outcomes;
    document.getElementById("totals").textContent =
      summary.total + " upload(s): " + (outcomes.accepted || 0) + " accepted, " +
      (outcomes.warning || 0) + " with a warning, " + (outcomes.duplicate || 0) + " duplicate, " +
      (outcomes.rejected || 0) + " rejected; " + summary.queued + " being checked.";
    table(document.getElementById("per-label"), ["label", "photos"],
      summary.labels.map(function (label) { return [label, summary.per_label[label]]; }));
    const columns = summary.labels.concat(["not used"]);
    table(document.getElementById("per-student"), ["student / group"].concat(columns),
      Object.keys(summary.per_student).map(function (name) {
        const counts = summary.per_student[name];
        return [name].concat(columns.map(function (c) { return counts[c] || 0; }));
      }));
    const flagged = document.getElementById("flagged");
    flagged.textContent = "";
    summary.flagged.forEach(function (item) { flagged.appendChild(tile(item, true)); });
    const accepted = document.getElementById("accepted");
    accepted.textContent = "";
    summary.accepted.forEach(function (item) { accepted.appendChild(tile(item, false)); });
    showAudit(summary.audit);
  }

  function showAudit(audit) {
    const state = document.getElementById("audit-state");
    const button = document.getElementById("run-audit");
    button.disabled = audit.state === "running";
    if (audit.state === "running") state.textContent = "running…";
    else if (audit.state === "done") {
      state.textContent = audit.ok ? "no problem found" : audit.problems.length + " problem(s)";
      state.className = audit.ok ? "good" : "bad";
      document.getElementById("audit-text").textContent = audit.text;
    }
  }

  function refresh() {
    fetch("summary", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (summary) {
        if (summary.changed_at !== lastChange || summary.audit.state === "running") {
          lastChange = summary.changed_at;
          render(summary);
        } else {
          showAudit(summary.audit);
        }
      })
      .catch(function () { document.getElementById("totals").textContent = "server not reachable…"; })
      .finally(function () { setTimeout(refresh, 2000); });
  }

  const links = document.getElementById("sheet-links");
  config.labels.forEach(function (label, index) {
    const link = element("a", "", label);
    link.href = "contact/" + encodeURIComponent(label) + ".png";
    link.target = "_blank";
    if (index) links.appendChild(document.createTextNode(", "));
    links.appendChild(link);
  });
  document.getElementById("run-audit").addEventListener("click", function () {
    fetch("audit", { method: "POST" })
      .then(function (response) { return response.json(); })
      .then(showAudit);
  });
  refresh();
})();
