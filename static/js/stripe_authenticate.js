// The bank's 3-D Secure check of a payment, run by Stripe.js (payments/stripe_views.py).
// Whatever the outcome, the customer goes back to the portal, which reads the payment's
// state from Stripe and shows Paid or the decline.
(function () {
  var root = document.getElementById("stripe-authenticate");
  if (!root || typeof Stripe === "undefined") {
    return;
  }
  var stripe = Stripe(root.dataset.publishableKey, { locale: root.dataset.locale });
  var button = document.getElementById("stripe-authenticate-start");
  var back = function () {
    window.location.assign(root.dataset.returnUrl);
  };

  function start() {
    button.disabled = true;
    // A charge Stripe refused off-session for authentication is confirmed again here
    // with its card; one in "requires_action" only needs the bank's check.
    var data = root.dataset.paymentMethod ? { payment_method: root.dataset.paymentMethod } : undefined;
    stripe.confirmCardPayment(root.dataset.clientSecret, data).then(back, back);
  }

  button.addEventListener("click", start);
  start();
})();
