// The web survey works without this file; with it, choosing an option by tap or click submits the answer, and the
// comment box counts its characters. Arrow keys only move the choice (a keyboard user still presses Continue).
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    var byPointer = false;
    form.addEventListener("pointerdown", function () { byPointer = true; });
    form.addEventListener("keydown", function () { byPointer = false; });
    form.addEventListener("change", function (event) {
      if (!byPointer || event.target.type !== "radio" || form.dataset.sent) { return; }
      form.dataset.sent = "1";
      var answer = form.querySelector("button[value=answer]");
      if (form.requestSubmit) { form.requestSubmit(answer); } else { answer.click(); }
    });
  });
  var text = document.getElementById("text"), count = document.getElementById("limit");
  if (text && count && count.dataset.limit) {
    var update = function () {
      count.textContent = count.dataset.template.replace("{count}", String(text.value.length));
    };
    text.addEventListener("input", update);
    update();
  }
})();
