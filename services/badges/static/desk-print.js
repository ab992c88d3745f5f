// Printing at the desk: on the desk's printer (the badges service sends the badge over
// IPP, no dialog); when that printer cannot take it, from the browser (the badge's PDF in a
// hidden frame, the print dialog), and that print recorded too.
const PRINTER_KEY = "deskPrinter";
const BROWSER = "";

export async function loadPrinters(api, select) {
  const response = await api("GET", "/api/desk/printers");
  const names = response.ok ? (await response.json()).printers : [];
  const options = [...names.map((name) => [name, name]),
                   [BROWSER, "This browser (print dialog)"]];
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  const saved = localStorage.getItem(PRINTER_KEY);
  select.value = saved !== null && options.some(([value]) => value === saved)
    ? saved : options[0][0];
  select.addEventListener("change", () => localStorage.setItem(PRINTER_KEY, select.value));
}

async function errorText(response) {
  try { return (await response.json()).error.message; } catch { return "Something went wrong."; }
}

// Print the badge; ``tell(text, ok)`` reports how it went. True once it is printed.
export async function printBadge(api, registrationId, printer, tell) {
  const path = `/api/badges/${encodeURIComponent(registrationId)}`;
  if (printer !== BROWSER) {
    const response = await api("POST", `${path}/print`, { printer });
    if (response.status === 202) {
      const job = await response.json();
      tell(`Badge sent to ${printer} (job ${job.job_id}).`, true);
      return true;
    }
    if (response.status !== 503) { tell(await errorText(response), false); return false; }
    tell(`${printer} cannot print now: using the print of this browser instead.`, true);
  }
  return browserPrint(api, path, tell);
}

async function browserPrint(api, path, tell) {
  const response = await api("GET", `${path}.pdf`);
  if (!response.ok) { tell(await errorText(response), false); return false; }
  const version = Number(response.headers.get("X-Badge-Version"));
  const url = URL.createObjectURL(await response.blob());
  document.getElementById("print-frame")?.remove();
  const frame = document.createElement("iframe");
  frame.id = "print-frame";
  frame.className = "print-frame";
  frame.title = "The badge, for printing";
  frame.setAttribute("aria-hidden", "true");
  frame.tabIndex = -1;
  await new Promise((loaded) => {
    frame.addEventListener("load", loaded, { once: true });
    frame.src = url;
    document.body.append(frame);
  });
  frame.contentWindow.focus();
  frame.contentWindow.print();
  const recorded = await api("POST", `${path}/printed`, { badge_version: version });
  if (!recorded.ok) { tell(await errorText(recorded), false); return false; }
  tell("Badge printed from this browser.", true);
  return true;
}
