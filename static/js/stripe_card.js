// Card entry with Stripe Elements (payments/stripe_views.py): the card number and CVC
// are typed into Stripe's own fields and go to Stripe only; Stripe confirms the
// SetupIntent (with the bank's 3-D Secure check if it asks for one), then the customer
// goes back to the portal. A decline is shown here with the portal's own words.
(function () {
  var root = document.getElementById("stripe-card");
  if (!root || typeof Stripe === "undefined") {
    return;
  }
  var texts = JSON.parse(document.getElementById("decline-texts").textContent);
  var stripe = Stripe(root.dataset.publishableKey, { locale: root.dataset.locale });
  var card = stripe.elements({ locale: root.dataset.locale }).create("card", { hidePostalCode: true });
  card.mount("#card-element");
  var form = document.getElementById("stripe-card-form");
  var holder = document.getElementById("holder-name");
  var save = document.getElementById("stripe-save");
  var working = document.getElementById("card-working");
  var errors = document.getElementById("card-errors");
  var reason = document.getElementById("card-error-reason");
  var guidance = document.getElementById("card-error-guidance");

  function showError(error) {
    var text = texts[error.decline_code] || texts[error.code];
    reason.textContent = text ? text.reason : error.message || "";
    guidance.textContent = text ? text.guidance : "";
    guidance.hidden = !guidance.textContent;
    errors.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = holder.value.trim();
    document.getElementById("holder-name-error").hidden = Boolean(name);
    if (!name) {
      return;
    }
    errors.hidden = true;
    save.disabled = true;
    working.hidden = false;
    stripe
      .confirmCardSetup(root.dataset.clientSecret, {
        payment_method: { card: card, billing_details: { name: name } },
      })
      .then(function (result) {
        if (result.error) {
          showError(result.error);
          save.disabled = false;
          working.hidden = true;
          return;
        }
        window.location.assign(root.dataset.returnUrl);
      });
  });
})();
