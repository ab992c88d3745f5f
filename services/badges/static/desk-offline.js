// The desk without the network: today's list and the tickets' public key kept in this
// browser (localStorage); a ticket checked with WebCrypto's Ed25519; check-ins queued with
// their scan times and sent once the network is back (the server checks nobody in twice
// and keeps the first scan's time).
const DAY_KEY = "deskDay";
const QUEUE_KEY = "deskQueue";
const SIGNED = new TextEncoder().encode("ecsite-ticket:");
const OLD_TICKET = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[\w-]{43}$/;
const REFUSED = {
  pending: ["unpaid", (name) => `${name} has not paid: the registration awaits payment.`],
  expired: ["expired", (name) => `${name}'s registration expired unpaid.`],
  withdrawn: ["cancelled", (name) => `${name}'s registration is cancelled.`],
  replaced: ["replaced", (name) => `${name}'s place was passed to a colleague: this ticket ` +
    "no longer admits anyone."],
};

function b64(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

function unb64(text) {
  try {
    const bytes = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")),
                                  (c) => c.charCodeAt(0));
    return b64(bytes) === text ? bytes : null;  // exactly this encoding, nothing else
  } catch {
    return null;
  }
}

function uuidOf(bytes) {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
          hex.slice(20)].join("-");
}

// Today's date in the conference's time zone, as the server writes it (2027-06-10).
function todayIn(timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date());
}

function fold(text) {
  return (text || "").normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

export class OfflineDesk {
  constructor(api) {
    this.api = api;
    this.sending = false;
  }

  day() { return JSON.parse(localStorage.getItem(DAY_KEY) || "null"); }

  queue() { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); }

  saveQueue(queue) { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }

  // A usable list: today's, in the conference's time zone.
  today() {
    const day = this.day();
    return day && day.today === todayIn(day.timezone) ? day : null;
  }

  async refresh() {
    const response = await this.api("GET", "/api/desk/day");
    if (response.ok) { localStorage.setItem(DAY_KEY, JSON.stringify(await response.json())); }
  }

  forget() { localStorage.removeItem(DAY_KEY); }  // the queue stays until it is sent

  // A check-in the server made: the list knows it too, should the network drop next.
  remember(registrationId, checkedInAt) {
    const day = this.day();
    const person = day?.items.find((item) => item.registration_id === registrationId);
    if (person) {
      person.checked_in_at = checkedInAt;
      localStorage.setItem(DAY_KEY, JSON.stringify(day));
    }
  }

  // The registration id a genuine ticket carries, or why it cannot be taken.
  async verify(token, day) {
    const parts = token.trim().split(".");
    const [head, tail] = parts;
    if (parts.length === 2 && head.length === 22 && tail.length === 86) {
      const id = unb64(head);
      const signature = unb64(tail);
      if (id && signature) {
        const key = await crypto.subtle.importKey("raw", unb64(day.public_key),
                                                  { name: "Ed25519" }, false, ["verify"]);
        if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature,
                                       new Uint8Array([...SIGNED, ...id]))) {
          return { id: uuidOf(id) };
        }
      }
    } else if (OLD_TICKET.test(token.trim())) {
      return { code: "unverifiable", message: "An older ticket cannot be checked without " +
               "the network: find the name below and check in from there." };
    }
    return { code: "invalid_ticket", message: "This code is not one of our tickets." };
  }

  // A scan without the network: the verdict, as the page shows it.
  async scan(token) {
    const day = this.today();
    if (!day) {
      return { tone: "bad", code: "no_list", message: "Today's list is not in this browser: " +
               "tickets cannot be checked until the network is back." };
    }
    const ticket = await this.verify(token, day);
    if (!ticket.id) { return { tone: "bad", ...ticket }; }
    return this.checkIn(ticket.id);
  }

  checkIn(registrationId) {
    const day = this.today();
    const person = day?.items.find((item) => item.registration_id === registrationId);
    if (!person) {
      return { tone: "bad", code: "not_found", message: "Not on today's list (unknown " +
               "here, or a day pass for another day)." };
    }
    const refused = REFUSED[person.status];
    if (refused) {
      const [code, message] = refused;
      return { tone: "bad", code, person, message: message(person.name) };
    }
    const view = { ...person, timezone: day.timezone };
    const queued = this.queue().find((scan) => scan.registration_id === registrationId);
    const since = person.checked_in_at || queued?.scanned_at;
    if (since) {
      return { tone: "warn", code: "already_checked_in", person: view, since };
    }
    this.saveQueue([...this.queue(), { registration_id: registrationId,
                                       scanned_at: new Date().toISOString() }]);
    return { tone: "ok", code: "checked_in", person: view,
             message: "Checked in without the network: sent once it is back." };
  }

  search(q) {
    const terms = fold(q).split(/\s+/).filter(Boolean);
    const day = this.today();
    return (day?.items || []).filter((item) => {
      const text = fold(`${item.name} ${item.organisation} ${item.reference}`);
      return terms.every((term) => text.includes(term));
    }).slice(0, 50).map((item) => ({ ...item, timezone: day.timezone }));
  }

  // Send the queued check-ins; the outcomes, or null when they could not be sent.
  async send() {
    const queue = this.queue();
    if (!queue.length || this.sending) { return null; }
    this.sending = true;
    try {
      const response = await this.api("POST", "/api/desk/checkins", { checkins: queue });
      if (!response.ok) { return null; }
      const { results } = await response.json();
      const sent = new Set(queue.map((scan) => `${scan.registration_id} ${scan.scanned_at}`));
      this.saveQueue(this.queue().filter(
        (scan) => !sent.has(`${scan.registration_id} ${scan.scanned_at}`)));
      await this.refresh();
      return results;
    } catch {
      return null;
    } finally {
      this.sending = false;
    }
  }
}
