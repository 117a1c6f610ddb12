// Student page of `lowcost-capture serve`: pick a name and a label, upload photos one by one
// with a progress bar, then poll for each photo's verdict. Relative URLs keep the class token.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const nameInput = document.getElementById("student");
  const labelsBox = document.getElementById("labels");
  const fileInput = document.getElementById("photos");
  const list = document.getElementById("uploads");
  const formMessage = document.getElementById("form-message");
  const datalist = document.getElementById("known-students");
  document.getElementById("capture-form").addEventListener("submit", function (event) {
    event.preventDefault(); // Enter in the name field must not reload the page
  });
  const queue = [];
  const pending = new Map(); // upload id -> card
  let uploading = 0;
  const MAX_PARALLEL = 2;

  config.students.forEach(function (name) {
    const option = document.createElement("option");
    option.value = name;
    datalist.appendChild(option);
  });
  config.labels.forEach(function (label, index) {
    const item = document.createElement("label");
    item.className = "choice";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "label";
    radio.value = label;
    radio.id = "label-" + index;
    item.appendChild(radio);
    item.appendChild(document.createTextNode(" " + label.replace(/_/g, " ")));
    labelsBox.appendChild(item);
  });
  nameInput.value = localStorage.getItem("capture-name") || "";
  const savedLabel = localStorage.getItem("capture-label");
  labelsBox.querySelectorAll("input").forEach(function (radio) {
    if (radio.value === savedLabel) radio.checked = true;
  });

  function chosenLabel() {
    const checked = labelsBox.querySelector("input:checked");
    return checked ? checked.value : "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function makeCard(file, label) {
    const card = element("li", "upload-card state-uploading");
    const picture = element("img", "thumb");
    picture.alt = "photo " + file.name;
    picture.src = URL.createObjectURL(file);
    picture.onload = function () { URL.revokeObjectURL(picture.src); };
    picture.onerror = function () { picture.hidden = true; }; // not a picture the browser can show
    const body = element("div", "card-body");
    body.appendChild(element("p", "card-title", file.name + " — " + label.replace(/_/g, " ")));
    const progress = element("progress", "progress");
    progress.max = 100;
    progress.value = 0;
    body.appendChild(progress);
    const status = element("p", "card-status", "waiting to upload…");
    status.setAttribute("aria-live", "polite");
    body.appendChild(status);
    const checks = element("ul", "checks");
    body.appendChild(checks);
    card.appendChild(picture);
    card.appendChild(body);
    list.insertBefore(card, list.firstChild);
    return { card: card, picture: picture, progress: progress, status: status, checks: checks };
  }

  function fail(view, message) {
    view.card.className = "upload-card state-rejected";
    view.progress.hidden = true;
    view.status.textContent = message.replace(/\.?$/, ".") + " Please try again.";
  }

  function startNext() {
    while (uploading < MAX_PARALLEL && queue.length) {
      const job = queue.shift();
      uploading += 1;
      send(job);
    }
  }

  function send(job) {
    const view = job.view;
    const query = new URLSearchParams({ student: job.student, label: job.label, name: job.file.name });
    const request = new XMLHttpRequest();
    request.open("POST", "upload?" + query.toString());
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        view.progress.value = Math.round((100 * event.loaded) / event.total);
        view.status.textContent = "uploading… " + view.progress.value + " %";
      }
    };
    request.onload = function () {
      uploading -= 1;
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = {}; }
      if (request.status === 200 && answer.id) {
        view.progress.value = 100;
        view.status.textContent = "received — checking the photo…";
        view.card.className = "upload-card state-checking";
        view.card.dataset.uploadId = answer.id;
        pending.set(answer.id, view);
        schedulePoll(300);
      } else {
        fail(view, answer.error || ("Upload refused (HTTP " + request.status + ")."));
      }
      startNext();
    };
    request.onerror = request.ontimeout = function () {
      uploading -= 1;
      fail(view, "The upload did not get through (Wi-Fi?).");
      startNext();
    };
    request.send(job.file);
  }

  function showVerdict(view, record) {
    const verdict = record.verdict || {};
    view.card.className = "upload-card state-" + (verdict.outcome || "rejected");
    view.progress.hidden = true;
    view.status.textContent = verdict.title || "done";
    view.checks.textContent = "";
    (verdict.checks || []).forEach(function (check) {
      const mark = check.ok === true ? "✓ " : check.ok === false ? "✗ " : "• ";
      const item = element("li", check.ok === false ? "bad" : "good", mark + check.text);
      view.checks.appendChild(item);
    });
    if (verdict.advice) view.checks.appendChild(element("li", "advice", verdict.advice));
    if (record.thumb) {
      view.picture.hidden = false;
      view.picture.src = "thumb/" + record.id + ".jpg";
    }
  }

  let pollTimer = null;
  function schedulePoll(delay) {
    if (pollTimer === null) pollTimer = setTimeout(poll, delay);
  }
  function poll() {
    pollTimer = null;
    if (!pending.size) return;
    const ids = Array.from(pending.keys()).slice(0, 100).join(",");
    fetch("status?ids=" + ids, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        (answer.uploads || []).forEach(function (record) {
          if (record.state === "done" && pending.has(record.id)) {
            showVerdict(pending.get(record.id), record);
            pending.delete(record.id);
          }
        });
      })
      .catch(function () { /* server restarting: keep polling */ })
      .finally(function () { if (pending.size) schedulePoll(1000); });
  }

  fileInput.addEventListener("change", function () {
    formMessage.textContent = "";
    const student = nameInput.value.trim();
    const label = chosenLabel();
    if (!student) { formMessage.textContent = "Enter your name or group first."; }
    else if (!label) { formMessage.textContent = "Choose what is on the slide first."; }
    if (!student || !label) { fileInput.value = ""; return; }
    localStorage.setItem("capture-name", student);
    localStorage.setItem("capture-label", label);
    Array.from(fileInput.files).forEach(function (file) {
      const view = makeCard(file, label);
      if (file.size > config.maxUploadBytes) {
        fail(view, "This file is larger than " + Math.round(config.maxUploadBytes / 1048576) + " MB.");
        return;
      }
      queue.push({ file: file, student: student, label: label, view: view });
    });
    fileInput.value = "";
    startNext();
  });
})();
