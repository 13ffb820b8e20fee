// Pay now: the button is disabled once the form is sent, so that a double click does
// not submit twice (the one-time token refuses a repeat anyway).
document.querySelectorAll("form").forEach(function (form) {
  form.addEventListener("submit", function () {
    var button = form.querySelector("#pay-now");
    if (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });
});
