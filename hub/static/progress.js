// Follows a spawn's progress (server-sent events from the hub's API) on the spawn-pending
// page, and goes to the server once it is ready.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section || !window.EventSource) { return; }
  var bar = document.getElementById("progress_bar");
  var message = document.getElementById("progress_message");
  var log = document.getElementById("progress_log");
  var source = new EventSource(section.dataset.progressUrl);
  source.onmessage = function (e) {
    var event = JSON.parse(e.data);
    if (event.progress !== undefined) { bar.value = event.progress; }
    if (event.message) {
      message.textContent = event.message;
      var item = document.createElement("li");
      item.textContent = event.message;
      log.appendChild(item);
    }
    if (event.ready) {
      source.close();
      window.location.replace(section.dataset.serverUrl);
    } else if (event.failed) {
      source.close();
      message.className = "error";
    }
  };
  source.onerror = function () {
    // The stream ends when the spawn does; reload to show where things stand.
    source.close();
    setTimeout(function () { window.location.reload(); }, 2000);
  };
})();
