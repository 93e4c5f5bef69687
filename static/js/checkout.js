// Card entry with the gateway's own browser SDK (the card never touches our servers), then the
// payment's status polled from our server: the gateway's webhook is what settles it.
(function () {
  const config = JSON.parse(document.getElementById("checkout-config").textContent);
  const message = document.getElementById("checkout-message");
  const csrf = document.querySelector("#checkout-csrf [name=csrfmiddlewaretoken]").value;
  const say = (text) => { message.textContent = text; };
  let polling = false;

  async function status(confirm) {
    const response = await fetch(config.status_url, {
      method: confirm ? "POST" : "GET",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    return response.ok ? response.json() : null;
  }

  async function poll(confirm) {
    if (polling && !confirm) return;
    polling = true;
    say("Confirming with your bank…");
    let state = await status(confirm).catch(() => null);
    for (let i = 0; i < 90 && !(state && (state.done || state.failed)); i++) {
      await new Promise((r) => setTimeout(r, 2000));
      state = await status(false).catch(() => null);
      if (state && state.message) say(state.message);
    }
    if (state && state.done) { say(state.message || "Payment confirmed."); window.location.reload(); }
    else if (state && state.failed) { say(state.message || "The payment did not go through."); polling = false; }
    else say("Still waiting for the confirmation. This page updates when it arrives.");
  }

  async function stripeForm() {
    const stripe = Stripe(config.key);
    const elements = stripe.elements({ clientSecret: config.client_secret });
    elements.create("payment").mount("#card-form");
    const button = document.getElementById("pay-button");
    button.addEventListener("click", async () => {
      button.disabled = true;  // a double click must not confirm twice (Stripe would refuse anyway)
      // A card saved for later (SetupIntent) is confirmed with confirmSetup, a payment with confirmPayment.
      const confirm = config.mode === "setup" ? stripe.confirmSetup : stripe.confirmPayment;
      const { error } = await confirm.call(stripe, {
        elements, confirmParams: { return_url: config.return_url }, redirect: "if_required",
      });
      if (error) { say(error.message); button.disabled = false; return; }
      poll(true);
    });
    // Back from a 3-D Secure redirect.
    const back = new URLSearchParams(window.location.search);
    if (back.get("payment_intent") || back.get("setup_intent")) poll(true);
  }

  async function adyenForm() {
    const params = new URLSearchParams(window.location.search);
    const checkout = await AdyenCheckout({
      environment: config.environment,
      clientKey: config.key,
      session: params.get("sessionId") ? { id: params.get("sessionId") } : config.session,
      onPaymentCompleted: (result) => {
        if (["Authorised", "Pending", "Received"].includes(result.resultCode)) poll(true);
        else say("The payment was not authorised (" + result.resultCode + ").");
      },
      onError: (error) => say(error.message || "The payment could not be completed."),
    });
    if (params.get("redirectResult")) { checkout.submitDetails({ details: { redirectResult: params.get("redirectResult") } }); return; }
    checkout.create("dropin").mount("#card-form");
  }

  if (config.provider === "stripe" && config.client_secret) stripeForm();
  else if (config.provider === "adyen" && config.session) adyenForm();
  else poll(false);
})();
