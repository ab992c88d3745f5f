// Sending a colleague instead of a delegate, at the desk on the day: a small form, sent to
// the registration service (its address from GET /api/desk/page-config; it allows the
// desk's origin by CORS) with the desk's token. The colleague gets a registration of their
// own, with the delegate's ticket and add-ons; the delegate's QR code stops working.
// It needs the network: the offline desk only checks people in.
const $ = (id) => document.getElementById(id);
const FIELDS = ["given_name", "family_name", "name_order", "organisation", "country", "email"];

function unreachable(error) {
  return error instanceof TypeError || error?.name === "TimeoutError";
}

export class ColleagueForm {
  // ``sent(delegate, colleague, name_order)`` shows the colleague once registration made them.
  constructor(api, sent) {
    this.api = api;
    this.sent = sent;
    this.delegate = null;
    this.registrationUrl = null;
    $("colleague").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    $("colleague-cancel").addEventListener("click", () => {
      this.close();
      $("search").focus();
    });
  }

  // The form for ``delegate`` (the desk's view of them), organisation and country theirs.
  open(delegate) {
    this.delegate = delegate;
    this.showErrors();
    $("colleague-title").textContent = `Send a colleague instead of ${delegate.name}`;
    $("colleague-instead").textContent = `The colleague comes with ${delegate.name}'s ticket: ` +
      `${[delegate.ticket_type_name, ...delegate.add_on_names].join(", ")}. ` +
      `${delegate.reference} then no longer admits anyone.`;
    for (const field of FIELDS) { $(`colleague-${field}`).value = ""; }
    $("colleague-name_order").value = "given_first";
    $("colleague-organisation").value = delegate.organisation;
    $("colleague-country").value = delegate.country;
    $("colleague").hidden = false;
    $("colleague-given_name").focus();
    $("colleague").scrollIntoView({ block: "nearest" });
  }

  close() {
    $("colleague").hidden = true;
    this.delegate = null;
  }

  // The server's refusal by the field it names; anything else under the form.
  showErrors(error) {
    const named = FIELDS.includes(error?.field) ? error.field : null;
    for (const field of FIELDS) {
      const text = field === named ? error.message : "";
      $(`colleague-${field}-error`).textContent = text;
      $(`colleague-${field}-error`).hidden = !text;
      if (text) {
        $(`colleague-${field}`).setAttribute("aria-invalid", "true");
      } else {
        $(`colleague-${field}`).removeAttribute("aria-invalid");
      }
    }
    $("colleague-error").textContent = error && !named ? error.message : "";
    $("colleague-error").hidden = !error || Boolean(named);
    if (named) { $(`colleague-${named}`).focus(); }
  }

  async url() {
    if (!this.registrationUrl) {
      const response = await this.api("GET", "/api/desk/page-config");
      this.registrationUrl = (await response.json()).registration_url;
    }
    return this.registrationUrl;
  }

  async send() {
    const delegate = this.delegate;
    const body = Object.fromEntries(FIELDS.map((field) => [field,
                                                          $(`colleague-${field}`).value.trim()]));
    body.country = body.country.toUpperCase();
    this.showErrors();
    if (!navigator.onLine) {
      this.showErrors({ message: "Sending a colleague instead needs the network." });
      return;
    }
    $("colleague-send").disabled = true;
    try {
      const path = `/api/admin/registrations/${encodeURIComponent(delegate.registration_id)}` +
        "/substitute";
      const response = await this.api("POST", `${await this.url()}${path}`, body);
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201) {
        this.close();
        await this.sent(delegate, answer, body.name_order);
      } else if (response.status !== 401) {
        this.showErrors(answer.error || { message: "Something went wrong: try again." });
      }
    } catch (error) {
      if (!unreachable(error)) { throw error; }
      this.showErrors({ message: "The desk cannot reach registration: try again." });
    } finally {
      $("colleague-send").disabled = false;
    }
  }
}
