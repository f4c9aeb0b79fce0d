// The site's own behaviour, served from the site so the Content Security Policy needs no inline script.
// A field marked data-select-on-focus selects its whole text when focused (the new API token, to copy it).
document.addEventListener("focusin", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
    field.select();
  }
});

// A deadline marked data-closes-at (ISO time) counts its last hour down in its [data-countdown] child, each
// 15 seconds: "42 min left", then "closed". Before the last hour it shows nothing; the server wrote the first value.
// "Reload the page" is only for a deadline that passed while the page was open: a page loaded after it already
// says "Closed on ..." and has nothing newer to show.
const closedOnLoad = new Set();
function countDown() {
  for (const deadline of document.querySelectorAll("[data-closes-at]")) {
    const shown = deadline.querySelector("[data-countdown]");
    const closes = Date.parse(deadline.getAttribute("data-closes-at"));
    if (!shown || Number.isNaN(closes) || closedOnLoad.has(deadline)) continue;
    const seconds = (closes - Date.now()) / 1000;
    if (seconds > 3600) shown.textContent = "";
    else if (seconds <= 0) shown.textContent = "closed now: reload the page";
    else if (seconds < 60) shown.textContent = "less than a minute left";
    else shown.textContent = `${Math.floor(seconds / 60)} min left`;
  }
}
document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector("[data-closes-at]")) {
    for (const deadline of document.querySelectorAll("[data-closes-at]")) {
      if (Date.parse(deadline.getAttribute("data-closes-at")) <= Date.now()) closedOnLoad.add(deadline);
    }
    countDown();
    setInterval(countDown, 15000);
  }
});
