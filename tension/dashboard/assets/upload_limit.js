// dcc.Upload drops a file over its max_size without a word: say so where the upload's
// messages go, with the limit and what to do instead.
(function () {
  function check(event) {
    var zone = event.target && event.target.closest && event.target.closest("#upload");
    if (!zone) { return; }
    var holder = zone.closest("[data-max-bytes]");
    var limit = holder ? Number(holder.getAttribute("data-max-bytes")) : 0;
    var files = (event.dataTransfer && event.dataTransfer.files) || event.target.files || [];
    for (var i = 0; i < files.length; i++) {
      var f = files[i];
      if (limit && f.size > limit) {
        var out = document.getElementById("upload-status");
        if (out) {
          out.textContent = f.name + " is " + (f.size / 1048576).toFixed(1) + " MB; the limit for an upload is " +
            Math.round(limit / 1048576) + " MB. Import it with the command line: python -m tension ingest FILE";
          out.classList.add("error");
        }
      }
    }
  }
  document.addEventListener("change", check, true);
  document.addEventListener("drop", check, true);
})();
